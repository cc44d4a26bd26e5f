//! Query and Scan: key conditions on tables and indexes, filters, projections, Select, Limit,
//! the 1 MB page, ExclusiveStartKey/LastEvaluatedKey and parallel-scan segments.
//!
//! A page stops after `Limit` items are evaluated or once the items read reach 1 MB (the item
//! that crosses the line is included, as on AWS); `LastEvaluatedKey` is returned when more items
//! remain. The filter runs after the page is cut, so `Count` may be below `ScannedCount`.
//! Capacity is charged on the total bytes read. Parallel-scan segment `i` of `n` covers the
//! partition-hash range `[i·2⁶⁴/n, (i+1)·2⁶⁴/n)`, so segments are disjoint and cover the table.

use std::ops::Bound;
use std::sync::Arc;

use crate::capacity::{self, Usage};
use crate::engine::RegionDb;
use crate::error::{Error, Result};
use crate::expr::{self, CmpOp, Cond, Ctx, Operand, Path, PathElem, Sources};
use crate::key::{IKey, KeyVal, PKey, Schema, Sk};
use crate::legacy;
use crate::model_data::{QueryInput, QueryOutput, ScanInput};
use crate::table::{IndexState, ProjKind, TableState};
use crate::validate::{self as v, Shape};
use crate::value::{AttributeValue, Item, item_size};

/// The most bytes one page reads.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// The range condition on a sort key.
#[derive(Debug, Clone)]
enum RangeCond {
    Cmp(CmpOp, KeyVal),
    Between(KeyVal, KeyVal),
    BeginsWith(AttributeValue),
}

/// A key condition, analysed.
#[derive(Debug, Clone)]
struct KeyCond {
    hash: KeyVal,
    range: Option<RangeCond>,
}

fn kc_err(msg: &str) -> Error {
    Error::validation(format!("Invalid KeyConditionExpression: {msg}"))
}

fn operand_value<'a>(o: &'a Operand, ctx: &Ctx<'a>) -> Option<&'a AttributeValue> {
    match o {
        Operand::Value(v) => ctx.value(v),
        Operand::Literal(v) => Some(v),
        _ => None,
    }
}

/// Splits a key condition into per-attribute conditions with DynamoDB's checks.
fn flatten<'c>(c: &'c Cond, out: &mut Vec<(String, &'c Cond)>, ctx: &Ctx<'_>, legacy: bool) -> Result<()> {
    let err = |m: &str| if legacy { Error::validation(m) } else { kc_err(m) };
    let attr_of = |ops: &[&Operand]| -> Result<String> {
        let mut name = None;
        for o in ops {
            match o {
                Operand::Path(p) => {
                    if name.is_some() {
                        return Err(err("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"));
                    }
                    if p.0.len() > 1 {
                        return Err(err("KeyConditionExpressions cannot have conditions on nested attributes"));
                    }
                    if let Some(PathElem::Attr(n)) = p.0.first() {
                        name = ctx.name(n).map(str::to_owned);
                    }
                }
                Operand::Call(..) => return Err(err("KeyConditionExpressions cannot contain nested operations")),
                _ => {}
            }
        }
        name.ok_or_else(|| err("Invalid condition in KeyConditionExpression: No key attribute specified"))
    };
    match c {
        Cond::And(a, b) => {
            flatten(a, out, ctx, legacy)?;
            flatten(b, out, ctx, legacy)
        }
        Cond::Or(..) => Err(err("Invalid operator used in KeyConditionExpression: OR")),
        Cond::Not(..) => Err(err("Invalid operator used in KeyConditionExpression: NOT")),
        Cond::In(..) => Err(err("Invalid operator used in KeyConditionExpression: IN")),
        Cond::Cmp(CmpOp::Ne, ..) => Err(err("Invalid operator used in KeyConditionExpression: <>")),
        Cond::Cmp(_, a, b) => {
            let name = attr_of(&[a, b])?;
            push_unique(out, name, c, &err)
        }
        Cond::Between(a, lo, hi) => {
            if !matches!(a, Operand::Path(_)) {
                return Err(err("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"));
            }
            let name = attr_of(&[a, lo, hi])?;
            push_unique(out, name, c, &err)
        }
        Cond::Call(f, args) if f == "begins_with" => {
            if !matches!(args.first(), Some(Operand::Path(_))) {
                return Err(err("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"));
            }
            let ops: Vec<&Operand> = args.iter().collect();
            let name = attr_of(&ops)?;
            push_unique(out, name, c, &err)
        }
        Cond::Call(f, _) => Err(err(&format!("Invalid operator used in KeyConditionExpression: {f}"))),
    }
}

