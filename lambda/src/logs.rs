//! Function logs: one log group per function (`/aws/lambda/<name>`), one stream per execution
//! environment, holding each invocation's START/END/REPORT lines and the function's own output.
//!
//! Guarantee: a group keeps its most recent [`MAX_EVENTS_PER_GROUP`] events; older ones are
//! dropped first, so memory stays bounded however long the engine runs.
//!
//! Design: the platform's lines are kept as the facts they report ([`Line::Start`],
//! [`Line::Report`] …) and formatted only when someone reads them, so an invocation that nobody
//! reads the log of pays for no float formatting. Streams are shared (`Arc<str>`), request ids
//! are inline, so appending a START/END/REPORT triple allocates nothing but queue slots.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

/// Events kept per log group.
pub const MAX_EVENTS_PER_GROUP: usize = 10_000;

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// When it was written, on the engine's clock.
    pub timestamp: SystemTime,
    /// The stream it belongs to.
    pub stream: String,
    /// The line, without its newline.
    pub message: String,
}

/// A request id held inline (Nubis's ids are 36-character UUIDs; anything else is kept whole).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum RequestId {
    Uuid([u8; 36]),
    Other(Arc<str>),
}

impl RequestId {
    pub(crate) fn new(id: &str) -> Self {
        match <[u8; 36]>::try_from(id.as_bytes()) {
            Ok(b) if id.is_ascii() => RequestId::Uuid(b),
            _ => RequestId::Other(id.into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Built from a `&str` that is all ASCII, so always valid UTF-8.
            RequestId::Uuid(b) => std::str::from_utf8(b).unwrap_or_default(),
            RequestId::Other(s) => s,
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The facts of a REPORT line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) request_id: RequestId,
    pub(crate) duration: Duration,
    pub(crate) billed: Duration,
    pub(crate) memory_mb: u32,
    pub(crate) used_mb: u64,
    pub(crate) init: Option<Duration>,
}

/// One line of an invocation's log, formatted when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// The function's own output, or a platform line already formatted.
    Text(String),
    /// `START RequestId: … Version: …`.
    Start {
        request_id: RequestId,
        version: Arc<str>,
    },
    /// `END RequestId: …`.
    End { request_id: RequestId },
    /// `REPORT RequestId: … Duration: …` (inline: an invocation's log allocates no box).
    Report(Report),
}

impl From<String> for Line {
    fn from(s: String) -> Self {
        Line::Text(s)
    }
}

impl Line {
    /// Appends the line's text (without a newline) to `out`.
    pub(crate) fn write_to(&self, out: &mut String) {
        match self {
            Line::Text(s) => out.push_str(s),
            Line::Start {
                request_id,
                version,
            } => {
                let _ = write!(out, "START RequestId: {request_id} Version: {version}");
            }
            Line::End { request_id } => {
                let _ = write!(out, "END RequestId: {request_id}");
            }
            Line::Report(r) => {
                let billed_ms = (r.billed.as_nanos().div_ceil(1_000_000)).max(1);
                let _ = write!(
                    out,
                    "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {billed_ms} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
                    r.request_id,
                    r.duration.as_secs_f64() * 1000.0,
                    r.memory_mb,
                    r.used_mb
                );
                if let Some(init) = r.init {
                    let _ = write!(
                        out,
                        "Init Duration: {:.2} ms\t",
                        init.as_secs_f64() * 1000.0
                    );
                }
            }
        }
    }

    /// The line's text.
    pub(crate) fn render(&self) -> String {
        match self {
            Line::Text(s) => s.clone(),
            other => {
                let mut s = String::with_capacity(128);
                other.write_to(&mut s);
                s
            }
        }
    }
}

#[derive(Debug)]
struct Stored {
    timestamp: SystemTime,
    stream: Arc<str>,
    line: Line,
}

#[derive(Debug, Default)]
struct Group {
    events: VecDeque<Stored>,
    streams: BTreeMap<Arc<str>, SystemTime>,
    /// The stream of the last append (almost always the next one's too).
    last_stream: Option<Arc<str>>,
}

/// The log groups of one region.
#[derive(Debug, Default)]
pub(crate) struct LogStore {
    groups: Mutex<crate::fasthash::FastMap<Arc<str>, Group>>,
}

impl LogStore {
    pub(crate) fn append(
        &self,
        group: &Arc<str>,
        stream: &Arc<str>,
        at: SystemTime,
        lines: impl IntoIterator<Item = Line>,
    ) {
        let mut groups = self.groups.lock();
        let g = match groups.get_mut(&**group) {
            Some(g) => g,
            None => groups.entry(Arc::clone(group)).or_default(),
        };
        let known = g
            .last_stream
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, stream));
        if !known {
            g.streams.entry(Arc::clone(stream)).or_insert(at);
            g.last_stream = Some(Arc::clone(stream));
        }
        for line in lines {
            if g.events.len() == MAX_EVENTS_PER_GROUP {
                g.events.pop_front();
            }
            g.events.push_back(Stored {
                timestamp: at,
                stream: Arc::clone(stream),
                line,
            });
        }
    }

    pub(crate) fn events(&self, group: &str) -> Vec<LogEvent> {
        self.groups
            .lock()
            .get(group)
            .map(|g| {
                g.events
                    .iter()
                    .map(|e| LogEvent {
                        timestamp: e.timestamp,
                        stream: e.stream.to_string(),
                        message: e.line.render(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn streams(&self, group: &str) -> Vec<String> {
        self.groups
            .lock()
            .get(group)
            .map(|g| g.streams.keys().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    }

    pub(crate) fn groups(&self) -> Vec<String> {
        let mut v: Vec<String> = self.groups.lock().keys().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    pub(crate) fn clear(&self) {
        self.groups.lock().clear();
    }
}

/// The log group of a function.
pub fn log_group_name(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lines_render_as_aws_writes_them() {
        let id = RequestId::new("8f5e0c1a-1b2c-4d3e-8f40-0123456789ab");
        let start = Line::Start {
            request_id: id.clone(),
            version: "$LATEST".into(),
        };
        assert_eq!(
            start.render(),
            "START RequestId: 8f5e0c1a-1b2c-4d3e-8f40-0123456789ab Version: $LATEST"
        );
        let report = Line::Report(Report {
            request_id: id,
            duration: Duration::from_micros(1234),
            billed: Duration::from_micros(1234),
            memory_mb: 128,
            used_mb: 1,
            init: Some(Duration::from_millis(5)),
        });
        assert_eq!(
            report.render(),
            "REPORT RequestId: 8f5e0c1a-1b2c-4d3e-8f40-0123456789ab\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\tInit Duration: 5.00 ms\t"
        );
        assert_eq!(RequestId::new("short").as_str(), "short");
    }

    #[test]
    fn groups_keep_the_latest_events() {
        let store = LogStore::default();
        let g: Arc<str> = "/aws/lambda/f".into();
        let s: Arc<str> = "2026/01/01/[$LATEST]ab".into();
        let t = SystemTime::UNIX_EPOCH;
        store.append(
            &g,
            &s,
            t,
            (0..MAX_EVENTS_PER_GROUP + 5).map(|i| Line::Text(i.to_string())),
        );
        let events = store.events("/aws/lambda/f");
        assert_eq!(events.len(), MAX_EVENTS_PER_GROUP);
        assert_eq!(events[0].message, "5");
        assert_eq!(store.streams("/aws/lambda/f"), vec![s.to_string()]);
    }
}
