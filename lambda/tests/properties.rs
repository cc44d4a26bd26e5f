//! Property tests for the parsers: function references, qualifiers, schedules and SAM templates
//! never panic, and what parses round-trips.

use nubis_lambda::names::{
    FunctionRef, validate_alias_name, validate_handler, validate_qualifier, validate_role,
};
use nubis_lambda::sam::{Schedule, Template};
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