fn push_unique<'c>(out: &mut Vec<(String, &'c Cond)>, name: String, c: &'c Cond, err: &dyn Fn(&str) -> Error) -> Result<()> {
    if out.iter().any(|(n, _)| *n == name) {
        return Err(err("KeyConditionExpressions must only contain one condition per key"));
    }
    out.push((name, c));
    Ok(())
}

fn analyse(c: &Cond, schema: &Schema, ctx: &Ctx<'_>, legacy: bool) -> Result<KeyCond> {
    let mut parts = Vec::new();
    flatten(c, &mut parts, ctx, legacy)?;
    if parts.len() > 2 {
        return Err(Error::validation("Conditions can be of length 1 or 2 only"));
    }
    let missed = |n: &str| Error::validation(format!("Query condition missed key schema element: {n}"));
    let mismatch = || Error::validation("One or more parameter values were invalid: Condition parameter type does not match schema type");
    let mut hash = None;
    let mut range = None;
    for (name, cond) in &parts {
        if *name == schema.hash.name {
            let Cond::Cmp(CmpOp::Eq, a, b) = cond else { return Err(Error::validation("Query key condition not supported")) };
            let v = operand_value(a, ctx).or_else(|| operand_value(b, ctx)).ok_or_else(mismatch)?;
            hash = Some(schema.hash_val(v).ok_or_else(mismatch)?);
        } else if schema.range.as_ref().is_some_and(|r| r.name == *name) {
            let conv = |o: &Operand| operand_value(o, ctx).and_then(|v| schema.range_val(v)).ok_or_else(mismatch);
            range = Some(match cond {
                Cond::Cmp(op, a, b) => {
                    // `:v < sk` means `sk > :v`.
                    if matches!(a, Operand::Path(_)) {
                        RangeCond::Cmp(*op, conv(b)?)
                    } else {
                        let flipped = match op {
                            CmpOp::Lt => CmpOp::Gt,
                            CmpOp::Le => CmpOp::Ge,
                            CmpOp::Gt => CmpOp::Lt,
                            CmpOp::Ge => CmpOp::Le,
                            o => *o,
                        };
                        RangeCond::Cmp(flipped, conv(a)?)
                    }
                }
                Cond::Between(_, lo, hi) => RangeCond::Between(conv(lo)?, conv(hi)?),
                Cond::Call(_, args) => {
                    let v = args.get(1).and_then(|o| operand_value(o, ctx)).ok_or_else(mismatch)?;
                    conv(&args[1])?;
                    if schema.range.as_ref().is_some_and(|r| r.ty == crate::key::KeyType::N) {
                        return Err(Error::validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"));
                    }
                    RangeCond::BeginsWith(v.clone())
                }
                _ => return Err(Error::validation("Query key condition not supported")),
            });
        } else {
            return Err(missed(schema.range.as_ref().filter(|_| hash.is_some() || parts.len() == 1).map_or(&schema.hash.name, |r| &r.name)));
        }
    }
    let hash = hash.ok_or_else(|| missed(&schema.hash.name))?;
    Ok(KeyCond { hash, range })
}

/// Sort-key bounds: (lower, lower inclusive, upper, upper inclusive).
fn sk_bounds(r: &Option<RangeCond>) -> (Sk, bool, Sk, bool) {
    match r {
        None | Some(RangeCond::BeginsWith(_)) => match r {
            Some(RangeCond::BeginsWith(AttributeValue::S(s))) => (Sk::Val(KeyVal::S(s.as_str().into())), true, Sk::Max, true),
            Some(RangeCond::BeginsWith(AttributeValue::B(b))) => (Sk::Val(KeyVal::B(b.as_slice().into())), true, Sk::Max, true),
            _ => (Sk::Min, true, Sk::Max, true),
        },
        Some(RangeCond::Between(a, b)) => (Sk::Val(a.clone()), true, Sk::Val(b.clone()), true),
        Some(RangeCond::Cmp(op, v)) => {
            let v = Sk::Val(v.clone());
            match op {
                CmpOp::Eq => (v.clone(), true, v, true),
                CmpOp::Lt => (Sk::Min, true, v, false),
                CmpOp::Le => (Sk::Min, true, v, true),
                CmpOp::Gt => (v, false, Sk::Max, true),
                _ => (v, true, Sk::Max, true),
            }
        }
    }
}

fn sk_matches(r: &Option<RangeCond>, sk: &Sk) -> bool {
    match (r, sk) {
        (Some(RangeCond::BeginsWith(p)), Sk::Val(v)) => expr::eval::begins_with(&v.to_value(), p),
        _ => true,
    }
}

/// One candidate item of a page.
struct Candidate {
    item: Arc<Item>,
    size: usize,
    lek: Item,
}

/// Where a read goes: the table or one index.
enum Source<'a> {
    Table,
    Index(&'a IndexState),
}

fn lek_for(st: &TableState, src: &Source<'_>, base: &PKey, item: &Item) -> Item {
    let mut k = base.to_item(&st.def.schema);
    if let Source::Index(ix) = src {
        for n in ix.def.schema.names() {
            if let Some(v) = item.get(n) {
                k.insert(n.to_owned(), v.clone());
            }
        }
    }
    k
}

fn start_key(st: &TableState, src: &Source<'_>, esk: &Item) -> Result<(PKey, Option<IKey>)> {
    let bad = || Error::validation("The provided starting key is invalid: The provided key element does not match the schema");
    match src {
        Source::Table => Ok((st.def.schema.key_of_key(esk).map_err(|_| bad())?, None)),
        Source::Index(ix) => {
            let table_part: Item = st.def.schema.names().filter_map(|n| esk.get(n).map(|v| (n.to_owned(), v.clone()))).collect();
            let base = st.def.schema.key_of_key(&table_part).map_err(|_| bad())?;
            let expected: std::collections::HashSet<&str> = st.def.schema.names().chain(ix.def.schema.names()).collect();
            if esk.len() != expected.len() || !esk.keys().all(|k| expected.contains(k.as_str())) {
                return Err(bad());
            }
            let (pk, sk) = ix.def.schema.index_key_of(esk, &ix.def.name).map_err(|_| bad())?.ok_or_else(bad)?;
            Ok((base.clone(), Some(IKey { h: pk.hash(), pk, sk, base })))
        }
    }
}

struct Page {
    items: Vec<Candidate>,
    bytes: usize,
    more: bool,
}

fn collect(iter: impl Iterator<Item = Candidate>, limit: usize) -> Page {
    let mut items = Vec::new();
    let mut bytes = 0;
    let mut iter = iter.peekable();
    while let Some(c) = iter.next() {
        bytes += c.size;
        items.push(c);
        if items.len() >= limit || bytes >= PAGE_BYTES {
            return Page { items, bytes, more: iter.peek().is_some() };
        }
    }
    Page { items, bytes, more: false }
}

fn table_candidates<'a>(st: &'a TableState, lo: Bound<PKey>, hi: Bound<PKey>, forward: bool) -> Box<dyn Iterator<Item = Candidate> + 'a> {
    let map = |(k, s): (&PKey, &crate::table::Stored)| Candidate { item: Arc::clone(&s.item), size: s.size as usize, lek: k.to_item(&st.def.schema) };
    if forward { Box::new(st.items.range((lo, hi)).map(map)) } else { Box::new(st.items.range((lo, hi)).rev().map(map)) }
}

