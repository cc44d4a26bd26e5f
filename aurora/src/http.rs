//! The RDS Data API (`rds-data`, restJson1): `POST /Execute`, `/BatchExecute`,
//! `/BeginTransaction`, `/CommitTransaction`, `/RollbackTransaction` over the engine's databases.
//!
//! Guarantees: SQL errors answer `DatabaseErrorException` with the text the Data API sends for
//! Aurora PostgreSQL (`ERROR: <message>; SQLState: <code>`); a transaction id unknown, finished
//! or idle for more than three minutes (on the injected clock) is `TransactionNotFoundException`;
//! results over 1 MiB are refused as the Data API documents; every error, including an unknown
//! path, is in restJson1's shape. Named parameters (`:name`) become positional ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use futures::future::BoxFuture;
use nubis_wire::{Protocol, Request, RequestContext, Response, Service, ServiceDescriptor};
use parking_lot::Mutex;
use serde_json::{Value as J, json};

use crate::engine::{Aurora, QueryResult};
use crate::session::Session;
use crate::types::DataType;
use crate::value::Value;

/// How long a Data API transaction may sit idle before it is rolled back.
pub const TRANSACTION_IDLE_TIMEOUT: Duration = Duration::from_secs(180);
/// Largest response the Data API returns.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Longest SQL text accepted.
pub const MAX_SQL_LEN: usize = 65_536;

struct OpenTxn {
    session: Session,
    last_used: SystemTime,
}

/// The Data API wire service.
pub struct DataApiService {
    aurora: Arc<Aurora>,
    txns: Mutex<HashMap<String, OpenTxn>>,
}

impl std::fmt::Debug for DataApiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataApiService").finish_non_exhaustive()
    }
}

struct ApiError {
    status: u16,
    code: &'static str,
    message: String,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError {
        status: 400,
        code: "BadRequestException",
        message: message.into(),
    }
}

fn db_error(e: &crate::AuroraError) -> ApiError {
    let detail = match e {
        crate::AuroraError::UniqueViolation { detail, .. } if !detail.is_empty() => {
            format!("\n  Detail: {detail}")
        }
        _ => String::new(),
    };
    ApiError {
        status: 400,
        code: "DatabaseErrorException",
        message: format!("ERROR: {e}{detail}; SQLState: {}", e.sqlstate()),
    }
}

