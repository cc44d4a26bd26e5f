//! Property tests: the expression parsers round-trip, hostile input never panics, and random
//! operation sequences against the engine agree with a simple reference model.

use std::collections::BTreeMap;

use nubis_core::{Env, ManualClock, Region};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::expr::parse::{parse_condition, parse_projection, parse_update};
use nubis_dynamo::expr::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update};
use nubis_dynamo::{Dynamo, RegionDb};
use proptest::prelude::*;
use serde_json::{Value, json};

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        "x_[a-z0-9]{0,4}".prop_map(Name::Plain),
        "#[a-z0-9]{1,4}".prop_map(Name::Placeholder)
    ]
}

fn path() -> impl Strategy<Value = Path> {
    (
        name(),
        prop::collection::vec(
            prop_oneof![
                name().prop_map(PathElem::Attr),
                (0u32..50).prop_map(PathElem::Index)
            ],
            0..3,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut v = vec![PathElem::Attr(first)];
            v.extend(rest);
            Path(v)
        })
}

fn value() -> impl Strategy<Value = Operand> {
    ":[a-z0-9]{1,4}".prop_map(Operand::Value)
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![3 => path().prop_map(Operand::Path), 2 => value(), 1 => path().prop_map(|p| Operand::Call("size".into(), vec![Operand::Path(p)]))]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge)
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        (cmp_op(), operand(), operand()).prop_map(|(o, a, b)| Cond::Cmp(o, a, b)),
        (operand(), operand(), operand()).prop_map(|(a, b, c)| Cond::Between(a, b, c)),
        (operand(), prop::collection::vec(operand(), 1..4)).prop_map(|(a, l)| Cond::In(a, l)),
        path().prop_map(|p| Cond::Call("attribute_exists".into(), vec![Operand::Path(p)])),
        (path(), value())
            .prop_map(|(p, v)| Cond::Call("begins_with".into(), vec![Operand::Path(p), v])),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Cond::Not(Box::new(a))),
        ]
    })
}

fn set_value() -> impl Strategy<Value = SetValue> {
    let simple = prop_oneof![
        path().prop_map(Operand::Path),
        value(),
        (path(), value())
            .prop_map(|(p, v)| Operand::Call("if_not_exists".into(), vec![Operand::Path(p), v])),
        (value(), value()).prop_map(|(a, b)| Operand::Call("list_append".into(), vec![a, b])),
    ];
    prop_oneof![
        simple.clone().prop_map(SetValue::Operand),
        (simple.clone(), simple.clone()).prop_map(|(a, b)| SetValue::Plus(a, b)),
        (simple.clone(), simple).prop_map(|(a, b)| SetValue::Minus(a, b)),
    ]
}

fn update() -> impl Strategy<Value = Update> {
    (
        prop::collection::vec((path(), set_value()), 0..3),
        prop::collection::vec(path(), 0..3),
        prop::collection::vec((path(), value()), 0..2),
        prop::collection::vec((path(), value()), 0..2),
    )
        .prop_filter("an update has at least one action", |(a, b, c, d)| {
            a.len() + b.len() + c.len() + d.len() > 0
        })
        .prop_map(|(sets, removes, adds, deletes)| {
            let mut actions: Vec<Action> =
                sets.into_iter().map(|(p, v)| Action::Set(p, v)).collect();
            actions.extend(removes.into_iter().map(Action::Remove));
            actions.extend(adds.into_iter().map(|(p, v)| Action::Add(p, v)));
            actions.extend(deletes.into_iter().map(|(p, v)| Action::Delete(p, v)));
            Update {
                actions,
                repeated_clause: None,
            }
        })
}

proptest! {
    #[test]
    fn conditions_round_trip(c in cond()) {
        let text = c.to_string();
        prop_assert_eq!(parse_condition(&text).map_err(|e| e.to_string()), Ok(c), "{}", text);
    }

    #[test]
    fn updates_round_trip(u in update()) {
        let text = u.to_string();
        prop_assert_eq!(parse_update(&text).map_err(|e| e.to_string()), Ok(u), "{}", text);
    }

    #[test]
    fn projections_round_trip(ps in prop::collection::vec(path(), 1..5)) {
        let text = nubis_dynamo::expr::ast::print_projection(&ps);
        prop_assert_eq!(parse_projection(&text).map_err(|e| e.to_string()), Ok(ps));
    }

    #[test]
    fn parsers_never_panic(s in "[ -~]{0,80}") {
        let _ = parse_condition(&s);
        let _ = parse_update(&s);
        let _ = parse_projection(&s);
        let _ = nubis_dynamo::partiql::parse::parse(&s, &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// Random operations against a model.

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8, i64),
    Delete(u8, u8),
    Add(u8, u8, i64),
    PutIfAbsent(u8, u8, i64),
    Get(u8, u8),
    Query(u8, u8, bool, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let (pk, sk) = (0u8..4, 0u8..6);
    prop_oneof![
        (pk.clone(), sk.clone(), -5i64..5).prop_map(|(a, b, v)| Op::Put(a, b, v)),
        (pk.clone(), sk.clone()).prop_map(|(a, b)| Op::Delete(a, b)),
        (pk.clone(), sk.clone(), -5i64..5).prop_map(|(a, b, v)| Op::Add(a, b, v)),
        (pk.clone(), sk.clone(), -5i64..5).prop_map(|(a, b, v)| Op::PutIfAbsent(a, b, v)),
        (pk.clone(), sk.clone()).prop_map(|(a, b)| Op::Get(a, b)),
        (pk, sk, any::<bool>(), 1u8..4).prop_map(|(a, b, f, l)| Op::Query(a, b, f, l)),
    ]
}

fn call(db: &RegionDb, op: &str, body: Value) -> Result<Value, String> {
    dispatch(db, op, body.to_string().as_bytes())
        .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))
        .map_err(|e| {
            if nubis_core::ServiceError::code(&e) == "ValidationException" {
                e.to_string()
            } else {
                nubis_core::ServiceError::code(&e).to_owned()
            }
        })
}