fn index_candidates<'a>(
    st: &'a TableState,
    ix: &'a IndexState,
    lo: Bound<IKey>,
    hi: Bound<IKey>,
    forward: bool,
    fetch_base: bool,
) -> Box<dyn Iterator<Item = Candidate> + 'a> {
    let src = Source::Index(ix);
    let map = move |(k, item): (&IKey, &Arc<Item>)| {
        let lek = lek_for(st, &src, &k.base, item);
        let full = if fetch_base { st.items.get(&k.base).map(|s| Arc::clone(&s.item)) } else { None };
        let item = full.unwrap_or_else(|| Arc::clone(item));
        Candidate { size: item_size(&item), item, lek }
    };
    if forward { Box::new(ix.map.range((lo, hi)).map(map)) } else { Box::new(ix.map.range((lo, hi)).rev().map(map)) }
}

fn select_rules(select: Option<&str>, projected: bool, ix: Option<&IndexState>) -> Result<()> {
    match select {
        Some("SPECIFIC_ATTRIBUTES") if !projected => Err(Error::validation(
            "One or more parameter values were invalid: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        Some("ALL_ATTRIBUTES") | Some("COUNT") | Some("ALL_PROJECTED_ATTRIBUTES") if projected => Err(Error::validation(
            "One or more parameter values were invalid: Cannot specify the ProjectionExpression or AttributesToGet when choosing to get ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES or COUNT",
        )),
        Some("ALL_PROJECTED_ATTRIBUTES") if ix.is_none() => Err(Error::validation(
            "One or more parameter values were invalid: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        Some("ALL_ATTRIBUTES") => match ix {
            Some(ix) if ix.def.global && ix.def.proj != ProjKind::All => Err(Error::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                ix.def.name
            ))),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

fn index<'a>(st: &'a TableState, name: &Option<String>, consistent: bool) -> Result<Option<&'a IndexState>> {
    let Some(name) = name else { return Ok(None) };
    let ix = st
        .indexes
        .iter()
        .find(|i| i.def.name == *name)
        .ok_or_else(|| Error::validation(format!("The table does not have the specified index: {name}")))?;
    if ix.def.global && consistent {
        return Err(Error::validation("Consistent reads are not supported on global secondary indexes"));
    }
    Ok(Some(ix))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    page: Page,
    filter: Option<&Cond>,
    projection: Option<&[Path]>,
    count_only: bool,
    ctx: &Ctx<'_>,
    consistent: bool,
    mode: Option<&str>,
    st: &TableState,
    ix: Option<&IndexState>,
) -> (QueryOutput, Usage) {
    let scanned = page.items.len() as i64;
    let lek = if page.more { page.items.last().map(|c| c.lek.clone()) } else { None };
    let kept: Vec<Arc<Item>> = page
        .items
        .into_iter()
        .filter(|c| filter.is_none_or(|f| expr::eval::eval(f, &c.item, ctx)))
        .map(|c| match projection {
            Some(p) => Arc::new(expr::eval::project(&c.item, p, ctx)),
            None => c.item,
        })
        .collect();
    let units = capacity::read_units(page.bytes, consistent);
    let usage = match ix {
        Some(ix) => Usage { table: 0.0, indexes: vec![(ix.def.name.clone(), ix.def.global, units)], read: true },
        None => Usage::read(units),
    };
    let out = QueryOutput {
        count: kept.len() as i64,
        scanned_count: scanned,
        items: if count_only { None } else { Some(kept) },
        last_evaluated_key: lek,
        consumed_capacity: capacity::consumed(mode, &st.def.name, &usage),
    };
    (out, usage)
}

