//! Global Tables version 2017.11.29: CreateGlobalTable, DescribeGlobalTable, UpdateGlobalTable
//! and ListGlobalTables.
//!
//! The rules of that version: every replica is an existing table of the global table's name in
//! its region, with the same key schema and a stream enabled with `NEW_AND_OLD_IMAGES`; at
//! creation every table must be empty. A region added later with UpdateGlobalTable must hold an
//! empty table too, which is then filled with the global table's items (a copy of one replica,
//! taken atomically with joining the group). Removing a region leaves its table in place as an
//! ordinary table. Replication is the same engine as version 2019.11.21 ([`super::replicate`]).

use std::sync::Arc;

use imbl::OrdMap;

use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::global::model::*;
use crate::global::replicas::check_region;
use crate::global::{Group, GtVersion, Replica, replicate};
use crate::table::{Actor, TableState};
use crate::validate::Shape;

const P: &str = "One or more parameter values were invalid: ";

/// `GlobalTableNotFoundException` as DynamoDB words it.
pub(crate) fn not_found(name: &str) -> Error {
    Error::GlobalTableNotFound(format!(
        "Global table not found: Global table with name: '{name}' does not exist."
    ))
}

/// Checks that `st` (in `region`) can join a 2017.11.29 global table with key schema `schema`.
fn check_member(st: &TableState, region: &str, must_be_empty: bool) -> Result<()> {
    let name = &st.def.name;
    let stream_ok = st.stream.as_ref().is_some_and(|s| s.lock().enabled)
        && st
            .def
            .stream_spec
            .as_ref()
            .and_then(|s| s.stream_view_type.as_deref())
            == Some("NEW_AND_OLD_IMAGES");
    if !stream_ok {
        return Err(Error::validation(format!(
            "{P}Table {name} in region {region} must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES"
        )));
    }
    if must_be_empty && !st.items.is_empty() {
        return Err(Error::validation(format!(
            "{P}Table {name} in region {region} is not empty: replica tables must be empty when they join a global table"
        )));
    }
    Ok(())
}

fn replica_of(region: &str, t: &Arc<Table>, st: &TableState, now: u64) -> Result<Replica> {
    let stream = st
        .stream
        .clone()
        .ok_or_else(|| Error::validation(format!("{P}Table {} has no stream", st.def.name)))?;
    let cursor = stream.lock().next_seq;
    Ok(Replica {
        region: Arc::from(region),
        table: Arc::clone(t),
        stream,
        schema: st.def.schema.clone(),
        cursor,
        versions: OrdMap::new(),
        joined_ms: now,
        lost: 0,
        overrides: Default::default(),
    })
}

impl RegionDb {
    /// The 2017.11.29 global table called `name`.
    pub(crate) fn legacy_group(&self, name: &str) -> Option<Arc<Group>> {
        self.global
            .groups()
            .into_iter()
            .find(|g| g.version == GtVersion::V2017 && g.name == name)
    }

