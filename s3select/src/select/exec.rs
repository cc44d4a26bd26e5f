//! The streaming executor: reads the object in bounded windows (decompressing GZIP/BZIP2 as it
//! goes), runs each window's records through the plan (on several threads when records can be
//! cut at a delimiter), and yields the SelectObjectContent events in order.
//!
//! Guarantees: memory stays bounded by the window size plus one window's output, whatever the
//! object's size; an error after output has started arrives as a final [`SelectEvent::Error`]
//! (after the records produced before it), never as a panic or a silently short result.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use memchr::memchr;

use super::csv::CsvScanner;
use super::eval::Acc;
use super::json::JsonScanner;
use super::plan::{Plan, Sink};
use super::request::{Compression, FileHeaderInfo, InputFormat, SelectRequest};
use crate::error::{Error, Result};

/// How much input one step reads.
pub const WINDOW: usize = 8 * 1024 * 1024;
/// The largest Records event payload.
pub const MAX_EVENT_PAYLOAD: usize = 1024 * 1024;
/// Inputs smaller than this are not worth splitting across threads.
const MIN_PARALLEL: usize = 256 * 1024;

/// The byte counts S3 reports in Stats and Progress events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of the object read (compressed size for compressed input).
    pub bytes_scanned: u64,
    /// Bytes processed after decompression.
    pub bytes_processed: u64,
    /// Bytes of results returned.
    pub bytes_returned: u64,
}

impl Stats {
    /// The XML body of a Stats (`tag` = `Stats`) or Progress event.
    pub fn to_xml(&self, tag: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{tag} xmlns=\"\"><BytesScanned>{}</BytesScanned><BytesProcessed>{}</BytesProcessed><BytesReturned>{}</BytesReturned></{tag}>",
            self.bytes_scanned, self.bytes_processed, self.bytes_returned
        )
    }
}

/// One event of the SelectObjectContent response stream.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectEvent {
    /// Result records.
    Records(Bytes),
    /// Progress so far (only with `RequestProgress`).
    Progress(Stats),
    /// Final counts.
    Stats(Stats),
    /// A keep-alive.
    Cont,
    /// The stream completed.
    End,
    /// The query failed after the stream began.
    Error(Error),
}

/// How the executor may use the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectOptions {
    /// Threads per query for inputs whose records can be cut at a delimiter.
    pub threads: usize,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions { threads: 1 }
    }
}

#[derive(Debug, Clone)]
enum Scanner {
    Csv(CsvScanner),
    Json(JsonScanner),
}

impl Scanner {
    fn scan(
        &self,
        data: &[u8],
        last: bool,
        sink: &mut Sink<'_>,
        limit_end: Option<usize>,
    ) -> Result<usize> {
        match self {
            Scanner::Csv(s) => s.scan(data, last, sink, limit_end),
            Scanner::Json(s) => s.scan(data, last, sink, limit_end),
        }
    }

    fn splittable(&self) -> bool {
        match self {
            Scanner::Csv(s) => s.splittable(),
            Scanner::Json(s) => s.splittable(),
        }
    }

    fn delimiter(&self) -> u8 {
        match self {
            Scanner::Csv(s) => s.delimiter(),
            Scanner::Json(_) => b'\n',
        }
    }
}

struct CountingReader {
    inner: std::io::Cursor<Bytes>,
    count: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One thread's share of a window: consumed bytes (or the error), output, aggregates, rows.
type PartResult = (Result<usize>, Vec<u8>, Vec<Acc>, u64);

enum Source {
    Plain {
        data: Bytes,
        pos: usize,
        stop: usize,
    },
    Decoded {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        eof: bool,
        scanned: Arc<AtomicU64>,
    },
    #[cfg(feature = "parquet")]
    Parquet(Box<super::parquet::ParquetSource>),
}

/// A running query: an iterator of [`SelectEvent`]s.
pub struct SelectStream {
    plan: Arc<Plan>,
    source: Source,
    scanner: Option<Scanner>,
    header_pending: bool,
    accs: Vec<Acc>,
    emitted: u64,
    stats: Stats,
    progress: bool,
    threads: usize,
    queue: VecDeque<SelectEvent>,
    finished: bool,
}

impl std::fmt::Debug for SelectStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectStream")
            .field("stats", &self.stats)
            .field("finished", &self.finished)
            .finish()
    }
}

pub(super) fn count_only(plan: &Plan) -> bool {
    plan.filter.is_none()
        && plan.slots.is_empty()
        && !plan.aggs.is_empty()
        && plan
            .aggs
            .iter()
            .all(|(f, a)| *f == super::ast::AggFunc::Count && a.is_none())
}

