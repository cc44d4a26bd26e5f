//! Just enough Gherkin for TinkerPop's feature files: tags, scenarios, their `Given`/`And`/
//! `When`/`Then` steps, doc strings and result tables.

/// What a scenario expects.
#[derive(Debug, Clone)]
pub enum Expect {
    /// No assertion on results.
    None,
    /// `the result should be empty`.
    Empty,
    /// `the result should have a count of N`.
    Count(usize),
    /// A table of results (`ordered`, `unordered`, or `of`).
    Table {
        ordered: bool,
        of: bool,
        rows: Vec<String>,
    },
    /// `the traversal will raise an error [with message containing text of "…"]`.
    Error(Option<String>),
}

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub tags: Vec<String>,
    pub graph: String,
    pub initializer: Option<String>,
    pub params: Vec<(String, String)>,
    pub traversal: Option<String>,
    pub iterate_next: bool,
    pub expect: Expect,
    pub graph_counts: Vec<(usize, String)>,
    pub nothing_because: Option<String>,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    s.replace("\\\"", "\"")
}

/// Parses a feature file into scenarios.
pub fn parse(text: &str) -> Vec<Scenario> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Scenario> = Vec::new();
    let mut feature_tags: Vec<String> = Vec::new();
    let mut pending_tags: Vec<String> = Vec::new();
    let mut i = 0;
    let mut pending_doc: Option<&str> = None;
    while i < lines.len() {
        let line = lines[i].trim();
        i += 1;
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('@') {
            pending_tags.extend(line.split_whitespace().map(str::to_owned));
            continue;
        }
        if line.starts_with("Feature:") {
            feature_tags = std::mem::take(&mut pending_tags);
            continue;
        }
        if let Some(name) = line.strip_prefix("Scenario:") {
            let mut tags = feature_tags.clone();
            tags.append(&mut pending_tags);
            out.push(Scenario {
                name: name.trim().to_owned(),
                tags,
                graph: "empty".into(),
                initializer: None,
                params: Vec::new(),
                traversal: None,
                iterate_next: false,
                expect: Expect::None,
                graph_counts: Vec::new(),
                nothing_because: None,
            });
            continue;
        }
        let Some(sc) = out.last_mut() else { continue };
        if line.starts_with("\"\"\"") {
            let mut doc = Vec::new();
            while i < lines.len() && !lines[i].trim().starts_with("\"\"\"") {
                doc.push(lines[i].trim());
                i += 1;
            }
            i += 1;
            let doc = doc.join("\n");
            match pending_doc.take() {
                Some("init") => sc.initializer = Some(doc),
                Some("traversal") => sc.traversal = Some(doc),
                Some("nothing") => sc.nothing_because = Some(doc),
                _ => {}
            }
            continue;
        }
        if line.starts_with('|') {
            let cell = line.trim_matches('|').trim().to_owned();
            if let Expect::Table { rows, .. } = &mut sc.expect
                && cell != "result"
            {
                rows.push(cell);
            }
            continue;
        }
        let step = line.split_once(' ').map(|x| x.1).unwrap_or("");
        if let Some(g) = step
            .strip_prefix("the ")
            .and_then(|s| s.strip_suffix(" graph"))
        {
            sc.graph = g.to_owned();
        } else if step.starts_with("the graph initializer of") {
            pending_doc = Some("init");
        } else if step.starts_with("the traversal of") {
            pending_doc = Some("traversal");
        } else if let Some(rest) = step.strip_prefix("using the parameter ") {
            if let Some((name, val)) = rest.split_once(" defined as ") {
                sc.params.push((name.trim().to_owned(), unquote(val)));
            } else if let Some((name, val)) = rest.split_once(" of ") {
                sc.params.push((
                    name.trim().to_owned(),
                    format!("c[predicate parameter {}]", val.trim()),
                ));
            }
        } else if step.starts_with("iterated next") {
            sc.iterate_next = true;
        } else if step.starts_with("the result should be empty") {
            sc.expect = Expect::Empty;
        } else if let Some(n) = step.strip_prefix("the result should have a count of ") {
            sc.expect = Expect::Count(n.trim().parse().unwrap_or(0));
        } else if let Some(kind) = step.strip_prefix("the result should be ") {
            let kind = kind.trim();
            sc.expect = Expect::Table {
                ordered: kind == "ordered",
                of: kind == "of",
                rows: Vec::new(),
            };
        } else if step.starts_with("the traversal will raise an error") {
            let msg = step
                .split_once("containing text of ")
                .map(|(_, m)| unquote(m));
            sc.expect = Expect::Error(msg);
        } else if let Some(rest) = step.strip_prefix("the graph should return ") {
            if let Some((n, q)) = rest.split_once(" for count of ") {
                sc.graph_counts
                    .push((n.trim().parse().unwrap_or(0), unquote(q)));
            }
        } else if step.starts_with("nothing should happen because") {
            pending_doc = Some("nothing");
        }
    }
    out
}
