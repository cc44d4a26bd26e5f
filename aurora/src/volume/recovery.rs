//! Opening a writer: crash recovery by quorum, with no redo replay at the instance.
//!
//! A new writer (after a crash, or a failover away from a writer presumed dead) runs three
//! storage round trips and nothing else: it (1) raises the epoch on a write quorum of every
//! protection group, which fences any older writer; (2) reads a read quorum of every group for
//! the records above the highest durable LSN any copy was told about, walks the volume chain
//! from there to find the volume complete LSN, and takes the last consistency point at or below
//! it as the new VDL; (3) makes a truncation of everything above that VDL durable on a write
//! quorum, together with the new epoch. Pages need no redo at the instance: storage nodes keep
//! applying the log in the background as they always do.
//!
//! Guarantees: every commit that was acknowledged (VDL at or above it) survives, because its
//! records had four copies and any three copies include one of them; no record of an unfinished
//! mini-transaction survives; a truncated record never reappears, even on a copy that was down
//! during recovery, because copies learn the truncation before they accept the new epoch's
//! records. A commit whose acknowledgement was still in flight at the crash is in doubt: it
//! survives exactly when it reached a write quorum, as with any database that loses a client
//! connection during COMMIT.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::engine::{Role, Volume};
use super::error::{VolumeError, VolumeResult};
use super::net::Endpoint;
use super::node::NodeStatus;
use super::record::{Lsn, PageApply, RedoRecord, Truncation};
use super::topology::{InstanceId, NodeId, READ_QUORUM, WRITE_QUORUM, WriterMode};
use super::writer::WriterGroup;

/// What opening a writer found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The new writer.
    pub instance: InstanceId,
    /// Its epoch.
    pub epoch: u64,
    /// The volume complete LSN found in storage.
    pub vcl: Lsn,
    /// The volume durable LSN the writer starts from (everything above it was truncated).
    pub vdl: Lsn,
    /// Records read from the read quorums above the last announced durable point.
    pub records_scanned: usize,
    /// Records above the new VDL that the truncation discarded.
    pub records_truncated: usize,
    /// Protection groups recovered.
    pub segments: usize,
    /// Storage round-trip time the recovery takes on the volume's clock.
    pub duration: Duration,
    /// When the writer accepts work.
    pub available_at: SystemTime,
    /// Whether the writer joined a live multi-master group instead of recovering.
    pub joined: bool,
}

impl<A: PageApply> Volume<A> {
    /// Opens a writer. On a single-master volume this fails with
    /// [`VolumeError::WriterExists`] while a writer is alive; otherwise it runs crash recovery.
    /// On a multi-master volume a second writer joins the live group without recovery.
    pub fn open_writer(&mut self) -> VolumeResult<RecoveryReport> {
        if self.replication_target {
            return Err(VolumeError::ReadOnly {
                operation: "opening a writer on a secondary region's volume",
            });
        }
        let live = self.live_writers();
        if let Some(existing) = live.first().copied() {
            if self.config.mode == WriterMode::SingleMaster {
                return Err(VolumeError::WriterExists { existing });
            }
            return Ok(self.join_group());
        }
        self.recover()
    }

    /// Opens a writer by recovery even if another writer seems alive (failover away from a
    /// writer presumed dead): the old writer is fenced by storage the next time it writes.
    pub fn force_open_writer(&mut self) -> VolumeResult<RecoveryReport> {
        if self.replication_target {
            return Err(VolumeError::ReadOnly {
                operation: "opening a writer on a secondary region's volume",
            });
        }
        self.recover()
    }

