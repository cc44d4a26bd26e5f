//! The storage volume under faults: quorums, zone loss, partitions, node loss and rebuild,
//! crash recovery and fencing.

use std::time::Duration;

use nubis_aurora::volume::{
    Endpoint, InstanceId, KvApply, NodeId, NodeStatus, PageWrite, SegmentId, Volume, VolumeConfig,
    VolumeError,
};
use nubis_core::{Env, ManualClock};

struct Rig {
    clock: ManualClock,
    volume: Volume<KvApply>,
    writer: InstanceId,
}

fn rig(config: VolumeConfig) -> Rig {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let mut volume = Volume::create(&env, config, KvApply).unwrap();
    let writer = volume.open_writer().unwrap().instance;
    Rig {
        clock,
        volume,
        writer,
    }
}

/// Four pages per protection group, so tests can span groups.
fn small_segments() -> VolumeConfig {
    VolumeConfig {
        segment_size: 8192 * 4,
        ..VolumeConfig::default()
    }
}

impl Rig {
    fn put(&mut self, page: u64, key: &str, value: &str) -> Result<u64, VolumeError> {
        self.volume
            .submit(
                self.writer,
                &[PageWrite::new(
                    page,
                    KvApply::put(key.as_bytes(), value.as_bytes()),
                )],
            )
            .map(|r| r.commit_lsn)
    }

    fn step(&mut self, ms: u64) {
        for _ in 0..ms {
            self.clock.advance(Duration::from_millis(1));
            self.volume.tick();
        }
    }

    fn settle(&mut self) {
        let clock = self.clock.clone();
        self.volume
            .settle(Duration::from_millis(1), 2_000, |d| clock.advance(d));
    }

    fn get(&mut self, page: u64, key: &str) -> Option<String> {
        let read = self.volume.read_page(self.writer, page).unwrap();
        read.page
            .get(key.as_bytes())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

#[test]
fn a_write_is_durable_at_the_fourth_acknowledgement() {
    let mut r = rig(VolumeConfig::default());
    let lsn = r.put(1, "a", "1").unwrap();
    r.volume.tick();
    assert_eq!(r.volume.vdl(), 0);
    // Same-zone copies answer after 1 ms round trip, cross-zone ones after 2 ms: the fourth
    // acknowledgement is a cross-zone one.
    r.step(1);
    assert!(!r.volume.is_durable(lsn));
    r.step(1);
    assert!(r.volume.is_durable(lsn));
    let acks = r.volume.take_commit_acks(r.writer).unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].latency(), Duration::from_millis(2));
    assert_eq!(r.get(1, "a").as_deref(), Some("1"));
}

#[test]
fn losing_a_zone_keeps_reads_and_writes_and_zone_plus_one_keeps_reads_only() {
    let mut r = rig(VolumeConfig::default());
    let before = r.put(3, "k", "before").unwrap();
    r.settle();
    r.volume.fail_az(1).unwrap();
    let during = r.put(3, "k2", "az-down").unwrap();
    r.settle();
    assert!(r.volume.is_durable(during) && r.volume.is_durable(before));
    assert_eq!(r.get(3, "k2").as_deref(), Some("az-down"));
    // One more node: three copies left, a read quorum but no write quorum.
    r.volume.stop_node(NodeId(0)).unwrap();
    let err = r.put(3, "k3", "x").unwrap_err();
    assert_eq!(
        err,
        VolumeError::WriteQuorumUnavailable {
            segment: SegmentId(0),
            reachable: 3
        }
    );
    assert!(err.is_retryable());
    assert_eq!(r.get(3, "k").as_deref(), Some("before"));
    assert_eq!(r.get(3, "k2").as_deref(), Some("az-down"));
    assert_eq!(r.get(3, "k3"), None);
    // Heal: writes resume, nothing acknowledged was lost.
    r.volume.restore_az(1).unwrap();
    r.volume.start_node(NodeId(0)).unwrap();
    let after = r.put(3, "k3", "healed").unwrap();
    r.settle();
    assert!(r.volume.is_durable(after));
    assert_eq!(r.get(3, "k3").as_deref(), Some("healed"));
}

