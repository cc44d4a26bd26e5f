//! Property tests: generated graphs and traversals against a naive reference evaluator, and the
//! parser's robustness and round-trip on generated and arbitrary text.

use std::collections::HashMap;

use nubis_core::{Env, ManualClock};
use nubis_neptune::gremlin::parse::parse;
use nubis_neptune::store::{Cardinality, Graph};
use nubis_neptune::{Database, DbOptions, Value};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct G {
    labels: Vec<u8>,
    w: Vec<i32>,
    edges: Vec<(usize, usize, u8)>,
}

fn graph_strategy() -> impl Strategy<Value = G> {
    (1usize..16).prop_flat_map(|n| {
        (
            prop::collection::vec(0u8..3, n),
            prop::collection::vec(0i32..6, n),
            prop::collection::vec((0..n, 0..n, 0u8..2), 0..48),
        )
            .prop_map(|(labels, w, edges)| G { labels, w, edges })
    })
}

#[derive(Debug, Clone)]
enum S {
    Out(Option<u8>),
    In(Option<u8>),
    Both(Option<u8>),
    HasWGt(i32),
    HasLabel(u8),
    Dedup,
    /// `repeat(out|in|both(label)).times(n)`: traverser bulking must count every path.
    Repeat(u8, Option<u8>, u8),
}

fn step_strategy() -> impl Strategy<Value = S> {
    prop_oneof![
        prop::option::of(0u8..2).prop_map(S::Out),
        prop::option::of(0u8..2).prop_map(S::In),
        prop::option::of(0u8..2).prop_map(S::Both),
        (0i32..6).prop_map(S::HasWGt),
        (0u8..3).prop_map(S::HasLabel),
        Just(S::Dedup),
        (0u8..3, prop::option::of(0u8..2), 1u8..4).prop_map(|(d, l, n)| S::Repeat(d, l, n)),
    ]
}

const VL: [&str; 3] = ["a", "b", "c"];
const EL: [&str; 2] = ["x", "y"];

fn to_gremlin(start: Option<usize>, steps: &[S]) -> String {
    let mut q = match start {
        Some(v) => format!("g.V('v{v}')"),
        None => "g.V()".to_owned(),
    };
    for s in steps {
        let lab = |l: &Option<u8>| {
            l.map(|l| format!("'{}'", EL[l as usize]))
                .unwrap_or_default()
        };
        q.push_str(&match s {
            S::Out(l) => format!(".out({})", lab(l)),
            S::In(l) => format!(".in({})", lab(l)),
            S::Both(l) => format!(".both({})", lab(l)),
            S::HasWGt(k) => format!(".has('w', gt({k}))"),
            S::HasLabel(l) => format!(".hasLabel('{}')", VL[*l as usize]),
            S::Dedup => ".dedup()".to_owned(),
            S::Repeat(d, l, n) => format!(
                ".repeat({}({})).times({n})",
                ["out", "in", "both"][*d as usize],
                lab(l)
            ),
        });
    }
    q.push_str(".id()");
    q
}

/// The reference: a list of vertex indexes per step, by brute force over the edge list.
fn reference(g: &G, start: Option<usize>, steps: &[S]) -> Vec<String> {
    let mut cur: Vec<usize> = match start {
        Some(v) => vec![v],
        None => (0..g.labels.len()).collect(),
    };
    let steps: Vec<S> = steps
        .iter()
        .flat_map(|s| match s {
            S::Repeat(d, l, n) => {
                let one = [S::Out(*l), S::In(*l), S::Both(*l)][*d as usize].clone();
                vec![one; *n as usize]
            }
            other => vec![other.clone()],
        })
        .collect();
    for s in &steps {
        let mut next = Vec::new();
        for &v in &cur {
            match s {
                S::Out(l) | S::In(l) | S::Both(l) => {
                    let out = matches!(s, S::Out(_) | S::Both(_));
                    let inn = matches!(s, S::In(_) | S::Both(_));
                    for &(a, b, el) in &g.edges {
                        if l.is_some_and(|l| l != el) {
                            continue;
                        }
                        if out && a == v {
                            next.push(b);
                        }
                        if inn && b == v {
                            next.push(a);
                        }
                    }
                }
                S::HasWGt(k) => {
                    if g.w[v] > *k {
                        next.push(v)
                    }
                }
                S::HasLabel(l) => {
                    if g.labels[v] == *l {
                        next.push(v)
                    }
                }
                S::Dedup => {
                    if !next.contains(&v) {
                        next.push(v)
                    }
                }
                // Expanded above.
                S::Repeat(..) => {}
            }
        }
        cur = next;
    }
    let mut out: Vec<String> = cur.into_iter().map(|v| format!("v{v}")).collect();
    out.sort();
    out
}

