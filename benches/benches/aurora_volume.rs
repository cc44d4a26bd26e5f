//! Aurora's storage volume, in process: six-way replicated writes, commit latency, crash recovery.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-volume cargo bench -p nubis-benches --bench aurora_volume`.
//! Criterion reports the CPU cost of the simulation (wall time); the figures the volume models on
//! its clock — commit latency and recovery time — are printed once as `clock:` lines, because
//! they are properties of the protocol (round trips to a quorum), not of this machine.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nubis_aurora::volume::{InstanceId, KvApply, PageWrite, Volume, VolumeConfig};
use nubis_core::{Env, ManualClock};

fn volume(config: VolumeConfig) -> (ManualClock, Volume<KvApply>, InstanceId) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let mut v = Volume::create(&env, config, KvApply).expect("volume");
    let w = v.open_writer().expect("writer").instance;
    (clock, v, w)
}

fn record(i: u64) -> PageWrite {
    PageWrite::new(
        i % 4096,
        KvApply::put(
            &i.to_be_bytes(),
            b"a value of a few dozen bytes, like a row",
        ),
    )
}

/// Writes `n` single-record commits in batches of `pipeline`, ticking 1 ms between batches,
/// then waits until every commit is acknowledged. Returns the commit latencies on the clock.
fn write_load(
    clock: &ManualClock,
    v: &mut Volume<KvApply>,
    w: InstanceId,
    n: u64,
    pipeline: u64,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(n as usize);
    let mut i = 0;
    while i < n {
        for _ in 0..pipeline.min(n - i) {
            v.submit(w, &[record(i)]).expect("submit");
            i += 1;
        }
        clock.advance(Duration::from_millis(1));
        v.tick();
        latencies.extend(
            v.take_commit_acks(w)
                .expect("acks")
                .iter()
                .map(|a| a.latency()),
        );
    }
    while v.pending_commits(w).map(|p| !p.is_empty()).unwrap_or(false) {
        clock.advance(Duration::from_millis(1));
        v.tick();
        latencies.extend(
            v.take_commit_acks(w)
                .expect("acks")
                .iter()
                .map(|a| a.latency()),
        );
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report_clock_figures() {
    for (label, pipeline, fail_az) in [
        ("idle, one commit at a time", 1, false),
        ("1000 commits per ms", 1000, false),
        ("one zone down", 1, true),
    ] {
        let (clock, mut v, w) = volume(VolumeConfig::default());
        if fail_az {
            v.fail_az(1).expect("az");
        }
        let mut l = write_load(&clock, &mut v, w, 5_000, pipeline);
        l.sort();
        println!(
            "clock: commit latency ({label}): p50 {:?} p99 {:?} over {} commits",
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            l.len()
        );
    }
    for records in [1_000u64, 100_000] {
        let (clock, mut v, w) = volume(VolumeConfig::default());
        write_load(&clock, &mut v, w, records, 1000);
        v.crash_instance(w).expect("crash");
        let report = v.open_writer().expect("recover");
        println!(
            "clock: recovery after {records} records: {:?} ({} records scanned, VDL {})",
            report.duration, report.records_scanned, report.vdl
        );
    }
}

fn bench(c: &mut Criterion) {
    report_clock_figures();
    let mut g = c.benchmark_group("aurora_volume");
    const N: u64 = 10_000;
    g.throughput(Throughput::Elements(N));
    g.bench_function("write_6way_10k_records_pipelined", |b| {
        b.iter_batched(
            || volume(VolumeConfig::default()),
            |(clock, mut v, w)| black_box(write_load(&clock, &mut v, w, N, 1000).len()),
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("commit_round_trip", |b| {
        let (clock, mut v, w) = volume(VolumeConfig::default());
        let mut i = 0;
        b.iter(|| {
            i += 1;
            v.submit(w, &[record(i)]).expect("submit");
            clock.advance(Duration::from_millis(2));
            v.tick();
            black_box(v.take_commit_acks(w).expect("acks").len())
        })
    });
    g.bench_function("crash_recovery_after_10k_records", |b| {
        b.iter_batched(
            || {
                let (clock, mut v, w) = volume(VolumeConfig::default());
                write_load(&clock, &mut v, w, N, 1000);
                v.crash_instance(w).expect("crash");
                v
            },
            |mut v| black_box(v.open_writer().expect("recover").vdl),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
