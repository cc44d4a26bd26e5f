//! Neptune's bulk loader for the Gremlin CSV format, and its load jobs.
//!
//! A vertex file's header names `~id`, `~label` (several labels separated by `;`) and property
//! columns `name:Type` (`Bool`/`Boolean`, `Byte`, `Short`, `Int`/`Integer`, `Long`, `Float`,
//! `Double`, `String`, `Date`), optionally an array `Type[]` (values separated by `;`) and a
//! cardinality `name:Type(single)` or `(set)`; an untyped column is a `String`. An edge file
//! names `~id`, `~from`, `~to`, `~label` and properties. Fields follow RFC 4180 quoting.
//!
//! Each bad line is reported with its line number and Neptune's error code; with
//! `failOnError` (the default) the load stops at the first one, otherwise it goes on. Loading
//! streams through the bytes line by line and commits one atomic graph update per file; an edge
//! file's lines are resolved on as many threads as `parallelism` says ([`edges`]).
//! Sources are read through [`ObjectSource`], which the facade implements over its S3 engine.

mod columns;
mod edges;

use columns::{Col, RowError, parse_header, parse_typed_fields};

use std::collections::HashMap;
use std::sync::Arc;

use nubis_core::Env;
use parking_lot::Mutex;

use crate::csv::{CsvText, next_record};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::store::{Cardinality, Graph};
use crate::value::Value;

/// Where the loader reads `s3://bucket/key` sources from.
pub trait ObjectSource: Send + Sync + std::fmt::Debug {
    /// Keys under `prefix` in `bucket`, in key order.
    fn list(&self, bucket: &str, prefix: &str) -> std::result::Result<Vec<String>, String>;
    /// The bytes of one object.
    fn get(&self, bucket: &str, key: &str) -> std::result::Result<Vec<u8>, String>;
}

/// An in-memory [`ObjectSource`] (tests, and loads from local data).
#[derive(Debug, Default)]
pub struct MemorySource {
    objects: Mutex<std::collections::BTreeMap<(String, String), Vec<u8>>>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an object.
    pub fn put(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        self.objects
            .lock()
            .insert((bucket.to_owned(), key.to_owned()), body.into());
    }
}

impl ObjectSource for MemorySource {
    fn list(&self, bucket: &str, prefix: &str) -> std::result::Result<Vec<String>, String> {
        Ok(self
            .objects
            .lock()
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect())
    }

    fn get(&self, bucket: &str, key: &str) -> std::result::Result<Vec<u8>, String> {
        self.objects
            .lock()
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
            .ok_or_else(|| format!("The specified key does not exist: s3://{bucket}/{key}"))
    }
}

/// A `POST /loader` request.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadRequest {
    /// `s3://bucket/key-or-prefix`.
    pub source: String,
    /// `csv` (the Gremlin load data format).
    pub format: String,
    /// Stop at the first error (default true).
    pub fail_on_error: bool,
    /// Replace single-cardinality vertex properties that already have a value.
    pub update_single_cardinality_properties: bool,
    /// How many threads the load uses.
    pub parallelism: Parallelism,
}

/// Neptune's `parallelism` load parameter: how many threads a load uses, against the vCPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// A thread per 8 vCPUs (at least one).
    Low,
    /// A thread per 2 vCPUs (at least one).
    Medium,
    /// A thread per vCPU (the default).
    #[default]
    High,
    /// Two threads per vCPU.
    Oversubscribe,
}

impl Parallelism {
    /// The parameter's value as a request spells it (case-insensitive).
    pub fn parse(s: &str) -> Option<Parallelism> {
        Some(match s.to_ascii_uppercase().as_str() {
            "LOW" => Parallelism::Low,
            "MEDIUM" => Parallelism::Medium,
            "HIGH" => Parallelism::High,
            "OVERSUBSCRIBE" => Parallelism::Oversubscribe,
            _ => return None,
        })
    }

    /// The parameter's value as Neptune reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Parallelism::Low => "LOW",
            Parallelism::Medium => "MEDIUM",
            Parallelism::High => "HIGH",
            Parallelism::Oversubscribe => "OVERSUBSCRIBE",
        }
    }

    /// Threads for a machine with `vcpus` vCPUs, as Neptune documents each setting.
    pub fn threads(self, vcpus: usize) -> usize {
        match self {
            Parallelism::Low => vcpus / 8,
            Parallelism::Medium => vcpus / 2,
            Parallelism::High => vcpus,
            Parallelism::Oversubscribe => vcpus * 2,
        }
        .max(1)
    }
}

