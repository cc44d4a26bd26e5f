//! BatchGetItem and BatchWriteItem.
//!
//! Both validate the whole request before touching any table (limits, shapes, duplicate keys,
//! every item), as DynamoDB does. BatchGetItem returns at most 16 MB and reports the rest in
//! `UnprocessedKeys`; BatchWriteItem applies every request (each one atomically) and so never
//! leaves `UnprocessedItems` unless throughput enforcement throttles a table.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::capacity::{self, Usage};
use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::expr::{self, Ctx, Sources};
use crate::items::{plan_put, write_usage};
use crate::legacy;
use crate::model::ConsumedCapacity;
use crate::model_data::*;
use crate::table::Actor;
use crate::validate::{self as v, Shape};

/// The most keys one BatchGetItem reads.
pub const MAX_BATCH_GET: usize = 100;
/// The most requests one BatchWriteItem makes.
pub const MAX_BATCH_WRITE: usize = 25;
/// The most bytes one BatchGetItem returns.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

fn sorted_tables<T>(m: &HashMap<String, T>) -> Vec<(&String, &T)> {
    let mut v: Vec<(&String, &T)> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

impl RegionDb {
    /// BatchGetItem.
    pub fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        let mut s = Shape::new();
        s.required("requestItems", &input.request_items);
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        if let Some(r) = &input.request_items {
            s.len("requestItems", Some(r.len()), 1, 100, "{}");
            for (name, ka) in r {
                s.name_rules("requestItems.key", name, 3, 255);
                s.len(
                    &format!("requestItems.{name}.member.keys"),
                    Some(ka.keys.len()),
                    1,
                    100,
                    "[]",
                );
            }
        }
        s.finish()?;
        let request = input.request_items.unwrap_or_default();
        let total: usize = request.values().map(|k| k.keys.len()).sum();
        if total > MAX_BATCH_GET {
            return Err(Error::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        let mut out = BatchGetItemOutput::default();
        let mut bytes = 0usize;
        let mut consumed = Vec::new();
        for (name, ka) in sorted_tables(&request) {
            legacy::check_params(
                &[("ProjectionExpression", ka.projection_expression.is_some())],
                &[("AttributesToGet", ka.attributes_to_get.is_some())],
                ka.expression_attribute_names.is_some(),
                false,
            )?;
            let compiled = expr::compile(&Sources {
                projection: ka.projection_expression.as_deref(),
                names: ka.expression_attribute_names.as_ref(),
                ..Default::default()
            })?;
            let projection = match (&compiled.projection, &ka.attributes_to_get) {
                (Some(p), _) => Some(p.clone()),
                (None, Some(a)) => Some(legacy::attributes_to_get(a)?),
                _ => None,
            };
            let t = self.table(name)?;
            let st = t.state.read();
            let mut keys = Vec::with_capacity(ka.keys.len());
            let mut seen = HashSet::new();
            for k in &ka.keys {
                let key = st.def.schema.key_of_key(k)?;
                if !seen.insert(key.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                keys.push((key, k));
            }
            let consistent = ka.consistent_read.unwrap_or(false);
            let ctx = Ctx {
                names: ka.expression_attribute_names.as_ref(),
                values: None,
            };
            let mut usage = Usage::read(0.0);
            let mut found = Vec::new();
            let mut unprocessed = Vec::new();
            let view = st.read_items(|| self.now_ms(), consistent);
            for (key, raw) in keys {
                if bytes >= MAX_BATCH_GET_BYTES {
                    unprocessed.push(raw.clone());
                    continue;
                }
                let item = view.get(&key);
                usage.table +=
                    capacity::read_units(item.map_or(0, |s| s.size as usize), consistent);
                if let Some(s) = item {
                    bytes += s.size as usize;
                    found.push(match &projection {
                        Some(p) => Arc::new(expr::eval::project(&s.item, p, &ctx)),
                        None => Arc::clone(&s.item),
                    });
                }
            }
            self.charge(&t, &st, &usage)?;
            if let Some(c) =
                capacity::consumed(input.return_consumed_capacity.as_deref(), name, &usage)
            {
                consumed.push(c);
            }
            out.responses.insert(name.clone(), found);
            if !unprocessed.is_empty() {
                out.unprocessed_keys.insert(
                    name.clone(),
                    KeysAndAttributes {
                        keys: unprocessed,
                        ..ka.clone()
                    },
                );
            }
        }
        if input
            .return_consumed_capacity
            .as_deref()
            .is_some_and(|m| m != "NONE")
        {
            out.consumed_capacity = Some(consumed);
        }
        Ok(out)
    }

    /// BatchWriteItem.
    pub fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput> {
        let mut s = Shape::new();
        s.required("requestItems", &input.request_items);
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        s.one_of(
            "returnItemCollectionMetrics",
            &input.return_item_collection_metrics,
            v::RETURN_METRICS,
        );
        if let Some(r) = &input.request_items {
            s.len("requestItems", Some(r.len()), 1, 25, "{}");
            for (name, reqs) in r {
                s.name_rules("requestItems.key", name, 3, 255);
                s.len(
                    &format!("requestItems.{name}.member"),
                    Some(reqs.len()),
                    1,
                    25,
                    "[]",
                );
            }
        }
        s.finish()?;
        let request = input.request_items.unwrap_or_default();
        let total: usize = request.values().map(Vec::len).sum();
        if total > MAX_BATCH_WRITE {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]"
            )));
        }
        // Validate everything first; nothing is written if any request is bad.
        let mut tables = Vec::new();
        for (name, reqs) in sorted_tables(&request) {
            let t = self.table(name)?;
            let mut planned = Vec::with_capacity(reqs.len());
            {
                let st = t.state.read();
                let mut seen = HashSet::new();
                for r in reqs {
                    let p = match (&r.put_request, &r.delete_request) {
                        (Some(p), None) => {
                            let (key, stored, prepared) = plan_put(&st, Arc::new(p.item.clone()))?;
                            (key, Some((stored, prepared)))
                        }
                        (None, Some(d)) => (st.def.schema.key_of_key(&d.key)?, None),
                        _ => {
                            return Err(Error::validation(
                                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                            ));
                        }
                    };
                    if !seen.insert(p.0.clone()) {
                        return Err(Error::validation(
                            "Provided list of item keys contains duplicates",
                        ));
                    }
                    planned.push((p.0, p.1, r));
                }
            }
            tables.push((name.clone(), t, planned));
        }
        let mut out = BatchWriteItemOutput::default();
        let mut consumed: Vec<ConsumedCapacity> = Vec::new();
        let now = self.now_ms();
        let mut written = 0usize;
        let mut throttled = 0usize;
        for (name, t, planned) in tables {
            let mut st = t.state.write();
            let mut usage = Usage::write(0.0);
            let mut ready = Vec::with_capacity(planned.len());
            let mut left = Vec::new();
            for (key, new, raw) in planned {
                if t.intents.is_held(&key) {
                    // Held by an in-flight transaction: left for the caller to retry.
                    left.push(raw.clone());
                    continue;
                }
                // Re-check index keys under the lock: the table may have gained an index.
                let new = match new {
                    Some((stored, _)) => {
                        let prepared = st.prepare(&stored.item)?;
                        Some((stored, prepared))
                    }
                    None => None,
                };
                let old = st.items.get(&key).cloned();
                usage.add(&write_usage(
                    &st,
                    old.as_ref(),
                    new.as_ref().map(|(s, _)| s),
                    true,
                ));
                ready.push((key, new, raw));
            }
            if !ready.is_empty() {
                match self.charge(&t, &st, &usage) {
                    Ok(()) => {
                        written += ready.len();
                        for (key, new, _) in ready {
                            st.apply(key, new, now, Actor::User);
                        }
                        if let Some(c) = capacity::consumed(
                            input.return_consumed_capacity.as_deref(),
                            &name,
                            &usage,
                        ) {
                            consumed.push(c);
                        }
                    }
                    // Over the table's provisioned throughput: these come back unprocessed.
                    Err(_) => {
                        throttled += ready.len();
                        left.extend(ready.into_iter().map(|(_, _, raw)| raw.clone()));
                    }
                }
            }
            if st.def.ttl_attribute.is_some() {
                t.refresh_due(&st);
            }
            if !left.is_empty() {
                out.unprocessed_items.insert(name.clone(), left);
            }
        }
        if written == 0 && throttled > 0 {
            // None of the items could be processed for lack of throughput.
            return Err(Error::ProvisionedThroughputExceeded);
        }
        if input
            .return_consumed_capacity
            .as_deref()
            .is_some_and(|m| m != "NONE")
        {
            out.consumed_capacity = Some(consumed);
        }
        if input.return_item_collection_metrics.as_deref() == Some("SIZE") {
            out.item_collection_metrics = Some(HashMap::new());
        }
        Ok(out)
    }
}
