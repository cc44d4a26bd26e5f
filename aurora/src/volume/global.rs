//! Global Database at the storage layer: replicating a volume to secondary regions.
//!
//! A secondary region holds a full six-copy volume of its own. It is seeded from a complete
//! copy of each primary protection group at the primary's VDL, then receives every record once
//! it is durable in the primary, after the configured replication lag on the clock, and writes it
//! through its own quorum under its own epoch. Its volume refuses writers while attached
//! (readers may attach and read). Detach-and-promote recovers the secondary volume on its own,
//! makes it writable, and reports the recovery point: how many primary-durable records it lacks
//! and how much primary time they cover. Guarantees: a secondary never holds a record that was
//! not durable in the primary, receives records in LSN order with no gap, and a promotion after
//! the secondary has caught up loses nothing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nubis_core::Region;

use super::engine::{Role, Volume};
use super::error::{VolumeError, VolumeResult};
use super::net::{Endpoint, Message};
use super::record::{Lsn, PageApply, RedoRecord};
use super::recovery::RecoveryReport;
use super::topology::InstanceId;
use super::writer::{Pending, WriterGroup};

/// Aurora Global Database: one primary and at most five secondary regions.
pub const MAX_SECONDARY_REGIONS: usize = 5;

#[derive(Debug)]
pub(crate) struct Secondary<A: PageApply> {
    region: Region,
    lag: Duration,
    volume: Volume<A>,
    writer: InstanceId,
    queue: VecDeque<(SystemTime, RedoRecord)>,
    /// The last primary LSN put on the queue.
    shipped: Lsn,
    /// LSNs shipped and not yet durable in the secondary.
    unconfirmed: VecDeque<Lsn>,
}

impl<A: PageApply> Secondary<A> {
    pub fn durable_lsn(&self) -> Lsn {
        self.volume.vdl()
    }

    fn ship(&mut self, rec: &RedoRecord, now: SystemTime) {
        if rec.lsn > self.shipped {
            self.queue.push_back((now + self.lag, rec.clone()));
            self.unconfirmed.push_back(rec.lsn);
            self.shipped = rec.lsn;
        }
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self.volume.in_flight() == 0
            && self
                .volume
                .groups
                .values()
                .all(|g| g.pending.is_empty() || g.fenced)
    }
}

/// A secondary region's replication state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryStatus {
    /// The region.
    pub region: Region,
    /// The highest primary LSN durable in the secondary.
    pub durable_lsn: Lsn,
    /// How long ago the primary's VDL first passed `durable_lsn`.
    pub lag: Duration,
    /// Records shipped but not yet durable there.
    pub in_flight: usize,
}

/// The recovery point of a detach-and-promote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpoReport {
    /// The promoted region.
    pub region: Region,
    /// The primary's VDL at promotion.
    pub primary_vdl: Lsn,
    /// The promoted volume's VDL after its recovery.
    pub promoted_vdl: Lsn,
    /// Records durable in the primary that the promoted volume does not have.
    pub lost_records: usize,
    /// How much primary time those records cover (zero when nothing was lost).
    pub rpo: Duration,
}

/// A promoted secondary: an independent, writable volume with its first writer open.
#[derive(Debug)]
pub struct Promotion<A: PageApply> {
    /// The volume.
    pub volume: Volume<A>,
    /// Its recovery.
    pub recovery: RecoveryReport,
    /// What the promotion lost.
    pub rpo: RpoReport,
}