/// One reported error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Neptune's error code (`PARSING_ERROR`, `FROM_OR_TO_VERTEX_ARE_MISSING`, …).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub record: u64,
}

/// Counters and the outcome of a load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadStats {
    /// Records (lines) read.
    pub total_records: u64,
    /// Vertices added.
    pub vertices: u64,
    /// Edges added.
    pub edges: u64,
    /// Records that failed to parse.
    pub parsing_errors: u64,
    /// Values of the wrong type.
    pub datatype_mismatch_errors: u64,
    /// Records that failed to insert.
    pub insert_errors: u64,
    /// Duplicates skipped.
    pub duplicates: u64,
    /// The errors, in order.
    pub errors: Vec<LoadError>,
}

/// A load job.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadJob {
    /// The load id.
    pub id: String,
    /// The request.
    pub request: LoadRequest,
    /// `LOAD_COMPLETED`, `LOAD_FAILED`, `LOAD_S3_READ_ERROR`, …
    pub status: &'static str,
    /// Counters.
    pub stats: LoadStats,
    /// Start, epoch seconds.
    pub start_time: u64,
    /// Seconds spent.
    pub total_time: u64,
    /// Files read.
    pub files: u64,
}

/// The loader of one database.
#[derive(Debug)]
pub struct Loader {
    db: Arc<Database>,
    env: Env,
    source: Mutex<Option<Arc<dyn ObjectSource>>>,
    jobs: Mutex<indexmap::IndexMap<String, LoadJob>>,
}

impl Loader {
    /// A loader writing into `db`.
    pub fn new(db: Arc<Database>, env: Env) -> Self {
        Loader {
            db,
            env,
            source: Mutex::new(None),
            jobs: Mutex::new(indexmap::IndexMap::new()),
        }
    }

    /// Sets the object source.
    pub fn set_source(&self, s: Arc<dyn ObjectSource>) {
        *self.source.lock() = Some(s);
    }

