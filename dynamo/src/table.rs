//! One table's state: definition, items, secondary indexes, stream hook and TTL queue.
//!
//! Items and every index live in persistent ordered maps (`imbl::OrdMap`) keyed by the stored
//! key, so cloning a table's data is O(1) and shares structure — what backups and point-in-time
//! snapshots are built on. Beside the ordered item map, a hash map of the current items
//! ([`PointIndex`]) answers point reads and the old-item lookup of writes without descending the
//! tree; it is shared copy-on-write, so cloning a state stays cheap, and only `apply` changes it,
//! so it always equals the ordered map. Every write goes through [`TableState::apply`], after
//! the caller has validated everything that can fail ([`TableState::prepare`]); `apply` itself
//! cannot fail, so a write changes the item, every index, the size counters, the TTL queue and
//! the stream together or not at all.

use std::collections::BTreeSet;
use std::sync::Arc;

use imbl::OrdMap;
use parking_lot::Mutex;

use crate::error::Error;
use crate::key::{IKey, KeyVal, PKey, Schema, Sk};
use crate::model::{
    AttributeDefinition, KeySchemaElement, OnDemandThroughput, Projection, SseDescription,
    StreamSpecification, Tag,
};
use crate::streams::{EventKind, StreamLog};
use crate::value::{AttributeValue, Item};

/// A hasher for stored keys: FxHash's multiply-rotate over the key's words. Keys already carry
/// a well-mixed partition hash, so a cryptographic hash would only cost time.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
}

/// The current items by key, for point reads and writes: a hash lookup instead of a descent of
/// the ordered map. Shared copy-on-write, so cloning a table state stays cheap.
pub type PointIndex =
    std::collections::HashMap<PKey, Stored, std::hash::BuildHasherDefault<KeyHasher>>;

/// A stored item and its size.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The item, shared with readers.
    pub item: Arc<Item>,
    /// Its size in bytes, as DynamoDB counts it.
    pub size: u32,
}

/// What an index copies from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjKind {
    /// Every attribute.
    All,
    /// The table and index keys.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
}

/// A secondary index's definition.
#[derive(Debug, Clone)]
pub struct IndexDef {
    /// The name.
    pub name: String,
    /// GSI (true) or LSI.
    pub global: bool,
    /// The index key.
    pub schema: Schema,
    /// The key schema as given.
    pub key_schema: Vec<KeySchemaElement>,
    /// The projection as given.
    pub projection: Projection,
    /// The projection, parsed.
    pub proj: ProjKind,
    /// Provisioned read units (GSIs).
    pub rcu: i64,
    /// Provisioned write units (GSIs).
    pub wcu: i64,
    /// The ARN (shared: every metered request names it).
    pub arn: Arc<str>,
    /// On-demand limits.
    pub on_demand: Option<OnDemandThroughput>,
}

/// An index's entries.
#[derive(Debug, Clone)]
pub struct IndexState {
    /// The definition.
    pub def: IndexDef,
    /// Entries: index key to the projected item.
    pub map: OrdMap<IKey, Arc<Item>>,
    /// Total projected bytes.
    pub bytes: u64,
}

/// A table's definition.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// The name.
    pub name: String,
    /// The ARN (shared: every metered request names it).
    pub arn: Arc<str>,
    /// The table id.
    pub id: String,
    /// The primary key.
    pub schema: Schema,
    /// Attribute definitions as given.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Key schema as given.
    pub key_schema: Vec<KeySchemaElement>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    /// Provisioned read units.
    pub rcu: i64,
    /// Provisioned write units.
    pub wcu: i64,
    /// Epoch seconds.
    pub created: f64,
    /// The stream setting.
    pub stream_spec: Option<StreamSpecification>,
    /// The TTL attribute, when TTL is on.
    pub ttl_attribute: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Table class.
    pub table_class: String,
    /// Encryption.
    pub sse: Option<SseDescription>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// On-demand limits.
    pub on_demand: Option<OnDemandThroughput>,
    /// When billing last switched to on-demand.
    pub pay_per_request_since: Option<f64>,
    /// Provisioned-throughput decreases today.
    pub decreases_today: i64,
    /// Last increase.
    pub last_increase: Option<f64>,
    /// Last decrease.
    pub last_decrease: Option<f64>,
}

