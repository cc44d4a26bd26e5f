//! [`Volume`]: the fleet of storage nodes, the network to them, and the write and read paths.
//!
//! Writes: [`Volume::submit`] turns page writes into redo records, sends each to the six copies
//! of its protection group and returns at once; [`Volume::tick`] delivers what the clock says has
//! arrived, counts acknowledgements, moves VCL/VDL, acknowledges commits, retransmits, lets nodes
//! apply and gossip, feeds readers and ships to secondary regions. Reads go to one copy known to
//! be complete for the read point; only when none is does the read fall back to a read-quorum
//! repair. Guarantees: a write is either refused before anything is sent (a typed error) or
//! tracked until durable; nothing above the VDL is ever applied to a page or shown to a reader.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nubis_core::Env;

use super::directory::Directory;
use super::error::{VolumeError, VolumeResult};
use super::global::Secondary;
use super::net::{Endpoint, Message, Meta, Network};
use super::node::{NodeStatus, StorageNode};
use super::record::{Lsn, PageApply, PageId, PageWrite, RedoRecord};
use super::replica::ReaderState;
use super::topology::{
    COPIES, InstanceId, NodeId, READ_QUORUM, SegmentId, VolumeConfig, WRITE_QUORUM,
};
use super::writer::{CommitAck, MtrReceipt, Pending, WriterGroup};

/// A page as read from the volume.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRead<P> {
    /// The page.
    pub page_id: PageId,
    /// Its page LSN (the last record applied to it; 0 if never written).
    pub lsn: Lsn,
    /// The image.
    pub page: P,
    /// The storage node that served it (`None` when a reader's cache did).
    pub served_by: Option<NodeId>,
    /// Whether the read needed a read-quorum repair first.
    pub repaired: bool,
}

/// Counters for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeStats {
    /// Records submitted by writers.
    pub records_submitted: u64,
    /// Messages put on the network.
    pub messages_sent: u64,
    /// Messages a partition or a down node swallowed.
    pub messages_dropped: u64,
    /// Records re-sent after a missing acknowledgement.
    pub retransmitted: u64,
    /// Records copied between peers by gossip and repair.
    pub gossiped: u64,
    /// Reads that needed a read-quorum repair.
    pub repairs: u64,
}

#[derive(Debug)]
pub(crate) enum Role {
    Writer { epoch: u64 },
    Reader,
}

#[derive(Debug)]
pub(crate) struct Instance<P> {
    pub role: Role,
    pub az: usize,
    pub waiting: BTreeMap<Lsn, SystemTime>,
    pub acked: Vec<CommitAck>,
    pub reader: Option<ReaderState<P>>,
}

/// A shared, six-way replicated, log-structured storage volume.
#[derive(Debug)]
pub struct Volume<A: PageApply> {
    pub(crate) env: Env,
    pub(crate) config: VolumeConfig,
    pub(crate) applier: Arc<A>,
    pub(crate) nodes: Vec<StorageNode<A::Page>>,
    pub(crate) segments: BTreeSet<SegmentId>,
    pub(crate) net: Network,
    pub(crate) instances: BTreeMap<InstanceId, Instance<A::Page>>,
    pub(crate) next_instance: u32,
    pub(crate) groups: BTreeMap<u64, WriterGroup>,
    pub(crate) epoch: u64,
    pub(crate) directory: Directory,
    pub(crate) min_read_point: Lsn,
    pub(crate) vdl_history: VecDeque<(Lsn, SystemTime)>,
    pub(crate) last_gossip: SystemTime,
    pub(crate) secondaries: Vec<Secondary<A>>,
    /// Mini-transactions logged by [`Volume::enqueue`] and not yet sent (group commit).
    pub(crate) outbox: Vec<super::outbox::Queued>,
    /// Set on a secondary region's volume: only its replication writer may write.
    pub(crate) replication_target: bool,
    pub(crate) stats: VolumeStats,
}

impl<A: PageApply> Volume<A> {
    /// A new, empty volume on `env`'s clock.
    pub fn create(env: &Env, config: VolumeConfig, applier: A) -> VolumeResult<Self> {
        Self::with_applier(env, config, Arc::new(applier))
    }

