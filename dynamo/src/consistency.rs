//! Consistency as a model: eventually consistent reads and GSI propagation that lag behind
//! writes by a chosen duration on the engine clock.
//!
//! DynamoDB answers an eventually consistent read from a replica that may not have applied the
//! latest writes yet, and updates global secondary indexes asynchronously. By default this engine
//! hides neither (every read is current), which is what most tests want. Setting a [`Lag`]
//! (engine-wide with [`crate::Dynamo::set_consistency_lag`] or [`crate::Config::consistency`], or
//! per table with [`crate::RegionDb::set_table_consistency_lag`]) makes those reads stale in a
//! deterministic way, so an application can test that it tolerates stale reads:
//!
//! - an eventually consistent read of the table or of a local secondary index at instant `now`
//!   sees the table as it was at `now − eventual`;
//! - a read of a global secondary index sees the index as it was at `now − max(eventual, gsi)`;
//! - strongly consistent reads (`ConsistentRead: true`, TransactGetItems, the reads inside
//!   conditional writes and transactions) always see the current state.
//!
//! The table's maps are persistent and share structure, so a version is an O(1) clone. While a
//! lag is in force, every write records the table's version at the write's instant (one per
//! millisecond: later writes in the same millisecond replace it), and versions no read can reach
//! any more (older than the newest version at or before `now − lag`) are dropped. History starts
//! when the lag is set: a read reaching back further sees the table as it was then. At most
//! [`MAX_VERSIONS`] versions are kept; beyond that the oldest go, so a read may then be *less*
//! stale than asked — never more, and never inconsistent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use imbl::OrdMap;

use crate::key::{IKey, PKey};
use crate::table::{IndexState, Stored, TableState};
use crate::value::Item;

/// The most versions one table keeps.
pub const MAX_VERSIONS: usize = 10_000;

/// How far behind the current state lagged reads are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// Eventually consistent reads of a table and its local secondary indexes (GetItem,
    /// BatchGetItem, Query and Scan without `ConsistentRead`, PartiQL reads without it).
    pub eventual: Duration,
    /// Global secondary index propagation.
    pub gsi: Duration,
}

impl Lag {
    /// No lag: every read is current (the default).
    pub const NONE: Lag = Lag {
        eventual: Duration::ZERO,
        gsi: Duration::ZERO,
    };

    /// Whether there is no lag.
    pub fn is_none(&self) -> bool {
        self.eventual.is_zero() && self.gsi.is_zero()
    }

    fn eventual_ms(&self) -> u64 {
        u64::try_from(self.eventual.as_millis()).unwrap_or(u64::MAX)
    }

    fn gsi_ms(&self) -> u64 {
        u64::try_from(self.gsi.as_millis())
            .unwrap_or(u64::MAX)
            .max(self.eventual_ms())
    }
}

/// The engine-wide lag, shared by every region and changeable at run time; `generation` tells
/// tables whose setting they hold is stale.
#[derive(Debug, Default)]
pub struct EngineLag {
    eventual_ms: AtomicU64,
    gsi_ms: AtomicU64,
    generation: AtomicU64,
}

impl EngineLag {
    /// Starting with `lag`.
    pub fn new(lag: Lag) -> EngineLag {
        let e = EngineLag::default();
        if !lag.is_none() {
            e.set(lag);
        }
        e
    }

