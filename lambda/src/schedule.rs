//! Schedule expressions as EventBridge and SAM `Schedule` events write them: `rate(N unit)` and
//! AWS's six-field `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC.
//!
//! The cron dialect is AWS's (Quartz-derived), not Unix cron: six fields, `?` in exactly one of
//! Day-of-month and Day-of-week, `L` (last day of the month; in Day-of-week `L` alone is Saturday
//! and `nL` the month's last weekday `n`), `W` (`nW` the weekday nearest day `n` without leaving
//! the month, `LW` the month's last weekday), `#` (`d#n` the n-th weekday `d`, alone in its field),
//! ranges (wrapping around, as `FRI-MON`, except for years), lists and `/` steps, month and day
//! names in any case. Every malformed expression is refused with the text EventBridge's `PutRule`
//! answers (`Parameter ScheduleExpression is not valid.`); [`ScheduleError::reason`] says what
//! was wrong.
//!
//! Guarantees: parsing never panics; [`ScheduleExpression`]'s `Display` prints a canonical form
//! that parses back to the same value; [`Cron::next_after`] returns the first matching minute
//! strictly after an instant (or `None` when no minute through 2199 matches), found by skipping
//! whole years, months and days rather than by testing every minute.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The message EventBridge gives for every malformed schedule expression.
pub const INVALID_SCHEDULE: &str = "Parameter ScheduleExpression is not valid.";

/// A schedule expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Parameter ScheduleExpression is not valid.")]
pub struct ScheduleError {
    reason: String,
}

impl ScheduleError {
    fn new(reason: impl Into<String>) -> Self {
        ScheduleError {
            reason: reason.into(),
        }
    }

    /// What exactly was wrong (EventBridge itself says no more than [`INVALID_SCHEDULE`]).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// `rate(...)` or `cron(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// A fixed interval, counted from when the schedule was created.
    Rate(Duration),
    /// Calendar times in UTC.
    Cron(Cron),
}

impl ScheduleExpression {
    /// Parses `rate(5 minutes)` or `cron(0 12 * * ? *)`.
    pub fn parse(s: &str) -> Result<ScheduleExpression, ScheduleError> {
        if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            return parse_rate(inner).map(ScheduleExpression::Rate);
        }
        if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return Cron::parse(inner).map(ScheduleExpression::Cron);
        }
        Err(ScheduleError::new(
            "an expression is rate(value unit) or cron(fields)",
        ))
    }

    /// The first firing strictly after `after`, for a schedule created at `created`.
    pub fn next_after(&self, created: SystemTime, after: SystemTime) -> Option<SystemTime> {
        match self {
            ScheduleExpression::Rate(every) => {
                let since = after.duration_since(created).unwrap_or_default();
                let n = since.as_nanos() / every.as_nanos().max(1) + 1;
                let n = u32::try_from(n).ok()?;
                created.checked_add(every.checked_mul(n)?)
            }
            ScheduleExpression::Cron(c) => c.next_after(after),
        }
    }
}

impl fmt::Display for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleExpression::Rate(d) => {
                let s = d.as_secs();
                let (n, unit) = if s % 86_400 == 0 {
                    (s / 86_400, "day")
                } else if s % 3600 == 0 {
                    (s / 3600, "hour")
                } else {
                    (s / 60, "minute")
                };
                write!(f, "rate({n} {unit}{})", if n == 1 { "" } else { "s" })
            }
            ScheduleExpression::Cron(c) => write!(f, "cron({c})"),
        }
    }
}

fn parse_rate(inner: &str) -> Result<Duration, ScheduleError> {
    let bad = || ScheduleError::new(format!("'{inner}' is not 'value unit'"));
    let mut it = inner.split(' ');
    let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match (unit, n) {
        (_, 0) => return Err(ScheduleError::new("the rate value must be positive")),
        ("minute", 1) | ("minutes", 2..) => 60,
        ("hour", 1) | ("hours", 2..) => 3600,
        ("day", 1) | ("days", 2..) => 86_400,
        _ => {
            return Err(ScheduleError::new(format!(
                "unit '{unit}' (minute/hour/day when the value is 1, minutes/hours/days otherwise)"
            )));
        }
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| ScheduleError::new("the rate is too long"))
}

