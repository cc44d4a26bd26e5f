//! The COPY sub-protocol of one connection: `COPY table [(columns)] FROM STDIN` and
//! `COPY {table [(columns)] | (query)} TO STDOUT`, in text or CSV ([`super::copy`]).
//!
//! COPY FROM answers CopyInResponse, collects the client's CopyData until CopyDone, then inserts
//! every row through the session in one transaction (the client's open block, or an implicit
//! one), so a bad row leaves nothing behind, as in PostgreSQL; CopyFail aborts with 57014.
//! COPY TO runs the query and streams one CopyData per row. COPY from or to a server file or
//! program is refused (42501), as Aurora refuses it to every role.
//!
//! Guarantees: the data a client sends is parsed by [`super::copy::CopyFormat`] (a typed 22P04
//! error, never a panic); a row with too many or too few fields fails with 22P04 naming the
//! line; the buffered data is capped at [`MAX_COPY_BYTES`] (54000 beyond).

use std::fmt::Debug;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use futures::{Sink, SinkExt, stream};
use pgwire::api::copy::CopyHandler;
use pgwire::api::results::{CopyResponse, Response};
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail, CopyInResponse, CopyOutResponse};
use pgwire::messages::response::CommandComplete;
use sqlparser::ast::{CopySource, CopyTarget, Statement};

use super::codec::{self, WireFormat};
use super::copy::{CopyFormat, Field};
use super::handler::{Connection, on_session, to_pg};
use crate::cluster::{ClusterError, ClusterSession};
use crate::error::AuroraError;

/// Largest COPY FROM payload buffered for one statement.
pub const MAX_COPY_BYTES: usize = 256 << 20;

/// Rows per INSERT statement when loading.
const ROWS_PER_INSERT: usize = 500;

/// A COPY FROM STDIN waiting for its data.
#[derive(Debug)]
pub(crate) struct CopyIn {
    table: String,
    columns: Vec<String>,
    format: CopyFormat,
    data: Vec<u8>,
}

/// A COPY statement, begun.
pub(crate) enum Copying {
    /// COPY FROM STDIN into this many columns: the data comes next.
    In(usize),
    /// COPY TO STDOUT: the rendered lines.
    Out {
        rows: usize,
        width: usize,
        lines: Vec<String>,
    },
}

/// What [`Connection::start_copy`] did.
pub(crate) enum Started {
    /// COPY FROM: the connection now waits for CopyData (no ReadyForQuery yet).
    In,
    /// COPY TO: everything was sent; ReadyForQuery follows.
    Out,
}