    /// Starts (and, in this engine, runs to completion) a load; returns its id.
    pub fn start(&self, req: LoadRequest) -> Result<String> {
        if !req.format.eq_ignore_ascii_case("csv") {
            return Err(Error::Loader(format!(
                "Invalid format: {}. Supported formats for Gremlin data are: csv",
                req.format
            )));
        }
        let (bucket, prefix) = parse_s3(&req.source)?;
        let source = self
            .source
            .lock()
            .clone()
            .ok_or_else(|| Error::Loader("No S3 source is configured for the loader".into()))?;
        let id = self.env.ids.uuid();
        let start = self.env.clock.now_millis();
        let mut job = LoadJob {
            id: id.clone(),
            request: req.clone(),
            status: "LOAD_IN_PROGRESS",
            stats: LoadStats::default(),
            start_time: start / 1000,
            total_time: 0,
            files: 0,
        };
        match source.list(&bucket, &prefix) {
            Ok(keys) if keys.is_empty() => job.status = "LOAD_FAILED",
            Ok(keys) => {
                let mut files = Vec::new();
                let mut failed = None;
                for k in keys {
                    match source.get(&bucket, &k) {
                        Ok(b) => files.push((k, b)),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                if failed.is_some() {
                    job.status = "LOAD_S3_READ_ERROR";
                } else {
                    // Vertex files first, so edge files in the same load find their endpoints.
                    files.sort_by_key(|(_, b)| is_edge_file(b));
                    job.status = "LOAD_COMPLETED";
                    for (name, body) in files {
                        job.files += 1;
                        let stats = self.db.update(|g| Ok(load_csv(g, &body, &name, &req)))?;
                        merge_stats(&mut job.stats, stats);
                        if req.fail_on_error && !job.stats.errors.is_empty() {
                            job.status = "LOAD_FAILED";
                            break;
                        }
                    }
                }
            }
            Err(_) => job.status = "LOAD_S3_READ_ERROR",
        }
        job.total_time = (self.env.clock.now_millis().saturating_sub(start)) / 1000;
        self.jobs.lock().insert(id.clone(), job);
        Ok(id)
    }

    /// A job by id.
    pub fn job(&self, id: &str) -> Option<LoadJob> {
        self.jobs.lock().get(id).cloned()
    }

    /// Every job id, newest first.
    pub fn job_ids(&self, limit: usize) -> Vec<String> {
        self.jobs.lock().keys().rev().take(limit).cloned().collect()
    }

    /// Cancels a job (jobs here finish synchronously, so only the status changes).
    pub fn cancel(&self, id: &str) -> Result<()> {
        match self.jobs.lock().get_mut(id) {
            Some(j) if j.status == "LOAD_IN_PROGRESS" => {
                j.status = "LOAD_CANCELLED_BY_USER";
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(Error::Loader(format!(
                "Load id {id} does not exist or is not active"
            ))),
        }
    }
}

fn merge_stats(into: &mut LoadStats, s: LoadStats) {
    into.total_records += s.total_records;
    into.vertices += s.vertices;
    into.edges += s.edges;
    into.parsing_errors += s.parsing_errors;
    into.datatype_mismatch_errors += s.datatype_mismatch_errors;
    into.insert_errors += s.insert_errors;
    into.duplicates += s.duplicates;
    into.errors.extend(s.errors);
}

fn parse_s3(src: &str) -> Result<(String, String)> {
    let rest = src.strip_prefix("s3://").ok_or_else(|| {
        Error::Loader(format!(
            "Invalid source: {src}. The source must be an S3 URI (s3://bucket/key)"
        ))
    })?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::Loader(format!(
            "Invalid source: {src}. The source must name a bucket"
        )));
    }
    Ok((bucket.to_owned(), key.to_owned()))
}

fn is_edge_file(body: &[u8]) -> bool {
    let header = body.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let h = String::from_utf8_lossy(header);
    h.contains("~from") && h.contains("~to")
}

/// Loads one Gremlin CSV file into `g`, stopping at the first error if `fail_on_error`. An edge
/// file is resolved on as many threads as `req.parallelism` gives for this machine's vCPUs.
pub fn load_csv(g: &mut Graph, data: &[u8], file: &str, req: &LoadRequest) -> LoadStats {
    let vcpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if data.len() < edges::MIN_PARALLEL_BYTES {
        1
    } else {
        req.parallelism.threads(vcpus)
    };
    load_csv_threads(g, data, file, req, threads)
}

/// [`load_csv`] with an edge file on `threads` threads (the outcome is the same for any number).
pub fn load_csv_threads(
    g: &mut Graph,
    data: &[u8],
    file: &str,
    req: &LoadRequest,
    threads: usize,
) -> LoadStats {
    let mut stats = LoadStats::default();
    let mut fields = Vec::new();
    let src = CsvText::new(data);
    let err = |stats: &mut LoadStats, code: &'static str, message: String, record: u64| {
        count_error(stats, code);
        stats.errors.push(LoadError {
            code,
            message,
            file: file.to_owned(),
            record,
        });
    };
    let mut pos = match next_record(&src, 0, &mut fields) {
        Ok(p) => p,
        Err(e) => {
            err(&mut stats, "PARSING_ERROR", e, 1);
            return stats;
        }
    };
    let cols = match parse_header(&fields) {
        Ok(c) => c,
        Err(e) => {
            err(&mut stats, "PARSING_ERROR", e, 1);
            return stats;
        }
    };
    let edge =
        cols.iter().any(|c| matches!(c, Col::From)) && cols.iter().any(|c| matches!(c, Col::To));
    if edge {
        let how = edges::EdgeFile {
            cols: &cols,
            fail_on_error: req.fail_on_error,
            threads,
            file,
        };
        edges::load_edges(g, &src, pos, &how, &mut stats);
        return stats;
    }
    if !cols.iter().any(|c| matches!(c, Col::Id)) {
        err(
            &mut stats,
            "PARSING_ERROR",
            "A vertex file needs an ~id column".into(),
            1,
        );
        return stats;
    }
    let mut line: u64 = 1;
    let mut props: Vec<(usize, Value)> = Vec::new();
    while pos < src.len() {
        line += 1;
        pos = match next_record(&src, pos, &mut fields) {
            Ok(p) => p,
            Err(e) => {
                err(&mut stats, "PARSING_ERROR", e, line);
                // Whatever `failOnError` says, an unterminated quote swallows the rest of the
                // file, and a line that is not UTF-8 has no reliable end.
                break;
            }
        };
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        stats.total_records += 1;
        let result = parse_typed_fields(&cols, &fields, &mut props)
            .and_then(|sys| load_vertex(g, sys.id, sys.label, &cols, &props, req));
        match result {
            Ok(true) => stats.vertices += 1,
            Ok(false) => stats.duplicates += 1,
            Err((code, msg)) => {
                err(&mut stats, code, msg, line);
                if req.fail_on_error {
                    break;
                }
            }
        }
    }
    stats
}

