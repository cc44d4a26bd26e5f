//! SET and SHOW: the isolation level, `lock_timeout`, and the settings drivers set or read on
//! connect (accepted with PostgreSQL's fixed values).

use std::time::Duration;

use sqlparser::ast;

use super::Session;
use super::block::isolation_of;
use crate::catalog::ident;
use crate::engine::QueryResult;
use crate::error::{AuroraError, Result};
use crate::txn::Isolation;
use crate::types::DataType;
use crate::value::Value;

impl Session {
    pub(super) fn set(&mut self, set: &ast::Set) -> Result<QueryResult> {
        match set {
            ast::Set::SetTransaction { modes, session, .. } => {
                if let Some(iso) = isolation_of(modes) {
                    if *session {
                        self.default_isolation = iso;
                    } else if let Some(t) = self.txn.as_mut() {
                        if t.snapshot.is_some() {
                            return Err(AuroraError::sql(
                                "25001",
                                "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                            ));
                        }
                        t.isolation = iso;
                    }
                }
            }
            ast::Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string().to_lowercase();
                let value = values
                    .first()
                    .map(|v| v.to_string().trim_matches('\'').to_lowercase())
                    .unwrap_or_default();
                match name.as_str() {
                    "lock_timeout" => {
                        self.lock_timeout = parse_lock_timeout(&value).ok_or_else(|| {
                            AuroraError::sql(
                                "22023",
                                format!(
                                    "invalid value for parameter \"lock_timeout\": \"{value}\""
                                ),
                            )
                        })?;
                    }
                    "default_transaction_isolation" | "transaction_isolation" => {
                        let iso = match value.as_str() {
                            "serializable" => Isolation::Serializable,
                            "repeatable read" => Isolation::RepeatableRead,
                            "read committed" | "read uncommitted" => Isolation::ReadCommitted,
                            other => {
                                return Err(AuroraError::sql(
                                    "22023",
                                    format!("invalid value for parameter \"{name}\": \"{other}\""),
                                ));
                            }
                        };
                        if name.starts_with("default") {
                            self.default_isolation = iso;
                        } else if let Some(t) = self.txn.as_mut() {
                            t.isolation = iso;
                        }
                    }
                    "search_path"
                    | "client_encoding"
                    | "datestyle"
                    | "timezone"
                    | "application_name"
                    | "statement_timeout"
                    | "extra_float_digits"
                    | "client_min_messages"
                    | "standard_conforming_strings"
                    | "idle_in_transaction_session_timeout"
                    | "intervalstyle" => {}
                    other => {
                        return Err(AuroraError::sql(
                            "42704",
                            format!("unrecognized configuration parameter \"{other}\""),
                        ));
                    }
                }
            }
            ast::Set::SetTimeZone { .. }
            | ast::Set::SetNames { .. }
            | ast::Set::SetNamesDefault {} => {}
            other => return Err(AuroraError::unsupported(format!("SET form {other}"))),
        }
        Ok(QueryResult::command("SET".into(), 0))
    }

    /// `SHOW name`: the settings a driver or ORM asks for.
    pub(super) fn show(&self, variable: &[ast::Ident]) -> Result<QueryResult> {
        let name = variable.iter().map(ident).collect::<Vec<_>>().join(" ");
        let value = match name.as_str() {
            "transaction_isolation" | "transaction isolation level" => self
                .txn
                .as_ref()
                .map(|t| t.isolation)
                .unwrap_or(self.default_isolation)
                .name()
                .to_string(),
            "default_transaction_isolation" => self.default_isolation.name().to_string(),
            "server_version" => "16.0".into(),
            "search_path" => "\"$user\", public".into(),
            "timezone" => "UTC".into(),
            "datestyle" => "ISO, MDY".into(),
            "client_encoding" | "server_encoding" => "UTF8".into(),
            "standard_conforming_strings" => "on".into(),
            "lock_timeout" => format_lock_timeout(self.lock_timeout),
            other => {
                return Err(AuroraError::sql(
                    "42704",
                    format!("unrecognized configuration parameter \"{other}\""),
                ));
            }
        };
        Ok(QueryResult::rows(
            "SHOW".into(),
            vec![(name, DataType::Text)],
            vec![vec![Value::text(value)]],
            1,
        ))
    }
}

/// Parses a `lock_timeout` value: milliseconds, or a number with PostgreSQL's time units
/// (`us`, `ms`, `s`, `min`, `h`, `d`); 0 (or `default`) disables the timeout.
fn parse_lock_timeout(v: &str) -> Option<Option<Duration>> {
    let v = v.trim();
    if v == "default" {
        return Some(None);
    }
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms_per_unit = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = (n * ms_per_unit).round();
    if !(0.0..=i32::MAX as f64).contains(&ms) {
        return None;
    }
    Some((ms > 0.0).then(|| Duration::from_millis(ms as u64)))
}

/// `SHOW lock_timeout`, in PostgreSQL's largest exact unit.
fn format_lock_timeout(t: Option<Duration>) -> String {
    let Some(t) = t else {
        return "0".into();
    };
    let ms = t.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