impl RegionDb {
    /// Query.
    pub fn query(&self, input: QueryInput) -> Result<QueryOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        if let Some(n) = &input.index_name {
            s.name_rules("indexName", n, 3, 255);
        }
        s.range("limit", input.limit, 1, i64::MAX);
        s.one_of("select", &input.select, v::SELECT);
        s.one_of("returnConsumedCapacity", &input.return_consumed_capacity, v::RETURN_CONSUMED);
        s.one_of("conditionalOperator", &input.conditional_operator, v::CONDITIONAL_OPERATORS);
        s.finish()?;
        legacy::check_params(
            &[
                ("ProjectionExpression", input.projection_expression.is_some()),
                ("FilterExpression", input.filter_expression.is_some()),
                ("KeyConditionExpression", input.key_condition_expression.is_some()),
            ],
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
                ("KeyConditions", input.key_conditions.is_some() && input.key_condition_expression.is_some()),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        if input.key_conditions.is_none() && input.key_condition_expression.is_none() {
            return Err(Error::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."));
        }
        let compiled = expr::compile(&Sources {
            key_condition: input.key_condition_expression.as_deref(),
            filter: input.filter_expression.as_deref(),
            projection: input.projection_expression.as_deref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            ..Default::default()
        })?;
        let filter = match (&compiled.filter, &input.query_filter) {
            (Some(f), _) => Some(f.clone()),
            (None, Some(q)) => legacy::conditions(q, input.conditional_operator.as_deref())?,
            _ => None,
        };
        let (key_cond, legacy_kc) = match (&compiled.key_condition, &input.key_conditions) {
            (Some(k), _) => (k.clone(), false),
            (None, Some(k)) => (legacy::conditions(k, None)?.ok_or_else(|| Error::validation("Conditions can be of length 1 or 2 only"))?, true),
            _ => return Err(Error::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")),
        };
        let projection = match (&compiled.projection, &input.attributes_to_get) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(a)) => Some(legacy::attributes_to_get(a)?),
            _ => None,
        };
        let ctx = Ctx { names: input.expression_attribute_names.as_ref(), values: input.expression_attribute_values.as_ref() };
        let consistent = input.consistent_read.unwrap_or(false);
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let ix = index(&st, &input.index_name, consistent)?;
        select_rules(input.select.as_deref(), projection.is_some(), ix)?;
        let schema = ix.map_or(&st.def.schema, |i| &i.def.schema);
        let kc = analyse(&key_cond, schema, &ctx, legacy_kc)?;
        let forward = input.scan_index_forward.unwrap_or(true);
        let limit = input.limit.map_or(usize::MAX, |l| l as usize);
        let (lo_sk, lo_inc, hi_sk, hi_inc) = sk_bounds(&kc.range);
        let h = kc.hash.hash();
        let outside = || Error::validation("The provided starting key is outside query boundaries based on provided conditions");
        let page = match ix {
            None => {
                let mk = |sk: Sk| PKey { h, pk: kc.hash.clone(), sk };
                let mut lo = if lo_inc { Bound::Included(mk(lo_sk)) } else { Bound::Excluded(mk(lo_sk)) };
                let mut hi = if hi_inc { Bound::Included(mk(hi_sk)) } else { Bound::Excluded(mk(hi_sk)) };
                if let Some(esk) = &input.exclusive_start_key {
                    let (start, _) = start_key(&st, &Source::Table, esk)?;
                    if start.pk != kc.hash {
                        return Err(outside());
                    }
                    if forward { lo = Bound::Excluded(start) } else { hi = Bound::Excluded(start) }
                }
                let r = kc.range.clone();
                let tsch = st.def.schema.clone();
                collect(table_candidates(&st, lo, hi, forward).take_while(move |c| sk_matches(&r, &sk_of(&c.lek, &tsch))), limit)
            }
            Some(ix) => {
                let base = |edge_high: bool| if edge_high { PKey::highest(u64::MAX) } else { PKey::lowest(0) };
                // Exclusive bounds on the sort key become inclusive bounds on the extreme table key.
                let lo_key = IKey { h, pk: kc.hash.clone(), sk: lo_sk, base: base(!lo_inc) };
                let hi_key = IKey { h, pk: kc.hash.clone(), sk: hi_sk, base: base(hi_inc) };
                let mut lo = Bound::Included(lo_key);
                let mut hi = Bound::Included(hi_key);
                if let Some(esk) = &input.exclusive_start_key {
                    let (_, start) = start_key(&st, &Source::Index(ix), esk)?;
                    let start = start.ok_or_else(outside)?;
                    if start.pk != kc.hash {
                        return Err(outside());
                    }
                    if forward { lo = Bound::Excluded(start) } else { hi = Bound::Excluded(start) }
                }
                let fetch = !ix.def.global && input.select.as_deref() == Some("ALL_ATTRIBUTES") && ix.def.proj != ProjKind::All;
                let r = kc.range.clone();
                let isch = ix.def.schema.clone();
                collect(
                    index_candidates(&st, ix, lo, hi, forward, fetch).take_while(move |c| sk_matches(&r, &sk_of(&c.lek, &isch))),
                    limit,
                )
            }
        };
        let (out, usage) = finish(
            page,
            filter.as_ref(),
            projection.as_deref(),
            input.select.as_deref() == Some("COUNT"),
            &ctx,
            consistent,
            input.return_consumed_capacity.as_deref(),
            &st,
            ix,
        );
        self.charge(&t, &st, &usage)?;
        Ok(out)
    }

