//! The scalar functions of S3 Select: CAST, the string functions, the date functions and
//! LIKE matching. Each raises S3 Select's documented error code on bad input.

use std::borrow::Cow;
use std::time::SystemTime;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, FixedOffset, Months, Timelike, Utc};
use memchr::memmem;

use super::ast::{CastType, DatePart, TrimSpec};
use super::decimal::Decimal;
use super::value::{Num, Timestamp, TsPrecision, Value, parse_number};
use crate::error::{Error, Result};

fn cast_failed() -> Error {
    Error::select(
        "CastFailed",
        "Attempt to convert from one data type to another using CAST failed in the SQL expression.",
    )
}

fn bad_type() -> Error {
    Error::select(
        "IncorrectSqlFunctionArgumentType",
        "An incorrect argument type was specified in a function call in the SQL expression.",
    )
}

/// The text of a scalar for string functions, or `None` for NULL/MISSING.
pub fn text<'a>(v: &Value<'a>) -> Result<Option<Cow<'a, str>>> {
    Ok(match v {
        Value::Missing | Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        Value::List(_) | Value::Struct(_) => return Err(bad_type()),
        other => {
            let mut out = Vec::new();
            other.write_text(&mut out);
            Some(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
        }
    })
}

/// `CAST(v AS ty)`.
pub fn cast<'a>(v: Value<'a>, ty: CastType) -> Result<Value<'a>> {
    if v.is_absent() {
        return Ok(v);
    }
    Ok(match ty {
        CastType::String => match v {
            Value::Str(_) => v,
            Value::List(_) | Value::Struct(_) => return Err(cast_failed()),
            other => {
                let mut out = Vec::new();
                other.write_text(&mut out);
                Value::Str(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
            }
        },
        CastType::Int => match v {
            Value::Int(_) => v,
            Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Value::Int(f.trunc() as i64),
            Value::Decimal(d) => Value::Int(d.trunc_i64().ok_or_else(cast_failed)?),
            Value::Bool(b) => Value::Int(i64::from(b)),
            Value::Str(s) => match parse_number(&s) {
                Some(Num::Int(i)) => Value::Int(i),
                // Truncating the text's exact value, not a double's approximation of it.
                Some(Num::Float(f)) if f.is_finite() && f.abs() < 9.2e18 => {
                    Value::Int(match Decimal::parse(&s).and_then(Decimal::trunc_i64) {
                        Some(i) => i,
                        None => f.trunc() as i64,
                    })
                }
                _ => return Err(cast_failed()),
            },
            _ => return Err(cast_failed()),
        },
        CastType::Float => match v {
            Value::Float(_) => v,
            Value::Int(i) => Value::Float(i as f64),
            Value::Decimal(d) => Value::Float(d.to_f64()),
            Value::Bool(b) => Value::Float(if b { 1.0 } else { 0.0 }),
            Value::Str(s) => match parse_number(&s) {
                Some(n) => Value::Float(n.f64()),
                None => return Err(cast_failed()),
            },
            _ => return Err(cast_failed()),
        },
        // Exact: text keeps every digit it has (up to 38, then rounded half to even) and its
        // scale; a double becomes its shortest decimal.
        CastType::Decimal => match v {
            Value::Decimal(_) => v,
            Value::Int(i) => Value::Decimal(Decimal::from_i64(i)),
            Value::Float(f) => Value::Decimal(Decimal::from_f64(f).ok_or_else(cast_failed)?),
            Value::Bool(b) => Value::Decimal(Decimal::from_i64(i64::from(b))),
            Value::Str(s) => Value::Decimal(Decimal::parse(&s).ok_or_else(cast_failed)?),
            _ => return Err(cast_failed()),
        },
        CastType::Bool => match v {
            Value::Bool(_) => v,
            Value::Int(i) => Value::Bool(i != 0),
            Value::Float(f) => Value::Bool(f != 0.0),
            Value::Decimal(d) => Value::Bool(!d.is_zero()),
            Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(cast_failed()),
            },
            _ => return Err(cast_failed()),
        },
        CastType::Timestamp => match v {
            Value::Ts(_) => v,
            Value::Str(s) => Value::Ts(Timestamp::parse(&s).ok_or_else(cast_failed)?),
            _ => return Err(cast_failed()),
        },
    })
}

