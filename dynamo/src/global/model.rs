//! Request and response shapes of Global Tables: version 2019.11.21's `ReplicaUpdates` and
//! replica auto scaling, and version 2017.11.29's global-table operations (wire names as in the
//! DynamoDB API).

use serde::{Deserialize, Serialize};

use crate::model::{BillingModeSummary, TableClassSummary, shape};

shape! {
    /// `ProvisionedThroughputOverride`.
    pub struct ProvisionedThroughputOverride {
        /// The replica's read capacity units.
        pub read_capacity_units: Option<i64>,
    }
}

shape! {
    /// `OnDemandThroughputOverride`.
    pub struct OnDemandThroughputOverride {
        /// The replica's maximum read request units.
        pub max_read_request_units: Option<i64>,
    }
}

shape! {
    /// `ReplicaGlobalSecondaryIndex` (a replica's per-index override).
    pub struct ReplicaGlobalSecondaryIndex {
        /// The index.
        pub index_name: Option<String>,
        /// Read capacity override.
        pub provisioned_throughput_override: Option<ProvisionedThroughputOverride>,
        /// On-demand read override.
        pub on_demand_throughput_override: Option<OnDemandThroughputOverride>,
    }
}

shape! {
    /// `CreateReplicationGroupMemberAction` / `UpdateReplicationGroupMemberAction`.
    pub struct ReplicationGroupMemberAction {
        /// The replica's region.
        pub region_name: Option<String>,
        /// Its KMS key.
        #[serde(rename = "KMSMasterKeyId")]
        pub kms_master_key_id: Option<String>,
        /// Read capacity override.
        pub provisioned_throughput_override: Option<ProvisionedThroughputOverride>,
        /// On-demand read override.
        pub on_demand_throughput_override: Option<OnDemandThroughputOverride>,
        /// Per-index overrides.
        pub global_secondary_indexes: Option<Vec<ReplicaGlobalSecondaryIndex>>,
        /// Table class override.
        pub table_class_override: Option<String>,
    }
}

shape! {
    /// `DeleteReplicationGroupMemberAction` / `CreateReplicaAction` / `DeleteReplicaAction`.
    pub struct RegionAction {
        /// The region.
        pub region_name: Option<String>,
    }
}

shape! {
    /// `ReplicationGroupUpdate`: one of Create, Update, Delete.
    pub struct ReplicationGroupUpdate {
        /// Add a replica.
        pub create: Option<ReplicationGroupMemberAction>,
        /// Change a replica's settings.
        pub update: Option<ReplicationGroupMemberAction>,
        /// Remove a replica.
        pub delete: Option<RegionAction>,
    }
}

// --- version 2017.11.29 -----------------------------------------------------------------------

shape! {
    /// `Replica` (a replication group member, 2017.11.29).
    pub struct Replica {
        /// The region.
        pub region_name: Option<String>,
    }
}

shape! {
    /// `CreateGlobalTable` input.
    pub struct CreateGlobalTableInput {
        /// The table name.
        pub global_table_name: Option<String>,
        /// The regions.
        pub replication_group: Option<Vec<Replica>>,
    }
}

shape! {
    /// A replication group member in a `GlobalTableDescription`.
    pub struct GroupMember {
        /// The region.
        pub region_name: String,
        /// Its status.
        pub replica_status: Option<String>,
    }
}

