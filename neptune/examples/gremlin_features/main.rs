//! Runs TinkerPop's Gherkin feature files through the engine's request path.
//!
//! ```text
//! cargo run --release -p nubis-neptune --example gremlin_features -- <dir> [filter]
//! ```
//!
//! `<dir>` holds `*.feature` files (searched recursively) and, in it or a parent, a `data/`
//! folder with TinkerPop's sample graphs as GraphSON 3 lines. Every scenario loads its graph into
//! a fresh [`Database`], binds its parameters, runs its traversal with [`Database::execute`] (the
//! call `/gremlin` makes), serialises each result to GraphSON 3 as a client would receive it, and
//! compares the results with the expected table in TinkerPop's notation. Every failure and skip
//! is named with its reason; the last line is `conformance: N passed, M failed, K skipped`.

mod gherkin;
mod notation;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nubis_core::Env;
use nubis_neptune::gremlin::graphson;
use nubis_neptune::store::{Cardinality, Graph};
use nubis_neptune::{Database, DbOptions, Value};

use gherkin::{Expect, Scenario};

/// Tags naming features this engine does not provide, with the reason.
const SKIP_TAGS: &[(&str, &str)] = &[
    (
        "@GraphComputerOnly",
        "needs a GraphComputer (OLAP); Neptune runs Gremlin OLTP only",
    ),
    (
        "@AllowNullPropertyValues",
        "the graph does not store null property values (as Neptune)",
    ),
    (
        "@WithPartitionStrategy",
        "PartitionStrategy is not supported (Neptune does not offer it)",
    ),
    (
        "@TinkerServiceRegistry",
        "call() services are TinkerGraph-specific",
    ),
    ("@RemoteOnly", "needs a remote connection fixture"),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: gremlin_features <dir-with-feature-files> [scenario-name-filter]");
        std::process::exit(2);
    };
    let filter = args.next();
    let dir = PathBuf::from(dir);
    let mut files = Vec::new();
    collect_features(&dir, &mut files);
    files.sort();
    let data = find_data_dir(&dir);
    let mut graphs: HashMap<String, Option<Graph>> = HashMap::new();
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            eprintln!("cannot read {}", file.display());
            continue;
        };
        let rel = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .display()
            .to_string();
        for sc in gherkin::parse(&text) {
            if filter.as_deref().is_some_and(|f| !sc.name.contains(f)) {
                continue;
            }
            let outcome = run_scenario(&sc, data.as_deref(), &mut graphs);
            match outcome {
                Outcome::Pass => passed += 1,
                Outcome::Fail(why) => {
                    failed += 1;
                    println!("FAIL {rel} {}: {why}", sc.name);
                }
                Outcome::Skip(why) => {
                    skipped += 1;
                    println!("SKIP {rel} {}: {why}", sc.name);
                }
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed, {skipped} skipped");
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_features(&p, out);
        } else if p.extension().is_some_and(|x| x == "feature") {
            out.push(p);
        }
    }
}

fn find_data_dir(dir: &Path) -> Option<PathBuf> {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        let cand = d.join("data");
        if cand.is_dir() {
            return Some(cand);
        }
        cur = d.parent();
    }
    None
}

fn graph_file(name: &str) -> &str {
    match name {
        "modern" => "tinkerpop-modern.json",
        "classic" => "tinkerpop-classic.json",
        "crew" => "tinkerpop-crew.json",
        "sink" => "tinkerpop-sink.json",
        "grateful" => "grateful-dead.json",
        _ => "",
    }
}