/// `SUBSTRING(s, start [, len])` with SQL's 1-based, clamped semantics.
pub fn substring<'a>(
    s: &Value<'a>,
    start: &Value<'_>,
    len: Option<&Value<'_>>,
) -> Result<Value<'a>> {
    let Some(s) = text(s)? else {
        return Ok(Value::Null);
    };
    let int = |v: &Value<'_>| -> Result<Option<i64>> {
        match v {
            Value::Missing | Value::Null => Ok(None),
            v => match v.as_number() {
                Some(Num::Int(i)) => Ok(Some(i)),
                Some(Num::Float(f)) => Ok(Some(f as i64)),
                Some(Num::Dec(d)) => d.trunc_i64().map(Some).ok_or_else(bad_type),
                None => Err(bad_type()),
            },
        }
    };
    let Some(start) = int(start)? else {
        return Ok(Value::Null);
    };
    let end = match len {
        Some(l) => match int(l)? {
            None => return Ok(Value::Null),
            Some(l) if l < 0 => return Err(Error::select("InvalidArgument", "Invalid Argument")),
            Some(l) => Some(start.saturating_add(l)),
        },
        None => None,
    };
    let from = start.max(1) as usize - 1;
    let out: String = match end {
        Some(e) if e <= 1 => String::new(),
        Some(e) => s
            .chars()
            .skip(from)
            .take((e as usize - 1).saturating_sub(from))
            .collect(),
        None => s.chars().skip(from).collect(),
    };
    Ok(Value::Str(Cow::Owned(out)))
}

/// `TRIM([spec] [chars] FROM s)`.
pub fn trim<'a>(spec: TrimSpec, chars: Option<&Value<'_>>, s: &Value<'a>) -> Result<Value<'a>> {
    let Some(s) = text(s)? else {
        return Ok(Value::Null);
    };
    let set: Vec<char> = match chars {
        Some(c) => match text(c)? {
            Some(c) => c.chars().collect(),
            None => return Ok(Value::Null),
        },
        None => vec![' '],
    };
    let f = |c: char| set.contains(&c);
    let out = match spec {
        TrimSpec::Leading => s.trim_start_matches(f),
        TrimSpec::Trailing => s.trim_end_matches(f),
        TrimSpec::Both => s.trim_matches(f),
    };
    Ok(Value::Str(Cow::Owned(out.to_owned())))
}

/// A compiled LIKE pattern.
#[derive(Debug, Clone)]
pub enum LikeMatcher {
    /// No wildcards.
    Exact(String),
    /// `abc%`
    Prefix(String),
    /// `%abc`
    Suffix(String),
    /// `%abc%`
    Contains(Box<memmem::Finder<'static>>),
    /// Anything else.
    General(Vec<LikeTok>),
}

/// A piece of a general LIKE pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum LikeTok {
    /// A literal character.
    Char(char),
    /// `_`
    One,
    /// `%`
    Any,
}