/// The first and last year a cron expression may name.
pub const FIRST_YEAR: u32 = 1970;
/// See [`FIRST_YEAR`].
pub const LAST_YEAR: u32 = 2199;

/// Day-of-month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfMonth {
    /// `?`.
    Any,
    /// Days 1–31 (bit n = day n).
    Days(u64),
    /// `L`: the last day.
    Last,
    /// `LW`: the last weekday (Monday–Friday).
    LastWeekday,
    /// `nW`: the weekday nearest day n, within the month.
    NearestWeekday(u8),
}

/// Day-of-week (1 = Sunday … 7 = Saturday).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfWeek {
    /// `?`.
    Any,
    /// Weekdays (bit n = weekday n).
    Days(u64),
    /// `nL`: the last weekday n of the month.
    Last(u8),
    /// `d#n`: the n-th weekday d of the month.
    Nth(u8, u8),
}

/// A parsed `cron(...)` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    dom: DayOfMonth,
    months: u64,
    dow: DayOfWeek,
    /// Bit n = year FIRST_YEAR + n.
    years: [u64; 4],
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    steps: bool,
    wraps: bool,
}

const MINUTE: Field = Field {
    name: "Minutes",
    min: 0,
    max: 59,
    names: &[],
    steps: true,
    wraps: true,
};
const HOUR: Field = Field {
    name: "Hours",
    min: 0,
    max: 23,
    names: &[],
    steps: true,
    wraps: true,
};
const DOM: Field = Field {
    name: "Day-of-month",
    min: 1,
    max: 31,
    names: &[],
    steps: true,
    wraps: true,
};
const MONTH: Field = Field {
    name: "Month",
    min: 1,
    max: 12,
    names: &MONTHS,
    steps: true,
    wraps: true,
};
const DOW: Field = Field {
    name: "Day-of-week",
    min: 1,
    max: 7,
    names: &WEEKDAYS,
    steps: false,
    wraps: true,
};
const YEAR: Field = Field {
    name: "Year",
    min: FIRST_YEAR,
    max: LAST_YEAR,
    names: &[],
    steps: true,
    wraps: false,
};

impl Field {
    fn value(&self, s: &str) -> Result<u32, ScheduleError> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(v) = s.parse::<u32>()
                && (self.min..=self.max).contains(&v)
            {
                return Ok(v);
            }
            return Err(ScheduleError::new(format!(
                "{}: {s} is outside {}-{}",
                self.name, self.min, self.max
            )));
        }
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map(|i| i as u32 + self.min)
            .ok_or_else(|| ScheduleError::new(format!("{}: '{s}' is not a value", self.name)))
    }

    /// Parses a list of values, ranges, `*` and steps into bits `value - min`.
    fn set(&self, text: &str) -> Result<Vec<u32>, ScheduleError> {
        let mut out = Vec::new();
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) if self.steps => {
                    let span = self.max - self.min;
                    let step = match s.parse::<u32>() {
                        Ok(n) if !s.starts_with('+') && (1..=span.max(1)).contains(&n) => n,
                        _ => {
                            return Err(ScheduleError::new(format!(
                                "{}: increment '{s}' must be 1-{}",
                                self.name,
                                span.max(1)
                            )));
                        }
                    };
                    (r, Some(step))
                }
                Some(_) => {
                    return Err(ScheduleError::new(format!(
                        "{}: '/' is not allowed",
                        self.name
                    )));
                }
                None => (item, None),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                (self.value(a)?, self.value(b)?)
            } else {
                let v = self.value(range)?;
                // `a/n` runs from a to the field's end.
                (v, if step.is_some() { self.max } else { v })
            };
            if lo > hi && !self.wraps {
                return Err(ScheduleError::new(format!(
                    "{}: range {lo}-{hi} runs backwards",
                    self.name
                )));
            }
            let step = step.unwrap_or(1);
            let width = self.max - self.min + 1;
            let len = if lo <= hi { hi - lo } else { hi + width - lo };
            let mut k = 0;
            while k <= len {
                out.push((lo - self.min + k) % width);
                k += step;
            }
        }
        Ok(out)
    }

    fn bits(&self, text: &str) -> Result<u64, ScheduleError> {
        Ok(self.set(text)?.into_iter().fold(0, |acc, b| acc | 1 << b))
    }
}

