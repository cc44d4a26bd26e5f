//! DynamoDB's number type: an exact decimal of up to 38 significant digits.
//!
//! A [`Number`] is `(-1)^neg × mantissa × 10^exponent` with the mantissa stripped of trailing
//! zeros, so equal numbers have equal representations (`1.50`, `1.5` and `15E-1` are one value)
//! and `Eq`/`Hash` are numeric. Guarantees: every `Number` satisfies DynamoDB's limits (at most
//! 38 significant digits; magnitude zero or between 1E-130 and 9.9999999999999999999999999999999999999E+125);
//! parsing, arithmetic and comparison are exact; out-of-range input and results are DynamoDB's
//! errors, never rounding.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The most significant digits a number may have.
pub const MAX_DIGITS: u32 = 38;
/// 10^38: mantissas are strictly below this.
const MANTISSA_LIMIT: u128 = 100_000_000_000_000_000_000_000_000_000_000_000_000;
/// Largest adjusted exponent (the power of ten of the first digit).
const MAX_ADJUSTED_EXP: i32 = 125;
/// Smallest adjusted exponent.
const MIN_ADJUSTED_EXP: i32 = -130;

/// Why a string or result is not a DynamoDB number. `Display` is DynamoDB's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Not numeric text.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
    /// Magnitude above 9.99…E+125.
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    /// Magnitude below 1E-130.
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
}

/// An exact DynamoDB number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    mantissa: u128,
    exponent: i32,
}

fn digit_count(m: u128) -> u32 {
    // Most mantissas fit in 64 bits, where `ilog10` is a few instructions rather than a 128-bit
    // division loop (item sizes count the digits of every number written).
    match u64::try_from(m) {
        Ok(0) => 1,
        Ok(small) => small.ilog10() + 1,
        Err(_) => m.ilog10() + 1,
    }
}

impl Number {
    /// The normalized parts: sign, mantissa (no trailing zeros), exponent.
    pub fn parts(&self) -> (bool, u128, i32) {
        (self.neg, self.mantissa, self.exponent)
    }

    /// Zero.
    pub const ZERO: Number = Number {
        neg: false,
        mantissa: 0,
        exponent: 0,
    };

    /// Builds a number from parts, normalizing and checking DynamoDB's limits.
    fn build(neg: bool, mut mantissa: u128, mut exponent: i32) -> Result<Number, NumberError> {
        if mantissa == 0 {
            return Ok(Number::ZERO);
        }
        // Strip trailing zeros in 64-bit arithmetic when the mantissa fits: a 128-bit division
        // is a library call, and every parsed number passes through here.
        if let Ok(mut small) = u64::try_from(mantissa) {
            while small.is_multiple_of(10) {
                small /= 10;
                exponent += 1;
            }
            mantissa = u128::from(small);
        } else {
            while mantissa.is_multiple_of(10) {
                mantissa /= 10;
                exponent += 1;
            }
        }
        let adjusted = exponent + digit_count(mantissa) as i32 - 1;
        if adjusted > MAX_ADJUSTED_EXP {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_ADJUSTED_EXP {
            return Err(NumberError::Underflow);
        }
        if mantissa >= MANTISSA_LIMIT {
            return Err(NumberError::TooPrecise);
        }
        Ok(Number {
            neg,
            mantissa,
            exponent,
        })
    }

    /// The number for an integer.
    pub fn from_i64(v: i64) -> Number {
        // An i64 has at most 19 digits, always within DynamoDB's limits.
        Number::build(v < 0, u128::from(v.unsigned_abs()), 0).unwrap_or(Number::ZERO)
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// Significant digits (1 for zero).
    pub fn digits(&self) -> u32 {
        digit_count(self.mantissa)
    }

    /// The power of ten of the first significant digit.
    pub fn adjusted_exponent(&self) -> i32 {
        self.exponent + self.digits() as i32 - 1
    }

    /// The value as an `f64` (approximate), for TTL timestamps and capacity arithmetic.
    pub fn to_f64(&self) -> f64 {
        let v = self.mantissa as f64 * 10f64.powi(self.exponent);
        if self.neg { -v } else { v }
    }

    /// The value as an `i64` if it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let mut m = self.mantissa;
        for _ in 0..self.exponent {
            m = m.checked_mul(10)?;
        }
        let v = i64::try_from(m).ok()?;
        Some(if self.neg { -v } else { v })
    }

    /// The negation.
    pub fn neg(&self) -> Number {
        if self.is_zero() {
            *self
        } else {
            Number {
                neg: !self.neg,
                ..*self
            }
        }
    }

    /// The exact sum, or DynamoDB's error when it cannot be stored.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        let exp = self.exponent.min(other.exponent);
        let scale = |n: &Number| -> Option<u128> {
            let shift = u32::try_from(n.exponent - exp).ok()?;
            if shift > MAX_DIGITS + 1 {
                return None;
            }
            n.mantissa.checked_mul(10u128.checked_pow(shift)?)
        };
        // Aligning a number whose digits lie more than 39 places apart always needs more than
        // 38 significant digits, so a failed alignment is DynamoDB's precision error.
        let (a, b) = match (scale(self), scale(other)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err(NumberError::TooPrecise),
        };
        if self.neg == other.neg {
            let sum = a.checked_add(b).ok_or(NumberError::TooPrecise)?;
            Number::build(self.neg, sum, exp)
        } else if a >= b {
            Number::build(self.neg, a - b, exp)
        } else {
            Number::build(other.neg, b - a, exp)
        }
    }