    /// Scan.
    pub fn scan(&self, input: ScanInput) -> Result<QueryOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        if let Some(n) = &input.index_name {
            s.name_rules("indexName", n, 3, 255);
        }
        s.range("limit", input.limit, 1, i64::MAX);
        s.range("segment", input.segment, 0, 999_999);
        s.range("totalSegments", input.total_segments, 1, 1_000_000);
        s.one_of("select", &input.select, v::SELECT);
        s.one_of("returnConsumedCapacity", &input.return_consumed_capacity, v::RETURN_CONSUMED);
        s.one_of("conditionalOperator", &input.conditional_operator, v::CONDITIONAL_OPERATORS);
        s.finish()?;
        let (segment, total) = match (input.segment, input.total_segments) {
            (None, None) => (0u64, 1u64),
            (Some(_), None) => {
                return Err(Error::validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present"));
            }
            (None, Some(_)) => {
                return Err(Error::validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present"));
            }
            (Some(sg), Some(t)) if sg >= t => {
                return Err(Error::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {sg} is not less than TotalSegments: {t}"
                )));
            }
            (Some(sg), Some(t)) => (sg as u64, t as u64),
        };
        legacy::check_params(
            &[("ProjectionExpression", input.projection_expression.is_some()), ("FilterExpression", input.filter_expression.is_some())],
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("ScanFilter", input.scan_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        let compiled = expr::compile(&Sources {
            filter: input.filter_expression.as_deref(),
            projection: input.projection_expression.as_deref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            ..Default::default()
        })?;
        let filter = match (&compiled.filter, &input.scan_filter) {
            (Some(f), _) => Some(f.clone()),
            (None, Some(q)) => legacy::conditions(q, input.conditional_operator.as_deref())?,
            _ => None,
        };
        let projection = match (&compiled.projection, &input.attributes_to_get) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(a)) => Some(legacy::attributes_to_get(a)?),
            _ => None,
        };
        let ctx = Ctx { names: input.expression_attribute_names.as_ref(), values: input.expression_attribute_values.as_ref() };
        let consistent = input.consistent_read.unwrap_or(false);
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let ix = index(&st, &input.index_name, consistent)?;
        select_rules(input.select.as_deref(), projection.is_some(), ix)?;
        let limit = input.limit.map_or(usize::MAX, |l| l as usize);
        let span = (1u128 << 64) / u128::from(total);
        let h_lo = (u128::from(segment) * span) as u64;
        let h_hi = if segment + 1 == total { u64::MAX } else { ((u128::from(segment) + 1) * span - 1) as u64 };
        let page = match ix {
            None => {
                let mut lo = Bound::Included(PKey::lowest(h_lo));
                if let Some(esk) = &input.exclusive_start_key {
                    let (start, _) = start_key(&st, &Source::Table, esk)?;
                    if start.h < h_lo || start.h > h_hi {
                        return Err(Error::validation("The provided Exclusive start key does not map to the provided Segment and TotalSegments values."));
                    }
                    lo = Bound::Excluded(start);
                }
                collect(table_candidates(&st, lo, Bound::Included(PKey::highest(h_hi)), true), limit)
            }
            Some(ix) => {
                let edge = |h: u64, high: bool| IKey {
                    h,
                    pk: if high { crate::key::max_keyval() } else { crate::key::min_keyval() },
                    sk: if high { Sk::Max } else { Sk::Min },
                    base: if high { PKey::highest(u64::MAX) } else { PKey::lowest(0) },
                };
                let mut lo = Bound::Included(edge(h_lo, false));
                if let Some(esk) = &input.exclusive_start_key {
                    let (_, start) = start_key(&st, &Source::Index(ix), esk)?;
                    lo = Bound::Excluded(start.ok_or_else(|| Error::validation("The provided starting key is invalid"))?);
                }
                let fetch = !ix.def.global && input.select.as_deref() == Some("ALL_ATTRIBUTES") && ix.def.proj != ProjKind::All;
                collect(index_candidates(&st, ix, lo, Bound::Included(edge(h_hi, true)), true, fetch), limit)
            }
        };
        let (out, usage) = finish(
            page,
            filter.as_ref(),
            projection.as_deref(),
            input.select.as_deref() == Some("COUNT"),
            &ctx,
            consistent,
            input.return_consumed_capacity.as_deref(),
            &st,
            ix,
        );
        self.charge(&t, &st, &usage)?;
        Ok(out)
    }
}

fn sk_of(key_item: &Item, schema: &Schema) -> Sk {
    schema
        .range
        .as_ref()
        .and_then(|r| key_item.get(&r.name))
        .and_then(|v| schema.range_val(v))
        .map_or(Sk::Min, Sk::Val)
}
