//! Last-writer-wins timestamps for replicated writes.
//!
//! Every write to a replica gets a [`Ts`]: the clock time of the write (milliseconds), the region
//! it was made in, and its sequence number in that region's stream. Timestamps order
//! lexicographically, so two writes made in the same millisecond in different regions are ordered
//! by region name, deterministically, and two in one region by their stream order.
//!
//! A local write must never lose to the version it replaced: if a replica already holds a version
//! whose timestamp is not below the write's clock time (a replicated write from a region whose
//! clock was ahead, or one made in the same millisecond by a region whose name sorts later), the
//! write's timestamp is raised to one millisecond past that version's — a hybrid logical clock.
//! With this rule a write that causally follows another always carries the larger timestamp, so
//! every replica that has received the same set of writes holds the same winner.

use std::sync::Arc;

/// A write's timestamp: clock milliseconds, then origin region, then origin stream sequence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts {
    /// Milliseconds since the epoch (possibly raised past the replaced version's).
    pub ms: u64,
    /// The region the write was made in.
    pub region: Arc<str>,
    /// The write's sequence number in its region's stream.
    pub seq: u64,
}

impl Ts {
    /// The timestamp of a local write made at `at_ms` in `region` as stream record `seq`, given the
    /// version the replica held before (`current`).
    pub fn local(at_ms: u64, region: &Arc<str>, seq: u64, current: Option<&Ts>) -> Ts {
        let mut ts = Ts {
            ms: at_ms,
            region: Arc::clone(region),
            seq,
        };
        if let Some(cur) = current
            && *cur >= ts
        {
            ts.ms = cur.ms + 1;
        }
        ts
    }

    /// Whether a replicated write with this timestamp replaces a replica's version `current`.
    pub fn wins_over(&self, current: Option<&Ts>) -> bool {
        current.is_none_or(|c| self > c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_clock_then_region_then_sequence() {
        let a: Arc<str> = Arc::from("eu-west-1");
        let b: Arc<str> = Arc::from("us-east-1");
        let t1 = Ts::local(10, &a, 5, None);
        let t2 = Ts::local(10, &b, 1, None);
        assert!(t2 > t1, "same millisecond: region name breaks the tie");
        assert!(Ts::local(11, &a, 1, None) > t2);
        assert!(Ts::local(10, &a, 6, None) > t1);
    }

    #[test]
    fn a_local_write_never_loses_to_what_it_replaced() {
        let a: Arc<str> = Arc::from("eu-west-1");
        let b: Arc<str> = Arc::from("us-east-1");
        let remote = Ts::local(50, &b, 9, None);
        let local = Ts::local(40, &a, 1, Some(&remote));
        assert!(local > remote);
        assert_eq!(local.ms, 51);
        assert!(local.wins_over(Some(&remote)));
        assert!(!remote.wins_over(Some(&local)));
        assert!(remote.wins_over(None));
    }
}
