//! UpdateTable: throughput, billing mode, GSI create/update/delete, streams, table class,
//! deletion protection and encryption, each checked before anything changes.

use imbl::OrdMap;

use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::model::*;
use crate::table::IndexState;
use crate::validate::Shape;

use super::describe::describe;
use super::schema::*;

impl RegionDb {
    /// UpdateTable: throughput, billing mode, GSI create/update/delete, streams, class,
    /// deletion protection, encryption.
    pub fn update_table(&self, input: UpdateTableInput) -> Result<TableDescriptionOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        table_settings_shape(
            &mut s,
            &input.billing_mode,
            &input.table_class,
            &input.provisioned_throughput,
            &input.stream_specification,
        );
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
                        stream.lock().disable(self.now_ms());
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
