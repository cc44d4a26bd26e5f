//! The writer side of the quorum protocol: LSN allocation, acknowledgement counting, VCL and VDL.
//!
//! A writer group is the set of writer instances of one epoch (one instance on a single-master
//! volume, several on a multi-master one). It hands out LSNs, remembers every record it sent
//! until four of the record's six copies have acknowledged it, and moves the volume complete
//! LSN (VCL: every record up to it is durable) and the volume durable LSN (VDL: the highest
//! consistency point at or below the VCL) forward. Guarantee: a commit is acknowledged only once
//! its LSN is at or below the VDL, so every record it depends on has a write quorum.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::record::{Lsn, RedoRecord, Truncation};
use super::topology::{InstanceId, SegmentId, WRITE_QUORUM};

/// What [`super::Volume::submit`] hands back: the LSNs of the mini-transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtrReceipt {
    /// The first record's LSN.
    pub first_lsn: Lsn,
    /// The last record's LSN: the mini-transaction (and the commit it carries) is durable once the
    /// VDL reaches it.
    pub commit_lsn: Lsn,
    /// The writer epoch the LSNs belong to (LSNs above a truncation point are reused by the
    /// next epoch).
    pub epoch: u64,
}

/// A commit the volume acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitAck {
    /// The commit's LSN.
    pub lsn: Lsn,
    /// The epoch it was written in.
    pub epoch: u64,
    /// When it was submitted, on the volume's clock.
    pub submitted_at: SystemTime,
    /// When the VDL reached it.
    pub acknowledged_at: SystemTime,
}

impl CommitAck {
    /// Commit latency on the volume's clock.
    pub fn latency(&self) -> Duration {
        self.acknowledged_at
            .duration_since(self.submitted_at)
            .unwrap_or(Duration::ZERO)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub record: RedoRecord,
    pub segment: SegmentId,
    /// One bit per copy, in placement order.
    pub acks: u8,
    pub last_sent: SystemTime,
}

#[derive(Debug)]
pub(crate) struct WriterGroup {
    pub epoch: u64,
    pub members: BTreeSet<InstanceId>,
    pub last_lsn: Lsn,
    pub pending: BTreeMap<Lsn, Pending>,
    pub vcl: Lsn,
    pub vdl: Lsn,
    /// The (VDL, minimum read point) last announced to nodes and readers.
    pub announced: (Lsn, Lsn),
    pub truncations: Arc<Vec<Truncation>>,
    /// Records in the VCL not yet released to secondary regions (they wait for the VDL).
    pub durable_out: VecDeque<RedoRecord>,
    pub fenced: bool,
    pub available_at: SystemTime,
}

impl WriterGroup {
    pub fn new(
        epoch: u64,
        durable: Lsn,
        truncations: Arc<Vec<Truncation>>,
        available_at: SystemTime,
    ) -> Self {
        WriterGroup {
            epoch,
            members: BTreeSet::new(),
            last_lsn: durable,
            pending: BTreeMap::new(),
            vcl: durable,
            vdl: durable,
            announced: (0, 0),
            truncations,
            durable_out: VecDeque::new(),
            fenced: false,
            available_at,
        }
    }

    /// Moves VCL and VDL over every record at the head of the log that has a write quorum.
    /// Returns whether the VDL moved.
    pub fn advance(&mut self, keep_records: bool) -> bool {
        let before = self.vdl;
        while let Some(entry) = self.pending.first_entry() {
            if (entry.get().acks.count_ones() as usize) < WRITE_QUORUM {
                break;
            }
            let p = entry.remove();
            self.vcl = p.record.lsn;
            if p.record.cpl {
                self.vdl = p.record.lsn;
            }
            if keep_records {
                self.durable_out.push_back(p.record);
            }
        }
        self.vdl != before
    }

    /// Drops records released to secondaries: those at or below the VDL.
    pub fn take_durable(&mut self) -> Vec<RedoRecord> {
        let mut out = Vec::new();
        while self.durable_out.front().is_some_and(|r| r.lsn <= self.vdl) {
            if let Some(r) = self.durable_out.pop_front() {
                out.push(r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::UNIX_EPOCH;

    fn pending(lsn: Lsn, cpl: bool, acks: u8) -> Pending {
        Pending {
            record: RedoRecord {
                lsn,
                prev_lsn: lsn - 1,
                prev_segment_lsn: lsn - 1,
                prev_page_lsn: 0,
                page_id: 0,
                epoch: 1,
                cpl,
                payload: Bytes::new(),
            },
            segment: SegmentId(0),
            acks,
            last_sent: UNIX_EPOCH,
        }
    }

    #[test]
    fn vdl_is_the_last_consistency_point_inside_the_complete_prefix() {
        let mut g = WriterGroup::new(1, 0, Arc::new(Vec::new()), UNIX_EPOCH);
        g.pending.insert(1, pending(1, false, 0b1111));
        g.pending.insert(2, pending(2, true, 0b0111));
        g.pending.insert(3, pending(3, true, 0b111111));
        assert!(!g.advance(true));
        assert_eq!((g.vcl, g.vdl), (1, 0));
        g.pending.get_mut(&2).unwrap().acks |= 0b1000;
        assert!(g.advance(true));
        assert_eq!((g.vcl, g.vdl), (3, 3));
        assert_eq!(g.take_durable().len(), 3);
    }
}