impl LikeMatcher {
    /// Compiles `pattern` with an optional one-character escape.
    pub fn new(pattern: &str, escape: Option<&str>) -> Result<LikeMatcher> {
        let esc = match escape {
            None => None,
            Some(e) => {
                let mut cs = e.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Some(c),
                    _ => {
                        return Err(Error::select(
                            "EvaluatorLikePatternInvalidEscapeSequence",
                            "An argument given to the LIKE expression was not valid.",
                        ));
                    }
                }
            }
        };
        let mut toks = Vec::new();
        let mut it = pattern.chars();
        while let Some(c) = it.next() {
            if Some(c) == esc {
                match it.next() {
                    Some(n) if n == '%' || n == '_' || Some(n) == esc => {
                        toks.push(LikeTok::Char(n))
                    }
                    _ => {
                        return Err(Error::select(
                            "EvaluatorLikePatternInvalidEscapeSequence",
                            "An argument given to the LIKE expression was not valid.",
                        ));
                    }
                }
            } else if c == '%' {
                if toks.last() != Some(&LikeTok::Any) {
                    toks.push(LikeTok::Any);
                }
            } else if c == '_' {
                toks.push(LikeTok::One);
            } else {
                toks.push(LikeTok::Char(c));
            }
        }
        let lit = |t: &[LikeTok]| -> Option<String> {
            t.iter()
                .map(|t| {
                    if let LikeTok::Char(c) = t {
                        Some(*c)
                    } else {
                        None
                    }
                })
                .collect()
        };
        let n = toks.len();
        Ok(if let Some(s) = lit(&toks) {
            LikeMatcher::Exact(s)
        } else if n >= 1 && toks[n - 1] == LikeTok::Any && lit(&toks[..n - 1]).is_some() {
            LikeMatcher::Prefix(lit(&toks[..n - 1]).unwrap_or_default())
        } else if n >= 1 && toks[0] == LikeTok::Any && lit(&toks[1..]).is_some() {
            LikeMatcher::Suffix(lit(&toks[1..]).unwrap_or_default())
        } else if n >= 2
            && toks[0] == LikeTok::Any
            && toks[n - 1] == LikeTok::Any
            && lit(&toks[1..n - 1]).is_some()
        {
            let s = lit(&toks[1..n - 1]).unwrap_or_default();
            LikeMatcher::Contains(Box::new(memmem::Finder::new(s.as_bytes()).into_owned()))
        } else {
            LikeMatcher::General(toks)
        })
    }

    /// Whether raw bytes match, when that can be told without reading them as UTF-8: an
    /// ASCII-only pattern without `_` matches the bytes exactly when it matches their lossy
    /// UTF-8 reading (ASCII bytes are kept as they are, invalid ones never become ASCII).
    /// `None` for other patterns.
    pub fn matches_bytes(&self, b: &[u8]) -> Option<bool> {
        match self {
            LikeMatcher::Exact(p) if p.is_ascii() => Some(b == p.as_bytes()),
            LikeMatcher::Prefix(p) if p.is_ascii() => Some(b.starts_with(p.as_bytes())),
            LikeMatcher::Suffix(p) if p.is_ascii() => Some(b.ends_with(p.as_bytes())),
            LikeMatcher::Contains(f) if f.needle().is_ascii() => Some(f.find(b).is_some()),
            _ => None,
        }
    }

    /// Whether `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            LikeMatcher::Exact(p) => s == p,
            LikeMatcher::Prefix(p) => s.starts_with(p.as_str()),
            LikeMatcher::Suffix(p) => s.ends_with(p.as_str()),
            LikeMatcher::Contains(f) => f.find(s.as_bytes()).is_some(),
            LikeMatcher::General(toks) => {
                let chars: Vec<char> = s.chars().collect();
                general_match(toks, &chars)
            }
        }
    }
}

/// Wildcard matching with one backtrack point per `%` (linear in practice, never exponential).
fn general_match(p: &[LikeTok], s: &[char]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(LikeTok::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(LikeTok::One) => {
                pi += 1;
                si += 1;
            }
            Some(LikeTok::Char(c)) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|t| *t == LikeTok::Any)
}

fn ts_arg(v: &Value<'_>) -> Result<Option<Timestamp>> {
    match v {
        Value::Missing | Value::Null => Ok(None),
        Value::Ts(t) => Ok(Some(*t)),
        Value::Str(s) => Timestamp::parse(s).map(Some).ok_or_else(|| {
            Error::select(
                "ValueParseFailure",
                "Time stamp parse failure in the SQL expression.",
            )
        }),
        _ => Err(bad_type()),
    }
}

