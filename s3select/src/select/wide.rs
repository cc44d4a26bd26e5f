//! A 384-bit unsigned integer for the intermediate results of exact decimal arithmetic
//! ([`super::decimal`]): products of two 38-digit coefficients, dividends scaled for 39
//! quotient digits, exact sums of many terms.
//!
//! Guarantees: no operation panics; multiplication drops what overflows 384 bits, which the
//! callers rule out by keeping their values under 10^115 (each says why).

use std::cmp::Ordering;

use super::decimal::digits_u128;

/// A 384-bit unsigned integer (six little-endian 64-bit limbs) for intermediate results; every
/// caller keeps its values under 10^115 < 2^384.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wide(pub(crate) [u64; 6]);

impl Wide {
    pub(crate) const ZERO: Wide = Wide([0; 6]);

    pub(crate) fn from_u128(v: u128) -> Wide {
        let mut w = [0u64; 6];
        w[0] = v as u64;
        w[1] = (v >> 64) as u64;
        Wide(w)
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    pub(crate) fn to_u128(self) -> Option<u128> {
        self.0[2..]
            .iter()
            .all(|&l| l == 0)
            .then(|| u128::from(self.0[0]) | (u128::from(self.0[1]) << 64))
    }

    /// `self × m`, dropping what overflows 384 bits (callers stay under it).
    pub(crate) fn mul_u64(&mut self, m: u64) {
        let mut carry = 0u128;
        for l in &mut self.0 {
            let p = u128::from(*l) * u128::from(m) + carry;
            *l = p as u64;
            carry = p >> 64;
        }
    }

    pub(crate) fn mul_pow10(&mut self, mut k: u32) {
        while k > 0 {
            let c = k.min(19);
            self.mul_u64(10u64.pow(c));
            k -= c;
        }
    }

    pub(crate) fn mul_u128(self, m: u128) -> Wide {
        let mut lo = self;
        lo.mul_u64(m as u64);
        let mut hi = self;
        hi.mul_u64((m >> 64) as u64);
        // hi << 64
        let mut shifted = [0u64; 6];
        shifted[1..].copy_from_slice(&hi.0[..5]);
        lo.add(&Wide(shifted))
    }

    pub(crate) fn add(&self, o: &Wide) -> Wide {
        let mut out = [0u64; 6];
        let mut carry = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *slot = s2;
            carry = c1 || c2;
        }
        Wide(out)
    }

    /// `self - o` for `self ≥ o`.
    pub(crate) fn sub(&self, o: &Wide) -> Wide {
        let mut out = [0u64; 6];
        let mut borrow = false;
        for (i, slot) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *slot = d2;
            borrow = b1 || b2;
        }
        Wide(out)
    }

    pub(crate) fn cmp(&self, o: &Wide) -> Ordering {
        for i in (0..6).rev() {
            match self.0[i].cmp(&o.0[i]) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// Divides in place by `d > 0`, returning the remainder.
    pub(crate) fn divrem_u64(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*l);
            *l = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        rem as u64
    }

    pub(crate) fn bits(&self) -> u32 {
        for i in (0..6).rev() {
            if self.0[i] != 0 {
                return i as u32 * 64 + 64 - self.0[i].leading_zeros();
            }
        }
        0
    }

    pub(crate) fn bit(&self, i: u32) -> bool {
        (self.0[(i / 64) as usize] >> (i % 64)) & 1 == 1
    }

    /// Quotient and remainder by `d > 0`.
    pub(crate) fn divrem_u128(&self, d: u128) -> (Wide, Wide) {
        if d <= u128::from(u64::MAX) {
            let mut q = *self;
            let r = q.divrem_u64(d as u64);
            return (q, Wide::from_u128(u128::from(r)));
        }
        self.divrem(&Wide::from_u128(d))
    }

    /// Quotient and remainder by `d > 0`, one bit at a time (rare: only divisors over 64 bits
    /// and remainders come here).
    pub(crate) fn divrem(&self, d: &Wide) -> (Wide, Wide) {
        let mut q = Wide::ZERO;
        let mut r = Wide::ZERO;
        for i in (0..self.bits()).rev() {
            // r = r << 1 | bit i; r < d < 2^383 keeps the shift in range.
            let mut carry = u64::from(self.bit(i));
            for l in &mut r.0 {
                let next = *l >> 63;
                *l = (*l << 1) | carry;
                carry = next;
            }
            if r.cmp(d) != Ordering::Less {
                r = r.sub(d);
                q.0[(i / 64) as usize] |= 1 << (i % 64);
            }
        }
        (q, r)
    }

    /// Decimal digits (0 for zero).
    pub(crate) fn digits(&self) -> u32 {
        if let Some(v) = self.to_u128() {
            return if v == 0 { 0 } else { digits_u128(v) };
        }
        let mut t = *self;
        let mut n = 0;
        while t.to_u128().is_none() {
            t.divrem_u64(10u64.pow(19));
            n += 19;
        }
        n + t
            .to_u128()
            .map_or(0, |v| if v == 0 { 0 } else { digits_u128(v) })
    }
}
