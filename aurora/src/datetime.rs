//! Dates, times, timestamps and intervals: PostgreSQL's input and output formats and arithmetic.
//!
//! Guarantee: values round-trip through their text form; invalid input is rejected with 22007 or
//! 22008 rather than guessed. The session time zone is UTC, so `timestamptz` prints with `+00`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::{AuroraError, Result};
use crate::value::Interval;

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn bad(type_name: &str, input: &str) -> AuroraError {
    AuroraError::sql(
        "22007",
        format!("invalid input syntax for type {type_name}: \"{input}\""),
    )
}

/// Days since 1970-01-01 of a calendar date.
pub fn days_from_date(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// The calendar date of a day number.
pub fn date_from_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

/// The date and time of a timestamp.
pub fn datetime_from_micros(micros: i64) -> NaiveDateTime {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let date = epoch() + chrono::Duration::days(days);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(
        (rem / 1_000_000) as u32,
        ((rem % 1_000_000) * 1000) as u32,
    )
    .unwrap_or_default();
    NaiveDateTime::new(date, time)
}

/// Microseconds since the epoch of a date and time.
pub fn micros_from_datetime(dt: NaiveDateTime) -> i64 {
    let days = days_from_date(dt.date()) as i64;
    days * MICROS_PER_DAY + micros_from_time(dt.time())
}

fn micros_from_time(t: NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
}

/// Parses `YYYY-MM-DD` (also accepting a trailing time, which is dropped).
pub fn parse_date(s: &str) -> Result<i32> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if lower == "epoch" {
        return Ok(0);
    }
    let date_part = t.split([' ', 'T']).next().unwrap_or(t);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .map(days_from_date)
        .map_err(|_| bad("date", s))
}

/// Parses `HH:MM[:SS[.ffffff]]`.
pub fn parse_time(s: &str) -> Result<i64> {
    let t = s.trim();
    for fmt in ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"] {
        if let Ok(time) = NaiveTime::parse_from_str(t, fmt) {
            return Ok(micros_from_time(time));
        }
    }
    if t == "24:00:00" || t == "24:00" {
        return Ok(MICROS_PER_DAY);
    }
    Err(bad("time without time zone", s))
}

/// Parses a timestamp; a trailing zone offset (`+02`, `Z`, `+05:30`) is applied and the result
/// is UTC. `with_tz` names the type in errors.
pub fn parse_timestamp(s: &str, with_tz: bool) -> Result<i64> {
    let type_name = if with_tz {
        "timestamp with time zone"
    } else {
        "timestamp without time zone"
    };
    let t = s.trim();
    if t.eq_ignore_ascii_case("epoch") {
        return Ok(0);
    }
    let (body, offset) = split_offset(t);
    let body = body.trim();
    let mut parsed = None;
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, fmt) {
            parsed = Some(dt);
            break;
        }
    }
    if parsed.is_none()
        && let Ok(d) = NaiveDate::parse_from_str(body, "%Y-%m-%d")
    {
        parsed = d.and_hms_opt(0, 0, 0);
    }
    let dt = parsed.ok_or_else(|| bad(type_name, s))?;
    let mut micros = micros_from_datetime(dt);
    if with_tz {
        micros -= offset.unwrap_or(0) * 1_000_000;
    }
    Ok(micros)
}

/// Splits a trailing UTC offset off a timestamp literal, in seconds east of UTC.
fn split_offset(s: &str) -> (&str, Option<i64>) {
    if let Some(body) = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix(" UTC"))
        .or_else(|| s.strip_suffix("+00"))
    {
        return (body, Some(0));
    }
    // An offset starts with + or - after the time part (position > 10 skips the date's dashes).
    if let Some(pos) = s.rfind(['+', '-']).filter(|p| *p > 10) {
        let (body, off) = s.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits = &off[1..];
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h.parse::<i64>().ok(), m.parse::<i64>().ok()),
            None if digits.len() == 4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
            None => (digits.parse().ok(), Some(0)),
        };
        if let (Some(h), Some(m)) = (h, m) {
            return (body, Some(sign * (h * 3600 + m * 60)));
        }
    }
    (s, None)
}

