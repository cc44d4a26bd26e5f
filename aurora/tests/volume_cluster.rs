//! Instances sharing the volume: readers on the log stream, multi-master writers, and Global
//! Database secondary regions.

use std::time::Duration;

use nubis_aurora::volume::{
    Endpoint, InstanceId, KvApply, MAX_SECONDARY_REGIONS, PageWrite, Volume, VolumeConfig,
    VolumeError,
};
use nubis_core::{Env, ManualClock, Region};

fn volume(config: VolumeConfig) -> (ManualClock, Volume<KvApply>) {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    (
        clock.clone(),
        Volume::create(&env, config, KvApply).unwrap(),
    )
}

fn step(clock: &ManualClock, v: &mut Volume<KvApply>, ms: u64) {
    for _ in 0..ms {
        clock.advance(Duration::from_millis(1));
        v.tick();
    }
}

fn put(v: &mut Volume<KvApply>, w: InstanceId, page: u64, k: &str, val: &str) -> u64 {
    v.submit(
        w,
        &[PageWrite::new(
            page,
            KvApply::put(k.as_bytes(), val.as_bytes()),
        )],
    )
    .unwrap()
    .commit_lsn
}

fn get(v: &mut Volume<KvApply>, i: InstanceId, page: u64, k: &str) -> Option<String> {
    v.read_page(i, page)
        .unwrap()
        .page
        .get(k.as_bytes())
        .map(|x| String::from_utf8_lossy(x).into_owned())
}

#[test]
fn readers_follow_the_log_stream_with_measurable_lag() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    put(&mut v, w, 1, "a", "1");
    step(&clock, &mut v, 5);
    let reader = v.add_reader();
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("1"));
    assert_eq!(v.reader_status(reader).unwrap().cached_pages, 1);
    // The writer moves on; the reader sees it only after the stream (10 ms) brings the VDL.
    let lsn = put(&mut v, w, 1, "a", "2");
    step(&clock, &mut v, 3);
    assert!(v.is_durable(lsn));
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("1"));
    let status = v.reader_status(reader).unwrap();
    assert!(status.read_point < lsn);
    assert_eq!(status.lag, Duration::from_millis(1));
    step(&clock, &mut v, 12);
    let status = v.reader_status(reader).unwrap();
    assert_eq!(status.read_point, lsn);
    assert_eq!(status.lag, Duration::ZERO);
    assert!(status.applied >= 1);
    // Served from the cache, with the change applied from the stream.
    let read = v.read_page(reader, 1).unwrap();
    assert_eq!(read.served_by, None);
    assert_eq!(read.page.get(b"a".as_slice()), Some(&b"2".to_vec()));
}

#[test]
fn a_reader_that_loses_the_stream_drops_its_cache_and_resumes() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    put(&mut v, w, 1, "a", "1");
    step(&clock, &mut v, 5);
    let reader = v.add_reader();
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("1"));
    v.partition(Endpoint::Instance(w), Endpoint::Instance(reader));
    put(&mut v, w, 1, "a", "2");
    step(&clock, &mut v, 20);
    v.heal_all();
    put(&mut v, w, 2, "b", "x");
    step(&clock, &mut v, 30);
    assert_eq!(v.reader_status(reader).unwrap().resyncs, 1);
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("2"));
}

#[test]
fn readers_survive_a_writer_crash_and_follow_the_new_writer() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    put(&mut v, w, 1, "a", "1");
    step(&clock, &mut v, 20);
    let reader = v.add_reader();
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("1"));
    v.crash_instance(w).unwrap();
    // With no writer the reader keeps serving its read point.
    step(&clock, &mut v, 5);
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("1"));
    let w2 = v.open_writer().unwrap().instance;
    step(&clock, &mut v, 10);
    put(&mut v, w2, 1, "a", "2");
    step(&clock, &mut v, 30);
    assert_eq!(get(&mut v, reader, 1, "a").as_deref(), Some("2"));
}