impl Cron {
    /// Parses the six fields inside `cron(...)`.
    pub fn parse(inner: &str) -> Result<Cron, ScheduleError> {
        let fields: Vec<&str> = inner.split(' ').filter(|f| !f.is_empty()).collect();
        let [mi, h, dom, mo, dow, y] = fields.as_slice() else {
            return Err(ScheduleError::new(format!(
                "a cron expression has six fields, not {}",
                fields.len()
            )));
        };
        let dom = parse_dom(dom)?;
        let dow = parse_dow(dow)?;
        match (&dom, &dow) {
            (DayOfMonth::Any, DayOfWeek::Any) => {
                return Err(ScheduleError::new(
                    "only one of Day-of-month and Day-of-week may be '?'",
                ));
            }
            (DayOfMonth::Any, _) | (_, DayOfWeek::Any) => {}
            _ => {
                return Err(ScheduleError::new(
                    "one of Day-of-month and Day-of-week must be '?'",
                ));
            }
        }
        let mut years = [0u64; 4];
        for b in YEAR.set(y)? {
            years[(b / 64) as usize] |= 1 << (b % 64);
        }
        Ok(Cron {
            minutes: MINUTE.bits(mi)?,
            hours: HOUR.bits(h)?,
            dom,
            months: MONTH.bits(mo)? << 1,
            dow,
            years,
        })
    }

    fn year_ok(&self, y: u32) -> bool {
        (FIRST_YEAR..=LAST_YEAR).contains(&y) && {
            let b = y - FIRST_YEAR;
            self.years[(b / 64) as usize] >> (b % 64) & 1 == 1
        }
    }

    /// The days of `year`/`month` that match, as bits (bit d = day d).
    fn days(&self, year: i64, month: u32) -> u64 {
        let dim = days_in_month(year, month);
        let first = days_from_civil(year, month, 1);
        let weekday = |d: u32| weekday(first + i64::from(d) - 1);
        let mut out = 0u64;
        for d in 1..=dim {
            let ok = match &self.dom {
                DayOfMonth::Days(b) => b >> d & 1 == 1,
                DayOfMonth::Last => d == dim,
                DayOfMonth::LastWeekday => {
                    let last = (1..=dim).rev().find(|&x| (2..=6).contains(&weekday(x)));
                    Some(d) == last
                }
                DayOfMonth::NearestWeekday(n) => {
                    Some(d) == nearest_weekday(u32::from(*n), dim, weekday)
                }
                DayOfMonth::Any => match &self.dow {
                    DayOfWeek::Any => false,
                    DayOfWeek::Days(b) => b >> weekday(d) & 1 == 1,
                    DayOfWeek::Last(w) => weekday(d) == u32::from(*w) && d + 7 > dim,
                    DayOfWeek::Nth(w, n) => {
                        weekday(d) == u32::from(*w) && (d - 1) / 7 + 1 == u32::from(*n)
                    }
                },
            };
            if ok {
                out |= 1 << d;
            }
        }
        out
    }

    /// Whether the minute containing `t` matches.
    pub fn matches(&self, t: SystemTime) -> bool {
        let Ok(d) = t.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let mins = d.as_secs() / 60;
        let (y, m, day) = civil_from_days((mins / 1440) as i64);
        let (h, mi) = ((mins % 1440) / 60, mins % 60);
        self.year_ok(y as u32)
            && self.months >> m & 1 == 1
            && self.days(y, m) >> day & 1 == 1
            && self.hours >> h & 1 == 1
            && self.minutes >> mi & 1 == 1
    }

