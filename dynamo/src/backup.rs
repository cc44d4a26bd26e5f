//! On-demand backups and point-in-time recovery.
//!
//! A backup is a [`Snapshot`] of the table's item map: taking one clones a persistent map, O(1)
//! whatever the table's size, and never blocks writers for longer than that clone. With PITR on,
//! every write records the table's map (at most one version per second, kept for the recovery
//! period); a restore to instant T takes the last version written at or before T. Restores build
//! a new table (indexes rebuilt from the items, with the overrides AWS allows); the latest
//! restorable instant is five minutes before now, the earliest the later of when PITR was
//! enabled and the start of the recovery period, all on the engine clock.

use imbl::OrdMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::describe;
use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::model::{
    GlobalSecondaryIndex, LocalSecondaryIndex, ProvisionedThroughput, SseSpecification,
};
use crate::table::{IndexDef, IndexState, Pitr, Snapshot, TableDef, TableState};
use crate::validate::Shape;

/// How far behind now the latest restorable instant is.
pub const PITR_LAG_MS: u64 = 5 * 60 * 1000;

/// An on-demand backup.
#[derive(Debug, Clone)]
pub struct Backup {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The table's definition when it was taken.
    pub def: TableDef,
    /// The table's indexes.
    pub index_defs: Vec<IndexDef>,
    /// The data.
    pub snap: Snapshot,
}

/// A deleted table whose PITR history is still restorable.
#[derive(Debug, Clone)]
pub struct DeletedTable {
    /// Its definition.
    pub def: TableDef,
    /// Its indexes.
    pub index_defs: Vec<IndexDef>,
    /// Its history.
    pub pitr: Pitr,
    /// When it was deleted.
    pub deleted_ms: u64,
}

/// Overrides a restore may apply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestoreInput {
    /// The new table.
    pub target_table_name: Option<String>,
    /// The backup (RestoreTableFromBackup).
    pub backup_arn: Option<String>,
    /// The source table (RestoreTableToPointInTime).
    pub source_table_name: Option<String>,
    /// The source table ARN (RestoreTableToPointInTime).
    pub source_table_arn: Option<String>,
    /// Restore to the latest restorable instant.
    pub use_latest_restorable_time: Option<bool>,
    /// The instant, epoch seconds.
    pub restore_date_time: Option<f64>,
    /// Billing mode for the new table.
    pub billing_mode_override: Option<String>,
    /// GSIs for the new table (replacing the source's).
    pub global_secondary_index_override: Option<Vec<GlobalSecondaryIndex>>,
    /// LSIs for the new table (replacing the source's).
    pub local_secondary_index_override: Option<Vec<LocalSecondaryIndex>>,
    /// Throughput for the new table.
    pub provisioned_throughput_override: Option<ProvisionedThroughput>,
    /// Encryption for the new table.
    #[serde(rename = "SSESpecificationOverride")]
    pub sse_specification_override: Option<SseSpecification>,
}

