//! Aliases: named pointers to a version, optionally splitting traffic with a second version by
//! weight (`RoutingConfig.AdditionalVersionWeights`). The split is drawn per invocation from the
//! engine's seeded id generator, so a seeded run routes the same way every time.

use crate::config::{AliasConfiguration, AliasRoutingConfiguration};
use crate::engine::{FunctionData, LambdaRegion};
use crate::error::{LambdaError, Result};
use crate::names;
use crate::updates::Page;

impl LambdaRegion {
    fn check_routing(
        &self,
        data: &FunctionData,
        arn: &str,
        version: &str,
        routing: &Option<AliasRoutingConfiguration>,
    ) -> Result<()> {
        let exists = |v: &str| {
            v == "$LATEST"
                || v.parse::<u64>()
                    .ok()
                    .is_some_and(|n| data.versions.contains_key(&n))
        };
        if !names::is_version(version) {
            return Err(LambdaError::validation(
                version,
                "functionVersion",
                "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
            ));
        }
        if !exists(version) {
            return Err(LambdaError::function_not_found(&format!("{arn}:{version}")));
        }
        if let Some(rc) = routing {
            if rc.additional_version_weights.len() > 1 {
                return Err(LambdaError::InvalidParameterValue(
                    "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
                ));
            }
            for (v, w) in &rc.additional_version_weights {
                if !(0.0..=1.0).contains(w) || w.is_nan() {
                    return Err(LambdaError::validation(
                        &w.to_string(),
                        "routingConfig.additionalVersionWeights",
                        "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
                    ));
                }
                if version == "$LATEST" || v == "$LATEST" {
                    return Err(LambdaError::InvalidParameterValue(
                        "$LATEST is not supported for an alias pointing to more than 1 version"
                            .into(),
                    ));
                }
                if v == version {
                    return Err(LambdaError::InvalidParameterValue(format!(
                        "Invalid function version {v}. Function version {v} is already included in routing configuration."
                    )));
                }
                if !exists(v) {
                    return Err(LambdaError::function_not_found(&format!("{arn}:{v}")));
                }
            }
        }
        Ok(())
    }

    /// CreateAlias.
    pub fn create_alias(
        &self,
        function_name: &str,
        name: &str,
        function_version: &str,
        description: Option<&str>,
        routing: Option<AliasRoutingConfiguration>,
    ) -> Result<AliasConfiguration> {
        names::validate_alias_name(name)?;
        let r = self.parse_ref(function_name, None)?;
        let entry = self.entry(&r)?;
        let mut data = entry.data.lock();
        self.check_routing(&data, &entry.arn, function_version, &routing)?;
        let alias_arn = format!("{}:{name}", entry.arn);
        if data.aliases.contains_key(name) {
            return Err(LambdaError::ResourceConflict(format!(
                "Alias already exists: {alias_arn}"
            )));
        }
        let alias = AliasConfiguration {
            alias_arn,
            name: name.to_owned(),
            function_version: function_version.to_owned(),
            description: description.unwrap_or_default().to_owned(),
            routing_config: routing.filter(|r| !r.additional_version_weights.is_empty()),
            revision_id: self.inner().env.ids.uuid(),
        };
        data.aliases.insert(name.to_owned(), alias.clone());
        Ok(alias)
    }

    /// GetAlias.
    pub fn get_alias(&self, function_name: &str, name: &str) -> Result<AliasConfiguration> {
        let r = self.parse_ref(function_name, None)?;
        let entry = self.entry(&r)?;
        let data = entry.data.lock();
        data.aliases.get(name).cloned().ok_or_else(|| {
            LambdaError::ResourceNotFound(format!("Alias not found: {}:{name}", entry.arn))
        })
    }

    /// UpdateAlias.
    pub fn update_alias(
        &self,
        function_name: &str,
        name: &str,
        function_version: Option<&str>,
        description: Option<&str>,
        routing: Option<AliasRoutingConfiguration>,
        revision_id: Option<&str>,
    ) -> Result<AliasConfiguration> {
        let r = self.parse_ref(function_name, None)?;
        let entry = self.entry(&r)?;
        let mut data = entry.data.lock();
        let current = data.aliases.get(name).cloned().ok_or_else(|| {
            LambdaError::ResourceNotFound(format!("Alias not found: {}:{name}", entry.arn))
        })?;
        if let Some(rev) = revision_id
            && rev != current.revision_id
        {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            ));
        }
        let version = function_version
            .unwrap_or(&current.function_version)
            .to_owned();
        let routing = match routing {
            Some(r) => Some(r),
            None => current.routing_config.clone(),
        };
        self.check_routing(&data, &entry.arn, &version, &routing)?;
        let alias = AliasConfiguration {
            function_version: version,
            description: description
                .map(str::to_owned)
                .unwrap_or(current.description),
            routing_config: routing.filter(|r| !r.additional_version_weights.is_empty()),
            revision_id: self.inner().env.ids.uuid(),
            ..current
        };
        data.aliases.insert(name.to_owned(), alias.clone());
        Ok(alias)
    }

    /// DeleteAlias (deleting a missing alias succeeds, as in AWS).
    pub fn delete_alias(&self, function_name: &str, name: &str) -> Result<()> {
        let r = self.parse_ref(function_name, None)?;
        let entry = self.entry(&r)?;
        let mut data = entry.data.lock();
        data.aliases.remove(name);
        data.provisioned.remove(name);
        data.event_invoke.remove(name);
        Ok(())
    }

    /// ListAliases (optionally only those pointing at `function_version`).
    pub fn list_aliases(
        &self,
        function_name: &str,
        function_version: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<Page<AliasConfiguration>> {
        let r = self.parse_ref(function_name, None)?;
        let entry = self.entry(&r)?;
        let all: Vec<(String, AliasConfiguration)> = entry
            .data
            .lock()
            .aliases
            .iter()
            .filter(|(_, a)| function_version.is_none_or(|v| a.function_version == v))
            .map(|(k, a)| (k.clone(), a.clone()))
            .collect();
        crate::updates::paginate_pub(all, "ListAliases", marker, max_items)
    }
}