    /// The first matching minute strictly after `after`, or `None` if none comes before 2200.
    pub fn next_after(&self, after: SystemTime) -> Option<SystemTime> {
        let secs = after.duration_since(UNIX_EPOCH).ok()?.as_secs();
        let start = secs / 60 + 1;
        let (mut y, mut mo, mut d) = civil_from_days((start / 1440) as i64);
        let (mut h, mut mi) = (((start % 1440) / 60) as u32, (start % 60) as u32);
        while y <= i64::from(LAST_YEAR) {
            if y < i64::from(FIRST_YEAR) || !self.year_ok(y as u32) {
                (y, mo, d, h, mi) = (y + 1, 1, 1, 0, 0);
                continue;
            }
            while mo <= 12 {
                if self.months >> mo & 1 == 1 {
                    let days = self.days(y, mo);
                    while d <= 31 {
                        if days >> d & 1 == 1 {
                            let hit_h = (h..24).find(|x| self.hours >> x & 1 == 1);
                            if let Some(hh) = hit_h {
                                let from = if hh == h { mi } else { 0 };
                                if let Some(mm) = (from..60).find(|x| self.minutes >> x & 1 == 1) {
                                    let day = days_from_civil(y, mo, d);
                                    let total =
                                        (day * 1440 + i64::from(hh) * 60 + i64::from(mm)) * 60;
                                    return UNIX_EPOCH
                                        .checked_add(Duration::from_secs(total as u64));
                                }
                                // No minute left in this hour: the next matching hour from minute 0.
                                if let Some(h2) = (hh + 1..24).find(|x| self.hours >> x & 1 == 1)
                                    && let Some(mm) = (0..60).find(|x| self.minutes >> x & 1 == 1)
                                {
                                    let day = days_from_civil(y, mo, d);
                                    let total =
                                        (day * 1440 + i64::from(h2) * 60 + i64::from(mm)) * 60;
                                    return UNIX_EPOCH
                                        .checked_add(Duration::from_secs(total as u64));
                                }
                            }
                        }
                        (d, h, mi) = (d + 1, 0, 0);
                    }
                }
                (mo, d, h, mi) = (mo + 1, 1, 0, 0);
            }
            (y, mo, d, h, mi) = (y + 1, 1, 1, 0, 0);
        }
        None
    }
}

fn nearest_weekday(n: u32, dim: u32, weekday: impl Fn(u32) -> u32) -> Option<u32> {
    if n > dim {
        return None;
    }
    Some(match weekday(n) {
        // Saturday: the Friday before, or Monday the 3rd when n is the 1st.
        7 if n == 1 => 3,
        7 => n - 1,
        // Sunday: the Monday after, or the Friday before when n is the month's last day.
        1 if n == dim => n - 2,
        1 => n + 1,
        _ => n,
    })
}

fn parse_dom(s: &str) -> Result<DayOfMonth, ScheduleError> {
    match s {
        "?" => Ok(DayOfMonth::Any),
        "L" => Ok(DayOfMonth::Last),
        "LW" => Ok(DayOfMonth::LastWeekday),
        _ if s.ends_with('W') => {
            let n = DOM.value(&s[..s.len() - 1])?;
            Ok(DayOfMonth::NearestWeekday(n as u8))
        }
        _ if s.contains(['L', 'W', '#', '?']) => Err(ScheduleError::new(format!(
            "Day-of-month: '{s}' mixes L, W or ? with other values"
        ))),
        _ => Ok(DayOfMonth::Days(DOM.bits(s)? << 1)),
    }
}

fn parse_dow(s: &str) -> Result<DayOfWeek, ScheduleError> {
    if s == "?" {
        return Ok(DayOfWeek::Any);
    }
    if s == "L" {
        // `L` alone in Day-of-week is its last day, Saturday.
        return Ok(DayOfWeek::Days(1 << 7));
    }
    if let Some((d, n)) = s.split_once('#') {
        let d = DOW.value(d)?;
        let n = match n.as_bytes() {
            [c @ b'1'..=b'5'] => c - b'0',
            _ => {
                return Err(ScheduleError::new(format!(
                    "Day-of-week: '#{n}' must be #1-#5 and the field's only expression"
                )));
            }
        };
        return Ok(DayOfWeek::Nth(d as u8, n));
    }
    if let Some(d) = s.strip_suffix('L') {
        return Ok(DayOfWeek::Last(DOW.value(d)? as u8));
    }
    if s.contains(['L', 'W', '?']) {
        return Err(ScheduleError::new(format!(
            "Day-of-week: '{s}' mixes L or ? with other values"
        )));
    }
    Ok(DayOfWeek::Days(DOW.bits(s)? << 1))
}