/// A table: definition and data.
#[derive(Debug, Clone)]
pub struct TableState {
    /// The definition.
    pub def: TableDef,
    /// Items by key.
    pub items: OrdMap<PKey, Stored>,
    /// The same items, hashed (kept equal to `items` by [`TableState::apply`]).
    pub point: Arc<PointIndex>,
    /// Secondary indexes.
    pub indexes: Vec<IndexState>,
    /// Total item bytes.
    pub bytes: u64,
    /// The enabled stream.
    pub stream: Option<Arc<Mutex<StreamLog>>>,
    /// `(expiry epoch seconds, key)` of items with a TTL, when TTL is on.
    pub ttl: BTreeSet<(i64, PKey)>,
    /// Point-in-time recovery history, when PITR is on.
    pub pitr: Option<Pitr>,
    /// The consistency lag in force and the versions lagged reads see.
    pub versions: crate::consistency::Versions,
}

/// A table's data at one instant: O(1) to take (the maps share structure).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When, epoch milliseconds.
    pub at_ms: u64,
    /// The items.
    pub items: OrdMap<PKey, Stored>,
    /// Their total size.
    pub bytes: u64,
}

/// Point-in-time recovery: the table's versions, at most one per second, for the recovery
/// period.
#[derive(Debug, Clone)]
pub struct Pitr {
    /// When PITR was (last) enabled, epoch milliseconds.
    pub enabled_at_ms: u64,
    /// Recovery period in days (1–35).
    pub period_days: u32,
    /// Versions, oldest first.
    pub history: std::collections::VecDeque<Snapshot>,
}

impl Pitr {
    /// Records the table's state after a write at `now_ms`.
    pub fn record(&mut self, now_ms: u64, items: &OrdMap<PKey, Stored>, bytes: u64) {
        let snap = Snapshot {
            at_ms: now_ms,
            items: items.clone(),
            bytes,
        };
        // Restores are to the second, so the last version within a second is the one that counts;
        // keeping only it bounds the history to one version per second.
        match self.history.back_mut() {
            Some(last) if last.at_ms / 1000 == now_ms / 1000 && last.at_ms <= now_ms => {
                *last = snap
            }
            _ => self.history.push_back(snap),
        }
        let horizon = now_ms.saturating_sub(u64::from(self.period_days) * 86_400_000);
        // Keep the newest version at or before the horizon: it is the state at the horizon.
        while self.history.len() > 1 && self.history.get(1).is_some_and(|s| s.at_ms <= horizon) {
            self.history.pop_front();
        }
    }

    /// The earliest restorable instant.
    pub fn earliest_ms(&self, now_ms: u64) -> u64 {
        self.enabled_at_ms
            .max(now_ms.saturating_sub(u64::from(self.period_days) * 86_400_000))
    }

    /// The state at `at_ms`: the last version written at or before it.
    pub fn state_at(&self, at_ms: u64) -> Option<&Snapshot> {
        self.history.iter().rev().find(|s| s.at_ms <= at_ms)
    }
}

/// Index keys computed for an item before writing it.
pub type Prepared = Vec<Option<(KeyVal, Sk)>>;

/// Who made a change, for stream records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An API caller.
    User,
    /// The TTL process (a service deletion).
    Ttl,
    /// Global Tables replication (a write made in another region, applied here).
    Replication,
}

/// Five years: TTL values further in the past are not acted on, as on AWS.
const TTL_MAX_PAST_SECS: i64 = 5 * 365 * 24 * 3600;

fn ttl_of(item: &Item, attr: &Option<String>) -> Option<i64> {
    match item.get(attr.as_deref()?)? {
        AttributeValue::N(n) => Some(n.to_f64().floor() as i64),
        _ => None,
    }
}

impl TableState {
    /// Computes and checks the index keys of an item about to be written.
    pub fn prepare(&self, item: &Item) -> Result<Prepared, Error> {
        self.indexes
            .iter()
            .map(|ix| ix.def.schema.index_key_of(item, &ix.def.name))
            .collect()
    }

