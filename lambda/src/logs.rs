//! Function logs: one log group per function (`/aws/lambda/<name>`), one stream per execution
//! environment, holding each invocation's START/END/REPORT lines and the function's own output.
//!
//! Guarantee: a group keeps its most recent [`MAX_EVENTS_PER_GROUP`] events; older ones are
//! dropped first, so memory stays bounded however long the engine runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::SystemTime;

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

#[derive(Debug, Default)]
struct Group {
    events: VecDeque<LogEvent>,
    streams: BTreeMap<String, SystemTime>,
}

/// The log groups of one region.
#[derive(Debug, Default)]
pub(crate) struct LogStore {
    groups: Mutex<HashMap<String, Group>>,
}

impl LogStore {
    pub(crate) fn append(
        &self,
        group: &str,
        stream: &str,
        at: SystemTime,
        lines: impl IntoIterator<Item = String>,
    ) {
        let mut groups = self.groups.lock();
        let g = groups.entry(group.to_owned()).or_default();
        if !g.streams.contains_key(stream) {
            g.streams.insert(stream.to_owned(), at);
        }
        for message in lines {
            if g.events.len() == MAX_EVENTS_PER_GROUP {
                g.events.pop_front();
            }
            g.events.push_back(LogEvent {
                timestamp: at,
                stream: stream.to_owned(),
                message,
            });
        }
    }

    pub(crate) fn events(&self, group: &str) -> Vec<LogEvent> {
        self.groups
            .lock()
            .get(group)
            .map(|g| g.events.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn streams(&self, group: &str) -> Vec<String> {
        self.groups
            .lock()
            .get(group)
            .map(|g| g.streams.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn groups(&self) -> Vec<String> {
        let mut v: Vec<String> = self.groups.lock().keys().cloned().collect();
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
