//! Volume configuration, identifiers, and where each protection group's six copies live.
//!
//! Guarantee: every protection group (segment) has exactly six copies on six distinct storage
//! nodes, two in each of the three availability zones, so losing a whole zone leaves four copies
//! (a write quorum) and losing a zone plus one more node leaves three (a read quorum).

use std::fmt;
use std::time::Duration;

use super::error::{VolumeError, VolumeResult};
use super::record::PageId;

/// Copies of each protection group.
pub const COPIES: usize = 6;
/// Acknowledgements that make a write durable.
pub const WRITE_QUORUM: usize = 4;
/// Copies a repair or recovery read must reach.
pub const READ_QUORUM: usize = 3;
/// Availability zones a volume spans.
pub const AZ_COUNT: usize = 3;
/// 1 GiB.
pub const GIB: u64 = 1 << 30;
/// Aurora's protection-group size: 10 GiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 10 * GIB;
/// PostgreSQL's page (block) size.
pub const DEFAULT_PAGE_SIZE: u64 = 8192;
/// The largest Aurora PostgreSQL cluster volume: 128 TiB.
pub const MAX_VOLUME_SIZE: u64 = 128 * 1024 * GIB;
/// Outstanding (not yet durable) records a writer may have before it is throttled.
pub const DEFAULT_LSN_ALLOCATION_LIMIT: u64 = 10_000_000;

/// A protection group: the 10 GiB slice of the volume that six copies replicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentId(pub u64);

/// A storage node of the volume's fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// A database instance attached to the volume (writer or reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pg-{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sn-{}", self.0)
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "db-{}", self.0)
    }
}

/// Whether the volume admits one writer or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriterMode {
    /// One writer; opening another runs crash recovery and fences the old one.
    #[default]
    SingleMaster,
    /// Several writers share the volume; conflicting page writes are rejected optimistically.
    MultiMaster,
}

/// How a volume is laid out and how its simulated network behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeConfig {
    /// Bytes per protection group (10 GiB by default; a multiple of `page_size`).
    pub segment_size: u64,
    /// Bytes per page (8 KiB by default).
    pub page_size: u64,
    /// The volume's size limit (128 TiB by default).
    pub max_size: u64,
    /// The three availability zones.
    pub availability_zones: [String; AZ_COUNT],
    /// Storage nodes in each zone (at least 2); protection groups are spread over them.
    pub nodes_per_az: u32,
    /// The zone of the instances the volume creates (index into `availability_zones`).
    pub instance_az: usize,
    /// One-way message latency between an instance and a node in its own zone.
    pub same_az_latency: Duration,
    /// One-way message latency across zones.
    pub cross_az_latency: Duration,
    /// One-way latency of the log stream from the writer to its readers.
    pub replica_latency: Duration,
    /// How long a writer waits for an acknowledgement before sending a record again.
    pub retransmit_interval: Duration,
    /// How often storage nodes of a protection group gossip to fill gaps.
    pub gossip_interval: Duration,
    /// Records a writer may have outstanding above the durable LSN (the LSN allocation limit).
    pub lsn_allocation_limit: u64,
    /// Single writer or multi-master.
    pub mode: WriterMode,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            segment_size: DEFAULT_SEGMENT_SIZE,
            page_size: DEFAULT_PAGE_SIZE,
            max_size: MAX_VOLUME_SIZE,
            availability_zones: [
                "us-east-1a".to_owned(),
                "us-east-1b".to_owned(),
                "us-east-1c".to_owned(),
            ],
            nodes_per_az: 2,
            instance_az: 0,
            same_az_latency: Duration::from_micros(500),
            cross_az_latency: Duration::from_millis(1),
            replica_latency: Duration::from_millis(10),
            retransmit_interval: Duration::from_millis(50),
            gossip_interval: Duration::from_millis(100),
            lsn_allocation_limit: DEFAULT_LSN_ALLOCATION_LIMIT,
            mode: WriterMode::SingleMaster,
        }
    }
}

