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
use crate::expr::{self, Cond, Ctx, Path, Sources};
use crate::key::{IKey, PKey, Sk};
use crate::keycond::{analyse, sk_bounds, sk_matches};
use crate::legacy;
use crate::model_data::{QueryInput, QueryOutput, ScanInput};
use crate::table::{IndexState, ProjKind, Stored, TableState};
use crate::validate::{self as v, Shape};
use crate::value::{Item, item_size};
use imbl::OrdMap;

/// The most bytes one page reads.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// One candidate item of a page. Its LastEvaluatedKey is built only for the page's last item.
struct Candidate {
    item: Arc<Item>,
    size: usize,
    /// The table key.
    base: PKey,
    /// The sort key in the source read (the table's, or the index's).
    sk: Sk,
    /// The index entry (which carries the index key), for an index read.
    entry: Option<Arc<Item>>,
}

impl Candidate {
    /// The LastEvaluatedKey this candidate stands for.
    fn lek(&self, st: &TableState, ix: Option<&IndexState>) -> Item {
        let src = match ix {
            Some(ix) => Source::Index(ix),
            None => Source::Table,
        };
        lek_for(
            st,
            &src,
            &self.base,
            self.entry.as_deref().unwrap_or(&self.item),
        )
    }
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
    let bad = || {
        Error::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    match src {
        Source::Table => Ok((st.def.schema.key_of_key(esk).map_err(|_| bad())?, None)),
        Source::Index(ix) => {
            let table_part: Item = st
                .def
                .schema
                .names()
                .filter_map(|n| esk.get(n).map(|v| (n.to_owned(), v.clone())))
                .collect();
            let base = st.def.schema.key_of_key(&table_part).map_err(|_| bad())?;
            let expected: std::collections::HashSet<&str> =
                st.def.schema.names().chain(ix.def.schema.names()).collect();
            if esk.len() != expected.len() || !esk.keys().all(|k| expected.contains(k.as_str())) {
                return Err(bad());
            }
            let (pk, sk) = ix
                .def
                .schema
                .index_key_of(esk, &ix.def.name)
                .map_err(|_| bad())?
                .ok_or_else(bad)?;
            Ok((
                base.clone(),
                Some(IKey {
                    h: pk.hash(),
                    pk,
                    sk,
                    base,
                }),
            ))
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
            return Page {
                items,
                bytes,
                more: iter.peek().is_some(),
            };
        }
    }
    Page {
        items,
        bytes,
        more: false,
    }
}

fn table_candidates<'a>(
    items: &'a OrdMap<PKey, Stored>,
    lo: Bound<PKey>,
    hi: Bound<PKey>,
    forward: bool,
) -> Box<dyn Iterator<Item = Candidate> + 'a> {
    let map = |(k, s): (&PKey, &Stored)| Candidate {
        item: Arc::clone(&s.item),
        size: s.size as usize,
        base: k.clone(),
        sk: k.sk.clone(),
        entry: None,
    };
    if forward {
        Box::new(items.range((lo, hi)).map(map))
    } else {
        Box::new(items.range((lo, hi)).rev().map(map))
    }
}

fn index_candidates<'a>(
    view: (&'a OrdMap<IKey, Arc<Item>>, &'a OrdMap<PKey, Stored>),
    lo: Bound<IKey>,
    hi: Bound<IKey>,
    forward: bool,
    fetch_base: bool,
) -> Box<dyn Iterator<Item = Candidate> + 'a> {
    let map = move |(k, entry): (&IKey, &Arc<Item>)| {
        let item = entry;
        let full = if fetch_base {
            view.1.get(&k.base).map(|s| Arc::clone(&s.item))
        } else {
            None
        };
        let item = full.unwrap_or_else(|| Arc::clone(item));
        Candidate {
            size: item_size(&item),
            item,
            base: k.base.clone(),
            sk: k.sk.clone(),
            entry: Some(Arc::clone(entry)),
        }
    };
    if forward {
        Box::new(view.0.range((lo, hi)).map(map))
    } else {
        Box::new(view.0.range((lo, hi)).rev().map(map))
    }
}

