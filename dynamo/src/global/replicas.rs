//! Global Tables version 2019.11.21: `UpdateTable` with `ReplicaUpdates` (Create, Update, Delete
//! a replica), and the `GlobalTableVersion` / `Replicas` members of `DescribeTable`.
//!
//! Rules kept (as DynamoDB answers them): `ReplicaUpdates` must be the only change in the
//! request; one Create or Delete per request (identical Creates are folded); each action names
//! exactly one of Create/Update/Delete and an Update must change something; the table's own
//! region cannot be added or deleted this way; a region must be a known AWS region; a Create
//! fails if the region already holds a table of that name (a replica or not); an Update or
//! Delete of a region that is not a replica fails naming it. A table with no enabled stream gets
//! a `NEW_AND_OLD_IMAGES` stream, as DynamoDB enables one itself; once it has replicas, its stream
//! cannot be disabled. A new replica starts as a snapshot of the table at the instant of the
//! request (O(1): the maps are persistent and shared), and writes made after that instant reach
//! it through replication; writes queued for the source from other replicas are queued for it
//! too, so it converges with the rest.

use std::sync::Arc;

use imbl::OrdMap;
use nubis_core::Region;

use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::global::model::{ReplicationGroupMemberAction, ReplicationGroupUpdate};
use crate::global::{GtVersion, Replica, replicate};
use crate::model::{
    ReplicaDescription, StreamSpecification, TableClassSummary, TableDescription,
    TableDescriptionOutput, TableNameInput, UpdateTableInput,
};
use crate::table::TableState;

/// The message for a change of a region that is not a replica.
fn not_members(regions: &[&str]) -> Error {
    Error::validation(format!(
        "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [{}].",
        regions.join(", ")
    ))
}

/// The message for a Create of a region that already holds the table.
pub(crate) fn already_existed(name: &str) -> Error {
    Error::validation(format!(
        "Failed to create a the new replica of table with name: \u{2018}{name}\u{2019} because one or more replicas already existed as tables."
    ))
}

/// Checks a region name the way ReplicaUpdates does.
pub(crate) fn check_region(name: &str) -> Result<()> {
    if Region::new(name).is_ok_and(|r| r.as_str() == name) {
        return Ok(());
    }
    let all: Vec<String> = Region::all().map(|r| r.as_str().to_owned()).collect();
    Err(Error::validation(format!(
        "Region {name} is not supported. The latest version of global tables are only supported in the following regions: [{}].",
        all.join(", ")
    )))
}