/// Prints a bit set as a comma list, folding runs of three or more into ranges.
fn write_bits(f: &mut fmt::Formatter<'_>, bits: u64, lo: u32, hi: u32, all: bool) -> fmt::Result {
    if all {
        return f.write_str("*");
    }
    let mut first = true;
    let mut v = lo;
    while v <= hi {
        if bits >> v & 1 == 0 {
            v += 1;
            continue;
        }
        let mut end = v;
        while end < hi && bits >> (end + 1) & 1 == 1 {
            end += 1;
        }
        if !first {
            f.write_str(",")?;
        }
        first = false;
        if end >= v + 2 {
            write!(f, "{v}-{end}")?;
        } else if end == v + 1 {
            write!(f, "{v},{end}")?;
        } else {
            write!(f, "{v}")?;
        }
        v = end + 1;
    }
    Ok(())
}

fn full(bits: u64, lo: u32, hi: u32) -> bool {
    (lo..=hi).all(|v| bits >> v & 1 == 1)
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bits(f, self.minutes, 0, 59, full(self.minutes, 0, 59))?;
        f.write_str(" ")?;
        write_bits(f, self.hours, 0, 23, full(self.hours, 0, 23))?;
        f.write_str(" ")?;
        match &self.dom {
            DayOfMonth::Any => f.write_str("?")?,
            DayOfMonth::Days(b) => write_bits(f, *b, 1, 31, full(*b, 1, 31))?,
            DayOfMonth::Last => f.write_str("L")?,
            DayOfMonth::LastWeekday => f.write_str("LW")?,
            DayOfMonth::NearestWeekday(n) => write!(f, "{n}W")?,
        }
        f.write_str(" ")?;
        write_bits(f, self.months, 1, 12, full(self.months, 1, 12))?;
        f.write_str(" ")?;
        match &self.dow {
            DayOfWeek::Any => f.write_str("?")?,
            DayOfWeek::Days(b) => write_bits(f, *b, 1, 7, full(*b, 1, 7))?,
            DayOfWeek::Last(d) => write!(f, "{d}L")?,
            DayOfWeek::Nth(d, n) => write!(f, "{d}#{n}")?,
        }
        f.write_str(" ")?;
        let all = (FIRST_YEAR..=LAST_YEAR).all(|y| self.year_ok(y));
        if all {
            return f.write_str("*");
        }
        let mut first = true;
        let mut y = FIRST_YEAR;
        while y <= LAST_YEAR {
            if !self.year_ok(y) {
                y += 1;
                continue;
            }
            let mut end = y;
            while end < LAST_YEAR && self.year_ok(end + 1) {
                end += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if end > y {
                write!(f, "{y}-{end}")?;
            } else {
                write!(f, "{y}")?;
            }
            y = end + 1;
        }
        Ok(())
    }
}

