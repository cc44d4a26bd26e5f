//! One PostgreSQL connection: startup and authentication, the simple query protocol, and the
//! extended protocol (Parse/Bind/Describe/Execute/Sync) over a [`ClusterSession`].
//!
//! pgwire decodes and encodes frames; this module decides what each message means. Statements
//! run on a blocking thread (a commit waits for the volume's write quorum), never on the async
//! reactor. Guarantees: every engine error reaches the client as an ErrorResponse with its
//! SQLSTATE; the ReadyForQuery status byte is the session's real state (`I`, `T`, or `E` after
//! an error inside a transaction block); a connection whose instance went away gets FATAL 57P01
//! and is closed, as PostgreSQL does.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use async_trait::async_trait;
use bytes::BytesMut;
use futures::{Sink, SinkExt, stream};
use nubis_core::Env;
use parking_lot::Mutex;
use pgwire::api::auth::driver::AuthOutcome;
use pgwire::api::auth::md5pass::{Md5PasswordAuth, hash_md5_password};
use pgwire::api::auth::mechanism::{AuthMechanism, AuthMechanismFactory, AuthState};
use pgwire::api::auth::{
    AuthDriver, AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
    protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, DEFAULT_NAME, METADATA_DATABASE, METADATA_USER,
    PgWireConnectionState, PgWireServerHandlers, PidSecretKeyGenerator, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult, SEVERITY_ERROR, SEVERITY_FATAL};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::data::{DataRow, FieldDescription, RowDescription};
use pgwire::messages::extendedquery::{Execute, Sync as PgSync};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::{Authentication, PasswordMessageFamily, SecretKey};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage, ProtocolVersion};
use sqlparser::ast::Statement;

use super::codec::{self, WireFormat};
use super::describe::{Description, describe};
use super::scram::{MECHANISM, ScramServer};
use super::{Cancels, Login, PgAuth, Target};
use crate::cluster::{ClusterError, ClusterSession};
use crate::engine::QueryResult;
use crate::error::AuroraError;
use crate::types::DataType;
use crate::value::Value;

pub(super) const IDLE: u8 = 0;
const IN_BLOCK: u8 = 1;
pub(super) const FAILED: u8 = 2;

/// A statement prepared through Parse: its text and what Describe answers.
#[derive(Debug, Clone)]
pub struct PgStatement {
    sql: String,
    desc: Description,
}

/// The handlers of one connection (pgwire asks for them once per socket).
pub(crate) struct Connection {
    target: Arc<dyn Target>,
    env: Env,
    /// Set by a CancelRequest naming this connection.
    interrupt: Arc<AtomicBool>,
    /// Where this connection is registered for CancelRequests, and under which key.
    cancels: Cancels,
    cancel_key: Mutex<Option<(i32, Vec<u8>)>>,
    pub(super) session: Arc<Mutex<Option<ClusterSession>>>,
    pub(super) status: Arc<AtomicU8>,
    parser: Arc<Parser>,
    /// A COPY FROM STDIN waiting for its data.
    pub(super) copy_in: Mutex<Option<super::copying::CopyIn>>,
    /// Whether the running COPY TO sends a header line.
    pub(super) copy_header: AtomicBool,
}

impl Connection {
    pub(crate) fn new(target: Arc<dyn Target>, env: Env, cancels: Cancels) -> Arc<Connection> {
        let session = Arc::new(Mutex::new(None));
        let status = Arc::new(AtomicU8::new(IDLE));
        Arc::new(Connection {
            target,
            env,
            interrupt: Arc::new(AtomicBool::new(false)),
            cancels,
            cancel_key: Mutex::new(None),
            parser: Arc::new(Parser {
                session: session.clone(),
            }),
            session,
            status,
            copy_in: Mutex::new(None),
            copy_header: AtomicBool::new(false),
        })
    }

    pub(super) fn status(&self) -> TransactionStatus {
        match self.status.load(Ordering::Relaxed) {
            IN_BLOCK => TransactionStatus::Transaction,
            FAILED => TransactionStatus::Error,
            _ => TransactionStatus::Idle,
        }
    }

