//! The control plane: creating, describing, listing, updating and deleting tables; TTL; tags;
//! limits and endpoints.
//!
//! Tables are usable as soon as CreateTable returns. The CreateTable answer reports `CREATING`
//! and DeleteTable `DELETING`, as AWS's do, while DescribeTable reports `ACTIVE` at once: an
//! application that waits for ACTIVE (as the SDK waiters do) proceeds immediately, and one that
//! does not wait still works.

mod describe;
mod schema;
mod update;

pub use describe::describe;

use std::collections::HashSet;
use std::sync::Arc;

use imbl::OrdMap;
use parking_lot::Mutex;

use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::key::KeyType;
use crate::model::*;
use crate::streams::StreamLog;
use crate::table::{IndexDef, IndexState, TableDef, TableState};
use crate::validate::Shape;

use schema::*;

impl RegionDb {
    /// The ARN of table `name` in this region.
    pub fn table_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{name}",
            self.region.as_str(),
            self.env.account.as_str()
        )
    }

    /// Checks and builds a GSI definition.
    pub fn build_gsi(
        &self,
        g: &GlobalSecondaryIndex,
        defs: &[AttributeDefinition],
        provisioned: bool,
        table: &str,
    ) -> Result<IndexDef> {
        let schema = parse_schema(&g.key_schema, defs, Some(&g.index_name))?;
        let (projection, proj) = parse_projection(&g.projection, &g.index_name)?;
        let (rcu, wcu) = throughput(&g.provisioned_throughput, provisioned, Some(&g.index_name))?;
        Ok(IndexDef {
            name: g.index_name.clone(),
            global: true,
            schema,
            key_schema: g.key_schema.clone(),
            projection,
            proj,
            rcu,
            wcu,
            arn: format!("{}/index/{}", self.table_arn(table), g.index_name).into(),
            on_demand: g.on_demand_throughput.clone(),
        })
    }

    pub(crate) fn new_stream(&self, def: &TableDef, view_type: &str) -> Arc<Mutex<StreamLog>> {
        let now = self.now_ms();
        let label = nubis_core::clock::to_rfc3339(self.env.clock.now())
            .trim_end_matches('Z')
            .to_owned();
        let lifetime = self
            .config
            .stream_shard_lifetime
            .map_or(crate::streams::SHARD_LIFETIME_MS, |d| {
                u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
            });
        let log = Arc::new(Mutex::new(StreamLog::new(
            format!("{}/stream/{label}", def.arn),
            label,
            def.name.clone(),
            self.region.as_str().to_owned(),
            view_type.to_owned(),
            def.key_schema.clone(),
            now,
            lifetime,
            self.env.ids.clone(),
        )));
        self.streams.write().push(Arc::clone(&log));
        log
    }

    /// CreateTable.
    pub fn create_table(&self, input: CreateTableInput) -> Result<TableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("attributeDefinitions", &input.attribute_definitions);
        s.required("keySchema", &input.key_schema);
        s.len(
            "keySchema",
            input.key_schema.as_ref().map(Vec::len),
            1,
            2,
            "the key schema",
        );
        table_settings_shape(
            &mut s,
            &input.billing_mode,
            &input.table_class,
            &input.provisioned_throughput,
            &input.stream_specification,
        );
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let defs = input.attribute_definitions.unwrap_or_default();
        let key_schema = input.key_schema.unwrap_or_default();
        let mut seen = HashSet::new();
        for d in &defs {
            if !seen.insert(d.attribute_name.as_str()) {
                return Err(invalid(format!(
                    "Duplicate AttributeName found: {}",
                    d.attribute_name
                )));
            }
            if KeyType::parse(&d.attribute_type).is_none() {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{}' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                    d.attribute_type
                )));
            }
        }
        let schema = parse_schema(&key_schema, &defs, None)?;
        let provisioned = input.billing_mode.as_deref() != Some("PAY_PER_REQUEST");
        let (rcu, wcu) = throughput(&input.provisioned_throughput, provisioned, None)?;

        let mut indexes = Vec::new();
        let mut used: HashSet<String> = schema.names().map(str::to_owned).collect();
        let mut index_names = HashSet::new();
        if let Some(lsis) = &input.local_secondary_indexes {
            if lsis.is_empty() {
                return Err(invalid("List of LocalSecondaryIndexes is empty"));
            }
            if lsis.len() > 5 {
                return Err(invalid(
                    "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
                ));
            }
            if schema.range.is_none() {
                return Err(invalid(
                    "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
                ));
            }
            for l in lsis {
                if !index_names.insert(l.index_name.clone()) {
                    return Err(invalid(format!("Duplicate index name: {}", l.index_name)));
                }
                let ix_schema = parse_schema(&l.key_schema, &defs, Some(&l.index_name))?;
                if ix_schema.hash.name != schema.hash.name {
                    return Err(invalid(format!(
                        "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                        l.index_name, ix_schema.hash.name, schema.hash.name
                    )));
                }
                if ix_schema.range.is_none() {
                    return Err(invalid(format!(
                        "Index KeySchema does not have a range key for index: {}",
                        l.index_name
                    )));
                }
                used.extend(ix_schema.names().map(str::to_owned));
                let (projection, proj) = parse_projection(&l.projection, &l.index_name)?;
                indexes.push(IndexDef {
                    name: l.index_name.clone(),
                    global: false,
                    schema: ix_schema,
                    key_schema: l.key_schema.clone(),
                    projection,
                    proj,
                    rcu: 0,
                    wcu: 0,
                    arn: format!("{}/index/{}", self.table_arn(&name), l.index_name).into(),
                    on_demand: None,
                });
            }
        }
        if let Some(gsis) = &input.global_secondary_indexes {
            if gsis.is_empty() {
                return Err(invalid("List of GlobalSecondaryIndexes is empty"));
            }
            if gsis.len() > 20 {
                return Err(invalid(
                    "GlobalSecondaryIndex count exceeds the per-table limit of 20",
                ));
            }
            for g in gsis {
                if !index_names.insert(g.index_name.clone()) {
                    return Err(invalid(format!("Duplicate index name: {}", g.index_name)));
                }
                let ix = self.build_gsi(g, &defs, provisioned, &name)?;
                used.extend(ix.schema.names().map(str::to_owned));
                indexes.push(ix);
            }
        }
        if used.len() != defs.len() {
            return Err(invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
        let stream_spec = match &input.stream_specification {
            Some(ss) if ss.stream_enabled => {
                if ss.stream_view_type.is_none() {
                    return Err(invalid(
                        "StreamViewType is required when StreamEnabled is true",
                    ));
                }
                Some(ss.clone())
            }
            Some(ss) if ss.stream_view_type.is_some() => {
                return Err(invalid(
                    "StreamViewType cannot be specified when StreamEnabled is false",
                ));
            }
            _ => None,
        };
        let now = self.now_ms() as f64 / 1000.0;
        let def = TableDef {
            arn: self.table_arn(&name).into(),
            id: self.env.ids.uuid(),
            name: name.clone(),
            schema,
            attribute_definitions: defs,
            key_schema,
            billing_mode: if provisioned {
                "PROVISIONED"
            } else {
                "PAY_PER_REQUEST"
            }
            .to_owned(),
            rcu,
            wcu,
            created: now,
            stream_spec: stream_spec.clone(),
            ttl_attribute: None,
            tags: input.tags.unwrap_or_default(),
            table_class: input.table_class.unwrap_or_else(|| "STANDARD".to_owned()),
            sse: input
                .sse_specification
                .filter(|s| s.enabled == Some(true))
                .map(|s| SseDescription {
                    status: "ENABLED".to_owned(),
                    sse_type: "KMS".to_owned(),
                    kms_master_key_arn: s.kms_master_key_id.unwrap_or_else(|| {
                        format!(
                            "arn:aws:kms:{}:{}:key/aws/dynamodb",
                            self.region.as_str(),
                            self.env.account.as_str()
                        )
                    }),
                }),
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
            on_demand: input.on_demand_throughput,
            pay_per_request_since: if provisioned { None } else { Some(now) },
            decreases_today: 0,
            last_increase: None,
            last_decrease: None,
        };
        let mut tables = self.tables.write();
        if tables.contains_key(&name) {
            return Err(Error::ResourceInUse(format!(
                "Table already exists: {name}"
            )));
        }
        let stream = stream_spec
            .as_ref()
            .map(|ss| self.new_stream(&def, ss.stream_view_type.as_deref().unwrap_or("KEYS_ONLY")));
        let state = TableState {
            def,
            items: OrdMap::new(),
            point: Default::default(),
            indexes: indexes
                .into_iter()
                .map(|def| IndexState {
                    def,
                    map: OrdMap::new(),
                    bytes: 0,
                })
                .collect(),
            bytes: 0,
            stream,
            ttl: Default::default(),
            pitr: None,
            versions: Default::default(),
        };
        let mut desc = describe(&state);
        desc.table_status = "CREATING".to_owned();
        tables.insert(name, Table::new(state));
        Ok(TableDescriptionOutput {
            table_description: Some(desc),
        })
    }

    /// DescribeTable.
    pub fn describe_table(&self, input: TableNameInput) -> Result<DescribeTableOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let t = self.table_named(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let mut desc = describe(&st);
        drop(st);
        self.add_global_description(&mut desc);
        Ok(DescribeTableOutput { table: Some(desc) })
    }

    /// ListTables.
    pub fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        let mut s = Shape::new();
        s.range("limit", input.limit, 1, 100);
        if let Some(n) = &input.exclusive_start_table_name {
            s.name_rules("exclusiveStartTableName", n, 3, 255);
        }
        s.finish()?;
        let limit = input.limit.unwrap_or(100) as usize;
        let names = self.table_names();
        let start = input.exclusive_start_table_name.as_deref();
        let rest: Vec<String> = names
            .into_iter()
            .filter(|n| start.is_none_or(|s| n.as_str() > s))
            .collect();
        let more = rest.len() > limit;
        let table_names: Vec<String> = rest.into_iter().take(limit).collect();
        let last_evaluated_table_name = if more {
            table_names.last().cloned()
        } else {
            None
        };
        Ok(ListTablesOutput {
            table_names,
            last_evaluated_table_name,
        })
    }

    /// DeleteTable.
    pub fn delete_table(&self, input: TableNameInput) -> Result<TableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let name = input.table_name.unwrap_or_default();
        let mut tables = self.tables.write();
        let t = tables
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::table_not_found_named(&name))?;
        let st = t.state.read();
        if st.def.deletion_protection {
            return Err(Error::validation(format!(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.: {}",
                st.def.arn
            )));
        }
        if let Some(stream) = &st.stream {
            stream.lock().disable(self.now_ms());
        }
        let mut desc = describe(&st);
        desc.table_status = "DELETING".to_owned();
        if let Some(pitr) = &st.pitr {
            // A deleted table stays restorable from its PITR history for the recovery period.
            self.deleted.write().push(crate::backup::DeletedTable {
                def: st.def.clone(),
                index_defs: st.indexes.iter().map(|i| i.def.clone()).collect(),
                pitr: pitr.clone(),
                deleted_ms: self.now_ms(),
            });
        }
        drop(st);
        tables.remove(&name);
        drop(tables);
        // A replica leaves its global table (after the tables lock: the hub's locks come later).
        self.global.table_deleted(self.region.as_str(), &name);
        Ok(TableDescriptionOutput {
            table_description: Some(desc),
        })
    }
}
