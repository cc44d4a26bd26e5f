//! The bulk loader's edge files: lines resolved into edges on several threads, then appended to
//! the graph in one batch.
//!
//! Resolving an edge line only reads the graph (its endpoints' ids in the vertex index), so the
//! file is cut into chunks at line ends and each chunk is parsed and resolved on its own thread
//! against a shared `&Graph`. The chunks are then merged in file order on the calling thread,
//! which interns labels and property keys in the order a single pass would, numbers the lines,
//! and appends one batch (whose id hashes the threads have already computed).
//!
//! Guarantee: the outcome — the edges and their order, the symbols, the counters, the errors and
//! their line numbers, where `failOnError` stops — is the same for any number of threads. A cut
//! can fall inside a quoted field that spans lines; the chunk before it then ends past the cut,
//! and the rest of the file is resolved again on the calling thread from where that chunk ended.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Col, LoadError, LoadStats, parse_typed_fields};
use crate::csv::{CsvText, next_record};
use crate::store::bulk::EdgeBatch;
use crate::store::ids::IdKey;
use crate::store::{Graph, Sym};
use crate::value::Value;

/// Files smaller than this are resolved on one thread (a thread costs more than it saves).
pub(super) const MIN_PARALLEL_BYTES: usize = 1 << 20;

/// What one chunk of an edge file resolved to.
#[derive(Debug, Default)]
struct Chunk {
    /// Where the chunk's last record ended.
    end: usize,
    /// Records read, blank ones included (line numbers count them).
    lines: u64,
    /// Records that were not blank.
    records: u64,
    /// The chunk stopped before its end: an error that ends the load.
    stopped: bool,
    src: Vec<u32>,
    dst: Vec<u32>,
    /// Each edge's label, as an index into `labels`.
    label: Vec<u32>,
    /// The chunk's distinct labels, in order of first use.
    labels: Vec<String>,
    ids: Vec<IdKey>,
    /// The hash of each id in the graph's edge-id index.
    hashes: Vec<u64>,
    /// `(edge position in the chunk, (column, value) of each property field)`.
    props: Vec<(u32, Vec<(usize, Value)>)>,
    /// `(line within the chunk, code, message)`.
    errors: Vec<(u64, &'static str, String)>,
}

/// How one edge file is read.
pub(super) struct EdgeFile<'a> {
    /// The header's columns.
    pub(super) cols: &'a [Col],
    /// Stop at the first bad line.
    pub(super) fail_on_error: bool,
    /// Threads to resolve lines on.
    pub(super) threads: usize,
    /// The file's name, for errors.
    pub(super) file: &'a str,
}

/// Loads the records of an edge file from `pos` (just past the header) into `g`, adding to
/// `stats`.
pub(super) fn load_edges(
    g: &mut Graph,
    src: &CsvText<'_>,
    pos: usize,
    how: &EdgeFile<'_>,
    stats: &mut LoadStats,
) {
    let EdgeFile {
        cols,
        fail_on_error,
        threads,
        file,
    } = *how;
    let cuts = cuts(src.bytes(), pos, threads);
    let chunks = resolve_all(g, src, &cuts, cols, fail_on_error);
    // The header is line 1.
    merge(g, chunks, 1, cols, file, stats, threads);
}

/// Chunk boundaries: `pos`, then up to `threads - 1` positions just past a newline, then the end.
fn cuts(data: &[u8], pos: usize, threads: usize) -> Vec<usize> {
    let len = data.len();
    let mut cuts = vec![pos];
    for i in 1..threads.max(1) {
        let target = pos + (len - pos) / threads * i;
        let from = target.max(cuts.last().copied().unwrap_or(pos));
        let Some(nl) = data
            .get(from..)
            .and_then(|d| d.iter().position(|b| *b == b'\n'))
        else {
            break;
        };
        let cut = from + nl + 1;
        if cut < len && cuts.last().is_some_and(|c| *c < cut) {
            cuts.push(cut);
        }
    }
    cuts.push(len.max(pos));
    cuts
}

/// Resolves each chunk `cuts[i]..cuts[i + 1]`, all but the first on threads of their own; a chunk
/// whose predecessor did not end at its start (a cut inside a record) is redone from where the
/// predecessor ended, on this thread, through the end of the file.
fn resolve_all(
    g: &Graph,
    src: &CsvText<'_>,
    cuts: &[usize],
    cols: &[Col],
    fail_on_error: bool,
) -> Vec<Chunk> {
    let len = cuts.last().copied().unwrap_or(0);
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let mut results: Vec<Option<Chunk>> = Vec::with_capacity(ranges.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .skip(1)
            .map(|&(a, z)| {
                // A thread that cannot be started leaves its chunk to this thread.
                std::thread::Builder::new()
                    .name("neptune-load".into())
                    .spawn_scoped(s, move || resolve(g, src, a, z, cols, fail_on_error))
                    .ok()
            })
            .collect();
        if let Some(&(a, z)) = ranges.first() {
            results.push(Some(resolve(g, src, a, z, cols, fail_on_error)));
        }
        // A worker that panicked (a bug) leaves its chunk to be redone here.
        results.extend(handles.into_iter().map(|h| h.and_then(|h| h.join().ok())));
    });
    let mut out: Vec<Chunk> = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        let start = ranges.get(i).map_or(len, |r| r.0);
        let expected = out.last().map_or(start, |c| c.end);
        if out.last().is_some_and(|c| c.stopped) {
            break;
        }
        match r {
            Some(c) if expected == start => out.push(c),
            _ => {
                // Either this chunk starts mid-record or it was not resolved: everything from
                // where the previous chunk ended is resolved here, in one piece.
                out.push(resolve(g, src, expected, len, cols, fail_on_error));
                break;
            }
        }
    }
    out
}