    /// Runs `f` on the session on a blocking thread, then records the transaction state.
    pub(super) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ClusterSession) -> Result<R, ClusterError> + Send + 'static,
    ) -> Result<R, ClusterError> {
        let status = self.status.clone();
        on_session(&self.session, move |s| {
            let r = f(s);
            let state = match (s.in_transaction(), r.is_err()) {
                (false, _) => IDLE,
                (true, false) => IN_BLOCK,
                (true, true) => FAILED,
            };
            status.store(state, Ordering::Relaxed);
            r
        })
        .await
    }
}

pub(super) async fn on_session<R: Send + 'static>(
    slot: &Arc<Mutex<Option<ClusterSession>>>,
    f: impl FnOnce(&mut ClusterSession) -> Result<R, ClusterError> + Send + 'static,
) -> Result<R, ClusterError> {
    let slot = slot.clone();
    tokio::task::spawn_blocking(move || match slot.lock().as_mut() {
        Some(s) => f(s),
        None => Err(ClusterError::ConnectionTerminated {
            reason: "the connection has no session".into(),
        }),
    })
    .await
    .unwrap_or_else(|_| {
        Err(ClusterError::ConnectionTerminated {
            reason: "the statement's worker stopped".into(),
        })
    })
}

fn error_info(severity: &str, code: &str, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(severity.to_owned(), code.to_owned(), message.into())
}

fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(SEVERITY_FATAL, code, message)))
}

/// An engine or cluster error as PostgreSQL reports it (FATAL when the connection is over).
fn to_error_info(e: &ClusterError) -> ErrorInfo {
    let severity = match e {
        ClusterError::ConnectionTerminated { .. } => SEVERITY_FATAL,
        _ => SEVERITY_ERROR,
    };
    let mut info = error_info(severity, e.sqlstate(), e.to_string());
    if let ClusterError::Sql(AuroraError::UniqueViolation { detail, .. }) = e
        && !detail.is_empty()
    {
        info.detail = Some(detail.clone());
    }
    info
}

pub(super) fn to_pg(e: ClusterError) -> PgWireError {
    PgWireError::UserError(Box::new(to_error_info(&e)))
}

fn aurora_to_pg(e: AuroraError) -> PgWireError {
    to_pg(ClusterError::Sql(e))
}

fn pg_type(ty: &DataType) -> Type {
    Type::from_oid(codec::type_oid(ty)).unwrap_or(Type::TEXT)
}

fn field(name: &str, ty: &DataType, format: WireFormat) -> FieldInfo {
    let format = match format {
        WireFormat::Text => FieldFormat::Text,
        WireFormat::Binary => FieldFormat::Binary,
    };
    FieldInfo::new(name.to_owned(), None, None, pg_type(ty), format)
        .with_type_size(codec::type_size(ty))
        .with_type_modifier(codec::type_modifier(ty))
}

fn codes(format: &Format) -> Vec<i16> {
    match format {
        Format::UnifiedText => Vec::new(),
        Format::UnifiedBinary => vec![1],
        Format::Individual(v) => v.clone(),
    }
}

fn fields(columns: &[(String, DataType)], format: &[i16]) -> Result<Vec<FieldInfo>, AuroraError> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            Ok(field(
                name,
                ty,
                codec::format_at(format, i, columns.len(), "result")?,
            ))
        })
        .collect()
}

fn encode_row(
    row: &[Value],
    types: &[(String, DataType)],
    formats: &[WireFormat],
) -> Result<DataRow, AuroraError> {
    let mut buf = BytesMut::with_capacity(16 * row.len());
    for (i, v) in row.iter().enumerate() {
        let ty = types.get(i).map_or(&DataType::Text, |(_, t)| t);
        let format = formats.get(i).copied().unwrap_or(WireFormat::Text);
        codec::encode(&mut buf, v, ty, format)?;
    }
    Ok(DataRow::new(buf, row.len() as i16))
}

fn columns_of(r: &QueryResult) -> Vec<(String, DataType)> {
    r.columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect()
}

/// A tag such as `SELECT 5` or `INSERT 0 1` without its row count (pgwire appends the count
/// of rows it actually sent).
fn tag_prefix(tag: &str) -> &str {
    match tag.rsplit_once(' ') {
        Some((head, n)) if n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => tag,
    }
}