#[test]
fn a_read_with_no_complete_copy_repairs_through_a_read_quorum() {
    let mut r = rig(VolumeConfig::default());
    let w = Endpoint::Instance(r.writer);
    // r1 reaches copies 0-3, r2 copies 0,1,4,5 (a retransmission would fill gaps after 50 ms).
    r.volume.partition(w, Endpoint::Node(NodeId(4)));
    r.volume.partition(w, Endpoint::Node(NodeId(5)));
    r.put(0, "a", "1").unwrap();
    r.step(3);
    r.volume.heal_all();
    r.volume.partition(w, Endpoint::Node(NodeId(2)));
    r.volume.partition(w, Endpoint::Node(NodeId(3)));
    let lsn = r.put(1, "b", "2").unwrap();
    r.step(3);
    assert!(r.volume.is_durable(lsn));
    r.volume.heal_all();
    r.volume.stop_node(NodeId(0)).unwrap();
    r.volume.stop_node(NodeId(1)).unwrap();
    let read = r.volume.read_page(r.writer, 0).unwrap();
    assert!(read.repaired);
    assert_eq!(read.page.get(b"a".as_slice()), Some(&b"1".to_vec()));
    assert_eq!(r.get(1, "b").as_deref(), Some("2"));
    assert_eq!(r.volume.stats().repairs, 1);
}

#[test]
fn a_partition_between_writer_and_nodes_fails_writes_cleanly_and_heals() {
    let mut r = rig(VolumeConfig::default());
    let w = Endpoint::Instance(r.writer);
    for n in 0..3 {
        r.volume.partition(w, Endpoint::Node(NodeId(n)));
    }
    assert!(matches!(
        r.put(1, "a", "1"),
        Err(VolumeError::WriteQuorumUnavailable { reachable: 3, .. })
    ));
    assert_eq!(r.volume.stats().records_submitted, 0);
    r.volume.heal(w, Endpoint::Node(NodeId(0)));
    let lsn = r.put(1, "a", "1").unwrap();
    // Cut a second link while the record is in flight: it stays pending until the link heals.
    r.volume.partition(w, Endpoint::Node(NodeId(3)));
    r.step(20);
    assert!(!r.volume.is_durable(lsn));
    assert_eq!(r.volume.pending_commits(r.writer).unwrap(), vec![lsn]);
    r.volume.heal_all();
    r.step(60);
    assert!(r.volume.is_durable(lsn));
    assert!(r.volume.stats().retransmitted > 0);
}

#[test]
fn a_lost_node_is_rebuilt_from_its_peers() {
    let mut r = rig(small_segments());
    for i in 0..12 {
        r.put(i % 8, &format!("k{i}"), "v").unwrap();
    }
    r.settle();
    r.volume.lose_node(NodeId(2)).unwrap();
    assert_eq!(r.volume.node_status(NodeId(2)).unwrap(), NodeStatus::Lost);
    assert!(matches!(
        r.volume.start_node(NodeId(2)),
        Err(VolumeError::NodeState { .. })
    ));
    r.put(0, "during", "loss").unwrap();
    r.settle();
    r.volume.rebuild_node(NodeId(2)).unwrap();
    r.settle();
    for seg in r.volume.segments() {
        let scls = r.volume.segment_complete_lsns(seg);
        assert!(
            scls.iter().all(|(_, scl)| *scl == scls[0].1),
            "{seg:?}: {scls:?}"
        );
    }
    // Lose the rest of the zone and one more: the rebuilt node serves the reads.
    r.volume.lose_node(NodeId(3)).unwrap();
    r.volume.stop_node(NodeId(0)).unwrap();
    r.volume.stop_node(NodeId(4)).unwrap();
    assert_eq!(r.get(0, "during").as_deref(), Some("loss"));
    // A rebuild needs three reachable peers per group.
    r.volume.stop_node(NodeId(5)).unwrap();
    assert!(matches!(
        r.volume.rebuild_node(NodeId(3)),
        Err(VolumeError::ReadQuorumUnavailable { .. })
    ));
}

#[test]
fn a_stopped_node_catches_up_by_gossip() {
    let mut r = rig(VolumeConfig::default());
    r.volume.stop_node(NodeId(5)).unwrap();
    for i in 0..5 {
        r.put(2, &format!("k{i}"), "v").unwrap();
    }
    r.settle();
    r.volume.start_node(NodeId(5)).unwrap();
    r.step(150);
    let scls = r.volume.segment_complete_lsns(SegmentId(0));
    assert!(scls.iter().all(|(_, scl)| *scl == 5), "{scls:?}");
}

