//! The engine value: [`Aurora`] holds databases; a [`Database`] is a catalog, a storage and a
//! transaction manager behind one lock; [`QueryResult`] is what a statement returns.
//!
//! Concurrency model: a statement runs with its database's lock held, so statements are atomic
//! with respect to each other; transactions interleave between statements under MVCC. A
//! statement that must wait for a row lock gives the database lock up while it waits
//! ([`crate::locks`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use nubis_core::Env;
use parking_lot::Mutex;

use crate::catalog::{Catalog, Sequence};
use crate::storage::{MemoryStorage, Storage};
use crate::txn::TxnManager;
use crate::types::DataType;
use crate::value::Value;

/// One database's state.
#[derive(Debug)]
pub struct DbState {
    /// The catalog.
    pub catalog: Catalog,
    /// Sequence counters.
    pub sequences: RefCell<BTreeMap<u32, Sequence>>,
    /// Where rows live.
    pub storage: Box<dyn Storage>,
    /// Transactions.
    pub txns: TxnManager,
}

/// A database: the unit sessions connect to.
#[derive(Debug)]
pub struct Database {
    name: String,
    pub(crate) state: Mutex<DbState>,
    pub(crate) env: Env,
    /// Row locks, lock waits and the waits-for graph.
    pub(crate) locks: crate::locks::RowLocks,
}

impl Database {
    /// A database over the given storage.
    pub fn with_storage(name: &str, env: Env, storage: Box<dyn Storage>) -> Arc<Database> {
        Arc::new(Database {
            name: name.to_string(),
            state: Mutex::new(DbState {
                catalog: Catalog::default(),
                sequences: RefCell::new(BTreeMap::new()),
                storage,
                txns: TxnManager::new(),
            }),
            env,
            locks: crate::locks::RowLocks::default(),
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a session (a connection).
    pub fn session(self: &Arc<Self>) -> crate::session::Session {
        crate::session::Session::new(self.clone())
    }

    /// How many transactions are waiting for a row lock right now (tests and monitoring use
    /// it to see a wait begin).
    pub fn lock_waits(&self) -> usize {
        self.locks.waiting()
    }

    /// The LSN of the last redo record.
    pub fn last_lsn(&self) -> u64 {
        self.state.lock().storage.last_lsn()
    }

    /// Microseconds since the Unix epoch on the engine's clock.
    pub(crate) fn now_micros(&self) -> i64 {
        self.env
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0)
    }
}

/// The Aurora engine: named databases (the default one is `postgres`).
#[derive(Debug)]
pub struct Aurora {
    env: Env,
    databases: Mutex<HashMap<String, Arc<Database>>>,
}

impl Aurora {
    /// An engine with no databases yet (they are created on first use).
    pub fn new(env: Env) -> Aurora {
        Aurora {
            env: env.for_engine("aurora"),
            databases: Mutex::new(HashMap::new()),
        }
    }

    /// The database with this name, created empty on first use.
    pub fn database(&self, name: &str) -> Arc<Database> {
        self.databases
            .lock()
            .entry(name.to_string())
            .or_insert_with(|| {
                Database::with_storage(
                    name,
                    self.env.clone(),
                    Box::new(MemoryStorage::without_log_retention()),
                )
            })
            .clone()
    }

    /// A session on the default database `postgres`.
    pub fn session(&self) -> crate::session::Session {
        self.database("postgres").session()
    }

    /// Names of the databases that exist.
    pub fn database_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.databases.lock().keys().cloned().collect();
        v.sort();
        v
    }

    /// The environment (clock, ids) the engine runs in.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Drops every database.
    pub fn reset(&self) {
        self.databases.lock().clear();
    }
}

/// A result column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: DataType,
}

/// What one statement returns.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// PostgreSQL's command tag (`SELECT 3`, `INSERT 0 1`, `CREATE TABLE`).
    pub tag: String,
    /// Columns (empty for commands without RETURNING).
    pub columns: Arc<[ColumnInfo]>,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
    /// Rows affected (or returned).
    pub rows_affected: u64,
}

impl QueryResult {
    /// A command result without rows.
    pub fn command(tag: String, count: u64) -> QueryResult {
        QueryResult {
            tag,
            columns: Arc::from(Vec::new()),
            rows: Vec::new(),
            rows_affected: count,
        }
    }

    /// A result with rows and already shared column descriptions.
    pub fn with_columns(
        tag: String,
        columns: Arc<[ColumnInfo]>,
        rows: Vec<Vec<Value>>,
        count: u64,
    ) -> QueryResult {
        QueryResult {
            tag,
            columns,
            rows,
            rows_affected: count,
        }
    }

    /// A result with rows.
    pub fn rows(
        tag: String,
        cols: Vec<(String, DataType)>,
        rows: Vec<Vec<Value>>,
        count: u64,
    ) -> QueryResult {
        QueryResult {
            tag,
            columns: cols
                .into_iter()
                .map(|(name, ty)| ColumnInfo { name, ty })
                .collect(),
            rows,
            rows_affected: count,
        }
    }
}