/// `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let d = date_from_days(days);
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn format_clock(micros: i64) -> String {
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// `HH:MM:SS[.ffffff]`.
pub fn format_time(micros: i64) -> String {
    format_clock(micros)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    format!("{} {}", format_date(days as i32), format_clock(rem))
}

/// PostgreSQL's `postgres` interval style: `1 year 2 mons 3 days 04:05:06`.
pub fn format_interval(i: &Interval) -> String {
    let mut parts = Vec::new();
    let (years, months) = (i.months / 12, i.months % 12);
    let plural =
        |n: i64, one: &str, many: &str| format!("{n} {}", if n.abs() == 1 { one } else { many });
    if years != 0 {
        parts.push(plural(years as i64, "year", "years"));
    }
    if months != 0 {
        parts.push(plural(months as i64, "mon", "mons"));
    }
    if i.days != 0 {
        parts.push(plural(i.days as i64, "day", "days"));
    }
    if i.micros != 0 || parts.is_empty() {
        let sign = if i.micros < 0 { "-" } else { "" };
        parts.push(format!("{sign}{}", format_clock(i.micros.abs())));
    }
    parts.join(" ")
}

/// Parses an interval: `1 day`, `2 hours 30 minutes`, `3 mons`, `01:02:03`, `1 year 2 months`.
pub fn parse_interval(s: &str) -> Result<Interval> {
    let err = || {
        AuroraError::sql(
            "22007",
            format!("invalid input syntax for type interval: \"{s}\""),
        )
    };
    let mut out = Interval::default();
    let lower = s.trim().to_ascii_lowercase();
    let tokens: Vec<&str> = lower.split_whitespace().collect();
    if tokens.is_empty() {
        return Err(err());
    }
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i];
        if tok.contains(':') {
            let neg = tok.starts_with('-');
            let micros = parse_time(tok.trim_start_matches(['-', '+'])).map_err(|_| err())?;
            out.micros += if neg { -micros } else { micros };
            i += 1;
            continue;
        }
        let n: f64 = tok.parse().map_err(|_| err())?;
        let unit = tokens.get(i + 1).copied().unwrap_or("second");
        let unit = unit.trim_end_matches(',');
        let whole = n.trunc();
        match unit {
            "year" | "years" | "y" => out.months += (n * 12.0) as i32,
            "month" | "months" | "mon" | "mons" => out.months += whole as i32,
            "week" | "weeks" | "w" => out.days += (n * 7.0) as i32,
            "day" | "days" | "d" => out.days += whole as i32,
            "hour" | "hours" | "h" => out.micros += (n * 3_600_000_000.0) as i64,
            "minute" | "minutes" | "min" | "mins" | "m" => out.micros += (n * 60_000_000.0) as i64,
            "second" | "seconds" | "sec" | "secs" | "s" => out.micros += (n * 1_000_000.0) as i64,
            "millisecond" | "milliseconds" | "ms" => out.micros += (n * 1000.0) as i64,
            "microsecond" | "microseconds" | "us" => out.micros += n as i64,
            _ => return Err(err()),
        }
        i += 2;
    }
    Ok(out)
}

/// `timestamp + interval` on microseconds, adding months on the calendar (clamping the day).
pub fn add_interval(micros: i64, iv: &Interval, sign: i32) -> Result<i64> {
    let mut dt = datetime_from_micros(micros);
    let months = iv.months * sign;
    if months != 0 {
        let total = dt.year() * 12 + dt.month0() as i32 + months;
        let (y, m0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
        let mut day = dt.day();
        let date = loop {
            if let Some(d) = NaiveDate::from_ymd_opt(y, m0 + 1, day) {
                break d;
            }
            if day <= 28 {
                return Err(AuroraError::sql("22008", "timestamp out of range"));
            }
            day -= 1;
        };
        dt = NaiveDateTime::new(date, dt.time());
    }
    let base = micros_from_datetime(dt);
    let delta = (iv.days as i64 * sign as i64)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(iv.micros * sign as i64))
        .ok_or_else(|| AuroraError::sql("22008", "timestamp out of range"))?;
    base.checked_add(delta)
        .ok_or_else(|| AuroraError::sql("22008", "timestamp out of range"))
}