shape! {
    /// `GlobalTableDescription`.
    pub struct GlobalTableDescription {
        /// The members.
        pub replication_group: Vec<GroupMember>,
        /// `arn:aws:dynamodb::<account>:global-table/<name>`.
        pub global_table_arn: String,
        /// Epoch seconds.
        pub creation_date_time: f64,
        /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`.
        pub global_table_status: String,
        /// The name.
        pub global_table_name: String,
    }
}

shape! {
    /// Output of Create/Describe/UpdateGlobalTable.
    pub struct GlobalTableDescriptionOutput {
        /// The description.
        pub global_table_description: Option<GlobalTableDescription>,
    }
}

shape! {
    /// `DescribeGlobalTable` / `DescribeGlobalTableSettings` input.
    pub struct GlobalTableNameInput {
        /// The name.
        pub global_table_name: Option<String>,
    }
}

shape! {
    /// `ReplicaUpdate` (2017.11.29): Create or Delete.
    pub struct ReplicaUpdate {
        /// Add a region.
        pub create: Option<RegionAction>,
        /// Remove a region.
        pub delete: Option<RegionAction>,
    }
}

shape! {
    /// `UpdateGlobalTable` input.
    pub struct UpdateGlobalTableInput {
        /// The name.
        pub global_table_name: Option<String>,
        /// The changes.
        pub replica_updates: Option<Vec<ReplicaUpdate>>,
    }
}

shape! {
    /// `ListGlobalTables` input.
    pub struct ListGlobalTablesInput {
        /// Start after this name.
        pub exclusive_start_global_table_name: Option<String>,
        /// At most this many (1–100).
        pub limit: Option<i64>,
        /// Only global tables with a replica in this region.
        pub region_name: Option<String>,
    }
}

shape! {
    /// `GlobalTable` in a ListGlobalTables answer.
    pub struct GlobalTableSummary {
        /// The name.
        pub global_table_name: String,
        /// The members.
        pub replication_group: Vec<GroupMember>,
    }
}

shape! {
    /// `ListGlobalTables` output.
    pub struct ListGlobalTablesOutput {
        /// The global tables.
        pub global_tables: Vec<GlobalTableSummary>,
        /// Where to continue.
        pub last_evaluated_global_table_name: Option<String>,
    }
}

shape! {
    /// `ReplicaGlobalSecondaryIndexSettingsDescription`.
    pub struct IndexSettings {
        /// The index.
        pub index_name: String,
        /// `ACTIVE`.
        pub index_status: Option<String>,
        /// Read capacity.
        pub provisioned_read_capacity_units: Option<i64>,
        /// Write capacity.
        pub provisioned_write_capacity_units: Option<i64>,
    }
}

shape! {
    /// `ReplicaSettingsDescription`.
    pub struct ReplicaSettings {
        /// The region.
        pub region_name: String,
        /// `ACTIVE`.
        pub replica_status: Option<String>,
        /// Billing mode.
        pub replica_billing_mode_summary: Option<BillingModeSummary>,
        /// Read capacity.
        pub replica_provisioned_read_capacity_units: Option<i64>,
        /// Write capacity.
        pub replica_provisioned_write_capacity_units: Option<i64>,
        /// Per index.
        pub replica_global_secondary_index_settings: Option<Vec<IndexSettings>>,
        /// Table class.
        pub replica_table_class_summary: Option<TableClassSummary>,
    }
}

shape! {
    /// `DescribeGlobalTableSettings` / `UpdateGlobalTableSettings` output.
    pub struct GlobalTableSettingsOutput {
        /// The name.
        pub global_table_name: Option<String>,
        /// Per replica.
        pub replica_settings: Option<Vec<ReplicaSettings>>,
    }
}

shape! {
    /// `GlobalTableGlobalSecondaryIndexSettingsUpdate`.
    pub struct GlobalIndexWriteUpdate {
        /// The index.
        pub index_name: Option<String>,
        /// Write capacity for every replica.
        pub provisioned_write_capacity_units: Option<i64>,
    }
}

shape! {
    /// `ReplicaGlobalSecondaryIndexSettingsUpdate`.
    pub struct ReplicaIndexReadUpdate {
        /// The index.
        pub index_name: Option<String>,
        /// Read capacity in that replica.
        pub provisioned_read_capacity_units: Option<i64>,
    }
}

shape! {
    /// `ReplicaSettingsUpdate`.
    pub struct ReplicaSettingsUpdate {
        /// The region.
        pub region_name: Option<String>,
        /// Read capacity there.
        pub replica_provisioned_read_capacity_units: Option<i64>,
        /// Index read capacity there.
        pub replica_global_secondary_index_settings_update: Option<Vec<ReplicaIndexReadUpdate>>,
        /// Table class there.
        pub replica_table_class: Option<String>,
    }
}

shape! {
    /// `UpdateGlobalTableSettings` input.
    pub struct UpdateGlobalTableSettingsInput {
        /// The name.
        pub global_table_name: Option<String>,
        /// Billing mode for every replica.
        pub global_table_billing_mode: Option<String>,
        /// Write capacity for every replica.
        pub global_table_provisioned_write_capacity_units: Option<i64>,
        /// Index write capacity for every replica.
        pub global_table_global_secondary_index_settings_update: Option<Vec<GlobalIndexWriteUpdate>>,
        /// Per-replica changes.
        pub replica_settings_update: Option<Vec<ReplicaSettingsUpdate>>,
    }
}

// --- replica auto scaling ------------------------------------------------------------------------

shape! {
    /// `AutoScalingTargetTrackingScalingPolicyConfigurationDescription` / `…Update`.
    pub struct TargetTracking {
        /// Whether scale-in is disabled.
        pub disable_scale_in: Option<bool>,
        /// Seconds.
        pub scale_in_cooldown: Option<i64>,
        /// Seconds.
        pub scale_out_cooldown: Option<i64>,
        /// Target utilisation, percent (20–90).
        pub target_value: Option<f64>,
    }
}

shape! {
    /// `AutoScalingPolicyDescription` / `AutoScalingPolicyUpdate`.
    pub struct ScalingPolicy {
        /// The name.
        pub policy_name: Option<String>,
        /// Target tracking.
        pub target_tracking_scaling_policy_configuration: Option<TargetTracking>,
    }
}

shape! {
    /// `AutoScalingSettingsDescription` / `AutoScalingSettingsUpdate`.
    pub struct AutoScalingSettings {
        /// Minimum capacity.
        pub minimum_units: Option<i64>,
        /// Maximum capacity.
        pub maximum_units: Option<i64>,
        /// Whether auto scaling is off.
        pub auto_scaling_disabled: Option<bool>,
        /// The role.
        pub auto_scaling_role_arn: Option<String>,
        /// Policies (descriptions).
        pub scaling_policies: Option<Vec<ScalingPolicy>>,
        /// The policy (updates).
        pub scaling_policy_update: Option<ScalingPolicy>,
    }
}

shape! {
    /// `ReplicaGlobalSecondaryIndexAutoScalingDescription` / `…Update` and the table-level GSI update.
    pub struct IndexAutoScaling {
        /// The index.
        pub index_name: Option<String>,
        /// `ACTIVE` (descriptions).
        pub index_status: Option<String>,
        /// Read settings (descriptions).
        pub provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
        /// Write settings (descriptions).
        pub provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
        /// Read update (replica updates).
        pub provisioned_read_capacity_auto_scaling_update: Option<AutoScalingSettings>,
        /// Write update (table-level updates).
        pub provisioned_write_capacity_auto_scaling_update: Option<AutoScalingSettings>,
    }
}

shape! {
    /// `ReplicaAutoScalingDescription`.
    pub struct ReplicaAutoScalingDescription {
        /// The region.
        pub region_name: String,
        /// Per index.
        pub global_secondary_indexes: Option<Vec<IndexAutoScaling>>,
        /// Read settings.
        pub replica_provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
        /// Write settings.
        pub replica_provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
        /// `ACTIVE`.
        pub replica_status: Option<String>,
    }
}

shape! {
    /// `TableAutoScalingDescription`.
    pub struct TableAutoScalingDescription {
        /// The table.
        pub table_name: String,
        /// `ACTIVE`.
        pub table_status: String,
        /// Per replica.
        pub replicas: Vec<ReplicaAutoScalingDescription>,
    }
}

shape! {
    /// Output of Describe/UpdateTableReplicaAutoScaling.
    pub struct TableAutoScalingOutput {
        /// The description.
        pub table_auto_scaling_description: Option<TableAutoScalingDescription>,
    }
}

shape! {
    /// `ReplicaAutoScalingUpdate`.
    pub struct ReplicaAutoScalingUpdate {
        /// The region.
        pub region_name: Option<String>,
        /// Per-index read updates.
        pub replica_global_secondary_index_updates: Option<Vec<IndexAutoScaling>>,
        /// Read update.
        pub replica_provisioned_read_capacity_auto_scaling_update: Option<AutoScalingSettings>,
    }
}

shape! {
    /// `UpdateTableReplicaAutoScaling` input.
    pub struct UpdateTableReplicaAutoScalingInput {
        /// The table.
        pub table_name: Option<String>,
        /// Table-level GSI write updates.
        pub global_secondary_index_updates: Option<Vec<IndexAutoScaling>>,
        /// Write update for every replica.
        pub provisioned_write_capacity_auto_scaling_update: Option<AutoScalingSettings>,
        /// Per-replica read updates.
        pub replica_updates: Option<Vec<ReplicaAutoScalingUpdate>>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_updates_parse_from_the_wire_shape() {
        let u: Vec<ReplicationGroupUpdate> = serde_json::from_str(
            r#"[{"Create":{"RegionName":"eu-west-1","KMSMasterKeyId":"k","ProvisionedThroughputOverride":{"ReadCapacityUnits":5}}},{"Delete":{"RegionName":"us-west-2"}}]"#,
        )
        .unwrap();
        let c = u[0].create.as_ref().unwrap();
        assert_eq!(c.region_name.as_deref(), Some("eu-west-1"));
        assert_eq!(c.kms_master_key_id.as_deref(), Some("k"));
        assert_eq!(
            c.provisioned_throughput_override
                .as_ref()
                .unwrap()
                .read_capacity_units,
            Some(5)
        );
        assert_eq!(
            u[1].delete.as_ref().unwrap().region_name.as_deref(),
            Some("us-west-2")
        );
    }
}
