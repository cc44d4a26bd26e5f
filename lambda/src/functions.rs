//! The control plane: create, read, update and delete functions; versions, aliases, tags,
//! reserved and provisioned concurrency, asynchronous invocation settings, account settings.
//!
//! Guarantees: every request is validated completely before anything changes, so a rejected
//! request leaves no trace; published versions are immutable snapshots; `$LATEST` is replaced,
//! never mutated, so an invocation in flight keeps the configuration it started with.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use crate::config::*;
use crate::engine::{FunctionData, FunctionEntry, LambdaRegion, VersionData};
use crate::error::{LambdaError, Result};
use crate::invoke::Target;
use crate::names::{self, FunctionRef};
use crate::package::{CodePackage, MAX_TOTAL_CODE_BYTES, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};
use crate::runtime::{self, HandlerKind};

/// GetFunction's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetFunctionOutput {
    /// The configuration.
    pub configuration: FunctionConfiguration,
    /// Where the package is.
    pub code: CodeLocation,
    /// Tags (unqualified requests only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Reserved concurrency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

/// Where a package can be downloaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeLocation {
    /// `S3`.
    pub repository_type: String,
    /// A URL naming the package (Nubis keeps packages in memory; see `docs/lambda.md`).
    pub location: String,
}

/// Reserved concurrency.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    /// The reservation.
    pub reserved_concurrent_executions: u32,
}

/// A provisioned concurrency configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedState {
    /// Requested.
    pub requested_provisioned_concurrent_executions: u32,
    /// Ready environments.
    pub available_provisioned_concurrent_executions: u32,
    /// Allocated environments.
    pub allocated_provisioned_concurrent_executions: u32,
    /// `IN_PROGRESS`, `READY` or `FAILED`.
    pub status: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// When last changed.
    pub last_modified: String,
}

/// GetAccountSettings' answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSettings {
    /// Limits.
    pub account_limit: serde_json::Value,
    /// Usage.
    pub account_usage: serde_json::Value,
}

/// The time format of `LastModified`.
pub(crate) fn last_modified(t: SystemTime) -> String {
    nubis_core::clock::to_rfc3339(t).replace('Z', "+0000")
}