fn is_transaction_control(s: &Statement) -> bool {
    matches!(
        s,
        Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
}

/// A simple Query: each statement's result in order, stopping at the first error. Several
/// statements without transaction control run as one implicit transaction, as PostgreSQL does.
fn run_simple(s: &mut ClusterSession, sql: &str) -> Vec<Result<QueryResult, ClusterError>> {
    let stmts = match crate::session::parse(sql) {
        Ok(stmts) => stmts,
        Err(e) => return vec![Err(e.into())],
    };
    if stmts.len() <= 1 {
        return match s.execute(sql) {
            Ok(rs) => rs.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
    }
    let implicit = !s.in_transaction() && !stmts.iter().any(is_transaction_control);
    if implicit && let Err(e) = s.execute("BEGIN") {
        return vec![Err(e)];
    }
    let mut out = Vec::with_capacity(stmts.len());
    for stmt in &stmts {
        match s.execute(&stmt.to_string()) {
            Ok(rs) => out.extend(rs.into_iter().map(Ok)),
            Err(e) => {
                out.push(Err(e));
                if implicit {
                    let _ = s.execute("ROLLBACK");
                }
                return out;
            }
        }
    }
    if implicit && let Err(e) = s.execute("COMMIT") {
        out.push(Err(e));
    }
    out
}

async fn feed<C>(client: &mut C, m: PgWireBackendMessage) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client.feed(m).await?;
    Ok(())
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let sql = query.query;
        if let Some(stmt) = super::copying::single_copy(&sql) {
            match self.start_copy(client, stmt).await {
                // The data follows as CopyData; ReadyForQuery comes after CopyDone.
                Ok(super::copying::Started::In) => return Ok(()),
                Ok(super::copying::Started::Out) => {}
                Err(PgWireError::UserError(info)) => {
                    if self.status.load(Ordering::Relaxed) == IN_BLOCK {
                        self.status.store(FAILED, Ordering::Relaxed);
                    }
                    feed(client, PgWireBackendMessage::ErrorResponse((*info).into())).await?;
                }
                Err(e) => return Err(e),
            }
        } else if sql.chars().all(|c| c == ';' || c.is_whitespace()) {
            feed(
                client,
                PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new()),
            )
            .await?;
        } else {
            let status = self.status.clone();
            let results = on_session(&self.session, move |s| {
                let out = run_simple(s, &sql);
                let failed = out.last().is_some_and(Result::is_err);
                let state = match (s.in_transaction(), failed) {
                    (false, _) => IDLE,
                    (true, false) => IN_BLOCK,
                    (true, true) => FAILED,
                };
                status.store(state, Ordering::Relaxed);
                Ok(out)
            })
            .await
            .unwrap_or_else(|e| vec![Err(e)]);
            for r in results {
                let error = match r {
                    Ok(r) => match self.send_result(client, &r).await {
                        Ok(()) => continue,
                        Err(e) => error_info(SEVERITY_ERROR, e.sqlstate(), e.to_string()),
                    },
                    Err(e) => to_error_info(&e),
                };
                if error.is_fatal() {
                    client.flush().await?;
                    return Err(PgWireError::UserError(Box::new(error)));
                }
                feed(client, PgWireBackendMessage::ErrorResponse(error.into())).await?;
                break;
            }
        }
        let status = self.status();
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // `on_query` above answers Query messages itself (it needs each statement's result
        // and the session's transaction state); nothing else calls this.
        Ok(Vec::new())
    }
}

impl Connection {
    async fn send_result<C>(&self, client: &mut C, r: &QueryResult) -> Result<(), AuroraError>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let lost = |_| AuroraError::sql("08006", "connection failure while sending a result");
        if !r.columns.is_empty() {
            let cols = columns_of(r);
            let desc: Vec<FieldDescription> = fields(&cols, &[])?.iter().map(Into::into).collect();
            feed(
                client,
                PgWireBackendMessage::RowDescription(RowDescription::new(desc)),
            )
            .await
            .map_err(lost)?;
            let formats = vec![WireFormat::Text; cols.len()];
            for row in &r.rows {
                let row = encode_row(row, &cols, &formats)?;
                feed(client, PgWireBackendMessage::DataRow(row))
                    .await
                    .map_err(lost)?;
            }
        }
        feed(
            client,
            PgWireBackendMessage::CommandComplete(CommandComplete::new(r.tag.clone())),
        )
        .await
        .map_err(lost)
    }
}