fn select_rules(select: Option<&str>, projected: bool, ix: Option<&IndexState>) -> Result<()> {
    match select {
        Some("SPECIFIC_ATTRIBUTES") if !projected => Err(Error::validation(
            "One or more parameter values were invalid: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        Some("ALL_ATTRIBUTES") | Some("COUNT") | Some("ALL_PROJECTED_ATTRIBUTES") if projected => {
            Err(Error::validation(
                "One or more parameter values were invalid: Cannot specify the ProjectionExpression or AttributesToGet when choosing to get ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES or COUNT",
            ))
        }
        Some("ALL_PROJECTED_ATTRIBUTES") if ix.is_none() => Err(Error::validation(
            "One or more parameter values were invalid: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        Some("ALL_ATTRIBUTES") => match ix {
            Some(ix) if ix.def.global && ix.def.proj != ProjKind::All => {
                Err(Error::validation(format!(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                    ix.def.name
                )))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

fn index<'a>(
    st: &'a TableState,
    name: &Option<String>,
    consistent: bool,
) -> Result<Option<&'a IndexState>> {
    let Some(name) = name else { return Ok(None) };
    let ix = st
        .indexes
        .iter()
        .find(|i| i.def.name == *name)
        .ok_or_else(|| {
            Error::validation(format!(
                "The table does not have the specified index: {name}"
            ))
        })?;
    if ix.def.global && consistent {
        return Err(Error::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
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
    let lek = if page.more {
        page.items.last().map(|c| c.lek(st, ix))
    } else {
        None
    };
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
        Some(ix) => Usage {
            table: 0.0,
            indexes: vec![(ix.def.name.clone(), ix.def.global, units)],
            read: true,
        },
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
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        s.one_of(
            "conditionalOperator",
            &input.conditional_operator,
            v::CONDITIONAL_OPERATORS,
        );
        s.finish()?;
        legacy::check_params(
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
                (
                    "KeyConditionExpression",
                    input.key_condition_expression.is_some(),
                ),
            ],
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
                (
                    "KeyConditions",
                    input.key_conditions.is_some() && input.key_condition_expression.is_some(),
                ),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        if input.key_conditions.is_none() && input.key_condition_expression.is_none() {
            return Err(Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
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
            (None, Some(k)) => (
                legacy::conditions(k, None)?
                    .ok_or_else(|| Error::validation("Conditions can be of length 1 or 2 only"))?,
                true,
            ),
            _ => {
                return Err(Error::validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
                ));
            }
        };
        let projection = match (&compiled.projection, &input.attributes_to_get) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(a)) => Some(legacy::attributes_to_get(a)?),
            _ => None,
        };
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
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
        let outside = || {
            Error::validation(
                "The provided starting key is outside query boundaries based on provided conditions",
            )
        };
        let page = match ix {
            None => {
                let mk = |sk: Sk| PKey {
                    h,
                    pk: kc.hash.clone(),
                    sk,
                };
                let mut lo = if lo_inc {
                    Bound::Included(mk(lo_sk))
                } else {
                    Bound::Excluded(mk(lo_sk))
                };
                let mut hi = if hi_inc {
                    Bound::Included(mk(hi_sk))
                } else {
                    Bound::Excluded(mk(hi_sk))
                };
                if let Some(esk) = &input.exclusive_start_key {
                    let (start, _) = start_key(&st, &Source::Table, esk)?;
                    if start.pk != kc.hash {
                        return Err(outside());
                    }
                    if forward {
                        lo = Bound::Excluded(start)
                    } else {
                        hi = Bound::Excluded(start)
                    }
                }
                let r = kc.range.clone();
                collect(
                    table_candidates(st.read_items(|| self.now_ms(), consistent), lo, hi, forward)
                        .take_while(move |c| sk_matches(&r, &c.sk)),
                    limit,
                )
            }
            Some(ix) => {
                let base = |edge_high: bool| {
                    if edge_high {
                        PKey::highest(u64::MAX)
                    } else {
                        PKey::lowest(0)
                    }
                };
                // Exclusive bounds on the sort key become inclusive bounds on the extreme table key.
                let lo_key = IKey {
                    h,
                    pk: kc.hash.clone(),
                    sk: lo_sk,
                    base: base(!lo_inc),
                };
                let hi_key = IKey {
                    h,
                    pk: kc.hash.clone(),
                    sk: hi_sk,
                    base: base(hi_inc),
                };
                let mut lo = Bound::Included(lo_key);
                let mut hi = Bound::Included(hi_key);
                if let Some(esk) = &input.exclusive_start_key {
                    let (_, start) = start_key(&st, &Source::Index(ix), esk)?;
                    let start = start.ok_or_else(outside)?;
                    if start.pk != kc.hash {
                        return Err(outside());
                    }
                    if forward {
                        lo = Bound::Excluded(start)
                    } else {
                        hi = Bound::Excluded(start)
                    }
                }
                let fetch = !ix.def.global
                    && input.select.as_deref() == Some("ALL_ATTRIBUTES")
                    && ix.def.proj != ProjKind::All;
                let r = kc.range.clone();
                collect(
                    index_candidates(lagged(self, &st, ix, consistent), lo, hi, forward, fetch)
                        .take_while(move |c| sk_matches(&r, &c.sk)),
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
        s.one_of(
            "returnConsumedCapacity",
            &input.return_consumed_capacity,
            v::RETURN_CONSUMED,
        );
        s.one_of(
            "conditionalOperator",
            &input.conditional_operator,
            v::CONDITIONAL_OPERATORS,
        );
        s.finish()?;
        let (segment, total) = match (input.segment, input.total_segments) {
            (None, None) => (0u64, 1u64),
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
            (Some(sg), Some(t)) if sg >= t => {
                return Err(Error::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {sg} is not less than TotalSegments: {t}"
                )));
            }
            (Some(sg), Some(t)) => (sg as u64, t as u64),
        };
        legacy::check_params(
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
            ],
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
        let ctx = Ctx {
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
        };
        let consistent = input.consistent_read.unwrap_or(false);
        let t = self.table(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let ix = index(&st, &input.index_name, consistent)?;
        select_rules(input.select.as_deref(), projection.is_some(), ix)?;
        let limit = input.limit.map_or(usize::MAX, |l| l as usize);
        let span = (1u128 << 64) / u128::from(total);
        let h_lo = (u128::from(segment) * span) as u64;
        let h_hi = if segment + 1 == total {
            u64::MAX
        } else {
            ((u128::from(segment) + 1) * span - 1) as u64
        };
        let page = match ix {
            None => {
                let mut lo = Bound::Included(PKey::lowest(h_lo));
                if let Some(esk) = &input.exclusive_start_key {
                    let (start, _) = start_key(&st, &Source::Table, esk)?;
                    if start.h < h_lo || start.h > h_hi {
                        return Err(Error::validation(
                            "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
                        ));
                    }
                    lo = Bound::Excluded(start);
                }
                collect(
                    table_candidates(
                        st.read_items(|| self.now_ms(), consistent),
                        lo,
                        Bound::Included(PKey::highest(h_hi)),
                        true,
                    ),
                    limit,
                )
            }
            Some(ix) => {
                let edge = |h: u64, high: bool| IKey {
                    h,
                    pk: if high {
                        crate::key::max_keyval()
                    } else {
                        crate::key::min_keyval()
                    },
                    sk: if high { Sk::Max } else { Sk::Min },
                    base: if high {
                        PKey::highest(u64::MAX)
                    } else {
                        PKey::lowest(0)
                    },
                };
                let mut lo = Bound::Included(edge(h_lo, false));
                if let Some(esk) = &input.exclusive_start_key {
                    let (_, start) = start_key(&st, &Source::Index(ix), esk)?;
                    lo = Bound::Excluded(start.ok_or_else(|| {
                        Error::validation("The provided starting key is invalid")
                    })?);
                }
                let fetch = !ix.def.global
                    && input.select.as_deref() == Some("ALL_ATTRIBUTES")
                    && ix.def.proj != ProjKind::All;
                collect(
                    index_candidates(
                        lagged(self, &st, ix, consistent),
                        lo,
                        Bound::Included(edge(h_hi, true)),
                        true,
                        fetch,
                    ),
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
}

/// What a read of index `ix` sees (its entries and, for fetches from an LSI, the table's items)
/// under the consistency lag.
fn lagged<'a>(
    db: &RegionDb,
    st: &'a TableState,
    ix: &'a IndexState,
    consistent: bool,
) -> (&'a OrdMap<IKey, Arc<Item>>, &'a OrdMap<PKey, Stored>) {
    (
        st.read_index(ix, || db.now_ms(), consistent),
        st.read_items(|| db.now_ms(), consistent),
    )
}