/// Resolves the records that start in `start..end` (the last one may run past `end`).
fn resolve(
    g: &Graph,
    src: &CsvText<'_>,
    start: usize,
    end: usize,
    cols: &[Col],
    fail_on_error: bool,
) -> Chunk {
    let mut c = Chunk {
        end: start,
        ..Chunk::default()
    };
    let mut fields: Vec<Cow<'_, str>> = Vec::new();
    let mut props: Vec<(usize, Value)> = Vec::new();
    let mut label_of: HashMap<String, u32> = HashMap::new();
    let mut last_label: Option<u32> = None;
    let mut pos = start;
    // One slot per line: the columns never grow (and copy) mid-chunk.
    let lines = src
        .bytes()
        .get(start..end)
        .map_or(0, |d| d.iter().filter(|b| **b == b'\n').count() + 1);
    c.src.reserve(lines);
    c.dst.reserve(lines);
    c.label.reserve(lines);
    c.ids.reserve(lines);
    c.hashes.reserve(lines);
    while pos < end {
        c.lines += 1;
        pos = match next_record(src, pos, &mut fields) {
            Ok(p) => p,
            Err(e) => {
                c.errors.push((c.lines, "PARSING_ERROR", e));
                // Whatever `failOnError` says, an unterminated quote swallows the rest of the
                // file, and a line that is not UTF-8 has no reliable end.
                c.stopped = true;
                break;
            }
        };
        c.end = pos;
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        c.records += 1;
        let row = parse_typed_fields(cols, &fields, &mut props).and_then(|sys| {
            let (Some(f), Some(t)) = (sys.from, sys.to) else {
                return Err(("PARSING_ERROR", "Missing ~from or ~to".into()));
            };
            let (Some(s), Some(d)) = (g.vertex_by_str(f), g.vertex_by_str(t)) else {
                return Err((
                    "FROM_OR_TO_VERTEX_ARE_MISSING",
                    format!("Vertex {f} or {t} does not exist"),
                ));
            };
            let Some(label) = sys.label else {
                return Err(("PARSING_ERROR", "Missing ~label".into()));
            };
            let Some(id) = sys.id else {
                return Err(("PARSING_ERROR", "Missing ~id".into()));
            };
            Ok((s, d, label, id))
        });
        let (s, d, label, id) = match row {
            Ok(r) => r,
            Err((code, msg)) => {
                c.errors.push((c.lines, code, msg));
                if fail_on_error {
                    c.stopped = true;
                    break;
                }
                continue;
            }
        };
        // An edge file repeats a handful of labels, usually in runs: the last one is checked
        // first, then the chunk's table.
        let l = match last_label {
            Some(l) if c.labels.get(l as usize).is_some_and(|x| x == label) => l,
            _ => {
                let next = c.labels.len() as u32;
                let l = *label_of.entry(label.to_owned()).or_insert(next);
                if l == next {
                    c.labels.push(label.to_owned());
                }
                l
            }
        };
        last_label = Some(l);
        if !props.is_empty() {
            c.props
                .push((c.src.len() as u32, std::mem::take(&mut props)));
        }
        let key = IdKey::text(id);
        c.hashes.push(g.edge_id_hash(&key));
        c.src.push(s);
        c.dst.push(d);
        c.label.push(l);
        c.ids.push(key);
    }
    c
}