/// Parses and describes statements for the extended protocol, against the session's catalog.
#[derive(Debug)]
pub(crate) struct Parser {
    session: Arc<Mutex<Option<ClusterSession>>>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = PgStatement;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<PgStatement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let declared: Vec<Option<DataType>> = types
            .iter()
            .map(|t| t.as_ref().and_then(|t| codec::type_for_oid(t.oid())))
            .collect();
        let sql = sql.to_string();
        on_session(&self.session, move |s| {
            let mut stmts = crate::session::parse(&sql)?;
            if stmts.len() > 1 {
                return Err(AuroraError::sql(
                    "42601",
                    "cannot insert multiple commands into a prepared statement",
                )
                .into());
            }
            let Some(stmt) = stmts.pop() else {
                return Ok(None);
            };
            let db = s.database().clone();
            let st = db.state.lock();
            let desc = describe(&st.catalog, &stmt, &declared)?;
            Ok(Some(PgStatement { sql, desc }))
        })
        .await
        .map_err(to_pg)
    }

    fn get_parameter_types(&self, stmt: &PgStatement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.desc.params.iter().map(pg_type).collect())
    }

    fn get_result_schema(
        &self,
        stmt: &PgStatement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let format = column_format.map(codes).unwrap_or_default();
        fields(&stmt.desc.columns, &format).map_err(aurora_to_pg)
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = PgStatement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let r = self._on_execute(client, message).await;
        client.set_transaction_status(self.status());
        r
    }

    async fn on_sync<C>(&self, client: &mut C, _message: PgSync) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        client.portal_store().rm_portal(DEFAULT_NAME);
        let status = self.status();
        client.set_transaction_status(status);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        client.flush().await?;
        Ok(())
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        target: &StoredStatement<PgStatement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let desc = &target.statement.desc;
        Ok(DescribeStatementResponse::new(
            desc.params.iter().map(pg_type).collect(),
            fields(&desc.columns, &[]).map_err(aurora_to_pg)?,
        ))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        portal: &Portal<PgStatement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let format = codes(&portal.result_column_format);
        Ok(DescribePortalResponse::new(
            fields(&portal.statement.statement.desc.columns, &format).map_err(aurora_to_pg)?,
        ))
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        portal: &Portal<PgStatement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = PgStatement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &portal.statement.statement;
        if let Some(copy) = super::copying::single_copy(&stmt.sql) {
            return self.copy_response(copy).await;
        }
        let params = &stmt.desc.params;
        if portal.parameters.len() != params.len() {
            let name = match portal.statement.id.as_str() {
                DEFAULT_NAME => "",
                other => other,
            };
            return Err(aurora_to_pg(AuroraError::sql(
                "08P01",
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{name}\" requires {}",
                    portal.parameters.len(),
                    params.len()
                ),
            )));
        }
        let param_codes = codes(&portal.parameter_format);
        let values = params
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let format = codec::format_at(&param_codes, i, params.len(), "parameter")?;
                codec::decode(portal.parameters[i].as_deref(), ty, format)
            })
            .collect::<Result<Vec<Value>, AuroraError>>()
            .map_err(aurora_to_pg)?;
        let sql = stmt.sql.clone();
        let r = self
            .run(move |s| s.execute_with(&sql, &values))
            .await
            .map_err(to_pg)?;
        if r.columns.is_empty() && stmt.desc.columns.is_empty() {
            return Ok(Response::Execution(Tag::new(&r.tag)));
        }
        // Encode as Describe promised; a result whose shape differs (the catalog changed
        // since Parse) is sent with its own column types.
        let cols = if stmt.desc.columns.len() == r.columns.len() {
            stmt.desc.columns.clone()
        } else {
            columns_of(&r)
        };
        let result_codes = codes(&portal.result_column_format);
        let formats = (0..cols.len())
            .map(|i| codec::format_at(&result_codes, i, cols.len(), "result"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(aurora_to_pg)?;
        let schema = Arc::new(fields(&cols, &result_codes).map_err(aurora_to_pg)?);
        let rows: Vec<PgWireResult<DataRow>> = r
            .rows
            .iter()
            .map(|row| encode_row(row, &cols, &formats).map_err(aurora_to_pg))
            .collect();
        let mut response = QueryResponse::new(schema, stream::iter(rows));
        response.set_command_tag(tag_prefix(&r.tag));
        Ok(Response::Query(response))
    }
}