/// 1 = Sunday … 7 = Saturday for a day number counted from 1970-01-01 (a Thursday).
fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32 + 1
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number counted from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32, h: u64, mi: u64) -> SystemTime {
        UNIX_EPOCH
            + Duration::from_secs(days_from_civil(y, m, d) as u64 * 86_400 + h * 3600 + mi * 60)
    }

    fn next(expr: &str, from: SystemTime) -> SystemTime {
        let ScheduleExpression::Cron(c) = ScheduleExpression::parse(expr).unwrap() else {
            panic!("not cron")
        };
        c.next_after(from).unwrap()
    }

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(0), 5); // Thursday
        for z in [-1000, 0, 59, 365, 11_016, 20_000, 80_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn documented_examples() {
        let t = at(2026, 1, 1, 0, 0); // a Thursday
        assert_eq!(next("cron(0 10 * * ? *)", t), at(2026, 1, 1, 10, 0));
        assert_eq!(next("cron(15 12 * * ? *)", t), at(2026, 1, 1, 12, 15));
        assert_eq!(next("cron(0 18 ? * MON-FRI *)", t), at(2026, 1, 1, 18, 0));
        assert_eq!(next("cron(0 8 1 * ? *)", t), at(2026, 1, 1, 8, 0));
        assert_eq!(
            next("cron(0 8 1 * ? *)", at(2026, 1, 1, 8, 0)),
            at(2026, 2, 1, 8, 0)
        );
        assert_eq!(next("cron(0/15 * * * ? *)", t), at(2026, 1, 1, 0, 15));
        assert_eq!(
            next("cron(0/5 8-17 ? * MON-FRI *)", at(2026, 1, 2, 17, 55)),
            at(2026, 1, 5, 8, 0)
        );
        assert_eq!(next("cron(0 9 ? * 2#1 *)", t), at(2026, 1, 5, 9, 0));
        assert_eq!(next("cron(1/10 * * * ? *)", t), at(2026, 1, 1, 0, 1));
    }

    #[test]
    fn last_weekday_and_nth() {
        let t = at(2026, 1, 1, 0, 0);
        assert_eq!(next("cron(0 0 L * ? *)", t), at(2026, 1, 31, 0, 0));
        assert_eq!(next("cron(0 0 L 2 ? *)", t), at(2026, 2, 28, 0, 0));
        assert_eq!(next("cron(0 0 L 2 ? 2028)", t), at(2028, 2, 29, 0, 0));
        // January 2026 ends on a Saturday: the last weekday is Friday the 30th.
        assert_eq!(next("cron(0 0 LW * ? *)", t), at(2026, 1, 30, 0, 0));
        // The 3rd of January 2026 is a Saturday: 3W is Friday the 2nd.
        assert_eq!(next("cron(0 0 3W * ? *)", t), at(2026, 1, 2, 0, 0));
        // February 1st 2026 is a Sunday: 1W is Monday the 2nd.
        assert_eq!(next("cron(0 0 1W 2 ? *)", t), at(2026, 2, 2, 0, 0));
        // The last Friday of January 2026 is the 30th.
        assert_eq!(next("cron(0 0 ? * 6L *)", t), at(2026, 1, 30, 0, 0));
        assert_eq!(next("cron(0 0 ? * L *)", t), at(2026, 1, 3, 0, 0));
        assert_eq!(next("cron(0 0 ? * FRI-MON *)", t), at(2026, 1, 2, 0, 0));
        assert_eq!(
            next("cron(0 22-2 * * ? *)", at(2026, 1, 1, 3, 0)),
            at(2026, 1, 1, 22, 0)
        );
        // 30 February never comes.
        let ScheduleExpression::Cron(c) = ScheduleExpression::parse("cron(0 0 30 2 ? *)").unwrap()
        else {
            panic!()
        };
        assert_eq!(c.next_after(t), None);
    }

    #[test]
    fn invalid_expressions() {
        for bad in [
            "cron(0 10 * * * *)",
            "cron(0 10 ? * ? *)",
            "cron(*/60 * * * ? *)",
            "cron(60 * * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 ? * 8 *)",
            "cron(0 0 ? * 3#1,6#3 *)",
            "cron(0 0 ? * 3#6 *)",
            "cron(0 0 * * ? 1969)",
            "cron(0 0 * * ? 2200)",
            "cron(0 0 * * ? 2030-2020)",
            "cron(0 0 * * ?)",
            "cron(* * * * * * *)",
            "cron(0 0 ? * MON/2 *)",
            "cron(0 0 L,3 * ? *)",
            "cron(0 0 * FOO ? *)",
            "cron(0/0 0 * * ? *)",
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(5  minutes)",
            "every 5 minutes",
        ] {
            let e = ScheduleExpression::parse(bad).unwrap_err();
            assert_eq!(e.to_string(), INVALID_SCHEDULE, "{bad}");
        }
    }

    #[test]
    fn canonical_print_round_trips() {
        for expr in [
            "cron(0 18 ? * MON-FRI *)",
            "cron(0/5 8-17 ? jan,mar * 2026-2030)",
            "cron(7 1 LW * ? *)",
            "cron(0 0 ? * 2#3 *)",
            "rate(1 day)",
            "rate(90 minutes)",
        ] {
            let p = ScheduleExpression::parse(expr).unwrap();
            assert_eq!(
                ScheduleExpression::parse(&p.to_string()).unwrap(),
                p,
                "{expr} -> {p}"
            );
        }
        assert_eq!(
            ScheduleExpression::parse("cron(0 18 ? * MON-FRI *)")
                .unwrap()
                .to_string(),
            "cron(0 18 ? * 2-6 *)"
        );
    }

    #[test]
    fn rates_count_from_creation() {
        let created = at(2026, 1, 1, 0, 0);
        let r = ScheduleExpression::parse("rate(5 minutes)").unwrap();
        assert_eq!(r.next_after(created, created), Some(at(2026, 1, 1, 0, 5)));
        assert_eq!(
            r.next_after(created, at(2026, 1, 1, 0, 7)),
            Some(at(2026, 1, 1, 0, 10))
        );
    }
}