/// `EXTRACT(field FROM ts)` / `date_part`, on a timestamp in microseconds.
pub fn extract(field: &str, micros: i64) -> Result<f64> {
    let dt = datetime_from_micros(micros);
    Ok(match field {
        "year" => dt.year() as f64,
        "month" => dt.month() as f64,
        "day" => dt.day() as f64,
        "hour" => dt.hour() as f64,
        "minute" => dt.minute() as f64,
        "second" => dt.second() as f64 + dt.nanosecond() as f64 / 1e9,
        "dow" => dt.weekday().num_days_from_sunday() as f64,
        "isodow" => dt.weekday().number_from_monday() as f64,
        "doy" => dt.ordinal() as f64,
        "quarter" => ((dt.month() - 1) / 3 + 1) as f64,
        "week" => dt.iso_week().week() as f64,
        "epoch" => micros as f64 / 1e6,
        "millisecond" | "milliseconds" => {
            (dt.second() as f64) * 1000.0 + dt.nanosecond() as f64 / 1e6
        }
        "microsecond" | "microseconds" => (dt.second() as f64) * 1e6 + dt.nanosecond() as f64 / 1e3,
        "decade" => (dt.year() / 10) as f64,
        "century" => ((dt.year() + 99) / 100) as f64,
        _ => {
            return Err(AuroraError::sql(
                "22023",
                format!("unit \"{field}\" not recognized for type timestamp"),
            ));
        }
    })
}

/// `date_trunc(field, ts)` on microseconds.
pub fn trunc(field: &str, micros: i64) -> Result<i64> {
    let dt = datetime_from_micros(micros);
    let d = dt.date();
    let date = |y: i32, m: u32, day: u32| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(d);
    let at_midnight =
        |date: NaiveDate| micros_from_datetime(date.and_hms_opt(0, 0, 0).unwrap_or_default());
    Ok(match field {
        "microseconds" => micros,
        "milliseconds" => micros - micros.rem_euclid(1000),
        "second" => micros - micros.rem_euclid(1_000_000),
        "minute" => micros - micros.rem_euclid(60_000_000),
        "hour" => micros - micros.rem_euclid(3_600_000_000),
        "day" => micros - micros.rem_euclid(MICROS_PER_DAY),
        "week" => {
            at_midnight(d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64))
        }
        "month" => at_midnight(date(d.year(), d.month(), 1)),
        "quarter" => at_midnight(date(d.year(), (d.month0() / 3) * 3 + 1, 1)),
        "year" => at_midnight(date(d.year(), 1, 1)),
        "decade" => at_midnight(date(d.year() - d.year().rem_euclid(10), 1, 1)),
        "century" => at_midnight(date(((d.year() - 1) / 100) * 100 + 1, 1, 1)),
        _ => {
            return Err(AuroraError::sql(
                "22023",
                format!("unit \"{field}\" not recognized for type timestamp"),
            ));
        }
    })
}

/// `age`-style difference of two timestamps as an interval of days and time.
pub fn diff(a: i64, b: i64) -> Interval {
    let d = a - b;
    Interval {
        months: 0,
        days: (d / MICROS_PER_DAY) as i32,
        micros: d % MICROS_PER_DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let d = parse_date("2024-02-29").unwrap_or_default();
        assert_eq!(format_date(d), "2024-02-29");
        let t = parse_timestamp("2024-01-02 03:04:05.25", false).unwrap_or_default();
        assert_eq!(format_timestamp(t), "2024-01-02 03:04:05.25");
        let tz = parse_timestamp("2024-01-02 03:04:05+02", true).unwrap_or_default();
        assert_eq!(format_timestamp(tz), "2024-01-02 01:04:05");
        let iv = parse_interval("1 year 2 months 3 days 04:05:06").unwrap_or_default();
        assert_eq!(format_interval(&iv), "1 year 2 mons 3 days 04:05:06");
        assert!(parse_date("2024-13-01").is_err());
    }

    #[test]
    fn month_arithmetic_clamps() {
        let t = parse_timestamp("2024-01-31", false).unwrap_or_default();
        let r = add_interval(
            t,
            &Interval {
                months: 1,
                days: 0,
                micros: 0,
            },
            1,
        )
        .unwrap_or_default();
        assert_eq!(format_timestamp(r), "2024-02-29 00:00:00");
    }
}