fn build(g: &G, compact: bool) -> Database {
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let db = Database::new(env.clock.clone(), env.ids.clone(), DbOptions::default());
    let mut gr = Graph::new();
    for (i, (&l, &w)) in g.labels.iter().zip(g.w.iter()).enumerate() {
        let v = gr
            .add_vertex(Value::str(&format!("v{i}")), &[VL[l as usize]])
            .unwrap();
        gr.set_vertex_property(v, Cardinality::Single, "w", Value::Int(w), vec![])
            .unwrap();
    }
    for (i, &(a, b, l)) in g.edges.iter().enumerate() {
        gr.add_edge(
            Value::str(&format!("e{i}")),
            EL[l as usize],
            a as u32,
            b as u32,
        )
        .unwrap();
    }
    if compact {
        gr.compact();
    }
    db.publish(gr);
    db
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn traversals_match_the_reference(g in graph_strategy(), start in prop::option::of(0usize..16), steps in prop::collection::vec(step_strategy(), 0..4), compact in any::<bool>()) {
        // The reference evaluator keeps one traverser per path (no bulking), so long chains of
        // expansions grow exponentially and can exhaust memory: keep at most 6 hops in total.
        let hops: usize = steps.iter().map(|s| match s { S::Repeat(_, _, n) => *n as usize, _ => 1 }).sum();
        prop_assume!(hops <= 6);
        let start = start.filter(|s| *s < g.labels.len());
        let db = build(&g, compact);
        let q = to_gremlin(start, &steps);
        let r = db.execute(&q, &HashMap::new(), "p", None).unwrap();
        let mut got: Vec<String> = r.values.iter().map(|v| v.as_str().unwrap_or("?").to_owned()).collect();
        got.sort();
        prop_assert_eq!(got, reference(&g, start, &steps), "query {}", q);
        // The folded count agrees with the traverser count.
        let cq = q.trim_end_matches(".id()").to_owned() + ".count()";
        let c = db.execute(&cq, &HashMap::new(), "p", None).unwrap();
        prop_assert_eq!(c.values, vec![Value::Long(reference(&g, start, &steps).len() as i64)], "query {}", cq);
    }

    #[test]
    fn parser_never_panics(s in ".{0,80}") {
        let _ = parse(&s);
    }

    #[test]
    fn generated_queries_round_trip(start in prop::option::of(0usize..16), steps in prop::collection::vec(step_strategy(), 0..6)) {
        let q = to_gremlin(start, &steps);
        let a = parse(&q).unwrap();
        let b = parse(&a.to_string()).unwrap();
        prop_assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn gremlin_like_text_gives_typed_errors(s in "g\\.[VEa-z]{1,6}\\([0-9a-z',() ]{0,12}\\)(\\.[a-z]{1,6}\\([0-9a-z',() ]{0,8}\\)){0,3}") {
        let clock = ManualClock::at_default_epoch();
        let env = Env::with_clock(clock.shared());
        let db = Database::new(env.clock.clone(), env.ids.clone(), DbOptions::default());
        let _ = db.execute(&s, &HashMap::new(), "p", None);
    }
}
