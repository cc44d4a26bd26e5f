//! Group commit at the volume: the outbox of logged but not yet sent mini-transactions.
//!
//! [`Volume::enqueue`] does everything a submit decides at once — LSN allocation, the
//! multi-master conflict check, every refusal — and queues the records here; the next
//! [`Volume::tick`] (or [`Volume::submit`]) sends the whole outbox as one round: one message per
//! writer, protection group and storage node carrying every queued record of that segment in LSN
//! order, and one log-stream message per run of consecutive mini-transactions of one writer.
//! A cluster's commits that arrive while its commit leader is waiting for a quorum round therefore
//! travel together in the leader's next round instead of one round each.
//!
//! Guarantees: records leave in LSN order per segment and in submit order on the readers' stream
//! (readers check the stream has no gap); a queued record is already tracked by its writer group,
//! so if its sender crashed before the flush it is simply never sent (like a crash before the
//! send) and is never acknowledged; a fenced group's records are dropped, as storage would refuse
//! them.

use std::collections::BTreeMap;

use super::engine::Volume;
use super::net::Message;
use super::record::{PageApply, RedoRecord};
use super::topology::{InstanceId, SegmentId};

/// One mini-transaction waiting in the outbox.
#[derive(Debug)]
pub(crate) struct Queued {
    /// The writer instance that logged it.
    pub from: InstanceId,
    /// Its writer epoch.
    pub epoch: u64,
    /// Whether that epoch was the volume's current one (only those feed readers).
    pub current: bool,
    /// Its records by protection group, in LSN order.
    pub by_segment: BTreeMap<SegmentId, Vec<RedoRecord>>,
}

impl<A: PageApply> Volume<A> {
    /// Mini-transactions logged but not yet sent.
    pub fn queued_mtrs(&self) -> usize {
        self.outbox.len()
    }

    /// Sends everything in the outbox as one round (see the module docs).
    pub(crate) fn flush_outbox(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let now = self.now();
        let queued = std::mem::take(&mut self.outbox);
        let mut writes: BTreeMap<(InstanceId, u64, SegmentId), Vec<RedoRecord>> = BTreeMap::new();
        let mut streams: Vec<(InstanceId, u64, Vec<RedoRecord>)> = Vec::new();
        for q in queued {
            let live = self.instances.contains_key(&q.from)
                && self.groups.get(&q.epoch).is_some_and(|g| !g.fenced);
            if !live {
                continue;
            }
            if q.current {
                let all = q.by_segment.values().flatten().cloned();
                match streams.last_mut() {
                    Some((from, epoch, records)) if *from == q.from && *epoch == q.epoch => {
                        records.extend(all)
                    }
                    _ => streams.push((q.from, q.epoch, all.collect())),
                }
            }
            for (seg, records) in q.by_segment {
                writes
                    .entry((q.from, q.epoch, seg))
                    .or_default()
                    .extend(records);
            }
        }
        for ((from, epoch, seg), mut records) in writes {
            let Some(group) = self.groups.get(&epoch) else {
                continue;
            };
            records.sort_by_key(|r| r.lsn);
            let meta = self.meta(group);
            let az = self
                .instances
                .get(&from)
                .map_or(self.config.instance_az, |i| i.az);
            for node in self.config.placement(seg) {
                let at = now + self.config.latency_to(az, node);
                self.net.send(
                    at,
                    Message::Write {
                        from,
                        to: node,
                        segment: seg,
                        meta: meta.clone(),
                        records: records.clone(),
                    },
                );
            }
        }
        for (from, epoch, records) in streams {
            self.stream_to_readers(from, epoch, records, now);
        }
    }
}