fn range(value: i64, field: &str, min: i64, max: i64) -> Result<u32> {
    if value < min {
        return Err(LambdaError::validation(
            &value.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(LambdaError::validation(
            &value.to_string(),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(value as u32)
}

fn check_env(env: &Environment) -> Result<()> {
    for key in env.variables.keys() {
        if !names::is_env_key(key) {
            return Err(LambdaError::validation(
                key,
                "environment.variables",
                "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            ));
        }
    }
    let reserved: Vec<&str> = env
        .variables
        .keys()
        .map(String::as_str)
        .filter(|k| names::RESERVED_ENV_KEYS.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = serde_json::to_string(&env.variables).unwrap_or_default();
    if measured.len() > 4096 {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

fn check_layers(layers: &[String]) -> Result<Vec<Layer>> {
    if layers.len() > 5 {
        return Err(LambdaError::validation(
            &format!("{layers:?}"),
            "layers",
            "Member must have length less than or equal to 5",
        ));
    }
    layers
        .iter()
        .map(|arn| {
            let ok = arn.starts_with("arn:") && arn.split(':').nth(2) == Some("lambda") && arn.split(':').nth(5) == Some("layer") && arn.split(':').count() == 8;
            if !ok {
                return Err(LambdaError::validation(arn, "layers", "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+"));
            }
            Ok(Layer { arn: arn.clone(), code_size: 0 })
        })
        .collect()
}

fn check_architectures(a: &Option<Vec<String>>) -> Result<Vec<String>> {
    match a {
        None => Ok(vec!["x86_64".into()]),
        Some(v) if v.len() != 1 => Err(LambdaError::validation(
            &format!("{v:?}"),
            "architectures",
            "Member must have length less than or equal to 1",
        )),
        Some(v) if v[0] == "x86_64" || v[0] == "arm64" => Ok(v.clone()),
        Some(v) => Err(LambdaError::validation(
            &v[0],
            "architectures",
            "Member must satisfy enum value set: [x86_64, arm64]",
        )),
    }
}

fn check_ephemeral(e: &Option<EphemeralStorage>) -> Result<EphemeralStorage> {
    let size = e
        .as_ref()
        .map(|e| e.size)
        .unwrap_or(i64::from(DEFAULT_EPHEMERAL_MB));
    range(size, "ephemeralStorage.size", 512, 10240)?;
    Ok(EphemeralStorage { size })
}

fn check_description(d: &Option<String>) -> Result<String> {
    let d = d.clone().unwrap_or_default();
    if d.chars().count() > 256 {
        return Err(LambdaError::validation(
            &d,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(d)
}

fn check_tracing(t: &Option<TracingConfig>) -> Result<TracingConfig> {
    match t {
        None => Ok(TracingConfig {
            mode: "PassThrough".into(),
        }),
        Some(t) if t.mode == "Active" || t.mode == "PassThrough" => Ok(t.clone()),
        Some(t) => Err(LambdaError::validation(
            &t.mode,
            "tracingConfig.mode",
            "Member must satisfy enum value set: [Active, PassThrough]",
        )),
    }
}

impl LambdaRegion {
    /// Parses a function reference and checks it names this region and account.
    pub(crate) fn parse_ref(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionRef> {
        let r = FunctionRef::parse(function_name)?.with_qualifier(qualifier)?;
        if let Some(region) = &r.region
            && region != self.state.region.as_str()
        {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Functions from '{region}' are not reachable in this region ('{}')",
                self.state.region.as_str()
            )));
        }
        if let Some(account) = &r.account
            && account != self.inner().env.account.as_str()
        {
            return Err(LambdaError::function_not_found(&format!(
                "arn:aws:lambda:{}:{account}:function:{}",
                self.state.region.as_str(),
                r.name
            )));
        }
        Ok(r)
    }

    pub(crate) fn entry(&self, r: &FunctionRef) -> Result<Arc<FunctionEntry>> {
        self.state
            .functions
            .read()
            .get(&r.name)
            .cloned()
            .ok_or_else(|| {
                let mut arn = self.function_arn(&r.name);
                if let Some(q) = &r.qualifier {
                    arn.push(':');
                    arn.push_str(q);
                }
                LambdaError::function_not_found(&arn)
            })
    }

    /// Resolves name + qualifier to the version to run (`route`: pick by alias weights).
    pub(crate) fn resolve_target(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        route: bool,
    ) -> Result<Target> {
        // A plain, valid name without a qualifier (the common call) is looked up as it is; any
        // other form goes through the full reference parser and its validation errors.
        let plain = qualifier.is_none()
            && function_name.len() <= 64
            && crate::names::is_name(function_name);
        let parsed;
        let (entry, qualifier) =
            if plain && let Some(e) = self.state.functions.read().get(function_name) {
                (Arc::clone(e), None)
            } else {
                parsed = self.parse_ref(function_name, qualifier)?;
                (self.entry(&parsed)?, parsed.qualifier.as_deref())
            };
        let data = entry.data.lock();
        let not_found = || {
            LambdaError::function_not_found(&format!(
                "{}:{}",
                entry.arn,
                qualifier.unwrap_or_default()
            ))
        };
        let (version, invoked_arn) = match qualifier {
            None => (Arc::clone(&data.latest), Arc::clone(&entry.arn)),
            Some("$LATEST") => (
                Arc::clone(&data.latest),
                format!("{}:$LATEST", entry.arn).into(),
            ),
            Some(q) if q.bytes().all(|c| c.is_ascii_digit()) => {
                let n: u64 = q.parse().map_err(|_| not_found())?;
                (
                    data.versions.get(&n).cloned().ok_or_else(not_found)?,
                    format!("{}:{q}", entry.arn).into(),
                )
            }
            Some(alias) => {
                let a = data.aliases.get(alias).ok_or_else(not_found)?;
                let mut chosen = a.function_version.clone();
                if route
                    && let Some((extra, weight)) = a
                        .routing_config
                        .as_ref()
                        .and_then(|rc| rc.additional_version_weights.iter().next())
                {
                    let roll = (self.inner().env.ids.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    if roll < *weight {
                        chosen = extra.clone();
                    }
                }
                let v = if chosen == "$LATEST" {
                    Arc::clone(&data.latest)
                } else {
                    chosen
                        .parse::<u64>()
                        .ok()
                        .and_then(|n| data.versions.get(&n).cloned())
                        .ok_or_else(not_found)?
                };
                (v, format!("{}:{alias}", entry.arn).into())
            }
        };
        let now = self.now();
        if data.active_at > now {
            return Err(LambdaError::ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending".into(),
            ));
        }
        drop(data);
        let executed_version = Arc::clone(&version.version_name);
        Ok(Target {
            entry,
            version,
            executed_version,
            invoked_arn,
        })
    }

    pub(crate) fn load_code(
        &self,
        code: &FunctionCode,
        operation: &str,
    ) -> Result<Option<Arc<CodePackage>>> {
        if code.image_uri.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "Nubis runs zip packages only; container images (ImageUri) cannot be run".into(),
            ));
        }
        if let Some(zip) = &code.zip_file {
            return CodePackage::from_zip(zip.clone(), operation).map(Some);
        }
        if let (Some(bucket), Some(key)) = (&code.s3_bucket, &code.s3_key) {
            let store = self.inner().hooks.read().code_store.clone();
            let bytes = match store {
                Some(s) => s.get_object(bucket, key, code.s3_object_version.as_deref()).map_err(|e| {
                    LambdaError::InvalidParameterValue(format!("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message))
                })?,
                None => {
                    return Err(LambdaError::InvalidParameterValue(
                        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist".into(),
                    ));
                }
            };
            if bytes.len() > MAX_ZIPPED_BYTES * 5 {
                return Err(LambdaError::InvalidParameterValue(format!(
                    "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                )));
            }
            // S3 packages are not bound by the direct-upload limit, only by the unzipped one.
            return CodePackage::from_zip_unbounded(bytes).map(Some);
        }
        if code.s3_bucket.is_some() || code.s3_key.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "Please provide a source for function code.".into(),
            ));
        }
        Ok(None)
    }

    pub(crate) fn total_code_size(&self) -> u64 {
        self.state
            .functions
            .read()
            .values()
            .map(|f| {
                let d = f.data.lock();
                d.latest.code.size() + d.versions.values().map(|v| v.code.size()).sum::<u64>()
            })
            .sum()
    }

    pub(crate) fn build_config(
        &self,
        name: &str,
        version: &str,
        revision: String,
        now: SystemTime,
        cfg: ConfigParts,
        code: &CodePackage,
    ) -> FunctionConfiguration {
        let arn = self.function_arn(name);
        FunctionConfiguration {
            function_name: name.to_owned(),
            function_arn: if version == "$LATEST" {
                arn
            } else {
                format!("{arn}:{version}")
            },
            runtime: cfg.runtime,
            role: cfg.role,
            handler: cfg.handler,
            code_size: code.size(),
            description: cfg.description,
            timeout: cfg.timeout,
            memory_size: cfg.memory,
            last_modified: last_modified(now),
            code_sha256: code.sha256.clone(),
            version: version.to_owned(),
            environment: cfg.environment.map(|e| EnvironmentResponse {
                variables: e.variables,
            }),
            tracing_config: cfg.tracing,
            revision_id: revision,
            layers: cfg.layers,
            state: "Active".into(),
            state_reason: None,
            state_reason_code: None,
            last_update_status: Some("Successful".into()),
            last_update_status_reason: None,
            last_update_status_reason_code: None,
            package_type: "Zip".into(),
            architectures: cfg.architectures,
            ephemeral_storage: cfg.ephemeral,
            dead_letter_config: cfg.dead_letter,
            logging_config: LoggingConfig {
                log_format: "Text".into(),
                log_group: crate::logs::log_group_name(name),
            },
            snap_start: SnapStartResponse {
                apply_on: "None".into(),
                optimization_status: "Off".into(),
            },
        }
    }

    /// CreateFunction.
    pub fn create_function(&self, req: CreateFunction) -> Result<FunctionConfiguration> {
        let r = FunctionRef::parse(&req.function_name)?;
        if r.qualifier.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "Unsupported function name: a qualifier is not allowed in CreateFunction".into(),
            ));
        }
        let r = self.parse_ref(&req.function_name, None)?;
        if req.package_type.as_deref().is_some_and(|p| p != "Zip") {
            return Err(LambdaError::InvalidParameterValue(
                "Nubis runs zip packages only; PackageType Image cannot be run".into(),
            ));
        }
        names::validate_role(&req.role)?;
        let (Some(rt), Some(handler)) = (req.runtime.as_deref(), req.handler.as_deref()) else {
            return Err(LambdaError::InvalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.".into(),
            ));
        };
        runtime::validate_runtime(rt)?;
        names::validate_handler(handler)?;
        let parts = ConfigParts {
            runtime: Some(rt.to_owned()),
            role: req.role.clone(),
            handler: Some(handler.to_owned()),
            description: check_description(&req.description)?,
            timeout: range(
                req.timeout.unwrap_or(i64::from(DEFAULT_TIMEOUT_S)),
                "timeout",
                1,
                900,
            )?,
            memory: range(
                req.memory_size.unwrap_or(i64::from(DEFAULT_MEMORY_MB)),
                "memorySize",
                128,
                10240,
            )?,
            environment: match &req.environment {
                Some(e) => {
                    check_env(e)?;
                    Some(e.clone())
                }
                None => None,
            },
            layers: check_layers(req.layers.as_deref().unwrap_or_default())?,
            architectures: check_architectures(&req.architectures)?,
            ephemeral: check_ephemeral(&req.ephemeral_storage)?,
            dead_letter: req.dead_letter_config.clone(),
            tracing: check_tracing(&req.tracing_config)?,
        };
        let kind = runtime::handler_kind(Some(rt), Some(handler));
        let code = match self.load_code(&req.code, "CreateFunction")? {
            Some(c) => c,
            None if matches!(kind, HandlerKind::InProcess(_)) => CodePackage::empty(),
            None => {
                return Err(LambdaError::validation(
                    "null",
                    "code",
                    "Member must not be null",
                ));
            }
        };
        let mut parts = parts;
        let layer_code = self.resolve_layers(&mut parts.layers, code.unzipped_size)?;
        if self.total_code_size() + code.size() > MAX_TOTAL_CODE_BYTES {
            return Err(LambdaError::CodeStorageExceeded(
                "Code storage limit exceeded.".into(),
            ));
        }
        if let Some(tags) = &req.tags {
            check_tags(tags)?;
        }
        let now = self.now();
        let ids = &self.inner().env.ids;
        let config = self.build_config(&r.name, "$LATEST", ids.uuid(), now, parts, &code);
        let env_vars = Arc::new(
            config
                .environment
                .as_ref()
                .map(|e| e.variables.clone())
                .unwrap_or_default(),
        );
        let latest = Arc::new(VersionData {
            version_name: config.version.as_str().into(),
            config,
            code,
            kind,
            env_vars,
            layers: layer_code,
        });
        let transition = self.inner().config.state_transition;
        let data = FunctionData {
            latest,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
            tags: req.tags.clone().unwrap_or_default(),
            event_invoke: BTreeMap::new(),
            provisioned: BTreeMap::new(),
            active_at: now + transition,
            update_done_at: None,
        };
        {
            let mut functions = self.state.functions.write();
            if functions.contains_key(&r.name) {
                return Err(LambdaError::ResourceConflict(format!(
                    "Function already exist: {}",
                    r.name
                )));
            }
            functions.insert(
                r.name.clone(),
                Arc::new(FunctionEntry::new(
                    r.name.clone(),
                    self.function_arn(&r.name),
                    data,
                )),
            );
        }
        let mut out = if req.publish == Some(true) {
            self.publish_version(&r.name, None, None, None)?
        } else {
            self.get_function_configuration(&r.name, None)?
        };
        // CreateFunction answers with the state the function starts in.
        out.state = "Pending".into();
        out.state_reason = Some("The function is being created.".into());
        out.state_reason_code = Some("Creating".into());
        out.last_update_status = None;
        Ok(out)
    }

    /// The configuration as it reads now (state transitions applied).
    fn current_config(&self, data: &FunctionData, v: &VersionData) -> FunctionConfiguration {
        let mut c = v.config.clone();
        let now = self.now();
        if data.active_at > now {
            c.state = "Pending".into();
            c.state_reason = Some("The function is being created.".into());
            c.state_reason_code = Some("Creating".into());
            c.last_update_status = None;
        } else if c.version == "$LATEST" && data.update_done_at.is_some_and(|t| t > now) {
            c.last_update_status = Some("InProgress".into());
            c.last_update_status_reason = Some("The function is being updated.".into());
            c.last_update_status_reason_code = Some("Updating".into());
        }
        c
    }

    pub(crate) fn version_of(
        &self,
        entry: &FunctionEntry,
        data: &FunctionData,
        qualifier: Option<&str>,
    ) -> Result<Arc<VersionData>> {
        let not_found = || {
            LambdaError::function_not_found(&format!(
                "{}:{}",
                entry.arn,
                qualifier.unwrap_or_default()
            ))
        };
        match qualifier {
            None | Some("$LATEST") => Ok(Arc::clone(&data.latest)),
            Some(q) if q.bytes().all(|c| c.is_ascii_digit()) => q
                .parse::<u64>()
                .ok()
                .and_then(|n| data.versions.get(&n).cloned())
                .ok_or_else(not_found),
            Some(alias) => {
                let a = data.aliases.get(alias).ok_or_else(not_found)?;
                self.version_of(entry, data, Some(&a.function_version.clone()))
            }
        }
    }

    /// GetFunctionConfiguration.
    pub fn get_function_configuration(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        let data = entry.data.lock();
        let v = self.version_of(&entry, &data, r.qualifier.as_deref())?;
        Ok(self.current_config(&data, &v))
    }

    /// GetFunction.
    pub fn get_function(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<GetFunctionOutput> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        let data = entry.data.lock();
        let v = self.version_of(&entry, &data, r.qualifier.as_deref())?;
        let configuration = self.current_config(&data, &v);
        let location = format!(
            "https://awslambda-{0}-tasks.s3.{0}.amazonaws.com/snapshots/{1}/{2}-{3}",
            self.state.region.as_str(),
            self.inner().env.account.as_str(),
            entry.name,
            configuration.revision_id
        );
        Ok(GetFunctionOutput {
            configuration,
            code: CodeLocation {
                repository_type: "S3".into(),
                location,
            },
            tags: r.qualifier.is_none().then(|| data.tags.clone()),
            concurrency: entry.reserved().map(|n| Concurrency {
                reserved_concurrent_executions: n,
            }),
        })
    }

    /// The zip of a function version (what GetFunction's `Code.Location` names).
    pub fn function_code(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<bytes::Bytes> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        let data = entry.data.lock();
        Ok(self
            .version_of(&entry, &data, r.qualifier.as_deref())?
            .code
            .zip
            .clone())
    }

    pub(crate) fn check_updatable(
        &self,
        entry: &FunctionEntry,
        data: &FunctionData,
        revision_id: Option<&str>,
    ) -> Result<()> {
        let now = self.now();
        if data.active_at > now {
            return Err(LambdaError::ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending".into(),
            ));
        }
        if data.update_done_at.is_some_and(|t| t > now) {
            return Err(LambdaError::ResourceConflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                entry.arn
            )));
        }
        if let Some(rev) = revision_id
            && rev != data.latest.config.revision_id
        {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            ));
        }
        Ok(())
    }
}

/// The validated, resolved parts of a configuration.
pub(crate) struct ConfigParts {
    pub(crate) runtime: Option<String>,
    pub(crate) role: String,
    pub(crate) handler: Option<String>,
    pub(crate) description: String,
    pub(crate) timeout: u32,
    pub(crate) memory: u32,
    pub(crate) environment: Option<Environment>,
    pub(crate) layers: Vec<Layer>,
    pub(crate) architectures: Vec<String>,
    pub(crate) ephemeral: EphemeralStorage,
    pub(crate) dead_letter: Option<DeadLetterConfig>,
    pub(crate) tracing: TracingConfig,
}

impl ConfigParts {
    pub(crate) fn from_config(c: &FunctionConfiguration) -> Self {
        ConfigParts {
            runtime: c.runtime.clone(),
            role: c.role.clone(),
            handler: c.handler.clone(),
            description: c.description.clone(),
            timeout: c.timeout,
            memory: c.memory_size,
            environment: c.environment.as_ref().map(|e| Environment {
                variables: e.variables.clone(),
            }),
            layers: c.layers.clone(),
            architectures: c.architectures.clone(),
            ephemeral: c.ephemeral_storage.clone(),
            dead_letter: c.dead_letter_config.clone(),
            tracing: c.tracing_config.clone(),
        }
    }
}

/// Validates tags: at most 50, keys 1–128 and values ≤ 256 characters, no `aws:` prefix.
pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > 50 {
        return Err(LambdaError::InvalidParameterValue(
            "Number of tags exceeds resource tag limit.".into(),
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Tag key or value is invalid: {k}"
            )));
        }
        if k.starts_with("aws:") {
            return Err(LambdaError::InvalidParameterValue(
                "Tag keys may not start with the reserved prefix 'aws:'".into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn validate_environment(e: &Environment) -> Result<()> {
    check_env(e)
}
pub(crate) fn validate_range(value: i64, field: &str, min: i64, max: i64) -> Result<u32> {
    range(value, field, min, max)
}
pub(crate) fn validate_layers(l: &[String]) -> Result<Vec<Layer>> {
    check_layers(l)
}
pub(crate) fn validate_ephemeral(e: &Option<EphemeralStorage>) -> Result<EphemeralStorage> {
    check_ephemeral(e)
}
pub(crate) fn validate_description(d: &Option<String>) -> Result<String> {
    check_description(d)
}
pub(crate) fn validate_tracing(t: &Option<TracingConfig>) -> Result<TracingConfig> {
    check_tracing(t)
}
pub(crate) fn validate_architectures(a: &Option<Vec<String>>) -> Result<Vec<String>> {
    check_architectures(a)
}
