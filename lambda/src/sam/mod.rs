//! SAM templates: `template.yaml` with `AWS::Serverless::Function` resources loaded into function
//! definitions and deployed into a [`LambdaRegion`].
//!
//! Supported, as `sam local` supports them: `Globals.Function`; `CodeUri` (a directory, which is
//! zipped with file modes kept, a `.zip` file, or `s3://bucket/key`); `Handler`, `Runtime`,
//! `MemorySize`, `Timeout`, `Environment.Variables`, `Architectures`, `Description`,
//! `FunctionName`, `ReservedConcurrentExecutions`; `Events` of type `DynamoDB` (an event source
//! mapping) and `Schedule` (`rate(...)` and `cron(...)`, deployed as scheduled rules that fire on
//! the engine's clock, see [`crate::rules`]); `Parameters` with
//! defaults and overrides; and the intrinsics `!Ref`, `!GetAtt`, `!Sub`, `!Join` (short and long
//! forms) over parameters, pseudo parameters and the template's functions. Any other intrinsic is
//! a typed [`SamError::Unsupported`], never a silent wrong value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use serde_norway::Value as Yaml;

use crate::config::{
    CreateFunction, Environment, FunctionCode, UpdateFunctionCode, UpdateFunctionConfiguration,
};
use crate::engine::LambdaRegion;
use crate::error::LambdaError;
use crate::esm::CreateEventSourceMapping;

mod intrinsics;
use intrinsics::{Resolver, scalar};

/// Why a template could not be loaded or deployed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SamError {
    /// The YAML does not parse.
    #[error("template is not valid YAML: {0}")]
    Yaml(String),
    /// The template's structure is wrong.
    #[error("invalid template: {0}")]
    Invalid(String),
    /// A feature `sam local` does not support either.
    #[error("unsupported in templates: {0}")]
    Unsupported(String),
    /// Reading `CodeUri` failed.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The engine refused a function.
    #[error("deploying {function}: {source}")]
    Deploy {
        /// The logical id.
        function: String,
        /// The engine's error.
        #[source]
        source: LambdaError,
    },
}

/// A schedule expression (`rate(...)` or AWS's six-field `cron(...)`).
pub use crate::schedule::ScheduleExpression as Schedule;

/// An event of a function.
#[derive(Debug, Clone, PartialEq)]
pub enum SamEvent {
    /// A DynamoDB stream source.
    DynamoDb {
        /// The event's name.
        name: String,
        /// The mapping it becomes.
        mapping: CreateEventSourceMapping,
    },
    /// A schedule.
    Schedule {
        /// The event's name.
        name: String,
        /// When.
        schedule: Schedule,
        /// The event payload (`Input`); without one the function gets EventBridge's
        /// `Scheduled Event` record.
        input: Option<Value>,
        /// The rule's name (`Name`, else `<FunctionLogicalId><EventName>` as SAM names it).
        rule_name: String,
        /// Whether it runs.
        enabled: bool,
    },
}

/// An `AWS::Serverless::Function` with globals merged and intrinsics resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SamFunction {
    /// The logical id.
    pub logical_id: String,
    /// The function's name (`FunctionName`, else the logical id, as `sam local` names it).
    pub name: String,
    /// Runtime.
    pub runtime: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// `CodeUri`, relative to the template's directory.
    pub code_uri: Option<String>,
    /// Memory.
    pub memory_size: Option<i64>,
    /// Timeout.
    pub timeout: Option<i64>,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// Architectures.
    pub architectures: Option<Vec<String>>,
    /// Description.
    pub description: Option<String>,
    /// Reserved concurrency.
    pub reserved_concurrency: Option<i64>,
    /// Events.
    pub events: Vec<SamEvent>,
}

/// Settings for resolving a template.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// `--parameter-overrides`.
    pub parameter_overrides: BTreeMap<String, String>,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account: String,
    /// `AWS::StackName`.
    pub stack_name: String,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            parameter_overrides: BTreeMap::new(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
            stack_name: "sam-app".into(),
        }
    }
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Functions by logical id.
    pub functions: BTreeMap<String, SamFunction>,
    /// Resolved parameter values.
    pub parameters: BTreeMap<String, Value>,
    /// The directory `CodeUri`s are relative to.
    pub base_dir: PathBuf,
}