/// The master password, as the MD5 exchange needs it (hashed with this connection's salt).
#[derive(Debug)]
struct Md5Source {
    user: String,
    password: String,
    salt: [u8; 4],
}

#[async_trait]
impl AuthSource for Md5Source {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // An unknown user gets a hash nobody can produce, so the answer is the same
        // "password authentication failed" PostgreSQL gives, without revealing which is wrong.
        let user = login.user().unwrap_or_default();
        let hash = if user == self.user {
            hash_md5_password(user, &self.password, &self.salt)
        } else {
            String::from("md5-no-such-role")
        };
        Ok(Password::new(Some(self.salt.to_vec()), hash.into_bytes()))
    }
}

/// One SCRAM-SHA-256 exchange as a pgwire authentication mechanism.
struct ScramMechanism {
    user: String,
    server: ScramServer,
    started: bool,
}

#[async_trait]
impl AuthMechanism for ScramMechanism {
    async fn begin(&mut self, _client: &(dyn ClientInfo + Send + Sync)) -> PgWireResult<AuthState> {
        Ok(AuthState::InProgress(Authentication::SASL(vec![
            MECHANISM.to_owned(),
        ])))
    }

    async fn next(
        &mut self,
        client: &(dyn ClientInfo + Send + Sync),
        message: PasswordMessageFamily,
    ) -> PgWireResult<AuthState> {
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let refused = |reason: String| {
            Ok(AuthState::Failed(PgWireError::UserError(Box::new(
                error_info(SEVERITY_FATAL, "28P01", reason),
            ))))
        };
        if !self.started {
            self.started = true;
            let initial = message.into_sasl_initial_response()?;
            if initial.auth_method != MECHANISM {
                return refused(format!(
                    "client selected an invalid SASL authentication mechanism \"{}\"",
                    initial.auth_method
                ));
            }
            let data = initial.data.unwrap_or_default();
            return match self.server.first(&data) {
                Ok(first) => Ok(AuthState::InProgress(Authentication::SASLContinue(
                    first.into_bytes().into(),
                ))),
                Err(e) => refused(e.to_string()),
            };
        }
        let response = message.into_sasl_response()?;
        match self.server.finish(&response.data) {
            // An unknown role fails like a wrong password, without saying which it was.
            Ok(fin) if user == self.user => Ok(AuthState::Ok {
                final_message: Some(Authentication::SASLFinal(fin.into_bytes().into())),
                identity: None,
            }),
            _ => refused(format!(
                "password authentication failed for user \"{user}\""
            )),
        }
    }
}

/// Backend process ids and cancel keys from the engine's seeded generator.
struct SeededKeys(Env);

impl PidSecretKeyGenerator for SeededKeys {
    fn generate(&self, client: &dyn ClientInfo) -> (i32, SecretKey) {
        let pid = (self.0.ids.next_u64() % 4_000_000) as i32 + 1000;
        let key = match client.protocol_version() {
            ProtocolVersion::PROTOCOL3_0 => SecretKey::I32(self.0.ids.next_u64() as i32),
            _ => {
                let bytes: Vec<u8> = (0..4)
                    .flat_map(|_| self.0.ids.next_u64().to_be_bytes())
                    .collect();
                SecretKey::Bytes(bytes.into())
            }
        };
        (pid, key)
    }
}

impl Connection {
    /// Salt and nonce bytes from the engine's seeded generator.
    fn random_bytes(&self, n: usize) -> Vec<u8> {
        (0..n.div_ceil(8))
            .flat_map(|_| self.env.ids.next_u64().to_be_bytes())
            .take(n)
            .collect()
    }

