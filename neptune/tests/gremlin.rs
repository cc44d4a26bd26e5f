//! Gremlin through the database's request path, over TinkerPop's "modern" graph.

use std::collections::HashMap;

use nubis_core::{Env, ManualClock};
use nubis_neptune::gremlin::graphson;
use nubis_neptune::{Database, DbOptions, Value};

fn modern() -> Database {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let db = Database::new(
        env.clock.clone(),
        env.ids.clone(),
        DbOptions {
            default_cardinality: nubis_neptune::store::Cardinality::Single,
            ..DbOptions::default()
        },
    );
    let init = "g.addV('person').property(id, '1').property('name','marko').property('age',29).as('marko').
        addV('person').property(id, '2').property('name','vadas').property('age',27).as('vadas').
        addV('software').property(id, '3').property('name','lop').property('lang','java').as('lop').
        addV('person').property(id, '4').property('name','josh').property('age',32).as('josh').
        addV('software').property(id, '5').property('name','ripple').property('lang','java').as('ripple').
        addV('person').property(id, '6').property('name','peter').property('age',35).as('peter').
        addE('knows').from('marko').to('vadas').property(id, '7').property('weight',0.5d).
        addE('knows').from('marko').to('josh').property(id, '8').property('weight',1.0d).
        addE('created').from('marko').to('lop').property(id, '9').property('weight',0.4d).
        addE('created').from('josh').to('ripple').property(id, '10').property('weight',1.0d).
        addE('created').from('josh').to('lop').property(id, '11').property('weight',0.4d).
        addE('created').from('peter').to('lop').property(id, '12').property('weight',0.2d)";
    db.execute(init, &HashMap::new(), "init", None).unwrap();
    db
}

fn q(db: &Database, query: &str) -> Vec<String> {
    let r = db
        .execute(query, &HashMap::new(), "rid", None)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    r.values
        .iter()
        .map(|v| graphson::write(&r.graph, v).to_string())
        .collect()
}