enum Act<'a> {
    Create(&'a ReplicationGroupMemberAction, String),
    Update(&'a ReplicationGroupMemberAction, String),
    Delete(String),
}

fn region_of(r: &Option<String>, i: usize, what: &str) -> Result<String> {
    r.clone().ok_or_else(|| {
        Error::validation(format!(
            "1 validation error detected: Value null at 'replicaUpdates.{i}.member.{what}.regionName' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn has_change(a: &ReplicationGroupMemberAction) -> bool {
    a.kms_master_key_id.is_some()
        || a.provisioned_throughput_override.is_some()
        || a.on_demand_throughput_override.is_some()
        || a.global_secondary_indexes.is_some()
        || a.table_class_override.is_some()
}

fn parse(updates: &[ReplicationGroupUpdate]) -> Result<Vec<Act<'_>>> {
    if updates.is_empty() {
        return Err(Error::validation(
            "1 validation error detected: Value '[]' at 'replicaUpdates' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let mut acts = Vec::new();
    for (i, u) in updates.iter().enumerate() {
        let n = [u.create.is_some(), u.update.is_some(), u.delete.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if n > 1 {
            return Err(Error::validation(
                "Update table operation with more than one type of replica actions not allowed.",
            ));
        }
        let act = match (&u.create, &u.update, &u.delete) {
            (Some(c), _, _) => Act::Create(c, region_of(&c.region_name, i + 1, "create")?),
            (_, Some(up), _) if has_change(up) => {
                Act::Update(up, region_of(&up.region_name, i + 1, "update")?)
            }
            (_, _, Some(d)) => Act::Delete(region_of(&d.region_name, i + 1, "delete")?),
            _ => {
                return Err(Error::validation(
                    "There are no actions specified in the Replica Update Action of the request.",
                ));
            }
        };
        acts.push(act);
    }
    Ok(acts)
}

impl RegionDb {
    /// UpdateTable with `ReplicaUpdates` (called by `update_table`).
    pub(crate) fn update_replicas(
        &self,
        input: &UpdateTableInput,
    ) -> Result<TableDescriptionOutput> {
        if input.provisioned_throughput.is_some()
            || input.billing_mode.is_some()
            || input.global_secondary_index_updates.is_some()
            || input.stream_specification.is_some()
            || input.sse_specification.is_some()
            || input.table_class.is_some()
            || input.deletion_protection_enabled.is_some()
            || input.on_demand_throughput.is_some()
        {
            return Err(Error::validation(
                "Requests that modify replicas or witnesses must not also modify other fields",
            ));
        }
        let name = input.table_name.clone().unwrap_or_default();
        let acts = parse(input.replica_updates.as_deref().unwrap_or_default())?;
        let here = self.region.as_str();
        let mut structural: Vec<&str> = Vec::new();
        for a in &acts {
            let r = match a {
                Act::Create(_, r) | Act::Delete(r) => {
                    if r == here {
                        return Err(Error::validation(
                            "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.",
                        ));
                    }
                    if !structural.contains(&r.as_str()) {
                        structural.push(r);
                    }
                    r
                }
                Act::Update(_, r) => r,
            };
            check_region(r)?;
        }
        if structural.len() > 1 {
            return Err(Error::validation(
                "Update table operation with more than one create or delete replica actions not allowed",
            ));
        }
        let t = self.table_named(&name)?;
        if let Some(g) = self.global.group_of(here, &name)
            && g.version == GtVersion::V2017
        {
            return Err(Error::validation(format!(
                "Table {name} is part of a global table of version 2017.11.29; use UpdateGlobalTable to change its replicas"
            )));
        }
        // Updates and Deletes name members; check them all before changing anything.
        let members: Vec<String> = self
            .global
            .group_of(here, &name)
            .map(|g| g.state.lock().replicas.keys().cloned().collect())
            .unwrap_or_default();
        let missing: Vec<&str> = acts
            .iter()
            .filter_map(|a| match a {
                Act::Update(_, r) | Act::Delete(r) if !members.contains(r) => Some(r.as_str()),
                _ => None,
            })
            .collect();
        if !missing.is_empty() {
            return Err(not_members(&missing));
        }
        let mut created = false;
        for a in &acts {
            match a {
                Act::Create(c, r) if !created => {
                    self.create_replica(&t, &name, r, c)?;
                    created = true;
                }
                Act::Create(..) => {}
                Act::Update(u, r) => self.update_replica(&name, r, u)?,
                Act::Delete(r) => self.delete_replica(&name, r)?,
            }
        }
        let st = t.state.read();
        let mut desc = crate::control::describe(&st);
        drop(st);
        desc.table_status = "UPDATING".to_owned();
        self.add_global_description(&mut desc);
        Ok(TableDescriptionOutput {
            table_description: Some(desc),
        })
    }

    fn create_replica(
        &self,
        t: &Arc<Table>,
        name: &str,
        target: &str,
        action: &ReplicationGroupMemberAction,
    ) -> Result<()> {
        let dst = self
            .global
            .region_db(target)
            .ok_or_else(|| Error::validation(format!("Region {target} is not available")))?;
        if dst.tables.read().contains_key(name) {
            return Err(already_existed(name));
        }
        let now = self.now_ms();
        let here = self.region.as_str().to_owned();
        let mut st = t.state.write();
        if let Some(c) = &action.table_class_override
            && !matches!(c.as_str(), "STANDARD" | "STANDARD_INFREQUENT_ACCESS")
        {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{c}' at 'replicaUpdates.1.member.create.tableClassOverride' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]"
            )));
        }
        // Replication reads the stream: turn it on as DynamoDB does when it is off.
        let enabled = st.stream.as_ref().is_some_and(|s| s.lock().enabled);
        if !enabled {
            st.stream = Some(self.new_stream(&st.def, "NEW_AND_OLD_IMAGES"));
            st.def.stream_spec = Some(StreamSpecification {
                stream_enabled: true,
                stream_view_type: Some("NEW_AND_OLD_IMAGES".to_owned()),
            });
        }
        let Some(src_stream) = st.stream.clone() else {
            return Err(Error::validation("The table has no stream"));
        };
        let group = match self.global.group_of(&here, name) {
            Some(g) => g,
            None => self.global.new_group(name, GtVersion::V2019),
        };
        let links = self.global.links();
        let mut gs = group.state.lock();
        if !gs.replicas.contains_key(&here) {
            let cursor = src_stream.lock().next_seq;
            gs.replicas.insert(
                here.clone(),
                Replica {
                    region: Arc::from(here.as_str()),
                    table: Arc::clone(t),
                    stream: src_stream,
                    schema: st.def.schema.clone(),
                    cursor,
                    versions: OrdMap::new(),
                    joined_ms: now,
                    lost: 0,
                    overrides: Default::default(),
                },
            );
            self.global.index_member(&group, &here);
        }
        replicate::ingest(&mut gs, &links);
        let mut d: TableState = st.clone();
        d.def.arn = dst.table_arn(name).into();
        d.def.id = self.env.ids.uuid();
        d.def.created = now as f64 / 1000.0;
        d.def.tags = Vec::new();
        d.def.deletion_protection = false;
        d.def.decreases_today = 0;
        d.def.last_increase = None;
        d.def.last_decrease = None;
        d.pitr = None;
        if let Some(c) = &action.table_class_override {
            d.def.table_class = c.clone();
        }
        if let Some(r) = action
            .provisioned_throughput_override
            .as_ref()
            .and_then(|o| o.read_capacity_units)
            && d.def.billing_mode == "PROVISIONED"
        {
            d.def.rcu = r;
        }
        if let (Some(k), Some(sse)) = (&action.kms_master_key_id, &mut d.def.sse) {
            sse.kms_master_key_arn = k.clone();
        }
        for ix in &mut d.indexes {
            ix.def.arn = format!("{}/index/{}", d.def.arn, ix.def.name).into();
        }
        let view = d
            .def
            .stream_spec
            .as_ref()
            .and_then(|s| s.stream_view_type.clone())
            .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".to_owned());
        let d_stream = dst.new_stream(&d.def, &view);
        d.stream = Some(Arc::clone(&d_stream));
        let schema = d.def.schema.clone();
        let table = Table::new(d);
        {
            let mut tables = dst.tables.write();
            if tables.contains_key(name) {
                return Err(already_existed(name));
            }
            tables.insert(name.to_owned(), Arc::clone(&table));
        }
        let versions = gs
            .replicas
            .get(&here)
            .map(|r| r.versions.clone())
            .unwrap_or_default();
        // Writes on their way to the source are on their way to the new replica too.
        let inbound: Vec<((String, String), _)> = gs
            .queues
            .iter()
            .filter(|((_, b), _)| *b == here)
            .map(|((a, _), q)| ((a.clone(), target.to_owned()), q.clone()))
            .collect();
        gs.queues.extend(inbound);
        let cursor = d_stream.lock().next_seq;
        let mut overrides = action.clone();
        overrides.region_name = None;
        gs.replicas.insert(
            target.to_owned(),
            Replica {
                region: Arc::from(target),
                table,
                stream: d_stream,
                schema,
                cursor,
                versions,
                joined_ms: now,
                lost: 0,
                overrides,
            },
        );
        drop(gs);
        self.global.index_member(&group, target);
        Ok(())
    }

    fn update_replica(
        &self,
        name: &str,
        target: &str,
        u: &ReplicationGroupMemberAction,
    ) -> Result<()> {
        if u.kms_master_key_id.is_some() {
            return Err(Error::validation(
                "A replica's KMSMasterKeyId cannot be changed through ReplicaUpdates; update SSESpecification in the replica's region",
            ));
        }
        let dst = self
            .global
            .region_db(target)
            .ok_or_else(|| not_members(&[target]))?;
        let t = dst.table_named(name)?;
        {
            let mut st = t.state.write();
            if u.provisioned_throughput_override.is_some() && st.def.billing_mode != "PROVISIONED" {
                return Err(Error::validation(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            if let Some(c) = &u.table_class_override {
                if !matches!(c.as_str(), "STANDARD" | "STANDARD_INFREQUENT_ACCESS") {
                    return Err(Error::validation(format!(
                        "1 validation error detected: Value '{c}' at 'replicaUpdates.1.member.update.tableClassOverride' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]"
                    )));
                }
                st.def.table_class = c.clone();
            }
            if let Some(r) = u
                .provisioned_throughput_override
                .as_ref()
                .and_then(|o| o.read_capacity_units)
            {
                st.def.rcu = r;
            }
        }
        if let Some(g) = self.global.group_of(target, name) {
            let mut gs = g.state.lock();
            if let Some(rep) = gs.replicas.get_mut(target) {
                let o = &mut rep.overrides;
                if u.provisioned_throughput_override.is_some() {
                    o.provisioned_throughput_override = u.provisioned_throughput_override.clone();
                }
                if u.on_demand_throughput_override.is_some() {
                    o.on_demand_throughput_override = u.on_demand_throughput_override.clone();
                }
                if u.global_secondary_indexes.is_some() {
                    o.global_secondary_indexes = u.global_secondary_indexes.clone();
                }
                if u.table_class_override.is_some() {
                    o.table_class_override = u.table_class_override.clone();
                }
            }
        }
        Ok(())
    }

    fn delete_replica(&self, name: &str, target: &str) -> Result<()> {
        let dst = self
            .global
            .region_db(target)
            .ok_or_else(|| not_members(&[target]))?;
        // DeleteTable in the replica's region: deletion protection is checked there, and the
        // table leaves the group (see `Hub::table_deleted`).
        dst.delete_table(TableNameInput {
            table_name: Some(name.to_owned()),
        })?;
        Ok(())
    }

    /// Adds `GlobalTableVersion` and `Replicas` (the other regions) to a 2019.11.21 replica's
    /// description.
    pub(crate) fn add_global_description(&self, desc: &mut TableDescription) {
        let here = self.region.as_str();
        let Some(g) = self.global.group_of(here, &desc.table_name) else {
            return;
        };
        if g.version != GtVersion::V2019 {
            return;
        }
        let gs = g.state.lock();
        desc.global_table_version = Some(g.version.as_str().to_owned());
        desc.replicas = Some(
            gs.replicas
                .iter()
                .filter(|(r, _)| r.as_str() != here)
                .map(|(r, rep)| ReplicaDescription {
                    region_name: r.clone(),
                    replica_status: Some("ACTIVE".to_owned()),
                    kms_master_key_id: rep.overrides.kms_master_key_id.clone(),
                    provisioned_throughput_override: rep
                        .overrides
                        .provisioned_throughput_override
                        .clone(),
                    on_demand_throughput_override: rep
                        .overrides
                        .on_demand_throughput_override
                        .clone(),
                    global_secondary_indexes: rep.overrides.global_secondary_indexes.clone(),
                    replica_table_class_summary: rep
                        .overrides
                        .table_class_override
                        .clone()
                        .map(|c| TableClassSummary { table_class: c }),
                    ..Default::default()
                })
                .collect(),
        );
    }

    /// Refuses to disable the stream of a replica (UpdateTable `StreamSpecification`).
    pub(crate) fn check_replica_stream(
        &self,
        name: &str,
        spec: &StreamSpecification,
    ) -> Result<()> {
        if !spec.stream_enabled && self.global.group_of(self.region.as_str(), name).is_some() {
            return Err(Error::validation(
                "Disabling Stream is not allowed for a Global Table replica.",
            ));
        }
        Ok(())
    }
}
