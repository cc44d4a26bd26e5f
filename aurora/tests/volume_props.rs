//! Property test: random workloads under random faults never lose an acknowledged commit and
//! never show anything that was not committed.
//!
//! The model tracks every mini-transaction the writer submitted: acknowledged, in flight, or
//! resolved by a crash recovery (survived when the recovered VDL covers its commit LSN, dead
//! otherwise). After every read the page must hold exactly the writes of the transactions the
//! model says are visible at the writer's VDL; an acknowledged transaction that a recovery drops,
//! or a write that appears without its transaction being visible (a torn or refused one), fails
//! the test. Faults: node stop/start, node loss (at most two copies destroyed at once, Aurora's
//! tolerance) and rebuild, zone failure, writer–node partitions, writer crashes at any point.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nubis_aurora::volume::{
    Endpoint, InstanceId, KvApply, NodeId, NodeStatus, PageWrite, Volume, VolumeConfig, VolumeError,
};
use nubis_core::{Env, ManualClock};
use proptest::prelude::*;

const PAGES: u64 = 12;

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u64>),
    Advance(u64),
    Stop(u32),
    Start(u32),
    Lose(u32),
    Rebuild(u32),
    FailAz(usize),
    RestoreAz(usize),
    Cut(u32),
    HealAll,
    Crash,
    /// A write whose records reach only the `keep` nodes, then a writer crash; with the flag the
    /// nodes that got them stop (so recovery cannot see them).
    TornCrash(Vec<u64>, Vec<u32>, bool),
    Read(u64),
}

fn op(nodes: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec(0..PAGES, 1..4).prop_map(Op::Write),
        6 => (0u64..6).prop_map(Op::Advance),
        2 => (0..nodes).prop_map(Op::Stop),
        1 => (0..nodes).prop_map(Op::Start),
        1 => (0..nodes).prop_map(Op::Lose),
        1 => (0..nodes).prop_map(Op::Rebuild),
        1 => (0usize..3).prop_map(Op::FailAz),
        1 => (0usize..3).prop_map(Op::RestoreAz),
        1 => (0..nodes).prop_map(Op::Cut),
        1 => Just(Op::HealAll),
        1 => Just(Op::Crash),
        2 => (proptest::collection::vec(0..PAGES, 1..4), proptest::collection::vec(0..nodes, 0..4), any::<bool>())
            .prop_map(|(p, k, s)| Op::TornCrash(p, k, s)),
        3 => (0..PAGES).prop_map(Op::Read),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight,
    Acked,
    Survived,
    Dead,
}

#[derive(Debug)]
struct Txn {
    epoch: u64,
    commit_lsn: u64,
    pages: Vec<u64>,
    status: Status,
}

struct Harness {
    clock: ManualClock,
    volume: Volume<KvApply>,
    writer: Option<InstanceId>,
    txns: Vec<Txn>,
    by_commit: BTreeMap<(u64, u64), usize>,
}

impl Harness {
    fn new(nodes_per_az: u32) -> Self {
        let clock = ManualClock::at_default_epoch();
        let env = Env::with_clock(clock.shared());
        let config = VolumeConfig {
            segment_size: 8192 * 4,
            nodes_per_az,
            ..VolumeConfig::default()
        };
        let mut volume = Volume::create(&env, config, KvApply).unwrap();
        let writer = Some(volume.open_writer().unwrap().instance);
        Harness {
            clock,
            volume,
            writer,
            txns: Vec::new(),
            by_commit: BTreeMap::new(),
        }
    }

    fn tick(&mut self, ms: u64) -> Result<(), TestCaseError> {
        self.clock.advance(Duration::from_millis(ms));
        self.volume.tick();
        self.drain_acks()
    }

    fn drain_acks(&mut self) -> Result<(), TestCaseError> {
        let Some(w) = self.writer else { return Ok(()) };
        for ack in self.volume.take_commit_acks(w).unwrap() {
            let idx = self.by_commit.get(&(ack.epoch, ack.lsn)).copied();
            prop_assert!(idx.is_some(), "acknowledged an unknown commit {ack:?}");
            if let Some(i) = idx {
                prop_assert_eq!(self.txns[i].status, Status::InFlight);
                self.txns[i].status = Status::Acked;
            }
        }
        Ok(())
    }

    fn recover(&mut self) -> Result<bool, TestCaseError> {
        match self.volume.open_writer() {
            Ok(report) => {
                if std::env::var_os("VOLUME_PROP_STATS").is_some() {
                    eprintln!(
                        "recovery: vdl {} truncated {} scanned {}",
                        report.vdl, report.records_truncated, report.records_scanned
                    );
                }
                // Resolve every transaction of the epochs that crashed.
                for t in &mut self.txns {
                    if t.epoch < report.epoch
                        && matches!(t.status, Status::InFlight | Status::Acked)
                    {
                        if t.commit_lsn <= report.vdl {
                            if t.status == Status::InFlight {
                                t.status = Status::Survived;
                            }
                        } else {
                            prop_assert!(
                                t.status != Status::Acked,
                                "acknowledged commit {} (epoch {}) lost: recovered VDL {}",
                                t.commit_lsn,
                                t.epoch,
                                report.vdl
                            );
                            t.status = Status::Dead;
                        }
                    }
                }
                self.writer = Some(report.instance);
                // Wait out the recovery's storage round trips.
                self.clock.advance(report.duration);
                self.volume.tick();
                Ok(true)
            }
            Err(VolumeError::WriteQuorumUnavailable { .. }) => Ok(false),
            Err(e) => Err(TestCaseError::fail(format!("recovery failed: {e}"))),
        }
    }