impl SelectStream {
    /// Starts `req` over `data`. Errors found before any output (parse, bind, request checks)
    /// are returned here.
    pub fn start(
        data: Bytes,
        req: &SelectRequest,
        plan: Plan,
        opts: SelectOptions,
    ) -> Result<SelectStream> {
        req.validate()?;
        let plan = Arc::new(plan);
        let star = plan.items.is_none();
        let size = data.len() as u64;
        let stats = Stats::default();
        let (scanner, source) = match &req.input {
            #[cfg(feature = "parquet")]
            InputFormat::Parquet => {
                let range = req.scan_range.map(|r| r.resolve(size)).transpose()?;
                let src = super::parquet::ParquetSource::open(
                    data,
                    &plan,
                    range,
                    count_only(&plan),
                    opts.threads,
                )?;
                (None, Source::Parquet(Box::new(src)))
            }
            #[cfg(not(feature = "parquet"))]
            InputFormat::Parquet => {
                return Err(Error::select(
                    "InvalidDataSource",
                    "The data source type is not valid. Only CSV, JSON, and Parquet are supported.",
                ));
            }
            input => {
                if !plan.from_path.is_empty() && matches!(input, InputFormat::Csv(_)) {
                    return Err(Error::select(
                        "InvalidKeyPath",
                        "Key path in the SQL expression is invalid.",
                    ));
                }
                let scanner = match input {
                    InputFormat::Csv(c) => {
                        Scanner::Csv(CsvScanner::new(c, &plan.slots, star, count_only(&plan)))
                    }
                    InputFormat::Json(t) => {
                        Scanner::Json(JsonScanner::new(*t, &plan.slots, count_only(&plan)))
                    }
                    InputFormat::Parquet => return Err(Error::Internal),
                };
                let source = match req.compression {
                    Compression::None => {
                        let (start, stop) = match &req.scan_range {
                            Some(r) => r.resolve(size)?,
                            None => (0, size),
                        };
                        // A record belongs to the range it starts in: skip a partial first record.
                        let mut pos = start as usize;
                        if pos > 0 && data.get(pos - 1) != Some(&scanner.delimiter()) {
                            pos = match memchr(scanner.delimiter(), &data[pos..]) {
                                Some(i) => pos + i + 1,
                                None => data.len(),
                            };
                        }
                        Source::Plain {
                            data,
                            pos,
                            stop: stop as usize,
                        }
                    }
                    Compression::Gzip | Compression::Bzip2 => {
                        let scanned = Arc::new(AtomicU64::new(0));
                        let inner = CountingReader {
                            inner: std::io::Cursor::new(data),
                            count: Arc::clone(&scanned),
                        };
                        let reader: Box<dyn Read + Send> = if req.compression == Compression::Gzip {
                            Box::new(flate2::read::MultiGzDecoder::new(inner))
                        } else {
                            Box::new(bzip2::read::MultiBzDecoder::new(inner))
                        };
                        Source::Decoded {
                            reader,
                            buf: Vec::new(),
                            eof: false,
                            scanned,
                        }
                    }
                };
                (Some(scanner), source)
            }
        };
        let header_pending =
            matches!(&req.input, InputFormat::Csv(c) if c.file_header_info != FileHeaderInfo::None);
        let accs = plan.aggs.iter().map(|(f, _)| Acc::new(*f)).collect();
        Ok(SelectStream {
            plan,
            source,
            scanner,
            header_pending,
            accs,
            emitted: 0,
            stats,
            progress: req.request_progress,
            threads: opts.threads.max(1),
            queue: VecDeque::new(),
            finished: false,
        })
    }

