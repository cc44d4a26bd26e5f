//! S3 Select's exact `DECIMAL`/`NUMERIC`: a base-10 number of at most 38 significant digits
//! (the documented maximum precision) with a scale (the base-10 exponent) within `i32`.
//!
//! A [`Decimal`] is a coefficient `|c| < 10^38` and a scale `s`, worth `c × 10^-s`; it keeps the
//! scale it was written or read with (`1.50` stays `1.50`, a Parquet `DECIMAL(38,10)` value
//! prints its ten fraction digits). Addition, subtraction, multiplication and the remainder are
//! exact whenever the exact result has at most 38 significant digits; otherwise, and for
//! division, the result is rounded to 38 significant digits, half to even — the rule of
//! PartiQL, the SQL S3 Select speaks (`MathContext(38, HALF_EVEN)`). A quotient that is exact
//! keeps the fewest fraction digits that hold it (`1 / 4` is `0.25`, `6 / 2` is `3`).
//!
//! Guarantees: no operation panics or loses a digit silently; the only errors are a scale
//! pushed outside `i32` and division by zero. Intermediate results are held in a 384-bit
//! integer ([`Wide`]), which every operation is arranged to fit (each says why).

use std::cmp::Ordering;
use std::fmt;

use super::wide::Wide;

/// The most significant digits a decimal holds.
pub const MAX_PRECISION: u32 = 38;

