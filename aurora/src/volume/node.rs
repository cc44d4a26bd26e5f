//! A storage node: its copies of protection groups, each a hot log plus materialised pages.
//!
//! A node accepts records into its hot log, tracks its segment complete LSN (SCL: every record
//! of the group up to it is present, found by following the records' segment back-links), and in
//! the background applies records to pages — only records at or below the volume durable LSN and
//! the instances' minimum read point it has been told about, so it never applies a record that
//! recovery could still truncate and can always serve a page at any live read point. Applied
//! records leave the hot log; a peer that has fallen behind that point catches up by copying
//! pages. Guarantees: a node never holds a record killed by a truncation it knows, and it learns
//! every truncation of an epoch no later than the epoch itself.

use std::collections::{BTreeMap, BTreeSet};

use super::error::VolumeError;
use super::net::Meta;
use super::record::{Lsn, PageApply, PageId, RedoRecord, Truncation};
use super::topology::{NodeId, SegmentId};

/// A storage node's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// Serving.
    Up,
    /// Stopped or unreachable, with its data intact (it catches up when it returns).
    Down,
    /// Destroyed with its disks; it must be rebuilt from its peers.
    Lost,
}

impl NodeStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            NodeStatus::Up => "up",
            NodeStatus::Down => "down",
            NodeStatus::Lost => "lost",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PageImage<P> {
    pub lsn: Lsn,
    pub page: P,
    /// The first record the applier refused: the page stays poisoned from there on.
    pub failed: Option<(Lsn, String)>,
}

impl<P: Default> Default for PageImage<P> {
    fn default() -> Self {
        PageImage {
            lsn: 0,
            page: P::default(),
            failed: None,
        }
    }
}

/// One node's copy of one protection group.
#[derive(Debug, Clone)]
pub(crate) struct SegmentReplica<P> {
    /// Received records not yet applied to pages.
    pub log: BTreeMap<Lsn, RedoRecord>,
    /// The same records, by page.
    pub by_page: BTreeSet<(PageId, Lsn)>,
    /// Segment complete LSN.
    pub scl: Lsn,
    /// Every record of this group at or below it is in `pages`.
    pub applied: Lsn,
    pub pages: BTreeMap<PageId, PageImage<P>>,
}

impl<P> Default for SegmentReplica<P> {
    fn default() -> Self {
        SegmentReplica {
            log: BTreeMap::new(),
            by_page: BTreeSet::new(),
            scl: 0,
            applied: 0,
            pages: BTreeMap::new(),
        }
    }
}

impl<P: Clone + Default> SegmentReplica<P> {
    fn insert(&mut self, record: RedoRecord) {
        if record.lsn <= self.applied || self.log.contains_key(&record.lsn) {
            return;
        }
        self.by_page.insert((record.page_id, record.lsn));
        self.log.insert(record.lsn, record);
    }

    /// Follows segment back-links from the SCL as far as the log is contiguous.
    fn advance_scl(&mut self) {
        while let Some((lsn, rec)) = self.log.range(self.scl + 1..).next() {
            // The next record's predecessor in this group is at or below the SCL, so no record
            // of the group lies between them: the chain is complete up to it.
            if rec.prev_segment_lsn <= self.scl {
                self.scl = *lsn;
            } else {
                break;
            }
        }
    }

    fn truncate(&mut self, t: &Truncation) {
        let dead: Vec<Lsn> = self
            .log
            .range(t.after + 1..)
            .filter(|(_, r)| t.kills(r))
            .map(|(lsn, _)| *lsn)
            .collect();
        if dead.is_empty() {
            return;
        }
        for lsn in dead {
            if let Some(r) = self.log.remove(&lsn) {
                self.by_page.remove(&(r.page_id, lsn));
            }
        }
        // The SCL may have run over killed records: restart the chain from the truncation point.
        self.scl = self.scl.min(t.after.max(self.applied));
        self.advance_scl();
    }

    /// Takes `peer`'s pages when this copy has fallen behind what the peer still keeps as log.
    pub fn copy_pages_from(&mut self, peer: &SegmentReplica<P>) {
        self.pages = peer.pages.clone();
        self.applied = peer.applied;
        self.scl = self.scl.max(peer.applied);
        let stale: Vec<Lsn> = self.log.range(..=self.applied).map(|(l, _)| *l).collect();
        for lsn in stale {
            if let Some(r) = self.log.remove(&lsn) {
                self.by_page.remove(&(r.page_id, lsn));
            }
        }
        self.advance_scl();
    }

