//! # nubis-aurora
//!
//! A PostgreSQL-flavoured SQL engine: the core of Nubis's Aurora. SQL is parsed by `sqlparser`
//! (PostgreSQL dialect), bound into a plan ([`plan::Plan`]) that uses B-tree indexes for
//! equality and range predicates and index nested-loop joins, and executed over MVCC row
//! versions (READ COMMITTED, REPEATABLE READ, SERIALIZABLE with SSI conflict detection).
//!
//! Key design decision: storage sits behind the [`storage::Storage`] trait and changes only
//! through redo [`storage::LogRecord`]s, so part 2 can ship the log to a replicated volume
//! ("the log is the database") without touching the executor.
//!
//! ```
//! use nubis_aurora::{Aurora, Value};
//!
//! let aurora = Aurora::new(nubis_core::Env::default());
//! let mut s = aurora.session();
//! s.execute("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)").unwrap();
//! s.execute("INSERT INTO t (name) VALUES ('a'), ('b')").unwrap();
//! let r = s.execute("SELECT count(*) FROM t WHERE name > 'a'").unwrap();
//! assert_eq!(r[0].rows, vec![vec![Value::Int8(1)]]);
//! let err = s.execute("INSERT INTO t (id, name) VALUES (1, 'dup')").unwrap_err();
//! assert_eq!(err.sqlstate(), "23505");
//! ```

pub mod agg;
pub mod bind;
pub mod bind_expr;
pub mod cast;
pub mod catalog;
pub mod cluster;
pub mod datetime;
pub mod ddl;
pub mod dml;
pub mod engine;
pub mod error;
pub mod exec;
pub mod expr;
pub mod fastpath;
pub mod for_update;
pub mod functions;
pub mod json;
pub mod keys;
pub mod lock_wait_hook;
pub mod locks;
pub mod ops;
pub mod pg_catalog;
pub mod plan;
pub mod planner;
pub mod session;
pub mod slt;
pub mod storage;
pub mod sysinfo;
pub mod txn;
pub mod types;
pub mod value;
pub mod volume;
pub mod window;
pub mod write;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "pgwire")]
pub mod pgwire;
#[cfg(feature = "http")]
pub mod rds;

pub use engine::{Aurora, ColumnInfo, Database, QueryResult};
pub use error::{AuroraError, Result};
pub use session::{Prepared, Session};
pub use txn::Isolation;
pub use types::DataType;
pub use value::Value;
