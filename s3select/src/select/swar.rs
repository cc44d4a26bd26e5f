//! Finding any of three bytes eight bytes at a time (SIMD within a register), for the CSV
//! scanner's one pass over field delimiters, record delimiters and quotes.
//!
//! `memchr` is faster for one sparse byte, but a CSV record of short fields has a separator
//! every few bytes: one `memchr` call per field pays its setup cost each time, while this
//! finder keeps a bit mask of every hit in the current 8-byte word and hands them out one by
//! one. Safe code only; the bit tricks are exact (no false positives from borrows).
//!
//! Guarantees: yields every position holding one of the three bytes, in increasing order, and
//! nothing else.

const HI7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `v` that is zero, exactly.
#[inline]
fn zero_bytes(v: u64) -> u64 {
    !(((v & HI7).wrapping_add(HI7)) | v | HI7)
}

/// The high bit of each byte of `w` (read little-endian) that ends a run of plain JSON
/// string bytes: `"`, `\\` or a control character below 0x20.
#[inline]
pub fn json_string_stops(w: u64) -> u64 {
    zero_bytes(w ^ (ONES * u64::from(b'"')))
        | zero_bytes(w ^ (ONES * u64::from(b'\\')))
        | zero_bytes(w & (ONES * 0xe0))
}

/// The offset of the first byte of `b[from..]` that is `"`, `\\` or below 0x20, skipping
/// eight plain bytes at a time; `b.len()` if there is none.
#[inline]
pub fn json_string_stop(b: &[u8], from: usize) -> usize {
    let mut j = from;
    while let Some(word) = b.get(j..j + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let m = json_string_stops(u64::from_le_bytes(w));
        if m != 0 {
            return j + (m.trailing_zeros() as usize >> 3);
        }
        j += 8;
    }
    while j < b.len() && !matches!(b[j], b'"' | b'\\' | 0..=0x1f) {
        j += 1;
    }
    j
}

/// Yields the positions of three bytes in a slice, left to right.
#[derive(Debug, Clone)]
pub struct Finder3<'a> {
    data: &'a [u8],
    /// Where the next word to load starts.
    next: usize,
    /// Where the word behind `mask` starts.
    base: usize,
    /// Pending hits in the current word (high bit of each hit byte).
    mask: u64,
    bytes: [u8; 3],
    pats: [u64; 3],
}

impl<'a> Finder3<'a> {
    /// A finder over `data[start..]` for bytes `a`, `b` and `c`.
    pub fn new(data: &'a [u8], start: usize, a: u8, b: u8, c: u8) -> Finder3<'a> {
        Finder3 {
            data,
            next: start,
            base: start,
            mask: 0,
            bytes: [a, b, c],
            pats: [
                ONES * u64::from(a),
                ONES * u64::from(b),
                ONES * u64::from(c),
            ],
        }
    }

    /// The next position holding one of the bytes.
    #[inline]
    pub fn next_hit(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.base + (self.mask.trailing_zeros() as usize >> 3);
                self.mask &= self.mask - 1;
                return Some(i);
            }
            let i = self.next;
            if let Some(word) = self.data.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                let w = u64::from_le_bytes(w);
                self.mask = zero_bytes(w ^ self.pats[0])
                    | zero_bytes(w ^ self.pats[1])
                    | zero_bytes(w ^ self.pats[2]);
                self.base = i;
                self.next = i + 8;
            } else if i < self.data.len() {
                let mut m = 0u64;
                for (k, c) in self.data[i..].iter().enumerate() {
                    if self.bytes.contains(c) {
                        m |= 0x80 << (8 * k);
                    }
                }
                self.mask = m;
                self.base = i;
                self.next = self.data.len();
            } else {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_exactly_the_three_bytes(data in prop::collection::vec(prop::sample::select(vec![b'a', b',', b'\n', b'"', 0u8, 0x80, 0xff, b'+']), 0..80), start in 0usize..10) {
            let start = start.min(data.len());
            let mut f = Finder3::new(&data, start, b',', b'\n', b'"');
            let mut got = Vec::new();
            while let Some(i) = f.next_hit() {
                got.push(i);
            }
            let want: Vec<usize> = (start..data.len()).filter(|&i| matches!(data[i], b',' | b'\n' | b'"')).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn json_string_stop_finds_the_first_special_byte(data in prop::collection::vec(prop::sample::select(vec![b'a', b'"', b'\\', 0u8, 0x1f, 0x20, 0x80, 0xe0, 0xff]), 0..40), from in 0usize..10) {
            let from = from.min(data.len());
            let want = (from..data.len()).find(|&i| matches!(data[i], b'"' | b'\\' | 0..=0x1f)).unwrap_or(data.len());
            prop_assert_eq!(json_string_stop(&data, from), want);
        }
    }
}