/// Backup, list and PITR-setting inputs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackupInput {
    /// The table.
    pub table_name: Option<String>,
    /// The backup's name.
    pub backup_name: Option<String>,
    /// The backup's ARN.
    pub backup_arn: Option<String>,
    /// ListBackups page size.
    pub limit: Option<i64>,
    /// ListBackups lower time bound, epoch seconds.
    pub time_range_lower_bound: Option<f64>,
    /// ListBackups upper time bound, epoch seconds.
    pub time_range_upper_bound: Option<f64>,
    /// ListBackups continuation.
    pub exclusive_start_backup_arn: Option<String>,
    /// `USER`, `SYSTEM`, `AWS_BACKUP`, `ALL`.
    pub backup_type: Option<String>,
    /// UpdateContinuousBackups setting.
    pub point_in_time_recovery_specification: Option<PitrSpec>,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PitrSpec {
    /// On or off.
    pub point_in_time_recovery_enabled: bool,
    /// 1–35 days.
    pub recovery_period_in_days: Option<i64>,
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn backup_details(b: &Backup, status: &str) -> Value {
    json!({
        "BackupArn": b.arn,
        "BackupName": b.name,
        "BackupSizeBytes": b.snap.bytes,
        "BackupStatus": status,
        "BackupType": "USER",
        "BackupCreationDateTime": secs(b.snap.at_ms),
    })
}

fn backup_description(b: &Backup, status: &str) -> Value {
    json!({
        "BackupDetails": backup_details(b, status),
        "SourceTableDetails": {
            "TableName": b.def.name,
            "TableId": b.def.id,
            "TableArn": b.def.arn,
            "TableSizeBytes": b.snap.bytes,
            "KeySchema": b.def.key_schema,
            "TableCreationDateTime": b.def.created,
            "ProvisionedThroughput": { "ReadCapacityUnits": b.def.rcu, "WriteCapacityUnits": b.def.wcu },
            "ItemCount": b.snap.items.len(),
            "BillingMode": b.def.billing_mode,
        },
        "SourceTableFeatureDetails": {},
    })
}

impl RegionDb {
    /// CreateBackup.
    pub fn create_backup(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        match &input.backup_name {
            None => s.push("null", "backupName", "Member must not be null"),
            Some(n) => s.name_rules("backupName", n, 3, 255),
        }
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let t = self
            .tables
            .read()
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))?;
        let now = self.now_ms();
        let st = t.state.read();
        let b = Backup {
            arn: format!("{}/backup/{:014}-{}", st.def.arn, now, self.env.ids.hex(8)),
            name: input.backup_name.unwrap_or_default(),
            def: st.def.clone(),
            index_defs: st.indexes.iter().map(|i| i.def.clone()).collect(),
            snap: Snapshot {
                at_ms: now,
                items: st.items.clone(),
                bytes: st.bytes,
            },
        };
        drop(st);
        let out = json!({ "BackupDetails": backup_details(&b, "AVAILABLE") });
        self.backups.write().insert(b.arn.clone(), b);
        Ok(out)
    }

    fn backup(&self, arn: &Option<String>) -> Result<Backup> {
        let arn = arn.as_deref().unwrap_or_default();
        self.backups
            .read()
            .get(arn)
            .cloned()
            .ok_or_else(|| Error::BackupNotFound(format!("Backup not found: {arn}")))
    }

    /// DescribeBackup.
    pub fn describe_backup(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.required("backupArn", &input.backup_arn);
        s.finish()?;
        let b = self.backup(&input.backup_arn)?;
        Ok(json!({ "BackupDescription": backup_description(&b, "AVAILABLE") }))
    }

    /// DeleteBackup.
    pub fn delete_backup(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.required("backupArn", &input.backup_arn);
        s.finish()?;
        let b = self.backup(&input.backup_arn)?;
        self.backups.write().remove(&b.arn);
        Ok(json!({ "BackupDescription": backup_description(&b, "DELETED") }))
    }

    /// ListBackups.
    pub fn list_backups(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.range("limit", input.limit, 1, 100);
        s.one_of(
            "backupType",
            &input.backup_type,
            &["USER", "SYSTEM", "AWS_BACKUP", "ALL"],
        );
        s.finish()?;
        let backups = self.backups.read();
        let mut all: Vec<&Backup> = backups
            .values()
            .filter(|b| input.table_name.as_deref().is_none_or(|t| t == b.def.name))
            .filter(|b| {
                input
                    .time_range_lower_bound
                    .is_none_or(|lo| secs(b.snap.at_ms) >= lo)
            })
            .filter(|b| {
                input
                    .time_range_upper_bound
                    .is_none_or(|hi| secs(b.snap.at_ms) < hi)
            })
            .filter(|_| {
                !matches!(
                    input.backup_type.as_deref(),
                    Some("SYSTEM") | Some("AWS_BACKUP")
                )
            })
            .collect();
        all.sort_by(|a, b| (a.snap.at_ms, &a.arn).cmp(&(b.snap.at_ms, &b.arn)));
        let from = input
            .exclusive_start_backup_arn
            .as_deref()
            .and_then(|a| all.iter().position(|b| b.arn == a))
            .map_or(0, |i| i + 1);
        let limit = input.limit.map_or(usize::MAX, |l| l as usize);
        let page: Vec<Value> = all
            .iter()
            .skip(from)
            .take(limit)
            .map(|b| {
                let mut v = backup_details(b, "AVAILABLE");
                v["TableName"] = json!(b.def.name);
                v["TableId"] = json!(b.def.id);
                v["TableArn"] = json!(b.def.arn);
                v
            })
            .collect();
        let mut out = json!({ "BackupSummaries": page });
        if from.saturating_add(limit) < all.len()
            && let Some(last) = page.last()
        {
            out["LastEvaluatedBackupArn"] = last["BackupArn"].clone();
        }
        Ok(out)
    }

    /// UpdateContinuousBackups.
    pub fn update_continuous_backups(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required(
            "pointInTimeRecoverySpecification",
            &input.point_in_time_recovery_specification,
        );
        if let Some(spec) = &input.point_in_time_recovery_specification {
            s.range(
                "pointInTimeRecoverySpecification.recoveryPeriodInDays",
                spec.recovery_period_in_days,
                1,
                35,
            );
        }
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let t = self
            .tables
            .read()
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))?;
        let spec = input
            .point_in_time_recovery_specification
            .unwrap_or_default();
        let now = self.now_ms();
        let mut st = t.state.write();
        let period = spec.recovery_period_in_days.unwrap_or(35) as u32;
        match (spec.point_in_time_recovery_enabled, &mut st.pitr) {
            (true, Some(p)) => p.period_days = period,
            (true, None) => {
                let mut p = Pitr {
                    enabled_at_ms: now,
                    period_days: period,
                    history: Default::default(),
                };
                let (items, bytes) = (st.items.clone(), st.bytes);
                p.record(now, &items, bytes);
                st.pitr = Some(p);
            }
            (false, _) => st.pitr = None,
        }
        Ok(json!({ "ContinuousBackupsDescription": continuous(&st, now) }))
    }

    /// DescribeContinuousBackups.
    pub fn describe_continuous_backups(&self, input: BackupInput) -> Result<Value> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let t = self
            .tables
            .read()
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {name}")))?;
        let st = t.state.read();
        Ok(json!({ "ContinuousBackupsDescription": continuous(&st, self.now_ms()) }))
    }

    /// RestoreTableFromBackup.
    pub fn restore_table_from_backup(&self, input: RestoreInput) -> Result<Value> {
        let mut s = Shape::new();
        s.table_name("targetTableName", &input.target_table_name);
        s.required("backupArn", &input.backup_arn);
        s.finish()?;
        let b = self.backup(&input.backup_arn)?;
        let summary = json!({ "SourceBackupArn": b.arn, "SourceTableArn": b.def.arn, "RestoreDateTime": secs(b.snap.at_ms), "RestoreInProgress": false });
        self.restore(&input, &b.def, &b.index_defs, &b.snap, summary)
    }

    /// RestoreTableToPointInTime (also for a deleted table within its recovery period).
    pub fn restore_table_to_point_in_time(&self, input: RestoreInput) -> Result<Value> {
        let mut s = Shape::new();
        s.table_name("targetTableName", &input.target_table_name);
        s.finish()?;
        let source = match (&input.source_table_name, &input.source_table_arn) {
            (Some(n), _) => n.clone(),
            (None, Some(arn)) => arn.rsplit('/').next().unwrap_or_default().to_owned(),
            (None, None) => {
                return Err(Error::validation(
                    "Either SourceTableArn or SourceTableName must be specified",
                ));
            }
        };
        let now = self.now_ms();
        let live = self.tables.read().get(&source).cloned();
        let (def, index_defs, pitr) = match live {
            Some(t) => {
                let st = t.state.read();
                let pitr = st.pitr.clone().ok_or_else(|| {
                    Error::PointInTimeRecoveryUnavailable(format!(
                        "Point in time recovery is not enabled for table '{source}'"
                    ))
                })?;
                (
                    st.def.clone(),
                    st.indexes.iter().map(|i| i.def.clone()).collect::<Vec<_>>(),
                    pitr,
                )
            }
            None => {
                let deleted = self.deleted.read();
                let d = deleted
                    .iter()
                    .rev()
                    .find(|d| {
                        d.def.name == source
                            && d.deleted_ms + u64::from(d.pitr.period_days) * 86_400_000 > now
                    })
                    .ok_or_else(|| Error::TableNotFound(format!("Table not found: {source}")))?;
                (d.def.clone(), d.index_defs.clone(), d.pitr.clone())
            }
        };
        let earliest = pitr.earliest_ms(now);
        let latest = now.saturating_sub(PITR_LAG_MS);
        let at = if input.use_latest_restorable_time == Some(true) {
            latest
        } else {
            let t = input.restore_date_time.ok_or_else(|| {
                Error::validation(
                    "RestoreDateTime must be specified when UseLatestRestorableTime is not true",
                )
            })?;
            (t * 1000.0).max(0.0) as u64
        };
        if at < earliest / 1000 * 1000 || at > latest {
            return Err(Error::InvalidRestoreTime(format!(
                "Restore time {} is not within the range of EarliestRestorableDateTime {} and LatestRestorableDateTime {}",
                secs(at),
                secs(earliest),
                secs(latest)
            )));
        }
        let snap = pitr.state_at(at).cloned().unwrap_or(Snapshot {
            at_ms: at,
            items: OrdMap::new(),
            bytes: 0,
        });
        let summary = json!({ "SourceTableArn": def.arn, "RestoreDateTime": secs(at), "RestoreInProgress": false });
        self.restore(&input, &def, &index_defs, &snap, summary)
    }

    fn restore(
        &self,
        input: &RestoreInput,
        src: &TableDef,
        index_defs: &[IndexDef],
        snap: &Snapshot,
        summary: Value,
    ) -> Result<Value> {
        let target = input.target_table_name.clone().unwrap_or_default();
        let mut def = src.clone();
        def.name = target.clone();
        def.arn = self.table_arn(&target).into();
        def.id = self.env.ids.uuid();
        def.created = secs(self.now_ms());
        def.stream_spec = None;
        def.ttl_attribute = None;
        def.tags = Vec::new();
        def.deletion_protection = false;
        if let Some(m) = &input.billing_mode_override {
            def.billing_mode = m.clone();
        }
        if let Some(tp) = &input.provisioned_throughput_override {
            def.rcu = tp.read_capacity_units.unwrap_or(def.rcu);
            def.wcu = tp.write_capacity_units.unwrap_or(def.wcu);
        }
        if def.billing_mode == "PAY_PER_REQUEST" {
            def.rcu = 0;
            def.wcu = 0;
        }
        if let Some(sse) = &input.sse_specification_override {
            def.sse = (sse.enabled == Some(true)).then(|| crate::model::SseDescription {
                status: "ENABLED".into(),
                sse_type: "KMS".into(),
                kms_master_key_arn: sse.kms_master_key_id.clone().unwrap_or_default(),
            });
        }
        let provisioned = def.billing_mode == "PROVISIONED";
        let mut defs: Vec<IndexDef> = Vec::new();
        match &input.local_secondary_index_override {
            Some(lsis) => {
                for l in lsis {
                    let g = GlobalSecondaryIndex {
                        index_name: l.index_name.clone(),
                        key_schema: l.key_schema.clone(),
                        projection: l.projection.clone(),
                        ..Default::default()
                    };
                    let mut ix = self.build_gsi(&g, &def.attribute_definitions, false, &target)?;
                    ix.global = false;
                    defs.push(ix);
                }
            }
            None => defs.extend(index_defs.iter().filter(|i| !i.global).cloned()),
        }
        match &input.global_secondary_index_override {
            Some(gsis) => {
                for g in gsis {
                    defs.push(self.build_gsi(
                        g,
                        &def.attribute_definitions,
                        provisioned,
                        &target,
                    )?);
                }
            }
            None => defs.extend(index_defs.iter().filter(|i| i.global).cloned()),
        }
        for d in &mut defs {
            d.arn = format!("{}/index/{}", def.arn, d.name).into();
        }
        let mut st = TableState {
            def,
            items: snap.items.clone(),
            point: Default::default(),
            indexes: defs
                .into_iter()
                .map(|def| IndexState {
                    def,
                    map: OrdMap::new(),
                    bytes: 0,
                })
                .collect(),
            bytes: snap.bytes,
            stream: None,
            ttl: Default::default(),
            pitr: None,
            versions: Default::default(),
        };
        // The item map is shared with the backup (O(1)); the point index and the indexes are
        // rebuilt, walking a cheap clone of it.
        st.rebuild_point();
        let items = st.items.clone();
        for i in 0..st.indexes.len() {
            for (k, stored) in items.iter() {
                let item = &stored.item;
                if let Ok(Some((pk, sk))) = st.indexes[i].def.schema.index_key_of(item, "") {
                    let projected = st.project(&st.indexes[i].def, item);
                    st.indexes[i].bytes += crate::value::item_size(&projected) as u64;
                    st.indexes[i].map.insert(
                        crate::key::IKey {
                            h: pk.hash(),
                            pk,
                            sk,
                            base: k.clone(),
                        },
                        projected,
                    );
                }
            }
        }
        let mut tables = self.tables.write();
        if tables.contains_key(&target) {
            return Err(Error::TableAlreadyExists(format!(
                "Table already exists: {target}"
            )));
        }
        let mut desc = serde_json::to_value(describe(&st)).unwrap_or_default();
        desc["TableStatus"] = json!("CREATING");
        desc["RestoreSummary"] = summary;
        tables.insert(target, Table::new(st));
        Ok(json!({ "TableDescription": desc }))
    }
}

fn continuous(st: &TableState, now: u64) -> Value {
    let pitr = match &st.pitr {
        Some(p) => json!({
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": p.period_days,
            "EarliestRestorableDateTime": secs(p.earliest_ms(now) / 1000 * 1000),
            "LatestRestorableDateTime": secs(now.saturating_sub(PITR_LAG_MS) / 1000 * 1000),
        }),
        None => json!({ "PointInTimeRecoveryStatus": "DISABLED" }),
    };
    json!({ "ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr })
}
