//! The replication engine: reading replica streams into per-pair queues, and applying queued
//! writes at their destination under last-writer-wins.
//!
//! Both functions run under the group's lock. [`ingest`] takes no table lock (it reads streams
//! only); [`deliver`] runs with the destination table's write lock already held by the caller
//! (lock order: table, group, stream), so a delivered batch is applied atomically with respect to
//! local writes, and the destination's own stream is ingested first: the version timestamps a
//! delivery compares against always include every local write that preceded it.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::global::{GroupState, Links, Rep, Ts};
use crate::items::plan_put;
use crate::table::{Actor, TableState};

/// Moves every new record of every replica's stream into the queues of the other replicas,
/// giving each local write its timestamp. Records written by replication are skipped (their
/// timestamp was set when they were applied), so nothing is replicated twice.
pub fn ingest(gs: &mut GroupState, links: &Links) {
    let regions: Vec<String> = gs.replicas.keys().cloned().collect();
    for src in &regions {
        let mut batch: Vec<Rep> = Vec::new();
        {
            let Some(r) = gs.replicas.get_mut(src) else {
                continue;
            };
            let log = r.stream.lock();
            if log.next_seq <= r.cursor {
                continue;
            }
            if log.trim_horizon() > r.cursor {
                // Records aged out of the stream before replication read them.
                r.lost += log.trim_horizon() - r.cursor;
            }
            // Records are contiguous in sequence order: start at the cursor, not the front.
            let skip = log
                .records
                .front()
                .map_or(0, |f| r.cursor.saturating_sub(f.seq) as usize);
            for rec in log.records.range(skip.min(log.records.len())..) {
                if rec.actor == Actor::Replication {
                    continue;
                }
                let Ok(key) = r.schema.key_of_key(&rec.keys) else {
                    continue;
                };
                let ts = Ts::local(rec.at_ms, &r.region, rec.seq, r.versions.get(&key));
                r.versions.insert(key, ts.clone());
                batch.push(Rep {
                    ts,
                    at_ms: rec.at_ms,
                    due_ms: rec.at_ms,
                    keys: rec.keys.clone(),
                    new: rec.new.clone(),
                });
            }
            r.cursor = log.next_seq;
        }
        if batch.is_empty() {
            continue;
        }
        for dst in regions.iter().filter(|d| *d != src) {
            let delay = links.delay(src, dst);
            let q = gs.queues.entry((src.clone(), dst.clone())).or_default();
            q.extend(batch.iter().map(|rep| Rep {
                due_ms: rep.at_ms + delay,
                ..rep.clone()
            }));
        }
    }
}

/// When the head of the (`src`, `dst`) queue takes effect, if it can be delivered by `now`.
fn effective(gs: &GroupState, src: &str, dst: &str, now: u64, links: &Links) -> Option<u64> {
    if !links.up(src, dst) {
        return None;
    }
    let key = (src.to_owned(), dst.to_owned());
    let head = gs.queues.get(&key)?.front()?;
    if head.due_ms > now {
        return None;
    }
    let last = gs.stats.get(&key).map_or(0, |s| s.last_delivered_ms);
    Some(head.due_ms.max(links.up_since(src, dst)).max(last).min(now))
}

/// Whether anything is due at `dst` by `now`.
pub fn has_due(gs: &GroupState, dst: &str, now: u64, links: &Links) -> bool {
    gs.queues
        .keys()
        .filter(|(_, b)| b == dst)
        .any(|(a, b)| effective(gs, a, b, now, links).is_some())
}

/// Applies every write due at `dst` by `now`, oldest effective time first (per-pair order kept).
/// Returns how many writes were delivered (applied or superseded).
pub fn deliver(
    gs: &mut GroupState,
    dst: &str,
    st: &mut TableState,
    now: u64,
    links: &Links,
) -> usize {
    let sources: Vec<String> = gs
        .queues
        .keys()
        .filter(|(_, b)| b == dst)
        .map(|(a, _)| a.clone())
        .collect();
    let mut n = 0;
    loop {
        let next = sources
            .iter()
            .filter_map(|s| effective(gs, s, dst, now, links).map(|e| (e, s)))
            .min();
        let Some((eff, src)) = next else {
            break;
        };
        let key = (src.clone(), dst.to_owned());
        let Some(rep) = gs.queues.get_mut(&key).and_then(VecDeque::pop_front) else {
            break;
        };
        n += 1;
        let outcome = apply_one(gs, dst, st, &rep, eff);
        let stats = gs.stats.entry(key).or_default();
        let latency = eff.saturating_sub(rep.at_ms);
        stats.last_delivered_ms = eff;
        match outcome {
            Outcome::Applied => stats.applied += 1,
            Outcome::Superseded => stats.superseded += 1,
            Outcome::Failed => {
                stats.failed += 1;
                continue;
            }
        }
        stats.latency_sum_ms += latency;
        stats.latency_max_ms = stats.latency_max_ms.max(latency);
        stats.latency_last_ms = Some(latency);
    }
    n
}

enum Outcome {
    Applied,
    Superseded,
    Failed,
}

fn apply_one(gs: &mut GroupState, dst: &str, st: &mut TableState, rep: &Rep, eff: u64) -> Outcome {
    let Some(replica) = gs.replicas.get_mut(dst) else {
        return Outcome::Failed;
    };
    let Ok(key) = st.def.schema.key_of_key(&rep.keys) else {
        return Outcome::Failed;
    };
    if !rep.ts.wins_over(replica.versions.get(&key)) {
        return Outcome::Superseded;
    }
    let new = match &rep.new {
        Some(item) => match plan_put(st, Arc::clone(item)) {
            Ok((_, stored, prepared)) => Some((stored, prepared)),
            Err(_) => return Outcome::Failed,
        },
        None => None,
    };
    // Stamp the change no earlier than the destination's last one, so its stream and
    // point-in-time history stay in time order.
    let last = replica.stream.lock().records.back().map_or(0, |r| r.at_ms);
    st.apply(key.clone(), new, eff.max(last), Actor::Replication);
    replica.versions.insert(key, rep.ts.clone());
    Outcome::Applied
}