impl<A: PageApply> Volume<A> {
    /// Adds a secondary region replicating this volume with `lag` on the clock.
    pub fn add_secondary(&mut self, region: Region, lag: Duration) -> VolumeResult<()> {
        let fail = |message: String| Err(VolumeError::GlobalDatabase { message });
        if self.replication_target {
            return fail("a secondary region's volume cannot have secondary regions".to_owned());
        }
        if self.secondaries.len() >= MAX_SECONDARY_REGIONS {
            return fail(format!(
                "a global database has at most {MAX_SECONDARY_REGIONS} secondary regions"
            ));
        }
        if self.secondaries.iter().any(|s| s.region == region) {
            return fail(format!(
                "region {region} is already a secondary region of this global database"
            ));
        }
        let Some(sender) = self.live_writers().first().copied() else {
            return fail("the primary volume has no open writer".to_owned());
        };
        let vdl = self.vdl();
        let mut volume = Volume::with_applier(
            &self.env.for_engine(region.as_str()),
            self.config.clone(),
            Arc::clone(&self.applier),
        )?;
        volume.replication_target = true;
        volume.epoch = 1;
        // Seed each protection group from one copy complete at the VDL.
        for seg in self.segments.clone() {
            let needed = self.directory.segment_at_or_below(seg, vdl);
            // Reading through the writer repairs the group first if no copy is complete.
            let page = seg.0 * (self.config.segment_size / self.config.page_size);
            self.storage_read(sender, page, vdl)?;
            let source = self
                .config
                .placement(seg)
                .into_iter()
                .filter(|n| self.reachable(Endpoint::Instance(sender), *n))
                .find(|n| {
                    self.nodes[n.0 as usize].scl(seg) >= needed
                        && self.nodes[n.0 as usize].epoch >= self.epoch
                })
                .ok_or(VolumeError::ReadQuorumUnavailable {
                    segment: seg,
                    reachable: 0,
                    needed,
                })?;
            let mut replica = self.nodes[source.0 as usize]
                .segments
                .get(&seg)
                .cloned()
                .unwrap_or_default();
            replica.log.retain(|lsn, _| *lsn <= vdl);
            replica.by_page.retain(|(_, lsn)| *lsn <= vdl);
            replica.scl = replica.scl.min(vdl);
            for rec in replica.log.values_mut() {
                rec.epoch = 1;
            }
            for n in volume.config.placement(seg) {
                let node = &mut volume.nodes[n.0 as usize];
                node.segments.insert(seg, replica.clone());
                node.learn(1, &[], vdl, vdl);
            }
            volume.segments.insert(seg);
        }
        volume.directory = self.directory.snapshot_at(vdl);
        volume.directory.raise_floor(vdl);
        volume.min_read_point = vdl;
        let now = self.now();
        let writer = volume.new_instance(Role::Writer { epoch: 1 });
        let mut group = WriterGroup::new(1, vdl, Arc::new(Vec::new()), now);
        group.members.insert(writer);
        volume.groups.insert(1, group);
        volume.vdl_history.push_back((vdl, now));
        self.secondaries.push(Secondary {
            region,
            lag,
            volume,
            writer,
            queue: VecDeque::new(),
            shipped: vdl,
            unconfirmed: VecDeque::new(),
        });
        Ok(())
    }

    /// Replication state of every secondary region.
    pub fn secondary_status(&self) -> Vec<SecondaryStatus> {
        self.secondaries
            .iter()
            .map(|s| SecondaryStatus {
                region: s.region.clone(),
                durable_lsn: s.durable_lsn(),
                lag: self.lag_behind(s.durable_lsn()),
                in_flight: s.unconfirmed.len(),
            })
            .collect()
    }

    /// A secondary region's volume, to attach readers to it.
    pub fn secondary_mut(&mut self, region: &Region) -> VolumeResult<&mut Volume<A>> {
        self.secondaries
            .iter_mut()
            .find(|s| &s.region == region)
            .map(|s| &mut s.volume)
            .ok_or_else(|| VolumeError::GlobalDatabase {
                message: format!(
                    "region {region} is not a secondary region of this global database"
                ),
            })
    }