    /// The exact difference.
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.neg())
    }

    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Fast paths for the common key shapes (sort keys compare often): normalized mantissas
        // with the same exponent compare directly, and small integers (mantissa below 10^19,
        // exponent 0..=18) compare as their exact values, which fit in a u128.
        if self.exponent == other.exponent {
            return self.mantissa.cmp(&other.mantissa);
        }
        const SMALL: u128 = 10_000_000_000_000_000_000;
        if (0..=18).contains(&self.exponent)
            && (0..=18).contains(&other.exponent)
            && self.mantissa < SMALL
            && other.mantissa < SMALL
        {
            // A table lookup instead of `10u128.pow` (a multiplication loop) per comparison.
            const POW10: [u64; 19] = {
                let mut t = [1u64; 19];
                let mut i = 1;
                while i < 19 {
                    t[i] = t[i - 1] * 10;
                    i += 1;
                }
                t
            };
            let value = |n: &Number| {
                n.mantissa * u128::from(POW10[n.exponent.unsigned_abs() as usize % 19])
            };
            return value(self).cmp(&value(other));
        }
        self.adjusted_exponent()
            .cmp(&other.adjusted_exponent())
            .then_with(|| {
                // Same leading power of ten: compare the digit strings padded to equal length.
                let pad = |n: &Number| n.mantissa * 10u128.pow(MAX_DIGITS - n.digits());
                pad(self).cmp(&pad(other))
            })
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Number, NumberError> {
        let bad = || NumberError::NotNumeric(s.to_owned());
        let t = s.trim();
        let bytes = t.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first()
            && (c == b'-' || c == b'+')
        {
            neg = c == b'-';
            i = 1;
        }
        let mut mantissa: u128 = 0;
        let mut exponent: i64 = 0;
        let mut any_digit = false;
        let mut seen_dot = false;
        let mut significant = 0u32;
        let mut too_precise = false;
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_digit() {
                any_digit = true;
                let d = u128::from(c - b'0');
                if mantissa == 0 && d == 0 {
                    // Leading zeros are not significant.
                    if seen_dot {
                        exponent -= 1;
                    }
                } else if significant < MAX_DIGITS {
                    mantissa = mantissa * 10 + d;
                    significant += 1;
                    if seen_dot {
                        exponent -= 1;
                    }
                } else {
                    // Digits beyond what fits: only trailing zeros may follow without error.
                    if d != 0 {
                        too_precise = true;
                    }
                    if !seen_dot {
                        exponent += 1;
                    }
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any_digit {
            return Err(bad());
        }
        if i < bytes.len() {
            if bytes[i] != b'e' && bytes[i] != b'E' {
                return Err(bad());
            }
            i += 1;
            let rest = &t[i..];
            let e: i64 = rest.parse().map_err(|_| bad())?;
            if !rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            {
                return Err(bad());
            }
            exponent = exponent.saturating_add(e.clamp(-100_000, 100_000));
        }
        if too_precise {
            return Err(NumberError::TooPrecise);
        }
        let exponent = i32::try_from(exponent.clamp(-1_000_000, 1_000_000)).map_err(|_| bad())?;
        Number::build(neg, mantissa, exponent)
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation, as DynamoDB returns numbers (`1.5`, `-0.001`, `100`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.neg {
            f.write_str("-")?;
        }
        let digits = self.mantissa.to_string();
        if self.exponent >= 0 {
            f.write_str(&digits)?;
            for _ in 0..self.exponent {
                f.write_str("0")?;
            }
            Ok(())
        } else {
            let frac = (-self.exponent) as usize;
            if frac >= digits.len() {
                f.write_str("0.")?;
                for _ in 0..frac - digits.len() {
                    f.write_str("0")?;
                }
                f.write_str(&digits)
            } else {
                let (a, b) = digits.split_at(digits.len() - frac);
                write!(f, "{a}.{b}")
            }
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(n("1.50"), n("15E-1"));
        assert_eq!(n("1.50").to_string(), "1.5");
        assert_eq!(n("-0").to_string(), "0");
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("0.00100").to_string(), "0.001");
        assert_eq!(n("+7").to_string(), "7");
        assert_eq!(n(".5").to_string(), "0.5");
        assert_eq!(n("5.").to_string(), "5");
        assert_eq!(
            n("100000000000000000000000000000000000000000").to_string(),
            "100000000000000000000000000000000000000000"
        );
    }

    #[test]
    fn rejects_with_dynamodb_messages() {
        assert_eq!(
            "abc".parse::<Number>().unwrap_err().to_string(),
            "The parameter cannot be converted to a numeric value: abc"
        );
        for s in [
            "", "-", "1e", "1.2.3", "e5", "1e5x", "0x10", "NaN", "Infinity",
        ] {
            assert!(
                matches!(s.parse::<Number>(), Err(NumberError::NotNumeric(_))),
                "{s}"
            );
        }
        assert_eq!(
            "1.23456789012345678901234567890123456789".parse::<Number>(),
            Err(NumberError::TooPrecise)
        );
        assert_eq!("1E126".parse::<Number>(), Err(NumberError::Overflow));
        assert_eq!("1E-131".parse::<Number>(), Err(NumberError::Underflow));
        assert!(
            "9.9999999999999999999999999999999999999E+125"
                .parse::<Number>()
                .is_ok()
        );
        assert!("1E-130".parse::<Number>().is_ok());
        assert!("-1E-130".parse::<Number>().is_ok());
    }

    #[test]
    fn compares_numerically() {
        assert!(n("2") < n("10"));
        assert!(n("-2") < n("-1"));
        assert!(n("0.001") < n("0.01"));
        assert!(n("-0.5") < n("0"));
        assert!(n("1E100") > n("99999"));
        assert_eq!(n("10").cmp(&n("1E1")), Ordering::Equal);
    }

    #[test]
    fn adds_exactly() {
        assert_eq!(n("0.1").checked_add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("5").checked_sub(&n("7.5")).unwrap(), n("-2.5"));
        assert_eq!(
            n("1E100").checked_add(&n("1E-100")),
            Err(NumberError::TooPrecise)
        );
        assert_eq!(
            n("9.9999999999999999999999999999999999999E+125").checked_add(&n("1E+125")),
            Err(NumberError::Overflow)
        );
        assert_eq!(n("1E100").checked_sub(&n("1E100")).unwrap(), Number::ZERO);
    }

    proptest! {
        #[test]
        fn display_round_trips(neg: bool, m in 0u128..MANTISSA_LIMIT, e in -150i32..120) {
            if let Ok(x) = Number::build(neg, m, e) {
                prop_assert_eq!(x.to_string().parse::<Number>().unwrap(), x);
            }
        }

        #[test]
        fn order_matches_f64(a in -1e12f64..1e12, b in -1e12f64..1e12) {
            let (x, y) = (n(&format!("{a}")), n(&format!("{b}")));
            prop_assert_eq!(x.cmp(&y), a.partial_cmp(&b).unwrap());
        }

        #[test]
        fn order_matches_i128(a in any::<i64>(), b in any::<i64>(), sa in 0u32..16, sb in 0u32..16) {
            // Integers with trailing zeros exercise the fast paths and the general one.
            let (x, y) = (i128::from(a) * 10i128.pow(sa), i128::from(b) * 10i128.pow(sb));
            prop_assert_eq!(n(&x.to_string()).cmp(&n(&y.to_string())), x.cmp(&y));
            let (fx, fy) = (format!("{x}e-7"), format!("{y}e-3"));
            prop_assert_eq!(n(&fx).cmp(&n(&fy)), (x).cmp(&(y * 10_000)));
        }

        #[test]
        fn addition_matches_i64(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Number::from_i64(a).checked_add(&Number::from_i64(b)).unwrap(), Number::from_i64(a + b));
        }

        #[test]
        fn garbage_never_panics(s in "\\PC{0,50}") {
            let _ = s.parse::<Number>();
        }
    }
}
