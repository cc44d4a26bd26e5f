//! A sqllogictest runner: parses `.slt`/`.test` files and runs their records against a session.
//!
//! Supported: `statement ok|error [text]|count N`, `query <types> [nosort|rowsort|valuesort]
//! [label]` with `----` results (one value per line, or one row per line separated by spaces),
//! `hash-threshold N` and the `N values hashing to <md5>` form, `skipif`/`onlyif` (this engine
//! is `postgresql`), `halt`, comments. Values are formatted by the column type letters: `I`
//! integers, `R` three decimals, `T` text; NULL is `NULL`, the empty string `(empty)`.
//!
//! Guarantee: every record is counted once as passed, failed or skipped, and every failure names
//! its file and line.

use md5::Digest;

use crate::engine::QueryResult;
use crate::error::AuroraError;
use crate::value::Value;

/// The engine name `skipif`/`onlyif` compare against.
pub const ENGINE: &str = "postgresql";

/// Counts of one run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Records that passed.
    pub passed: usize,
    /// Records that failed.
    pub failed: usize,
    /// Records skipped by conditions or after `halt`.
    pub skipped: usize,
    /// One line per failure: `file:line: what`.
    pub failures: Vec<String>,
}

impl Outcome {
    /// Adds another run's counts.
    pub fn merge(&mut self, other: Outcome) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.failures.extend(other.failures);
    }
}

/// What the runner needs from a database.
pub trait SltDb {
    /// Runs one SQL text.
    fn run(&mut self, sql: &str) -> Result<QueryResult, AuroraError>;
}

impl SltDb for crate::session::Session {
    fn run(&mut self, sql: &str) -> Result<QueryResult, AuroraError> {
        let mut r = self.execute(sql)?;
        r.pop()
            .ok_or_else(|| AuroraError::sql("42601", "empty statement"))
    }
}

#[derive(Debug)]
enum Kind {
    StatementOk,
    StatementError(String),
    StatementCount(u64),
    Query {
        types: String,
        sort: String,
        expected: Vec<String>,
    },
}

#[derive(Debug)]
struct Record {
    line: usize,
    sql: String,
    kind: Kind,
    skip: bool,
}

/// Formats one value for a type letter.
pub fn format_value(v: &Value, ty: char) -> String {
    let s = match v {
        Value::Null => return "NULL".into(),
        other => other,
    };
    let text = match ty {
        'I' => match s {
            Value::Bool(b) => (*b as i64).to_string(),
            _ => match s.as_i64() {
                Some(i) => i.to_string(),
                None => {
                    let f = s
                        .as_f64()
                        .or_else(|| crate::cast::text_of(s).trim().parse::<f64>().ok())
                        .unwrap_or(0.0);
                    format!("{}", f.trunc() as i64)
                }
            },
        },
        'R' => {
            let f = s
                .as_f64()
                .or_else(|| crate::cast::text_of(s).trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            let r = format!("{f:.3}");
            if r == "-0.000" { "0.000".into() } else { r }
        }
        _ => crate::cast::text_of(s).to_string(),
    };
    if text.is_empty() {
        return "(empty)".into();
    }
    text.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '@' })
        .collect()
}

fn parse(text: &str) -> (Vec<Record>, Vec<(usize, usize)>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut thresholds = Vec::new();
    let mut i = 0;
    let mut skip = false;
    let mut halted = false;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            None => {
                i += 1;
                continue;
            }
            Some(w) if w.starts_with('#') => {
                i += 1;
                continue;
            }
            Some("skipif") => {
                if words.get(1).is_some_and(|e| e.eq_ignore_ascii_case(ENGINE)) {
                    skip = true;
                }
                i += 1;
                continue;
            }
            Some("onlyif") => {
                if words
                    .get(1)
                    .is_some_and(|e| !e.eq_ignore_ascii_case(ENGINE))
                {
                    skip = true;
                }
                i += 1;
                continue;
            }
            Some("hash-threshold") => {
                thresholds.push((
                    records.len(),
                    words.get(1).and_then(|n| n.parse().ok()).unwrap_or(0),
                ));
                i += 1;
                continue;
            }
            Some("halt") => {
                if !skip {
                    halted = true;
                }
                skip = false;
                i += 1;
                continue;
            }
            Some("statement") | Some("query") => {
                let start = i + 1;
                let header = words.clone();
                i += 1;
                let mut sql = Vec::new();
                while i < lines.len() && !lines[i].trim().is_empty() && lines[i].trim() != "----" {
                    sql.push(lines[i]);
                    i += 1;
                }
                let mut expected = Vec::new();
                if i < lines.len() && lines[i].trim() == "----" {
                    i += 1;
                    while i < lines.len() && !lines[i].trim().is_empty() {
                        expected.push(lines[i].trim_end().to_string());
                        i += 1;
                    }
                }
                let kind = if header[0] == "statement" {
                    match header.get(1).copied() {
                        Some("error") => Kind::StatementError(header[2..].join(" ")),
                        Some("count") => Kind::StatementCount(
                            header.get(2).and_then(|n| n.parse().ok()).unwrap_or(0),
                        ),
                        _ => Kind::StatementOk,
                    }
                } else if header.get(1).copied() == Some("error") {
                    Kind::StatementError(header[2..].join(" "))
                } else {
                    Kind::Query {
                        types: header.get(1).copied().unwrap_or("T").to_string(),
                        sort: header.get(2).copied().unwrap_or("nosort").to_string(),
                        expected,
                    }
                };
                records.push(Record {
                    line: start,
                    sql: sql.join("\n"),
                    kind,
                    skip: skip || halted,
                });
                skip = false;
            }
            Some(_) => {
                // Unknown directives (`control`, `include`, `mode`) are ignored.
                i += 1;
            }
        }
    }
    (records, thresholds)
}