fn merge(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l)) => {
            let mut out = g.clone();
            for (k, v) in l {
                let merged = match out.get(k) {
                    Some(gv) => merge(gv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, l) => l.clone(),
    }
}

fn int(v: &Value, field: &str) -> Result<Option<i64>, SamError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| SamError::Invalid(format!("{field} must be an integer"))),
        Value::String(s) => s
            .parse()
            .map(Some)
            .map_err(|_| SamError::Invalid(format!("{field} must be an integer"))),
        _ => Err(SamError::Invalid(format!("{field} must be an integer"))),
    }
}

/// The deepest `[`/`{` flow-collection nesting accepted: serde_norway's own recursion limit.
const MAX_FLOW_DEPTH: usize = 128;

/// Rejects flow collections nested deeper than [`MAX_FLOW_DEPTH`] before libyaml sees them: its
/// scanner rechecks every open level on each token, so 100k `[` ran past the `sam_template` fuzz
/// target's timeout (> 30 s). Brackets inside quoted scalars and comments do not count.
fn check_flow_depth(yaml: &str) -> Result<(), SamError> {
    let (mut depth, mut quote, mut comment, mut prev, mut escaped) = (0, None, false, ' ', false);
    for c in yaml.chars() {
        if comment {
            comment = c != '\n';
        } else if let Some(q) = quote {
            quote = (escaped || c != q).then_some(q);
            escaped = q == '"' && c == '\\' && !escaped;
        } else if matches!(c, '\'' | '"') && (prev.is_whitespace() || "[{,:".contains(prev)) {
            quote = Some(c);
        } else if c == '#' && prev.is_whitespace() {
            comment = true;
        } else if matches!(c, '[' | '{') {
            depth += 1;
            if depth > MAX_FLOW_DEPTH {
                return Err(SamError::Yaml(format!(
                    "flow collections nested deeper than {MAX_FLOW_DEPTH} levels"
                )));
            }
        } else if matches!(c, ']' | '}') {
            depth = depth.saturating_sub(1);
        }
        prev = c;
    }
    Ok(())
}

fn string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        other => Some(scalar(other)),
    }
}

impl Template {
    /// Parses a template with default options.
    pub fn parse(yaml: &str) -> Result<Template, SamError> {
        Template::parse_with(yaml, &ParseOptions::default())
    }