    /// The counts so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn push_records(&mut self, out: Vec<u8>) {
        if out.is_empty() {
            return;
        }
        self.stats.bytes_returned += out.len() as u64;
        let b = Bytes::from(out);
        let mut i = 0;
        while i < b.len() {
            let j = (i + MAX_EVENT_PAYLOAD).min(b.len());
            self.queue.push_back(SelectEvent::Records(b.slice(i..j)));
            i = j;
        }
    }

    fn limit_reached(&self) -> bool {
        self.plan.limit.is_some_and(|l| self.emitted >= l)
    }

    /// Runs `slice` through the plan, on several threads when possible; returns (consumed,
    /// output, error).
    fn process(
        &mut self,
        slice: &[u8],
        last: bool,
        limit_end: Option<usize>,
    ) -> (usize, Vec<u8>, Option<Error>) {
        let Some(scanner) = self.scanner.clone() else {
            return (0, Vec::new(), Some(Error::Internal));
        };
        let plan = Arc::clone(&self.plan);
        let parallel = self.threads > 1
            && scanner.splittable()
            && plan.limit.is_none()
            && slice.len() >= MIN_PARALLEL
            && limit_end.is_none();
        if !parallel {
            let mut sink = Sink::new(&plan);
            sink.emitted = self.emitted;
            sink.done = self.limit_reached();
            let r = scanner.scan(slice, last, &mut sink, limit_end);
            self.emitted = sink.emitted;
            let mut err = None;
            for (a, b) in self.accs.iter_mut().zip(&sink.accs) {
                if let Err(e) = a.merge(b) {
                    err = Some(e);
                }
            }
            return match r {
                Ok(n) => (n, sink.out, err),
                Err(e) => (0, sink.out, Some(e)),
            };
        }
        // Cut the slice after a delimiter near each 1/n mark.
        let delim = scanner.delimiter();
        let n = self.threads;
        let mut cuts = vec![0usize];
        for k in 1..n {
            let target = (slice.len() * k / n).max(*cuts.last().unwrap_or(&0));
            match memchr(delim, &slice[target..]) {
                Some(i) => cuts.push(target + i + 1),
                None => break,
            }
        }
        cuts.dedup();
        let parts: Vec<(usize, usize, bool)> = (0..cuts.len())
            .map(|i| {
                if i + 1 < cuts.len() {
                    (cuts[i], cuts[i + 1], true)
                } else {
                    (cuts[i], slice.len(), last)
                }
            })
            .collect();
        let results: Vec<PartResult> = std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .iter()
                .map(|&(a, b, l)| {
                    let plan = &plan;
                    let scanner = &scanner;
                    s.spawn(move || {
                        let mut sink = Sink::new(plan);
                        let r = scanner.scan(&slice[a..b], l, &mut sink, None);
                        (r, sink.out, sink.accs, sink.emitted)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (Err(Error::Internal), Vec::new(), Vec::new(), 0))
                })
                .collect()
        });
        let mut out = Vec::new();
        let mut consumed = 0;
        for ((r, o, accs, emitted), &(a, b, _)) in results.into_iter().zip(&parts) {
            out.extend_from_slice(&o);
            self.emitted += emitted;
            for (x, y) in self.accs.iter_mut().zip(&accs) {
                if let Err(e) = x.merge(y) {
                    return (consumed, out, Some(e));
                }
            }
            match r {
                Ok(n) => {
                    consumed = a + n;
                    if a + n < b {
                        break;
                    }
                }
                Err(e) => return (consumed, out, Some(e)),
            }
        }
        (consumed, out, None)
    }

    fn read_header(&mut self, data: &[u8], last: bool) -> Result<Option<usize>> {
        let plan = Arc::clone(&self.plan);
        match &mut self.scanner {
            Some(Scanner::Csv(c)) => c.read_header(data, last, &plan.slots, plan.items.is_none()),
            _ => Ok(Some(0)),
        }
    }

    /// Does one window of work, queueing its events. Returns false when the input is done.
    fn step(&mut self) -> Result<bool> {
        match &mut self.source {
            Source::Plain { data, pos, stop } => {
                let data = data.clone();
                let stop = *stop;
                if self.header_pending {
                    let hdr_end = self.read_header(&data, true)?.unwrap_or(data.len());
                    self.header_pending = false;
                    if let Source::Plain { pos, .. } = &mut self.source {
                        if *pos < hdr_end {
                            self.stats.bytes_processed += (hdr_end - *pos) as u64;
                        }
                        *pos = (*pos).max(hdr_end);
                    }
                    return Ok(true);
                }
                let p = *pos;
                if p >= data.len() || p >= stop || self.limit_reached() {
                    self.stats.bytes_scanned =
                        self.stats.bytes_scanned.max(self.stats.bytes_processed);
                    return Ok(false);
                }
                let end = (p + WINDOW).min(data.len());
                let last = end == data.len();
                let limit_end = if stop < data.len() {
                    Some(stop - p)
                } else {
                    None
                };
                let (consumed, out, err) = self.process(&data[p..end], last, limit_end);
                self.push_records(out);
                if let Some(e) = err {
                    return Err(e);
                }
                // A window always holds a whole record (records over 1 MB are rejected and the
                // window is larger), so no progress before the end would be a scanner bug.
                if consumed == 0 && !last {
                    return Err(Error::Internal);
                }
                let done = last || limit_end.is_some_and(|l| consumed >= l) || self.limit_reached();
                let new_pos = if done { data.len() } else { p + consumed };
                self.stats.bytes_processed += (new_pos - p) as u64;
                self.stats.bytes_scanned = self.stats.bytes_processed;
                if let Source::Plain { pos, .. } = &mut self.source {
                    *pos = new_pos;
                }
                Ok(true)
            }
            Source::Decoded { .. } => self.step_decoded(),
            #[cfg(feature = "parquet")]
            Source::Parquet(_) => self.step_parquet(),
        }
    }

    fn step_decoded(&mut self) -> Result<bool> {
        let limit_reached = self.limit_reached();
        let Source::Decoded {
            reader,
            buf,
            eof,
            scanned,
        } = &mut self.source
        else {
            return Ok(false);
        };
        if *eof && buf.is_empty() || limit_reached {
            return Ok(false);
        }
        let mut chunk = vec![0u8; 256 * 1024];
        while !*eof && buf.len() < WINDOW {
            match reader.read(&mut chunk) {
                Ok(0) => *eof = true,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => {
                    return Err(Error::select(
                        "TruncatedInput",
                        "Object decompression failed. Check that the object is properly compressed using the format specified in the request.",
                    ));
                }
            }
        }
        let last = *eof;
        let data = std::mem::take(buf);
        self.stats.bytes_scanned = scanned.load(Ordering::Relaxed);
        let mut start = 0;
        if self.header_pending {
            match self.read_header(&data, last)? {
                Some(n) => {
                    start = n;
                    self.header_pending = false;
                }
                None => {
                    if let Source::Decoded { buf, .. } = &mut self.source {
                        *buf = data;
                    }
                    return Ok(true);
                }
            }
        }
        let (consumed, out, err) = self.process(&data[start..], last, None);
        self.push_records(out);
        if let Some(e) = err {
            return Err(e);
        }
        let used = start + consumed;
        self.stats.bytes_processed += used as u64;
        if let Source::Decoded { buf, .. } = &mut self.source {
            *buf = if last {
                Vec::new()
            } else {
                data[used..].to_vec()
            };
        }
        if !last && used == 0 && data.len() >= WINDOW {
            return Err(Error::Internal);
        }
        Ok(true)
    }

    #[cfg(feature = "parquet")]
    fn step_parquet(&mut self) -> Result<bool> {
        let plan = Arc::clone(&self.plan);
        let Source::Parquet(src) = &mut self.source else {
            return Ok(false);
        };
        if self.plan.limit.is_some_and(|l| self.emitted >= l) {
            return Ok(false);
        }
        let mut sink = Sink::new(&plan);
        sink.emitted = self.emitted;
        let more = src.step(&mut sink);
        self.stats.bytes_scanned = src.bytes_scanned();
        self.stats.bytes_processed = src.bytes_processed();
        self.emitted = sink.emitted;
        for (a, b) in self.accs.iter_mut().zip(&sink.accs) {
            a.merge(b)?;
        }
        let out = std::mem::take(&mut sink.out);
        self.push_records(out);
        more
    }

    fn finish(&mut self) -> Result<()> {
        if !self.plan.aggs.is_empty() {
            let plan = Arc::clone(&self.plan);
            let mut sink = Sink::new(&plan);
            sink.accs = self.accs.clone();
            sink.finish_aggs()?;
            let out = std::mem::take(&mut sink.out);
            self.push_records(out);
        }
        Ok(())
    }
}

