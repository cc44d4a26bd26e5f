//! TransactWriteItems and TransactGetItems.
//!
//! A write transaction runs in two phases. Prepare: it validates every action, locks every table
//! it touches (in name order, so concurrent transactions cannot deadlock), evaluates every
//! condition and computes every new item — or, if any action fails, answers
//! `TransactionCanceledException` with one reason per action, in request order — then records an
//! intent on each of its items ([`crate::intents`]) and releases the locks. Commit: it re-takes
//! the locks, applies every change and drops the intents. In between the transaction is in flight
//! and other requests on other threads see it as on AWS: a PutItem/UpdateItem/DeleteItem of a held
//! item gets `TransactionConflictException`, another transaction including it is cancelled with
//! reason `TransactionConflict`, reads see the last committed state. Because the held items cannot
//! change in flight, what was checked at prepare still holds at commit. `ClientRequestToken` makes a request idempotent for ten
//! minutes on the engine clock: a repeat with the same parameters succeeds without writing again,
//! one with different parameters is `IdempotentParameterMismatchException`.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::capacity::{self, Usage};
use crate::engine::{RegionDb, Table};
use crate::error::{CancellationReason, Error, Result};
use crate::expr::{self, Compiled, Ctx, Sources};
use crate::items::{EMPTY, check_condition, check_update_keys, plan_put, plan_update, write_usage};
use crate::key::PKey;
use crate::model::ConsumedCapacity;
use crate::model_data::*;
use crate::table::{Actor, Prepared, Stored};
use crate::validate::{self as v, Shape};

/// The most actions in one transaction.
pub const MAX_ACTIONS: usize = 100;
/// How long a ClientRequestToken is remembered.
pub const TOKEN_WINDOW_MS: u64 = 10 * 60 * 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Put,
    Delete,
    Update,
}

/// A planned change.
struct Plan {
    /// The action's position in the request.
    action: usize,
    /// The table.
    table: String,
    /// The item's key.
    key: PKey,
    /// The new item, or `None` for a deletion (or a condition check).
    new: Option<(Stored, Prepared)>,
    /// Whether it writes at all (not a condition check).
    write: bool,
}

/// A TransactWriteItems between prepare and commit (see [`RegionDb::begin_transact_write_items`]):
/// its items are held until [`InFlight::commit`] or until it is dropped, which abandons it.
pub struct InFlight<'a> {
    db: &'a RegionDb,
    /// The tables, in name order.
    tables: Vec<(String, Arc<Table>)>,
    plans: Vec<Plan>,
    usages: BTreeMap<String, Usage>,
    actions: usize,
    mode: Option<String>,
    done: bool,
}

impl std::fmt::Debug for InFlight<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("actions", &self.actions)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl InFlight<'_> {
    /// Applies the transaction and releases its items. The table may have changed shape in
    /// flight (a new index whose key type an item breaks): then nothing is written and the
    /// transaction is cancelled with that action's `ValidationError`.
    pub fn commit(mut self) -> Result<TransactWriteItemsOutput> {
        let now = self.db.now_ms();
        let tables = self.tables.clone();
        let mut guards: Vec<_> = tables.iter().map(|(_, t)| t.state.write()).collect();
        let slot = |name: &str| tables.iter().position(|(n, _)| n == name);
        // Index keys again, under the locks: an index may have been added while in flight.
        let mut prepared = Vec::with_capacity(self.plans.len());
        for p in &self.plans {
            let Some(i) = slot(&p.table) else {
                return Err(Error::table_not_found());
            };
            match &p.new {
                Some((stored, _)) if p.write => match guards[i].prepare(&stored.item) {
                    Ok(ix) => prepared.push(Some(ix)),
                    Err(e) => {
                        let mut reasons = vec![none_reason(); self.actions];
                        reasons[p.action] = reason(&e);
                        release(&tables, &self.plans);
                        self.done = true;
                        return Err(Error::TransactionCanceled { reasons });
                    }
                },
                _ => prepared.push(None),
            }
        }
        for (p, ix) in self.plans.iter().zip(prepared) {
            if !p.write {
                continue;
            }
            if let Some(i) = slot(&p.table) {
                let new = p
                    .new
                    .as_ref()
                    .map(|(s, old)| (s.clone(), ix.unwrap_or_else(|| old.clone())));
                guards[i].apply(p.key.clone(), new, now, Actor::User);
            }
        }
        for ((_, t), st) in tables.iter().zip(&guards) {
            if st.def.ttl_attribute.is_some() {
                t.refresh_due(st);
            }
        }
        for st in &guards {
            if let Some(u) = self.usages.get(&st.def.name) {
                capacity::meter(&self.db.env, &self.db.region_name, st, u);
            }
        }
        release(&tables, &self.plans);
        self.done = true;
        drop(guards);
        let mode = self.mode.as_deref();
        let consumed: Vec<ConsumedCapacity> = self
            .usages
            .iter()
            .filter_map(|(n, u)| capacity::consumed(mode, n, u))
            .collect();
        Ok(TransactWriteItemsOutput {
            consumed_capacity: mode.is_some_and(|m| m != "NONE").then_some(consumed),
            item_collection_metrics: None,
        })
    }
}

