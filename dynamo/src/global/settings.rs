//! Replica settings: version 2017.11.29's Describe/UpdateGlobalTableSettings (billing mode and
//! capacity of every replica and its indexes) and version 2019.11.21's
//! Describe/UpdateTableReplicaAutoScaling.
//!
//! Auto scaling settings are stored per replica and reported back exactly; Nubis has no
//! CloudWatch utilisation to act on, so they do not change capacity by themselves (a table
//! without settings reports its fixed capacity with `AutoScalingDisabled: true`).

use std::collections::BTreeMap;

use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::global::model::*;
use crate::global::{Group, GtVersion};
use crate::model::{BillingModeSummary, TableClassSummary};
use crate::table::TableState;
use crate::validate::Shape;

/// One replica's auto scaling settings.
#[derive(Debug, Clone, Default)]
pub struct AutoScaling {
    /// Table read capacity.
    pub read: Option<AutoScalingSettings>,
    /// Table write capacity.
    pub write: Option<AutoScalingSettings>,
    /// Index read capacity, by index.
    pub index_read: BTreeMap<String, AutoScalingSettings>,
    /// Index write capacity, by index.
    pub index_write: BTreeMap<String, AutoScalingSettings>,
}

fn fixed(units: i64) -> AutoScalingSettings {
    AutoScalingSettings {
        minimum_units: Some(units),
        maximum_units: Some(units),
        auto_scaling_disabled: Some(true),
        ..Default::default()
    }
}