    /// Reads and parses `template.yaml`; `CodeUri`s resolve against its directory.
    pub fn load(path: &Path, opts: &ParseOptions) -> Result<Template, SamError> {
        let text = std::fs::read_to_string(path).map_err(|e| SamError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut t = Template::parse_with(&text, opts)?;
        t.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(t)
    }

    /// Parses a template.
    pub fn parse_with(yaml: &str, opts: &ParseOptions) -> Result<Template, SamError> {
        check_flow_depth(yaml)?;
        let doc: Yaml = serde_norway::from_str(yaml).map_err(|e| SamError::Yaml(e.to_string()))?;
        let Yaml::Mapping(root) = &doc else {
            return Err(SamError::Invalid("the template is not a mapping".into()));
        };
        let get = |k: &str| root.get(Yaml::String(k.into()));
        let mut r = Resolver {
            opts,
            params: BTreeMap::new(),
            names: BTreeMap::new(),
            resources: BTreeMap::new(),
        };
        if let Some(Yaml::Mapping(ps)) = get("Parameters") {
            for (k, v) in ps {
                let name = k
                    .as_str()
                    .ok_or_else(|| SamError::Invalid("parameter names are strings".into()))?
                    .to_owned();
                let value = match opts.parameter_overrides.get(&name) {
                    Some(o) => json!(o),
                    None => match v.get("Default") {
                        Some(d) => r.resolve(d)?,
                        None => {
                            return Err(SamError::Invalid(format!(
                                "parameter '{name}' has no value"
                            )));
                        }
                    },
                };
                r.params.insert(name, value);
            }
        }
        let Some(Yaml::Mapping(resources)) = get("Resources") else {
            return Err(SamError::Invalid("the template has no Resources".into()));
        };
        let mut raw = Vec::new();
        for (k, v) in resources {
            let id = k
                .as_str()
                .ok_or_else(|| SamError::Invalid("resource ids are strings".into()))?
                .to_owned();
            let kind = v
                .get("Type")
                .and_then(Yaml::as_str)
                .ok_or_else(|| SamError::Invalid(format!("resource '{id}' has no Type")))?
                .to_owned();
            r.resources.insert(id.clone(), kind.clone());
            if kind == "AWS::Serverless::Function" {
                let name = match v.get("Properties").and_then(|p| p.get("FunctionName")) {
                    Some(n) => scalar(&r.resolve(n)?),
                    None => id.clone(),
                };
                r.names.insert(id.clone(), name);
                raw.push((id, v.clone()));
            }
        }
        let globals = match get("Globals").and_then(|g| g.get("Function")) {
            Some(g) => r.resolve(g)?,
            None => json!({}),
        };
        let mut functions = BTreeMap::new();
        for (id, res) in raw {
            let props = match res.get("Properties") {
                Some(p) => r.resolve(p)?,
                None => json!({}),
            };
            let p = merge(&globals, &props);
            let mut environment = BTreeMap::new();
            if let Some(Value::Object(vars)) = p.pointer("/Environment/Variables") {
                for (k, v) in vars {
                    environment.insert(k.clone(), scalar(v));
                }
            }
            let mut events = Vec::new();
            if let Some(Value::Object(evs)) = p.get("Events") {
                for (name, ev) in evs {
                    let ep = ev.get("Properties").cloned().unwrap_or(json!({}));
                    match ev.get("Type").and_then(Value::as_str) {
                        Some("DynamoDB") => {
                            let mapping = CreateEventSourceMapping {
                                event_source_arn: string(ep.get("Stream").unwrap_or(&Value::Null)),
                                function_name: r.names[&id].clone(),
                                enabled: ep.get("Enabled").and_then(Value::as_bool),
                                batch_size: int(
                                    ep.get("BatchSize").unwrap_or(&Value::Null),
                                    "BatchSize",
                                )?,
                                maximum_batching_window_in_seconds: int(
                                    ep.get("MaximumBatchingWindowInSeconds")
                                        .unwrap_or(&Value::Null),
                                    "MaximumBatchingWindowInSeconds",
                                )?,
                                starting_position: string(
                                    ep.get("StartingPosition").unwrap_or(&Value::Null),
                                ),
                                starting_position_timestamp: ep
                                    .get("StartingPositionTimestamp")
                                    .and_then(Value::as_f64),
                                bisect_batch_on_function_error: ep
                                    .get("BisectBatchOnFunctionError")
                                    .and_then(Value::as_bool),
                                maximum_retry_attempts: int(
                                    ep.get("MaximumRetryAttempts").unwrap_or(&Value::Null),
                                    "MaximumRetryAttempts",
                                )?,
                                maximum_record_age_in_seconds: int(
                                    ep.get("MaximumRecordAgeInSeconds").unwrap_or(&Value::Null),
                                    "MaximumRecordAgeInSeconds",
                                )?,
                                destination_config: ep
                                    .get("DestinationConfig")
                                    .map(|d| serde_json::from_value(d.clone()))
                                    .transpose()
                                    .map_err(|e| SamError::Invalid(e.to_string()))?,
                                filter_criteria: ep
                                    .get("FilterCriteria")
                                    .map(|d| serde_json::from_value(d.clone()))
                                    .transpose()
                                    .map_err(|e| SamError::Invalid(e.to_string()))?,
                                function_response_types: ep
                                    .get("FunctionResponseTypes")
                                    .map(|d| serde_json::from_value(d.clone()))
                                    .transpose()
                                    .map_err(|e| SamError::Invalid(e.to_string()))?,
                            };
                            events.push(SamEvent::DynamoDb {
                                name: name.clone(),
                                mapping,
                            });
                        }
                        Some("Schedule") => {
                            let expr =
                                ep.get("Schedule").and_then(Value::as_str).ok_or_else(|| {
                                    SamError::Invalid(format!("event '{name}' has no Schedule"))
                                })?;
                            let input = match ep.get("Input") {
                                Some(Value::String(s)) => {
                                    Some(serde_json::from_str(s).map_err(|e| {
                                        SamError::Invalid(format!(
                                            "event '{name}' Input is not JSON: {e}"
                                        ))
                                    })?)
                                }
                                _ => None,
                            };
                            let schedule = Schedule::parse(expr).map_err(|e| {
                                SamError::Invalid(format!(
                                    "event '{name}' of {id}: {e} ({}: {expr})",
                                    e.reason()
                                ))
                            })?;
                            let enabled = match ep.get("State").and_then(Value::as_str) {
                                Some(state) => state == "ENABLED",
                                None => ep.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
                            };
                            let rule_name = ep
                                .get("Name")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                                .unwrap_or_else(|| format!("{id}{name}"));
                            events.push(SamEvent::Schedule {
                                name: name.clone(),
                                schedule,
                                input,
                                rule_name,
                                enabled,
                            });
                        }
                        Some(other) => {
                            return Err(SamError::Unsupported(format!(
                                "event type {other} (event '{name}' of {id})"
                            )));
                        }
                        None => {
                            return Err(SamError::Invalid(format!(
                                "event '{name}' of {id} has no Type"
                            )));
                        }
                    }
                }
            }
            let function = SamFunction {
                logical_id: id.clone(),
                name: r.names[&id].clone(),
                runtime: string(p.get("Runtime").unwrap_or(&Value::Null)),
                handler: string(p.get("Handler").unwrap_or(&Value::Null)),
                code_uri: string(p.get("CodeUri").unwrap_or(&Value::Null)),
                memory_size: int(p.get("MemorySize").unwrap_or(&Value::Null), "MemorySize")?,
                timeout: int(p.get("Timeout").unwrap_or(&Value::Null), "Timeout")?,
                environment,
                architectures: p
                    .get("Architectures")
                    .and_then(|a| serde_json::from_value(a.clone()).ok()),
                description: string(p.get("Description").unwrap_or(&Value::Null)),
                reserved_concurrency: int(
                    p.get("ReservedConcurrentExecutions")
                        .unwrap_or(&Value::Null),
                    "ReservedConcurrentExecutions",
                )?,
                events,
            };
            functions.insert(id, function);
        }
        Ok(Template {
            functions,
            parameters: r.params,
            base_dir: PathBuf::new(),
        })
    }

    /// A function by logical id (or by function name).
    pub fn function(&self, id: &str) -> Option<&SamFunction> {
        self.functions
            .get(id)
            .or_else(|| self.functions.values().find(|f| f.name == id))
    }
}

/// What [`Template::deploy`] created. Dropping it deletes the template's schedule rules.
#[derive(Debug, Default)]
pub struct Deployment {
    /// Logical id → function name.
    pub functions: BTreeMap<String, String>,
    /// The event source mappings created (UUIDs).
    pub mappings: Vec<String>,
    /// The scheduled rules created (names; see [`LambdaRegion::describe_rule`]).
    pub rules: Vec<String>,
    region: Option<LambdaRegion>,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if let Some(region) = &self.region {
            for r in &self.rules {
                let _ = region.delete_rule(r);
            }
        }
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>, u32)>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        let meta = e.metadata()?;
        if meta.is_dir() {
            walk(&e.path(), &format!("{name}/"), out)?;
        } else {
            out.push((
                name,
                std::fs::read(e.path())?,
                meta.permissions().mode() & 0o777,
            ));
        }
    }
    Ok(())
}