#[test]
fn crash_recovery_keeps_acknowledged_commits_and_truncates_torn_mini_transactions() {
    // Four nodes per zone, so the two protection groups live on different nodes.
    let mut r = rig(VolumeConfig {
        nodes_per_az: 4,
        ..small_segments()
    });
    let acked = r.put(0, "a", "acked").unwrap();
    r.settle();
    assert!(r.volume.is_durable(acked));
    // A mini-transaction over two protection groups whose second half never reaches a quorum.
    let w = Endpoint::Instance(r.writer);
    let placement1 = r.volume.segment_complete_lsns(SegmentId(1)).map(|(n, _)| n);
    let torn = r
        .volume
        .submit(
            r.writer,
            &[
                PageWrite::new(1, KvApply::put(b"t", b"first-half")),
                PageWrite::new(5, KvApply::put(b"t", b"second-half")),
            ],
        )
        .unwrap();
    // The second half is lost in flight to every copy.
    for n in &placement1 {
        r.volume.partition(w, Endpoint::Node(*n));
    }
    r.step(5);
    assert!(!r.volume.is_durable(torn.commit_lsn));
    assert_eq!(
        r.volume.vcl(),
        torn.first_lsn,
        "the first half is complete, the MTR is not"
    );
    r.volume.crash_instance(r.writer).unwrap();
    r.volume.heal_all();
    let report = r.volume.open_writer().unwrap();
    assert_eq!(report.vdl, acked);
    assert_eq!(report.vcl, torn.first_lsn);
    assert_eq!(report.records_truncated, 1);
    assert!(!report.joined);
    // No redo replay: recovery is three storage round trips however long the log is.
    assert_eq!(report.duration, Duration::from_millis(6));
    r.writer = report.instance;
    assert!(matches!(
        r.put(0, "x", "y"),
        Err(VolumeError::Recovering { .. })
    ));
    r.step(6);
    assert_eq!(r.get(0, "a").as_deref(), Some("acked"));
    assert_eq!(r.get(1, "t"), None);
    assert_eq!(r.get(5, "t"), None);
    // The truncated LSNs are reused by the new epoch and old records never come back.
    let next = r
        .volume
        .submit(r.writer, &[PageWrite::new(5, KvApply::put(b"n", b"new"))])
        .unwrap();
    assert_eq!(next.first_lsn, torn.first_lsn);
    r.settle();
    r.step(200);
    assert_eq!(r.get(5, "n").as_deref(), Some("new"));
    assert_eq!(r.get(5, "t"), None);
    assert_eq!(r.get(1, "t"), None);
}

#[test]
fn a_record_on_a_copy_that_was_down_during_recovery_never_reappears() {
    let mut r = rig(VolumeConfig::default());
    r.put(0, "a", "1").unwrap();
    r.settle();
    let ghost = r.put(0, "ghost", "boo").unwrap();
    let w = Endpoint::Instance(r.writer);
    for n in 1..6 {
        r.volume.partition(w, Endpoint::Node(NodeId(n)));
    }
    r.step(2);
    r.volume.crash_instance(r.writer).unwrap();
    r.volume.heal_all();
    r.volume.stop_node(NodeId(0)).unwrap();
    let report = r.volume.open_writer().unwrap();
    assert!(report.vdl < ghost);
    r.writer = report.instance;
    r.step(10);
    r.put(0, "b", "2").unwrap();
    r.settle();
    r.volume.start_node(NodeId(0)).unwrap();
    r.step(300);
    for n in 1..6 {
        r.volume.stop_node(NodeId(n)).unwrap();
    }
    // Node 0 alone (it learned the truncation) serves the page without the ghost... once it has
    // caught up; a single copy is not a read quorum, so check its log through a normal read.
    for n in 1..3 {
        r.volume.start_node(NodeId(n)).unwrap();
    }
    assert_eq!(r.get(0, "ghost"), None);
    assert_eq!(r.get(0, "b").as_deref(), Some("2"));
    let scls = r.volume.segment_complete_lsns(SegmentId(0));
    assert_eq!(scls[0].1, scls[1].1);
}

