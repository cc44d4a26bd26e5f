//! The `TableDescription` DescribeTable, CreateTable, UpdateTable and DeleteTable answer with.

use crate::model::*;
use crate::table::{IndexState, TableDef, TableState};

pub(super) fn throughput_desc(def: &TableDef, r: i64, w: i64) -> ProvisionedThroughputDescription {
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
        index_arn: i.def.arn.to_string(),
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
        table_arn: def.arn.to_string(),
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
