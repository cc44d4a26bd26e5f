//! Deterministic id generation from a seed.
//!
//! Request ids, UUIDs, backup ids, version ids: every id an engine invents comes from an
//! [`IdGen`], so a `Cloud` built with the same seed and driven by the same calls produces the same
//! ids. The generator is SplitMix64 over an atomic counter: thread-safe, lock-free, and (for a
//! given order of calls) reproducible. It is not a cryptographic generator.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared, seeded id generator.
#[derive(Debug, Clone)]
pub struct IdGen {
    seed: u64,
    counter: Arc<AtomicU64>,
}

impl IdGen {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A generator for a sub-system, with its own sequence derived from this one's seed and
    /// `name`, so adding ids in one engine does not shift another engine's ids.
    pub fn fork(&self, name: &str) -> Self {
        let mut h = self.seed ^ 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(splitmix64(h))
    }

    /// The next 64 random-looking bits.
    pub fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        splitmix64(
            self.seed
                .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        )
    }

    /// A random-looking value in `0..bound` (`bound` > 0).
    pub fn next_below(&self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// A version-4 UUID in canonical lowercase form.
    pub fn uuid(&self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi.to_be_bytes());
        b[8..].copy_from_slice(&lo.to_be_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// `len` lowercase hex digits.
    pub fn hex(&self, len: usize) -> String {
        let mut s = String::with_capacity(len + 16);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(len);
        s
    }

    /// `len` characters from `[A-Z0-9]`, the alphabet AWS request ids and many resource ids use.
    pub fn upper_alnum(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| ALPHABET[self.next_below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// An AWS-style request id (52 characters, as DynamoDB sends; S3 uses 16 through [`IdGen::upper_alnum`]).
    pub fn request_id(&self) -> String {
        self.upper_alnum(52)
    }
}

impl Default for IdGen {
    fn default() -> Self {
        IdGen::new(0)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let a = IdGen::new(7);
        let b = IdGen::new(7);
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.fork("dynamo").hex(20), b.fork("dynamo").hex(20));
        assert_ne!(IdGen::new(8).uuid(), IdGen::new(7).uuid());
        let u = a.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(a.request_id().len(), 52);
    }
}