#[test]
fn a_new_writer_fences_the_old_one_through_storage() {
    let mut r = rig(VolumeConfig::default());
    r.put(0, "a", "1").unwrap();
    r.settle();
    let old = r.writer;
    assert_eq!(r.volume.take_commit_acks(old).unwrap().len(), 1);
    assert!(matches!(
        r.volume.open_writer(),
        Err(VolumeError::WriterExists { .. })
    ));
    let report = r.volume.force_open_writer().unwrap();
    let new = report.instance;
    r.step(10);
    // The old writer does not know yet; its write goes out and storage refuses it.
    let zombie = r
        .volume
        .submit(old, &[PageWrite::new(0, KvApply::put(b"z", b"zombie"))])
        .unwrap();
    r.step(10);
    assert!(matches!(
        r.volume
            .submit(old, &[PageWrite::new(0, KvApply::put(b"z", b"again"))]),
        Err(VolumeError::WriterFenced { .. })
    ));
    assert!(r.volume.take_commit_acks(old).unwrap().is_empty());
    r.writer = new;
    let lsn = r.put(0, "b", "2").unwrap();
    r.settle();
    assert!(r.volume.is_durable(lsn));
    assert_eq!(r.get(0, "z"), None);
    assert_eq!(r.get(0, "b").as_deref(), Some("2"));
    assert_eq!(zombie.epoch, 1);
    assert_eq!(r.volume.epoch(), 2);
}

#[test]
fn bad_requests_get_typed_errors() {
    let mut r = rig(VolumeConfig::default());
    let far = nubis_aurora::volume::MAX_VOLUME_SIZE / 8192;
    assert!(matches!(
        r.put(far, "k", "v"),
        Err(VolumeError::VolumeFull { .. })
    ));
    assert!(matches!(
        r.volume.submit(r.writer, &[]),
        Err(VolumeError::InvalidParameter { .. })
    ));
    let reader = r.volume.add_reader();
    assert!(matches!(
        r.volume
            .submit(reader, &[PageWrite::new(1, KvApply::put(b"k", b"v"))]),
        Err(VolumeError::ReadOnly { .. })
    ));
    assert!(matches!(
        r.volume.read_page(InstanceId(99), 1),
        Err(VolumeError::UnknownInstance { .. })
    ));
    assert!(matches!(
        r.volume.stop_node(NodeId(99)),
        Err(VolumeError::UnknownNode { .. })
    ));
    assert!(matches!(
        r.volume.fail_az(3),
        Err(VolumeError::UnknownAvailabilityZone { az: 3 })
    ));
    let env = Env::with_clock(r.clock.shared());
    assert!(matches!(
        Volume::create(
            &env,
            VolumeConfig {
                nodes_per_az: 1,
                ..VolumeConfig::default()
            },
            KvApply
        ),
        Err(VolumeError::InvalidParameter {
            parameter: "nodes_per_az",
            ..
        })
    ));
    let mut tight = rig(VolumeConfig {
        lsn_allocation_limit: 2,
        ..VolumeConfig::default()
    });
    tight.put(1, "a", "1").unwrap();
    tight.put(1, "b", "2").unwrap();
    assert!(matches!(
        tight.put(1, "c", "3"),
        Err(VolumeError::LsnAllocationLimit {
            outstanding: 3,
            limit: 2
        })
    ));
    tight.settle();
    assert!(tight.put(1, "c", "3").is_ok());
    // A payload the applier rejects poisons that page only.
    tight
        .volume
        .submit(
            tight.writer,
            &[PageWrite::new(9, bytes::Bytes::from_static(b"garbage"))],
        )
        .unwrap();
    tight.settle();
    assert!(matches!(
        tight.volume.read_page(tight.writer, 9),
        Err(VolumeError::PageApply { page: 9, .. })
    ));
    assert_eq!(tight.get(1, "c").as_deref(), Some("3"));
}

#[test]
fn nodes_apply_in_the_background_and_drop_applied_log() {
    let mut r = rig(VolumeConfig::default());
    for i in 0..50 {
        r.put(i % 5, &format!("k{i}"), "v").unwrap();
    }
    r.settle();
    r.step(5);
    assert_eq!(r.volume.applied_records(), 50 * 6);
    for i in 0..50 {
        assert_eq!(r.get(i % 5, &format!("k{i}")).as_deref(), Some("v"));
    }
}
