//! Data-plane request and response shapes (items, queries, batches, transactions, streams,
//! PartiQL), mirroring the DynamoDB API. See [`crate::model`] for the conventions.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{ConsumedCapacity, ItemCollectionMetrics, Names, Values};
use crate::value::{AttributeValue, Item};

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

shape! {
    /// Legacy `ExpectedAttributeValue`.
    pub struct ExpectedAttributeValue {
        /// The value to compare with.
        pub value: Option<AttributeValue>,
        /// Whether the attribute must exist.
        pub exists: Option<bool>,
        /// `EQ`, `NE`, `LE`, `LT`, `GE`, `GT`, `NOT_NULL`, `NULL`, `CONTAINS`, `NOT_CONTAINS`,
        /// `BEGINS_WITH`, `IN`, `BETWEEN`.
        pub comparison_operator: Option<String>,
        /// The operands.
        pub attribute_value_list: Option<Vec<AttributeValue>>,
    }
}

shape! {
    /// Legacy `Condition` (KeyConditions, QueryFilter, ScanFilter).
    pub struct Condition {
        /// The operands.
        pub attribute_value_list: Option<Vec<AttributeValue>>,
        /// The operator.
        pub comparison_operator: Option<String>,
    }
}

shape! {
    /// Legacy `AttributeValueUpdate`.
    pub struct AttributeValueUpdate {
        /// The value.
        pub value: Option<AttributeValue>,
        /// `PUT` (default), `ADD`, `DELETE`.
        pub action: Option<String>,
    }
}

shape! {
    /// `GetItem` input.
    pub struct GetItemInput {
        /// The table.
        pub table_name: Option<String>,
        /// The primary key.
        pub key: Option<Item>,
        /// Legacy projection.
        pub attributes_to_get: Option<Vec<String>>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
        /// `INDEXES`, `TOTAL`, `NONE`.
        pub return_consumed_capacity: Option<String>,
        /// The projection.
        pub projection_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
    }
}

shape! {
    /// `GetItem` output.
    pub struct GetItemOutput {
        /// The item.
        pub item: Option<Arc<Item>>,
        /// Capacity used.
        pub consumed_capacity: Option<ConsumedCapacity>,
    }
}