impl Template {
    /// The deployment package of `f`: its `CodeUri` directory zipped, a `.zip` file, or an S3
    /// location; none for in-process (`nubis:`) handlers without code.
    pub fn package(&self, f: &SamFunction) -> Result<FunctionCode, SamError> {
        let Some(uri) = &f.code_uri else {
            return Ok(FunctionCode::default());
        };
        if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest
                .split_once('/')
                .ok_or_else(|| SamError::Invalid(format!("bad CodeUri {uri}")))?;
            return Ok(FunctionCode::s3(bucket, key));
        }
        let path = self.base_dir.join(uri);
        let io = |e: std::io::Error| SamError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if path.is_file() {
            return Ok(FunctionCode::zip(std::fs::read(&path).map_err(io)?));
        }
        let mut files = Vec::new();
        walk(&path, "", &mut files).map_err(io)?;
        let entries: Vec<(&str, &[u8], u32)> = files
            .iter()
            .map(|(n, d, m)| (n.as_str(), d.as_slice(), *m))
            .collect();
        let zip = crate::package::build_zip(&entries).map_err(|e| SamError::Deploy {
            function: f.logical_id.clone(),
            source: e,
        })?;
        Ok(FunctionCode::zip(zip))
    }

    /// Creates (or updates) every function, its reserved concurrency, event source mappings and
    /// schedules in `region`.
    pub fn deploy(&self, region: &LambdaRegion) -> Result<Deployment, SamError> {
        let mut d = Deployment::default();
        d.region = Some(region.clone());
        for f in self.functions.values() {
            let fail = |source| SamError::Deploy {
                function: f.logical_id.clone(),
                source,
            };
            let code = self.package(f)?;
            let env = (!f.environment.is_empty()).then(|| Environment {
                variables: f.environment.clone(),
            });
            if region.get_function_configuration(&f.name, None).is_ok() {
                if code != FunctionCode::default() {
                    let upd = UpdateFunctionCode {
                        zip_file: code.zip_file.clone(),
                        s3_bucket: code.s3_bucket.clone(),
                        s3_key: code.s3_key.clone(),
                        ..Default::default()
                    };
                    region.update_function_code(&f.name, upd).map_err(fail)?;
                }
                let upd = UpdateFunctionConfiguration {
                    runtime: f.runtime.clone(),
                    handler: f.handler.clone(),
                    memory_size: f.memory_size,
                    timeout: f.timeout,
                    environment: env,
                    description: f.description.clone(),
                    ..Default::default()
                };
                region
                    .update_function_configuration(&f.name, upd)
                    .map_err(fail)?;
            } else {
                let req = CreateFunction {
                    function_name: f.name.clone(),
                    runtime: f.runtime.clone(),
                    role: crate::config::DEFAULT_ROLE.into(),
                    handler: f.handler.clone(),
                    code,
                    description: f.description.clone(),
                    timeout: f.timeout,
                    memory_size: f.memory_size,
                    environment: env,
                    architectures: f.architectures.clone(),
                    ..Default::default()
                };
                region.create_function(req).map_err(fail)?;
            }
            if let Some(n) = f.reserved_concurrency {
                region.put_function_concurrency(&f.name, n).map_err(fail)?;
            }
            d.functions.insert(f.logical_id.clone(), f.name.clone());
            for ev in &f.events {
                match ev {
                    SamEvent::DynamoDb { mapping, .. } => {
                        let m = region
                            .create_event_source_mapping(mapping.clone())
                            .map_err(fail)?;
                        d.mappings.push(m.uuid);
                    }
                    SamEvent::Schedule {
                        schedule,
                        input,
                        rule_name,
                        enabled,
                        ..
                    } => {
                        let rule = crate::rules::PutRule {
                            name: rule_name.clone(),
                            schedule_expression: schedule.to_string(),
                            enabled: *enabled,
                            target: f.name.clone(),
                            input: input.clone(),
                        };
                        region.put_rule(rule).map_err(fail)?;
                        d.rules.push(rule_name.clone());
                    }
                }
            }
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `sam_template` fuzz binary timed out (> 30 s) on this deep-nesting probe input; now
    /// it is a typed error at once.
    #[test]
    fn deep_flow_nesting_is_rejected_quickly() {
        let deep = format!("A: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = Template::parse(&deep).unwrap_err();
        assert!(
            matches!(e, SamError::Yaml(ref m) if m.contains("nested deeper")),
            "{e}"
        );
        // Brackets in quoted scalars and comments are text, not nesting.
        let text = "[".repeat(200);
        let ok = format!("A: '{text}'\nB: \"{text}\\\"\" # {text}\nC: [[1]]\n");
        assert!(check_flow_depth(&ok).is_ok());
        assert!(check_flow_depth(&format!("A: {}", "[".repeat(129))).is_err());
    }
}