#[test]
fn multi_master_writers_conflict_only_on_the_same_page() {
    let (clock, mut v) = volume(VolumeConfig::multi_master());
    let a = v.open_writer().unwrap().instance;
    let joined = v.open_writer().unwrap();
    assert!(joined.joined);
    let b = joined.instance;
    // Disjoint pages never conflict, even when both writers base their changes on what they read.
    for i in 0..20u64 {
        let (w, page) = if i % 2 == 0 { (a, 10) } else { (b, 20) };
        let base = v.read_page(w, page).unwrap().lsn;
        v.submit(
            w,
            &[PageWrite::new(page, KvApply::put(b"n", &i.to_be_bytes())).based_on(base)],
        )
        .unwrap();
        step(&clock, &mut v, 3);
    }
    // Same page, same base: the first wins, the second gets a retryable serialization failure.
    let base = v.read_page(a, 30).unwrap().lsn;
    let win = v
        .submit(
            a,
            &[PageWrite::new(30, KvApply::put(b"k", b"from-a")).based_on(base)],
        )
        .unwrap();
    let lose = v
        .submit(
            b,
            &[PageWrite::new(30, KvApply::put(b"k", b"from-b")).based_on(base)],
        )
        .unwrap_err();
    assert_eq!(
        lose,
        VolumeError::WriteConflict {
            page: 30,
            expected: base,
            actual: win.commit_lsn
        }
    );
    assert!(lose.is_retryable());
    // A multi-page write that conflicts on one page writes nothing at all.
    let before = v.stats().records_submitted;
    let err = v
        .submit(
            b,
            &[
                PageWrite::new(40, KvApply::put(b"k", b"x")).based_on(0),
                PageWrite::new(30, KvApply::put(b"k", b"x")).based_on(base),
            ],
        )
        .unwrap_err();
    assert!(matches!(err, VolumeError::WriteConflict { page: 30, .. }));
    assert_eq!(v.stats().records_submitted, before);
    step(&clock, &mut v, 3);
    // The loser retries on the new page LSN and succeeds; the winner's work is kept.
    let base = v.read_page(b, 30).unwrap().lsn;
    assert_eq!(base, win.commit_lsn);
    v.submit(
        b,
        &[PageWrite::new(30, KvApply::put(b"k2", b"from-b")).based_on(base)],
    )
    .unwrap();
    step(&clock, &mut v, 3);
    let page = v.read_page(a, 30).unwrap().page;
    assert_eq!(page.get(b"k".as_slice()), Some(&b"from-a".to_vec()));
    assert_eq!(page.get(b"k2".as_slice()), Some(&b"from-b".to_vec()));
    assert_eq!(get(&mut v, a, 40, "k"), None);
    // Both writers' commits were acknowledged.
    assert_eq!(v.take_commit_acks(a).unwrap().len(), 11);
    assert_eq!(v.take_commit_acks(b).unwrap().len(), 11);
}

#[test]
fn a_single_master_volume_refuses_a_second_writer_and_a_multi_master_one_survives_one_crash() {
    let (_, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    assert_eq!(
        v.open_writer().unwrap_err(),
        VolumeError::WriterExists { existing: w }
    );

    let (clock, mut v) = volume(VolumeConfig::multi_master());
    let a = v.open_writer().unwrap().instance;
    let b = v.open_writer().unwrap().instance;
    let lsn = put(&mut v, a, 1, "a", "1");
    v.crash_instance(a).unwrap();
    step(&clock, &mut v, 80);
    // The surviving writer completes the group's in-flight records.
    assert!(v.is_durable(lsn));
    put(&mut v, b, 1, "b", "2");
    step(&clock, &mut v, 5);
    assert_eq!(get(&mut v, b, 1, "a").as_deref(), Some("1"));
    assert_eq!(get(&mut v, b, 1, "b").as_deref(), Some("2"));
}

#[test]
fn global_database_replicates_with_lag_and_reports_rpo_on_promotion() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    put(&mut v, w, 1, "seed", "before-attach");
    step(&clock, &mut v, 5);
    let eu = Region::new("eu-west-1").unwrap();
    v.add_secondary(eu.clone(), Duration::from_millis(500))
        .unwrap();
    assert!(matches!(
        v.add_secondary(eu.clone(), Duration::ZERO),
        Err(VolumeError::GlobalDatabase { .. })
    ));
    let lsn = put(&mut v, w, 1, "k", "v1");
    step(&clock, &mut v, 200);
    let status = &v.secondary_status()[0];
    assert!(status.durable_lsn < lsn);
    assert!(status.lag >= Duration::from_millis(190), "{status:?}");
    step(&clock, &mut v, 400);
    let status = &v.secondary_status()[0];
    assert_eq!(status.durable_lsn, lsn);
    assert_eq!(status.lag, Duration::ZERO);
    // Readers in the secondary region see the replicated pages; its volume takes no writer.
    let sec = v.secondary_mut(&eu).unwrap();
    assert!(matches!(
        sec.open_writer(),
        Err(VolumeError::ReadOnly { .. })
    ));
    let reader = sec.add_reader();
    let page = sec.read_page(reader, 1).unwrap().page;
    assert_eq!(
        page.get(b"seed".as_slice()),
        Some(&b"before-attach".to_vec())
    );
    assert_eq!(page.get(b"k".as_slice()), Some(&b"v1".to_vec()));
    // An outage: the primary commits more, then the region is promoted before it arrives.
    let lost = put(&mut v, w, 2, "late", "x");
    step(&clock, &mut v, 100);
    assert!(v.is_durable(lost));
    let promotion = v.detach_and_promote(&eu).unwrap();
    assert_eq!(promotion.rpo.promoted_vdl, lsn);
    assert_eq!(promotion.rpo.primary_vdl, lost);
    assert_eq!(promotion.rpo.lost_records, 1);
    assert!(
        promotion.rpo.rpo >= Duration::from_millis(95),
        "{:?}",
        promotion.rpo
    );
    let mut promoted = promotion.volume;
    let w2 = promotion.recovery.instance;
    step(&clock, &mut promoted, 10);
    put(&mut promoted, w2, 2, "new-primary", "y");
    step(&clock, &mut promoted, 10);
    assert_eq!(get(&mut promoted, w2, 1, "k").as_deref(), Some("v1"));
    assert_eq!(get(&mut promoted, w2, 2, "late"), None);
    assert_eq!(
        get(&mut promoted, w2, 2, "new-primary").as_deref(),
        Some("y")
    );
    assert!(v.secondary_status().is_empty());
}