/// Builds a graph from GraphSON 3 adjacency lines.
fn load_graphson(text: &str) -> Result<Graph, String> {
    let mut g = Graph::new();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for l in &lines {
        let id = graphson::read(&l["id"]).map_err(|e| e.to_string())?;
        let label = l["label"].as_str().unwrap_or("vertex");
        let v = g.add_vertex(id, &[label]).map_err(|e| e.to_string())?;
        if let Some(props) = l["properties"].as_object() {
            for (k, vals) in props {
                for p in vals.as_array().into_iter().flatten() {
                    let val = graphson::read(&p["value"]).map_err(|e| e.to_string())?;
                    let pid = g
                        .set_vertex_property(v, Cardinality::List, k, val, vec![])
                        .map_err(|e| e.to_string())?;
                    if let Some(meta) = p["properties"].as_object() {
                        for (mk, mv) in meta {
                            g.set_meta_property(
                                v,
                                pid,
                                mk,
                                graphson::read(mv).map_err(|e| e.to_string())?,
                            )
                            .map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
        }
    }
    for l in &lines {
        let src = graphson::read(&l["id"]).map_err(|e| e.to_string())?;
        let s = g.vertex_by_id(&src).ok_or("missing vertex")?;
        for (label, es) in l["outE"].as_object().into_iter().flatten() {
            for e in es.as_array().into_iter().flatten() {
                let id = graphson::read(&e["id"]).map_err(|e| e.to_string())?;
                let dst = graphson::read(&e["inV"]).map_err(|e| e.to_string())?;
                let d = g.vertex_by_id(&dst).ok_or("missing in vertex")?;
                let eid = g.add_edge(id, label, s, d).map_err(|e| e.to_string())?;
                for (k, v) in e["properties"].as_object().into_iter().flatten() {
                    g.set_edge_property(eid, k, graphson::read(v).map_err(|e| e.to_string())?)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(g)
}

fn new_db() -> Database {
    // The system clock bounds runaway traversals with the per-query timeout.
    let env = Env::default();
    // TinkerGraph semantics for the TinkerPop suite: single cardinality, ids as given.
    Database::new(
        env.clock.clone(),
        env.ids.clone(),
        DbOptions {
            default_cardinality: Cardinality::Single,
            string_ids: false,
            query_timeout: std::time::Duration::from_secs(10),
        },
    )
}

fn run_scenario(
    sc: &Scenario,
    data: Option<&Path>,
    graphs: &mut HashMap<String, Option<Graph>>,
) -> Outcome {
    for tag in &sc.tags {
        if let Some((_, why)) = SKIP_TAGS.iter().find(|(t, _)| t == tag) {
            return Outcome::Skip(why.to_string());
        }
    }
    if let Some(why) = &sc.nothing_because {
        return Outcome::Skip(format!(
            "the suite marks it as not applicable: {}",
            why.lines().next().unwrap_or("").trim()
        ));
    }
    let Some(traversal) = &sc.traversal else {
        return Outcome::Skip("no traversal".into());
    };
    let db = new_db();
    match sc.graph.as_str() {
        "empty" => {}
        name => {
            let g = graphs.entry(name.to_owned()).or_insert_with(|| {
                let file = data?.join(graph_file(name));
                let text = std::fs::read_to_string(file).ok()?;
                load_graphson(&text).ok()
            });
            match g {
                Some(g) => db.publish(g.clone()),
                None => {
                    return Outcome::Skip(format!(
                        "graph '{name}' not found under the data directory"
                    ));
                }
            }
        }
    }
    if let Some(init) = &sc.initializer
        && let Err(e) = db.execute(init, &HashMap::new(), "init", None)
    {
        return Outcome::Fail(format!("graph initializer failed: {e}"));
    }
    let snapshot = db.snapshot();
    let mut bindings = HashMap::new();
    for (name, text) in &sc.params {
        match notation::parse(text, &snapshot) {
            Ok(v) => {
                bindings.insert(name.clone(), v);
            }
            Err(notation::Unsupported(why)) => {
                return Outcome::Skip(format!("parameter {name}: {why}"));
            }
        }
    }
    let result = db.execute(traversal, &bindings, "scenario", None);
    match (&sc.expect, result) {
        (Expect::Error(text), Err(e)) => match text {
            Some(t) if !e.to_string().contains(t.as_str()) => {
                Outcome::Fail(format!("error '{e}' does not contain '{t}'"))
            }
            _ => Outcome::Pass,
        },
        (Expect::Error(_), Ok(r)) => {
            Outcome::Fail(format!("expected an error, got {} results", r.values.len()))
        }
        (_, Err(e)) => Outcome::Fail(format!("error: {e}")),
        (expect, Ok(r)) => {
            // Serialise as a client would receive the results.
            for v in &r.values {
                let _ = graphson::write(&r.graph, v);
            }
            let mut values = r.values.clone();
            if sc.iterate_next {
                values = match values.into_iter().next() {
                    Some(Value::List(l)) => l.as_ref().clone(),
                    Some(Value::Path(p)) => p.objects.clone(),
                    Some(other) => vec![other],
                    None => vec![],
                };
            }
            let got = canon_all(&r.graph, &values);
            let verdict = match expect {
                Expect::Empty => {
                    if got.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("expected no results, got {}", show(&got)))
                    }
                }
                Expect::Count(n) => {
                    if got.len() == *n {
                        Ok(())
                    } else {
                        Err(format!(
                            "expected {n} results, got {}: {}",
                            got.len(),
                            show(&got)
                        ))
                    }
                }
                Expect::Table { ordered, of, rows } => compare(&r.graph, *ordered, *of, rows, &got),
                Expect::None => Ok(()),
                Expect::Error(_) => Ok(()),
            };
            if let Err(why) = verdict {
                return Outcome::Fail(why);
            }
            for (n, q) in &sc.graph_counts {
                match db.execute(q, &bindings, "check", None) {
                    Ok(r) if r.values.len() == *n => {}
                    Ok(r) => {
                        return Outcome::Fail(format!(
                            "graph should return {n} results for {q}, got {}",
                            show(&canon_all(&r.graph, &r.values))
                        ));
                    }
                    Err(e) => return Outcome::Fail(format!("graph check {q} failed: {e}")),
                }
            }
            Outcome::Pass
        }
    }
}

fn canon_all(g: &Arc<Graph>, vals: &[Value]) -> Vec<String> {
    vals.iter().map(|v| notation::canon(g, v)).collect()
}

fn show(v: &[String]) -> String {
    let s = v.join(", ");
    if s.len() > 300 {
        format!(
            "[{}…]",
            &s[..s.char_indices().nth(300).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        format!("[{s}]")
    }
}

fn compare(
    g: &Arc<Graph>,
    ordered: bool,
    of: bool,
    rows: &[String],
    got: &[String],
) -> Result<(), String> {
    let mut want = Vec::new();
    for r in rows {
        match notation::parse(r, g) {
            Ok(v) => want.push(notation::canon(g, &v)),
            Err(notation::Unsupported(why)) => {
                return Err(format!("cannot read expected value {r}: {why}"));
            }
        }
    }
    if of {
        return match got.iter().find(|x| !want.contains(x)) {
            Some(x) => Err(format!("result {x} is not one of {}", show(&want))),
            None => Ok(()),
        };
    }
    if ordered {
        return if want == got {
            Ok(())
        } else {
            Err(format!("expected {} got {}", show(&want), show(got)))
        };
    }
    let (mut a, mut b) = (want.clone(), got.to_vec());
    a.sort();
    b.sort();
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "expected (any order) {} got {}",
            show(&want),
            show(got)
        ))
    }
}