/// Merges resolved chunks in file order into one batch and appends it to `g`.
fn merge(
    g: &mut Graph,
    chunks: Vec<Chunk>,
    mut line: u64,
    cols: &[Col],
    file: &str,
    stats: &mut LoadStats,
    threads: usize,
) {
    let n: usize = chunks.iter().map(|c| c.src.len()).sum();
    let mut batch = EdgeBatch::default();
    batch.src.reserve(n);
    batch.dst.reserve(n);
    batch.label.reserve(n);
    batch.ids.reserve(n);
    batch.hashes.reserve(n);
    let mut col_syms: Vec<Option<Sym>> = vec![None; cols.len()];
    for c in chunks {
        stats.total_records += c.records;
        stats.edges += c.src.len() as u64;
        for (l, code, message) in c.errors {
            super::count_error(stats, code);
            stats.errors.push(LoadError {
                code,
                message,
                file: file.to_owned(),
                record: line + l,
            });
        }
        line += c.lines;
        // Symbols are interned in line order, property keys before the label, as a single
        // pass would: the symbols' numbering (and so adjacency order) does not depend on cuts.
        let mut label_syms: Vec<Option<Sym>> = vec![None; c.labels.len()];
        let mut props = c.props.into_iter().peekable();
        let base = batch.src.len() as u32;
        for (j, l) in c.label.iter().enumerate() {
            if let Some((_, fields)) = props.next_if(|(p, _)| *p as usize == j) {
                let mut list: Vec<(Sym, Value)> = Vec::with_capacity(fields.len());
                for (i, val) in fields {
                    let Some(Col::Prop { name, .. }) = cols.get(i) else {
                        continue;
                    };
                    let k = match col_syms.get_mut(i) {
                        Some(Some(k)) => *k,
                        Some(slot) => *slot.insert(g.intern(name)),
                        None => g.intern(name),
                    };
                    // A later field of the same key (an array column's values, or a repeated
                    // column) replaces an earlier one: an edge property is single-valued.
                    match list.iter_mut().find(|(kk, _)| *kk == k) {
                        Some(p) => p.1 = val,
                        None => list.push((k, val)),
                    }
                }
                batch.props.push((base + j as u32, list));
            }
            let sym = match label_syms.get_mut(*l as usize) {
                Some(Some(s)) => *s,
                Some(slot) => *slot.insert(g.intern(&c.labels[*l as usize])),
                None => continue,
            };
            batch.label.push(sym);
        }
        batch.src.extend(c.src);
        batch.dst.extend(c.dst);
        batch.ids.extend(c.ids);
        batch.hashes.extend(c.hashes);
        if c.stopped {
            break;
        }
    }
    if !batch.is_empty() {
        // Ids are checked for duplicates as the batch is appended (first copy wins).
        let skipped = g.append_edges_on(batch, threads) as u64;
        stats.edges -= skipped;
        stats.duplicates += skipped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::load_csv;
    use crate::loader::tests::req;

    /// The graph and stats of loading `v` then `e` with the edge file on `threads` threads.
    fn load(v: &str, e: &str, fail: bool, threads: usize) -> (Vec<String>, LoadStats) {
        let mut g = Graph::new();
        load_csv(&mut g, v.as_bytes(), "v.csv", &req(true));
        let s = super::super::load_csv_threads(&mut g, e.as_bytes(), "e.csv", &req(fail), threads);
        let edges = g
            .edge_ids()
            .map(|x| {
                let (s, d, l) = g.edge(x).unwrap_or((0, 0, 0));
                format!(
                    "{:?} {s}->{d} {} {:?}",
                    g.edge_user_id(x),
                    g.symbols().name(l),
                    g.edge_props(x)
                )
            })
            .collect();
        (edges, s)
    }

    #[test]
    fn cuts_fall_just_past_newlines() {
        let d = b"h\nab\ncd\nef\ngh\n";
        assert_eq!(cuts(d, 2, 1), vec![2, 14]);
        let c = cuts(d, 2, 3);
        assert_eq!(c.first(), Some(&2));
        assert_eq!(c.last(), Some(&14));
        for w in c.windows(2) {
            assert!(w[0] < w[1]);
        }
        for x in &c[1..c.len() - 1] {
            assert_eq!(d[x - 1], b'\n');
        }
        // More threads than lines still gives ordered, distinct cuts.
        let c = cuts(b"h\na\n", 2, 8);
        assert_eq!(c, vec![2, 4]);
    }

    proptest::proptest! {
        /// Any number of threads gives what one thread gives: edges, symbols, counters, errors
        /// and line numbers, with duplicates, bad lines, blank lines and quoted newlines.
        #[test]
        fn threads_do_not_change_the_outcome(
            rows in proptest::collection::vec((0..6u8, 0..5u8, 0..5u8, 0..4u8, 0..5u8), 0..40),
            fail in proptest::bool::ANY,
            threads in 2..6usize,
        ) {
            let v = "~id\nv0\nv1\nv2\nv3\n";
            let mut e = String::from("~id,~from,~to,~label,w:Int,t:String[]\n");
            for (id, a, b, l, p) in rows {
                let label = ["knows", "\"multi\nline\"", "x", ""][l as usize];
                let w = ["1", "", "z", "2", "3"][p as usize];
                match p {
                    4 => e.push('\n'),
                    3 => e.push_str("only,two\n"),
                    _ => e.push_str(&format!("e{id},v{a},v{b},{label},{w},a;b\n")),
                }
            }
            let one = load(v, &e, fail, 1);
            let many = load(v, &e, fail, threads);
            proptest::prop_assert_eq!(one, many);
        }
    }
}
