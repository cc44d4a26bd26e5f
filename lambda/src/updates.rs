//! The control plane's changes: updating configuration and code, publishing versions, deleting,
//! listing, aliases, tags, concurrency settings and asynchronous invocation settings.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::config::*;
use crate::engine::{FunctionEntry, LambdaRegion, VersionData};
use crate::environment::MIN_UNRESERVED;
use crate::error::{LambdaError, Result};
use crate::functions::{self, AccountSettings, ConfigParts, ProvisionedState, last_modified};
use crate::names;
use crate::package::{CodePackage, MAX_TOTAL_CODE_BYTES, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};
use crate::runtime;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The marker for the next page.
    pub next_marker: Option<String>,
}

pub(crate) fn paginate_pub<T: Clone>(
    all: Vec<(String, T)>,
    tag: &str,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<Page<T>> {
    let max = functions::validate_range(max_items.unwrap_or(50), "maxItems", 1, 10000)? as usize;
    let start = match marker {
        Some(m) => {
            let after: String = nubis_core::page::decode(tag, m)
                .map_err(|_| LambdaError::InvalidParameterValue("Invalid marker".into()))?;
            all.iter()
                .position(|(k, _)| *k > after)
                .unwrap_or(all.len())
        }
        None => 0,
    };
    let items: Vec<(String, T)> = all.into_iter().skip(start).take(max + 1).collect();
    let next_marker = (items.len() > max).then(|| nubis_core::page::encode(tag, &items[max - 1].0));
    Ok(Page {
        items: items.into_iter().take(max).map(|(_, v)| v).collect(),
        next_marker,
    })
}

/// Whether two versions would be the same version (PublishVersion publishes nothing new then).
fn same_version(a: &FunctionConfiguration, b: &FunctionConfiguration) -> bool {
    a.code_sha256 == b.code_sha256
        && a.runtime == b.runtime
        && a.handler == b.handler
        && a.role == b.role
        && a.timeout == b.timeout
        && a.memory_size == b.memory_size
        && a.environment == b.environment
        && a.layers == b.layers
        && a.architectures == b.architectures
        && a.ephemeral_storage == b.ephemeral_storage
        && a.dead_letter_config == b.dead_letter_config
        && a.tracing_config == b.tracing_config
}

impl LambdaRegion {
    fn entry_of(&self, function_name: &str) -> Result<(Arc<FunctionEntry>, Option<String>)> {
        let r = self.parse_ref(function_name, None)?;
        let q = r.qualifier.clone();
        Ok((self.entry(&r)?, q))
    }

    fn replace_latest(
        &self,
        entry: &FunctionEntry,
        parts: ConfigParts,
        code: Arc<CodePackage>,
        layers: Vec<Arc<CodePackage>>,
    ) -> FunctionConfiguration {
        let now = self.now();
        let mut data = entry.data.lock();
        let revision = self.inner().env.ids.uuid();
        let kind = runtime::handler_kind(parts.runtime.as_deref(), parts.handler.as_deref());
        let mut config = self.build_config(&entry.name, "$LATEST", revision, now, parts, &code);
        let env_vars = Arc::new(
            config
                .environment
                .as_ref()
                .map(|e| e.variables.clone())
                .unwrap_or_default(),
        );
        data.latest = Arc::new(VersionData {
            version_name: config.version.as_str().into(),
            config: config.clone(),
            code,
            kind,
            env_vars,
            layers,
        });
        data.update_done_at = Some(now + self.inner().config.state_transition);
        drop(data);
        // Environments of the old $LATEST never serve again.
        entry.pools.lock().remove("$LATEST");
        config.last_update_status = Some("InProgress".into());
        config.last_update_status_reason = Some("The function is being updated.".into());
        config.last_update_status_reason_code = Some("Updating".into());
        config
    }

    /// UpdateFunctionConfiguration.
    pub fn update_function_configuration(
        &self,
        function_name: &str,
        req: UpdateFunctionConfiguration,
    ) -> Result<FunctionConfiguration> {
        let (entry, _) = self.entry_of(function_name)?;
        let (mut parts, code, mut layer_code) = {
            let data = entry.data.lock();
            self.check_updatable(&entry, &data, req.revision_id.as_deref())?;
            (
                ConfigParts::from_config(&data.latest.config),
                Arc::clone(&data.latest.code),
                data.latest.layers.clone(),
            )
        };
        if let Some(rt) = &req.runtime {
            runtime::validate_runtime(rt)?;
            parts.runtime = Some(rt.clone());
        }
        if let Some(role) = &req.role {
            names::validate_role(role)?;
            parts.role = role.clone();
        }
        if let Some(h) = &req.handler {
            names::validate_handler(h)?;
            parts.handler = Some(h.clone());
        }
        if req.description.is_some() {
            parts.description = functions::validate_description(&req.description)?;
        }
        if let Some(t) = req.timeout {
            parts.timeout = functions::validate_range(t, "timeout", 1, 900)?;
        }
        if let Some(m) = req.memory_size {
            parts.memory = functions::validate_range(m, "memorySize", 128, 10240)?;
        }
        if let Some(e) = &req.environment {
            functions::validate_environment(e)?;
            parts.environment = Some(e.clone());
        }
        if req.ephemeral_storage.is_some() {
            parts.ephemeral = functions::validate_ephemeral(&req.ephemeral_storage)?;
        }
        if let Some(l) = &req.layers {
            parts.layers = functions::validate_layers(l)?;
            layer_code = self.resolve_layers(&mut parts.layers, code.unzipped_size)?;
        }
        if let Some(d) = &req.dead_letter_config {
            parts.dead_letter = d.target_arn.as_ref().map(|_| d.clone());
        }
        if req.tracing_config.is_some() {
            parts.tracing = functions::validate_tracing(&req.tracing_config)?;
        }
        Ok(self.replace_latest(&entry, parts, code, layer_code))
    }

    /// UpdateFunctionCode.
    pub fn update_function_code(
        &self,
        function_name: &str,
        req: UpdateFunctionCode,
    ) -> Result<FunctionConfiguration> {
        let (entry, _) = self.entry_of(function_name)?;
        let (mut parts, layer_code) = {
            let data = entry.data.lock();
            self.check_updatable(&entry, &data, req.revision_id.as_deref())?;
            (
                ConfigParts::from_config(&data.latest.config),
                data.latest.layers.clone(),
            )
        };
        if req.architectures.is_some() {
            parts.architectures = functions::validate_architectures(&req.architectures)?;
        }
        if req.image_uri.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "Nubis runs zip packages only; container images (ImageUri) cannot be run".into(),
            ));
        }
        let code = match (&req.zip_file, &req.s3_bucket, &req.s3_key) {
            (Some(zip), _, _) => CodePackage::from_zip(zip.clone(), "UpdateFunctionCode")?,
            (None, Some(b), Some(k)) => {
                let store = self.inner().hooks.read().code_store.clone();
                let bytes = match store {
                    Some(s) => s.get_object(b, k, req.s3_object_version.as_deref()).map_err(|e| {
                        LambdaError::InvalidParameterValue(format!("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message))
                    })?,
                    None => {
                        return Err(LambdaError::InvalidParameterValue(
                            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist".into(),
                        ));
                    }
                };
                if bytes.len() as u64 > MAX_UNZIPPED_BYTES {
                    return Err(LambdaError::InvalidParameterValue(format!(
                        "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                    )));
                }
                CodePackage::from_zip_unbounded(bytes)?
            }
            _ => {
                return Err(LambdaError::InvalidParameterValue(
                    "Please provide a source for function code.".into(),
                ));
            }
        };
        let _ = MAX_ZIPPED_BYTES;
        if req.dry_run == Some(true) {
            let data = entry.data.lock();
            let mut c = data.latest.config.clone();
            c.code_sha256 = code.sha256.clone();
            c.code_size = code.size();
            return Ok(c);
        }
        let total = code.unzipped_size + layer_code.iter().map(|l| l.unzipped_size).sum::<u64>();
        if total > MAX_UNZIPPED_BYTES {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} bytes. The actual size is {total} bytes."
            )));
        }
        let mut out = self.replace_latest(&entry, parts, code, layer_code);
        if req.publish == Some(true) {
            out = self.publish_version(&entry.name, None, None, None)?;
        }
        Ok(out)
    }

    /// PublishVersion.
    pub fn publish_version(
        &self,
        function_name: &str,
        code_sha256: Option<&str>,
        description: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<FunctionConfiguration> {
        let (entry, _) = self.entry_of(function_name)?;
        let now = self.now();
        let mut data = entry.data.lock();
        if let Some(rev) = revision_id
            && rev != data.latest.config.revision_id
        {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            ));
        }
        let latest = Arc::clone(&data.latest);
        if let Some(sha) = code_sha256
            && sha != latest.config.code_sha256
        {
            return Err(LambdaError::InvalidParameterValue(format!(
                "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                latest.config.code_sha256
            )));
        }
        if let Some((_, last)) = data.versions.iter().next_back()
            && same_version(&last.config, &latest.config)
        {
            return Ok(last.config.clone());
        }
        let n = data.next_version;
        data.next_version += 1;
        let mut config = latest.config.clone();
        config.version = n.to_string();
        config.function_arn = format!("{}:{n}", entry.arn);
        config.revision_id = self.inner().env.ids.uuid();
        config.last_modified = last_modified(now);
        if let Some(d) = description {
            config.description = functions::validate_description(&Some(d.to_owned()))?;
        }
        data.versions.insert(
            n,
            Arc::new(VersionData {
                version_name: config.version.as_str().into(),
                config: config.clone(),
                code: Arc::clone(&latest.code),
                kind: latest.kind.clone(),
                env_vars: Arc::clone(&latest.env_vars),
                layers: latest.layers.clone(),
            }),
        );
        Ok(config)
    }

    /// ListVersionsByFunction.
    pub fn list_versions_by_function(
        &self,
        function_name: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<Page<FunctionConfiguration>> {
        let (entry, _) = self.entry_of(function_name)?;
        let data = entry.data.lock();
        let mut all = vec![(String::new(), data.latest.config.clone())];
        all.extend(
            data.versions
                .iter()
                .map(|(n, v)| (format!("{n:010}"), v.config.clone())),
        );
        drop(data);
        paginate_pub(all, "ListVersionsByFunction", marker, max_items)
    }

    /// ListFunctions (`$LATEST` of each function, by name).
    pub fn list_functions(
        &self,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<Page<FunctionConfiguration>> {
        let all: Vec<(String, FunctionConfiguration)> = self
            .state
            .functions
            .read()
            .iter()
            .map(|(name, f)| (name.clone(), f.data.lock().latest.config.clone()))
            .collect();
        paginate_pub(all, "ListFunctions", marker, max_items)
    }

    /// DeleteFunction (a version when `qualifier` is a version number).
    pub fn delete_function(&self, function_name: &str, qualifier: Option<&str>) -> Result<()> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        match r.qualifier.as_deref() {
            None => {
                let mut functions = self.state.functions.write();
                if let Some(f) = functions.remove(&r.name) {
                    if let Some(n) = f.reserved() {
                        self.state
                            .concurrency
                            .reserved_total
                            .fetch_sub(n, Ordering::AcqRel);
                    }
                    f.retire();
                }
                Ok(())
            }
            Some("$LATEST") => Err(LambdaError::InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            )),
            Some(q) if q.bytes().all(|c| c.is_ascii_digit()) => {
                let n: u64 = q
                    .parse()
                    .map_err(|_| LambdaError::function_not_found(&format!("{}:{q}", entry.arn)))?;
                let mut data = entry.data.lock();
                if !data.versions.contains_key(&n) {
                    return Err(LambdaError::function_not_found(&format!(
                        "{}:{q}",
                        entry.arn
                    )));
                }
                let users: Vec<String> = data
                    .aliases
                    .values()
                    .filter(|a| {
                        a.function_version == q
                            || a.routing_config
                                .as_ref()
                                .is_some_and(|rc| rc.additional_version_weights.contains_key(q))
                    })
                    .map(|a| a.name.clone())
                    .collect();
                if !users.is_empty() {
                    return Err(LambdaError::ResourceConflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        users.join(", ")
                    )));
                }
                data.versions.remove(&n);
                data.provisioned.remove(q);
                drop(data);
                entry.pools.lock().remove(q);
                Ok(())
            }
            Some(_) => Err(LambdaError::InvalidParameterValue(
                "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias".into(),
            )),
        }
    }

    /// Tags of a function by ARN.
    pub fn list_tags(&self, resource_arn: &str) -> Result<BTreeMap<String, String>> {
        let entry = self.entry_by_arn(resource_arn)?;
        Ok(entry.data.lock().tags.clone())
    }

    /// TagResource.
    pub fn tag_resource(&self, resource_arn: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let entry = self.entry_by_arn(resource_arn)?;
        let mut data = entry.data.lock();
        let mut merged = data.tags.clone();
        merged.extend(tags);
        functions::check_tags(&merged)?;
        data.tags = merged;
        Ok(())
    }

    /// UntagResource.
    pub fn untag_resource(&self, resource_arn: &str, keys: &[String]) -> Result<()> {
        let entry = self.entry_by_arn(resource_arn)?;
        let mut data = entry.data.lock();
        for k in keys {
            data.tags.remove(k);
        }
        Ok(())
    }

    fn entry_by_arn(&self, arn: &str) -> Result<Arc<FunctionEntry>> {
        let r = self.parse_ref(arn, None)?;
        if r.partition.is_none() || r.qualifier.is_some() {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Invalid resource ARN: {arn}"
            )));
        }
        self.entry(&r)
    }

    /// PutFunctionConcurrency.
    pub fn put_function_concurrency(&self, function_name: &str, reserved: i64) -> Result<u32> {
        let n = functions::validate_range(
            reserved,
            "reservedConcurrentExecutions",
            0,
            i64::from(u32::MAX),
        )?;
        let (entry, _) = self.entry_of(function_name)?;
        // The functions write lock serializes changes to the account-wide reservation total.
        let _guard = self.state.functions.write();
        let c = &self.state.concurrency;
        let others = c.reserved_total.load(Ordering::Acquire) - entry.reserved().unwrap_or(0);
        if u64::from(others) + u64::from(n) > u64::from(c.limit.saturating_sub(MIN_UNRESERVED)) {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )));
        }
        c.reserved_total.store(others + n, Ordering::Release);
        entry.reserved.store(i64::from(n), Ordering::Release);
        Ok(n)
    }

    /// GetFunctionConcurrency.
    pub fn get_function_concurrency(&self, function_name: &str) -> Result<Option<u32>> {
        let (entry, _) = self.entry_of(function_name)?;
        Ok(entry.reserved())
    }

    /// DeleteFunctionConcurrency.
    pub fn delete_function_concurrency(&self, function_name: &str) -> Result<()> {
        let (entry, _) = self.entry_of(function_name)?;
        let _guard = self.state.functions.write();
        if let Some(n) = entry.reserved() {
            self.state
                .concurrency
                .reserved_total
                .fetch_sub(n, Ordering::AcqRel);
        }
        entry.reserved.store(-1, Ordering::Release);
        Ok(())
    }

    /// GetAccountSettings.
    pub fn get_account_settings(&self) -> AccountSettings {
        let c = &self.state.concurrency;
        let count = self.state.functions.read().len();
        AccountSettings {
            account_limit: serde_json::json!({
                "TotalCodeSize": MAX_TOTAL_CODE_BYTES,
                "CodeSizeUnzipped": MAX_UNZIPPED_BYTES,
                "CodeSizeZipped": MAX_ZIPPED_BYTES,
                "ConcurrentExecutions": c.limit,
                "UnreservedConcurrentExecutions": c.unreserved_capacity(),
            }),
            account_usage: serde_json::json!({ "TotalCodeSize": self.total_code_size(), "FunctionCount": count }),
        }
    }

    /// PutFunctionEventInvokeConfig (`merge`: UpdateFunctionEventInvokeConfig keeps unset fields).
    pub fn put_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
        cfg: EventInvokeConfig,
        merge: bool,
    ) -> Result<EventInvokeConfig> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        if let Some(n) = cfg.maximum_retry_attempts {
            functions::validate_range(n, "maximumRetryAttempts", 0, 2)?;
        }
        if let Some(n) = cfg.maximum_event_age_in_seconds {
            functions::validate_range(n, "maximumEventAgeInSeconds", 60, 21600)?;
        }
        for d in cfg
            .destination_config
            .iter()
            .flat_map(|d| [&d.on_success, &d.on_failure])
            .flatten()
        {
            if let Some(arn) = &d.destination
                && arn.parse::<nubis_core::Arn>().is_err()
            {
                return Err(LambdaError::InvalidParameterValue(format!(
                    "The destination ARN {arn} is invalid."
                )));
            }
        }
        let mut data = entry.data.lock();
        let q = r.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        self.version_exists(&entry, &data, &q)?;
        let arn = format!("{}:{q}", entry.arn);
        let mut next = if merge {
            data.event_invoke.get(&q).cloned().ok_or_else(|| {
                LambdaError::ResourceNotFound(format!(
                    "The function {arn} doesn't have an EventInvokeConfig"
                ))
            })?
        } else {
            EventInvokeConfig::default()
        };
        if cfg.maximum_retry_attempts.is_some() || !merge {
            next.maximum_retry_attempts = cfg.maximum_retry_attempts;
        }
        if cfg.maximum_event_age_in_seconds.is_some() || !merge {
            next.maximum_event_age_in_seconds = cfg.maximum_event_age_in_seconds;
        }
        if cfg.destination_config.is_some() || !merge {
            next.destination_config = cfg.destination_config;
        }
        next.function_arn = arn;
        next.last_modified = nubis_core::clock::epoch_seconds_f64(self.now());
        data.event_invoke.insert(q, next.clone());
        Ok(next)
    }

    /// GetFunctionEventInvokeConfig.
    pub fn get_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<EventInvokeConfig> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        let q = r.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        let data = entry.data.lock();
        data.event_invoke.get(&q).cloned().ok_or_else(|| {
            LambdaError::ResourceNotFound(format!(
                "The function {}:{q} doesn't have an EventInvokeConfig",
                entry.arn
            ))
        })
    }

    /// DeleteFunctionEventInvokeConfig.
    pub fn delete_function_event_invoke_config(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<()> {
        let r = self.parse_ref(function_name, qualifier)?;
        let entry = self.entry(&r)?;
        let q = r.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        let mut data = entry.data.lock();
        data.event_invoke.remove(&q).map(|_| ()).ok_or_else(|| {
            LambdaError::ResourceNotFound(format!(
                "The function {}:{q} doesn't have an EventInvokeConfig",
                entry.arn
            ))
        })
    }

    /// ListFunctionEventInvokeConfigs.
    pub fn list_function_event_invoke_configs(
        &self,
        function_name: &str,
    ) -> Result<Vec<EventInvokeConfig>> {
        let (entry, _) = self.entry_of(function_name)?;
        Ok(entry.data.lock().event_invoke.values().cloned().collect())
    }

    pub(crate) fn version_exists(
        &self,
        entry: &FunctionEntry,
        data: &crate::engine::FunctionData,
        q: &str,
    ) -> Result<()> {
        let ok = q == "$LATEST"
            || q.parse::<u64>()
                .ok()
                .is_some_and(|n| data.versions.contains_key(&n))
            || data.aliases.contains_key(q);
        if ok {
            Ok(())
        } else {
            Err(LambdaError::function_not_found(&format!(
                "{}:{q}",
                entry.arn
            )))
        }
    }

    /// The provisioned concurrency setting of a qualifier.
    pub fn get_provisioned_concurrency_config(
        &self,
        function_name: &str,
        qualifier: &str,
    ) -> Result<ProvisionedState> {
        let r = self.parse_ref(function_name, Some(qualifier))?;
        let entry = self.entry(&r)?;
        let data = entry.data.lock();
        data.provisioned.get(qualifier).cloned().ok_or_else(|| {
            LambdaError::ProvisionedConcurrencyConfigNotFound(
                "No Provisioned Concurrency Config found for this function".into(),
            )
        })
    }

    /// DeleteProvisionedConcurrencyConfig (its environments become on-demand ones).
    pub fn delete_provisioned_concurrency_config(
        &self,
        function_name: &str,
        qualifier: &str,
    ) -> Result<()> {
        let r = self.parse_ref(function_name, Some(qualifier))?;
        let entry = self.entry(&r)?;
        let version = {
            let mut data = entry.data.lock();
            if data.provisioned.remove(qualifier).is_none() {
                return Err(LambdaError::ProvisionedConcurrencyConfigNotFound(
                    "No Provisioned Concurrency Config found for this function".into(),
                ));
            }
            self.version_of(&entry, &data, Some(qualifier))?
                .config
                .version
                .clone()
        };
        if let Some(envs) = entry.pools.lock().get_mut(&version) {
            for e in envs.iter_mut() {
                e.provisioned = false;
            }
        }
        Ok(())
    }

    /// PutProvisionedConcurrencyConfig: starts `count` environments for the version (or the
    /// alias's version) in the background; the status is `IN_PROGRESS` until all are initialised,
    /// then `READY` (or `FAILED` with the init error).
    pub fn put_provisioned_concurrency_config(
        &self,
        function_name: &str,
        qualifier: &str,
        count: i64,
    ) -> Result<ProvisionedState> {
        let n = functions::validate_range(
            count,
            "provisionedConcurrentExecutions",
            1,
            i64::from(u32::MAX),
        )?;
        let r = self.parse_ref(function_name, Some(qualifier))?;
        let entry = self.entry(&r)?;
        if qualifier == "$LATEST" {
            return Err(LambdaError::InvalidParameterValue("Provisioned Concurrency Configs cannot be applied to unpublished function versions.".into()));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            LambdaError::Service("PutProvisionedConcurrencyConfig needs a Tokio runtime".into())
        })?;
        let (version, state) = {
            let mut data = entry.data.lock();
            let version = self.version_of(&entry, &data, Some(qualifier))?;
            let others: u32 = data
                .provisioned
                .iter()
                .filter(|(k, _)| *k != qualifier)
                .map(|(_, p)| p.requested_provisioned_concurrent_executions)
                .sum();
            if let Some(reserved) = entry.reserved()
                && others + n > reserved
            {
                return Err(LambdaError::InvalidParameterValue(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function".into(),
                ));
            }
            let state = ProvisionedState {
                requested_provisioned_concurrent_executions: n,
                available_provisioned_concurrent_executions: 0,
                allocated_provisioned_concurrent_executions: 0,
                status: "IN_PROGRESS".into(),
                status_reason: None,
                last_modified: last_modified(self.now()),
            };
            data.provisioned.insert(qualifier.to_owned(), state.clone());
            (version, state)
        };
        let region = self.clone();
        let q = qualifier.to_owned();
        let guard = self.inner().async_tracker.begin();
        handle.spawn(async move {
            let _guard = guard;
            let mut ready = 0;
            let mut failure = None;
            for _ in 0..n {
                match region.start_env(&version, true).await {
                    Ok(env) => {
                        crate::environment::put_back(&entry, &version.config.version, env);
                        ready += 1;
                    }
                    Err(f) => {
                        failure = Some(String::from_utf8_lossy(&f.payload).into_owned());
                        break;
                    }
                }
            }
            let mut data = entry.data.lock();
            if let Some(p) = data.provisioned.get_mut(&q) {
                p.allocated_provisioned_concurrent_executions = ready;
                p.available_provisioned_concurrent_executions = ready;
                match failure {
                    None => p.status = "READY".into(),
                    Some(reason) => {
                        p.status = "FAILED".into();
                        p.status_reason = Some(reason);
                    }
                }
            }
        });
        Ok(state)
    }

    /// Starts a replacement for a provisioned environment that was lost (a crash or a
    /// timeout), so the configured number stays initialised: the configuration's available
    /// count drops until the replacement is ready, as Lambda reports it.
    pub(crate) fn replace_provisioned(&self, target: &crate::invoke::Target) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let entry = Arc::clone(&target.entry);
        let version = Arc::clone(&target.version);
        let key = {
            let mut data = entry.data.lock();
            let key = data
                .provisioned
                .keys()
                .find(|q| {
                    self.version_of(&entry, &data, Some(q.as_str()))
                        .is_ok_and(|v| v.config.version == version.config.version)
                })
                .cloned();
            let Some(key) = key else {
                // The configuration was deleted meanwhile: nothing to keep warm.
                return;
            };
            if let Some(p) = data.provisioned.get_mut(&key) {
                p.available_provisioned_concurrent_executions = p
                    .available_provisioned_concurrent_executions
                    .saturating_sub(1);
            }
            key
        };
        let region = self.clone();
        let guard = self.inner().async_tracker.begin();
        handle.spawn(async move {
            let _guard = guard;
            let started = region.start_env(&version, true).await;
            let mut data = entry.data.lock();
            let Some(p) = data.provisioned.get_mut(&key) else {
                return;
            };
            match started {
                Ok(env) => {
                    drop(data);
                    crate::environment::put_back(&entry, &version.config.version, env);
                    if let Some(p) = entry.data.lock().provisioned.get_mut(&key) {
                        p.available_provisioned_concurrent_executions =
                            (p.available_provisioned_concurrent_executions + 1)
                                .min(p.allocated_provisioned_concurrent_executions);
                    }
                }
                Err(f) => {
                    p.status_reason = Some(format!(
                        "Replacing a lost environment failed: {}",
                        String::from_utf8_lossy(&f.payload)
                    ));
                }
            }
        });
    }
}