    /// Live writers of the current epoch.
    pub fn live_writers(&self) -> Vec<InstanceId> {
        self.groups
            .get(&self.epoch)
            .filter(|g| !g.fenced)
            .map(|g| {
                g.members
                    .iter()
                    .copied()
                    .filter(|m| self.instances.contains_key(m))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Crashes an instance: its memory (pending commits, buffers, cache) is gone; what it sent is
    /// still on the network. A writer group whose last member crashes is gone too.
    pub fn crash_instance(&mut self, instance: InstanceId) -> VolumeResult<()> {
        let inst = self
            .instances
            .remove(&instance)
            .ok_or(VolumeError::UnknownInstance { instance })?;
        if let Role::Writer { epoch } = inst.role
            && let Some(group) = self.groups.get_mut(&epoch)
        {
            group.members.remove(&instance);
            if group.members.is_empty() {
                self.groups.remove(&epoch);
            }
        }
        Ok(())
    }

    fn join_group(&mut self) -> RecoveryReport {
        let epoch = self.epoch;
        let id = self.new_instance(Role::Writer { epoch });
        let now = self.now();
        let (vcl, vdl) = match self.groups.get_mut(&epoch) {
            Some(g) => {
                g.members.insert(id);
                (g.vcl, g.vdl)
            }
            None => (0, 0),
        };
        RecoveryReport {
            instance: id,
            epoch,
            vcl,
            vdl,
            records_scanned: 0,
            records_truncated: 0,
            segments: self.segments.len(),
            duration: Duration::ZERO,
            available_at: now,
            joined: true,
        }
    }

    fn recover(&mut self) -> VolumeResult<RecoveryReport> {
        let now = self.now();
        let id = InstanceId(self.next_instance);
        let from = Endpoint::Instance(id);
        let az = self.config.instance_az;
        // Every group must offer a write quorum before anything changes: recovery is all or
        // nothing.
        let mut reachable: BTreeMap<_, Vec<NodeId>> = BTreeMap::new();
        let (mut fence_rtt, mut read_rtt) = (Duration::ZERO, Duration::ZERO);
        for seg in &self.segments {
            let nodes: Vec<NodeId> = self
                .config
                .placement(*seg)
                .into_iter()
                .filter(|n| self.reachable(from, *n))
                .collect();
            if nodes.len() < WRITE_QUORUM {
                return Err(VolumeError::WriteQuorumUnavailable {
                    segment: *seg,
                    reachable: nodes.len(),
                });
            }
            let mut lat: Vec<Duration> = nodes
                .iter()
                .map(|n| self.config.latency_to(az, *n))
                .collect();
            lat.sort();
            fence_rtt = fence_rtt.max(lat[WRITE_QUORUM - 1] * 2);
            read_rtt = read_rtt.max(lat[READ_QUORUM - 1] * 2);
            reachable.insert(*seg, nodes);
        }
        let all: Vec<NodeId> = {
            let mut v: Vec<NodeId> = reachable.values().flatten().copied().collect();
            if v.is_empty() {
                v = (0..self.config.node_count())
                    .map(NodeId)
                    .filter(|n| self.reachable(from, *n))
                    .collect();
            }
            v.sort();
            v.dedup();
            v
        };
        // Phase 1: fence. The new epoch is above every epoch any reachable copy has seen.
        let seen = all
            .iter()
            .map(|n| self.nodes[n.0 as usize].epoch)
            .max()
            .unwrap_or(0);
        let epoch = seen.max(self.epoch) + 1;
        let mut truncations: Vec<Truncation> = Vec::new();
        let mut base: Lsn = 0;
        for n in &all {
            let node = &mut self.nodes[n.0 as usize];
            node.epoch = epoch;
            for t in &node.truncations {
                if !truncations.contains(t) {
                    truncations.push(*t);
                }
            }
            base = base.max(node.known_vdl);
        }
        // Phase 2: read quorum. Every record above `base` any reachable copy holds, minus the
        // ones an earlier recovery killed.
        let mut union: BTreeMap<Lsn, RedoRecord> = BTreeMap::new();
        for (seg, nodes) in &reachable {
            for n in nodes {
                if let Some(replica) = self.nodes[n.0 as usize].segments.get(seg) {
                    for (lsn, rec) in replica.log.range(base + 1..) {
                        if !truncations.iter().any(|t| t.kills(rec)) {
                            union.entry(*lsn).or_insert_with(|| rec.clone());
                        }
                    }
                }
            }
        }
        let by_prev: BTreeMap<Lsn, &RedoRecord> = union.values().map(|r| (r.prev_lsn, r)).collect();
        let (mut vcl, mut vdl) = (base, base);
        let mut chain: Vec<RedoRecord> = Vec::new();
        while let Some(next) = by_prev.get(&vcl) {
            vcl = next.lsn;
            chain.push((*next).clone());
            if next.cpl {
                vdl = next.lsn;
            }
        }
        chain.retain(|r| r.lsn <= vdl);
        let records_truncated = union.range(vdl + 1..).count();
        // Phase 3: make the truncation and the epoch durable on the write quorum.
        let truncation = Truncation { epoch, after: vdl };
        truncations.push(truncation);
        truncations.sort();
        for n in &all {
            let node = &mut self.nodes[n.0 as usize];
            node.learn(epoch, &truncations, vdl, 0);
        }
        // Records recovery keeps above the last announced durable point may sit on fewer than
        // four copies (a read quorum found them): write them to every reachable copy, a write
        // quorum, before the new VDL covers them.
        for rec in &chain {
            if let Ok(seg) = self.config.segment_of(rec.page_id)
                && let Some(nodes) = reachable.get(&seg)
            {
                for n in nodes {
                    self.nodes[n.0 as usize].receive(seg, std::slice::from_ref(rec));
                }
            }
        }
        self.directory.rollback(vdl);
        self.epoch = epoch;
        // Older groups with live members become zombies that storage will fence; dead ones go.
        let alive: Vec<u64> = self
            .groups
            .iter()
            .filter(|(_, g)| g.members.iter().any(|m| self.instances.contains_key(m)))
            .map(|(e, _)| *e)
            .collect();
        self.groups.retain(|e, _| alive.contains(e));
        for group in self.groups.values_mut() {
            group.durable_out.clear();
        }
        let duration = fence_rtt + read_rtt + fence_rtt;
        let available_at = now + duration;
        let id = self.new_instance(Role::Writer { epoch });
        let mut group = WriterGroup::new(epoch, vdl, Arc::new(truncations), available_at);
        group.members.insert(id);
        self.groups.insert(epoch, group);
        self.vdl_history.push_back((vdl, now));
        self.resync_readers(vdl);
        self.reship(&chain);
        Ok(RecoveryReport {
            instance: id,
            epoch,
            vcl,
            vdl,
            records_scanned: union.len(),
            records_truncated,
            segments: reachable.len(),
            duration,
            available_at,
            joined: false,
        })
    }

    /// Stops a node (power loss, restart): it keeps its data and catches up when started.
    pub fn stop_node(&mut self, node: NodeId) -> VolumeResult<()> {
        let n = self
            .nodes
            .get_mut(node.0 as usize)
            .ok_or(VolumeError::UnknownNode { node })?;
        if n.status == NodeStatus::Up {
            n.status = NodeStatus::Down;
        }
        Ok(())
    }

    /// Starts a stopped node.
    pub fn start_node(&mut self, node: NodeId) -> VolumeResult<()> {
        let n = self
            .nodes
            .get_mut(node.0 as usize)
            .ok_or(VolumeError::UnknownNode { node })?;
        match n.status {
            NodeStatus::Lost => Err(VolumeError::NodeState {
                node,
                state: "lost",
            }),
            _ => {
                n.status = NodeStatus::Up;
                Ok(())
            }
        }
    }

    /// Destroys a node and its data; [`Volume::rebuild_node`] replaces it.
    pub fn lose_node(&mut self, node: NodeId) -> VolumeResult<()> {
        let n = self
            .nodes
            .get_mut(node.0 as usize)
            .ok_or(VolumeError::UnknownNode { node })?;
        n.lose();
        Ok(())
    }

    /// Replaces a lost node: each of its protection groups is re-replicated from the union of
    /// at least a read quorum of reachable peers (one peer could lack a durable record).
    /// Returns the records copied.
    pub fn rebuild_node(&mut self, node: NodeId) -> VolumeResult<usize> {
        let status = self.node(node)?.status;
        if status != NodeStatus::Lost {
            return Err(VolumeError::NodeState {
                node,
                state: status.name(),
            });
        }
        let me = Endpoint::Node(node);
        let mut plan = Vec::new();
        for seg in &self.segments {
            let placement = self.config.placement(*seg);
            if !placement.contains(&node) {
                continue;
            }
            let peers: Vec<NodeId> = placement
                .into_iter()
                .filter(|p| *p != node && self.reachable(me, *p))
                .collect();
            if peers.len() < READ_QUORUM {
                return Err(VolumeError::ReadQuorumUnavailable {
                    segment: *seg,
                    reachable: peers.len(),
                    needed: 0,
                });
            }
            plan.push((*seg, peers));
        }
        let mut fresh = super::node::StorageNode::new(node);
        for n in &self.nodes {
            if n.status == NodeStatus::Up && !self.net.is_cut(me, Endpoint::Node(n.id)) {
                let (e, t, v, m) = n.meta();
                fresh.learn(e, &t, v, m);
            }
        }
        let mut copied = 0;
        for (seg, peers) in plan {
            let replica = fresh.segments.entry(seg).or_default();
            for p in &peers {
                if let Some(src) = self.nodes[p.0 as usize].segments.get(&seg) {
                    copied += replica.pull_from(src);
                }
            }
        }
        // A peer may still hold records a truncation killed (it was down when it happened).
        fresh.enforce_truncations();
        self.stats.gossiped += copied as u64;
        self.nodes[node.0 as usize] = fresh;
        Ok(copied)
    }

    /// Stops both-or-more nodes of an availability zone (index 0, 1 or 2).
    pub fn fail_az(&mut self, az: usize) -> VolumeResult<()> {
        for n in self.nodes_in_az(az)? {
            self.stop_node(n)?;
        }
        Ok(())
    }

    /// Starts the stopped nodes of a zone again (lost ones stay lost).
    pub fn restore_az(&mut self, az: usize) -> VolumeResult<()> {
        for n in self.nodes_in_az(az)? {
            if self.nodes[n.0 as usize].status == NodeStatus::Down {
                self.start_node(n)?;
            }
        }
        Ok(())
    }

    /// The storage nodes of a zone.
    pub fn nodes_in_az(&self, az: usize) -> VolumeResult<Vec<NodeId>> {
        if az >= super::topology::AZ_COUNT {
            return Err(VolumeError::UnknownAvailabilityZone { az });
        }
        Ok((0..self.config.node_count())
            .map(NodeId)
            .filter(|n| self.config.az_of(*n) == az)
            .collect())
    }

    /// Cuts the link between two endpoints (instance–node, node–node or writer–reader).
    pub fn partition(&mut self, a: Endpoint, b: Endpoint) {
        self.net.cut(a, b);
    }

    /// Restores one link.
    pub fn heal(&mut self, a: Endpoint, b: Endpoint) {
        self.net.heal(a, b);
    }

    /// Restores every link.
    pub fn heal_all(&mut self) {
        self.net.heal_all();
    }
}