    /// Detaches a secondary region and promotes it to an independent, writable volume, reporting
    /// the recovery point (use it in an outage; after draining the lag it loses nothing).
    pub fn detach_and_promote(&mut self, region: &Region) -> VolumeResult<Promotion<A>> {
        let idx = self
            .secondaries
            .iter()
            .position(|s| &s.region == region)
            .ok_or_else(|| VolumeError::GlobalDatabase {
                message: format!(
                    "region {region} is not a secondary region of this global database"
                ),
            })?;
        let primary_vdl = self.vdl();
        let Secondary {
            region,
            mut volume,
            writer,
            unconfirmed,
            queue,
            ..
        } = self.secondaries.remove(idx);
        volume.crash_instance(writer)?;
        volume.replication_target = false;
        let recovery = volume.recover_for_promotion()?;
        let promoted_vdl = recovery.vdl;
        let lost_records = unconfirmed.iter().filter(|l| **l > promoted_vdl).count()
            + queue
                .iter()
                .filter(|(_, r)| r.lsn > promoted_vdl && !unconfirmed.contains(&r.lsn))
                .count();
        let rpo = if lost_records == 0 {
            Duration::ZERO
        } else {
            self.lag_behind(promoted_vdl)
        };
        Ok(Promotion {
            volume,
            recovery,
            rpo: RpoReport {
                region,
                primary_vdl,
                promoted_vdl,
                lost_records,
                rpo,
            },
        })
    }

    fn recover_for_promotion(&mut self) -> VolumeResult<RecoveryReport> {
        self.open_writer()
    }

    /// Re-ships records recovery found durable that an earlier writer had not shipped yet.
    pub(crate) fn reship(&mut self, chain: &[RedoRecord]) {
        let now = self.now();
        for s in &mut self.secondaries {
            for rec in chain {
                s.ship(rec, now);
            }
        }
    }

    pub(crate) fn tick_secondaries(&mut self, now: SystemTime) {
        let durable = match self.groups.get_mut(&self.epoch) {
            Some(g) => g.take_durable(),
            None => Vec::new(),
        };
        for s in &mut self.secondaries {
            for rec in &durable {
                s.ship(rec, now);
            }
            let mut due = Vec::new();
            while s.queue.front().is_some_and(|(at, _)| *at <= now) {
                if let Some((_, rec)) = s.queue.pop_front() {
                    due.push(rec);
                }
            }
            if !due.is_empty() {
                s.volume.replicate(s.writer, due);
            }
            s.volume.tick();
            let durable_lsn = s.volume.vdl();
            while s.unconfirmed.front().is_some_and(|l| *l <= durable_lsn) {
                s.unconfirmed.pop_front();
            }
        }
    }

    /// Writes primary records with their LSNs through this (secondary) volume's quorum.
    fn replicate(&mut self, writer: InstanceId, records: Vec<RedoRecord>) {
        let now = self.now();
        let epoch = self.epoch;
        let Some(group) = self.groups.get_mut(&epoch) else {
            return;
        };
        let mut sends = Vec::new();
        for mut rec in records {
            let Ok(seg) = self.config.segment_of(rec.page_id) else {
                continue;
            };
            rec.epoch = epoch;
            self.directory.push(rec.lsn, rec.page_id, seg);
            self.segments.insert(seg);
            group.last_lsn = rec.lsn;
            group.pending.insert(
                rec.lsn,
                Pending {
                    record: rec.clone(),
                    segment: seg,
                    acks: 0,
                    last_sent: now,
                },
            );
            sends.push((seg, rec));
        }
        let Some(group) = self.groups.get(&epoch) else {
            return;
        };
        let meta = self.meta(group);
        for (seg, rec) in sends {
            for node in self.config.placement(seg) {
                let at = now + self.config.latency_to(self.config.instance_az, node);
                self.net.send(
                    at,
                    Message::Write {
                        from: writer,
                        to: node,
                        segment: seg,
                        meta: meta.clone(),
                        records: vec![rec.clone()],
                    },
                );
            }
        }
    }
}
