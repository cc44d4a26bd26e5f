//! Request and response shapes, mirroring the DynamoDB API (field names as on the wire).
//!
//! The same types serve the Rust API and the JSON protocol: every input derives `Deserialize`
//! with DynamoDB's member names and `Default`, so a Rust caller fills only what it needs
//! (`GetItemInput { table_name: Some("t".into()), key, ..Default::default() }`), and every output
//! derives `Serialize`. Enumerations stay strings so that a bad value is DynamoDB's
//! `ValidationException`, not a deserialization error. Items in outputs are `Arc<Item>`: reads
//! hand out the stored item without copying it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::value::{AttributeValue, Item};

/// Placeholder maps.
pub type Names = HashMap<String, String>;
/// Value placeholder maps.
pub type Values = HashMap<String, AttributeValue>;

macro_rules! shape {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase", default)]
        pub struct $name {
            $($(#[$fm])* #[serde(skip_serializing_if = "crate::model::Skip::skip")] pub $f: $t,)*
        }
    };
}

/// Which members are left out of a JSON answer: absent options. Everything else (counts of
/// zero, empty maps such as `UnprocessedItems`) is written, as DynamoDB writes it.
pub(crate) trait Skip {
    fn skip(&self) -> bool {
        false
    }
}

impl<T> Skip for Option<T> {
    fn skip(&self) -> bool {
        self.is_none()
    }
}

pub(crate) use shape;

macro_rules! never_skip {
    ($($t:ty),*) => { $(impl Skip for $t {})* };
}
never_skip!(
    String,
    i64,
    f64,
    bool,
    Projection,
    ProvisionedThroughputDescription
);
impl<T> Skip for Vec<T> {}
impl<K, V> Skip for HashMap<K, V> {}

// ---------------------------------------------------------------------------------------------
// Control plane

shape! {
    /// `AttributeDefinition`.
    pub struct AttributeDefinition {
        /// The attribute.
        pub attribute_name: String,
        /// `S`, `N` or `B`.
        pub attribute_type: String,
    }
}

shape! {
    /// `KeySchemaElement`.
    pub struct KeySchemaElement {
        /// The attribute.
        pub attribute_name: String,
        /// `HASH` or `RANGE`.
        pub key_type: String,
    }
}

shape! {
    /// `Projection`.
    pub struct Projection {
        /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
        pub projection_type: Option<String>,
        /// For `INCLUDE`.
        pub non_key_attributes: Option<Vec<String>>,
    }
}

shape! {
    /// `ProvisionedThroughput`.
    pub struct ProvisionedThroughput {
        /// RCUs.
        pub read_capacity_units: Option<i64>,
        /// WCUs.
        pub write_capacity_units: Option<i64>,
    }
}

shape! {
    /// `OnDemandThroughput`.
    pub struct OnDemandThroughput {
        /// Maximum read request units.
        pub max_read_request_units: Option<i64>,
        /// Maximum write request units.
        pub max_write_request_units: Option<i64>,
    }
}

shape! {
    /// `GlobalSecondaryIndex`.
    pub struct GlobalSecondaryIndex {
        /// The name.
        pub index_name: String,
        /// The key.
        pub key_schema: Vec<KeySchemaElement>,
        /// What is copied into the index.
        pub projection: Option<Projection>,
        /// For provisioned tables.
        pub provisioned_throughput: Option<ProvisionedThroughput>,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
    }
}

shape! {
    /// `LocalSecondaryIndex`.
    pub struct LocalSecondaryIndex {
        /// The name.
        pub index_name: String,
        /// The key.
        pub key_schema: Vec<KeySchemaElement>,
        /// What is copied into the index.
        pub projection: Option<Projection>,
    }
}

shape! {
    /// `StreamSpecification`.
    pub struct StreamSpecification {
        /// Whether the stream is on.
        pub stream_enabled: bool,
        /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES`.
        pub stream_view_type: Option<String>,
    }
}

shape! {
    /// `SSESpecification`.
    pub struct SseSpecification {
        /// Whether KMS encryption is on.
        pub enabled: Option<bool>,
        /// `KMS`.
        #[serde(rename = "SSEType")]
        pub sse_type: Option<String>,
        /// The key.
        #[serde(rename = "KMSMasterKeyId")]
        pub kms_master_key_id: Option<String>,
    }
}

shape! {
    /// `Tag`.
    pub struct Tag {
        /// The key.
        pub key: String,
        /// The value.
        pub value: String,
    }
}

shape! {
    /// `CreateTable` input.
    pub struct CreateTableInput {
        /// The table.
        pub table_name: Option<String>,
        /// Key attribute types.
        pub attribute_definitions: Option<Vec<AttributeDefinition>>,
        /// The primary key.
        pub key_schema: Option<Vec<KeySchemaElement>>,
        /// LSIs.
        pub local_secondary_indexes: Option<Vec<LocalSecondaryIndex>>,
        /// GSIs.
        pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndex>>,
        /// `PROVISIONED` (default) or `PAY_PER_REQUEST`.
        pub billing_mode: Option<String>,
        /// Throughput for provisioned tables.
        pub provisioned_throughput: Option<ProvisionedThroughput>,
        /// The stream.
        pub stream_specification: Option<StreamSpecification>,
        /// Encryption at rest.
        #[serde(rename = "SSESpecification")]
        pub sse_specification: Option<SseSpecification>,
        /// Tags.
        pub tags: Option<Vec<Tag>>,
        /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
        pub table_class: Option<String>,
        /// Deletion protection.
        pub deletion_protection_enabled: Option<bool>,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
        /// Resource policy (accepted and kept).
        pub resource_policy: Option<String>,
    }
}

shape! {
    /// `ProvisionedThroughputDescription`.
    pub struct ProvisionedThroughputDescription {
        /// RCUs.
        pub read_capacity_units: i64,
        /// WCUs.
        pub write_capacity_units: i64,
        /// Decreases today.
        pub number_of_decreases_today: i64,
        /// Last increase, epoch seconds.
        pub last_increase_date_time: Option<f64>,
        /// Last decrease, epoch seconds.
        pub last_decrease_date_time: Option<f64>,
    }
}

shape! {
    /// `BillingModeSummary`.
    pub struct BillingModeSummary {
        /// The mode.
        pub billing_mode: String,
        /// When it last became on-demand.
        pub last_update_to_pay_per_request_date_time: Option<f64>,
    }
}

shape! {
    /// `GlobalSecondaryIndexDescription` and `LocalSecondaryIndexDescription`.
    pub struct IndexDescription {
        /// The name.
        pub index_name: String,
        /// The key.
        pub key_schema: Vec<KeySchemaElement>,
        /// The projection.
        pub projection: Projection,
        /// `ACTIVE` (GSIs only).
        pub index_status: Option<String>,
        /// Whether backfilling (GSIs only).
        pub backfilling: Option<bool>,
        /// Throughput (GSIs only).
        pub provisioned_throughput: Option<ProvisionedThroughputDescription>,
        /// Size.
        pub index_size_bytes: i64,
        /// Items.
        pub item_count: i64,
        /// ARN.
        pub index_arn: String,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
    }
}

shape! {
    /// `SSEDescription`.
    pub struct SseDescription {
        /// `ENABLED`.
        pub status: String,
        /// `KMS`.
        #[serde(rename = "SSEType")]
        pub sse_type: String,
        /// The key ARN.
        #[serde(rename = "KMSMasterKeyArn")]
        pub kms_master_key_arn: String,
    }
}

shape! {
    /// `TableClassSummary`.
    pub struct TableClassSummary {
        /// The class.
        pub table_class: String,
    }
}

shape! {
    /// `ReplicaDescription` (Global Tables version 2019.11.21).
    pub struct ReplicaDescription {
        /// The replica's region.
        pub region_name: String,
        /// `CREATING`, `ACTIVE`, `DELETING`, `UPDATING`.
        pub replica_status: Option<String>,
        /// Status detail.
        pub replica_status_description: Option<String>,
        /// The replica's KMS key, when it has its own.
        #[serde(rename = "KMSMasterKeyId")]
        pub kms_master_key_id: Option<String>,
        /// The replica's read capacity, when it differs from the table's.
        pub provisioned_throughput_override: Option<crate::global::model::ProvisionedThroughputOverride>,
        /// The replica's on-demand read limit, when it differs.
        pub on_demand_throughput_override: Option<crate::global::model::OnDemandThroughputOverride>,
        /// Per-index overrides.
        pub global_secondary_indexes: Option<Vec<crate::global::model::ReplicaGlobalSecondaryIndex>>,
        /// When the replica became inaccessible.
        pub replica_inaccessible_date_time: Option<f64>,
        /// The replica's table class, when set.
        pub replica_table_class_summary: Option<TableClassSummary>,
    }
}

shape! {
    /// `TableDescription`.
    pub struct TableDescription {
        /// Key attribute types.
        pub attribute_definitions: Vec<AttributeDefinition>,
        /// The name.
        pub table_name: String,
        /// The key.
        pub key_schema: Vec<KeySchemaElement>,
        /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`.
        pub table_status: String,
        /// Epoch seconds.
        pub creation_date_time: f64,
        /// Throughput.
        pub provisioned_throughput: ProvisionedThroughputDescription,
        /// Bytes.
        pub table_size_bytes: i64,
        /// Items.
        pub item_count: i64,
        /// ARN.
        pub table_arn: String,
        /// Table id (a UUID).
        pub table_id: String,
        /// Billing mode.
        pub billing_mode_summary: Option<BillingModeSummary>,
        /// LSIs.
        pub local_secondary_indexes: Option<Vec<IndexDescription>>,
        /// GSIs.
        pub global_secondary_indexes: Option<Vec<IndexDescription>>,
        /// The stream.
        pub stream_specification: Option<StreamSpecification>,
        /// The stream's label.
        pub latest_stream_label: Option<String>,
        /// The stream's ARN.
        pub latest_stream_arn: Option<String>,
        /// Global Tables version, when replicated.
        pub global_table_version: Option<String>,
        /// Replicas.
        pub replicas: Option<Vec<ReplicaDescription>>,
        /// Encryption.
        #[serde(rename = "SSEDescription")]
        pub sse_description: Option<SseDescription>,
        /// The table class.
        pub table_class_summary: Option<TableClassSummary>,
        /// Deletion protection.
        pub deletion_protection_enabled: bool,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
    }
}

shape! {
    /// Output of CreateTable, UpdateTable and DeleteTable.
    pub struct TableDescriptionOutput {
        /// The table.
        pub table_description: Option<TableDescription>,
    }
}

shape! {
    /// `DescribeTable`/`DeleteTable` input.
    pub struct TableNameInput {
        /// The table.
        pub table_name: Option<String>,
    }
}

shape! {
    /// `DescribeTable` output.
    pub struct DescribeTableOutput {
        /// The table.
        pub table: Option<TableDescription>,
    }
}

shape! {
    /// `ListTables` input.
    pub struct ListTablesInput {
        /// Start after this name.
        pub exclusive_start_table_name: Option<String>,
        /// At most this many (1–100).
        pub limit: Option<i64>,
    }
}

shape! {
    /// `ListTables` output.
    pub struct ListTablesOutput {
        /// Names.
        pub table_names: Vec<String>,
        /// Where to continue.
        pub last_evaluated_table_name: Option<String>,
    }
}

shape! {
    /// `GlobalSecondaryIndexUpdate`.
    pub struct GlobalSecondaryIndexUpdate {
        /// Change throughput.
        pub update: Option<UpdateGsiAction>,
        /// Create an index.
        pub create: Option<GlobalSecondaryIndex>,
        /// Delete an index.
        pub delete: Option<DeleteGsiAction>,
    }
}

shape! {
    /// `UpdateGlobalSecondaryIndexAction`.
    pub struct UpdateGsiAction {
        /// The index.
        pub index_name: String,
        /// New throughput.
        pub provisioned_throughput: Option<ProvisionedThroughput>,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
    }
}

shape! {
    /// `DeleteGlobalSecondaryIndexAction`.
    pub struct DeleteGsiAction {
        /// The index.
        pub index_name: String,
    }
}

shape! {
    /// `UpdateTable` input.
    pub struct UpdateTableInput {
        /// The table.
        pub table_name: Option<String>,
        /// New key attribute types (for new GSIs).
        pub attribute_definitions: Option<Vec<AttributeDefinition>>,
        /// New billing mode.
        pub billing_mode: Option<String>,
        /// New throughput.
        pub provisioned_throughput: Option<ProvisionedThroughput>,
        /// GSI changes.
        pub global_secondary_index_updates: Option<Vec<GlobalSecondaryIndexUpdate>>,
        /// Stream change.
        pub stream_specification: Option<StreamSpecification>,
        /// Encryption change.
        #[serde(rename = "SSESpecification")]
        pub sse_specification: Option<SseSpecification>,
        /// Replica changes (Global Tables 2019.11.21).
        pub replica_updates: Option<Vec<crate::global::model::ReplicationGroupUpdate>>,
        /// Table class change.
        pub table_class: Option<String>,
        /// Deletion protection change.
        pub deletion_protection_enabled: Option<bool>,
        /// On-demand limits.
        pub on_demand_throughput: Option<OnDemandThroughput>,
    }
}

shape! {
    /// `TimeToLiveSpecification`.
    pub struct TimeToLiveSpecification {
        /// On or off.
        pub enabled: bool,
        /// The attribute holding the expiry time (epoch seconds).
        pub attribute_name: String,
    }
}

shape! {
    /// `UpdateTimeToLive` input.
    pub struct UpdateTimeToLiveInput {
        /// The table.
        pub table_name: Option<String>,
        /// The change.
        pub time_to_live_specification: Option<TimeToLiveSpecification>,
    }
}

shape! {
    /// `UpdateTimeToLive` output.
    pub struct UpdateTimeToLiveOutput {
        /// The change as applied.
        pub time_to_live_specification: Option<TimeToLiveSpecification>,
    }
}

shape! {
    /// `TimeToLiveDescription`.
    pub struct TimeToLiveDescription {
        /// `ENABLED`, `DISABLED`, `ENABLING`, `DISABLING`.
        pub time_to_live_status: String,
        /// The attribute.
        pub attribute_name: Option<String>,
    }
}

shape! {
    /// `DescribeTimeToLive` output.
    pub struct DescribeTimeToLiveOutput {
        /// The state.
        pub time_to_live_description: Option<TimeToLiveDescription>,
    }
}

shape! {
    /// `TagResource` input.
    pub struct TagResourceInput {
        /// The table or index ARN.
        pub resource_arn: Option<String>,
        /// Tags to add.
        pub tags: Option<Vec<Tag>>,
    }
}

shape! {
    /// `UntagResource` input.
    pub struct UntagResourceInput {
        /// The ARN.
        pub resource_arn: Option<String>,
        /// Keys to remove.
        pub tag_keys: Option<Vec<String>>,
    }
}

shape! {
    /// `ListTagsOfResource` input.
    pub struct ListTagsInput {
        /// The ARN.
        pub resource_arn: Option<String>,
        /// Continuation.
        pub next_token: Option<String>,
    }
}

shape! {
    /// `ListTagsOfResource` output.
    pub struct ListTagsOutput {
        /// Tags.
        pub tags: Vec<Tag>,
        /// Continuation.
        pub next_token: Option<String>,
    }
}

shape! {
    /// `DescribeLimits` output.
    pub struct DescribeLimitsOutput {
        /// Account RCU limit.
        pub account_max_read_capacity_units: i64,
        /// Account WCU limit.
        pub account_max_write_capacity_units: i64,
        /// Table RCU limit.
        pub table_max_read_capacity_units: i64,
        /// Table WCU limit.
        pub table_max_write_capacity_units: i64,
    }
}

shape! {
    /// `Endpoint`.
    pub struct Endpoint {
        /// Host name.
        pub address: String,
        /// Minutes to cache.
        pub cache_period_in_minutes: i64,
    }
}

shape! {
    /// `DescribeEndpoints` output.
    pub struct DescribeEndpointsOutput {
        /// Endpoints.
        pub endpoints: Vec<Endpoint>,
    }
}

// ---------------------------------------------------------------------------------------------
// Capacity

shape! {
    /// `Capacity`.
    pub struct Capacity {
        /// Read units.
        pub read_capacity_units: Option<f64>,
        /// Write units.
        pub write_capacity_units: Option<f64>,
        /// Total units.
        pub capacity_units: Option<f64>,
    }
}

shape! {
    /// `ConsumedCapacity`.
    pub struct ConsumedCapacity {
        /// The table.
        pub table_name: String,
        /// Total units.
        pub capacity_units: f64,
        /// Read units.
        pub read_capacity_units: Option<f64>,
        /// Write units.
        pub write_capacity_units: Option<f64>,
        /// The table's share.
        pub table: Option<Capacity>,
        /// Per LSI.
        pub local_secondary_indexes: Option<HashMap<String, Capacity>>,
        /// Per GSI.
        pub global_secondary_indexes: Option<HashMap<String, Capacity>>,
    }
}

shape! {
    /// `ItemCollectionMetrics`.
    pub struct ItemCollectionMetrics {
        /// The partition key.
        pub item_collection_key: Item,
        /// Estimated size range in GB.
        #[serde(rename = "SizeEstimateRangeGB")]
        pub size_estimate_range_gb: Vec<f64>,
    }
}