    fn driver(&self, login: &Login) -> AuthDriver<DefaultServerParameterProvider> {
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = login.server_version.clone();
        AuthDriver::new(params)
            .with_pid_secret_key_generator(Arc::new(SeededKeys(self.env.clone())))
    }

    /// Checks the database, opens the engine session, and completes the startup.
    async fn open<C>(
        &self,
        client: &mut C,
        login: &Login,
        final_message: Option<Authentication>,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let database = client
            .metadata()
            .get(METADATA_DATABASE)
            .cloned()
            .unwrap_or_else(|| user.clone());
        if !login.databases.contains(&database) {
            return Err(fatal(
                "3D000",
                format!("database \"{database}\" does not exist"),
            ));
        }
        let target = self.target.clone();
        let session = tokio::task::spawn_blocking(move || target.connect())
            .await
            .map_err(|_| fatal("57P03", "the database system is not accepting connections"))?
            .map_err(|e| {
                let mut info = to_error_info(&e);
                info.severity = SEVERITY_FATAL.to_owned();
                PgWireError::UserError(Box::new(info))
            })?;
        let mut session = session;
        session.set_interrupt(self.interrupt.clone());
        *self.session.lock() = Some(session);
        self.driver(login)
            .complete_authentication(client, final_message)
            .await?;
        // BackendKeyData went out: a CancelRequest with this pid and key now reaches us.
        let (pid, key) = client.pid_and_secret_key();
        let key = (pid, key.to_bytes().to_vec());
        self.cancels
            .lock()
            .insert(key.clone(), self.interrupt.clone());
        *self.cancel_key.lock() = Some(key);
        Ok(())
    }
}

#[async_trait]
impl StartupHandler for Connection {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let login = self.target.login();
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let Some(user) = client.metadata().get(METADATA_USER).cloned() else {
                    return Err(fatal(
                        "28000",
                        "no PostgreSQL user name specified in startup packet",
                    ));
                };
                match (&login.password, login.auth) {
                    (Some(password), PgAuth::ScramSha256) => {
                        let salt = self.random_bytes(16);
                        let nonce = self.random_bytes(18);
                        let mechanism = Box::new(ScramMechanism {
                            user: login.user.clone(),
                            server: ScramServer::new(password, &salt, &nonce),
                            started: false,
                        });
                        self.driver(&login)
                            .begin_authentication(client, mechanism)
                            .await?;
                        Ok(())
                    }
                    (Some(password), PgAuth::Md5) => {
                        let salt = (self.env.ids.next_u64() as u32).to_be_bytes();
                        let source = Md5Source {
                            user: login.user.clone(),
                            password: password.clone(),
                            salt,
                        };
                        let mechanism = Md5PasswordAuth::new(Arc::new(source)).create();
                        self.driver(&login)
                            .begin_authentication(client, mechanism)
                            .await?;
                        Ok(())
                    }
                    (_, PgAuth::Trust) | (None, _) if user != login.user => {
                        Err(fatal("28000", format!("role \"{user}\" does not exist")))
                    }
                    (_, PgAuth::Trust) | (None, _) => self.open(client, &login, None).await,
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(m) => {
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                match self.driver(&login).advance_authentication(client, m).await {
                    Ok(AuthOutcome::Authenticated { final_message, .. }) => {
                        self.open(client, &login, final_message).await
                    }
                    Ok(AuthOutcome::InProgress) => Ok(()),
                    Err(_) => Err(fatal(
                        "28P01",
                        format!("password authentication failed for user \"{user}\""),
                    )),
                }
            }
            _ => Ok(()),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(key) = self.cancel_key.lock().take() {
            self.cancels.lock().remove(&key);
        }
    }
}

/// Answers CancelRequests: sets the named connection's interrupt flag (an unknown pid or key is
/// ignored silently, as PostgreSQL does, so a cancel reveals nothing).
pub(crate) struct CancelRegistry(Cancels);

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        if let Some(flag) = self.0.lock().get(&key) {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// Hands pgwire the same per-connection handler for every role, and the listener's cancel
/// registry.
pub(crate) struct Handlers(pub(crate) Arc<Connection>, pub(crate) Cancels);

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.0.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.0.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.0.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.0.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(CancelRegistry(self.1.clone()))
    }
}