    fn write(&mut self, pages: &[u64]) -> Result<(), TestCaseError> {
        if self.writer.is_none() && !self.recover()? {
            return Ok(());
        }
        let Some(w) = self.writer else { return Ok(()) };
        let id = self.txns.len();
        let writes: Vec<PageWrite> = pages
            .iter()
            .map(|p| PageWrite::new(*p, KvApply::put(format!("t{id}").as_bytes(), b"x")))
            .collect();
        match self.volume.submit(w, &writes) {
            Ok(receipt) => {
                self.by_commit
                    .insert((receipt.epoch, receipt.commit_lsn), id);
                self.txns.push(Txn {
                    epoch: receipt.epoch,
                    commit_lsn: receipt.commit_lsn,
                    pages: pages.to_vec(),
                    status: Status::InFlight,
                });
                Ok(())
            }
            Err(VolumeError::WriteQuorumUnavailable { .. })
            | Err(VolumeError::LsnAllocationLimit { .. })
            | Err(VolumeError::Recovering { .. }) => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("unexpected write error: {e}"))),
        }
    }

    /// The transactions whose writes the writer must see at its VDL.
    fn visible(&self) -> BTreeSet<usize> {
        let epoch = self.volume.epoch();
        let vdl = self.volume.vdl();
        self.txns
            .iter()
            .enumerate()
            .filter(|(_, t)| match t.status {
                Status::Survived => true,
                Status::Dead => false,
                Status::Acked | Status::InFlight => t.epoch < epoch || t.commit_lsn <= vdl,
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn check_page(&mut self, page: u64, must_succeed: bool) -> Result<(), TestCaseError> {
        let Some(w) = self.writer else { return Ok(()) };
        match self.volume.read_page(w, page) {
            Ok(read) => {
                let expected: BTreeSet<String> = self
                    .visible()
                    .into_iter()
                    .filter(|i| self.txns[*i].pages.contains(&page))
                    .map(|i| format!("t{i}"))
                    .collect();
                let actual: BTreeSet<String> = read
                    .page
                    .keys()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect();
                prop_assert_eq!(
                    actual,
                    expected,
                    "page {} at VDL {}",
                    page,
                    self.volume.vdl()
                );
                Ok(())
            }
            Err(VolumeError::ReadQuorumUnavailable { .. })
            | Err(VolumeError::Recovering { .. })
                if !must_succeed =>
            {
                Ok(())
            }
            Err(VolumeError::WriterFenced { .. }) => {
                Err(TestCaseError::fail("single writer fenced"))
            }
            Err(e) => Err(TestCaseError::fail(format!(
                "read of page {page} failed: {e}"
            ))),
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let v = &mut self.volume;
        match op {
            Op::Write(pages) => self.write(pages)?,
            Op::Advance(ms) => self.tick(*ms)?,
            Op::Stop(n) => v.stop_node(NodeId(*n)).unwrap(),
            Op::Start(n) => {
                let _ = v.start_node(NodeId(*n));
            }
            Op::Lose(n) => {
                let nodes = v.config().node_count();
                let lost = (0..nodes)
                    .filter(|i| v.node_status(NodeId(*i)) == Ok(NodeStatus::Lost))
                    .count();
                // Aurora tolerates losing two copies' disks at once; more is a double fault.
                if lost < 2 {
                    v.lose_node(NodeId(*n)).unwrap();
                }
            }
            Op::Rebuild(n) => match v.rebuild_node(NodeId(*n)) {
                Ok(_)
                | Err(VolumeError::NodeState { .. })
                | Err(VolumeError::ReadQuorumUnavailable { .. }) => {}
                Err(e) => return Err(TestCaseError::fail(format!("rebuild: {e}"))),
            },
            Op::FailAz(az) => v.fail_az(*az).unwrap(),
            Op::RestoreAz(az) => v.restore_az(*az).unwrap(),
            Op::Cut(n) => {
                if let Some(w) = self.writer {
                    v.partition(Endpoint::Instance(w), Endpoint::Node(NodeId(*n)));
                }
            }
            Op::HealAll => v.heal_all(),
            Op::Crash => {
                if let Some(w) = self.writer.take() {
                    v.crash_instance(w).unwrap();
                }
            }
            Op::TornCrash(pages, keep, stop_kept) => {
                self.write(pages)?;
                if let Some(w) = self.writer.take() {
                    for n in 0..self.volume.config().node_count() {
                        if !keep.contains(&n) {
                            self.volume
                                .partition(Endpoint::Instance(w), Endpoint::Node(NodeId(n)));
                        }
                    }
                    self.clock.advance(Duration::from_millis(3));
                    self.volume.tick();
                    self.writer = Some(w);
                    self.drain_acks()?;
                    self.volume.crash_instance(w).unwrap();
                    self.writer = None;
                    if *stop_kept {
                        for n in keep {
                            self.volume.stop_node(NodeId(*n)).unwrap();
                        }
                    }
                }
            }
            Op::Read(page) => self.check_page(*page, false)?,
        }
        Ok(())
    }

    fn heal_and_verify(&mut self) -> Result<(), TestCaseError> {
        let v = &mut self.volume;
        v.heal_all();
        let nodes = v.config().node_count();
        for n in 0..nodes {
            let _ = v.start_node(NodeId(n));
        }
        for n in 0..nodes {
            if v.node_status(NodeId(n)) == Ok(NodeStatus::Lost) {
                v.rebuild_node(NodeId(n))
                    .map_err(|e| TestCaseError::fail(format!("rebuild: {e}")))?;
            }
        }
        if self.writer.is_none() {
            prop_assert!(self.recover()?, "recovery with every node up");
        }
        for _ in 0..400 {
            self.tick(1)?;
        }
        let w = self.writer.unwrap_or(InstanceId(0));
        prop_assert!(
            self.volume.pending_commits(w).unwrap().is_empty(),
            "commits still pending after heal"
        );
        for t in &self.txns {
            prop_assert!(t.status != Status::InFlight, "unresolved transaction {t:?}");
        }
        for page in 0..PAGES {
            self.check_page(page, true)?;
        }
        // Every copy of every protection group converged.
        for seg in self.volume.segments() {
            let scls = self.volume.segment_complete_lsns(seg);
            prop_assert!(
                scls.iter().all(|(_, s)| *s == scls[0].1),
                "copies diverge: {:?}",
                scls
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn acknowledged_commits_survive_random_faults(
        nodes_per_az in 2u32..4,
        ops in proptest::collection::vec(op(9), 1..80),
    ) {
        let mut h = Harness::new(nodes_per_az);
        let nodes = h.volume.config().node_count();
        for op in &ops {
            let op = match op {
                Op::Stop(n) => Op::Stop(n % nodes),
                Op::Start(n) => Op::Start(n % nodes),
                Op::Lose(n) => Op::Lose(n % nodes),
                Op::Rebuild(n) => Op::Rebuild(n % nodes),
                Op::Cut(n) => Op::Cut(n % nodes),
                Op::TornCrash(p, k, s) => Op::TornCrash(p.clone(), k.iter().map(|n| n % nodes).collect(), *s),
                other => other.clone(),
            };
            h.apply(&op)?;
        }
        h.heal_and_verify()?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Two writers on a multi-master volume: a write conflicts exactly when another write to the
    /// same page landed after the page was read, disjoint pages never conflict, and every write
    /// that was accepted is in the final pages.
    #[test]
    fn multi_master_conflicts_exactly_on_stale_pages(
        ops in proptest::collection::vec((any::<bool>(), 0u64..4, 0u64..4, any::<bool>()), 1..40),
    ) {
        let clock = ManualClock::at_default_epoch();
        let env = Env::with_clock(clock.shared());
        let mut v = Volume::create(&env, VolumeConfig::multi_master(), KvApply).unwrap();
        let writers = [v.open_writer().unwrap().instance, v.open_writer().unwrap().instance];
        let mut accepted: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        let settle = |v: &mut Volume<KvApply>| {
            for _ in 0..3 {
                clock.advance(Duration::from_millis(1));
                v.tick();
            }
        };
        for (n, (first, page, other_page, interleave)) in ops.into_iter().enumerate() {
            let (me, other) = if first { (writers[0], writers[1]) } else { (writers[1], writers[0]) };
            let base = v.read_page(me, page).unwrap().lsn;
            let other_base = v.read_page(other, other_page).unwrap().lsn;
            let key = format!("w{n}");
            if interleave {
                // The other writer commits first, on its own page.
                let okey = format!("o{n}");
                let w = PageWrite::new(other_page, KvApply::put(okey.as_bytes(), b"x")).based_on(other_base);
                v.submit(other, &[w]).unwrap();
                accepted.entry(other_page).or_default().insert(okey);
            }
            let w = PageWrite::new(page, KvApply::put(key.as_bytes(), b"x")).based_on(base);
            let result = v.submit(me, &[w]);
            if interleave && other_page == page {
                let conflicted = matches!(result, Err(VolumeError::WriteConflict { .. }));
                prop_assert!(conflicted, "stale write accepted: {:?}", result);
            } else {
                prop_assert!(result.is_ok(), "fresh write refused: {:?}", result);
                accepted.entry(page).or_default().insert(key);
            }
            settle(&mut v);
        }
        for page in 0..4 {
            let keys: BTreeSet<String> = v
                .read_page(writers[0], page)
                .unwrap()
                .page
                .keys()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect();
            prop_assert_eq!(&keys, &accepted.get(&page).cloned().unwrap_or_default());
        }
    }
}
