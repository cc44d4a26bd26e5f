//! The volume's page and protection-group LSN directory.
//!
//! For every page and every protection group the directory keeps the LSNs of its recent records:
//! all of those above the floor (the instances' minimum read point) plus the newest one at or
//! below it. That is what the storage service needs to arbitrate page writes between writers
//! (a write based on a page LSN that is no longer the newest loses), to give new records their
//! page and group back-links, to tell a read which group LSN a copy must have reached for a read
//! point, and to roll back to the durable point when recovery truncates.
//!
//! In Aurora this knowledge is spread over the storage nodes of each protection group; the
//! in-process volume keeps one table beside the nodes and treats it as storage-side state: it
//! survives instance crashes and is rolled back only by a recovery's truncation.

use std::collections::BTreeMap;

use super::record::{Lsn, PageId};
use super::topology::SegmentId;

#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pages: BTreeMap<PageId, Vec<Lsn>>,
    segments: BTreeMap<SegmentId, Vec<Lsn>>,
    /// Records above the floor: what a rollback must undo and a trim may forget.
    recent: BTreeMap<Lsn, (PageId, SegmentId)>,
    floor: Lsn,
}

fn trim(list: &mut Vec<Lsn>, floor: Lsn) {
    let keep_from = list.iter().rposition(|l| *l <= floor).unwrap_or(0);
    if keep_from > 0 {
        list.drain(..keep_from);
    }
}

fn at_or_below(list: Option<&Vec<Lsn>>, lsn: Lsn) -> Lsn {
    list.and_then(|l| l.iter().rev().find(|x| **x <= lsn).copied())
        .unwrap_or(0)
}

impl Directory {
    /// The newest LSN of `page` (0 when never written).
    pub fn page_latest(&self, page: PageId) -> Lsn {
        self.pages
            .get(&page)
            .and_then(|l| l.last().copied())
            .unwrap_or(0)
    }

    /// The newest LSN of `segment`.
    pub fn segment_latest(&self, segment: SegmentId) -> Lsn {
        self.segments
            .get(&segment)
            .and_then(|l| l.last().copied())
            .unwrap_or(0)
    }

    /// The newest LSN of `segment` at or below `read_point` (which must be at or above the floor).
    pub fn segment_at_or_below(&self, segment: SegmentId, read_point: Lsn) -> Lsn {
        debug_assert!(read_point >= self.floor || self.recent.is_empty());
        at_or_below(self.segments.get(&segment), read_point)
    }

    /// Records a new record.
    pub fn push(&mut self, lsn: Lsn, page: PageId, segment: SegmentId) {
        self.pages.entry(page).or_default().push(lsn);
        self.segments.entry(segment).or_default().push(lsn);
        if lsn > self.floor {
            self.recent.insert(lsn, (page, segment));
        }
    }

    /// Forgets history at or below `floor` (keeping each list's newest entry there).
    pub fn raise_floor(&mut self, floor: Lsn) {
        if floor <= self.floor {
            return;
        }
        self.floor = floor;
        let settled: Vec<(Lsn, (PageId, SegmentId))> =
            self.recent.range(..=floor).map(|(l, v)| (*l, *v)).collect();
        for (lsn, (page, segment)) in settled {
            self.recent.remove(&lsn);
            if let Some(l) = self.pages.get_mut(&page) {
                trim(l, floor);
            }
            if let Some(l) = self.segments.get_mut(&segment) {
                trim(l, floor);
            }
        }
    }

    /// Forgets every record above `after` (a recovery truncated them).
    pub fn rollback(&mut self, after: Lsn) {
        let dead: Vec<(Lsn, (PageId, SegmentId))> = self
            .recent
            .range(after + 1..)
            .map(|(l, v)| (*l, *v))
            .collect();
        for (lsn, (page, segment)) in dead {
            self.recent.remove(&lsn);
            if let Some(l) = self.pages.get_mut(&page) {
                l.retain(|x| *x <= after);
            }
            if let Some(l) = self.segments.get_mut(&segment) {
                l.retain(|x| *x <= after);
            }
        }
    }

    /// A copy holding only records at or below `lsn` (seeding a secondary region).
    pub fn snapshot_at(&self, lsn: Lsn) -> Directory {
        let mut d = self.clone();
        d.rollback(lsn);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_the_newest_surviving_lsn_and_trim_keeps_one_below_the_floor() {
        let mut d = Directory::default();
        let s = SegmentId(0);
        for lsn in 1..=5 {
            d.push(lsn, lsn % 2, s);
        }
        assert_eq!(d.page_latest(1), 5);
        d.raise_floor(3);
        assert_eq!(d.segment_at_or_below(s, 3), 3);
        assert_eq!(d.segment_at_or_below(s, 4), 4);
        d.rollback(3);
        assert_eq!(d.page_latest(1), 3);
        assert_eq!(d.page_latest(0), 2);
        assert_eq!(d.segment_latest(s), 3);
    }
}