fn sql_error(e: AuroraError) -> ClusterError {
    ClusterError::Sql(e)
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn literal(f: &Field) -> String {
    match f {
        None => "NULL".into(),
        Some(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

/// The COPY statement `sql` is, if it is exactly one.
pub(crate) fn single_copy(sql: &str) -> Option<Statement> {
    // Cheap first: most statements are not COPY and are not parsed again here.
    let head = sql.trim_start().get(..4)?;
    if !head.eq_ignore_ascii_case("copy") {
        return None;
    }
    let mut stmts = crate::session::parse(sql).ok()?;
    if stmts.len() == 1 && matches!(stmts[0], Statement::Copy { .. }) {
        stmts.pop()
    } else {
        None
    }
}

/// The column names a table (or query) yields, through the session.
fn columns_of(s: &mut ClusterSession, select: &str) -> Result<Vec<String>, ClusterError> {
    let r = s.execute(&format!("SELECT * FROM ({select}) AS c LIMIT 0"))?;
    Ok(r.first()
        .map(|r| r.columns.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default())
}

/// Inserts COPY rows in one transaction; returns how many.
fn load(s: &mut ClusterSession, copy: &CopyIn) -> Result<usize, ClusterError> {
    let text = std::str::from_utf8(&copy.data).map_err(|_| {
        sql_error(AuroraError::sql(
            "22021",
            "invalid byte sequence for encoding \"UTF8\"",
        ))
    })?;
    let rows = copy.format.parse(text).map_err(sql_error)?;
    let n = copy.columns.len();
    for (i, row) in rows.iter().enumerate() {
        if row.len() > n {
            return Err(sql_error(AuroraError::sql(
                "22P04",
                format!("extra data after last expected column (line {})", i + 1),
            )));
        }
        if row.len() < n {
            return Err(sql_error(AuroraError::sql(
                "22P04",
                format!(
                    "missing data for column \"{}\" (line {})",
                    copy.columns[row.len()],
                    i + 1
                ),
            )));
        }
    }
    let implicit = !s.in_transaction();
    if implicit {
        s.execute("BEGIN")?;
    }
    let cols: Vec<String> = copy.columns.iter().map(|c| quote_ident(c)).collect();
    let head = format!("INSERT INTO {} ({}) VALUES ", copy.table, cols.join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = chunk
            .iter()
            .map(|r| format!("({})", r.iter().map(literal).collect::<Vec<_>>().join(", ")))
            .collect();
        if let Err(e) = s.execute(&format!("{head}{}", values.join(", "))) {
            if implicit {
                let _ = s.execute("ROLLBACK");
            }
            return Err(e);
        }
    }
    if implicit {
        s.execute("COMMIT")?;
    }
    Ok(rows.len())
}

/// Runs a COPY TO's query and renders every row.
fn unload(
    s: &mut ClusterSession,
    select: &str,
    format: &CopyFormat,
) -> Result<(usize, usize, Vec<String>), ClusterError> {
    let r = s
        .execute(select)?
        .pop()
        .ok_or_else(|| sql_error(AuroraError::sql("XX000", "COPY query returned nothing")))?;
    let mut lines = Vec::with_capacity(r.rows.len() + 1);
    if format.header {
        let names: Vec<String> = r.columns.iter().map(|c| c.name.clone()).collect();
        lines.push(format.write_header(&names) + "\n");
    }
    for row in &r.rows {
        let mut fields = Vec::with_capacity(row.len());
        for (v, c) in row.iter().zip(r.columns.iter()) {
            let mut buf = BytesMut::new();
            codec::encode(&mut buf, v, &c.ty, WireFormat::Text).map_err(sql_error)?;
            fields.push(
                (buf.len() >= 4 && buf[..4] != [0xff; 4])
                    .then(|| String::from_utf8_lossy(&buf[4..]).into_owned()),
            );
        }
        lines.push(format.write_row(&fields) + "\n");
    }
    Ok((r.rows.len(), r.columns.len(), lines))
}

impl Connection {
    /// Starts a COPY statement from the simple query protocol (see the module docs).
    pub(crate) async fn start_copy<C>(
        &self,
        client: &mut C,
        stmt: Statement,
    ) -> PgWireResult<Started>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self.begin_copy(stmt).await? {
            Copying::In(n) => {
                client.set_state(PgWireConnectionState::CopyInProgress(false));
                client
                    .send(PgWireBackendMessage::CopyInResponse(CopyInResponse::new(
                        0,
                        n as i16,
                        vec![0; n],
                    )))
                    .await?;
                Ok(Started::In)
            }
            Copying::Out { rows, width, lines } => {
                client
                    .feed(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
                        0,
                        width as i16,
                        vec![0; width],
                    )))
                    .await?;
                for line in lines {
                    client
                        .feed(PgWireBackendMessage::CopyData(CopyData::new(line.into())))
                        .await?;
                }
                client
                    .feed(PgWireBackendMessage::CopyDone(CopyDone::new()))
                    .await?;
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        format!("COPY {rows}"),
                    )))
                    .await?;
                Ok(Started::Out)
            }
        }
    }

    /// A COPY statement from the extended protocol, as the response pgwire sends.
    pub(crate) async fn copy_response(&self, stmt: Statement) -> PgWireResult<Response> {
        Ok(match self.begin_copy(stmt).await? {
            Copying::In(n) => Response::CopyIn(CopyResponse::new(0, n, stream::empty())),
            Copying::Out {
                width, mut lines, ..
            } => {
                // pgwire counts data messages for the tag: a header travels with the first row.
                if lines.len() > 1 && self.copy_header.swap(false, Ordering::Relaxed) {
                    let first = lines.remove(0);
                    lines[0] = first + &lines[0];
                }
                let data: Vec<PgWireResult<CopyData>> = lines
                    .into_iter()
                    .map(|l| Ok(CopyData::new(l.into())))
                    .collect();
                Response::CopyOut(CopyResponse::new(0, width, stream::iter(data)))
            }
        })
    }

    /// Checks a COPY and does its work: COPY TO runs its query, COPY FROM records what the data
    /// will load into.
    async fn begin_copy(&self, stmt: Statement) -> PgWireResult<Copying> {
        let Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            ..
        } = stmt
        else {
            return Err(to_pg(sql_error(AuroraError::sql("XX000", "not a COPY"))));
        };
        let format =
            CopyFormat::from_options(&options, &legacy_options).map_err(|e| to_pg(sql_error(e)))?;
        match (&target, to) {
            (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
            _ => {
                let dir = if to { "to" } else { "from" };
                return Err(to_pg(sql_error(AuroraError::sql(
                    "42501",
                    format!(
                        "must be superuser or have privileges of the pg_{}_server_files role to COPY {dir} a file",
                        if to { "write" } else { "read" }
                    ),
                ))));
            }
        }
        let (table, columns, select) = match &source {
            CopySource::Table {
                table_name,
                columns,
            } => {
                let cols: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
                let list = if cols.is_empty() {
                    "*".to_string()
                } else {
                    cols.iter()
                        .map(|c| quote_ident(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (
                    table_name.to_string(),
                    cols,
                    format!("SELECT {list} FROM {table_name}"),
                )
            }
            CopySource::Query(q) if to => (String::new(), Vec::new(), q.to_string()),
            CopySource::Query(_) => {
                return Err(to_pg(sql_error(AuroraError::sql(
                    "42601",
                    "COPY FROM cannot read into a query",
                ))));
            }
        };
        if to {
            self.copy_header.store(format.header, Ordering::Relaxed);
            let (rows, width, lines) = self
                .run(move |s| unload(s, &select, &format))
                .await
                .map_err(to_pg)?;
            return Ok(Copying::Out { rows, width, lines });
        }
        let columns = if columns.is_empty() {
            on_session(&self.session, move |s| columns_of(s, &select))
                .await
                .map_err(to_pg)?
        } else {
            // Checks the table and the columns exist before any data is sent.
            on_session(&self.session, move |s| {
                columns_of(s, &select).map(|_| columns)
            })
            .await
            .map_err(to_pg)?
        };
        let n = columns.len();
        *self.copy_in.lock() = Some(CopyIn {
            table,
            columns,
            format,
            data: Vec::new(),
        });
        Ok(Copying::In(n))
    }
}

#[async_trait::async_trait]
impl CopyHandler for Connection {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut slot = self.copy_in.lock();
        let Some(copy) = slot.as_mut() else {
            return Ok(());
        };
        if copy.data.len() + copy_data.data.len() > MAX_COPY_BYTES {
            // Keep the state so later CopyData are swallowed; CopyDone reports the error.
            copy.data.clear();
            copy.data.extend_from_slice(b"\x00too-large");
            return Ok(());
        }
        copy.data.extend_from_slice(&copy_data.data);
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy) = self.copy_in.lock().take() else {
            return Ok(());
        };
        if copy.data.starts_with(b"\x00too-large") {
            client.set_transaction_status(self.status());
            return Err(to_pg(sql_error(AuroraError::sql(
                "54000",
                format!("COPY data exceeds {MAX_COPY_BYTES} bytes"),
            ))));
        }
        let r = self.run(move |s| load(s, &copy)).await;
        client.set_transaction_status(self.status());
        let n = r.map_err(to_pg)?;
        client
            .send(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                format!("COPY {n}"),
            )))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.copy_in.lock().take();
        if self.status.load(Ordering::Relaxed) != super::handler::IDLE {
            self.status.store(super::handler::FAILED, Ordering::Relaxed);
        }
        client.set_transaction_status(self.status());
        to_pg(sql_error(AuroraError::sql(
            "57014",
            format!("COPY from stdin failed: {}", fail.message),
        )))
    }
}