    pub(crate) fn with_applier(
        env: &Env,
        config: VolumeConfig,
        applier: Arc<A>,
    ) -> VolumeResult<Self> {
        config.validate()?;
        let nodes = (0..config.node_count())
            .map(|i| StorageNode::new(NodeId(i)))
            .collect();
        let now = env.clock.now();
        Ok(Volume {
            env: env.for_engine("aurora-volume"),
            config,
            applier,
            nodes,
            segments: BTreeSet::new(),
            net: Network::default(),
            instances: BTreeMap::new(),
            next_instance: 1,
            groups: BTreeMap::new(),
            epoch: 0,
            directory: Directory::default(),
            min_read_point: 0,
            vdl_history: VecDeque::new(),
            last_gossip: now,
            secondaries: Vec::new(),
            outbox: Vec::new(),
            replication_target: false,
            stats: VolumeStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VolumeConfig {
        &self.config
    }

    /// The page applier.
    pub fn applier(&self) -> &A {
        &self.applier
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.env.clock.now()
    }

    /// The current writer epoch (0 before the first writer opened the volume).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The volume complete LSN of the current writer group (0 when no writer is open).
    pub fn vcl(&self) -> Lsn {
        self.groups.get(&self.epoch).map_or(0, |g| g.vcl)
    }

    /// The volume durable LSN of the current writer group (0 when no writer is open).
    pub fn vdl(&self) -> Lsn {
        self.groups.get(&self.epoch).map_or(0, |g| g.vdl)
    }

    /// Whether the current epoch's record `lsn` is durable (at or below the VDL).
    pub fn is_durable(&self, lsn: Lsn) -> bool {
        lsn <= self.vdl()
    }

    /// The protection groups the volume has grown to.
    pub fn segments(&self) -> Vec<SegmentId> {
        self.segments.iter().copied().collect()
    }

    /// The segment complete LSN each copy of `segment` has reached, in placement order.
    pub fn segment_complete_lsns(&self, segment: SegmentId) -> [(NodeId, Lsn); COPIES] {
        self.config
            .placement(segment)
            .map(|n| (n, self.nodes[n.0 as usize].scl(segment)))
    }

    /// A node's health.
    pub fn node_status(&self, node: NodeId) -> VolumeResult<NodeStatus> {
        self.node(node).map(|n| n.status)
    }

    /// Counters.
    pub fn stats(&self) -> VolumeStats {
        VolumeStats {
            messages_sent: self.net.sent,
            messages_dropped: self.net.dropped,
            ..self.stats
        }
    }

    /// Messages still on the network.
    pub fn in_flight(&self) -> usize {
        self.net.in_flight()
    }

    /// When the next in-flight message arrives, if any (to drive a manual clock).
    pub fn next_delivery(&self) -> Option<SystemTime> {
        self.net.next_due()
    }

    /// Records each storage node has applied to pages over its life.
    pub fn applied_records(&self) -> u64 {
        self.nodes.iter().map(|n| n.applied_records).sum()
    }

    pub(crate) fn node(&self, node: NodeId) -> VolumeResult<&StorageNode<A::Page>> {
        self.nodes
            .get(node.0 as usize)
            .ok_or(VolumeError::UnknownNode { node })
    }

    pub(crate) fn reachable(&self, from: Endpoint, node: NodeId) -> bool {
        self.nodes
            .get(node.0 as usize)
            .is_some_and(|n| n.status == NodeStatus::Up)
            && !self.net.is_cut(from, Endpoint::Node(node))
    }

    pub(crate) fn new_instance(&mut self, role: Role) -> InstanceId {
        let id = InstanceId(self.next_instance);
        self.next_instance += 1;
        let reader = matches!(role, Role::Reader).then(|| ReaderState::new(self.vdl()));
        self.instances.insert(
            id,
            Instance {
                role,
                az: self.config.instance_az,
                waiting: BTreeMap::new(),
                acked: Vec::new(),
                reader,
            },
        );
        id
    }

    fn writer_epoch(&self, instance: InstanceId) -> VolumeResult<u64> {
        match self.instances.get(&instance) {
            None => Err(VolumeError::UnknownInstance { instance }),
            Some(Instance {
                role: Role::Reader, ..
            }) => Err(VolumeError::ReadOnly {
                operation: "a write",
            }),
            Some(Instance {
                role: Role::Writer { epoch },
                ..
            }) => Ok(*epoch),
        }
    }

    pub(crate) fn meta(&self, group: &WriterGroup) -> Meta {
        Meta {
            epoch: group.epoch,
            truncations: Arc::clone(&group.truncations),
            vdl: group.vdl,
            min_read_point: self.min_read_point,
        }
    }

    /// Logs one mini-transaction: its records get consecutive LSNs, the last one closes it (a
    /// consistency point). Returns before anything is durable; the commit is acknowledged by a
    /// later [`Volume::tick`] once the VDL reaches `commit_lsn` (see [`Volume::take_commit_acks`]).
    pub fn submit(
        &mut self,
        instance: InstanceId,
        writes: &[PageWrite],
    ) -> VolumeResult<MtrReceipt> {
        if self.replication_target {
            return Err(VolumeError::ReadOnly {
                operation: "a write on a secondary region's volume",
            });
        }
        self.submit_inner(instance, writes)
    }

    /// Logs one mini-transaction like [`Volume::submit`] (LSNs, conflict detection and every
    /// refusal happen now) but leaves its records in the outbox: the next [`Volume::tick`] sends
    /// everything queued since the last one as one round, one message per storage node and
    /// protection group (group commit).
    pub fn enqueue(
        &mut self,
        instance: InstanceId,
        writes: &[PageWrite],
    ) -> VolumeResult<MtrReceipt> {
        if self.replication_target {
            return Err(VolumeError::ReadOnly {
                operation: "a write on a secondary region's volume",
            });
        }
        self.log_mtr(instance, writes)
    }

    pub(crate) fn submit_inner(
        &mut self,
        instance: InstanceId,
        writes: &[PageWrite],
    ) -> VolumeResult<MtrReceipt> {
        let receipt = self.log_mtr(instance, writes)?;
        self.flush_outbox();
        Ok(receipt)
    }

    fn log_mtr(&mut self, instance: InstanceId, writes: &[PageWrite]) -> VolumeResult<MtrReceipt> {
        let now = self.now();
        let epoch = self.writer_epoch(instance)?;
        let group = self
            .groups
            .get(&epoch)
            .ok_or(VolumeError::UnknownInstance { instance })?;
        if group.fenced {
            return Err(VolumeError::WriterFenced {
                instance,
                epoch: self.epoch,
            });
        }
        if let Ok(remaining) = group.available_at.duration_since(now)
            && !remaining.is_zero()
        {
            return Err(VolumeError::Recovering { remaining });
        }
        if writes.is_empty() {
            return Err(VolumeError::InvalidParameter {
                parameter: "writes",
                reason: "a mini-transaction needs at least one record".to_owned(),
            });
        }
        let limit = self.config.lsn_allocation_limit;
        let outstanding = group.pending.len() as u64 + writes.len() as u64;
        if outstanding > limit {
            return Err(VolumeError::LsnAllocationLimit { outstanding, limit });
        }
        let segs = writes
            .iter()
            .map(|w| self.config.segment_of(w.page_id))
            .collect::<VolumeResult<Vec<_>>>()?;
        let from = Endpoint::Instance(instance);
        for seg in segs.iter().collect::<BTreeSet<_>>() {
            let reachable = self
                .config
                .placement(*seg)
                .iter()
                .filter(|n| self.reachable(from, **n))
                .count();
            if reachable < WRITE_QUORUM {
                return Err(VolumeError::WriteQuorumUnavailable {
                    segment: *seg,
                    reachable,
                });
            }
        }
        let current = epoch == self.epoch;
        // Optimistic conflict detection: each page's first write in the batch must be based on
        // the page's newest LSN in storage.
        let mut seen = BTreeSet::new();
        for w in writes {
            if seen.insert(w.page_id)
                && let Some(expected) = w.base_lsn
            {
                let actual = self.directory.page_latest(w.page_id);
                if expected != actual {
                    return Err(VolumeError::WriteConflict {
                        page: w.page_id,
                        expected,
                        actual,
                    });
                }
            }
        }
        // A fenced-but-unaware writer (older epoch) builds its records from the directory but
        // never changes it: storage will refuse those records.
        let mut local_pages: BTreeMap<PageId, Lsn> = BTreeMap::new();
        let mut local_segs: BTreeMap<SegmentId, Lsn> = BTreeMap::new();
        let Some(group) = self.groups.get_mut(&epoch) else {
            return Err(VolumeError::UnknownInstance { instance });
        };
        let first_lsn = group.last_lsn + 1;
        let mut by_segment: BTreeMap<SegmentId, Vec<RedoRecord>> = BTreeMap::new();
        for (i, (w, seg)) in writes.iter().zip(&segs).enumerate() {
            let lsn = group.last_lsn + 1;
            let prev_page = *local_pages
                .entry(w.page_id)
                .or_insert_with(|| self.directory.page_latest(w.page_id));
            let prev_seg = *local_segs
                .entry(*seg)
                .or_insert_with(|| self.directory.segment_latest(*seg));
            let record = RedoRecord {
                lsn,
                prev_lsn: group.last_lsn,
                prev_segment_lsn: prev_seg,
                prev_page_lsn: prev_page,
                page_id: w.page_id,
                epoch,
                cpl: i + 1 == writes.len(),
                payload: w.payload.clone(),
            };
            local_pages.insert(w.page_id, lsn);
            local_segs.insert(*seg, lsn);
            if current {
                self.directory.push(lsn, w.page_id, *seg);
            }
            group.last_lsn = lsn;
            group.pending.insert(
                lsn,
                Pending {
                    record: record.clone(),
                    segment: *seg,
                    acks: 0,
                    last_sent: now,
                },
            );
            by_segment.entry(*seg).or_default().push(record);
        }
        let commit_lsn = group.last_lsn;
        self.stats.records_submitted += writes.len() as u64;
        for seg in by_segment.keys() {
            self.segments.insert(*seg);
        }
        self.outbox.push(super::outbox::Queued {
            from: instance,
            epoch,
            current,
            by_segment,
        });
        if let Some(inst) = self.instances.get_mut(&instance) {
            inst.waiting.insert(commit_lsn, now);
        }
        Ok(MtrReceipt {
            first_lsn,
            commit_lsn,
            epoch,
        })
    }

    /// Commits of `instance` the VDL has reached since the last call, oldest first.
    pub fn take_commit_acks(&mut self, instance: InstanceId) -> VolumeResult<Vec<CommitAck>> {
        let inst = self
            .instances
            .get_mut(&instance)
            .ok_or(VolumeError::UnknownInstance { instance })?;
        Ok(std::mem::take(&mut inst.acked))
    }

    /// Commits of `instance` still waiting for the VDL.
    pub fn pending_commits(&self, instance: InstanceId) -> VolumeResult<Vec<Lsn>> {
        let inst = self
            .instances
            .get(&instance)
            .ok_or(VolumeError::UnknownInstance { instance })?;
        Ok(inst.waiting.keys().copied().collect())
    }

    /// Runs everything that is due on the clock: deliveries, acknowledgements, VCL/VDL, commit
    /// acknowledgements, retransmissions, background page application, gossip, the readers' log
    /// stream and secondary regions. Deterministic: the same calls on the same clock give the
    /// same state.
    pub fn tick(&mut self) {
        self.flush_outbox();
        let now = self.now();
        while let Some(msg) = self.net.pop_due(now) {
            self.deliver(msg, now);
        }
        self.advance_groups(now);
        self.announce(now);
        self.retransmit(now);
        let applier = Arc::clone(&self.applier);
        for node in &mut self.nodes {
            if node.status == NodeStatus::Up {
                node.apply_background(&*applier);
            }
        }
        if now
            .duration_since(self.last_gossip)
            .unwrap_or(Duration::ZERO)
            >= self.config.gossip_interval
        {
            self.last_gossip = now;
            for seg in self.segments.clone() {
                self.gossip_segment(seg, None);
            }
        }
        self.readers_apply(now);
        self.tick_secondaries(now);
        self.directory.raise_floor(self.min_read_point);
    }

    /// Ticks, advancing a manual clock by `step` each time, until nothing is in flight or
    /// `max_steps` ran; returns the steps taken. `advance` moves the clock (for example
    /// `|d| clock.advance(d)`).
    pub fn settle(
        &mut self,
        step: Duration,
        max_steps: usize,
        advance: impl Fn(Duration),
    ) -> usize {
        for i in 0..max_steps {
            self.tick();
            let quiet = self.net.in_flight() == 0
                && self
                    .groups
                    .values()
                    .all(|g| g.pending.is_empty() || g.fenced)
                && self.secondaries.iter().all(|s| s.is_idle());
            if quiet {
                return i + 1;
            }
            advance(step);
        }
        max_steps
    }

    fn deliver(&mut self, msg: Message, now: SystemTime) {
        match msg {
            Message::Write {
                from,
                to,
                segment,
                meta,
                records,
            } => {
                let Some(az) = self.instances.get(&from).map(|i| i.az) else {
                    // The sender crashed; storage still stores what reached it.
                    self.store(to, segment, &meta, &records);
                    return;
                };
                let back = now + self.config.latency_to(az, to);
                let Some(node) = self.nodes.get(to.0 as usize) else {
                    return;
                };
                if node.status != NodeStatus::Up {
                    return;
                }
                if meta.epoch < node.epoch {
                    let node_epoch = node.epoch;
                    self.net.send(
                        back,
                        Message::Fenced {
                            from: to,
                            to: from,
                            writer_epoch: meta.epoch,
                            node_epoch,
                        },
                    );
                    return;
                }
                let held = self.store(to, segment, &meta, &records);
                if !held.is_empty() {
                    self.net.send(
                        back,
                        Message::Ack {
                            from: to,
                            to: from,
                            epoch: meta.epoch,
                            segment,
                            lsns: held,
                        },
                    );
                }
            }
            Message::Ack {
                from,
                to,
                epoch,
                segment,
                lsns,
            } => {
                if !self.instances.contains_key(&to) {
                    return;
                }
                let Some(slot) = self
                    .config
                    .placement(segment)
                    .iter()
                    .position(|n| *n == from)
                else {
                    return;
                };
                if let Some(group) = self.groups.get_mut(&epoch) {
                    for lsn in lsns {
                        if let Some(p) = group.pending.get_mut(&lsn) {
                            p.acks |= 1 << slot;
                        }
                    }
                }
            }
            Message::Fenced {
                to,
                writer_epoch,
                node_epoch,
                ..
            } => {
                debug_assert!(node_epoch > writer_epoch, "only a newer epoch fences");
                if self.instances.contains_key(&to)
                    && let Some(group) = self.groups.get_mut(&writer_epoch)
                {
                    group.fenced = true;
                    group.pending.clear();
                }
            }
            Message::Stream {
                to,
                epoch,
                records,
                vdl,
                ..
            } => self.reader_receive(to, epoch, records, vdl),
        }
    }

    fn store(
        &mut self,
        to: NodeId,
        segment: SegmentId,
        meta: &Meta,
        records: &[RedoRecord],
    ) -> Vec<Lsn> {
        let Some(node) = self.nodes.get_mut(to.0 as usize) else {
            return Vec::new();
        };
        if node.status != NodeStatus::Up || meta.epoch < node.epoch {
            return Vec::new();
        }
        node.learn_meta(meta);
        if records.is_empty() {
            Vec::new()
        } else {
            node.receive(segment, records)
        }
    }

    fn advance_groups(&mut self, now: SystemTime) {
        // Durable records are kept for shipping even without secondaries, so a secondary added
        // while a mini-transaction is half durable still receives all of it.
        let keep = true;
        let current = self.epoch;
        let mut moved = Vec::new();
        for (epoch, group) in &mut self.groups {
            if group.fenced {
                continue;
            }
            if group.advance(keep && *epoch == current) {
                moved.push((*epoch, group.vdl, group.members.clone()));
            }
        }
        for (epoch, vdl, members) in moved {
            if epoch == current {
                self.vdl_history.push_back((vdl, now));
            }
            for m in members {
                if let Some(inst) = self.instances.get_mut(&m) {
                    let later = inst.waiting.split_off(&(vdl + 1));
                    let done = std::mem::replace(&mut inst.waiting, later);
                    inst.acked
                        .extend(done.into_iter().map(|(lsn, submitted_at)| CommitAck {
                            lsn,
                            epoch,
                            submitted_at,
                            acknowledged_at: now,
                        }));
                }
            }
        }
        self.min_read_point = self.min_read_point.max(self.compute_min_read_point());
        let floor = self
            .secondaries
            .iter()
            .map(|s| s.durable_lsn())
            .fold(self.min_read_point, Lsn::min);
        while self.vdl_history.len() > 1
            && self.vdl_history.get(1).is_some_and(|(l, _)| *l <= floor)
        {
            self.vdl_history.pop_front();
        }
    }

    /// Any live member of a group, to send on its behalf.
    fn sender(&self, group: &WriterGroup) -> Option<InstanceId> {
        group
            .members
            .iter()
            .copied()
            .find(|m| self.instances.contains_key(m))
    }

    fn announce(&mut self, now: SystemTime) {
        let Some(group) = self.groups.get(&self.epoch) else {
            return;
        };
        if group.fenced || group.announced == (group.vdl, self.min_read_point) {
            return;
        }
        let Some(from) = self.sender(group) else {
            return;
        };
        let meta = self.meta(group);
        let vdl = group.vdl;
        let az = self.config.instance_az;
        for i in 0..self.config.node_count() {
            let to = NodeId(i);
            let at = now + self.config.latency_to(az, to);
            self.net.send(
                at,
                Message::Write {
                    from,
                    to,
                    segment: SegmentId(0),
                    meta: meta.clone(),
                    records: Vec::new(),
                },
            );
        }
        self.stream_to_readers(from, self.epoch, Vec::new(), now);
        let mrp = self.min_read_point;
        if let Some(group) = self.groups.get_mut(&self.epoch) {
            group.announced = (vdl, mrp);
        }
    }

    fn retransmit(&mut self, now: SystemTime) {
        let interval = self.config.retransmit_interval;
        let mut sends = Vec::new();
        for group in self.groups.values_mut() {
            if group.fenced {
                continue;
            }
            let Some(from) = group
                .members
                .iter()
                .copied()
                .find(|m| self.instances.contains_key(m))
            else {
                continue;
            };
            let mut batch: BTreeMap<(SegmentId, NodeId), Vec<RedoRecord>> = BTreeMap::new();
            for p in group.pending.values_mut() {
                if now.duration_since(p.last_sent).unwrap_or(Duration::ZERO) < interval {
                    continue;
                }
                let placement = self.config.placement(p.segment);
                let mut resent = false;
                for (slot, node) in placement.iter().enumerate() {
                    let up = self
                        .nodes
                        .get(node.0 as usize)
                        .is_some_and(|n| n.status == NodeStatus::Up);
                    if p.acks & (1 << slot) == 0
                        && up
                        && !self
                            .net
                            .is_cut(Endpoint::Instance(from), Endpoint::Node(*node))
                    {
                        batch
                            .entry((p.segment, *node))
                            .or_default()
                            .push(p.record.clone());
                        resent = true;
                    }
                }
                if resent {
                    p.last_sent = now;
                    self.stats.retransmitted += 1;
                }
            }
            if !batch.is_empty() {
                sends.push((group.epoch, from, batch));
            }
        }
        for (epoch, from, batch) in sends {
            let Some(group) = self.groups.get(&epoch) else {
                continue;
            };
            let meta = self.meta(group);
            for ((segment, to), records) in batch {
                let at = now + self.config.latency_to(self.config.instance_az, to);
                self.net.send(
                    at,
                    Message::Write {
                        from,
                        to,
                        segment,
                        meta: meta.clone(),
                        records,
                    },
                );
            }
        }
    }

    /// Peers of `segment` exchange epochs, truncations and the records each lacks. With `only`,
    /// just those nodes take part (a repair among the copies a reader can reach).
    pub(crate) fn gossip_segment(&mut self, segment: SegmentId, only: Option<&[NodeId]>) {
        let placement = self.config.placement(segment);
        let members: Vec<NodeId> = placement
            .iter()
            .copied()
            .filter(|n| only.is_none_or(|o| o.contains(n)))
            .filter(|n| self.nodes[n.0 as usize].status == NodeStatus::Up)
            .collect();
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                if self.net.is_cut(Endpoint::Node(*a), Endpoint::Node(*b)) {
                    continue;
                }
                self.stats.gossiped += gossip_pair(&mut self.nodes, *a, *b, segment) as u64;
            }
        }
    }

    /// Reads a page at the instance's read point: the writer's VDL, or a reader's applied VDL
    /// (a reader serves pages in its cache itself).
    pub fn read_page(
        &mut self,
        instance: InstanceId,
        page: PageId,
    ) -> VolumeResult<PageRead<A::Page>> {
        let now = self.now();
        let inst = self
            .instances
            .get(&instance)
            .ok_or(VolumeError::UnknownInstance { instance })?;
        let read_point = match &inst.role {
            Role::Writer { epoch } => {
                let group = self
                    .groups
                    .get(epoch)
                    .ok_or(VolumeError::UnknownInstance { instance })?;
                if group.fenced {
                    return Err(VolumeError::WriterFenced {
                        instance,
                        epoch: self.epoch,
                    });
                }
                if let Ok(remaining) = group.available_at.duration_since(now)
                    && !remaining.is_zero()
                {
                    return Err(VolumeError::Recovering { remaining });
                }
                group.vdl
            }
            Role::Reader => return self.reader_read(instance, page),
        };
        self.storage_read(instance, page, read_point)
    }

    /// Reads a page from one complete copy, repairing through a read quorum when no reachable
    /// copy is complete for `read_point`.
    pub(crate) fn storage_read(
        &mut self,
        instance: InstanceId,
        page: PageId,
        read_point: Lsn,
    ) -> VolumeResult<PageRead<A::Page>> {
        let segment = self.config.segment_of(page)?;
        if !self.segments.contains(&segment) {
            return Ok(PageRead {
                page_id: page,
                lsn: 0,
                page: A::Page::default(),
                served_by: None,
                repaired: false,
            });
        }
        let needed = self.directory.segment_at_or_below(segment, read_point);
        let from = Endpoint::Instance(instance);
        let az = self
            .instances
            .get(&instance)
            .map_or(self.config.instance_az, |i| i.az);
        let mut repaired = false;
        let node = match self.complete_copy(from, az, segment, needed) {
            Some(n) => n,
            None => {
                let reachable: Vec<NodeId> = self
                    .config
                    .placement(segment)
                    .into_iter()
                    .filter(|n| self.reachable(from, *n))
                    .collect();
                if reachable.len() < READ_QUORUM {
                    return Err(VolumeError::ReadQuorumUnavailable {
                        segment,
                        reachable: reachable.len(),
                        needed,
                    });
                }
                self.stats.repairs += 1;
                repaired = true;
                self.gossip_segment(segment, Some(&reachable));
                self.complete_copy(from, az, segment, needed).ok_or(
                    VolumeError::ReadQuorumUnavailable {
                        segment,
                        reachable: reachable.len(),
                        needed,
                    },
                )?
            }
        };
        let (lsn, image) =
            self.nodes[node.0 as usize].read_page(&*self.applier, segment, page, read_point)?;
        Ok(PageRead {
            page_id: page,
            lsn,
            page: image,
            served_by: Some(node),
            repaired,
        })
    }

    fn complete_copy(
        &self,
        from: Endpoint,
        az: usize,
        segment: SegmentId,
        needed: Lsn,
    ) -> Option<NodeId> {
        self.config
            .placement(segment)
            .into_iter()
            .filter(|n| self.reachable(from, *n))
            .filter(|n| {
                let node = &self.nodes[n.0 as usize];
                node.epoch >= self.epoch && node.scl(segment) >= needed
            })
            .min_by_key(|n| (self.config.latency_to(az, *n), *n))
    }
}

/// Two peers exchange what they know about `segment`; returns the records copied.
fn gossip_pair<P: Clone + Default>(
    nodes: &mut [StorageNode<P>],
    a: NodeId,
    b: NodeId,
    segment: SegmentId,
) -> usize {
    let (ia, ib) = (a.0 as usize, b.0 as usize);
    if ia == ib || ia >= nodes.len() || ib >= nodes.len() {
        return 0;
    }
    let (lo, hi) = nodes.split_at_mut(ia.max(ib));
    let (x, y) = if ia < ib {
        (&mut lo[ia], &mut hi[0])
    } else {
        (&mut hi[0], &mut lo[ib])
    };
    let (ea, ta, va, ma) = x.meta();
    let (eb, tb, vb, mb) = y.meta();
    x.learn(eb, &tb, vb, mb);
    y.learn(ea, &ta, va, ma);
    let sx = x.segments.entry(segment).or_default();
    let sy = y.segments.entry(segment).or_default();
    sx.pull_from(sy) + sy.pull_from(sx)
}