/// Counts an error of `code` in its counter.
fn count_error(stats: &mut LoadStats, code: &str) {
    match code {
        "PARSING_ERROR" => stats.parsing_errors += 1,
        "DATATYPE_MISMATCH" => stats.datatype_mismatch_errors += 1,
        _ => stats.insert_errors += 1,
    }
}

type RowResult = std::result::Result<bool, RowError>;

fn load_vertex(
    g: &mut Graph,
    id: Option<&str>,
    labels: Option<&str>,
    cols: &[Col],
    props: &[(usize, Value)],
    req: &LoadRequest,
) -> RowResult {
    let Some(id) = id else {
        return Err(("PARSING_ERROR", "Missing ~id".into()));
    };
    let (v, fresh) = match g.vertex_by_str(id) {
        Some(v) => (v, false),
        None => {
            let ls: Vec<&str> = labels
                .unwrap_or("vertex")
                .split(';')
                .filter(|l| !l.is_empty())
                .collect();
            (
                g.add_vertex(Value::str(id), &ls)
                    .map_err(|e| ("INSERT_ERROR", e.to_string()))?,
                true,
            )
        }
    };
    for (i, val) in props {
        if let Some(Col::Prop { name, card, .. }) = cols.get(*i) {
            let card = card.unwrap_or(Cardinality::Set);
            let card = if card == Cardinality::Single
                && !fresh
                && !req.update_single_cardinality_properties
            {
                let has = g
                    .symbols()
                    .lookup(name)
                    .is_some_and(|k| !g.vertex_prop(v, k).is_empty());
                if has {
                    continue;
                }
                card
            } else {
                card
            };
            g.set_vertex_property(v, card, name, val.clone(), vec![])
                .map_err(|e| ("INSERT_ERROR", e.to_string()))?;
        }
    }
    Ok(fresh)
}

/// Loader request fields from `POST /loader`'s JSON body.
pub fn parse_request(body: &serde_json::Value) -> Result<LoadRequest> {
    let get = |k: &str| {
        body.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_bool().map(|b| b.to_string()))
        })
    };
    let source = get("source")
        .ok_or_else(|| Error::MissingParameter("Required parameter 'source' is missing".into()))?;
    let format = get("format")
        .ok_or_else(|| Error::MissingParameter("Required parameter 'format' is missing".into()))?;
    let flag = |k: &str, default: bool| -> Result<bool> {
        match get(k).map(|s| s.to_ascii_uppercase()) {
            None => Ok(default),
            Some(s) if s == "TRUE" => Ok(true),
            Some(s) if s == "FALSE" => Ok(false),
            Some(s) => Err(Error::InvalidParameter(format!(
                "Invalid value for parameter '{k}': {s}. Allowed values are TRUE and FALSE"
            ))),
        }
    };
    let parallelism = match get("parallelism") {
        None => Parallelism::High,
        Some(p) => Parallelism::parse(&p).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "Invalid value for parameter 'parallelism': {p}. Allowed values are LOW, MEDIUM, HIGH and OVERSUBSCRIBE"
            ))
        })?,
    };
    Ok(LoadRequest {
        source,
        format,
        fail_on_error: flag("failOnError", true)?,
        update_single_cardinality_properties: flag("updateSingleCardinalityProperties", false)?,
        parallelism,
    })
}

