//! Single-item operations: GetItem, PutItem, UpdateItem, DeleteItem.
//!
//! Each write validates everything first (shape, expressions, key, values, size, index keys),
//! then takes the table's write lock, evaluates the condition against the current item and
//! applies the change with [`TableState::apply`], which cannot fail: a write is all or nothing.
//! The pieces are shared with transactions and batches ([`plan_put`], [`plan_update`]).

use std::sync::{Arc, LazyLock};

use crate::capacity::{self, Usage};
use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::expr::{self, Action, Compiled, Cond, Ctx, Path, Sources, Update};
use crate::key::{PKey, Schema};
use crate::legacy;
use crate::model_data::*;
use crate::table::{Actor, Prepared, Stored, TableState};
use crate::validate::{self as v, Shape};
use crate::value::{Item, MAX_ITEM_SIZE, item_size, validate, value_size};

/// The item conditions see when there is none.
pub static EMPTY: LazyLock<Item> = LazyLock::new(Item::new);

/// Validates an item's values.
pub fn validate_item(item: &Item) -> Result<()> {
    for v in item.values() {
        validate(v).map_err(Error::Validation)?;
    }
    Ok(())
}

/// Checks a new item and computes what storing it needs.
pub fn plan_put(st: &TableState, item: Arc<Item>) -> Result<(PKey, Stored, Prepared)> {
    // One pass over the item finds the key attributes, checks every value and adds up the size;
    // the errors come in the order separate passes gave them (values, then key, then size).
    let schema = &st.def.schema;
    let (mut hash, mut range) = (None, None);
    let mut size = 0;
    for (k, v) in item.iter() {
        validate(v).map_err(Error::Validation)?;
        size += k.len() + value_size(v);
        if *k == schema.hash.name {
            hash = Some(v);
        } else if schema.range.as_ref().is_some_and(|r| *k == r.name) {
            range = Some(v);
        }
    }
    let key = schema.key_of_found(hash, range)?;
    if size > MAX_ITEM_SIZE {
        return Err(Error::validation(
            "One or more parameter values were invalid: Item size has exceeded the maximum allowed size",
        ));
    }
    let prepared = st.prepare(&item)?;
    Ok((
        key,
        Stored {
            item,
            size: size as u32,
        },
        prepared,
    ))
}