shape! {
    /// `PutItem` input.
    pub struct PutItemInput {
        /// The table.
        pub table_name: Option<String>,
        /// The item.
        pub item: Option<Item>,
        /// Legacy condition.
        pub expected: Option<HashMap<String, ExpectedAttributeValue>>,
        /// `NONE` or `ALL_OLD`.
        pub return_values: Option<String>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// `SIZE` or `NONE`.
        pub return_item_collection_metrics: Option<String>,
        /// Legacy `AND`/`OR`.
        pub conditional_operator: Option<String>,
        /// The condition.
        pub condition_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// Output of PutItem, UpdateItem and DeleteItem.
    pub struct WriteItemOutput {
        /// The returned attributes.
        pub attributes: Option<Arc<Item>>,
        /// Capacity used.
        pub consumed_capacity: Option<ConsumedCapacity>,
        /// Item collection metrics.
        pub item_collection_metrics: Option<ItemCollectionMetrics>,
    }
}

shape! {
    /// `DeleteItem` input.
    pub struct DeleteItemInput {
        /// The table.
        pub table_name: Option<String>,
        /// The primary key.
        pub key: Option<Item>,
        /// Legacy condition.
        pub expected: Option<HashMap<String, ExpectedAttributeValue>>,
        /// Legacy `AND`/`OR`.
        pub conditional_operator: Option<String>,
        /// `NONE` or `ALL_OLD`.
        pub return_values: Option<String>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// `SIZE` or `NONE`.
        pub return_item_collection_metrics: Option<String>,
        /// The condition.
        pub condition_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `UpdateItem` input.
    pub struct UpdateItemInput {
        /// The table.
        pub table_name: Option<String>,
        /// The primary key.
        pub key: Option<Item>,
        /// Legacy updates.
        pub attribute_updates: Option<HashMap<String, AttributeValueUpdate>>,
        /// Legacy condition.
        pub expected: Option<HashMap<String, ExpectedAttributeValue>>,
        /// Legacy `AND`/`OR`.
        pub conditional_operator: Option<String>,
        /// `NONE`, `ALL_OLD`, `UPDATED_OLD`, `ALL_NEW`, `UPDATED_NEW`.
        pub return_values: Option<String>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// `SIZE` or `NONE`.
        pub return_item_collection_metrics: Option<String>,
        /// The update.
        pub update_expression: Option<String>,
        /// The condition.
        pub condition_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `Query` input.
    pub struct QueryInput {
        /// The table.
        pub table_name: Option<String>,
        /// An index to query instead.
        pub index_name: Option<String>,
        /// `ALL_ATTRIBUTES`, `ALL_PROJECTED_ATTRIBUTES`, `SPECIFIC_ATTRIBUTES`, `COUNT`.
        pub select: Option<String>,
        /// Legacy projection.
        pub attributes_to_get: Option<Vec<String>>,
        /// Items to evaluate at most.
        pub limit: Option<i64>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
        /// Legacy key condition.
        pub key_conditions: Option<HashMap<String, Condition>>,
        /// Legacy filter.
        pub query_filter: Option<HashMap<String, Condition>>,
        /// Legacy `AND`/`OR`.
        pub conditional_operator: Option<String>,
        /// Ascending (default) or descending.
        pub scan_index_forward: Option<bool>,
        /// Where to continue.
        pub exclusive_start_key: Option<Item>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// The projection.
        pub projection_expression: Option<String>,
        /// The filter.
        pub filter_expression: Option<String>,
        /// The key condition.
        pub key_condition_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
    }
}

shape! {
    /// `Scan` input.
    pub struct ScanInput {
        /// The table.
        pub table_name: Option<String>,
        /// An index to scan instead.
        pub index_name: Option<String>,
        /// Legacy projection.
        pub attributes_to_get: Option<Vec<String>>,
        /// Items to evaluate at most.
        pub limit: Option<i64>,
        /// What to return.
        pub select: Option<String>,
        /// Legacy filter.
        pub scan_filter: Option<HashMap<String, Condition>>,
        /// Legacy `AND`/`OR`.
        pub conditional_operator: Option<String>,
        /// Where to continue.
        pub exclusive_start_key: Option<Item>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// Parallel scan: the number of segments.
        pub total_segments: Option<i64>,
        /// Parallel scan: this segment.
        pub segment: Option<i64>,
        /// The projection.
        pub projection_expression: Option<String>,
        /// The filter.
        pub filter_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
    }
}

shape! {
    /// Output of Query and Scan.
    pub struct QueryOutput {
        /// Matching items (absent for `Select: COUNT`).
        pub items: Option<Vec<Arc<Item>>>,
        /// Items returned (after the filter).
        pub count: i64,
        /// Items evaluated (before the filter).
        pub scanned_count: i64,
        /// Where to continue.
        pub last_evaluated_key: Option<Item>,
        /// Capacity used.
        pub consumed_capacity: Option<ConsumedCapacity>,
    }
}

shape! {
    /// `KeysAndAttributes` (BatchGetItem).
    pub struct KeysAndAttributes {
        /// The keys.
        pub keys: Vec<Item>,
        /// Legacy projection.
        pub attributes_to_get: Option<Vec<String>>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
        /// The projection.
        pub projection_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
    }
}

shape! {
    /// `BatchGetItem` input.
    pub struct BatchGetItemInput {
        /// Per table, what to read.
        pub request_items: Option<HashMap<String, KeysAndAttributes>>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
    }
}

shape! {
    /// `BatchGetItem` output.
    pub struct BatchGetItemOutput {
        /// Per table, the items found.
        pub responses: HashMap<String, Vec<Arc<Item>>>,
        /// What was not read (over 16 MB).
        pub unprocessed_keys: HashMap<String, KeysAndAttributes>,
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    }
}

shape! {
    /// `PutRequest`.
    pub struct PutRequest {
        /// The item.
        pub item: Item,
    }
}

shape! {
    /// `DeleteRequest`.
    pub struct DeleteRequest {
        /// The key.
        pub key: Item,
    }
}

shape! {
    /// `WriteRequest`.
    pub struct WriteRequest {
        /// A put.
        pub put_request: Option<PutRequest>,
        /// A delete.
        pub delete_request: Option<DeleteRequest>,
    }
}

shape! {
    /// `BatchWriteItem` input.
    pub struct BatchWriteItemInput {
        /// Per table, the writes.
        pub request_items: Option<HashMap<String, Vec<WriteRequest>>>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// `SIZE` or `NONE`.
        pub return_item_collection_metrics: Option<String>,
    }
}

shape! {
    /// `BatchWriteItem` output.
    pub struct BatchWriteItemOutput {
        /// Writes not done: those on items an in-flight transaction holds.
        pub unprocessed_items: HashMap<String, Vec<WriteRequest>>,
        /// Metrics.
        pub item_collection_metrics: Option<HashMap<String, Vec<ItemCollectionMetrics>>>,
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    }
}

shape! {
    /// `ConditionCheck`, `Put`, `Delete` and `Update` of a transaction, in one shape.
    pub struct TransactAction {
        /// The table.
        pub table_name: Option<String>,
        /// The key (ConditionCheck, Delete, Update).
        pub key: Option<Item>,
        /// The item (Put).
        pub item: Option<Item>,
        /// The update (Update).
        pub update_expression: Option<String>,
        /// The condition.
        pub condition_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
        /// Value placeholders.
        pub expression_attribute_values: Option<Values>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `TransactWriteItem`.
    pub struct TransactWriteItem {
        /// Check a condition.
        pub condition_check: Option<TransactAction>,
        /// Put an item.
        pub put: Option<TransactAction>,
        /// Delete an item.
        pub delete: Option<TransactAction>,
        /// Update an item.
        pub update: Option<TransactAction>,
    }
}

shape! {
    /// `TransactWriteItems` input.
    pub struct TransactWriteItemsInput {
        /// The actions.
        pub transact_items: Option<Vec<TransactWriteItem>>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// `SIZE` or `NONE`.
        pub return_item_collection_metrics: Option<String>,
        /// Idempotency token.
        pub client_request_token: Option<String>,
    }
}

shape! {
    /// `TransactWriteItems` output.
    pub struct TransactWriteItemsOutput {
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
        /// Metrics.
        pub item_collection_metrics: Option<HashMap<String, Vec<ItemCollectionMetrics>>>,
    }
}

shape! {
    /// `Get` of a read transaction.
    pub struct TransactGet {
        /// The table.
        pub table_name: Option<String>,
        /// The key.
        pub key: Option<Item>,
        /// The projection.
        pub projection_expression: Option<String>,
        /// Name placeholders.
        pub expression_attribute_names: Option<Names>,
    }
}

shape! {
    /// `TransactGetItem`.
    pub struct TransactGetItem {
        /// The read.
        pub get: Option<TransactGet>,
    }
}

shape! {
    /// `TransactGetItems` input.
    pub struct TransactGetItemsInput {
        /// The reads.
        pub transact_items: Option<Vec<TransactGetItem>>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
    }
}

shape! {
    /// `ItemResponse`.
    pub struct ItemResponse {
        /// The item, if found.
        pub item: Option<Arc<Item>>,
    }
}

shape! {
    /// `TransactGetItems` output.
    pub struct TransactGetItemsOutput {
        /// One response per read, in order.
        pub responses: Option<Vec<ItemResponse>>,
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    }
}

shape! {
    /// `ExecuteStatement` input (PartiQL).
    pub struct ExecuteStatementInput {
        /// The statement.
        pub statement: Option<String>,
        /// `?` parameters.
        pub parameters: Option<Vec<AttributeValue>>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
        /// Continuation.
        pub next_token: Option<String>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
        /// Items to evaluate at most.
        pub limit: Option<i64>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `ExecuteStatement` output.
    pub struct ExecuteStatementOutput {
        /// Items.
        pub items: Option<Vec<Arc<Item>>>,
        /// Continuation.
        pub next_token: Option<String>,
        /// Capacity used.
        pub consumed_capacity: Option<ConsumedCapacity>,
        /// Where the read stopped.
        pub last_evaluated_key: Option<Item>,
    }
}

shape! {
    /// `BatchStatementRequest`.
    pub struct BatchStatementRequest {
        /// The statement.
        pub statement: Option<String>,
        /// `?` parameters.
        pub parameters: Option<Vec<AttributeValue>>,
        /// Strong consistency.
        pub consistent_read: Option<bool>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `BatchExecuteStatement` input.
    pub struct BatchExecuteStatementInput {
        /// The statements.
        pub statements: Option<Vec<BatchStatementRequest>>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
    }
}

shape! {
    /// `BatchStatementError`.
    pub struct BatchStatementError {
        /// The error code (`ConditionalCheckFailed`, `ValidationError`, …).
        pub code: String,
        /// The message.
        pub message: String,
        /// The item, for `ALL_OLD`.
        pub item: Option<Arc<Item>>,
    }
}

shape! {
    /// `BatchStatementResponse`.
    pub struct BatchStatementResponse {
        /// The error, if the statement failed.
        pub error: Option<BatchStatementError>,
        /// The table.
        pub table_name: Option<String>,
        /// The item read.
        pub item: Option<Arc<Item>>,
    }
}

shape! {
    /// `BatchExecuteStatement` output.
    pub struct BatchExecuteStatementOutput {
        /// One response per statement.
        pub responses: Vec<BatchStatementResponse>,
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    }
}

shape! {
    /// `ParameterizedStatement`.
    pub struct ParameterizedStatement {
        /// The statement.
        pub statement: Option<String>,
        /// `?` parameters.
        pub parameters: Option<Vec<AttributeValue>>,
        /// `ALL_OLD` or `NONE`.
        pub return_values_on_condition_check_failure: Option<String>,
    }
}

shape! {
    /// `ExecuteTransaction` input.
    pub struct ExecuteTransactionInput {
        /// The statements.
        pub transact_statements: Option<Vec<ParameterizedStatement>>,
        /// Idempotency token.
        pub client_request_token: Option<String>,
        /// Capacity reporting.
        pub return_consumed_capacity: Option<String>,
    }
}

shape! {
    /// `ExecuteTransaction` output.
    pub struct ExecuteTransactionOutput {
        /// One response per statement (reads only carry items).
        pub responses: Option<Vec<ItemResponse>>,
        /// Capacity used.
        pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    }
}
