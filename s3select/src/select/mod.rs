//! S3 Select: the SQL dialect, its evaluator, the CSV/JSON/Parquet readers and the streaming
//! executor.
//!
//! Pipeline: [`parser::parse_query`] → [`plan::Plan`] (bound to input slots) →
//! [`exec::SelectStream`] (windows of input through a format scanner into the plan's sink) →
//! [`exec::SelectEvent`]s. [`select`] is the one entry point.

pub mod agg;
pub mod ast;
pub mod csv;
pub mod decimal;
pub mod eval;
pub mod exec;
pub mod fast;
pub mod functions;
pub mod json;
pub mod lexer;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod parser;
pub mod plan;
pub mod request;
pub mod swar;
pub mod value;
mod wide;

use std::time::SystemTime;

use bytes::Bytes;

pub use exec::{SelectEvent, SelectOptions, SelectStream, Stats, run_to_end};
pub use request::{
    Compression, CsvInput, CsvOutput, FileHeaderInfo, InputFormat, JsonType, OutputFormat,
    QuoteFields, ScanRange, SelectRequest,
};

use crate::error::Result;

/// Starts `req` over `data` at `now` (what `UTCNOW()` reads). Errors that S3 reports before
/// streaming (request checks, SQL parse errors) are returned here; later ones arrive as a
/// [`SelectEvent::Error`].
pub fn select(
    data: Bytes,
    req: &SelectRequest,
    now: SystemTime,
    opts: SelectOptions,
) -> Result<SelectStream> {
    req.validate()?;
    let plan = plan::Plan::new(&req.expression, &req.output, eval::S3SelectDialect { now })?;
    SelectStream::start(data, req, plan, opts)
}
