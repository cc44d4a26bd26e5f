//! Property tests for every parser in the crate: the SQL parser round-trips and never panics,
//! the CSV reader returns the fields that were written, the JSON reader agrees with serde_json,
//! and none of them panic on arbitrary bytes.

use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::ast::{
    BinOp, CastType, Expr, Func, Literal, PathStep, Projection, Query, SelectItem,
};
use nubis_s3select::select::decimal::Decimal;
use nubis_s3select::select::parser::parse_query;
use nubis_s3select::select::{CsvInput, InputFormat, JsonType, SelectRequest, json};
use nubis_s3select::{PutObject, S3};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = String> {
    "c_[a-z0-9]{0,4}"
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(Expr::Lit(Literal::Null)),
        any::<bool>().prop_map(|b| Expr::Lit(Literal::Bool(b))),
        (0i64..i64::MAX).prop_map(|i| Expr::Lit(Literal::Int(i))),
        (0i128..10i128.pow(38), -40i32..60).prop_map(|(c, s)| Expr::Lit(Literal::Decimal(
            Decimal::from_parts(c, s).unwrap_or(Decimal::ZERO)
        ))),
        ".{0,8}".prop_map(|s| Expr::Lit(Literal::Str(s))),
        (
            ident(),
            prop::collection::vec(
                prop_oneof![
                    ident().prop_map(|n| PathStep::Field {
                        name: n,
                        quoted: false
                    }),
                    (0i64..9).prop_map(PathStep::Index),
                    Just(PathStep::Wildcard)
                ],
                0..3
            )
        )
            .prop_map(|(root, steps)| Expr::Path {
                root,
                quoted: false,
                steps
            }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 32, 3, |inner| {
        let b = |e: Expr| Box::new(e);
        prop_oneof![
            (
                inner.clone(),
                inner.clone(),
                prop_oneof![
                    Just(BinOp::And),
                    Just(BinOp::Or),
                    Just(BinOp::Eq),
                    Just(BinOp::Lt),
                    Just(BinOp::Add),
                    Just(BinOp::Mul),
                    Just(BinOp::Concat),
                    Just(BinOp::Mod)
                ]
            )
                .prop_map(move |(l, r, op)| Expr::Binary(op, b(l), b(r))),
            inner.clone().prop_map(move |e| Expr::Not(b(e))),
            inner.clone().prop_map(move |e| Expr::Neg(b(e))),
            (inner.clone(), ".{0,5}", any::<bool>()).prop_map(move |(e, p, n)| Expr::Like {
                expr: b(e),
                pattern: b(Expr::Lit(Literal::Str(p))),
                escape: None,
                negated: n
            }),
            (inner.clone(), inner.clone(), inner.clone(), any::<bool>()).prop_map(
                move |(e, lo, hi, n)| Expr::Between {
                    expr: b(e),
                    low: b(lo),
                    high: b(hi),
                    negated: n
                }
            ),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 1..3),
                any::<bool>()
            )
                .prop_map(move |(e, list, n)| Expr::In {
                    expr: b(e),
                    list,
                    negated: n
                }),
            (inner.clone(), any::<bool>()).prop_map(move |(e, n)| Expr::IsMissing(b(e), n)),
            (inner.clone(), any::<bool>()).prop_map(move |(e, n)| Expr::IsNull(b(e), n)),
            inner
                .clone()
                .prop_map(move |e| Expr::Cast(b(e), CastType::Int)),
            inner.clone().prop_map(|e| Expr::Call(Func::Upper, vec![e])),
            (inner.clone(), inner.clone()).prop_map(move |(w, t)| Expr::Case {
                operand: None,
                whens: vec![(w, t)],
                otherwise: None
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sql_round_trips(items in prop::collection::vec(expr(), 1..3), filter in prop::option::of(expr()), limit in prop::option::of(0u64..100)) {
        let q = Query {
            select: Projection::Items(items.into_iter().map(|e| SelectItem { expr: e, alias: None }).collect()),
            from: nubis_s3select::select::ast::From { path: vec![], alias: Some("s".into()) },
            where_clause: filter,
            limit,
        };
        let text = q.to_string();
        let parsed = parse_query(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        prop_assert_eq!(&parsed, &q);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn sql_parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse_query(&s);
        let _ = parse_query(&format!("SELECT {s} FROM S3Object"));
    }

    #[test]
    fn csv_reader_returns_what_was_written(rows in prop::collection::vec(prop::collection::vec("[^\r\n]{0,6}", 1..5), 1..20)) {
        let mut data = String::new();
        for r in &rows {
            let fields: Vec<String> = r.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            data.push_str(&fields.join(","));
            data.push('\n');
        }
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "prop", None).unwrap();
        s3.put_object(PutObject::new("prop", "d.csv", Bytes::from(data))).unwrap();
        let req = SelectRequest::new("SELECT * FROM S3Object", InputFormat::Csv(CsvInput::default())).json_output();
        let (out, _) = s3.select_object_content_to_end("prop", "d.csv", &req).unwrap();
        let got: Vec<Vec<String>> = String::from_utf8(out).unwrap().lines().map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = v.as_object().unwrap();
            (1..=m.len()).map(|i| m[&format!("_{i}")].as_str().unwrap().to_owned()).collect()
        }).collect();
        prop_assert_eq!(got, rows);
    }

    #[test]
    fn readers_never_panic_on_bytes(data in prop::collection::vec(any::<u8>(), 0..300), allow in any::<bool>()) {
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "prop", None).unwrap();
        s3.put_object(PutObject::new("prop", "x", Bytes::from(data.clone()))).unwrap();
        for input in [
            InputFormat::Csv(CsvInput { allow_quoted_record_delimiter: allow, ..Default::default() }),
            InputFormat::Json(JsonType::Lines),
            InputFormat::Json(JsonType::Document),
        ] {
            for sql in ["SELECT * FROM S3Object", "SELECT COUNT(*) FROM S3Object", "SELECT s._2, s.a FROM S3Object s WHERE s._1 = 'x' OR s.a > 1"] {
                let _ = s3.select_object_content_to_end("prop", "x", &SelectRequest::new(sql, input.clone()));
            }
        }
        let _ = json::parse(&data);
        let _ = json::is_valid(&data);
    }

    #[test]
    fn json_reader_agrees_with_serde(v in json_value()) {
        let text = serde_json::to_string(&v).unwrap();
        let ours = json::parse(text.as_bytes()).unwrap();
        let mut back = Vec::new();
        ours.write_json(&mut back);
        let reparsed: serde_json::Value = serde_json::from_slice(&back).unwrap();
        prop_assert_eq!(reparsed, v);
        prop_assert!(json::is_valid(text.as_bytes()));
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        (-1000i32..1000).prop_map(|i| J::from(f64::from(i) + 0.5)),
        ".{0,6}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}
