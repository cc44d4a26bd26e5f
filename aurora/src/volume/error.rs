//! The storage volume's error type.
//!
//! Every failure the volume reports is typed and carries the SQLSTATE a PostgreSQL client of
//! Aurora would see for it (through [`nubis_core::ServiceError::code`]), so the SQL engine can
//! pass it through unchanged. [`VolumeError::is_retryable`] tells a caller whether the same work
//! may succeed if tried again (a write conflict, a quorum that may come back, a writer that is
//! still recovering) or never will (bad configuration, a page past the volume's limit).

use std::time::Duration;

use super::record::{Lsn, PageId};
use super::topology::{InstanceId, NodeId, SegmentId};

/// Result alias for volume operations.
pub type VolumeResult<T> = std::result::Result<T, VolumeError>;

/// A failure of a storage-volume operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VolumeError {
    /// Fewer than four of a protection group's six copies are reachable: nothing was sent.
    #[error(
        "could not write to storage: protection group {segment} has {reachable} of 6 copies reachable and a write needs 4"
    )]
    WriteQuorumUnavailable {
        /// The protection group.
        segment: SegmentId,
        /// How many copies the writer can reach.
        reachable: usize,
    },
    /// Fewer than three copies are reachable and no reachable copy is up to date.
    #[error(
        "could not read from storage: protection group {segment} has {reachable} of 6 copies reachable and none is complete to LSN {needed}"
    )]
    ReadQuorumUnavailable {
        /// The protection group.
        segment: SegmentId,
        /// How many copies are reachable.
        reachable: usize,
        /// The segment LSN a copy must have reached.
        needed: Lsn,
    },
    /// Two writers changed the same page from the same page LSN; this one lost.
    #[error(
        "could not serialize access due to concurrent update: page {page} is at LSN {actual}, not {expected}"
    )]
    WriteConflict {
        /// The page.
        page: PageId,
        /// The page LSN the write was based on.
        expected: Lsn,
        /// The page's current LSN in storage.
        actual: Lsn,
    },
    /// A newer writer epoch has taken over the volume; this instance may no longer write.
    #[error(
        "terminating connection due to administrator command: instance {instance} was fenced by volume epoch {epoch}"
    )]
    WriterFenced {
        /// The fenced instance.
        instance: InstanceId,
        /// The epoch that fenced it.
        epoch: u64,
    },
    /// The instance is still running crash recovery.
    #[error("the database system is starting up: recovery completes in {remaining:?}")]
    Recovering {
        /// Time left on the volume's clock.
        remaining: Duration,
    },
    /// Too many records are outstanding above the volume durable LSN (the LSN allocation limit).
    #[error(
        "could not write to storage: {outstanding} records are outstanding above the durable LSN and the limit is {limit}"
    )]
    LsnAllocationLimit {
        /// Records issued but not yet durable, plus this request.
        outstanding: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The page lies beyond the volume's maximum size.
    #[error(
        "could not extend file: page {page} is beyond the maximum volume size of {max_bytes} bytes"
    )]
    VolumeFull {
        /// The page.
        page: PageId,
        /// The configured maximum size.
        max_bytes: u64,
    },
    /// The instance is not a writer of this volume (a reader, or a secondary region's volume).
    #[error("cannot execute {operation} in a read-only transaction")]
    ReadOnly {
        /// What was attempted.
        operation: &'static str,
    },
    /// The volume already has its writer and is not a multi-master volume.
    #[error("instance {existing} is already the writer of this single-master volume")]
    WriterExists {
        /// The live writer.
        existing: InstanceId,
    },
    /// No such instance on this volume, or it has crashed.
    #[error("instance {instance} is not attached to this volume")]
    UnknownInstance {
        /// The instance.
        instance: InstanceId,
    },
    /// No such storage node.
    #[error("storage node {node} does not exist")]
    UnknownNode {
        /// The node.
        node: NodeId,
    },
    /// No such availability zone index (0, 1 or 2).
    #[error("availability zone {az} does not exist; a volume spans zones 0, 1 and 2")]
    UnknownAvailabilityZone {
        /// The index given.
        az: usize,
    },
    /// The node is not in the state the operation needs.
    #[error("storage node {node} is {state}")]
    NodeState {
        /// The node.
        node: NodeId,
        /// Its state (`up`, `down`, `lost`).
        state: &'static str,
    },
    /// A secondary region error (unknown region, too many secondaries, duplicate).
    #[error("{message}")]
    GlobalDatabase {
        /// What went wrong.
        message: String,
    },
    /// The page-application code rejected a record.
    #[error("invalid page in block {page}: record at LSN {lsn} could not be applied: {reason}")]
    PageApply {
        /// The page.
        page: PageId,
        /// The record.
        lsn: Lsn,
        /// What the applier reported.
        reason: String,
    },
    /// An invalid [`super::VolumeConfig`] or argument.
    #[error("invalid value for parameter \"{parameter}\": {reason}")]
    InvalidParameter {
        /// The parameter.
        parameter: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}

impl VolumeError {
    /// The PostgreSQL SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            // io_error: the storage layer could not complete the request.
            VolumeError::WriteQuorumUnavailable { .. }
            | VolumeError::ReadQuorumUnavailable { .. }
            | VolumeError::NodeState { .. } => "58030",
            VolumeError::WriteConflict { .. } => "40001",
            VolumeError::WriterFenced { .. } => "57P01",
            VolumeError::Recovering { .. } => "57P03",
            VolumeError::LsnAllocationLimit { .. } => "53000",
            VolumeError::VolumeFull { .. } => "53100",
            VolumeError::ReadOnly { .. } => "25006",
            VolumeError::WriterExists { .. } => "55000",
            VolumeError::UnknownInstance { .. }
            | VolumeError::UnknownNode { .. }
            | VolumeError::UnknownAvailabilityZone { .. } => "42704",
            VolumeError::GlobalDatabase { .. } => "55000",
            VolumeError::PageApply { .. } => "XX001",
            VolumeError::InvalidParameter { .. } => "22023",
        }
    }

    /// Whether the same request may succeed if retried (after a heal, a backoff or a re-read).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            VolumeError::WriteQuorumUnavailable { .. }
                | VolumeError::ReadQuorumUnavailable { .. }
                | VolumeError::WriteConflict { .. }
                | VolumeError::Recovering { .. }
                | VolumeError::LsnAllocationLimit { .. }
        )
    }
}

impl nubis_core::ServiceError for VolumeError {
    fn code(&self) -> &str {
        self.sqlstate()
    }

    fn status(&self) -> u16 {
        match self {
            VolumeError::WriteQuorumUnavailable { .. }
            | VolumeError::ReadQuorumUnavailable { .. }
            | VolumeError::NodeState { .. }
            | VolumeError::Recovering { .. }
            | VolumeError::PageApply { .. } => 503,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubis_core::ServiceError;

    #[test]
    fn conflicts_are_retryable_serialization_failures() {
        let e = VolumeError::WriteConflict {
            page: 7,
            expected: 3,
            actual: 5,
        };
        assert_eq!(e.code(), "40001");
        assert!(e.is_retryable());
        assert!(
            e.to_string()
                .starts_with("could not serialize access due to concurrent update")
        );
        let e = VolumeError::VolumeFull {
            page: 1,
            max_bytes: 8192,
        };
        assert!(!e.is_retryable());
        assert_eq!(e.code(), "53100");
        assert_eq!(
            VolumeError::WriteQuorumUnavailable {
                segment: SegmentId(0),
                reachable: 3
            }
            .status(),
            503
        );
    }
}
