//! A small, fast hasher (FNV-1a, 64-bit) for the engine's internal maps on the invocation path —
//! idle-environment pools keyed by version and log groups keyed by name.
//!
//! Why not the standard `RandomState`: SipHash costs a few hundred instructions per short key,
//! which showed up as a tenth of an in-process invocation's profile. These maps are keyed by
//! names the engine itself validated (function versions, `/aws/lambda/<name>`), bounded by the
//! number of functions, so collision resistance against chosen keys buys nothing here.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the bytes written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The `BuildHasher` of [`Fnv`].
pub(crate) type FastHash = BuildHasherDefault<Fnv>;

/// A `HashMap` hashed with [`Fnv`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastHash>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // FNV-1a 64 reference values.
        let h = |s: &str| {
            let mut f = Fnv::default();
            f.write(s.as_bytes());
            f.finish()
        };
        assert_eq!(h(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(h("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(h("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn map_works() {
        let mut m: FastMap<String, u32> = FastMap::default();
        m.insert("$LATEST".into(), 1);
        m.insert("1".into(), 2);
        assert_eq!(m.get("$LATEST"), Some(&1));
        assert_eq!(m.get("1"), Some(&2));
        assert_eq!(m.get("2"), None);
    }
}
