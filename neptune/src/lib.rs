//! # nubis-neptune
//!
//! A property-graph database in the spirit of Amazon Neptune: a compact in-memory store
//! ([`store`]), Gremlin as Neptune receives it ([`gremlin`]: parser, planner, lazy executor,
//! GraphSON 3), atomic snapshot-isolated requests ([`Database`]), Neptune's Gremlin CSV bulk
//! loader ([`loader`]) and, behind the `http` feature, Neptune's data-plane endpoints
//! (`/gremlin` over HTTP and WebSocket, `/status`, `/loader`).
//!
//! Key design decision: the graph is a value made of copy-on-write chunks and `Arc`-shared
//! adjacency arrays, so a request snapshots it in O(chunks), writes to a private copy, and
//! publishes the copy atomically; readers never wait and a failed request leaves nothing behind.
//!
//! ```
//! use nubis_core::{Env, Region};
//! use nubis_neptune::Neptune;
//!
//! let neptune = Neptune::new(Env::default());
//! let db = neptune.region(&Region::US_EAST_1);
//! db.execute("g.addV('person').property(id, 'p1').property('name', 'ada')", &Default::default(), "r1", None).unwrap();
//! let r = db.execute("g.V('p1').values('name')", &Default::default(), "r2", None).unwrap();
//! assert_eq!(r.values, vec![nubis_neptune::Value::str("ada")]);
//! ```

mod csv;
pub mod db;
pub mod error;
pub mod generate;
pub mod gremlin;
pub mod loader;
pub mod store;
pub mod value;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod ws;

use std::collections::HashMap;
use std::sync::Arc;

use nubis_core::{Env, Region};
use parking_lot::Mutex;

pub use db::{Database, DbOptions, QueryResult};
pub use error::{Error, Result};
pub use loader::{LoadRequest, Loader, MemorySource, ObjectSource};
pub use store::Graph;
pub use value::Value;

/// The Neptune engine: one database (cluster) per region, created on first use.
#[derive(Debug)]
pub struct Neptune {
    env: Env,
    opts: DbOptions,
    regions: Mutex<HashMap<Region, Arc<Database>>>,
    loaders: Mutex<HashMap<Region, Arc<Loader>>>,
    source: Mutex<Option<Arc<dyn ObjectSource>>>,
}

impl Neptune {
    /// An engine with Neptune's defaults.
    pub fn new(env: Env) -> Self {
        Self::with_options(env, DbOptions::default())
    }

    /// An engine with explicit database options.
    pub fn with_options(env: Env, opts: DbOptions) -> Self {
        Neptune {
            env: env.for_engine("neptune"),
            opts,
            regions: Mutex::new(HashMap::new()),
            loaders: Mutex::new(HashMap::new()),
            source: Mutex::new(None),
        }
    }

    /// The environment.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The database of `region`.
    pub fn region(&self, region: &Region) -> Arc<Database> {
        let mut r = self.regions.lock();
        Arc::clone(r.entry(region.clone()).or_insert_with(|| {
            Arc::new(Database::new(
                Arc::clone(&self.env.clock),
                self.env.ids.fork(region.as_str()),
                self.opts.clone(),
            ))
        }))
    }

    /// Sets where the bulk loader reads `s3://` sources from (the facade wires its S3 engine).
    pub fn set_object_source(&self, source: Arc<dyn ObjectSource>) {
        *self.source.lock() = Some(source);
    }

    /// The bulk loader of `region`.
    pub fn loader(&self, region: &Region) -> Arc<Loader> {
        let db = self.region(region);
        let source = self.source.lock().clone();
        let mut l = self.loaders.lock();
        let entry = l
            .entry(region.clone())
            .or_insert_with(|| Arc::new(Loader::new(db, self.env.clone())));
        if let Some(s) = source {
            entry.set_source(s);
        }
        Arc::clone(entry)
    }

    /// Regions with a database.
    pub fn region_count(&self) -> usize {
        self.regions.lock().len()
    }

    /// Drops every graph and load job.
    pub fn reset(&self) {
        self.regions.lock().clear();
        self.loaders.lock().clear();
    }
}