impl DataApiService {
    /// A service over `aurora`.
    pub fn new(aurora: Arc<Aurora>) -> Self {
        DataApiService {
            aurora,
            txns: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> SystemTime {
        self.aurora.env().clock.now()
    }

    /// Answers one request.
    pub fn handle(&self, ctx: &RequestContext, req: &Request) -> Response {
        let result = self.route(req);
        match result {
            Ok(v) => {
                let body = v.to_string();
                if body.len() > MAX_RESPONSE_BYTES {
                    let e = bad("Database returned more than the allowed response size limit");
                    return nubis_wire::error(
                        Protocol::RestJson1,
                        e.status,
                        e.code,
                        &e.message,
                        &ctx.request_id,
                    );
                }
                nubis_wire::response(Protocol::RestJson1, 200, body)
            }
            Err(e) => nubis_wire::error(
                Protocol::RestJson1,
                e.status,
                e.code,
                &e.message,
                &ctx.request_id,
            ),
        }
    }

    fn route(&self, req: &Request) -> Result<J, ApiError> {
        let path = req.uri().path().trim_end_matches('/');
        let op = match path {
            "/Execute"
            | "/BatchExecute"
            | "/BeginTransaction"
            | "/CommitTransaction"
            | "/RollbackTransaction" => path,
            _ => {
                return Err(ApiError {
                    status: 404,
                    code: "UnknownOperationException",
                    message: format!("unknown operation {} {path}", req.method()),
                });
            }
        };
        if req.method() != "POST" {
            return Err(ApiError {
                status: 405,
                code: "UnknownOperationException",
                message: format!("{} is not allowed on {path}", req.method()),
            });
        }
        let body: J = if req.body().is_empty() {
            json!({})
        } else {
            serde_json::from_slice(req.body())
                .map_err(|e| bad(format!("invalid JSON body: {e}")))?
        };
        let field = |name: &str| body.get(name).and_then(J::as_str);
        let required = |name: &str| field(name).ok_or_else(|| bad(format!("{name} is required")));
        required("resourceArn")?;
        required("secretArn")?;
        let database = field("database").unwrap_or("postgres").to_string();
        match op {
            "/BeginTransaction" => {
                let mut session = self.aurora.database(&database).session();
                session.execute("BEGIN").map_err(|e| db_error(&e))?;
                let id =
                    base64::engine::general_purpose::STANDARD.encode(self.aurora.env().ids.hex(48));
                self.sweep();
                self.txns.lock().insert(
                    id.clone(),
                    OpenTxn {
                        session,
                        last_used: self.now(),
                    },
                );
                Ok(json!({ "transactionId": id }))
            }
            "/CommitTransaction" | "/RollbackTransaction" => {
                let id = required("transactionId")?;
                let mut t = self.take(id)?;
                if op == "/CommitTransaction" {
                    t.session.execute("COMMIT").map_err(|e| db_error(&e))?;
                    Ok(json!({ "transactionStatus": "Transaction Committed" }))
                } else {
                    t.session.execute("ROLLBACK").map_err(|e| db_error(&e))?;
                    Ok(json!({ "transactionStatus": "Rollback Complete" }))
                }
            }
            "/Execute" => {
                let sql = required("sql")?;
                if sql.len() > MAX_SQL_LEN {
                    return Err(bad(format!("sql must be at most {MAX_SQL_LEN} characters")));
                }
                let params = body
                    .get("parameters")
                    .and_then(J::as_array)
                    .cloned()
                    .unwrap_or_default();
                let (sql, values) = bind_parameters(sql, &params)?;
                let include_meta = body
                    .get("includeResultMetadata")
                    .and_then(J::as_bool)
                    .unwrap_or(false);
                let as_json = field("formatRecordsAs") == Some("JSON");
                let result = self
                    .with_session(field("transactionId"), &database, |s| run(s, &sql, &values))?;
                Ok(result_json(&result, include_meta, as_json))
            }
            _ => {
                let sql = required("sql")?;
                if sql.len() > MAX_SQL_LEN {
                    return Err(bad(format!("sql must be at most {MAX_SQL_LEN} characters")));
                }
                let sets = body
                    .get("parameterSets")
                    .and_then(J::as_array)
                    .cloned()
                    .unwrap_or_default();
                let sql = sql.to_string();
                let txn = field("transactionId").map(str::to_string);
                self.with_session(txn.as_deref(), &database, |s| {
                    let own = !s.in_transaction();
                    if own {
                        s.execute("BEGIN").map_err(|e| db_error(&e))?;
                    }
                    let mut results = Vec::new();
                    let run_all = |s: &mut Session, results: &mut Vec<J>| -> Result<(), ApiError> {
                        for set in &sets {
                            let params = set.as_array().cloned().unwrap_or_default();
                            let (q, values) = bind_parameters(&sql, &params)?;
                            let r = run(s, &q, &values)?;
                            results.push(json!({ "generatedFields": generated(&r) }));
                        }
                        if sets.is_empty() {
                            run(s, &sql, &[])?;
                        }
                        Ok(())
                    };
                    let r = run_all(s, &mut results);
                    if own {
                        let end = if r.is_ok() { "COMMIT" } else { "ROLLBACK" };
                        s.execute(end).map_err(|e| db_error(&e))?;
                    }
                    r?;
                    Ok(json!({ "updateResults": results }))
                })
            }
        }
    }

    /// Rolls back transactions idle past the timeout.
    fn sweep(&self) {
        let now = self.now();
        let mut txns = self.txns.lock();
        let expired: Vec<String> = txns
            .iter()
            .filter(|(_, t)| {
                now.duration_since(t.last_used).unwrap_or_default() > TRANSACTION_IDLE_TIMEOUT
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            if let Some(mut t) = txns.remove(&k) {
                let _ = t.session.execute("ROLLBACK");
            }
        }
    }

    fn take(&self, id: &str) -> Result<OpenTxn, ApiError> {
        self.sweep();
        self.txns.lock().remove(id).ok_or_else(|| ApiError {
            status: 404,
            code: "TransactionNotFoundException",
            message: format!("Transaction {id} is not found"),
        })
    }

    fn with_session<T>(
        &self,
        txn: Option<&str>,
        database: &str,
        f: impl FnOnce(&mut Session) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        match txn {
            None => f(&mut self.aurora.database(database).session()),
            Some(id) => {
                let mut t = self.take(id)?;
                let r = f(&mut t.session);
                t.last_used = self.now();
                self.txns.lock().insert(id.to_string(), t);
                r
            }
        }
    }
}

fn run(s: &mut Session, sql: &str, values: &[Value]) -> Result<QueryResult, ApiError> {
    if values.is_empty() {
        let mut r = s.execute(sql).map_err(|e| db_error(&e))?;
        return r.pop().ok_or_else(|| bad("empty SQL statement"));
    }
    s.execute_with(sql, values).map_err(|e| db_error(&e))
}

fn generated(r: &QueryResult) -> Vec<J> {
    r.rows
        .first()
        .map(|row| row.iter().map(field_of).collect())
        .unwrap_or_default()
}

/// Replaces `:name` placeholders (outside quotes and `::` casts) with `$n` and returns the
/// values in order.
fn bind_parameters(sql: &str, params: &[J]) -> Result<(String, Vec<Value>), ApiError> {
    let mut named: HashMap<String, Value> = HashMap::new();
    for p in params {
        let name = p
            .get("name")
            .and_then(J::as_str)
            .ok_or_else(|| bad("parameter name is required"))?;
        let v = value_of(
            p.get("value").unwrap_or(&J::Null),
            p.get("typeHint").and_then(J::as_str),
        )?;
        named.insert(name.to_string(), v);
    }
    if named.is_empty() {
        return Ok((sql.to_string(), Vec::new()));
    }
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut order: Vec<String> = Vec::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            out.push(c);
            i += 1;
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push_str("::");
            i += 2;
            continue;
        }
        if c == ':'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphabetic() || *n == '_')
        {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            if !named.contains_key(&name) {
                return Err(bad(format!("No value specified for parameter: {name}")));
            }
            let pos = match order.iter().position(|n| *n == name) {
                Some(p) => p,
                None => {
                    order.push(name);
                    order.len() - 1
                }
            };
            out.push_str(&format!("${}", pos + 1));
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    let values = order
        .iter()
        .map(|n| named.get(n).cloned().unwrap_or(Value::Null))
        .collect();
    Ok((out, values))
}

fn value_of(field: &J, hint: Option<&str>) -> Result<Value, ApiError> {
    let v = if field.get("isNull").and_then(J::as_bool) == Some(true) {
        Value::Null
    } else if let Some(b) = field.get("booleanValue").and_then(J::as_bool) {
        Value::Bool(b)
    } else if let Some(n) = field.get("longValue").and_then(J::as_i64) {
        Value::Int8(n)
    } else if let Some(d) = field.get("doubleValue").and_then(J::as_f64) {
        Value::Float8(d)
    } else if let Some(s) = field.get("stringValue").and_then(J::as_str) {
        Value::text(s)
    } else if let Some(b) = field.get("blobValue").and_then(J::as_str) {
        Value::Bytea(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| bad("blobValue is not valid base64"))?
                .into(),
        )
    } else {
        return Err(bad("parameter value must set exactly one field"));
    };
    let target = match hint {
        Some("DATE") => Some(DataType::Date),
        Some("TIME") => Some(DataType::Time),
        Some("TIMESTAMP") => Some(DataType::Timestamp),
        Some("DECIMAL") => Some(DataType::Numeric(None)),
        Some("JSON") => Some(DataType::Jsonb),
        Some("UUID") => Some(DataType::Uuid),
        Some(other) => return Err(bad(format!("invalid typeHint {other}"))),
        None => None,
    };
    match target {
        Some(t) => {
            crate::cast::cast(&v, &t, crate::cast::CastMode::Explicit).map_err(|e| db_error(&e))
        }
        None => Ok(v),
    }
}

fn field_of(v: &Value) -> J {
    match v {
        Value::Null => json!({ "isNull": true }),
        Value::Bool(b) => json!({ "booleanValue": b }),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => json!({ "longValue": v.as_i64() }),
        Value::Float4(_) | Value::Float8(_) => json!({ "doubleValue": v.as_f64() }),
        Value::Bytea(b) => {
            json!({ "blobValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        Value::Array(items) => {
            let key = match items.iter().find(|i| !i.is_null()) {
                Some(Value::Bool(_)) => "booleanValues",
                Some(Value::Int2(_) | Value::Int4(_) | Value::Int8(_)) => "longValues",
                Some(Value::Float4(_) | Value::Float8(_)) => "doubleValues",
                _ => "stringValues",
            };
            let vals: Vec<J> = items
                .iter()
                .map(|i| match key {
                    "booleanValues" => json!(matches!(i, Value::Bool(true))),
                    "longValues" => json!(i.as_i64()),
                    "doubleValues" => json!(i.as_f64()),
                    _ => json!(i.to_string()),
                })
                .collect();
            json!({ "arrayValue": { key: vals } })
        }
        other => json!({ "stringValue": other.to_string() }),
    }
}

/// JDBC type code and PostgreSQL type name, as the Data API's column metadata reports them.
fn jdbc(t: &DataType) -> (i32, &'static str) {
    match t {
        DataType::Bool => (-7, "bool"),
        DataType::Int2 => (5, "int2"),
        DataType::Int4 => (4, "int4"),
        DataType::Int8 => (-5, "int8"),
        DataType::Numeric(_) => (2, "numeric"),
        DataType::Float4 => (7, "float4"),
        DataType::Float8 => (8, "float8"),
        DataType::Varchar(_) => (12, "varchar"),
        DataType::Char(_) => (1, "bpchar"),
        DataType::Bytea => (-2, "bytea"),
        DataType::Date => (91, "date"),
        DataType::Time => (92, "time"),
        DataType::Timestamp => (93, "timestamp"),
        DataType::TimestampTz => (93, "timestamptz"),
        DataType::Interval => (1111, "interval"),
        DataType::Uuid => (1111, "uuid"),
        DataType::Jsonb => (1111, "jsonb"),
        DataType::Json => (1111, "json"),
        DataType::Array(_) => (2003, "_text"),
        _ => (12, "text"),
    }
}

fn result_json(r: &QueryResult, include_meta: bool, as_json: bool) -> J {
    let is_query = !r.columns.is_empty();
    let mut out = serde_json::Map::new();
    out.insert(
        "numberOfRecordsUpdated".into(),
        json!(if is_query && r.tag.starts_with("SELECT") {
            0
        } else {
            r.rows_affected
        }),
    );
    if is_query {
        if as_json {
            let objs: Vec<J> = r
                .rows
                .iter()
                .map(|row| {
                    let m: serde_json::Map<String, J> = r
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.name.clone(), crate::agg::to_json(v)))
                        .collect();
                    J::Object(m)
                })
                .collect();
            out.insert("formattedRecords".into(), json!(J::Array(objs).to_string()));
        } else {
            out.insert(
                "records".into(),
                J::Array(
                    r.rows
                        .iter()
                        .map(|row| J::Array(row.iter().map(field_of).collect()))
                        .collect(),
                ),
            );
        }
        if include_meta {
            let meta: Vec<J> = r
                .columns
                .iter()
                .map(|c| {
                    let (code, name) = jdbc(&c.ty);
                    let (precision, scale) = match &c.ty {
                        DataType::Numeric(Some((p, s))) => (*p as i64, *s as i64),
                        DataType::Varchar(Some(n)) | DataType::Char(n) => (*n as i64, 0),
                        DataType::Int2 => (5, 0),
                        DataType::Int4 => (10, 0),
                        DataType::Int8 => (19, 0),
                        _ => (0, 0),
                    };
                    json!({
                        "name": c.name, "label": c.name, "type": code, "typeName": name,
                        "schemaName": "", "tableName": "", "isAutoIncrement": false,
                        "isSigned": matches!(c.ty.category(), crate::types::Category::Numeric),
                        "isCurrency": false, "isCaseSensitive": c.ty.is_string(), "nullable": 2,
                        "precision": precision, "scale": scale, "arrayBaseColumnType": 0,
                    })
                })
                .collect();
            out.insert("columnMetadata".into(), J::Array(meta));
        }
    } else {
        out.insert("generatedFields".into(), json!([]));
    }
    J::Object(out)
}

impl Service for DataApiService {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "rds-data",
            protocol: Protocol::RestJson1,
            signing_names: &["rds-data"],
            target_prefixes: &[],
            unsigned_paths: &[],
            unsigned_fallback: false,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move { self.handle(&ctx, &req) })
    }

    fn health(&self) -> J {
        json!({ "state": "running", "databases": self.aurora.database_names(), "openTransactions": self.txns.lock().len() })
    }

    fn reset(&self) {
        self.txns.lock().clear();
        self.aurora.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_positional() {
        let params = vec![
            json!({"name": "id", "value": {"longValue": 7}}),
            json!({"name": "n", "value": {"stringValue": "x"}}),
        ];
        let (sql, vals) =
            bind_parameters("SELECT ':id', :id::int, :n, :id", &params).unwrap_or_default();
        assert_eq!(sql, "SELECT ':id', $1::int, $2, $1");
        assert_eq!(vals, vec![Value::Int8(7), Value::text("x")]);
        assert!(bind_parameters("SELECT :missing", &params).is_err());
    }
}