    /// Copies the records `self` lacks above its SCL from `peer`.
    pub fn pull_from(&mut self, peer: &SegmentReplica<P>) -> usize {
        if self.scl < peer.applied {
            self.copy_pages_from(peer);
        }
        let mut pulled = 0;
        for (lsn, rec) in peer.log.range(self.scl + 1..) {
            if !self.log.contains_key(lsn) && *lsn > self.applied {
                self.insert(rec.clone());
                pulled += 1;
            }
        }
        self.advance_scl();
        pulled
    }
}

/// A storage node of the fleet.
#[derive(Debug, Clone)]
pub(crate) struct StorageNode<P> {
    pub id: NodeId,
    pub status: NodeStatus,
    pub epoch: u64,
    pub truncations: Vec<Truncation>,
    pub known_vdl: Lsn,
    pub min_read_point: Lsn,
    pub segments: BTreeMap<SegmentId, SegmentReplica<P>>,
    /// Records applied to pages over the node's life.
    pub applied_records: u64,
}

impl<P: Clone + Default> StorageNode<P> {
    pub fn new(id: NodeId) -> Self {
        StorageNode {
            id,
            status: NodeStatus::Up,
            epoch: 0,
            truncations: Vec::new(),
            known_vdl: 0,
            min_read_point: 0,
            segments: BTreeMap::new(),
            applied_records: 0,
        }
    }

    /// Wipes the node as if its disks were destroyed.
    pub fn lose(&mut self) {
        *self = StorageNode {
            status: NodeStatus::Lost,
            ..StorageNode::new(self.id)
        };
    }

    pub fn meta(&self) -> (u64, Vec<Truncation>, Lsn, Lsn) {
        (
            self.epoch,
            self.truncations.clone(),
            self.known_vdl,
            self.min_read_point,
        )
    }

    /// Learns an epoch, truncations and durable/read points (from a writer or a peer).
    pub fn learn(&mut self, epoch: u64, truncations: &[Truncation], vdl: Lsn, min_read_point: Lsn) {
        for t in truncations {
            if !self.truncations.contains(t) {
                self.truncations.push(*t);
                self.truncations.sort();
                for seg in self.segments.values_mut() {
                    seg.truncate(t);
                }
            }
        }
        self.epoch = self.epoch.max(epoch);
        self.known_vdl = self.known_vdl.max(vdl);
        self.min_read_point = self.min_read_point.max(min_read_point);
    }

    /// Applies every known truncation again (after records were copied from peers that may not
    /// know them all).
    pub fn enforce_truncations(&mut self) {
        for t in &self.truncations {
            for seg in self.segments.values_mut() {
                seg.truncate(t);
            }
        }
    }

    pub fn learn_meta(&mut self, meta: &Meta) {
        self.learn(meta.epoch, &meta.truncations, meta.vdl, meta.min_read_point);
    }

    pub fn is_dead(&self, record: &RedoRecord) -> bool {
        self.truncations.iter().any(|t| t.kills(record))
    }

    /// Stores records for `segment`; returns the LSNs it now holds durably (dead ones are not).
    pub fn receive(&mut self, segment: SegmentId, records: &[RedoRecord]) -> Vec<Lsn> {
        let mut held = Vec::with_capacity(records.len());
        let live: Vec<&RedoRecord> = records.iter().filter(|r| !self.is_dead(r)).collect();
        let seg = self.segments.entry(segment).or_default();
        for r in live {
            seg.insert(r.clone());
            held.push(r.lsn);
        }
        seg.advance_scl();
        held
    }

    pub fn scl(&self, segment: SegmentId) -> Lsn {
        self.segments.get(&segment).map_or(0, |s| s.scl)
    }

    /// The background step: applies every record it may to pages and drops it from the log.
    pub fn apply_background<A: PageApply<Page = P>>(&mut self, applier: &A) {
        let limit_global = self.known_vdl.min(self.min_read_point);
        let mut applied_now = 0;
        for seg in self.segments.values_mut() {
            let limit = seg.scl.min(limit_global);
            if limit <= seg.applied {
                continue;
            }
            let due: Vec<Lsn> = seg.log.range(..=limit).map(|(l, _)| *l).collect();
            for lsn in due {
                let Some(rec) = seg.log.remove(&lsn) else {
                    continue;
                };
                seg.by_page.remove(&(rec.page_id, lsn));
                let image = seg.pages.entry(rec.page_id).or_default();
                apply_one(applier, image, &rec);
                applied_now += 1;
            }
            seg.applied = limit;
        }
        self.applied_records += applied_now;
    }

