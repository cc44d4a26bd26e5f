//! ISO-8601 dates and date-times as epoch milliseconds: what Gremlin's `datetime()`, `asDate()`
//! and the bulk loader's `Date` columns read. A string that is not such a date gives `None`.

/// Parses an ISO-8601 date or date-time into epoch milliseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let mut ms = 0i64;
    if let Some(t) = time {
        let (clock, offset) = split_offset(t)?;
        let mut tp = clock.split(':');
        let hh: i64 = tp.next()?.parse().ok()?;
        let mm: i64 = tp.next().unwrap_or("0").parse().ok()?;
        let sec: f64 = tp.next().unwrap_or("0").parse().ok()?;
        ms = hh * 3_600_000 + mm * 60_000 + (sec * 1000.0).round() as i64 - offset;
    }
    Some(days * 86_400_000 + ms)
}

fn split_offset(t: &str) -> Option<(&str, i64)> {
    if let Some(c) = t.strip_suffix('Z') {
        return Some((c, 0));
    }
    if let Some(pos) = t.rfind(['+', '-']) {
        let (c, off) = t.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let mut p = off[1..].split(':');
        let h: i64 = p.next()?.parse().ok()?;
        let m: i64 = p.next().unwrap_or("0").parse().ok()?;
        return Some((c, sign * (h * 3_600_000 + m * 60_000)));
    }
    Some((t, 0))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse() {
        assert_eq!(parse_datetime("1970-01-02"), Some(86_400_000));
        assert_eq!(
            parse_datetime("2023-08-01T00:00:00Z"),
            Some(1_690_848_000_000)
        );
        assert_eq!(
            parse_datetime("2023-08-01T02:00:00+02:00"),
            Some(1_690_848_000_000)
        );
        assert_eq!(parse_datetime("nope"), None);
    }
}
