//! Aurora's shared storage volume: "the log is the database".
//!
//! A [`Volume`] is split into protection groups (10 GiB segments by default), each with six
//! copies on storage nodes in three availability zones, two per zone. Database instances send
//! storage nothing but redo records ([`RedoRecord`]): a write is durable once four copies
//! acknowledge it, the writer tracks the volume complete and durable LSNs (VCL, VDL) and
//! acknowledges a commit once the VDL reaches it. Storage nodes apply the log to pages in the
//! background through the engine's [`PageApply`], gossip to fill gaps, and can be lost and
//! rebuilt from their peers. Normal reads go to one copy known to be complete; read quorums
//! (three copies) are used only for repair and crash recovery, which needs no redo replay at the
//! instance. Readers follow the writer's log stream; secondary regions (Global Database) follow
//! the durable log with a configurable lag; several writers may share a volume with page-level
//! optimistic conflict detection (multi-master).
//!
//! Key design decision: the whole fleet is a plain value driven by the injected clock. Nothing
//! runs on a thread: [`Volume::tick`] delivers every message the clock says has arrived and runs
//! the background work, so a test (or the property test) can stop any node, cut any link or crash
//! any instance between any two steps and get the same result every run.
//!
//! ```
//! use std::time::Duration;
//! use nubis_core::{Env, ManualClock};
//! use nubis_aurora::volume::{KvApply, PageWrite, Volume, VolumeConfig};
//!
//! let clock = ManualClock::at_default_epoch();
//! let env = Env::with_clock(clock.shared());
//! let mut volume = Volume::create(&env, VolumeConfig::default(), KvApply).unwrap();
//! let writer = volume.open_writer().unwrap().instance;
//! let receipt = volume.submit(writer, &[PageWrite::new(7, KvApply::put(b"k", b"v"))]).unwrap();
//! assert!(!volume.is_durable(receipt.commit_lsn));
//! // Lose a whole availability zone: four copies remain, writes still reach a quorum.
//! volume.fail_az(2).unwrap();
//! volume.settle(Duration::from_millis(1), 100, |d| clock.advance(d));
//! assert!(volume.is_durable(receipt.commit_lsn));
//! let acks = volume.take_commit_acks(writer).unwrap();
//! assert_eq!(acks[0].lsn, receipt.commit_lsn);
//! let page = volume.read_page(writer, 7).unwrap();
//! assert_eq!(page.page.get(b"k".as_slice()).map(Vec::as_slice), Some(b"v".as_slice()));
//! ```

mod directory;
mod engine;
mod error;
mod global;
mod net;
mod node;
mod outbox;
mod record;
mod recovery;
mod replica;
mod topology;
mod writer;

pub use engine::{PageRead, Volume, VolumeStats};
pub use error::{VolumeError, VolumeResult};
pub use global::{MAX_SECONDARY_REGIONS, Promotion, RpoReport, SecondaryStatus};
pub use net::Endpoint;
pub use node::NodeStatus;
pub use record::{
    ApplyError, KvApply, KvOp, Lsn, PageApply, PageId, PageWrite, RedoRecord, Truncation,
};
pub use recovery::RecoveryReport;
pub use replica::ReaderStatus;
pub use topology::{
    AZ_COUNT, COPIES, DEFAULT_LSN_ALLOCATION_LIMIT, DEFAULT_PAGE_SIZE, DEFAULT_SEGMENT_SIZE,
    InstanceId, MAX_VOLUME_SIZE, NodeId, READ_QUORUM, SegmentId, VolumeConfig, WRITE_QUORUM,
    WriterMode,
};
pub use writer::{CommitAck, MtrReceipt};