fn strs(db: &Database, query: &str) -> Vec<String> {
    let r = db
        .execute(query, &HashMap::new(), "rid", None)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    r.values
        .iter()
        .map(|v| match v {
            Value::Str(s) => s.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn basic_traversals() {
    let db = modern();
    assert_eq!(
        q(&db, "g.V().count()"),
        vec![r#"{"@type":"g:Int64","@value":6}"#]
    );
    assert_eq!(
        q(&db, "g.V().out().count()"),
        vec![r#"{"@type":"g:Int64","@value":6}"#]
    );
    assert_eq!(
        q(&db, "g.V().both().both().count()"),
        vec![r#"{"@type":"g:Int64","@value":30}"#]
    );
    let mut names = strs(&db, "g.V('1').out('knows').values('name')");
    names.sort();
    assert_eq!(names, vec!["josh", "vadas"]);
    assert_eq!(
        strs(
            &db,
            "g.V().has('age', gt(30)).order().by('age', desc).values('name')"
        ),
        vec!["peter", "josh"]
    );
    assert_eq!(
        strs(
            &db,
            "g.V().hasLabel('software').has('name', TextP.startingWith('r')).values('name')"
        ),
        vec!["ripple"]
    );
    assert_eq!(
        strs(
            &db,
            "g.V('1').repeat(out()).times(2).values('name').order()"
        ),
        vec!["lop", "ripple"]
    );
    assert_eq!(
        q(
            &db,
            "g.V().has('name','marko').out('created').in('created').has('name', neq('marko')).values('age').sum()"
        ),
        vec![r#"{"@type":"g:Int32","@value":67}"#]
    );
    assert_eq!(q(&db, "g.V().groupCount().by(label)").len(), 1);
    assert_eq!(
        strs(
            &db,
            "g.V('1').as('a').out('knows').as('b').select('a','b').by('name').select('b').order()"
        ),
        vec!["josh", "vadas"]
    );
    assert_eq!(
        q(&db, "g.V('4').math('_ + 1').by('age')"),
        vec![r#"{"@type":"g:Double","@value":33.0}"#]
    );
}

#[test]
fn writes_are_atomic() {
    let db = modern();
    let e = db
        .execute(
            "g.addV('x').property(id, 'new').V('1').addE('e').to(V('missing'))",
            &HashMap::new(),
            "r",
            None,
        )
        .unwrap_err();
    assert!(e.to_string().contains("Vertex"), "{e}");
    assert_eq!(strs(&db, "g.V('new').count()").len(), 1);
    assert_eq!(
        q(&db, "g.V('new').count()"),
        vec![r#"{"@type":"g:Int64","@value":0}"#]
    );
    q(&db, "g.V('2').drop()");
    assert_eq!(
        q(&db, "g.E().count()"),
        vec![r#"{"@type":"g:Int64","@value":5}"#]
    );
}

#[test]
fn malformed_queries_name_positions() {
    let db = modern();
    for (query, want) in [
        ("g.V().outt()", "unknown step 'outt' at position 6"),
        ("g.V(", "expected an expression"),
        ("g.V().has('a', gt(1)", "expected ',' or ')'"),
    ] {
        let e = db.execute(query, &HashMap::new(), "r", None).unwrap_err();
        assert!(e.to_string().contains(want), "{query}: {e}");
        assert_eq!(
            nubis_core::ServiceError::code(&e),
            "MalformedQueryException"
        );
    }
}

#[test]
fn list_format_and_date_steps() {
    let db = modern();
    let one = |query: &str| q(&db, query).join(",");
    assert_eq!(
        strs(
            &db,
            "g.V().values('name').fold().combine(['x']).unfold().count()"
        ),
        vec!["Long(7)"]
    );
    assert_eq!(
        one("g.inject(['a','b','a']).merge(['b','c'])"),
        r#"{"@type":"g:Set","@value":["a","b","c"]}"#
    );
    assert_eq!(
        one("g.inject(['a','b']).disjunct(['b','c'])"),
        r#"{"@type":"g:Set","@value":["a","c"]}"#
    );
    assert_eq!(
        q(&db, "g.inject([1,2]).product(['x'])").len(),
        1,
        "product yields one list of pairs"
    );
    assert_eq!(
        strs(&db, "g.V().values('age').fold().all(gt(26)).count()"),
        vec!["Long(1)"]
    );
    assert_eq!(
        strs(&db, "g.V().values('age').fold().any(gt(40)).count()"),
        vec!["Long(0)"]
    );
    assert_eq!(strs(&db, "g.V().none().count()"), vec!["Long(0)"]);
    let err = db
        .execute(
            "g.inject(null).combine(['a'])",
            &HashMap::new(),
            "rid",
            None,
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Incoming traverser for combine step can't be null"),
        "{err}"
    );
    let mut f = strs(&db, "g.V().format('%{name} is %{age}')");
    f.sort();
    assert_eq!(
        f,
        vec!["josh is 32", "marko is 29", "peter is 35", "vadas is 27"]
    );
    assert_eq!(
        strs(
            &db,
            "g.V('1').format('%{_}-%{_}').by(values('name')).by(constant('x'))"
        ),
        vec!["marko-x"]
    );
    assert_eq!(
        strs(
            &db,
            "g.inject('2023-08-09T00:00:00Z').asDate().dateDiff(datetime('2023-08-02T00:00:00Z'))"
        ),
        vec!["Long(604800)"]
    );
}

#[test]
fn match_binds_patterns_in_any_order() {
    let db = modern();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Two patterns chained through `b`, given in either order.
    let q1 = "g.V().match(__.as('a').out('knows').as('b'), __.as('b').out('created').as('c')).select('a','c').by('name').select(values).unfold()";
    let q2 = "g.V().match(__.as('b').out('created').as('c'), __.as('a').out('knows').as('b')).select('a','c').by('name').select(values).unfold()";
    assert_eq!(
        sorted(strs(&db, q1)),
        vec!["lop", "marko", "marko", "ripple"]
    );
    assert_eq!(sorted(strs(&db, q1)), sorted(strs(&db, q2)));
    // `where` inside match, and `not` of a pattern whose labels are bound elsewhere.
    assert_eq!(
        sorted(strs(
            &db,
            "g.V().match(__.as('a').out('created').as('b'), __.as('b').in('created').as('c'), __.where('a', neq('c'))).select('c').values('name')"
        )),
        vec!["josh", "josh", "marko", "marko", "peter", "peter"]
    );
    assert_eq!(
        sorted(strs(
            &db,
            "g.V().match(__.as('a').out().as('b'), __.not(__.as('a').out('created').as('b'))).select('b').values('name')"
        )),
        vec!["josh", "vadas"]
    );
    // A label bound before the match is a bound variable; a count binds a value.
    assert_eq!(
        q(
            &db,
            "g.V().as('a').out().as('b').match(__.as('a').out().count().as('c'), __.as('b').in().count().as('c')).select('c')"
        ),
        vec![r#"{"@type":"g:Int64","@value":3}"#]
    );
    // A pattern that does not start with as() is refused.
    assert!(
        db.execute("g.V().match(__.out())", &HashMap::new(), "rid", None)
            .is_err()
    );
}

#[test]
fn merge_options_take_cardinalities() {
    let db = modern();
    // A wrapped value appends with list cardinality.
    strs(
        &db,
        "g.mergeV([name: 'marko']).option(Merge.onMatch, [age: Cardinality.list(33)])",
    );
    assert_eq!(
        strs(&db, "g.V('1').properties('age').count()"),
        vec!["Long(2)"]
    );
    // The third argument sets every other key's cardinality.
    strs(
        &db,
        "g.mergeV([name: 'marko']).option(Merge.onMatch, [age: 40], single)",
    );
    assert_eq!(strs(&db, "g.V('1').values('age')"), vec!["Int(40)"]);
    assert!(
        db.execute(
            "g.mergeV([name: 'marko']).option(Merge.onMatch, [age: 1], 'many')",
            &HashMap::new(),
            "rid",
            None
        )
        .is_err()
    );
}

#[test]
fn infix_and_or_join_the_steps_around_them() {
    let db = modern();
    // Everything after `and()` is its right operand (so `values` filters inside it, and the
    // vertex itself comes out, as in TinkerPop).
    let r = q(
        &db,
        "g.V().as('a').out('knows').and().out('created').in('created').as('a').values('name')",
    );
    assert_eq!(r.len(), 1);
    assert!(r[0].contains("\"1\""), "{r:?}");
    let mut names = strs(
        &db,
        "g.V().or(__.outE('knows'), __.has(T.label, 'software').or().has('age', gte(35))).values('name')",
    );
    names.sort();
    assert_eq!(names, vec!["lop", "marko", "peter", "ripple"]);
}

#[test]
fn path_from_to_and_unproductive_by() {
    let db = modern();
    let mut r = q(
        &db,
        "g.V().as('a').out().as('b').out().as('c').path().from('b').to('c').by('name')",
    );
    r.sort();
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|p| p.contains("josh")), "{r:?}");
    // lop has no age: its path is filtered out, not an error.
    assert_eq!(q(&db, "g.V('1').out().path().by('age')").len(), 2);
}

#[test]
fn group_skips_unproductive_keys_and_values() {
    let db = modern();
    // Software has no age: those vertices are left out, not an error.
    assert_eq!(
        strs(&db, "g.V().group().by('age').select(keys).unfold().count()"),
        vec!["Long(4)"]
    );
    // A value traversal that produces nothing leaves its group out; one result is kept as is.
    let r = q(
        &db,
        "g.V().group('m').by('name').by(__.in('knows').values('name')).cap('m')",
    );
    assert_eq!(r.len(), 1);
    assert!(r[0].contains("vadas") && !r[0].contains("peter"), "{r:?}");
    let r = q(
        &db,
        "g.V().group().by(label).by(__.outE().values('weight').sum())",
    );
    assert!(!r[0].contains("software"), "{r:?}");
}

#[test]
fn value_map_tokens_and_by_modulators() {
    let db = modern();
    let r = q(
        &db,
        "g.V('1').valueMap('name','age').with(WithOptions.tokens, WithOptions.labels).by(unfold())",
    );
    assert!(r[0].contains("marko") && r[0].contains("person"), "{r:?}");
    assert!(!r[0].contains("\"1\""), "ids were not asked for: {r:?}");
    // Modulators apply to the keys in turn; one that produces nothing drops its key.
    let r = q(
        &db,
        "g.V('1').valueMap('name','age').by(is('x')).by(unfold())",
    );
    assert!(!r[0].contains("marko") && r[0].contains("29"), "{r:?}");
}