    /// Changes the engine-wide lag.
    pub fn set(&self, lag: Lag) {
        self.eventual_ms.store(lag.eventual_ms(), Ordering::Relaxed);
        self.gsi_ms.store(
            u64::try_from(lag.gsi.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The current setting and its generation (0: never set).
    pub fn get(&self) -> (Lag, u64) {
        let generation = self.generation.load(Ordering::Acquire);
        let lag = Lag {
            eventual: Duration::from_millis(self.eventual_ms.load(Ordering::Relaxed)),
            gsi: Duration::from_millis(self.gsi_ms.load(Ordering::Relaxed)),
        };
        (lag, generation)
    }
}

/// An index's entries.
type Entries = OrdMap<IKey, Arc<Item>>;

/// One recorded version of a table's data.
#[derive(Debug, Clone)]
struct Version {
    at_ms: u64,
    items: OrdMap<PKey, Stored>,
    indexes: Vec<(Arc<str>, Entries)>,
}

/// A table's lag setting and version history.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// The table's own lag, overriding the engine-wide one.
    pub table_lag: Option<Lag>,
    /// The lag in force.
    lag: Lag,
    /// The engine-wide generation `lag` was derived from.
    generation: u64,
    history: VecDeque<Version>,
}

impl Versions {
    /// The lag in force.
    pub fn lag(&self) -> Lag {
        self.lag
    }

    /// How many versions are kept.
    pub fn len(&self) -> usize {
        self.history.len()
    }

    /// Whether no version is kept (no lag in force).
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// The engine-wide generation this table last followed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn version(items: &OrdMap<PKey, Stored>, indexes: &[IndexState], at_ms: u64) -> Version {
        Version {
            at_ms,
            items: items.clone(),
            indexes: indexes
                .iter()
                .map(|ix| (Arc::from(ix.def.name.as_str()), ix.map.clone()))
                .collect(),
        }
    }

    fn record(&mut self, now_ms: u64, items: &OrdMap<PKey, Stored>, indexes: &[IndexState]) {
        let v = Versions::version(items, indexes, now_ms);
        match self.history.back_mut() {
            Some(last) if last.at_ms == now_ms => *last = v,
            _ => self.history.push_back(v),
        }
        let horizon = now_ms.saturating_sub(self.lag.gsi_ms());
        while self.history.len() > 1 && self.history.get(1).is_some_and(|s| s.at_ms <= horizon) {
            self.history.pop_front();
        }
        while self.history.len() > MAX_VERSIONS {
            self.history.pop_front();
        }
    }

    /// The newest version at or before `at_ms` (the oldest kept when none is that old).
    fn at(&self, at_ms: u64) -> Option<&Version> {
        self.history
            .iter()
            .rev()
            .find(|v| v.at_ms <= at_ms)
            .or_else(|| self.history.front())
    }
}

impl TableState {
    /// Puts `lag` in force (the table's own, or the engine's of `generation`). History restarts:
    /// the current state stands for every earlier instant.
    pub fn set_lag(&mut self, lag: Lag, generation: u64) {
        self.versions.lag = lag;
        self.versions.generation = generation;
        self.versions.history.clear();
        if !lag.is_none() {
            let v = Versions::version(&self.items, &self.indexes, 0);
            self.versions.history.push_back(v);
        }
    }

    /// Records the current data as the version at `now_ms`, when a lag is in force. Called by
    /// [`TableState::apply`] after every change.
    pub fn record_version(&mut self, now_ms: u64) {
        if self.versions.lag.is_none() {
            return;
        }
        let (items, indexes) = (&self.items, &self.indexes);
        self.versions.record(now_ms, items, indexes);
    }

    /// The items a read at `now_ms` sees: current when `consistent`, else as of the eventual lag.
    pub fn read_items(
        &self,
        now_ms: impl FnOnce() -> u64,
        consistent: bool,
    ) -> &OrdMap<PKey, Stored> {
        let lag = self.versions.lag.eventual_ms();
        if consistent || lag == 0 {
            return &self.items;
        }
        self.versions
            .at(now_ms().saturating_sub(lag))
            .map_or(&self.items, |v| &v.items)
    }

    /// The item at `key` a read at `now_ms` sees (a hash lookup when the read is current).
    pub fn read_item(
        &self,
        now_ms: impl FnOnce() -> u64,
        consistent: bool,
        key: &PKey,
    ) -> Option<&Stored> {
        let lag = self.versions.lag.eventual_ms();
        if consistent || lag == 0 {
            return self.current(key);
        }
        self.versions
            .at(now_ms().saturating_sub(lag))
            .map_or(&self.items, |v| &v.items)
            .get(key)
    }

    /// The entries of index `ix` a read at `now_ms` sees: a GSI as of `max(eventual, gsi)`
    /// ago, an LSI as of the eventual lag unless `consistent`.
    pub fn read_index<'a>(
        &'a self,
        ix: &'a IndexState,
        now_ms: impl FnOnce() -> u64,
        consistent: bool,
    ) -> &'a OrdMap<IKey, Arc<Item>> {
        let lag = if ix.def.global {
            self.versions.lag.gsi_ms()
        } else if consistent {
            0
        } else {
            self.versions.lag.eventual_ms()
        };
        if lag == 0 {
            return &ix.map;
        }
        self.versions
            .at(now_ms().saturating_sub(lag))
            .and_then(|v| {
                v.indexes
                    .iter()
                    .find(|(n, _)| **n == *ix.def.name)
                    .map(|(_, m)| m)
            })
            .unwrap_or(&ix.map)
    }
}