    fn table_in(&self, region: &str, name: &str) -> Result<Arc<Table>> {
        check_region(region)?;
        let db = self
            .global
            .region_db(region)
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))?;
        let t = db.tables.read().get(name).cloned();
        t.ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))
    }

    /// The description of a 2017.11.29 global table.
    pub(crate) fn legacy_description(&self, g: &Group, status: &str) -> GlobalTableDescription {
        let gs = g.state.lock();
        GlobalTableDescription {
            replication_group: gs
                .replicas
                .keys()
                .map(|r| GroupMember {
                    region_name: r.clone(),
                    replica_status: Some("ACTIVE".to_owned()),
                })
                .collect(),
            global_table_arn: format!(
                "arn:aws:dynamodb::{}:global-table/{}",
                self.env.account.as_str(),
                g.name
            ),
            creation_date_time: g.created_ms as f64 / 1000.0,
            global_table_status: status.to_owned(),
            global_table_name: g.name.clone(),
        }
    }

    /// CreateGlobalTable.
    pub fn create_global_table(
        &self,
        input: CreateGlobalTableInput,
    ) -> Result<GlobalTableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("globalTableName", &input.global_table_name);
        s.required("replicationGroup", &input.replication_group);
        s.finish()?;
        let name = input.global_table_name.unwrap_or_default();
        let mut regions: Vec<String> = Vec::new();
        for r in input.replication_group.unwrap_or_default() {
            let r = r.region_name.ok_or_else(|| {
                Error::validation(
                    "1 validation error detected: Value null at 'replicationGroup.member.regionName' failed to satisfy constraint: Member must not be null",
                )
            })?;
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
        if regions.is_empty() {
            return Err(Error::validation(format!(
                "{P}ReplicationGroup must contain at least one region"
            )));
        }
        if self.legacy_group(&name).is_some() {
            return Err(Error::GlobalTableAlreadyExists(format!(
                "Global table with name: '{name}' already exists"
            )));
        }
        let tables: Vec<(String, Arc<Table>)> = regions
            .iter()
            .map(|r| self.table_in(r, &name).map(|t| (r.clone(), t)))
            .collect::<Result<_>>()?;
        let now = self.now_ms();
        let mut members = Vec::new();
        let mut key_schema = None;
        for (r, t) in &tables {
            if self.global.group_of(r, &name).is_some() {
                return Err(Error::validation(format!(
                    "{P}Table {name} in region {r} is already a replica of a global table"
                )));
            }
            let st = t.state.read();
            check_member(&st, r, true)?;
            match &key_schema {
                None => key_schema = Some(st.def.key_schema.clone()),
                Some(k) if *k != st.def.key_schema => {
                    return Err(Error::validation(format!(
                        "{P}Table {name} in region {r} does not have the same key schema as the other replicas"
                    )));
                }
                Some(_) => {}
            }
            members.push(replica_of(r, t, &st, now)?);
        }
        let group = self.global.new_group(&name, GtVersion::V2017);
        {
            let mut gs = group.state.lock();
            for m in members {
                gs.replicas.insert(m.region.to_string(), m);
            }
        }
        for r in &regions {
            self.global.index_member(&group, r);
        }
        Ok(GlobalTableDescriptionOutput {
            global_table_description: Some(self.legacy_description(&group, "CREATING")),
        })
    }

    /// DescribeGlobalTable.
    pub fn describe_global_table(
        &self,
        input: GlobalTableNameInput,
    ) -> Result<GlobalTableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("globalTableName", &input.global_table_name);
        s.finish()?;
        let name = input.global_table_name.unwrap_or_default();
        let g = self.legacy_group(&name).ok_or_else(|| not_found(&name))?;
        Ok(GlobalTableDescriptionOutput {
            global_table_description: Some(self.legacy_description(&g, "ACTIVE")),
        })
    }

    /// UpdateGlobalTable: add (Create) or remove (Delete) regions.
    pub fn update_global_table(
        &self,
        input: UpdateGlobalTableInput,
    ) -> Result<GlobalTableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("globalTableName", &input.global_table_name);
        s.required("replicaUpdates", &input.replica_updates);
        s.finish()?;
        let name = input.global_table_name.unwrap_or_default();
        let updates = input.replica_updates.unwrap_or_default();
        if updates.is_empty() {
            return Err(Error::validation(
                "One or more parameter values were invalid",
            ));
        }
        let g = self.legacy_group(&name).ok_or_else(|| not_found(&name))?;
        for u in &updates {
            match (&u.create, &u.delete) {
                (Some(c), None) => {
                    let r = c.region_name.clone().unwrap_or_default();
                    self.legacy_add(&g, &name, &r)?;
                }
                (None, Some(d)) => {
                    let r = d.region_name.clone().unwrap_or_default();
                    check_region(&r)?;
                    let remaining = {
                        let mut gs = g.state.lock();
                        if !gs.replicas.contains_key(&r) {
                            return Err(Error::ReplicaNotFound(format!(
                                "Replica not found: {r} is not part of global table {name}"
                            )));
                        }
                        replicate::ingest(&mut gs, &self.global.links());
                        gs.replicas.remove(&r);
                        gs.queues.retain(|(_, b), _| *b != r);
                        gs.replicas.len()
                    };
                    self.global.unindex_member(&g, &r, remaining);
                }
                _ => {
                    return Err(Error::validation(format!(
                        "{P}A ReplicaUpdate must contain exactly one of Create and Delete"
                    )));
                }
            }
        }
        Ok(GlobalTableDescriptionOutput {
            global_table_description: Some(self.legacy_description(&g, "UPDATING")),
        })
    }

    /// Adds `region` to 2017.11.29 global table `g`, copying the items of one replica into it.
    fn legacy_add(&self, g: &Arc<Group>, name: &str, region: &str) -> Result<()> {
        if g.state.lock().replicas.contains_key(region) {
            return Err(Error::ReplicaAlreadyExists(format!(
                "Replica already exists: {region} is already part of global table {name}"
            )));
        }
        let dst = self.table_in(region, name)?;
        if self.global.group_of(region, name).is_some() {
            return Err(Error::validation(format!(
                "{P}Table {name} in region {region} is already a replica of a global table"
            )));
        }
        let (src_region, src) = {
            let gs = g.state.lock();
            match gs.replicas.iter().next() {
                Some((r, rep)) => (r.clone(), Arc::clone(&rep.table)),
                None => return Err(not_found(name)),
            }
        };
        // Two tables in two regions: lock them in region order.
        let (mut sg, mut dg);
        if src_region.as_str() < region {
            sg = Some(src.state.read());
            dg = Some(dst.state.write());
        } else {
            dg = Some(dst.state.write());
            sg = Some(src.state.read());
        }
        let (Some(s), Some(d)) = (sg.as_mut(), dg.as_mut()) else {
            return Err(not_found(name));
        };
        check_member(d, region, true)?;
        if s.def.key_schema != d.def.key_schema {
            return Err(Error::validation(format!(
                "{P}Table {name} in region {region} does not have the same key schema as the other replicas"
            )));
        }
        let now = self.now_ms();
        let mut gs = g.state.lock();
        replicate::ingest(&mut gs, &self.global.links());
        let versions = gs
            .replicas
            .get(&src_region)
            .map(|r| r.versions.clone())
            .unwrap_or_default();
        for (k, stored) in s.items.iter() {
            if let Ok(prepared) = d.prepare(&stored.item) {
                d.apply(
                    k.clone(),
                    Some((stored.clone(), prepared)),
                    now,
                    Actor::Replication,
                );
            }
        }
        let inbound: Vec<((String, String), _)> = gs
            .queues
            .iter()
            .filter(|((_, b), _)| *b == src_region)
            .map(|((a, _), q)| ((a.clone(), region.to_owned()), q.clone()))
            .collect();
        gs.queues.extend(inbound);
        let mut m = replica_of(region, &dst, d, now)?;
        m.versions = versions;
        gs.replicas.insert(region.to_owned(), m);
        drop(gs);
        drop(sg);
        drop(dg);
        self.global.index_member(g, region);
        Ok(())
    }

    /// ListGlobalTables.
    pub fn list_global_tables(
        &self,
        input: ListGlobalTablesInput,
    ) -> Result<ListGlobalTablesOutput> {
        let mut s = Shape::new();
        s.range("limit", input.limit, 1, 100);
        s.finish()?;
        let limit = input.limit.unwrap_or(100) as usize;
        let mut all: Vec<(String, Vec<GroupMember>)> = self
            .global
            .groups()
            .into_iter()
            .filter(|g| g.version == GtVersion::V2017)
            .map(|g| {
                let gs = g.state.lock();
                (
                    g.name.clone(),
                    gs.replicas
                        .keys()
                        .map(|r| GroupMember {
                            region_name: r.clone(),
                            replica_status: None,
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, m)| {
                input
                    .region_name
                    .as_ref()
                    .is_none_or(|r| m.iter().any(|x| x.region_name == *r))
            })
            .filter(|(n, _)| {
                input
                    .exclusive_start_global_table_name
                    .as_ref()
                    .is_none_or(|s| n > s)
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let more = all.len() > limit;
        all.truncate(limit);
        Ok(ListGlobalTablesOutput {
            last_evaluated_global_table_name: if more {
                all.last().map(|x| x.0.clone())
            } else {
                None
            },
            global_tables: all
                .into_iter()
                .map(|(n, m)| GlobalTableSummary {
                    global_table_name: n,
                    replication_group: m,
                })
                .collect(),
        })
    }
}
