//! Property tests for the parsers: function references, qualifiers, schedules and SAM templates
//! never panic, and what parses round-trips.

use nubis_lambda::names::{
    FunctionRef, validate_alias_name, validate_handler, validate_qualifier, validate_role,
};
use nubis_lambda::sam::{Schedule, Template};
use std::time::{Duration, UNIX_EPOCH};

use nubis_lambda::ScheduleExpression;
use proptest::prelude::*;

proptest! {
    #[test]
    fn function_refs_never_panic(s in ".{0,160}") {
        let _ = FunctionRef::parse(&s);
        let _ = validate_qualifier(&s);
        let _ = validate_alias_name(&s);
        let _ = validate_handler(&s);
        let _ = validate_role(&s);
    }

    #[test]
    fn parsed_refs_round_trip(
        name in "[a-zA-Z0-9_-]{1,64}",
        qual in proptest::option::of("(\\$LATEST|[a-zA-Z0-9_-]{1,20})"),
        shape in 0u8..3,
    ) {
        let base = match shape {
            0 => name.clone(),
            1 => format!("123456789012:function:{name}"),
            _ => format!("arn:aws:lambda:eu-west-1:123456789012:function:{name}"),
        };
        let text = match &qual { Some(q) => format!("{base}:{q}"), None => base };
        let r = FunctionRef::parse(&text).unwrap();
        prop_assert_eq!(&r.name, &name);
        prop_assert_eq!(&r.qualifier, &qual);
        prop_assert_eq!(r.to_string(), text.clone());
        prop_assert_eq!(FunctionRef::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn schedules_never_panic(s in "(rate|cron)?\\(?[ 0-9a-z*?]{0,30}\\)?") {
        let _ = Schedule::parse(&s);
    }

    #[test]
    fn rates_parse(n in 2u64..10_000, unit in prop::sample::select(vec!["minutes", "hours", "days"])) {
        let expr = format!("rate({n} {unit})");
        prop_assert!(Schedule::parse(&expr).is_ok());
    }

    #[test]
    fn templates_never_panic(s in "[ -~\\n]{0,300}") {
        let _ = Template::parse(&s);
    }

    #[test]
    fn generated_templates_parse(
        name in "[A-Z][a-zA-Z0-9]{0,20}",
        mem in 128i64..10240,
        stage in "[a-z]{1,8}",
    ) {
        let yaml = format!(
            "Parameters:\n  Stage:\n    Type: String\n    Default: {stage}\nResources:\n  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handler: nubis:x\n      MemorySize: {mem}\n      Description: !Sub '${{Stage}}-${{AWS::Region}}'\n"
        );
        let t = Template::parse(&yaml).unwrap();
        let f = t.function(&name).unwrap();
        prop_assert_eq!(f.memory_size, Some(mem));
        prop_assert_eq!(f.description.clone(), Some(format!("{stage}-us-east-1")));
    }
}

/// A random cron field from the grammar of `field` (bounds `lo..=hi`).
fn cron_field(lo: u32, hi: u32, steps: bool) -> impl Strategy<Value = String> {
    let value = lo..=hi;
    let item = prop_oneof![
        value.clone().prop_map(|v| v.to_string()),
        (value.clone(), value.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        Just("*".to_string()),
    ];
    let stepped =
        (item, proptest::option::of(1..=(hi - lo).max(1))).prop_map(move |(i, s)| match s {
            Some(s) if steps && !i.contains('-') => format!("{i}/{s}"),
            _ => i,
        });
    proptest::collection::vec(stepped, 1..3).prop_map(|v| v.join(","))
}

fn cron_expr() -> impl Strategy<Value = String> {
    let dom = prop_oneof![
        4 => cron_field(1, 31, true),
        1 => Just("L".to_string()),
        1 => Just("LW".to_string()),
        1 => (1u32..=31).prop_map(|d| format!("{d}W")),
    ];
    let dow = prop_oneof![
        4 => cron_field(1, 7, false),
        1 => (1u32..=7).prop_map(|d| format!("{d}L")),
        1 => (1u32..=7, 1u32..=5).prop_map(|(d, n)| format!("{d}#{n}")),
    ];
    let days = prop_oneof![
        dom.prop_map(|d| format!("{d} * ?")),
        dow.prop_map(|w| format!("? * {w}")),
    ];
    (
        cron_field(0, 59, true),
        cron_field(0, 23, true),
        days,
        prop_oneof![Just("*".to_string()), Just("2026-2027".to_string())],
    )
        .prop_map(|(m, h, d, y)| format!("cron({m} {h} {d} {y})"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn cron_parser_never_panics(s in "cron\\([-0-9A-Za-z*?/,#LW ]{0,40}\\)") {
        let _ = ScheduleExpression::parse(&s);
    }

    #[test]
    fn cron_round_trips_and_fires_on_matching_minutes(
        expr in cron_expr(),
        start in 0u64..(3 * 365 * 24 * 60),
    ) {
        let parsed = ScheduleExpression::parse(&expr).unwrap();
        prop_assert_eq!(ScheduleExpression::parse(&parsed.to_string()).unwrap(), parsed.clone());
        let ScheduleExpression::Cron(cron) = parsed else { unreachable!() };
        // 2026-01-01T00:00Z plus a random number of minutes.
        let from = UNIX_EPOCH + Duration::from_secs(1_767_225_600 + start * 60 + 17);
        if let Some(next) = cron.next_after(from) {
            prop_assert!(next > from);
            prop_assert!(cron.matches(next));
            prop_assert_eq!(next.duration_since(UNIX_EPOCH).unwrap().as_secs() % 60, 0);
            // No matching minute in between (checked minute by minute up to two days).
            let mut t = from + Duration::from_secs(43);
            let limit = (from + Duration::from_secs(2 * 86_400)).min(next);
            while t < limit {
                prop_assert!(!cron.matches(t), "{} matches {:?} before {:?}", expr, t, next);
                t += Duration::from_secs(60);
            }
        }
    }
}
