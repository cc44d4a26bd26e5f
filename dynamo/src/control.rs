//! The control plane: creating, describing, listing, updating and deleting tables; TTL; tags;
//! limits and endpoints.
//!
//! Tables are usable as soon as CreateTable returns. The CreateTable answer reports `CREATING`
//! and DeleteTable `DELETING`, as AWS's do, while DescribeTable reports `ACTIVE` at once: an
//! application that waits for ACTIVE (as the SDK waiters do) proceeds immediately, and one that
//! does not wait still works.

use std::collections::HashSet;
use std::sync::Arc;

use imbl::OrdMap;
use parking_lot::Mutex;

use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::key::{KeyAttr, KeyType, Schema};
use crate::model::*;
use crate::streams::StreamLog;
use crate::table::{IndexDef, IndexState, ProjKind, TableDef, TableState};
use crate::validate::Shape;

const P: &str = "One or more parameter values were invalid: ";
const STREAM_VIEW_TYPES: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::Validation(format!("{P}{msg}"))
}

fn parse_schema(
    elems: &[KeySchemaElement],
    defs: &[AttributeDefinition],
    index: Option<&str>,
) -> Result<Schema> {
    let ty_of = |name: &str| {
        defs.iter()
            .find(|d| d.attribute_name == name)
            .and_then(|d| KeyType::parse(&d.attribute_type))
    };
    let first = elems
        .first()
        .ok_or_else(|| invalid("Invalid KeySchema: KeySchema is empty"))?;
    if first.key_type != "HASH" {
        return Err(Error::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = elems.get(1) {
        if second.key_type != "RANGE" {
            return Err(Error::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if second.attribute_name == first.attribute_name {
            return Err(Error::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    let attr = |e: &KeySchemaElement| -> Result<KeyAttr> {
        let ty = ty_of(&e.attribute_name).ok_or_else(|| match index {
            Some(ix) => invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}] for index: {ix}",
                e.attribute_name,
                defs.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            )),
            None => invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                elems.iter().map(|e| e.attribute_name.as_str()).collect::<Vec<_>>().join(", "),
                defs.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        })?;
        Ok(KeyAttr {
            name: e.attribute_name.clone(),
            ty,
        })
    };
    Ok(Schema {
        hash: attr(first)?,
        range: elems.get(1).map(attr).transpose()?,
    })
}

fn parse_projection(p: &Option<Projection>, index: &str) -> Result<(Projection, ProjKind)> {
    let p = p.clone().unwrap_or_default();
    let kind = match p.projection_type.as_deref() {
        Some("ALL") | Some("KEYS_ONLY") if p.non_key_attributes.is_some() => {
            return Err(invalid(format!(
                "ProjectionType is {}, but NonKeyAttributes is specified",
                p.projection_type.as_deref().unwrap_or_default()
            )));
        }
        Some("ALL") => ProjKind::All,
        Some("KEYS_ONLY") => ProjKind::KeysOnly,
        Some("INCLUDE") => match &p.non_key_attributes {
            Some(v) if !v.is_empty() => ProjKind::Include(v.clone()),
            _ => {
                return Err(invalid(format!(
                    "NonKeyAttributes must be specified when ProjectionType is INCLUDE for index: {index}"
                )));
            }
        },
        Some(other) => return Err(invalid(format!("Unknown ProjectionType: {other}"))),
        None => return Err(invalid("Unknown ProjectionType: null")),
    };
    Ok((p, kind))
}

fn throughput(
    t: &Option<ProvisionedThroughput>,
    provisioned: bool,
    index: Option<&str>,
) -> Result<(i64, i64)> {
    match (provisioned, t) {
        (
            true,
            Some(ProvisionedThroughput {
                read_capacity_units: Some(r),
                write_capacity_units: Some(w),
            }),
        ) => Ok((*r, *w)),
        (true, Some(_)) => Err(invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
        (true, None) => Err(match index {
            Some(ix) => invalid(format!(
                "ProvisionedThroughput must be specified for index: {ix}"
            )),
            None => invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ),
        }),
        (false, Some(_)) => Err(match index {
            Some(ix) => invalid(format!(
                "ProvisionedThroughput should not be specified for index: {ix} when BillingMode is PAY_PER_REQUEST"
            )),
            None => invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ),
        }),
        (false, None) => Ok((0, 0)),
    }
}

fn throughput_shape(s: &mut Shape, member: &str, t: &Option<ProvisionedThroughput>) {
    if let Some(t) = t {
        s.range(
            &format!("{member}.readCapacityUnits"),
            t.read_capacity_units,
            1,
            i64::MAX,
        );
        s.range(
            &format!("{member}.writeCapacityUnits"),
            t.write_capacity_units,
            1,
            i64::MAX,
        );
    }
}

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
            arn: format!("{}/index/{}", self.table_arn(table), g.index_name),
            on_demand: g.on_demand_throughput.clone(),
        })
    }

    pub(crate) fn new_stream(&self, def: &TableDef, view_type: &str) -> Arc<Mutex<StreamLog>> {
        let now = self.now_ms();
        let label = nubis_core::clock::to_rfc3339(self.env.clock.now())
            .trim_end_matches('Z')
            .to_owned();
        let log = Arc::new(Mutex::new(StreamLog {
            arn: format!("{}/stream/{label}", def.arn),
            label,
            table_name: def.name.clone(),
            region: self.region.as_str().to_owned(),
            view_type: view_type.to_owned(),
            key_schema: def.key_schema.clone(),
            created: now as f64 / 1000.0,
            shard_id: format!("shardId-{:020}-{}", now, self.env.ids.hex(8)),
            records: Default::default(),
            first_seq: 100_000_000_000_000_000,
            next_seq: 100_000_000_000_000_000,
            enabled: true,
            closed_at_ms: None,
            id_seed: self.env.ids.hex(16),
        }));
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
        s.one_of(
            "billingMode",
            &input.billing_mode,
            &["PROVISIONED", "PAY_PER_REQUEST"],
        );
        s.one_of(
            "tableClass",
            &input.table_class,
            &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
        );
        throughput_shape(
            &mut s,
            "provisionedThroughput",
            &input.provisioned_throughput,
        );
        if let Some(ss) = &input.stream_specification {
            s.one_of(
                "streamSpecification.streamViewType",
                &ss.stream_view_type,
                STREAM_VIEW_TYPES,
            );
        }
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
                    arn: format!("{}/index/{}", self.table_arn(&name), l.index_name),
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
            arn: self.table_arn(&name),
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
            let mut s = stream.lock();
            s.enabled = false;
            s.closed_at_ms = Some(self.now_ms());
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

    /// UpdateTable: throughput, billing mode, GSI create/update/delete, streams, class,
    /// deletion protection, encryption.
    pub fn update_table(&self, input: UpdateTableInput) -> Result<TableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.one_of(
            "billingMode",
            &input.billing_mode,
            &["PROVISIONED", "PAY_PER_REQUEST"],
        );
        s.one_of(
            "tableClass",
            &input.table_class,
            &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
        );
        throughput_shape(
            &mut s,
            "provisionedThroughput",
            &input.provisioned_throughput,
        );
        if let Some(ss) = &input.stream_specification {
            s.one_of(
                "streamSpecification.streamViewType",
                &ss.stream_view_type,
                STREAM_VIEW_TYPES,
            );
        }
        s.finish()?;
        if input.provisioned_throughput.is_none()
            && input.billing_mode.is_none()
            && input.global_secondary_index_updates.is_none()
            && input.stream_specification.is_none()
            && input.sse_specification.is_none()
            && input.replica_updates.is_none()
            && input.table_class.is_none()
            && input.deletion_protection_enabled.is_none()
            && input.on_demand_throughput.is_none()
        {
            return Err(Error::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ));
        }
        if input.replica_updates.is_some() {
            return self.update_replicas(&input);
        }
        if let Some(ss) = &input.stream_specification {
            self.check_replica_stream(input.table_name.as_deref().unwrap_or_default(), ss)?;
        }
        let t = self.table_named(input.table_name.as_deref().unwrap_or_default())?;
        let mut st = t.state.write();
        let mut next = st.clone();
        let now = self.now_ms() as f64 / 1000.0;
        if let Some(mode) = &input.billing_mode {
            if *mode == "PAY_PER_REQUEST" && next.def.billing_mode != "PAY_PER_REQUEST" {
                next.def.pay_per_request_since = Some(now);
            }
            next.def.billing_mode = mode.clone();
        }
        let provisioned = next.def.billing_mode == "PROVISIONED";
        if let Some(tp) = &input.provisioned_throughput {
            let (r, w) = throughput(&Some(tp.clone()), provisioned, None)?;
            if r < next.def.rcu || w < next.def.wcu {
                next.def.decreases_today += 1;
                next.def.last_decrease = Some(now);
            }
            if r > next.def.rcu || w > next.def.wcu {
                next.def.last_increase = Some(now);
            }
            next.def.rcu = r;
            next.def.wcu = w;
        } else if input.billing_mode.as_deref() == Some("PROVISIONED")
            && st.def.billing_mode != "PROVISIONED"
        {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
        if !provisioned {
            next.def.rcu = 0;
            next.def.wcu = 0;
        }
        let defs = input
            .attribute_definitions
            .clone()
            .unwrap_or_else(|| next.def.attribute_definitions.clone());
        for u in input.global_secondary_index_updates.iter().flatten() {
            match (&u.create, &u.update, &u.delete) {
                (Some(c), None, None) => {
                    if next.indexes.iter().any(|i| i.def.name == c.index_name) {
                        return Err(Error::validation(format!(
                            "Attempting to create an index which already exists: {}",
                            c.index_name
                        )));
                    }
                    if next.indexes.iter().filter(|i| i.def.global).count() >= 20 {
                        return Err(invalid(
                            "GlobalSecondaryIndex count exceeds the per-table limit of 20",
                        ));
                    }
                    let ix = self.build_gsi(c, &defs, provisioned, &next.def.name)?;
                    for d in &defs {
                        if !next
                            .def
                            .attribute_definitions
                            .iter()
                            .any(|x| x.attribute_name == d.attribute_name)
                        {
                            next.def.attribute_definitions.push(d.clone());
                        }
                    }
                    // Backfill at once: the index is ACTIVE when UpdateTable returns.
                    let mut state = IndexState {
                        def: ix,
                        map: OrdMap::new(),
                        bytes: 0,
                    };
                    for (k, v) in next.items.iter() {
                        if let Ok(Some((pk, sk))) =
                            state.def.schema.index_key_of(&v.item, &state.def.name)
                        {
                            let projected = next.project(&state.def, &v.item);
                            state.bytes += crate::value::item_size(&projected) as u64;
                            state.map.insert(
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
                    next.indexes.push(state);
                }
                (None, Some(up), None) => {
                    let ix = next
                        .indexes
                        .iter_mut()
                        .find(|i| i.def.global && i.def.name == up.index_name)
                        .ok_or_else(|| {
                            Error::ResourceNotFound(format!(
                                "Requested resource not found: Index: {} not found",
                                up.index_name
                            ))
                        })?;
                    let (r, w) = throughput(
                        &up.provisioned_throughput,
                        provisioned,
                        Some(&up.index_name),
                    )?;
                    ix.def.rcu = r;
                    ix.def.wcu = w;
                }
                (None, None, Some(d)) => {
                    let before = next.indexes.len();
                    next.indexes
                        .retain(|i| !(i.def.global && i.def.name == d.index_name));
                    if next.indexes.len() == before {
                        return Err(Error::ResourceNotFound(format!(
                            "Requested resource not found: Index: {} not found",
                            d.index_name
                        )));
                    }
                }
                _ => {
                    return Err(Error::validation(
                        "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
                    ));
                }
            }
        }
        if let Some(ss) = &input.stream_specification {
            let currently = next.stream.is_some();
            match (ss.stream_enabled, currently) {
                (true, true) => {
                    return Err(Error::validation(format!(
                        "Table already has an enabled stream: {}",
                        next.def.arn
                    )));
                }
                (false, false) => {
                    return Err(Error::validation(format!(
                        "Table already has no stream enabled: {}",
                        next.def.arn
                    )));
                }
                (true, false) => {
                    let vt = ss.stream_view_type.clone().ok_or_else(|| {
                        invalid("StreamViewType is required when StreamEnabled is true")
                    })?;
                    next.stream = Some(self.new_stream(&next.def, &vt));
                    next.def.stream_spec = Some(ss.clone());
                }
                (false, true) => {
                    if let Some(stream) = next.stream.take() {
                        let mut s = stream.lock();
                        s.enabled = false;
                        s.closed_at_ms = Some(self.now_ms());
                    }
                    next.def.stream_spec = None;
                }
            }
        }
        if let Some(c) = &input.table_class {
            next.def.table_class = c.clone();
        }
        if let Some(d) = input.deletion_protection_enabled {
            next.def.deletion_protection = d;
        }
        if let Some(o) = &input.on_demand_throughput {
            next.def.on_demand = Some(o.clone());
        }
        if let Some(sse) = &input.sse_specification {
            next.def.sse = (sse.enabled == Some(true)).then(|| SseDescription {
                status: "ENABLED".to_owned(),
                sse_type: "KMS".to_owned(),
                kms_master_key_arn: sse.kms_master_key_id.clone().unwrap_or_else(|| {
                    format!(
                        "arn:aws:kms:{}:{}:key/aws/dynamodb",
                        self.region.as_str(),
                        self.env.account.as_str()
                    )
                }),
            });
        }
        *st = next;
        let mut desc = describe(&st);
        drop(st);
        self.add_global_description(&mut desc);
        Ok(TableDescriptionOutput {
            table_description: Some(desc),
        })
    }
}

fn throughput_desc(def: &TableDef, r: i64, w: i64) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription {
        read_capacity_units: r,
        write_capacity_units: w,
        number_of_decreases_today: def.decreases_today,
        last_increase_date_time: def.last_increase,
        last_decrease_date_time: def.last_decrease,
    }
}

/// The `TableDescription` of a table.
pub fn describe(st: &TableState) -> TableDescription {
    let def = &st.def;
    let index_desc = |i: &IndexState| IndexDescription {
        index_name: i.def.name.clone(),
        key_schema: i.def.key_schema.clone(),
        projection: i.def.projection.clone(),
        index_status: i.def.global.then(|| "ACTIVE".to_owned()),
        backfilling: None,
        provisioned_throughput: i.def.global.then(|| ProvisionedThroughputDescription {
            read_capacity_units: i.def.rcu,
            write_capacity_units: i.def.wcu,
            ..Default::default()
        }),
        index_size_bytes: i.bytes as i64,
        item_count: i.map.len() as i64,
        index_arn: i.def.arn.clone(),
        on_demand_throughput: i.def.on_demand.clone(),
    };
    let lsis: Vec<IndexDescription> = st
        .indexes
        .iter()
        .filter(|i| !i.def.global)
        .map(index_desc)
        .collect();
    let gsis: Vec<IndexDescription> = st
        .indexes
        .iter()
        .filter(|i| i.def.global)
        .map(index_desc)
        .collect();
    let stream = st.stream.as_ref().map(|s| s.lock());
    TableDescription {
        attribute_definitions: def.attribute_definitions.clone(),
        table_name: def.name.clone(),
        key_schema: def.key_schema.clone(),
        table_status: "ACTIVE".to_owned(),
        creation_date_time: def.created,
        provisioned_throughput: throughput_desc(def, def.rcu, def.wcu),
        table_size_bytes: st.bytes as i64,
        item_count: st.items.len() as i64,
        table_arn: def.arn.clone(),
        table_id: def.id.clone(),
        billing_mode_summary: Some(BillingModeSummary {
            billing_mode: def.billing_mode.clone(),
            last_update_to_pay_per_request_date_time: def.pay_per_request_since,
        }),
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        stream_specification: def.stream_spec.clone(),
        latest_stream_label: stream.as_ref().map(|s| s.label.clone()),
        latest_stream_arn: stream.as_ref().map(|s| s.arn.clone()),
        global_table_version: None,
        replicas: None,
        sse_description: def.sse.clone(),
        table_class_summary: (def.table_class != "STANDARD").then(|| TableClassSummary {
            table_class: def.table_class.clone(),
        }),
        deletion_protection_enabled: def.deletion_protection,
        on_demand_throughput: def.on_demand.clone(),
    }
}