fn check_settings(u: &AutoScalingSettings) -> Result<AutoScalingSettings> {
    if let (Some(a), Some(b)) = (u.minimum_units, u.maximum_units)
        && a > b
    {
        return Err(Error::validation(
            "MinimumUnits must be less than or equal to MaximumUnits",
        ));
    }
    for v in [u.minimum_units, u.maximum_units].into_iter().flatten() {
        if v < 1 {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{v}' at 'minimumUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    }
    if let Some(t) = u
        .scaling_policy_update
        .as_ref()
        .and_then(|p| p.target_tracking_scaling_policy_configuration.as_ref())
        .and_then(|c| c.target_value)
        && !(20.0..=90.0).contains(&t)
    {
        return Err(Error::validation(
            "TargetValue must be between 20 and 90 for DynamoDB auto scaling",
        ));
    }
    Ok(AutoScalingSettings {
        minimum_units: u.minimum_units,
        maximum_units: u.maximum_units,
        auto_scaling_disabled: Some(u.auto_scaling_disabled.unwrap_or(false)),
        auto_scaling_role_arn: u.auto_scaling_role_arn.clone(),
        scaling_policies: u.scaling_policy_update.clone().map(|p| vec![p]),
        scaling_policy_update: None,
    })
}

fn settings_of(region: &str, st: &TableState) -> ReplicaSettings {
    let provisioned = st.def.billing_mode == "PROVISIONED";
    ReplicaSettings {
        region_name: region.to_owned(),
        replica_status: Some("ACTIVE".to_owned()),
        replica_billing_mode_summary: Some(BillingModeSummary {
            billing_mode: st.def.billing_mode.clone(),
            last_update_to_pay_per_request_date_time: st.def.pay_per_request_since,
        }),
        replica_provisioned_read_capacity_units: Some(if provisioned { st.def.rcu } else { 0 }),
        replica_provisioned_write_capacity_units: Some(if provisioned { st.def.wcu } else { 0 }),
        replica_global_secondary_index_settings: Some(
            st.indexes
                .iter()
                .filter(|i| i.def.global)
                .map(|i| IndexSettings {
                    index_name: i.def.name.clone(),
                    index_status: Some("ACTIVE".to_owned()),
                    provisioned_read_capacity_units: Some(i.def.rcu),
                    provisioned_write_capacity_units: Some(i.def.wcu),
                })
                .collect(),
        ),
        replica_table_class_summary: Some(TableClassSummary {
            table_class: st.def.table_class.clone(),
        }),
    }
}

impl RegionDb {
    fn group_tables(&self, g: &Group) -> Vec<(String, std::sync::Arc<crate::engine::Table>)> {
        g.state
            .lock()
            .replicas
            .iter()
            .map(|(r, rep)| (r.clone(), std::sync::Arc::clone(&rep.table)))
            .collect()
    }

    /// DescribeGlobalTableSettings.
    pub fn describe_global_table_settings(
        &self,
        input: GlobalTableNameInput,
    ) -> Result<GlobalTableSettingsOutput> {
        let mut s = Shape::new();
        s.table_name("globalTableName", &input.global_table_name);
        s.finish()?;
        let name = input.global_table_name.unwrap_or_default();
        let g = self.legacy_group(&name).ok_or_else(|| {
            Error::GlobalTableNotFound(format!("Global table with name: '{name}' does not exist."))
        })?;
        Ok(GlobalTableSettingsOutput {
            global_table_name: Some(name),
            replica_settings: Some(
                self.group_tables(&g)
                    .iter()
                    .map(|(r, t)| settings_of(r, &t.state.read()))
                    .collect(),
            ),
        })
    }

    /// UpdateGlobalTableSettings: every change is checked against every replica before any is
    /// applied.
    pub fn update_global_table_settings(
        &self,
        input: UpdateGlobalTableSettingsInput,
    ) -> Result<GlobalTableSettingsOutput> {
        let mut s = Shape::new();
        s.table_name("globalTableName", &input.global_table_name);
        s.one_of(
            "globalTableBillingMode",
            &input.global_table_billing_mode,
            &["PROVISIONED", "PAY_PER_REQUEST"],
        );
        s.range(
            "globalTableProvisionedWriteCapacityUnits",
            input.global_table_provisioned_write_capacity_units,
            1,
            i64::MAX,
        );
        s.finish()?;
        let name = input.global_table_name.clone().unwrap_or_default();
        let g = self.legacy_group(&name).ok_or_else(|| {
            Error::GlobalTableNotFound(format!("Global table with name: '{name}' does not exist."))
        })?;
        let tables = self.group_tables(&g);
        for u in input.replica_settings_update.iter().flatten() {
            let r = u.region_name.clone().unwrap_or_default();
            if !tables.iter().any(|(x, _)| *x == r) {
                return Err(Error::ReplicaNotFound(format!(
                    "Replica not found: {r} is not part of global table {name}"
                )));
            }
        }
        // Plan every replica's new state first; then swap them in.
        let mut planned = Vec::new();
        for (region, t) in &tables {
            let mut st = t.state.read().clone();
            if let Some(m) = &input.global_table_billing_mode {
                st.def.billing_mode = m.clone();
            }
            let provisioned = st.def.billing_mode == "PROVISIONED";
            if let Some(w) = input.global_table_provisioned_write_capacity_units {
                if !provisioned {
                    return Err(Error::validation(
                        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                st.def.wcu = w;
            }
            for u in input
                .global_table_global_secondary_index_settings_update
                .iter()
                .flatten()
            {
                let ix_name = u.index_name.clone().unwrap_or_default();
                let ix = st
                    .indexes
                    .iter_mut()
                    .find(|i| i.def.global && i.def.name == ix_name)
                    .ok_or_else(|| {
                        Error::IndexNotFound(format!(
                            "Requested resource not found: Index: {ix_name} not found"
                        ))
                    })?;
                if let Some(w) = u.provisioned_write_capacity_units {
                    ix.def.wcu = w;
                }
            }
            for u in input
                .replica_settings_update
                .iter()
                .flatten()
                .filter(|u| u.region_name.as_deref() == Some(region.as_str()))
            {
                if let Some(r) = u.replica_provisioned_read_capacity_units {
                    if !provisioned {
                        return Err(Error::validation(
                            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                        ));
                    }
                    st.def.rcu = r;
                }
                if let Some(c) = &u.replica_table_class {
                    if !matches!(c.as_str(), "STANDARD" | "STANDARD_INFREQUENT_ACCESS") {
                        return Err(Error::validation(format!(
                            "1 validation error detected: Value '{c}' at 'replicaTableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]"
                        )));
                    }
                    st.def.table_class = c.clone();
                }
                for iu in u
                    .replica_global_secondary_index_settings_update
                    .iter()
                    .flatten()
                {
                    let ix_name = iu.index_name.clone().unwrap_or_default();
                    let ix = st
                        .indexes
                        .iter_mut()
                        .find(|i| i.def.global && i.def.name == ix_name)
                        .ok_or_else(|| {
                            Error::IndexNotFound(format!(
                                "Requested resource not found: Index: {ix_name} not found"
                            ))
                        })?;
                    if let Some(r) = iu.provisioned_read_capacity_units {
                        ix.def.rcu = r;
                    }
                }
            }
            if provisioned && (st.def.rcu < 1 || st.def.wcu < 1) {
                return Err(Error::validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ));
            }
            if !provisioned {
                st.def.rcu = 0;
                st.def.wcu = 0;
            }
            planned.push((
                t,
                st.def,
                st.indexes.iter().map(|i| i.def.clone()).collect::<Vec<_>>(),
            ));
        }
        for (t, def, index_defs) in planned {
            let mut st = t.state.write();
            st.def.billing_mode = def.billing_mode;
            st.def.rcu = def.rcu;
            st.def.wcu = def.wcu;
            st.def.table_class = def.table_class;
            for (ix, d) in st.indexes.iter_mut().zip(index_defs) {
                ix.def.rcu = d.rcu;
                ix.def.wcu = d.wcu;
            }
        }
        self.describe_global_table_settings(GlobalTableNameInput {
            global_table_name: Some(name),
        })
    }

    fn replica_group(&self, name: &str) -> Result<std::sync::Arc<Group>> {
        self.global
            .group_of(self.region.as_str(), name)
            .filter(|g| g.version == GtVersion::V2019)
            .ok_or_else(|| {
                Error::ResourceNotFound(format!("Global table with name: {name} does not exist."))
            })
    }

    /// DescribeTableReplicaAutoScaling.
    pub fn describe_table_replica_auto_scaling(
        &self,
        input: crate::model::TableNameInput,
    ) -> Result<TableAutoScalingOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let g = self.replica_group(&name)?;
        let tables = self.group_tables(&g);
        let scaling = g.state.lock().autoscaling.clone();
        let replicas = tables
            .iter()
            .map(|(r, t)| {
                let st = t.state.read();
                let a = scaling.get(r).cloned().unwrap_or_default();
                let provisioned = st.def.billing_mode == "PROVISIONED";
                let pick = |stored: &Option<AutoScalingSettings>, units: i64| {
                    provisioned.then(|| stored.clone().unwrap_or_else(|| fixed(units)))
                };
                ReplicaAutoScalingDescription {
                    region_name: r.clone(),
                    global_secondary_indexes: Some(
                        st.indexes
                            .iter()
                            .filter(|i| i.def.global)
                            .map(|i| IndexAutoScaling {
                                index_name: Some(i.def.name.clone()),
                                index_status: Some("ACTIVE".to_owned()),
                                provisioned_read_capacity_auto_scaling_settings: pick(
                                    &a.index_read.get(&i.def.name).cloned(),
                                    i.def.rcu,
                                ),
                                provisioned_write_capacity_auto_scaling_settings: pick(
                                    &a.index_write.get(&i.def.name).cloned(),
                                    i.def.wcu,
                                ),
                                ..Default::default()
                            })
                            .collect(),
                    ),
                    replica_provisioned_read_capacity_auto_scaling_settings: pick(
                        &a.read, st.def.rcu,
                    ),
                    replica_provisioned_write_capacity_auto_scaling_settings: pick(
                        &a.write, st.def.wcu,
                    ),
                    replica_status: Some("ACTIVE".to_owned()),
                }
            })
            .collect();
        Ok(TableAutoScalingOutput {
            table_auto_scaling_description: Some(TableAutoScalingDescription {
                table_name: name,
                table_status: "ACTIVE".to_owned(),
                replicas,
            }),
        })
    }

    /// UpdateTableReplicaAutoScaling.
    pub fn update_table_replica_auto_scaling(
        &self,
        input: UpdateTableReplicaAutoScalingInput,
    ) -> Result<TableAutoScalingOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let name = input.table_name.clone().unwrap_or_default();
        let g = self.replica_group(&name)?;
        let tables = self.group_tables(&g);
        let provisioned = tables
            .first()
            .is_some_and(|(_, t)| t.state.read().def.billing_mode == "PROVISIONED");
        let enables = input
            .provisioned_write_capacity_auto_scaling_update
            .is_some()
            || input.global_secondary_index_updates.is_some()
            || input.replica_updates.is_some();
        if !provisioned && enables {
            return Err(Error::validation(
                "Auto scaling cannot be configured for a table whose billing mode is PAY_PER_REQUEST",
            ));
        }
        let index_names: Vec<String> = tables
            .first()
            .map(|(_, t)| {
                t.state
                    .read()
                    .indexes
                    .iter()
                    .filter(|i| i.def.global)
                    .map(|i| i.def.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let check_index = |n: &Option<String>| -> Result<String> {
            let n = n.clone().unwrap_or_default();
            if index_names.contains(&n) {
                Ok(n)
            } else {
                Err(Error::ResourceNotFound(format!(
                    "Requested resource not found: Index: {n} not found"
                )))
            }
        };
        let mut scaling = g.state.lock().autoscaling.clone();
        if let Some(w) = &input.provisioned_write_capacity_auto_scaling_update {
            let w = check_settings(w)?;
            for (r, _) in &tables {
                scaling.entry(r.clone()).or_default().write = Some(w.clone());
            }
        }
        for u in input.global_secondary_index_updates.iter().flatten() {
            let n = check_index(&u.index_name)?;
            if let Some(w) = &u.provisioned_write_capacity_auto_scaling_update {
                let w = check_settings(w)?;
                for (r, _) in &tables {
                    scaling
                        .entry(r.clone())
                        .or_default()
                        .index_write
                        .insert(n.clone(), w.clone());
                }
            }
        }
        for u in input.replica_updates.iter().flatten() {
            let r = u.region_name.clone().unwrap_or_default();
            if !tables.iter().any(|(x, _)| *x == r) {
                return Err(Error::ResourceNotFound(format!(
                    "Requested resource not found: Replica: {r} not found"
                )));
            }
            let entry = scaling.entry(r).or_default();
            if let Some(rd) = &u.replica_provisioned_read_capacity_auto_scaling_update {
                entry.read = Some(check_settings(rd)?);
            }
            for iu in u.replica_global_secondary_index_updates.iter().flatten() {
                let n = check_index(&iu.index_name)?;
                if let Some(rd) = &iu.provisioned_read_capacity_auto_scaling_update {
                    entry.index_read.insert(n, check_settings(rd)?);
                }
            }
        }
        g.state.lock().autoscaling = scaling;
        self.describe_table_replica_auto_scaling(crate::model::TableNameInput {
            table_name: Some(name),
        })
    }
}