/// Job ids and summaries keyed by id (for `GET /loader`).
pub type Jobs = HashMap<String, LoadJob>;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CSV load request from a dummy S3 source, failing on the first error when `fail`.
    pub(crate) fn req(fail: bool) -> LoadRequest {
        LoadRequest {
            source: "s3://b/k".into(),
            format: "csv".into(),
            fail_on_error: fail,
            update_single_cardinality_properties: false,
            parallelism: Parallelism::High,
        }
    }

    #[test]
    fn loads_vertices_and_edges_with_types() {
        let mut g = Graph::new();
        let v = "~id,~label,name:String,age:Int,tags:String[],born:Date\nv1,person;admin,ada,36,a;b,1815-12-10\nv2,person,\"Lovelace, A\",,x,\n";
        let s = load_csv(&mut g, v.as_bytes(), "v.csv", &req(true));
        assert_eq!((s.vertices, s.errors.len()), (2, 0), "{s:?}");
        let e = "~id,~from,~to,~label,weight:Double\ne1,v1,v2,knows,0.5\ne2,v1,v9,knows,1\n";
        let s = load_csv(&mut g, e.as_bytes(), "e.csv", &req(false));
        assert_eq!(s.edges, 1);
        assert_eq!(s.errors[0].code, "FROM_OR_TO_VERTEX_ARE_MISSING");
        assert_eq!(s.errors[0].record, 3);
        let v1 = g.vertex_by_id(&Value::str("v1")).unwrap();
        let tags = g.symbols().lookup("tags").unwrap();
        assert_eq!(g.vertex_prop(v1, tags).len(), 2);
        assert_eq!(g.vertex_label(v1).as_ref(), "person::admin");
    }

    #[test]
    fn edge_files_skip_duplicate_ids_within_and_across_loads() {
        let mut g = Graph::new();
        let v = "~id\r\na\r\nb\r\n";
        load_csv(&mut g, v.as_bytes(), "v.csv", &req(true));
        let e = "~id,~from,~to,~label,w:Int\ne1,a,b,knows,1\ne1,b,a,knows,2\n\"e2\",b,a,\"kn\"\"ows\",3\n";
        let s = load_csv(&mut g, e.as_bytes(), "e.csv", &req(true));
        assert_eq!((s.edges, s.duplicates, s.errors.len()), (2, 1, 0), "{s:?}");
        let s = load_csv(&mut g, e.as_bytes(), "e.csv", &req(true));
        assert_eq!((s.edges, s.duplicates), (0, 3));
        let e2 = g.edge_by_str("e2").unwrap();
        assert_eq!(g.symbols().name(g.edge(e2).unwrap().2).as_ref(), "kn\"ows");
        assert_eq!(g.edge_props(e2)[0].1, Value::Int(3));
        let a = g.vertex_by_str("a").unwrap();
        assert_eq!(g.degree(a, crate::store::Direction::Both, &[]), 2);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_load_or_fail_cleanly(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut g = Graph::new();
            let _ = load_csv(&mut g, &data, "f.csv", &req(false));
        }
    }

    #[test]
    fn bad_utf8_is_reported_on_its_own_line() {
        // The file is not UTF-8 as a whole, so fields are checked one by one: the lines before
        // the bad one load and the error names line 3.
        let mut g = Graph::new();
        let s = load_csv(&mut g, b"~id\na\nb\xff\nc\n", "v.csv", &req(false));
        assert_eq!((s.vertices, s.parsing_errors), (1, 1), "{s:?}");
        assert_eq!(s.errors[0].record, 3);
        assert_eq!(s.errors[0].message, "Invalid UTF-8 in field");
    }

    #[test]
    fn parallelism_is_parsed_and_sets_threads() {
        let body = serde_json::json!({"source": "s3://b/k", "format": "csv", "parallelism": "low"});
        let r = parse_request(&body).unwrap();
        assert_eq!(r.parallelism, Parallelism::Low);
        assert_eq!(
            parse_request(&serde_json::json!({"source": "s3://b/k", "format": "csv"}))
                .unwrap()
                .parallelism,
            Parallelism::High
        );
        let bad = serde_json::json!({"source": "s3://b/k", "format": "csv", "parallelism": "MAX"});
        assert!(matches!(
            parse_request(&bad),
            Err(Error::InvalidParameter(_))
        ));
        assert_eq!(Parallelism::Low.threads(2), 1);
        assert_eq!(Parallelism::Medium.threads(16), 8);
        assert_eq!(Parallelism::High.threads(4), 4);
        assert_eq!(Parallelism::Oversubscribe.threads(4), 8);
        for p in [
            Parallelism::Low,
            Parallelism::Medium,
            Parallelism::High,
            Parallelism::Oversubscribe,
        ] {
            assert_eq!(Parallelism::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn fail_on_error_stops_at_the_first_bad_line() {
        let mut g = Graph::new();
        let v = "~id,age:Int\na,1\nb,x\nc,3\n";
        let s = load_csv(&mut g, v.as_bytes(), "v.csv", &req(true));
        assert_eq!((s.vertices, s.datatype_mismatch_errors), (1, 1));
        let mut g = Graph::new();
        let s = load_csv(&mut g, v.as_bytes(), "v.csv", &req(false));
        assert_eq!((s.vertices, s.datatype_mismatch_errors), (2, 1));
        let s = load_csv(&mut g, b"~id,x:Blob\n", "v.csv", &req(false));
        assert_eq!(s.parsing_errors, 1);
    }
}