impl VolumeConfig {
    /// A multi-master configuration with the other defaults.
    pub fn multi_master() -> Self {
        VolumeConfig {
            mode: WriterMode::MultiMaster,
            ..VolumeConfig::default()
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> VolumeResult<()> {
        let bad = |parameter: &'static str, reason: String| {
            Err(VolumeError::InvalidParameter { parameter, reason })
        };
        if self.page_size == 0 || !self.page_size.is_power_of_two() {
            return bad(
                "page_size",
                format!("{} is not a power of two", self.page_size),
            );
        }
        if self.segment_size < self.page_size || !self.segment_size.is_multiple_of(self.page_size) {
            return bad(
                "segment_size",
                format!(
                    "{} is not a positive multiple of the page size {}",
                    self.segment_size, self.page_size
                ),
            );
        }
        if self.max_size < self.segment_size || self.max_size > MAX_VOLUME_SIZE {
            return bad(
                "max_size",
                format!(
                    "{} must lie between the segment size and {MAX_VOLUME_SIZE}",
                    self.max_size
                ),
            );
        }
        if self.nodes_per_az < 2 {
            return bad(
                "nodes_per_az",
                format!(
                    "{} is below 2 (each zone holds two copies)",
                    self.nodes_per_az
                ),
            );
        }
        if self.instance_az >= AZ_COUNT {
            return bad(
                "instance_az",
                format!("{} is not 0, 1 or 2", self.instance_az),
            );
        }
        if self.lsn_allocation_limit == 0 {
            return bad("lsn_allocation_limit", "must be positive".to_owned());
        }
        if self.availability_zones.iter().any(String::is_empty) {
            return bad("availability_zones", "a zone name is empty".to_owned());
        }
        Ok(())
    }

    /// The protection group holding `page`, or `VolumeFull` past the size limit.
    pub fn segment_of(&self, page: PageId) -> VolumeResult<SegmentId> {
        let offset = page
            .checked_mul(self.page_size)
            .filter(|o| o.saturating_add(self.page_size) <= self.max_size);
        match offset {
            Some(o) => Ok(SegmentId(o / self.segment_size)),
            None => Err(VolumeError::VolumeFull {
                page,
                max_bytes: self.max_size,
            }),
        }
    }

    /// Every storage node of the fleet.
    pub fn node_count(&self) -> u32 {
        self.nodes_per_az * AZ_COUNT as u32
    }

    /// The zone of a node.
    pub fn az_of(&self, node: NodeId) -> usize {
        (node.0 / self.nodes_per_az) as usize
    }

    /// The six nodes of a protection group: two per zone, rotated so groups spread over the fleet.
    pub fn placement(&self, segment: SegmentId) -> [NodeId; COPIES] {
        let n = u64::from(self.nodes_per_az);
        let mut out = [NodeId(0); COPIES];
        for (az, pair) in out.chunks_mut(2).enumerate() {
            for (k, slot) in pair.iter_mut().enumerate() {
                let idx = (segment.0.wrapping_mul(2).wrapping_add(k as u64)) % n;
                *slot = NodeId(az as u32 * self.nodes_per_az + idx as u32);
            }
        }
        out
    }

    /// One-way latency from an instance in `instance_az` to `node`.
    pub fn latency_to(&self, instance_az: usize, node: NodeId) -> Duration {
        if self.az_of(node) == instance_az {
            self.same_az_latency
        } else {
            self.cross_az_latency
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_puts_two_distinct_copies_in_each_zone() {
        for nodes_per_az in [2, 3, 5] {
            let config = VolumeConfig {
                nodes_per_az,
                ..VolumeConfig::default()
            };
            for s in 0..20 {
                let p = config.placement(SegmentId(s));
                let mut sorted = p.to_vec();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), COPIES);
                for az in 0..AZ_COUNT {
                    assert_eq!(p.iter().filter(|n| config.az_of(**n) == az).count(), 2);
                }
            }
        }
    }

    #[test]
    fn pages_map_to_ten_gib_segments_and_the_limit_is_enforced() {
        let config = VolumeConfig::default();
        assert_eq!(config.segment_of(0), Ok(SegmentId(0)));
        let per_segment = DEFAULT_SEGMENT_SIZE / DEFAULT_PAGE_SIZE;
        assert_eq!(config.segment_of(per_segment - 1), Ok(SegmentId(0)));
        assert_eq!(config.segment_of(per_segment), Ok(SegmentId(1)));
        let last = MAX_VOLUME_SIZE / DEFAULT_PAGE_SIZE - 1;
        assert!(config.segment_of(last).is_ok());
        assert!(matches!(
            config.segment_of(last + 1),
            Err(VolumeError::VolumeFull { .. })
        ));
        assert!(matches!(
            config.segment_of(u64::MAX),
            Err(VolumeError::VolumeFull { .. })
        ));
    }

    #[test]
    fn bad_configurations_are_rejected() {
        let bad = [
            VolumeConfig {
                page_size: 1000,
                ..VolumeConfig::default()
            },
            VolumeConfig {
                segment_size: 8192 * 3 + 1,
                ..VolumeConfig::default()
            },
            VolumeConfig {
                nodes_per_az: 1,
                ..VolumeConfig::default()
            },
            VolumeConfig {
                instance_az: 3,
                ..VolumeConfig::default()
            },
            VolumeConfig {
                max_size: MAX_VOLUME_SIZE + 1,
                ..VolumeConfig::default()
            },
        ];
        for c in bad {
            assert!(
                matches!(c.validate(), Err(VolumeError::InvalidParameter { .. })),
                "{c:?}"
            );
        }
        assert_eq!(VolumeConfig::default().validate(), Ok(()));
    }
}
