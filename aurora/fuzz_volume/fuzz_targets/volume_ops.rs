//! Random operations and faults against a storage volume: every acknowledged commit survives
//! crash recovery and nothing that was refused or truncated ever becomes visible.
//!
//! Each input byte picks an operation; the following byte (if any) is its argument.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nubis_aurora::volume::{Endpoint, InstanceId, KvApply, NodeId, NodeStatus, PageWrite, Volume, VolumeConfig};
use nubis_core::{Env, ManualClock};

const PAGES: u64 = 8;

#[derive(PartialEq, Clone, Copy, Debug)]
enum Status {
    InFlight,
    Acked,
    Dead,
}

struct Txn {
    epoch: u64,
    commit: u64,
    page: u64,
    status: Status,
}

fuzz_target!(|data: &[u8]| {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let config = VolumeConfig { segment_size: 8192 * 2, ..VolumeConfig::default() };
    let Ok(mut v) = Volume::create(&env, config, KvApply) else { return };
    let mut writer: Option<InstanceId> = v.open_writer().ok().map(|r| r.instance);
    let mut txns: Vec<Txn> = Vec::new();
    let mut index: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    let nodes = v.config().node_count();

    let resolve = |v: &mut Volume<KvApply>, txns: &mut Vec<Txn>| -> Option<InstanceId> {
        let report = v.open_writer().ok()?;
        for t in txns.iter_mut() {
            if t.epoch < report.epoch && t.status != Status::Dead {
                if t.commit <= report.vdl {
                    t.status = Status::Acked;
                } else {
                    assert!(t.status != Status::Acked, "acknowledged commit {} lost", t.commit);
                    t.status = Status::Dead;
                }
            }
        }
        clock.advance(report.duration);
        Some(report.instance)
    };

    let mut bytes = data.iter().copied();
    while let Some(b) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        match b % 10 {
            0 | 1 => {
                if writer.is_none() {
                    writer = resolve(&mut v, &mut txns);
                }
                if let Some(w) = writer {
                    let page = u64::from(arg) % PAGES;
                    let id = txns.len();
                    let put = PageWrite::new(page, KvApply::put(format!("t{id}").as_bytes(), b"x"));
                    if let Ok(r) = v.submit(w, &[put]) {
                        index.insert((r.epoch, r.commit_lsn), id);
                        txns.push(Txn { epoch: r.epoch, commit: r.commit_lsn, page, status: Status::InFlight });
                    }
                }
            }
            2 | 3 => {
                clock.advance(Duration::from_millis(u64::from(arg % 8)));
                v.tick();
            }
            4 => {
                let _ = v.stop_node(NodeId(u32::from(arg) % nodes));
            }
            5 => {
                let _ = v.start_node(NodeId(u32::from(arg) % nodes));
            }
            6 => {
                let lost = (0..nodes).filter(|n| v.node_status(NodeId(*n)) == Ok(NodeStatus::Lost)).count();
                let n = NodeId(u32::from(arg) % nodes);
                if lost < 2 {
                    let _ = v.lose_node(n);
                } else {
                    let _ = v.rebuild_node(n);
                }
            }
            7 => {
                if let Some(w) = writer {
                    v.partition(Endpoint::Instance(w), Endpoint::Node(NodeId(u32::from(arg) % nodes)));
                }
            }
            8 => v.heal_all(),
            _ => {
                if let Some(w) = writer.take() {
                    let _ = v.crash_instance(w);
                }
            }
        }
        if let Some(w) = writer
            && let Ok(acks) = v.take_commit_acks(w)
        {
            for a in acks {
                let i = index.get(&(a.epoch, a.lsn)).copied();
                assert!(i.is_some(), "unknown commit acknowledged");
                if let Some(i) = i {
                    txns[i].status = Status::Acked;
                }
            }
        }
    }

    // Heal everything, then every acknowledged commit must be there and nothing else.
    v.heal_all();
    for n in 0..nodes {
        let _ = v.start_node(NodeId(n));
    }
    for n in 0..nodes {
        if v.node_status(NodeId(n)) == Ok(NodeStatus::Lost) {
            assert!(v.rebuild_node(NodeId(n)).is_ok());
        }
    }
    if writer.is_none() {
        writer = resolve(&mut v, &mut txns);
    }
    let Some(w) = writer else { panic!("recovery failed with every node up") };
    for _ in 0..300 {
        clock.advance(Duration::from_millis(1));
        v.tick();
    }
    for a in v.take_commit_acks(w).unwrap_or_default() {
        if let Some(i) = index.get(&(a.epoch, a.lsn)) {
            txns[*i].status = Status::Acked;
        }
    }
    for page in 0..PAGES {
        let read = v.read_page(w, page).expect("read after heal");
        let actual: BTreeSet<String> = read.page.keys().map(|k| String::from_utf8_lossy(k).into_owned()).collect();
        let expected: BTreeSet<String> = txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.page == page && t.status == Status::Acked)
            .map(|(i, _)| format!("t{i}"))
            .collect();
        assert_eq!(actual, expected, "page {page}");
    }
});
