//! Reader instances: they share the volume, follow the writer's log stream and keep a page cache.
//!
//! The writer sends every record it logs, and each VDL it reaches, to its readers (one-way
//! latency `replica_latency` on the clock). A reader buffers records and applies those at or
//! below the VDL it has heard of to the pages in its cache (records for pages it has not cached
//! are dropped: storage has them); its read point is that VDL, and a cache miss reads storage at
//! the read point. Replica lag is measured on the clock: how long ago the writer's VDL first
//! passed the reader's read point. Guarantees: a reader never shows a record above the VDL, and
//! never serves a page it could have missed a change to — a gap in the stream (a partition,
//! a writer failover) makes it drop its cache and resume from storage.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::engine::{PageRead, Role, Volume};
use super::error::{VolumeError, VolumeResult};
use super::net::{Endpoint, Message};
use super::record::{Lsn, PageApply, PageId, RedoRecord};
use super::topology::InstanceId;

/// A reader's state, for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderStatus {
    /// The LSN the reader reads at.
    pub read_point: Lsn,
    /// Replica lag on the volume's clock.
    pub lag: Duration,
    /// Pages in its cache.
    pub cached_pages: usize,
    /// Stream records applied to cached pages.
    pub applied: u64,
    /// Times it dropped its cache after a stream gap.
    pub resyncs: u64,
}

#[derive(Debug)]
pub(crate) struct ReaderState<P> {
    read_point: Lsn,
    epoch: u64,
    known_vdl: Lsn,
    /// Pages may be cached once the read point reaches this (earlier records were never streamed
    /// to this reader).
    cache_from: Lsn,
    last_stream_lsn: Lsn,
    buffer: BTreeMap<Lsn, RedoRecord>,
    cache: BTreeMap<PageId, (Lsn, P)>,
    broken: bool,
    applied: u64,
    resyncs: u64,
}

impl<P> ReaderState<P> {
    pub fn new(read_point: Lsn) -> Self {
        ReaderState {
            read_point,
            epoch: 0,
            known_vdl: read_point,
            cache_from: read_point,
            last_stream_lsn: read_point,
            buffer: BTreeMap::new(),
            cache: BTreeMap::new(),
            broken: false,
            applied: 0,
            resyncs: 0,
        }
    }

    fn restart(&mut self, read_point: Lsn, stream_from: Lsn, epoch: u64) {
        self.read_point = read_point;
        self.known_vdl = read_point;
        self.cache_from = stream_from;
        self.last_stream_lsn = stream_from;
        self.epoch = epoch;
        self.buffer.clear();
        self.cache.clear();
        self.broken = false;
    }
}

impl<A: PageApply> Volume<A> {
    /// Attaches a reader instance (up to 15 per cluster is the cluster's rule, not the volume's).
    pub fn add_reader(&mut self) -> InstanceId {
        let id = self.new_instance(Role::Reader);
        let (vdl, last) = self
            .groups
            .get(&self.epoch)
            .map_or((0, 0), |g| (g.vdl, g.last_lsn));
        let epoch = self.epoch;
        if let Some(r) = self.instances.get_mut(&id).and_then(|i| i.reader.as_mut()) {
            r.restart(vdl, last, epoch);
        }
        id
    }

    /// A reader's read point, lag and cache.
    pub fn reader_status(&self, reader: InstanceId) -> VolumeResult<ReaderStatus> {
        let r = self
            .instances
            .get(&reader)
            .and_then(|i| i.reader.as_ref())
            .ok_or(VolumeError::UnknownInstance { instance: reader })?;
        Ok(ReaderStatus {
            read_point: r.read_point,
            lag: self.lag_behind(r.read_point),
            cached_pages: r.cache.len(),
            applied: r.applied,
            resyncs: r.resyncs,
        })
    }

    /// How long ago the writer's VDL first passed `read_point`.
    pub(crate) fn lag_behind(&self, read_point: Lsn) -> Duration {
        let now = self.now();
        self.vdl_history
            .iter()
            .find(|(vdl, _)| *vdl > read_point)
            .map_or(Duration::ZERO, |(_, at)| {
                now.duration_since(*at).unwrap_or(Duration::ZERO)
            })
    }

    pub(crate) fn compute_min_read_point(&self) -> Lsn {
        let writer = self
            .groups
            .get(&self.epoch)
            .filter(|g| !g.fenced)
            .map(|g| g.vdl);
        let readers = self
            .instances
            .values()
            .filter_map(|i| i.reader.as_ref())
            .map(|r| r.read_point)
            .min();
        match (writer, readers) {
            (Some(w), Some(r)) => w.min(r),
            (Some(w), None) => w,
            (None, Some(r)) => r,
            (None, None) => self.min_read_point,
        }
    }