#[test]
fn a_drained_promotion_loses_nothing_and_the_limit_is_five_regions() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    let regions = [
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-2",
        "us-west-2",
        "sa-east-1",
    ];
    for r in regions {
        v.add_secondary(Region::new(r).unwrap(), Duration::from_millis(50))
            .unwrap();
    }
    assert!(matches!(
        v.add_secondary(Region::new("ca-central-1").unwrap(), Duration::ZERO),
        Err(VolumeError::GlobalDatabase { .. })
    ));
    assert_eq!(v.secondary_status().len(), MAX_SECONDARY_REGIONS);
    let mut last = 0;
    for i in 0..30 {
        last = put(&mut v, w, i % 7, "k", &i.to_string());
        step(&clock, &mut v, 1);
    }
    step(&clock, &mut v, 100);
    assert!(
        v.secondary_status()
            .iter()
            .all(|s| s.durable_lsn == last && s.lag.is_zero())
    );
    let p = v
        .detach_and_promote(&Region::new("us-west-2").unwrap())
        .unwrap();
    assert_eq!(p.rpo.lost_records, 0);
    assert_eq!(p.rpo.rpo, Duration::ZERO);
    assert_eq!(p.rpo.promoted_vdl, last);
}

#[test]
fn secondaries_stay_gapless_across_a_primary_crash() {
    let (clock, mut v) = volume(VolumeConfig::default());
    let w = v.open_writer().unwrap().instance;
    let eu = Region::new("eu-west-1").unwrap();
    v.add_secondary(eu.clone(), Duration::from_millis(20))
        .unwrap();
    put(&mut v, w, 1, "a", "1");
    step(&clock, &mut v, 5);
    let in_doubt = put(&mut v, w, 1, "b", "2");
    clock.advance(Duration::from_millis(2));
    v.tick();
    v.crash_instance(w).unwrap();
    let report = v.open_writer().unwrap();
    let w2 = report.instance;
    step(&clock, &mut v, 10);
    let after = put(&mut v, w2, 1, "c", "3");
    step(&clock, &mut v, 60);
    let status = &v.secondary_status()[0];
    assert_eq!(status.durable_lsn, after);
    let sec = v.secondary_mut(&eu).unwrap();
    let r = sec.add_reader();
    let page = sec.read_page(r, 1).unwrap().page;
    assert_eq!(page.get(b"c".as_slice()), Some(&b"3".to_vec()));
    assert_eq!(page.contains_key(b"b".as_slice()), report.vdl >= in_doubt);
}