/// Rejects an update that touches a key attribute.
pub fn check_update_keys(update: &Update, schema: &Schema, ctx: &Ctx<'_>) -> Result<()> {
    for a in &update.actions {
        let p = match a {
            Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
        };
        if let Some(expr::PathElem::Attr(n)) = p.0.first()
            && let Some(name) = ctx.name(n)
            && schema.names().any(|k| k == name)
        {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}

/// Applies an update to the current item (or the bare key) and checks the result.
pub fn plan_update(
    st: &TableState,
    key: &PKey,
    old: Option<&Stored>,
    update: &Update,
    ctx: &Ctx<'_>,
) -> Result<(Stored, Prepared)> {
    let mut item = match old {
        Some(o) => (*o.item).clone(),
        None => key.to_item(&st.def.schema),
    };
    expr::update::apply(update, &mut item, ctx).map_err(|e| Error::Validation(e.0))?;
    validate_item(&item)?;
    let size = item_size(&item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::validation(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    let prepared = st.prepare(&item)?;
    Ok((
        Stored {
            item: Arc::new(item),
            size: size as u32,
        },
        prepared,
    ))
}

/// Evaluates a condition; on failure, the error carries the item if `return_old` is set.
pub fn check_condition(
    cond: Option<&Cond>,
    old: Option<&Stored>,
    ctx: &Ctx<'_>,
    return_old: bool,
) -> Result<()> {
    if let Some(c) = cond {
        let item = old.map_or(&*EMPTY, |o| &*o.item);
        if !expr::eval::eval(c, item, ctx) {
            return Err(Error::ConditionalCheckFailed {
                item: if return_old {
                    old.map(|o| Arc::clone(&o.item))
                } else {
                    None
                },
            });
        }
    }
    Ok(())
}

/// Write usage of a change: the larger item on the table, and each index whose entry changed.
pub fn write_usage(
    st: &TableState,
    old: Option<&Stored>,
    new: Option<&Stored>,
    with_indexes: bool,
) -> Usage {
    let size = old.map_or(0, |o| o.size).max(new.map_or(0, |n| n.size));
    let mut u = Usage::write(capacity::write_units(size as usize));
    if with_indexes {
        for ix in &st.indexes {
            let key_of = |s: Option<&Stored>| {
                s.and_then(|s| ix.def.schema.index_key_of(&s.item, "").ok().flatten())
            };
            let (a, b) = (key_of(old), key_of(new));
            if a.is_none() && b.is_none() {
                continue;
            }
            let projected = new
                .or(old)
                .map_or(0, |s| item_size(&st.project(&ix.def, &s.item)));
            let mut units = capacity::write_units(projected);
            if a.is_some() && b.is_some() && a != b {
                units *= 2.0;
            }
            u.indexes.push((ix.def.name.clone(), ix.def.global, units));
        }
    }
    u
}

fn item_metrics(
    mode: &Option<String>,
    st: &TableState,
    key: &PKey,
) -> Option<crate::model::ItemCollectionMetrics> {
    if mode.as_deref() != Some("SIZE") || !st.indexes.iter().any(|i| !i.def.global) {
        return None;
    }
    let mut k = Item::new();
    k.insert(st.def.schema.hash.name.clone(), key.pk.to_value());
    let lo = PKey {
        h: key.h,
        pk: key.pk.clone(),
        sk: crate::key::Sk::Min,
    };
    let hi = PKey {
        h: key.h,
        pk: key.pk.clone(),
        sk: crate::key::Sk::Max,
    };
    let bytes: u64 = st
        .items
        .range(lo..=hi)
        .map(|(_, s)| u64::from(s.size))
        .sum();
    let gb = bytes as f64 / (1024.0 * 1024.0 * 1024.0);
    Some(crate::model::ItemCollectionMetrics {
        item_collection_key: k,
        size_estimate_range_gb: vec![gb.floor(), gb.floor() + 1.0],
    })
}

impl RegionDb {
    /// Charges a request's usage: takes it from the table's (and GSIs') buckets when
    /// enforcement is on — failing with `ProvisionedThroughputExceededException` — and records
    /// it on the meter.
    pub fn charge(&self, t: &Table, st: &TableState, usage: &Usage) -> Result<()> {
        if self.config.enforce_throughput && st.def.billing_mode == "PROVISIONED" {
            t.buckets.lock().take_usage(self.now_ms(), st, usage)?;
        }
        capacity::meter(&self.env, &self.region_name, st, usage);
        Ok(())
    }

    /// GetItem.
    pub fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("key", &input.key);
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        s.finish()?;
        legacy::check_params(
            &[(
                "ProjectionExpression",
                input.projection_expression.is_some(),
            )],
            &[("AttributesToGet", input.attributes_to_get.is_some())],
            input.expression_attribute_names.is_some(),
            false,
        )?;
        // Without a projection or names there is nothing to compile.
        let compiled = if input.projection_expression.is_none()
            && input.expression_attribute_names.is_none()
        {
            Compiled::default()
        } else {
            expr::compile(&Sources {
                projection: input.projection_expression.as_deref(),
                names: input.expression_attribute_names.as_ref(),
                ..Default::default()
            })?
        };
        let projection = match (&compiled.projection, &input.attributes_to_get) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(a)) => Some(legacy::attributes_to_get(a)?),
            _ => None,
        };
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let key = st
            .def
            .schema
            .key_of_key(input.key.as_ref().unwrap_or(&EMPTY))?;
        let consistent = input.consistent_read.unwrap_or(false);
        let found = st.read_item(|| self.now_ms(), consistent, &key).cloned();
        let usage = Usage::read(capacity::read_units(
            found.as_ref().map_or(0, |s| s.size as usize),
            consistent,
        ));
        self.charge(&t, &st, &usage)?;
        let consumed = capacity::consumed(
            input.return_consumed_capacity.as_deref(),
            &st.def.name,
            &usage,
        );
        drop(st);
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: None,
        };
        let item = found.map(|s| match &projection {
            Some(p) => Arc::new(expr::eval::project(&s.item, p, &ctx)),
            None => s.item,
        });
        Ok(GetItemOutput {
            item,
            consumed_capacity: consumed,
        })
    }

    /// PutItem.
    pub fn put_item(&self, input: PutItemInput) -> Result<WriteItemOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("item", &input.item);
        check_put_or_delete(
            s,
            &input.return_values,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
            &input.return_values_on_condition_check_failure,
            &input.conditional_operator,
        )?;
        let cond = self
            .write_condition(
                &input.condition_expression,
                &input.expected,
                &input.conditional_operator,
                &input.expression_attribute_names,
                &input.expression_attribute_values,
                None,
            )?
            .0;
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let return_old_on_fail =
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let item = Arc::new(input.item.unwrap_or_default());
        let mut st = t.state.write();
        let (key, stored, prepared) = plan_put(&st, item)?;
        if t.intents.is_held(&key) {
            return Err(Error::TransactionConflict);
        }
        let enforced = self.config.enforce_throughput && st.def.billing_mode == "PROVISIONED";
        let (old, usage) = if cond.is_none() && !enforced {
            // Nothing to check before writing: one descent of the map, the old item comes back
            // from the write itself, and charging can only meter.
            let new = stored.clone();
            let old = st.apply(
                key.clone(),
                Some((stored, prepared)),
                self.now_ms(),
                Actor::User,
            );
            let usage = write_usage(&st, old.as_ref(), Some(&new), true);
            self.charge(&t, &st, &usage)?;
            (old, usage)
        } else {
            let old = st.current(&key).cloned();
            check_condition(cond.as_ref(), old.as_ref(), &ctx, return_old_on_fail)?;
            let usage = write_usage(&st, old.as_ref(), Some(&stored), true);
            self.charge(&t, &st, &usage)?;
            let now = self.now_ms();
            st.apply(key.clone(), Some((stored, prepared)), now, Actor::User);
            (old, usage)
        };
        if st.def.ttl_attribute.is_some() {
            t.refresh_due(&st);
        }
        let consumed = capacity::consumed(
            input.return_consumed_capacity.as_deref(),
            &st.def.name,
            &usage,
        );
        let metrics = item_metrics(&input.return_item_collection_metrics, &st, &key);
        drop(st);
        let attributes = if input.return_values.as_deref() == Some("ALL_OLD") {
            old.map(|o| o.item)
        } else {
            None
        };
        Ok(WriteItemOutput {
            attributes,
            consumed_capacity: consumed,
            item_collection_metrics: metrics,
        })
    }

    /// Compiles the condition of a write (expression or legacy `Expected`), and the update
    /// expression when given.
    pub fn write_condition(
        &self,
        condition: &Option<String>,
        expected: &Option<std::collections::HashMap<String, ExpectedAttributeValue>>,
        conditional_operator: &Option<String>,
        names: &Option<crate::model::Names>,
        values: &Option<crate::model::Values>,
        update: Option<&Option<String>>,
    ) -> Result<(Option<Cond>, Compiled)> {
        // The common unconditional write: no expression, no legacy parameter, no placeholder —
        // nothing to check or compile.
        if condition.is_none()
            && expected.is_none()
            && conditional_operator.is_none()
            && names.is_none()
            && values.is_none()
            && update.is_none_or(|u| u.is_none())
        {
            return Ok((None, Compiled::default()));
        }
        let mut exprs = vec![];
        if let Some(u) = update {
            exprs.push(("UpdateExpression", u.is_some()));
        }
        exprs.push(("ConditionExpression", condition.is_some()));
        legacy::check_params(
            &exprs,
            &[
                ("Expected", expected.is_some()),
                ("ConditionalOperator", conditional_operator.is_some()),
            ],
            names.is_some(),
            values.is_some(),
        )?;
        let compiled = expr::compile(&Sources {
            update: update.and_then(|u| u.as_deref()),
            condition: condition.as_deref(),
            names: names.as_ref(),
            values: values.as_ref(),
            ..Default::default()
        })?;
        let cond = match (&compiled.condition, expected) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(e)) => legacy::expected(e, conditional_operator.as_deref())?,
            _ => None,
        };
        Ok((cond, compiled))
    }

    /// DeleteItem.
    pub fn delete_item(&self, input: DeleteItemInput) -> Result<WriteItemOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("key", &input.key);
        check_put_or_delete(
            s,
            &input.return_values,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
            &input.return_values_on_condition_check_failure,
            &input.conditional_operator,
        )?;
        let cond = self
            .write_condition(
                &input.condition_expression,
                &input.expected,
                &input.conditional_operator,
                &input.expression_attribute_names,
                &input.expression_attribute_values,
                None,
            )?
            .0;
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let mut st = t.state.write();
        let key = st
            .def
            .schema
            .key_of_key(input.key.as_ref().unwrap_or(&EMPTY))?;
        if t.intents.is_held(&key) {
            return Err(Error::TransactionConflict);
        }
        let old = st.current(&key).cloned();
        check_condition(
            cond.as_ref(),
            old.as_ref(),
            &ctx,
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"),
        )?;
        let usage = write_usage(&st, old.as_ref(), None, true);
        self.charge(&t, &st, &usage)?;
        let now = self.now_ms();
        st.apply(key.clone(), None, now, Actor::User);
        if st.def.ttl_attribute.is_some() {
            t.refresh_due(&st);
        }
        let consumed = capacity::consumed(
            input.return_consumed_capacity.as_deref(),
            &st.def.name,
            &usage,
        );
        let metrics = item_metrics(&input.return_item_collection_metrics, &st, &key);
        drop(st);
        let attributes = if input.return_values.as_deref() == Some("ALL_OLD") {
            old.map(|o| o.item)
        } else {
            None
        };
        Ok(WriteItemOutput {
            attributes,
            consumed_capacity: consumed,
            item_collection_metrics: metrics,
        })
    }

    /// UpdateItem.
    pub fn update_item(&self, input: UpdateItemInput) -> Result<WriteItemOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("key", &input.key);
        s.one_of("returnValues", &input.return_values, v::RETURN_VALUES);
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
        s.one_of(
            "returnValuesOnConditionCheckFailure",
            &input.return_values_on_condition_check_failure,
            v::RETURN_ON_FAILURE,
        );
        s.one_of(
            "conditionalOperator",
            &input.conditional_operator,
            v::CONDITIONAL_OPERATORS,
        );
        s.finish()?;
        if input.update_expression.is_some() && input.attribute_updates.is_some() {
            return Err(Error::validation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}",
            ));
        }
        let (cond, compiled) = self.write_condition(
            &input.condition_expression,
            &input.expected,
            &input.conditional_operator,
            &input.expression_attribute_names,
            &input.expression_attribute_values,
            Some(&input.update_expression),
        )?;
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let mut st = t.state.write();
        let update = match (&compiled.update, &input.attribute_updates) {
            (Some(u), _) => u.clone(),
            (None, Some(a)) => {
                legacy::attribute_updates(a, &st.def.schema.names().collect::<Vec<_>>())?
            }
            (None, None) => Update::default(),
        };
        check_update_keys(&update, &st.def.schema, &ctx)?;
        let key = st
            .def
            .schema
            .key_of_key(input.key.as_ref().unwrap_or(&EMPTY))?;
        if t.intents.is_held(&key) {
            return Err(Error::TransactionConflict);
        }
        let old = st.current(&key).cloned();
        check_condition(
            cond.as_ref(),
            old.as_ref(),
            &ctx,
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"),
        )?;
        let (stored, prepared) = plan_update(&st, &key, old.as_ref(), &update, &ctx)?;
        let usage = write_usage(&st, old.as_ref(), Some(&stored), true);
        self.charge(&t, &st, &usage)?;
        let new_item = Arc::clone(&stored.item);
        let now = self.now_ms();
        st.apply(key.clone(), Some((stored, prepared)), now, Actor::User);
        if st.def.ttl_attribute.is_some() {
            t.refresh_due(&st);
        }
        let consumed = capacity::consumed(
            input.return_consumed_capacity.as_deref(),
            &st.def.name,
            &usage,
        );
        let metrics = item_metrics(&input.return_item_collection_metrics, &st, &key);
        drop(st);
        let attributes = match input.return_values.as_deref() {
            Some("ALL_OLD") => old.map(|o| o.item),
            Some("ALL_NEW") => Some(new_item),
            Some("UPDATED_OLD") => old
                .map(|o| Arc::new(expr::eval::project(&o.item, &updated_paths(&update), &ctx)))
                .filter(|i| !i.is_empty()),
            Some("UPDATED_NEW") => Some(Arc::new(expr::eval::project(
                &new_item,
                &updated_paths(&update),
                &ctx,
            )))
            .filter(|i| !i.is_empty()),
            _ => None,
        };
        Ok(WriteItemOutput {
            attributes,
            consumed_capacity: consumed,
            item_collection_metrics: metrics,
        })
    }
}