    pub(crate) fn stream_to_readers(
        &mut self,
        from: InstanceId,
        epoch: u64,
        mut records: Vec<RedoRecord>,
        now: SystemTime,
    ) {
        records.sort_by_key(|r| r.lsn);
        let vdl = self.groups.get(&epoch).map_or(0, |g| g.vdl);
        let readers: Vec<InstanceId> = self
            .instances
            .iter()
            .filter(|(_, i)| i.reader.is_some())
            .map(|(id, _)| *id)
            .collect();
        for to in readers {
            if self
                .net
                .is_cut(Endpoint::Instance(from), Endpoint::Instance(to))
            {
                // The writer's connection to the reader is down: the reader will notice the gap.
                if let Some(r) = self.instances.get_mut(&to).and_then(|i| i.reader.as_mut()) {
                    r.broken = true;
                }
                continue;
            }
            let at = now + self.config.replica_latency;
            self.net.send(
                at,
                Message::Stream {
                    from,
                    to,
                    epoch,
                    records: records.clone(),
                    vdl,
                },
            );
        }
    }

    pub(crate) fn reader_receive(
        &mut self,
        to: InstanceId,
        epoch: u64,
        records: Vec<RedoRecord>,
        vdl: Lsn,
    ) {
        let Some(r) = self.instances.get_mut(&to).and_then(|i| i.reader.as_mut()) else {
            return;
        };
        if epoch != r.epoch {
            return;
        }
        for rec in records {
            if rec.lsn <= r.last_stream_lsn {
                continue; // Streamed before this reader (re)started: storage already has it.
            }
            if rec.prev_lsn != r.last_stream_lsn {
                r.broken = true;
                return;
            }
            r.last_stream_lsn = rec.lsn;
            r.buffer.insert(rec.lsn, rec);
        }
        r.known_vdl = r.known_vdl.max(vdl);
    }

    pub(crate) fn resync_readers(&mut self, _vdl: Lsn) {
        for r in self
            .instances
            .values_mut()
            .filter_map(|i| i.reader.as_mut())
        {
            r.broken = true;
        }
    }

    pub(crate) fn readers_apply(&mut self, _now: SystemTime) {
        let (vdl, last, epoch) = self
            .groups
            .get(&self.epoch)
            .map_or((0, 0, self.epoch), |g| (g.vdl, g.last_lsn, g.epoch));
        let applier = std::sync::Arc::clone(&self.applier);
        let writer = self.live_writers().first().copied();
        for (id, inst) in &mut self.instances {
            let Some(r) = inst.reader.as_mut() else {
                continue;
            };
            if r.broken {
                // Resuming needs a writer to stream from; until then the reader keeps serving
                // its old read point and its lag grows.
                let Some(w) = writer else { continue };
                if self
                    .net
                    .is_cut(Endpoint::Instance(w), Endpoint::Instance(*id))
                {
                    continue;
                }
                r.resyncs += 1;
                r.restart(vdl.max(r.read_point), last, epoch);
                continue;
            }
            let due: Vec<Lsn> = r.buffer.range(..=r.known_vdl).map(|(l, _)| *l).collect();
            for lsn in due {
                let Some(rec) = r.buffer.remove(&lsn) else {
                    continue;
                };
                if let Some((page_lsn, page)) = r.cache.get_mut(&rec.page_id) {
                    let ok = *page_lsn == rec.prev_page_lsn
                        && applier.apply(rec.page_id, page, &rec).is_ok();
                    if ok {
                        *page_lsn = rec.lsn;
                        r.applied += 1;
                    } else {
                        r.cache.remove(&rec.page_id);
                    }
                }
            }
            r.read_point = r.read_point.max(r.known_vdl);
        }
    }

    pub(crate) fn reader_read(
        &mut self,
        instance: InstanceId,
        page: PageId,
    ) -> VolumeResult<PageRead<A::Page>> {
        let r = self
            .instances
            .get(&instance)
            .and_then(|i| i.reader.as_ref())
            .ok_or(VolumeError::UnknownInstance { instance })?;
        let cacheable = r.read_point >= r.cache_from;
        if cacheable && let Some((lsn, p)) = r.cache.get(&page) {
            return Ok(PageRead {
                page_id: page,
                lsn: *lsn,
                page: p.clone(),
                served_by: None,
                repaired: false,
            });
        }
        let read_point = r.read_point;
        let read = self.storage_read(instance, page, read_point)?;
        if cacheable
            && let Some(r) = self
                .instances
                .get_mut(&instance)
                .and_then(|i| i.reader.as_mut())
        {
            r.cache.insert(page, (read.lsn, read.page.clone()));
        }
        Ok(read)
    }
}