/// `10^n` for `n` in `0..=38`.
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^38`, one past the largest coefficient.
const LIMIT: u128 = POW10[38];

/// Why a decimal operation has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecError {
    /// The scale of the result is outside `i32` (or a remainder's quotient needs more than 38
    /// digits).
    Overflow,
    /// Division or remainder by zero.
    DivByZero,
}

/// An exact decimal (see the module docs).
///
/// The coefficient is stored as two 64-bit halves so the type stays 8-byte aligned and small
/// inside [`super::value::Value`].
#[derive(Clone, Copy)]
pub struct Decimal {
    lo: u64,
    hi: i64,
    scale: i32,
}

/// Digits of `v` in base 10 (1 for 0).
pub(crate) fn digits_u128(v: u128) -> u32 {
    v.checked_ilog10().map_or(1, |l| l + 1)
}

impl Decimal {
    /// Zero, with scale 0.
    pub const ZERO: Decimal = Decimal {
        lo: 0,
        hi: 0,
        scale: 0,
    };

    /// `c × 10^-scale` for `|c| < 10^38`, which the callers guarantee.
    const fn raw(c: i128, scale: i32) -> Decimal {
        Decimal {
            lo: c as u64,
            hi: (c >> 64) as i64,
            scale,
        }
    }

    /// The coefficient.
    #[inline]
    pub fn coefficient(self) -> i128 {
        (i128::from(self.hi) << 64) | i128::from(self.lo)
    }

    /// The scale (digits after the decimal point; negative for trailing zeros before it).
    #[inline]
    pub fn scale(self) -> i32 {
        self.scale
    }

    /// `c × 10^-scale`, rounded to 38 significant digits when `c` has more.
    pub fn from_parts(c: i128, scale: i32) -> Result<Decimal, DecError> {
        if c.unsigned_abs() < LIMIT {
            return Ok(Decimal::raw(c, scale));
        }
        round(
            c < 0,
            Wide::from_u128(c.unsigned_abs()),
            i64::from(scale),
            false,
        )
    }

    /// The 256-bit two's-complement integer `hi:lo` times `10^-scale` (a Parquet DECIMAL wider
    /// than 16 bytes), rounded to 38 significant digits when it has more.
    pub fn from_i256_parts(lo: u128, hi: i128, scale: i32) -> Result<Decimal, DecError> {
        let neg = hi < 0;
        let (mut lo, mut hi) = (lo, hi as u128);
        if neg {
            // Magnitude of a negative value: invert and add one (2^255 itself fits `Wide`).
            let (l, carry) = (!lo).overflowing_add(1);
            lo = l;
            hi = (!hi).wrapping_add(u128::from(carry));
        }
        let w = Wide([
            lo as u64,
            (lo >> 64) as u64,
            hi as u64,
            (hi >> 64) as u64,
            0,
            0,
        ]);
        round(neg, w, i64::from(scale), false)
    }

    /// An integer, exactly.
    pub fn from_i64(i: i64) -> Decimal {
        Decimal::raw(i128::from(i), 0)
    }

    /// A double as the shortest decimal that reads back as it (what PartiQL's
    /// `BigDecimal.valueOf` gives); `None` for NaN and infinities.
    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        if f == f.trunc() && f.abs() < 9.0e15 {
            return Some(Decimal::from_i64(f as i64));
        }
        // The common case, a double written with a few decimals (`123.45`): the first k whose
        // 10^-k grid holds a decimal of at most 15 digits that reads back as `f` gives the
        // shortest decimal (a decimal of 15 digits or fewer is the only one of its length to
        // read as its double). Scaling and dividing are each one correctly rounded operation
        // on exact operands, so the check is exact.
        const P: [f64; 16] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        for (k, p) in P.iter().enumerate() {
            let m = (f * p).round();
            if m.abs() >= 1e15 {
                break;
            }
            if m / p == f {
                return Decimal::from_parts(m as i128, k as i32).ok();
            }
        }
        // Rust's `{:e}` prints the shortest digits that round-trip, at most 17 of them.
        Decimal::parse(&format!("{f:e}"))
    }

    /// Whether zero.
    #[inline]
    pub fn is_zero(self) -> bool {
        self.lo == 0 && self.hi == 0
    }

    /// The sign: -1, 0 or 1.
    pub fn signum(self) -> i32 {
        self.coefficient().signum() as i32
    }

    /// Significant digits of the coefficient (1 for zero).
    pub fn precision(self) -> u32 {
        digits_u128(self.coefficient().unsigned_abs())
    }

    /// The power of ten of the leading digit (`adjusted exponent`); meaningless for zero.
    fn adjusted(self) -> i64 {
        i64::from(self.precision()) - 1 - i64::from(self.scale)
    }

    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (also `.5` and `5.`), surrounding spaces
    /// allowed; more than 38 significant digits are rounded half to even. `None` when the text
    /// is not such a number or its scale does not fit.
    pub fn parse(s: &str) -> Option<Decimal> {
        let b = s.trim().as_bytes();
        let (neg, rest) = match b.first()? {
            b'-' => (true, &b[1..]),
            b'+' => (false, &b[1..]),
            _ => (false, b),
        };
        let mut coef: u128 = 0;
        let mut sig = 0u32; // significant digits kept in `coef`
        let mut dropped: i64 = 0; // significant digits past the 38th
        let mut round_digit = 0u8;
        let mut sticky = false;
        let mut frac: i64 = 0; // digits after the point
        let mut any = false;
        let mut seen_point = false;
        let mut i = 0;
        while i < rest.len() {
            let c = rest[i];
            if c.is_ascii_digit() {
                any = true;
                let d = c - b'0';
                if seen_point {
                    frac += 1;
                }
                if sig == 0 && d == 0 {
                    // A leading zero carries no digit.
                } else if sig < MAX_PRECISION {
                    coef = coef * 10 + u128::from(d);
                    sig += 1;
                } else {
                    if dropped == 0 {
                        round_digit = d;
                    } else {
                        sticky |= d != 0;
                    }
                    dropped += 1;
                }
            } else if c == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any {
            return None;
        }
        let mut exp: i64 = 0;
        if i < rest.len() {
            if rest[i] != b'e' && rest[i] != b'E' {
                return None;
            }
            i += 1;
            let eneg = match rest.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                // Saturates far outside the i32 scale range, which is refused below.
                exp = (exp * 10 + i64::from(rest[i] - b'0')).min(1 << 40);
                i += 1;
            }
            if i == start || i != rest.len() {
                return None;
            }
            if eneg {
                exp = -exp;
            }
        }
        let mut scale = frac - exp - dropped;
        if dropped > 0 {
            let up = round_digit > 5 || (round_digit == 5 && (sticky || coef & 1 == 1));
            if up {
                coef += 1;
                if coef == LIMIT {
                    coef = LIMIT / 10;
                    scale -= 1;
                }
            }
        }
        if coef == 0 {
            // Zero's scale only decides how it prints; keep it in range.
            scale = scale.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        }
        let scale = i32::try_from(scale).ok()?;
        let c = coef as i128;
        Some(Decimal::raw(if neg { -c } else { c }, scale))
    }

    /// The nearest double.
    #[inline]
    pub fn to_f64(self) -> f64 {
        const EXACT: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let c = self.coefficient();
        if c.unsigned_abs() < (1 << 53) {
            // Both operands are exact doubles, so one operation rounds correctly.
            if (0..=22).contains(&self.scale) {
                return c as f64 / EXACT[self.scale as usize];
            }
            if (-22..0).contains(&self.scale) {
                return c as f64 * EXACT[(-self.scale) as usize];
            }
        }
        // Rust's float parsing rounds correctly from any number of digits.
        format!("{c}e{}", -i64::from(self.scale))
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// The double nearest this decimal when comparing doubles with it is exact: with at most
    /// 15 significant digits, inside the range of normal doubles, every decimal converts to a
    /// distinct double and conversion keeps order, so comparing a double `f` with the result
    /// orders `f` as its shortest decimal orders against `self`. `None` otherwise.
    #[inline]
    pub fn to_f64_comparable(self) -> Option<f64> {
        // Under 10^15 with a scale in ±280 means at most 15 digits and a leading digit within
        // ±300 decades, without counting digits (this runs once per row of a comparison).
        let small =
            self.coefficient().unsigned_abs() < POW10[15] && (-280..=280).contains(&self.scale);
        (small || self.precision() <= 15 && (-300..=300).contains(&self.adjusted()))
            .then(|| self.to_f64())
    }

    /// The integer part (truncated toward zero), if it fits in `i64`.
    pub fn trunc_i64(self) -> Option<i64> {
        let c = self.coefficient();
        let v = if self.scale <= 0 {
            let k = usize::try_from(-i64::from(self.scale)).ok()?;
            if c == 0 {
                0
            } else {
                c.checked_mul(i128::try_from(*POW10.get(k)?).ok()?)?
            }
        } else {
            match POW10.get(self.scale as usize) {
                Some(&p) => c / p as i128,
                None => 0,
            }
        };
        i64::try_from(v).ok()
    }

    /// `self + o`.
    pub fn checked_add(self, o: Decimal) -> Result<Decimal, DecError> {
        let (a, b) = (self.coefficient(), o.coefficient());
        if self.scale == o.scale {
            // The common case (a column's values share a scale): one i128 addition, which
            // overflows only past 1.7 × 10^38 (then the general path below rounds).
            if let Some(s) = a.checked_add(b) {
                return Decimal::from_parts(s, self.scale);
            }
        }
        if a == 0 || b == 0 {
            let (z, v) = if a == 0 { (self, o) } else { (o, self) };
            // 0.00 + 5 is 5.00: the larger scale, when the digits allow it.
            if z.scale > v.scale {
                let k = i64::from(z.scale) - i64::from(v.scale);
                if i64::from(v.precision()) + k <= i64::from(MAX_PRECISION) {
                    let c = v.coefficient() * POW10[k as usize] as i128;
                    return Ok(Decimal::raw(c, z.scale));
                }
            }
            return Ok(v);
        }
        let (ax, ay) = (self.adjusted(), o.adjusted());
        // A term 40 or more decades below the other is under half a unit of the other's 38th
        // digit (also just below a power of ten), so the rounded sum is the larger term.
        if ax - ay >= 40 {
            return Ok(self);
        }
        if ay - ax >= 40 {
            return Ok(o);
        }
        // Here the scales differ by at most 39 + 37 = 76, so the aligned coefficients have at
        // most 38 + 76 = 114 digits: within `Wide`.
        let s = self.scale.max(o.scale);
        let align = |d: Decimal| -> Wide {
            let mut w = Wide::from_u128(d.coefficient().unsigned_abs());
            w.mul_pow10((s - d.scale) as u32);
            w
        };
        let (wa, wb) = (align(self), align(o));
        let (neg, mag) = if (a < 0) == (b < 0) {
            (a < 0, wa.add(&wb))
        } else if wa.cmp(&wb) != Ordering::Less {
            (a < 0, wa.sub(&wb))
        } else {
            (b < 0, wb.sub(&wa))
        };
        round(neg, mag, i64::from(s), false)
    }

    /// `self - o`.
    pub fn checked_sub(self, o: Decimal) -> Result<Decimal, DecError> {
        self.checked_add(-o)
    }

    /// `self × o`.
    pub fn checked_mul(self, o: Decimal) -> Result<Decimal, DecError> {
        let (a, b) = (self.coefficient(), o.coefficient());
        let scale = i64::from(self.scale) + i64::from(o.scale);
        if let Some(p) = a.checked_mul(b)
            && p.unsigned_abs() < LIMIT
        {
            return round(p < 0, Wide::from_u128(p.unsigned_abs()), scale, false);
        }
        // Two coefficients under 10^38 multiply to under 10^76: within `Wide`.
        let mag = Wide::from_u128(a.unsigned_abs()).mul_u128(b.unsigned_abs());
        round((a < 0) != (b < 0), mag, scale, false)
    }

    /// `self ÷ o`, rounded to 38 significant digits; an exact quotient keeps the fewest
    /// fraction digits at or above `self.scale - o.scale`.
    pub fn checked_div(self, o: Decimal) -> Result<Decimal, DecError> {
        if o.is_zero() {
            return Err(DecError::DivByZero);
        }
        let preferred = i64::from(self.scale) - i64::from(o.scale);
        let neg = (self.signum() < 0) != (o.signum() < 0);
        if self.is_zero() {
            return round(false, Wide::ZERO, preferred, false);
        }
        let (da, db) = (i64::from(self.precision()), i64::from(o.precision()));
        // Scaled by 10^k, the dividend is at least 10^38 times the divisor, so the quotient
        // has 39 or more digits and the 39th decides the rounding; k ≤ 38 + 38 - 1 + 1 = 76
        // keeps the dividend under 10^114, within `Wide`.
        let k = (MAX_PRECISION as i64 + db - da + 1).max(0);
        let mut num = Wide::from_u128(self.coefficient().unsigned_abs());
        num.mul_pow10(k as u32);
        let (mut q, r) = num.divrem_u128(o.coefficient().unsigned_abs());
        let mut scale = preferred + k;
        let exact = r.is_zero();
        if exact {
            while scale > preferred && !q.is_zero() {
                let mut t = q;
                if t.divrem_u64(10) != 0 {
                    break;
                }
                q = t;
                scale -= 1;
            }
        }
        round(neg, q, scale, !exact)
    }

    /// `self % o`: `self - trunc(self ÷ o) × o`, exact, with the sign of `self`.
    pub fn checked_rem(self, o: Decimal) -> Result<Decimal, DecError> {
        if o.is_zero() {
            return Err(DecError::DivByZero);
        }
        if self.is_zero() || self.cmp_abs(o) == Ordering::Less {
            return Ok(self);
        }
        // The integer quotient would need more than 38 digits (PartiQL refuses it too).
        if self.adjusted() - o.adjusted() > 38 {
            return Err(DecError::Overflow);
        }
        // With |self| ≥ |o| and at most 38 decades between them, the scales differ by at most
        // 37 + 38 = 75: the aligned values stay under 10^113, within `Wide`.
        let s = self.scale.max(o.scale);
        let align = |d: Decimal| -> Wide {
            let mut w = Wide::from_u128(d.coefficient().unsigned_abs());
            w.mul_pow10((s - d.scale) as u32);
            w
        };
        let (_, r) = align(self).divrem(&align(o));
        round(self.signum() < 0, r, i64::from(s), false)
    }

    /// Compares magnitudes.
    fn cmp_abs(self, o: Decimal) -> Ordering {
        let (a, b) = (
            self.coefficient().unsigned_abs(),
            o.coefficient().unsigned_abs(),
        );
        if self.scale == o.scale {
            return a.cmp(&b);
        }
        match (a == 0, b == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        match self.adjusted().cmp(&o.adjusted()) {
            Ordering::Equal => {}
            other => return other,
        }
        // Equal leading decades: the scales differ by at most 37, so aligning stays under
        // 10^75.
        let s = self.scale.max(o.scale);
        let mut wa = Wide::from_u128(a);
        wa.mul_pow10((s - self.scale) as u32);
        let mut wb = Wide::from_u128(b);
        wb.mul_pow10((s - o.scale) as u32);
        wa.cmp(&wb)
    }

    /// Writes the decimal: in plain notation (`-12.50`, `0.0000000001`, `1000` for `1E+3`)
    /// unless that needs more than 76 fraction digits or 38 trailing zeros, then as
    /// `1.5E+200`/`1E-100` (both are JSON numbers).
    pub fn write(self, out: &mut Vec<u8>) {
        let c = self.coefficient();
        if c < 0 {
            out.push(b'-');
        }
        let digits = c.unsigned_abs().to_string();
        let d = digits.as_bytes();
        let scale = i64::from(self.scale);
        if c == 0 && !(0..=76).contains(&scale) {
            out.push(b'0');
        } else if (0..=76).contains(&scale) {
            let scale = scale as usize;
            if scale == 0 {
                out.extend_from_slice(d);
            } else if d.len() > scale {
                out.extend_from_slice(&d[..d.len() - scale]);
                out.push(b'.');
                out.extend_from_slice(&d[d.len() - scale..]);
            } else {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (scale - d.len()), b'0');
                out.extend_from_slice(d);
            }
        } else if (-38..0).contains(&scale) {
            out.extend_from_slice(d);
            out.resize(out.len() + (-scale) as usize, b'0');
        } else {
            let adj = d.len() as i64 - 1 - scale;
            out.push(d[0]);
            if d.len() > 1 {
                out.push(b'.');
                out.extend_from_slice(&d[1..]);
            }
            out.extend_from_slice(format!("E{}{adj}", if adj >= 0 { "+" } else { "" }).as_bytes());
        }
    }
}

impl std::ops::Neg for Decimal {
    type Output = Decimal;

    /// `-self` (exact: the coefficient range is symmetric).
    fn neg(self) -> Decimal {
        Decimal::raw(-self.coefficient(), self.scale)
    }
}

impl PartialEq for Decimal {
    /// Numeric equality: `1.5 = 1.50`.
    fn eq(&self, o: &Decimal) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, o: &Decimal) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Decimal {
    fn cmp(&self, o: &Decimal) -> Ordering {
        let (sa, sb) = (self.signum(), o.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        let m = self.cmp_abs(*o);
        if sa < 0 { m.reverse() } else { m }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

/// An exact running sum of decimals, rounded once when read ([`DecimalSum::total`]), so a SUM
/// or AVG does not depend on the order rows are added in or on how a scan is split across
/// threads. Positive and negative terms are kept apart as 384-bit magnitudes at the largest
/// scale seen: 2^63 terms under 10^38 stay under 10^57, far inside the 10^115 a [`Wide`]
/// holds, leaving room to move the scale by up to 50 digits. Terms whose scales lie further
/// apart than that (a sum of `1E+40` and `1E-40`) switch the sum to adding rounded decimals.
#[derive(Debug, Clone, Copy)]
pub struct DecimalSum {
    pos: Wide,
    neg: Wide,
    scale: i32,
    /// Set once the scales spread too far: the rounded sum so far.
    rounded: Option<Decimal>,
    any: bool,
}

impl Default for DecimalSum {
    fn default() -> Self {
        DecimalSum {
            pos: Wide::ZERO,
            neg: Wide::ZERO,
            scale: 0,
            rounded: None,
            any: false,
        }
    }
}

/// How far the scale of the exact sum may move (see [`DecimalSum`]).
const SUM_SCALE_ROOM: i64 = 50;

impl DecimalSum {
    /// Whether no term was added.
    pub fn is_empty(&self) -> bool {
        !self.any
    }

    /// Adds `d`.
    pub fn add(&mut self, d: Decimal) -> Result<(), DecError> {
        self.add_coefficients(&[d.coefficient()], d.scale)
    }

    /// Adds the decimals `c × 10^-scale` for each `c` in `coefficients` (each under 10^38).
    pub fn add_coefficients(&mut self, coefficients: &[i128], scale: i32) -> Result<(), DecError> {
        if coefficients.is_empty() {
            return Ok(());
        }
        if let Some(r) = self.rounded {
            let mut t = r;
            for &c in coefficients {
                t = t.checked_add(Decimal::from_parts(c, scale)?)?;
            }
            self.rounded = Some(t);
            return Ok(());
        }
        if !self.any {
            self.scale = scale;
            self.any = true;
        }
        let zeros = || coefficients.iter().all(|&c| c == 0);
        if scale > self.scale {
            let k = i64::from(scale) - i64::from(self.scale);
            // Rescaled, the parts must stay under 10^112 (see the type's docs).
            let room = |w: &Wide| i64::from(w.digits()) + k <= 112;
            if k > SUM_SCALE_ROOM || !room(&self.pos) || !room(&self.neg) {
                // A zero far below the sum's scale changes nothing but how it would print.
                return if zeros() {
                    Ok(())
                } else {
                    self.spill(coefficients, scale)
                };
            }
            self.pos.mul_pow10(k as u32);
            self.neg.mul_pow10(k as u32);
            self.scale = scale;
        }
        let k = i64::from(self.scale) - i64::from(scale);
        if k > SUM_SCALE_ROOM {
            return if zeros() {
                Ok(())
            } else {
                self.spill(coefficients, scale)
            };
        }
        // Positive and negative parts summed in u128 runs (each term under 10^38 < 2^127,
        // so a run flushes before it could overflow), then scaled once.
        let (mut p, mut n) = (0u128, 0u128);
        let flush = |acc: &mut Wide, v: &mut u128| {
            let mut w = Wide::from_u128(*v);
            w.mul_pow10(k as u32);
            *acc = acc.add(&w);
            *v = 0;
        };
        for &c in coefficients {
            let (slot, m) = if c < 0 {
                (&mut n, c.unsigned_abs())
            } else {
                (&mut p, c.unsigned_abs())
            };
            match slot.checked_add(m) {
                Some(x) => *slot = x,
                None => {
                    if c < 0 {
                        flush(&mut self.neg, &mut n);
                        n = m;
                    } else {
                        flush(&mut self.pos, &mut p);
                        p = m;
                    }
                }
            }
        }
        flush(&mut self.pos, &mut p);
        flush(&mut self.neg, &mut n);
        Ok(())
    }

    /// Leaves exact summing: from here on the sum is kept as a rounded decimal.
    fn spill(&mut self, coefficients: &[i128], scale: i32) -> Result<(), DecError> {
        let so_far = self.exact_total()?;
        self.rounded = Some(so_far);
        self.add_coefficients(coefficients, scale)
    }

    fn exact_total(&self) -> Result<Decimal, DecError> {
        let scale = i64::from(self.scale);
        if self.pos.cmp(&self.neg) != Ordering::Less {
            round(false, self.pos.sub(&self.neg), scale, false)
        } else {
            round(true, self.neg.sub(&self.pos), scale, false)
        }
    }

    /// Folds `o` in.
    pub fn merge(&mut self, o: &DecimalSum) -> Result<(), DecError> {
        if !o.any {
            return Ok(());
        }
        match (self.rounded, o.rounded) {
            (None, None) if self.any => {
                // Bring both to the larger scale, as adding a term would.
                let mut o = *o;
                if o.scale > self.scale {
                    std::mem::swap(self, &mut o);
                }
                let k = i64::from(self.scale) - i64::from(o.scale);
                let room = |w: &Wide| i64::from(w.digits()) + k <= 112;
                if k <= SUM_SCALE_ROOM && room(&o.pos) && room(&o.neg) {
                    o.pos.mul_pow10(k as u32);
                    o.neg.mul_pow10(k as u32);
                    self.pos = self.pos.add(&o.pos);
                    self.neg = self.neg.add(&o.neg);
                    return Ok(());
                }
                let t = o.exact_total()?;
                self.spill(&[t.coefficient()], t.scale)
            }
            (None, None) => {
                *self = *o;
                Ok(())
            }
            _ => {
                let t = o.total()?;
                if self.any {
                    let mine = self.total()?;
                    self.rounded = Some(mine.checked_add(t)?);
                } else {
                    *self = *o;
                }
                Ok(())
            }
        }
    }

    /// The sum, rounded to 38 significant digits (zero when empty).
    pub fn total(&self) -> Result<Decimal, DecError> {
        match self.rounded {
            Some(r) => Ok(r),
            None if !self.any => Ok(Decimal::ZERO),
            None => self.exact_total(),
        }
    }
}

/// `±mag × 10^-scale` rounded half to even to 38 significant digits (`sticky`: the exact value
/// is a little more than `mag`, which matters only at an exact half).
fn round(neg: bool, mut mag: Wide, scale: i64, sticky: bool) -> Result<Decimal, DecError> {
    let n = mag.digits();
    let mut scale = scale;
    let coef: u128 = if n > MAX_PRECISION {
        let drop = n - MAX_PRECISION;
        let mut st = sticky;
        let mut k = drop - 1;
        while k > 0 {
            let c = k.min(19);
            st |= mag.divrem_u64(10u64.pow(c)) != 0;
            k -= c;
        }
        let digit = mag.divrem_u64(10);
        // Now exactly 38 digits remain.
        let mut c = mag.to_u128().ok_or(DecError::Overflow)?;
        if digit > 5 || (digit == 5 && (st || c & 1 == 1)) {
            c += 1;
            if c == LIMIT {
                c = LIMIT / 10;
                scale -= 1;
            }
        }
        scale -= i64::from(drop);
        c
    } else {
        // A sticky remainder past 38 digits never arrives here: `div` produces 39 or more
        // digits whenever the quotient is inexact.
        mag.to_u128().ok_or(DecError::Overflow)?
    };
    if coef == 0 {
        scale = scale.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    }
    let scale = i32::try_from(scale).map_err(|_| DecError::Overflow)?;
    let c = coef as i128;
    Ok(Decimal::raw(if neg { -c } else { c }, scale))
}

#[cfg(test)]
#[path = "decimal_tests.rs"]
mod tests;