/// The paths an update touches, for `UPDATED_OLD`/`UPDATED_NEW`.
pub fn updated_paths(update: &Update) -> Vec<Path> {
    update
        .actions
        .iter()
        .map(|a| match a {
            Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => {
                p.clone()
            }
        })
        .collect()
}

/// The parameter checks PutItem and DeleteItem share, after their own required member: the
/// enumerated options, then ReturnValues limited to `NONE` / `ALL_OLD`.
fn check_put_or_delete(
    mut s: Shape,
    return_values: &Option<String>,
    return_consumed_capacity: &Option<String>,
    return_item_collection_metrics: &Option<String>,
    return_values_on_condition_check_failure: &Option<String>,
    conditional_operator: &Option<String>,
) -> Result<()> {
    s.one_of("returnValues", return_values, v::RETURN_VALUES);
    s.one_of(
        "returnConsumedCapacity",
        return_consumed_capacity,
        v::RETURN_CONSUMED,
    );
    s.one_of(
        "returnItemCollectionMetrics",
        return_item_collection_metrics,
        v::RETURN_METRICS,
    );
    s.one_of(
        "returnValuesOnConditionCheckFailure",
        return_values_on_condition_check_failure,
        v::RETURN_ON_FAILURE,
    );
    s.one_of(
        "conditionalOperator",
        conditional_operator,
        v::CONDITIONAL_OPERATORS,
    );
    s.finish()?;
    if !matches!(
        return_values.as_deref(),
        None | Some("NONE") | Some("ALL_OLD")
    ) {
        return Err(Error::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        ));
    }
    Ok(())
}