fn md5_hex(values: &[String]) -> String {
    let mut h = md5::Md5::new();
    for v in values {
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a script; `name` labels failures.
pub fn run(text: &str, name: &str, db: &mut dyn SltDb) -> Outcome {
    let (records, thresholds) = parse(text);
    let mut out = Outcome::default();
    let mut threshold = 0usize;
    for (idx, rec) in records.iter().enumerate() {
        for (at, t) in &thresholds {
            if *at == idx {
                threshold = *t;
            }
        }
        if rec.skip {
            out.skipped += 1;
            continue;
        }
        match check(rec, db, threshold) {
            Ok(()) => out.passed += 1,
            Err(why) => {
                out.failed += 1;
                let sql: String = rec.sql.chars().take(120).collect();
                out.failures.push(format!(
                    "{name}:{}: {why}\n    {}",
                    rec.line,
                    sql.replace('\n', " ")
                ));
            }
        }
    }
    out
}

fn check(rec: &Record, db: &mut dyn SltDb, threshold: usize) -> Result<(), String> {
    let r = db.run(&rec.sql);
    match &rec.kind {
        Kind::StatementOk => r
            .map(|_| ())
            .map_err(|e| format!("statement failed: {} ({})", e, e.sqlstate())),
        Kind::StatementCount(n) => match r {
            Ok(q) if q.rows_affected == *n => Ok(()),
            Ok(q) => Err(format!(
                "expected {n} rows affected, got {}",
                q.rows_affected
            )),
            Err(e) => Err(format!("statement failed: {e}")),
        },
        Kind::StatementError(want) => match r {
            Ok(_) => Err("statement succeeded but an error was expected".into()),
            Err(e) => {
                let want = want.trim();
                if want.is_empty() || e.sqlstate() == want || e.to_string().contains(want) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected error '{want}', got '{e}' ({})",
                        e.sqlstate()
                    ))
                }
            }
        },
        Kind::Query {
            types,
            sort,
            expected,
        } => {
            let q = r.map_err(|e| format!("query failed: {e} ({})", e.sqlstate()))?;
            let tys: Vec<char> = types.chars().collect();
            let ncols = q.columns.len().max(tys.len());
            let mut rows: Vec<Vec<String>> = q
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(i, v)| format_value(v, tys.get(i).copied().unwrap_or('T')))
                        .collect()
                })
                .collect();
            if q.columns.len() != tys.len() && tys.len() > 1 {
                return Err(format!(
                    "expected {} columns, got {}",
                    tys.len(),
                    q.columns.len()
                ));
            }
            let _ = ncols;
            let mut values: Vec<String> = match sort.as_str() {
                "rowsort" => {
                    rows.sort();
                    rows.concat()
                }
                "valuesort" => {
                    let mut v = rows.concat();
                    v.sort();
                    v
                }
                _ => rows.concat(),
            };
            if sort == "rowsort" {
                rows.sort();
            }
            if let Some(first) = expected.first()
                && first.contains("values hashing to")
            {
                let mut parts = first.split_whitespace();
                let n: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                let hash = first.split_whitespace().last().unwrap_or("");
                let got = md5_hex(&values);
                if values.len() != n || got != hash {
                    return Err(format!(
                        "expected {n} values hashing to {hash}, got {} values hashing to {got}",
                        values.len()
                    ));
                }
                return Ok(());
            }
            if threshold > 0 && values.len() > threshold {
                // Results over the threshold may be given either listed or hashed.
                let hashed = format!("{} values hashing to {}", values.len(), md5_hex(&values));
                if expected.len() == 1 && expected[0] == hashed {
                    return Ok(());
                }
            }
            let per_value = expected.len() == values.len()
                && expected
                    .iter()
                    .zip(&values)
                    .all(|(e, v)| e.trim() == v.trim());
            if per_value {
                return Ok(());
            }
            let row_lines: Vec<String> = rows.iter().map(|r| r.join(" ")).collect();
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let per_row = expected.len() == row_lines.len()
                && expected
                    .iter()
                    .zip(&row_lines)
                    .all(|(e, r)| norm(e) == norm(r));
            if per_row {
                return Ok(());
            }
            values.truncate(40);
            Err(format!(
                "wrong result: expected {:?}, got {:?}",
                expected.iter().take(40).collect::<Vec<_>>(),
                row_lines.iter().take(20).collect::<Vec<_>>()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_sqllogictest() {
        assert_eq!(format_value(&Value::Null, 'I'), "NULL");
        assert_eq!(format_value(&Value::text(""), 'T'), "(empty)");
        assert_eq!(format_value(&Value::Float8(1.23456), 'R'), "1.235");
        assert_eq!(
            format_value(&Value::Numeric("7.9".parse().unwrap_or_default()), 'I'),
            "7"
        );
        assert_eq!(md5_hex(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