/// `EXTRACT(part FROM ts)`.
pub fn extract(part: DatePart, v: &Value<'_>) -> Result<Value<'static>> {
    let Some(t) = ts_arg(v)? else {
        return Ok(Value::Null);
    };
    let d = t.dt;
    let off = d.offset().local_minus_utc();
    Ok(Value::Int(match part {
        DatePart::Year => i64::from(d.year()),
        DatePart::Month => i64::from(d.month()),
        DatePart::Day => i64::from(d.day()),
        DatePart::Hour => i64::from(d.hour()),
        DatePart::Minute => i64::from(d.minute()),
        DatePart::Second => i64::from(d.second()),
        DatePart::TimezoneHour => i64::from(off / 3600),
        DatePart::TimezoneMinute => i64::from((off % 3600) / 60),
    }))
}

/// `DATE_ADD(part, n, ts)`.
pub fn date_add(part: DatePart, n: &Value<'_>, v: &Value<'_>) -> Result<Value<'static>> {
    let Some(t) = ts_arg(v)? else {
        return Ok(Value::Null);
    };
    let n = match n {
        Value::Missing | Value::Null => return Ok(Value::Null),
        other => match other.as_number() {
            Some(Num::Int(i)) => i,
            _ => return Err(bad_type()),
        },
    };
    let overflow = || {
        Error::select(
            "IntegerOverflow",
            "An integer overflow or underflow occurred in the SQL expression.",
        )
    };
    let months = |m: i64| -> Result<DateTime<FixedOffset>> {
        let r = if m >= 0 {
            t.dt.checked_add_months(Months::new(u32::try_from(m).map_err(|_| overflow())?))
        } else {
            t.dt.checked_sub_months(Months::new(u32::try_from(-m).map_err(|_| overflow())?))
        };
        r.ok_or_else(overflow)
    };
    let secs = |s: i64| -> Result<DateTime<FixedOffset>> {
        ChronoDuration::try_seconds(s)
            .and_then(|d| t.dt.checked_add_signed(d))
            .ok_or_else(overflow)
    };
    let (dt, min_precision) = match part {
        DatePart::Year => (
            months(n.checked_mul(12).ok_or_else(overflow)?)?,
            TsPrecision::Year,
        ),
        DatePart::Month => (months(n)?, TsPrecision::Month),
        DatePart::Day => (
            secs(n.checked_mul(86_400).ok_or_else(overflow)?)?,
            TsPrecision::Day,
        ),
        DatePart::Hour => (
            secs(n.checked_mul(3600).ok_or_else(overflow)?)?,
            TsPrecision::Minute,
        ),
        DatePart::Minute => (
            secs(n.checked_mul(60).ok_or_else(overflow)?)?,
            TsPrecision::Minute,
        ),
        DatePart::Second => (secs(n)?, TsPrecision::Second),
        DatePart::TimezoneHour | DatePart::TimezoneMinute => {
            return Err(Error::select("InvalidArgument", "Invalid Argument"));
        }
    };
    Ok(Value::Ts(Timestamp {
        dt,
        precision: t.precision.max(min_precision),
    }))
}

/// `DATE_DIFF(part, a, b)`: whole `part`s from `a` to `b`.
pub fn date_diff(part: DatePart, a: &Value<'_>, b: &Value<'_>) -> Result<Value<'static>> {
    let (Some(a), Some(b)) = (ts_arg(a)?, ts_arg(b)?) else {
        return Ok(Value::Null);
    };
    let (x, y) = (a.dt.with_timezone(&Utc), b.dt.with_timezone(&Utc));
    let months = || {
        let mut m =
            i64::from(y.year() - x.year()) * 12 + i64::from(y.month()) - i64::from(x.month());
        let rest = |d: &DateTime<Utc>| (d.day(), d.hour(), d.minute(), d.second(), d.nanosecond());
        if m > 0 && rest(&y) < rest(&x) {
            m -= 1;
        } else if m < 0 && rest(&y) > rest(&x) {
            m += 1;
        }
        m
    };
    let secs = (y - x).num_seconds();
    Ok(Value::Int(match part {
        DatePart::Year => months() / 12,
        DatePart::Month => months(),
        DatePart::Day => secs / 86_400,
        DatePart::Hour => secs / 3600,
        DatePart::Minute => secs / 60,
        DatePart::Second => secs,
        DatePart::TimezoneHour | DatePart::TimezoneMinute => {
            return Err(Error::select("InvalidArgument", "Invalid Argument"));
        }
    }))
}

