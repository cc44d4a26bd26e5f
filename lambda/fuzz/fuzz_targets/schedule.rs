#![no_main]
//! Schedule expressions (`rate(...)`, AWS's six-field `cron(...)`): parsing is total, the
//! canonical form round-trips, and the next firing is after the start and matches.
use libfuzzer_sys::fuzz_target;
use nubis_lambda::ScheduleExpression;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Ok(e) = ScheduleExpression::parse(s) else { return };
    assert_eq!(ScheduleExpression::parse(&e.to_string()).ok(), Some(e.clone()));
    let from = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    if let ScheduleExpression::Cron(c) = &e
        && let Some(next) = c.next_after(from)
    {
        assert!(next > from && c.matches(next));
    }
});