fn key(pk: u8, sk: u8) -> Value {
    json!({"pk": {"S": format!("p{pk}")}, "sk": {"N": sk.to_string()}})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn engine_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        let d = Dynamo::new(Env::with_clock(ManualClock::at_default_epoch().shared()));
        let db = d.region(&Region::US_EAST_1);
        call(&db, "CreateTable", json!({
            "TableName": "Tab", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]})).unwrap();
        let mut model: BTreeMap<(u8, u8), i64> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put(p, s, v) => {
                    let mut item = key(p, s);
                    item["v"] = json!({"N": v.to_string()});
                    call(&db, "PutItem", json!({"TableName": "Tab", "Item": item})).unwrap();
                    model.insert((p, s), v);
                }
                Op::Delete(p, s) => {
                    call(&db, "DeleteItem", json!({"TableName": "Tab", "Key": key(p, s)})).unwrap();
                    model.remove(&(p, s));
                }
                Op::Add(p, s, v) => {
                    call(&db, "UpdateItem", json!({"TableName": "Tab", "Key": key(p, s), "UpdateExpression": "ADD v :d",
                        "ExpressionAttributeValues": {":d": {"N": v.to_string()}}})).unwrap();
                    *model.entry((p, s)).or_insert(0) += v;
                }
                Op::PutIfAbsent(p, s, v) => {
                    let mut item = key(p, s);
                    item["v"] = json!({"N": v.to_string()});
                    let r = call(&db, "PutItem", json!({"TableName": "Tab", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}));
                    if let std::collections::btree_map::Entry::Vacant(e) = model.entry((p, s)) {
                        prop_assert!(r.is_ok());
                        e.insert(v);
                    } else {
                        prop_assert_eq!(r, Err("ConditionalCheckFailedException".to_owned()));
                    }
                }
                Op::Get(p, s) => {
                    let r = call(&db, "GetItem", json!({"TableName": "Tab", "Key": key(p, s), "ConsistentRead": true})).unwrap();
                    let got = r.get("Item").map(|i| i["v"]["N"].as_str().unwrap().parse::<i64>().unwrap());
                    prop_assert_eq!(got, model.get(&(p, s)).copied());
                }
                Op::Query(p, from, forward, limit) => {
                    let mut got = Vec::new();
                    let mut start: Option<Value> = None;
                    loop {
                        let mut body = json!({"TableName": "Tab", "KeyConditionExpression": "pk = :p AND sk >= :s",
                            "ExpressionAttributeValues": {":p": {"S": format!("p{p}")}, ":s": {"N": from.to_string()}},
                            "ScanIndexForward": forward, "Limit": limit});
                        if let Some(s) = &start { body["ExclusiveStartKey"] = s.clone(); }
                        let r = call(&db, "Query", body).unwrap();
                        for it in r["Items"].as_array().unwrap() {
                            got.push(it["sk"]["N"].as_str().unwrap().parse::<u8>().unwrap());
                        }
                        match r.get("LastEvaluatedKey") { Some(k) => start = Some(k.clone()), None => break }
                    }
                    let mut want: Vec<u8> = model.keys().filter(|(a, b)| *a == p && *b >= from).map(|(_, b)| *b).collect();
                    if !forward { want.reverse(); }
                    prop_assert_eq!(got, want);
                }
            }
        }
        let scan = call(&db, "Scan", json!({"TableName": "Tab", "Select": "COUNT"})).unwrap();
        prop_assert_eq!(scan["Count"].as_u64().unwrap() as usize, model.len());
    }

    #[test]
    fn hostile_json_never_panics(body in "[ -~]{0,120}", op in prop::sample::select(vec!["PutItem", "GetItem", "Query", "Scan", "UpdateItem", "CreateTable", "TransactWriteItems", "BatchWriteItem", "ExecuteStatement"])) {
        let d = Dynamo::new(Env::default());
        let db = d.region(&Region::US_EAST_1);
        let _ = dispatch(&db, op, body.as_bytes());
    }
}