    /// The projected copy of `item` an index stores.
    pub fn project(&self, ix: &IndexDef, item: &Arc<Item>) -> Arc<Item> {
        match &ix.proj {
            ProjKind::All => Arc::clone(item),
            ProjKind::KeysOnly | ProjKind::Include(_) => {
                let extra: &[String] = match &ix.proj {
                    ProjKind::Include(v) => v,
                    _ => &[],
                };
                let keep = |k: &str| {
                    self.def.schema.names().any(|n| n == k)
                        || ix.schema.names().any(|n| n == k)
                        || extra.iter().any(|e| e == k)
                };
                Arc::new(
                    item.iter()
                        .filter(|(k, _)| keep(k))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
        }
    }

    /// Writes (`Some`) or deletes (`None`) the item at `key`, updating indexes, counters, the
    /// TTL queue and the stream. Returns the previous item. Cannot fail.
    pub fn apply(
        &mut self,
        key: PKey,
        new: Option<(Stored, Prepared)>,
        now_ms: u64,
        actor: Actor,
    ) -> Option<Stored> {
        let point = Arc::make_mut(&mut self.point);
        let old = match &new {
            Some((s, _)) => {
                point.insert(key.clone(), s.clone());
                self.items.insert(key.clone(), s.clone())
            }
            None => {
                point.remove(&key);
                self.items.remove(&key)
            }
        };
        if old.is_none() && new.is_none() {
            return None;
        }
        if let Some(o) = &old {
            self.bytes = self.bytes.saturating_sub(u64::from(o.size));
        }
        if let Some((s, _)) = &new {
            self.bytes += u64::from(s.size);
        }
        for i in 0..self.indexes.len() {
            if let Some(o) = &old
                && let Ok(Some((pk, sk))) = self.indexes[i].def.schema.index_key_of(&o.item, "")
            {
                let ik = IKey {
                    h: pk.hash(),
                    pk,
                    sk,
                    base: key.clone(),
                };
                if let Some(prev) = self.indexes[i].map.remove(&ik) {
                    self.indexes[i].bytes = self.indexes[i]
                        .bytes
                        .saturating_sub(crate::value::item_size(&prev) as u64);
                }
            }
            if let Some((s, prepared)) = &new
                && let Some(Some((pk, sk))) = prepared.get(i)
            {
                let projected = self.project(&self.indexes[i].def, &s.item);
                let ik = IKey {
                    h: pk.hash(),
                    pk: pk.clone(),
                    sk: sk.clone(),
                    base: key.clone(),
                };
                self.indexes[i].bytes += crate::value::item_size(&projected) as u64;
                self.indexes[i].map.insert(ik, projected);
            }
        }
        if self.def.ttl_attribute.is_some() {
            if let Some(t) = old
                .as_ref()
                .and_then(|o| ttl_of(&o.item, &self.def.ttl_attribute))
            {
                self.ttl.remove(&(t, key.clone()));
            }
            if let Some(t) = new
                .as_ref()
                .and_then(|(s, _)| ttl_of(&s.item, &self.def.ttl_attribute))
            {
                self.ttl.insert((t, key.clone()));
            }
        }
        if let Some(stream) = &self.stream {
            let kind = match (&old, &new) {
                (None, _) => EventKind::Insert,
                (Some(_), Some(_)) => EventKind::Modify,
                (Some(_), None) => EventKind::Remove,
            };
            let keys = key.to_item(&self.def.schema);
            stream.lock().push(
                kind,
                keys,
                old.as_ref().map(|o| Arc::clone(&o.item)),
                new.as_ref().map(|(s, _)| Arc::clone(&s.item)),
                now_ms,
                actor,
            );
        }
        if let Some(p) = &mut self.pitr {
            p.record(now_ms, &self.items, self.bytes);
        }
        self.record_version(now_ms);
        old
    }

    /// Rebuilds the point index from the items (after the items were replaced wholesale).
    pub fn rebuild_point(&mut self) {
        self.point = Arc::new(
            self.items
                .iter()
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect(),
        );
    }

    /// The current item at `key`.
    pub fn current(&self, key: &PKey) -> Option<&Stored> {
        self.point.get(key)
    }

    /// Rebuilds the TTL queue (after TTL is switched on or its attribute changes).
    pub fn rebuild_ttl(&mut self) {
        self.ttl.clear();
        if self.def.ttl_attribute.is_none() {
            return;
        }
        for (k, s) in self.items.iter() {
            if let Some(t) = ttl_of(&s.item, &self.def.ttl_attribute) {
                self.ttl.insert((t, k.clone()));
            }
        }
    }

    /// The earliest TTL expiry, if any.
    pub fn next_expiry(&self) -> Option<i64> {
        self.ttl.iter().next().map(|(t, _)| *t)
    }

    /// Deletes every item whose TTL has passed (not more than five years ago), as service
    /// deletions. Returns how many.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let now = (now_ms / 1000) as i64;
        let due: Vec<(i64, PKey)> = self
            .ttl
            .iter()
            .take_while(|(t, _)| *t <= now)
            .cloned()
            .collect();
        let mut n = 0;
        for (t, key) in due {
            self.ttl.remove(&(t, key.clone()));
            if t < now - TTL_MAX_PAST_SECS {
                continue;
            }
            self.apply(key, None, now_ms, Actor::Ttl);
            n += 1;
        }
        n
    }
}