    /// The page as of `read_point`: the materialised image plus the page's later records.
    pub fn read_page<A: PageApply<Page = P>>(
        &self,
        applier: &A,
        segment: SegmentId,
        page: PageId,
        read_point: Lsn,
    ) -> Result<(Lsn, P), VolumeError> {
        let Some(seg) = self.segments.get(&segment) else {
            return Ok((0, P::default()));
        };
        let mut image = seg.pages.get(&page).cloned().unwrap_or_default();
        if image.lsn < read_point {
            for (_, lsn) in seg
                .by_page
                .range((page, image.lsn + 1)..=(page, read_point))
            {
                if let Some(rec) = seg.log.get(lsn) {
                    apply_one(applier, &mut image, rec);
                }
            }
        }
        match image.failed {
            Some((lsn, reason)) => Err(VolumeError::PageApply { page, lsn, reason }),
            None => Ok((image.lsn, image.page)),
        }
    }
}

fn apply_one<A: PageApply>(applier: &A, image: &mut PageImage<A::Page>, rec: &RedoRecord) {
    if image.failed.is_some() {
        return;
    }
    if rec.prev_page_lsn != image.lsn {
        image.failed = Some((
            rec.lsn,
            format!(
                "page chain broken: record expects page LSN {}, page is at {}",
                rec.prev_page_lsn, image.lsn
            ),
        ));
        return;
    }
    match applier.apply(rec.page_id, &mut image.page, rec) {
        Ok(()) => image.lsn = rec.lsn,
        Err(e) => image.failed = Some((rec.lsn, e.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::record::KvApply;

    fn rec(lsn: Lsn, prev_seg: Lsn, page: PageId, prev_page: Lsn, epoch: u64) -> RedoRecord {
        RedoRecord {
            lsn,
            prev_lsn: lsn - 1,
            prev_segment_lsn: prev_seg,
            prev_page_lsn: prev_page,
            page_id: page,
            epoch,
            cpl: true,
            payload: KvApply::put(b"k", &lsn.to_be_bytes()),
        }
    }

    #[test]
    fn scl_stops_at_a_gap_and_moves_when_it_is_filled() {
        let mut n: StorageNode<<KvApply as PageApply>::Page> = StorageNode::new(NodeId(0));
        let s = SegmentId(0);
        n.receive(s, &[rec(1, 0, 1, 0, 1), rec(3, 2, 1, 2, 1)]);
        assert_eq!(n.scl(s), 1);
        n.receive(s, &[rec(2, 1, 1, 1, 1)]);
        assert_eq!(n.scl(s), 3);
    }

    #[test]
    fn applies_only_up_to_the_durable_point_and_reads_at_a_read_point() {
        let mut n = StorageNode::new(NodeId(0));
        let s = SegmentId(0);
        n.receive(
            s,
            &[rec(1, 0, 7, 0, 1), rec(2, 1, 7, 1, 1), rec(3, 2, 7, 2, 1)],
        );
        n.learn(1, &[], 2, 2);
        n.apply_background(&KvApply);
        assert_eq!(n.segments[&s].applied, 2);
        assert_eq!(n.segments[&s].log.len(), 1);
        let (lsn, page) = n.read_page(&KvApply, s, 7, 3).unwrap();
        assert_eq!(lsn, 3);
        assert_eq!(
            page.get(b"k".as_slice()),
            Some(&3u64.to_be_bytes().to_vec())
        );
        let (lsn, _) = n.read_page(&KvApply, s, 7, 2).unwrap();
        assert_eq!(lsn, 2);
    }

    #[test]
    fn truncation_removes_older_epoch_records_and_rewinds_scl() {
        let mut n: StorageNode<<KvApply as PageApply>::Page> = StorageNode::new(NodeId(0));
        let s = SegmentId(0);
        n.receive(
            s,
            &[rec(1, 0, 1, 0, 1), rec(2, 1, 1, 1, 1), rec(3, 2, 1, 2, 1)],
        );
        n.learn(2, &[Truncation { epoch: 2, after: 1 }], 1, 1);
        assert_eq!(n.scl(s), 1);
        assert_eq!(n.segments[&s].log.len(), 1);
        // A record of the old epoch above the truncation point is refused from now on.
        assert!(n.receive(s, &[rec(2, 1, 1, 1, 1)]).is_empty());
        assert_eq!(n.receive(s, &[rec(2, 1, 1, 1, 2)]), vec![2]);
        assert_eq!(n.scl(s), 2);
    }

    #[test]
    fn bad_payload_poisons_only_its_page() {
        let mut n = StorageNode::new(NodeId(0));
        let s = SegmentId(0);
        let mut bad = rec(1, 0, 1, 0, 1);
        bad.payload = bytes::Bytes::from_static(b"??");
        n.receive(s, &[bad, rec(2, 1, 2, 0, 1)]);
        n.learn(1, &[], 2, 2);
        n.apply_background(&KvApply);
        assert!(matches!(
            n.read_page(&KvApply, s, 1, 2),
            Err(VolumeError::PageApply { lsn: 1, .. })
        ));
        assert!(n.read_page(&KvApply, s, 2, 2).is_ok());
    }
}