/// Drops a transaction's intents; the caller holds the tables' write locks.
fn release(tables: &[(String, Arc<Table>)], plans: &[Plan]) {
    for (n, t) in tables {
        t.intents
            .release(plans.iter().filter(|p| p.table == *n).map(|p| &p.key));
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            let tables = self.tables.clone();
            let _guards: Vec<_> = tables.iter().map(|(_, t)| t.state.write()).collect();
            release(&tables, &self.plans);
        }
    }
}

fn conflict_reason() -> CancellationReason {
    CancellationReason {
        code: "TransactionConflict".into(),
        message: Some(Error::TransactionConflict.to_string()),
        item: None,
    }
}

/// The request-level checks of TransactWriteItems.
fn check_write_shape(input: &TransactWriteItemsInput) -> Result<()> {
    let mut s = Shape::new();
    s.required("transactItems", &input.transact_items);
    s.len(
        "transactItems",
        input.transact_items.as_ref().map(Vec::len),
        1,
        MAX_ACTIONS,
        "[...]",
    );
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
    if let Some(t) = &input.client_request_token {
        s.len(
            "clientRequestToken",
            Some(t.len()),
            1,
            36,
            &format!("'{t}'"),
        );
    }
    s.finish()
}

struct Prepared1<'a> {
    kind: Kind,
    action: &'a TransactAction,
    compiled: Compiled,
}

fn fingerprint(input: &TransactWriteItemsInput) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut copy = input.clone();
    copy.client_request_token = None;
    // Through `Value`, whose maps are sorted, so equal requests hash equally whatever the
    // iteration order of their hash maps.
    serde_json::to_value(&copy)
        .map(|v| v.to_string())
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

fn reason(e: &Error) -> CancellationReason {
    match e {
        Error::ConditionalCheckFailed { item } => CancellationReason {
            code: "ConditionalCheckFailed".into(),
            message: Some("The conditional request failed".into()),
            item: item.clone(),
        },
        Error::ProvisionedThroughputExceeded => CancellationReason {
            code: "ProvisionedThroughputExceeded".into(),
            message: Some(e.to_string()),
            item: None,
        },
        other => CancellationReason {
            code: "ValidationError".into(),
            message: Some(other.to_string()),
            item: None,
        },
    }
}

fn none_reason() -> CancellationReason {
    CancellationReason {
        code: "None".into(),
        message: None,
        item: None,
    }
}

impl RegionDb {
    /// TransactWriteItems: [`RegionDb::begin_transact_write_items`] then
    /// [`InFlight::commit`], with `ClientRequestToken` idempotency around them.
    pub fn transact_write_items(
        &self,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        check_write_shape(&input)?;
        let now = self.now_ms();
        if let Some(token) = &input.client_request_token {
            let fp = fingerprint(&input);
            let mut tokens = self.tokens.lock();
            tokens.retain(|_, (at, _)| *at + TOKEN_WINDOW_MS > now);
            if let Some((_, prev)) = tokens.get(token) {
                if *prev != fp {
                    return Err(Error::IdempotentParameterMismatch(
                        "Request params did not match params of the previous request with the same client request token".into(),
                    ));
                }
                return Ok(TransactWriteItemsOutput::default());
            }
            tokens.insert(token.clone(), (now, fp));
        }
        let result = self.prepare_write(&input).and_then(InFlight::commit);
        if result.is_err()
            && let Some(token) = &input.client_request_token
        {
            // A failed transaction does not consume its token.
            self.tokens.lock().remove(token);
        }
        result
    }

