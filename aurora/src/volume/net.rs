//! The simulated network between database instances and storage nodes.
//!
//! Messages are delivered in (delivery time, send order) order once the injected clock reaches
//! their delivery time, so a run is a pure function of the calls made and the clock. A cut link
//! drops messages in both directions, whether it was cut before sending or while the message
//! was in flight, exactly as a partition loses packets; nothing is ever delivered twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::SystemTime;

use super::record::{Lsn, RedoRecord, Truncation};
use super::topology::{InstanceId, NodeId, SegmentId};

/// One end of a network link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A database instance.
    Instance(InstanceId),
    /// A storage node.
    Node(NodeId),
}

/// What a writer tells storage nodes besides records: its epoch, the truncations it knows, the
/// volume durable LSN (nodes may apply up to it) and the minimum read point of every instance
/// (nodes keep page versions from there on).
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub epoch: u64,
    pub truncations: Arc<Vec<Truncation>>,
    pub vdl: Lsn,
    pub min_read_point: Lsn,
}

#[derive(Debug, Clone)]
pub(crate) enum Message {
    /// Records for one protection group (empty for a bare announcement of `meta`).
    Write {
        from: InstanceId,
        to: NodeId,
        segment: SegmentId,
        meta: Meta,
        records: Vec<RedoRecord>,
    },
    /// The node holds these records durably.
    Ack {
        from: NodeId,
        to: InstanceId,
        epoch: u64,
        segment: SegmentId,
        lsns: Vec<Lsn>,
    },
    /// The node has seen a newer epoch than the writer's.
    Fenced {
        from: NodeId,
        to: InstanceId,
        writer_epoch: u64,
        node_epoch: u64,
    },
    /// The log stream to a reader: records and the writer's durable LSN.
    Stream {
        from: InstanceId,
        to: InstanceId,
        epoch: u64,
        records: Vec<RedoRecord>,
        vdl: Lsn,
    },
}

impl Message {
    fn ends(&self) -> (Endpoint, Endpoint) {
        match self {
            Message::Write { from, to, .. } => (Endpoint::Instance(*from), Endpoint::Node(*to)),
            Message::Ack { from, to, .. } | Message::Fenced { from, to, .. } => {
                (Endpoint::Node(*from), Endpoint::Instance(*to))
            }
            Message::Stream { from, to, .. } => {
                (Endpoint::Instance(*from), Endpoint::Instance(*to))
            }
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Network {
    queue: BTreeMap<(SystemTime, u64), Message>,
    seq: u64,
    cuts: BTreeSet<(Endpoint, Endpoint)>,
    pub sent: u64,
    pub dropped: u64,
}

fn ordered(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b { (a, b) } else { (b, a) }
}

impl Network {
    pub fn cut(&mut self, a: Endpoint, b: Endpoint) {
        if a != b {
            self.cuts.insert(ordered(a, b));
        }
    }

    pub fn heal(&mut self, a: Endpoint, b: Endpoint) {
        self.cuts.remove(&ordered(a, b));
    }

    pub fn heal_all(&mut self) {
        self.cuts.clear();
    }

    pub fn is_cut(&self, a: Endpoint, b: Endpoint) -> bool {
        !self.cuts.is_empty() && self.cuts.contains(&ordered(a, b))
    }

    /// Queues `msg` for delivery at `at`, unless its link is cut.
    pub fn send(&mut self, at: SystemTime, msg: Message) {
        let (a, b) = msg.ends();
        if self.is_cut(a, b) {
            self.dropped += 1;
            return;
        }
        self.sent += 1;
        self.seq += 1;
        self.queue.insert((at, self.seq), msg);
    }

    /// The next message due at or before `now` whose link is still up.
    pub fn pop_due(&mut self, now: SystemTime) -> Option<Message> {
        loop {
            let entry = self.queue.first_entry()?;
            if entry.key().0 > now {
                return None;
            }
            let msg = entry.remove();
            let (a, b) = msg.ends();
            if self.is_cut(a, b) {
                self.dropped += 1;
                continue;
            }
            return Some(msg);
        }
    }

    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// When the next message is due, if any.
    pub fn next_due(&self) -> Option<SystemTime> {
        self.queue.keys().next().map(|k| k.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn ack(to: u32) -> Message {
        Message::Ack {
            from: NodeId(0),
            to: InstanceId(to),
            epoch: 1,
            segment: SegmentId(0),
            lsns: vec![1],
        }
    }

    #[test]
    fn delivers_in_time_order_and_drops_across_cuts() {
        let mut net = Network::default();
        let t0 = UNIX_EPOCH;
        net.send(t0 + Duration::from_millis(2), ack(1));
        net.send(t0 + Duration::from_millis(1), ack(2));
        assert!(net.pop_due(t0).is_none());
        let first = net.pop_due(t0 + Duration::from_millis(5));
        assert!(matches!(
            first,
            Some(Message::Ack {
                to: InstanceId(2),
                ..
            })
        ));
        net.cut(Endpoint::Instance(InstanceId(1)), Endpoint::Node(NodeId(0)));
        assert!(net.pop_due(t0 + Duration::from_millis(5)).is_none());
        assert_eq!(net.dropped, 1);
        net.send(t0, ack(1));
        assert_eq!(net.dropped, 2);
        net.heal_all();
        net.send(t0, ack(1));
        assert!(net.pop_due(t0).is_some());
    }
}