impl Iterator for SelectStream {
    type Item = SelectEvent;

    fn next(&mut self) -> Option<SelectEvent> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            if self.finished {
                return None;
            }
            let before = self.stats.bytes_returned;
            match self.step() {
                Ok(true) => {
                    if self.progress {
                        self.queue.push_back(SelectEvent::Progress(self.stats));
                    } else if self.stats.bytes_returned == before && self.queue.is_empty() {
                        self.queue.push_back(SelectEvent::Cont);
                    }
                }
                Ok(false) => {
                    self.finished = true;
                    match self.finish() {
                        Ok(()) => {
                            if self.progress {
                                self.queue.push_back(SelectEvent::Progress(self.stats));
                            }
                            self.queue.push_back(SelectEvent::Stats(self.stats));
                            self.queue.push_back(SelectEvent::End);
                        }
                        Err(e) => self.queue.push_back(SelectEvent::Error(e)),
                    }
                }
                Err(e) => {
                    self.finished = true;
                    self.queue.push_back(SelectEvent::Error(e));
                }
            }
        }
    }
}

/// Runs a query to completion and returns the records (concatenated) and the final stats, or
/// the first error.
pub fn run_to_end(stream: SelectStream) -> Result<(Vec<u8>, Stats)> {
    let mut out = Vec::new();
    let mut stats = Stats::default();
    for ev in stream {
        match ev {
            SelectEvent::Records(b) => out.extend_from_slice(&b),
            SelectEvent::Stats(s) => stats = s,
            SelectEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok((out, stats))
}