    /// The first phase of TransactWriteItems, exposed so that tests (and applications testing
    /// their conflict handling) can hold a transaction in flight: validates every action, checks
    /// every condition and records an intent on every item; the transaction's items then stay
    /// held — other writers get `TransactionConflictException`, other transactions are cancelled
    /// with `TransactionConflict` — until [`InFlight::commit`] applies it or dropping the
    /// [`InFlight`] abandons it. `ClientRequestToken` is honoured only by
    /// [`RegionDb::transact_write_items`].
    pub fn begin_transact_write_items(
        &self,
        input: &TransactWriteItemsInput,
    ) -> Result<InFlight<'_>> {
        check_write_shape(input)?;
        self.prepare_write(input)
    }

    fn prepare_write<'a>(&'a self, input: &TransactWriteItemsInput) -> Result<InFlight<'a>> {
        let items = input.transact_items.as_deref().unwrap_or_default();
        let mut actions = Vec::with_capacity(items.len());
        for it in items {
            let (kind, a) = match (&it.condition_check, &it.put, &it.delete, &it.update) {
                (Some(a), None, None, None) => (Kind::Check, a),
                (None, Some(a), None, None) => (Kind::Put, a),
                (None, None, Some(a), None) => (Kind::Delete, a),
                (None, None, None, Some(a)) => (Kind::Update, a),
                _ => {
                    return Err(Error::validation(
                        "TransactItems can only contain one of Check, Put, Update or Delete",
                    ));
                }
            };
            let mut s = Shape::new();
            s.table_name("transactItems.member.tableName", &a.table_name);
            s.one_of(
                "transactItems.member.returnValuesOnConditionCheckFailure",
                &a.return_values_on_condition_check_failure,
                v::RETURN_ON_FAILURE,
            );
            match kind {
                Kind::Put => s.required("transactItems.member.put.item", &a.item),
                Kind::Update => {
                    s.required("transactItems.member.update.key", &a.key);
                    s.required(
                        "transactItems.member.update.updateExpression",
                        &a.update_expression,
                    );
                }
                Kind::Check => {
                    s.required("transactItems.member.conditionCheck.key", &a.key);
                    s.required(
                        "transactItems.member.conditionCheck.conditionExpression",
                        &a.condition_expression,
                    );
                }
                Kind::Delete => s.required("transactItems.member.delete.key", &a.key),
            }
            s.finish()?;
            let compiled = expr::compile(&Sources {
                update: a.update_expression.as_deref(),
                condition: a.condition_expression.as_deref(),
                names: a.expression_attribute_names.as_ref(),
                values: a.expression_attribute_values.as_ref(),
                ..Default::default()
            })?;
            actions.push(Prepared1 {
                kind,
                action: a,
                compiled,
            });
        }
        // Lock every table, in name order.
        let mut names: Vec<&str> = actions
            .iter()
            .map(|a| a.action.table_name.as_deref().unwrap_or_default())
            .collect();
        names.sort_unstable();
        names.dedup();
        let tables: Vec<(&str, Arc<Table>)> = names
            .iter()
            .map(|n| self.table(n).map(|t| (*n, t)))
            .collect::<Result<_>>()?;
        let guards: BTreeMap<&str, _> = tables.iter().map(|(n, t)| (*n, t.state.write())).collect();

        let mut seen: HashSet<(String, PKey)> = HashSet::new();
        let mut plans: Vec<Plan> = Vec::new();
        let mut reasons = Vec::with_capacity(actions.len());
        let mut failed = false;
        let mut usages: BTreeMap<String, Usage> = BTreeMap::new();
        for p in &actions {
            let a = p.action;
            let name = a.table_name.clone().unwrap_or_default();
            let (Some(st), Some(t)) = (
                guards.get(name.as_str()),
                tables.iter().find(|(n, _)| *n == name).map(|(_, t)| t),
            ) else {
                return Err(Error::table_not_found());
            };
            let ctx = Ctx {
                names: a.expression_attribute_names.as_ref(),
                values: a.expression_attribute_values.as_ref(),
            };
            let key = match p.kind {
                Kind::Put => plan_put(st, Arc::new(a.item.clone().unwrap_or_default()))?.0,
                _ => st.def.schema.key_of_key(a.key.as_ref().unwrap_or(&EMPTY))?,
            };
            if !seen.insert((name.clone(), key.clone())) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            if let Some(u) = &p.compiled.update {
                check_update_keys(u, &st.def.schema, &ctx)?;
            }
            if t.intents.is_held(&key) {
                failed = true;
                reasons.push(conflict_reason());
                continue;
            }
            let old = st.items.get(&key).cloned();
            let outcome = (|| -> Result<Option<(Stored, Prepared)>> {
                let return_old =
                    a.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
                check_condition(
                    p.compiled.condition.as_ref(),
                    old.as_ref(),
                    &ctx,
                    return_old,
                )?;
                Ok(match p.kind {
                    Kind::Check | Kind::Delete => None,
                    Kind::Put => {
                        let (_, stored, prepared) =
                            plan_put(st, Arc::new(a.item.clone().unwrap_or_default()))?;
                        Some((stored, prepared))
                    }
                    Kind::Update => Some(plan_update(
                        st,
                        &key,
                        old.as_ref(),
                        p.compiled.update.as_ref().unwrap_or(&Default::default()),
                        &ctx,
                    )?),
                })
            })();
            match outcome {
                Ok(new) => {
                    reasons.push(none_reason());
                    let u = if p.kind == Kind::Check {
                        Usage::read(capacity::read_units(
                            old.as_ref().map_or(0, |s| s.size as usize),
                            true,
                        ))
                    } else {
                        write_usage(st, old.as_ref(), new.as_ref().map(|(s, _)| s), true)
                    };
                    usages
                        .entry(name.clone())
                        .or_insert_with(|| Usage::write(0.0))
                        .add(&u.scaled(2.0));
                    plans.push(Plan {
                        action: reasons.len() - 1,
                        table: name,
                        key,
                        new,
                        write: p.kind != Kind::Check,
                    });
                }
                Err(e) => {
                    failed = true;
                    reasons.push(reason(&e));
                }
            }
        }
        if failed {
            return Err(Error::TransactionCanceled { reasons });
        }
        if self.config.enforce_throughput {
            self.take_capacity(&actions, &tables, &guards, &usages)?;
        }
        // Hold every item (condition checks too: what they checked must not change before the
        // commit), then let go of the tables: the transaction is in flight.
        for (n, t) in &tables {
            t.intents
                .hold(plans.iter().filter(|p| p.table == *n).map(|p| &p.key));
        }
        drop(guards);
        Ok(InFlight {
            db: self,
            tables: tables
                .iter()
                .map(|(n, t)| ((*n).to_owned(), Arc::clone(t)))
                .collect(),
            plans,
            usages,
            actions: actions.len(),
            mode: input.return_consumed_capacity.clone(),
            done: false,
        })
    }

    /// Takes a transaction's capacity from every provisioned table it touches, all or nothing
    /// (the tables are write-locked, so no other request draws on them meanwhile); a table short
    /// of capacity cancels the transaction with `ProvisionedThroughputExceeded` for its actions.
    fn take_capacity(
        &self,
        actions: &[Prepared1<'_>],
        tables: &[(&str, Arc<Table>)],
        guards: &BTreeMap<&str, parking_lot::RwLockWriteGuard<'_, crate::table::TableState>>,
        usages: &BTreeMap<String, Usage>,
    ) -> Result<()> {
        let now = self.now_ms();
        let provisioned = |n: &str| {
            guards
                .get(n)
                .filter(|st| st.def.billing_mode == "PROVISIONED")
        };
        let mut short = Vec::new();
        for (n, t) in tables {
            if let (Some(st), Some(u)) = (provisioned(n), usages.get(*n))
                && !t.buckets.lock().can_take(now, st, u)
            {
                short.push(*n);
            }
        }
        if !short.is_empty() {
            let reasons = actions
                .iter()
                .map(|a| {
                    if short.contains(&a.action.table_name.as_deref().unwrap_or_default()) {
                        reason(&Error::ProvisionedThroughputExceeded)
                    } else {
                        none_reason()
                    }
                })
                .collect();
            return Err(Error::TransactionCanceled { reasons });
        }
        for (n, t) in tables {
            if let (Some(st), Some(u)) = (provisioned(n), usages.get(*n)) {
                t.buckets.lock().take_usage(now, st, u)?;
            }
        }
        Ok(())
    }

    /// TransactGetItems.
    pub fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        let mut s = Shape::new();
        s.required("transactItems", &input.transact_items);
        s.len(
            "transactItems",
            input.transact_items.as_ref().map(Vec::len),
            1,
            MAX_ACTIONS,
            "[...]",
        );
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        s.finish()?;
        let items = input.transact_items.unwrap_or_default();
        let mut gets = Vec::with_capacity(items.len());
        for it in &items {
            let g = it.get.as_ref().ok_or_else(|| {
                Error::validation("1 validation error detected: Value null at 'transactItems.member.get' failed to satisfy constraint: Member must not be null")
            })?;
            let mut s = Shape::new();
            s.table_name("transactItems.member.get.tableName", &g.table_name);
            s.required("transactItems.member.get.key", &g.key);
            s.finish()?;
            let compiled = expr::compile(&Sources {
                projection: g.projection_expression.as_deref(),
                names: g.expression_attribute_names.as_ref(),
                ..Default::default()
            })?;
            gets.push((g, compiled));
        }
        let mut names: Vec<&str> = gets
            .iter()
            .map(|(g, _)| g.table_name.as_deref().unwrap_or_default())
            .collect();
        names.sort_unstable();
        names.dedup();
        let tables: Vec<(&str, Arc<Table>)> = names
            .iter()
            .map(|n| self.table(n).map(|t| (*n, t)))
            .collect::<Result<_>>()?;
        let guards: BTreeMap<&str, _> = tables.iter().map(|(n, t)| (*n, t.state.read())).collect();
        let mut responses = Vec::with_capacity(gets.len());
        let mut usages: BTreeMap<String, Usage> = BTreeMap::new();
        let mut seen = HashSet::new();
        let mut conflicts = Vec::new();
        for (g, compiled) in &gets {
            let mut conflict = None;
            let name = g.table_name.as_deref().unwrap_or_default();
            let Some(st) = guards.get(name) else {
                return Err(Error::table_not_found());
            };
            let key = st.def.schema.key_of_key(g.key.as_ref().unwrap_or(&EMPTY))?;
            if !seen.insert((name.to_owned(), key.clone())) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            if tables
                .iter()
                .any(|(n, t)| *n == name && t.intents.is_held(&key))
            {
                conflict = Some(responses.len());
            }
            let found = st.items.get(&key);
            usages
                .entry(name.to_owned())
                .or_insert_with(|| Usage::read(0.0))
                .add(&Usage::read(
                    2.0 * capacity::read_units(found.map_or(0, |s| s.size as usize), true),
                ));
            let ctx = Ctx {
                names: g.expression_attribute_names.as_ref(),
                values: None,
            };
            let item = found.map(|s| match &compiled.projection {
                Some(p) => Arc::new(expr::eval::project(&s.item, p, &ctx)),
                None => Arc::clone(&s.item),
            });
            conflicts.extend(conflict);
            responses.push(ItemResponse { item });
        }
        if !conflicts.is_empty() {
            let reasons = (0..responses.len())
                .map(|i| {
                    if conflicts.contains(&i) {
                        conflict_reason()
                    } else {
                        none_reason()
                    }
                })
                .collect();
            return Err(Error::TransactionCanceled { reasons });
        }
        for (n, t) in &tables {
            if let (Some(st), Some(u)) = (guards.get(n), usages.get(*n))
                && let Err(e) = self.charge(t, st, u)
            {
                let reasons = gets
                    .iter()
                    .map(|(g, _)| {
                        if g.table_name.as_deref() == Some(*n) {
                            reason(&e)
                        } else {
                            none_reason()
                        }
                    })
                    .collect();
                return Err(Error::TransactionCanceled { reasons });
            }
        }
        let consumed: Vec<ConsumedCapacity> = usages
            .iter()
            .filter_map(|(n, u)| {
                capacity::consumed(input.return_consumed_capacity.as_deref(), n, u)
            })
            .collect();
        Ok(TransactGetItemsOutput {
            responses: Some(responses),
            consumed_capacity: (input
                .return_consumed_capacity
                .as_deref()
                .is_some_and(|m| m != "NONE"))
            .then_some(consumed),
        })
    }
}