/// `UTCNOW()` at `now`.
pub fn utcnow(now: SystemTime) -> Value<'static> {
    let dt: DateTime<Utc> = now.into();
    let utc = FixedOffset::east_opt(0).map(|o| dt.with_timezone(&o));
    match utc {
        Some(dt) => Value::Ts(Timestamp {
            dt,
            precision: TsPrecision::Fraction(3),
        }),
        None => Value::Null,
    }
}

/// `TO_TIMESTAMP(s)`.
pub fn to_timestamp(v: &Value<'_>) -> Result<Value<'static>> {
    Ok(match ts_arg(v)? {
        Some(t) => Value::Ts(t),
        None => Value::Null,
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `TO_STRING(ts, pattern)` with the documented pattern letters (`y M d a h H m s S n X x`
/// and `'quoted text'`).
pub fn to_string(v: &Value<'_>, pattern: &Value<'_>) -> Result<Value<'static>> {
    let Some(t) = ts_arg(v)? else {
        return Ok(Value::Null);
    };
    let Some(p) = text(pattern)? else {
        return Ok(Value::Null);
    };
    let d = t.dt;
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => {
                        return Err(Error::select(
                            "EvaluatorUnterminatedTimestampFormatPatternToken",
                            "The timestamp format pattern contains an unterminated token in the SQL expression.",
                        ));
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(ch) => {
                        out.push(*ch);
                        j += 1;
                    }
                }
            }
            if j == i + 1 {
                out.push('\'');
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let off = d.offset().local_minus_utc();
        let zone = |colon: bool, z: bool| -> String {
            if off == 0 && z {
                return "Z".into();
            }
            let sign = if off < 0 { '-' } else { '+' };
            let a = off.abs();
            if colon {
                format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
            } else {
                format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
            }
        };
        let s = match (c, n) {
            ('y', 2) => format!("{:02}", d.year().rem_euclid(100)),
            ('y', n) => format!("{:0width$}", d.year(), width = n),
            ('M', 1) => d.month().to_string(),
            ('M', 2) => format!("{:02}", d.month()),
            ('M', 3) => MONTHS[d.month0() as usize][..3].to_owned(),
            ('M', 4) => MONTHS[d.month0() as usize].to_owned(),
            ('M', 5) => MONTHS[d.month0() as usize][..1].to_owned(),
            ('d', n) if n <= 2 => format!("{:0width$}", d.day(), width = n),
            ('a', 1) => (if d.hour() < 12 { "AM" } else { "PM" }).to_owned(),
            ('h', n) if n <= 2 => format!("{:0width$}", (d.hour() + 11) % 12 + 1, width = n),
            ('H', n) if n <= 2 => format!("{:0width$}", d.hour(), width = n),
            ('m', n) if n <= 2 => format!("{:0width$}", d.minute(), width = n),
            ('s', n) if n <= 2 => format!("{:0width$}", d.second(), width = n),
            ('S', n) if n <= 9 => format!("{:09}", d.nanosecond())[..n].to_owned(),
            ('n', 1) => d.nanosecond().to_string(),
            ('X', 1) => {
                if off == 0 {
                    "Z".into()
                } else {
                    let a = off.abs();
                    format!("{}{:02}", if off < 0 { '-' } else { '+' }, a / 3600)
                }
            }
            ('X', 2) => zone(false, true),
            ('X', 3) => zone(true, true),
            ('x', 1) => format!("{}{:02}", if off < 0 { '-' } else { '+' }, off.abs() / 3600),
            ('x', 2) => zone(false, false),
            ('x', 3) => zone(true, false),
            ('M' | 'd' | 'a' | 'h' | 'H' | 'm' | 's' | 'S' | 'n' | 'X' | 'x', _) => {
                return Err(Error::select(
                    "EvaluatorInvalidTimestampFormatPattern",
                    "The timestamp format string in the SQL expression is not valid.",
                ));
            }
            _ => {
                return Err(Error::select(
                    "EvaluatorInvalidTimestampFormatPatternSymbol",
                    "The timestamp format pattern contains a symbol in the SQL expression that is not valid.",
                ));
            }
        };
        out.push_str(&s);
    }
    Ok(Value::Str(Cow::Owned(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value<'_> {
        Value::str(v)
    }

    #[test]
    fn substring_matches_the_documented_examples() {
        let one = |a: i64, b: Option<i64>| match substring(
            &s("123456789"),
            &Value::Int(a),
            b.map(Value::Int).as_ref(),
        )
        .unwrap()
        {
            Value::Str(x) => x.into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(one(0, None), "123456789");
        assert_eq!(one(1, None), "123456789");
        assert_eq!(one(2, None), "23456789");
        assert_eq!(one(-4, None), "123456789");
        assert_eq!(one(0, Some(999)), "123456789");
        assert_eq!(one(1, Some(5)), "12345");
    }

    #[test]
    fn like() {
        let m = |p: &str, e: Option<&str>, x: &str| LikeMatcher::new(p, e).unwrap().matches(x);
        assert!(m("a%", None, "abc"));
        assert!(m("%c", None, "abc"));
        assert!(m("%b%", None, "abc"));
        assert!(m("a_c", None, "abc"));
        assert!(!m("a_c", None, "abbc"));
        assert!(m("%a%b%c%", None, "xxaxxbxxcxx"));
        assert!(m("a\\%%", Some("\\"), "a%bc"));
        assert!(!m("a\\%%", Some("\\"), "abc"));
        assert!(LikeMatcher::new("a\\", Some("\\")).is_err());
        assert!(LikeMatcher::new("a", Some("xy")).is_err());
    }

    #[test]
    fn dates() {
        let t = |x: &str| Value::Ts(Timestamp::parse(x).unwrap());
        assert_eq!(
            date_diff(DatePart::Year, &t("2010-01-01T"), &t("2011-01-01T")).unwrap(),
            Value::Int(1)
        );
        assert_eq!(
            date_diff(DatePart::Month, &t("2010T"), &t("2010-05T")).unwrap(),
            Value::Int(4)
        );
        assert_eq!(
            date_diff(
                DatePart::Day,
                &t("2010-01-01T23:00Z"),
                &t("2010-01-02T01:00Z")
            )
            .unwrap(),
            Value::Int(0)
        );
        let added = date_add(DatePart::Month, &Value::Int(1), &t("2010-01-31T")).unwrap();
        assert_eq!(added, Value::Ts(Timestamp::parse("2010-02-28T").unwrap()));
        assert_eq!(
            extract(DatePart::TimezoneHour, &t("2017-01-02T03:04:05+07:08")).unwrap(),
            Value::Int(7)
        );
        let out = to_string(&t("1969-07-20T20:18:00Z"), &s("MMMM d, y hh:mm a 'UTC'")).unwrap();
        assert_eq!(out, Value::str("July 20, 1969 08:18 PM UTC"));
        assert!(to_string(&t("1969-07-20T20:18Z"), &s("'open")).is_err());
        assert!(to_string(&t("1969-07-20T20:18Z"), &s("q")).is_err());
    }

    #[test]
    fn casts() {
        assert_eq!(cast(s("12"), CastType::Int).unwrap(), Value::Int(12));
        assert_eq!(
            cast(s(" 1.5 "), CastType::Float).unwrap(),
            Value::Float(1.5)
        );
        assert!(cast(s("x"), CastType::Int).is_err());
        assert_eq!(
            cast(Value::Int(3), CastType::String).unwrap(),
            Value::str("3")
        );
        assert_eq!(cast(s("TRUE"), CastType::Bool).unwrap(), Value::Bool(true));
        assert_eq!(cast(Value::Null, CastType::Int).unwrap(), Value::Null);
        assert!(matches!(
            cast(s("2020-01-01T"), CastType::Timestamp).unwrap(),
            Value::Ts(_)
        ));
    }
}
