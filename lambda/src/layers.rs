//! Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
//! DeleteLayerVersion, and the resolution of a function's `Layers` into the packages its
//! environments see.
//!
//! Guarantees: version numbers of a layer only grow (a deleted version's number is never reused);
//! a function keeps the contents of the layer versions it was configured with even after they
//! are deleted, as in AWS; a function references at most 5 layers, of its own region, no layer
//! twice, and its code plus its layers unzip to at most 250 MB.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{FunctionCode, Layer};
use crate::engine::LambdaRegion;
use crate::error::{LambdaError, Result};
use crate::package::{CodePackage, MAX_UNZIPPED_BYTES};
use crate::updates::{Page, paginate_pub};

/// The largest number of compatible runtimes a layer version may list.
pub const MAX_COMPATIBLE_RUNTIMES: usize = 15;
/// The largest number of layers a function may use.
pub const MAX_FUNCTION_LAYERS: usize = 5;

const NAME_PATTERN: &str =
    "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];

/// A PublishLayerVersion request (the layer name is in the path).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishLayerVersion {
    /// The description (≤ 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The zip, as `ZipFile` or `S3Bucket`/`S3Key`/`S3ObjectVersion`.
    #[serde(default)]
    pub content: FunctionCode,
    /// Runtimes the layer supports (≤ 15, from the runtime list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatible_runtimes: Option<Vec<String>>,
    /// Architectures the layer supports (`x86_64`, `arm64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatible_architectures: Option<Vec<String>>,
    /// The license (≤ 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
}

impl PublishLayerVersion {
    /// A request publishing `zip`.
    pub fn zip(zip: Vec<u8>) -> Self {
        PublishLayerVersion {
            content: FunctionCode {
                zip_file: Some(zip),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// Where a layer version's content is and what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionContent {
    /// Where to download it (Nubis: a `nubis://` reference; the bytes are in the engine).
    pub location: String,
    /// Base64 SHA-256 of the zip.
    pub code_sha256: String,
    /// The zip's size in bytes.
    pub code_size: u64,
}

/// A layer version (PublishLayerVersion and GetLayerVersion answers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersion {
    /// The content.
    pub content: LayerVersionContent,
    /// The layer's ARN (without version).
    pub layer_arn: String,
    /// The version's ARN.
    pub layer_version_arn: String,
    /// The description.
    pub description: String,
    /// When it was published.
    pub created_date: String,
    /// The version number.
    pub version: u64,
    /// Compatible runtimes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compatible_runtimes: Vec<String>,
    /// The license.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    /// Compatible architectures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compatible_architectures: Vec<String>,
}

/// A layer version in a list (`LayerVersionsListItem`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionsListItem {
    /// The version's ARN.
    pub layer_version_arn: String,
    /// The version number.
    pub version: u64,
    /// The description.
    pub description: String,
    /// When it was published.
    pub created_date: String,
    /// Compatible runtimes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compatible_runtimes: Vec<String>,
    /// The license.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    /// Compatible architectures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compatible_architectures: Vec<String>,
}

impl From<&LayerVersion> for LayerVersionsListItem {
    fn from(v: &LayerVersion) -> Self {
        LayerVersionsListItem {
            layer_version_arn: v.layer_version_arn.clone(),
            version: v.version,
            description: v.description.clone(),
            created_date: v.created_date.clone(),
            compatible_runtimes: v.compatible_runtimes.clone(),
            license_info: v.license_info.clone(),
            compatible_architectures: v.compatible_architectures.clone(),
        }
    }
}

/// A layer in ListLayers (`LayersListItem`): its newest version matching the filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayersListItem {
    /// The layer's name.
    pub layer_name: String,
    /// The layer's ARN.
    pub layer_arn: String,
    /// The newest version matching the filters.
    pub latest_matching_version: LayerVersionsListItem,
}

/// Filters of ListLayers and ListLayerVersions.
#[derive(Debug, Clone, Default)]
pub struct LayerFilter<'a> {
    /// Only versions listing this runtime.
    pub compatible_runtime: Option<&'a str>,
    /// Only versions listing this architecture.
    pub compatible_architecture: Option<&'a str>,
}

/// One published version: what the API reports and the package environments extract.
pub(crate) struct StoredVersion {
    pub(crate) info: LayerVersion,
    pub(crate) code: Arc<CodePackage>,
}

/// One layer's versions.
#[derive(Default)]
pub(crate) struct LayerState {
    next_version: u64,
    versions: BTreeMap<u64, Arc<StoredVersion>>,
}

/// The layers of one region.
pub(crate) type LayerStore = parking_lot::Mutex<BTreeMap<String, LayerState>>;

fn not_found() -> LambdaError {
    LambdaError::ResourceNotFound("The resource you requested does not exist.".into())
}

fn check_filter(f: &LayerFilter<'_>) -> Result<()> {
    if let Some(r) = f.compatible_runtime
        && !crate::runtime::RUNTIMES.contains(&r)
    {
        return Err(LambdaError::validation(
            r,
            "compatibleRuntime",
            &format!(
                "Member must satisfy enum value set: [{}]",
                crate::runtime::RUNTIMES.join(", ")
            ),
        ));
    }
    if let Some(a) = f.compatible_architecture
        && !ARCHITECTURES.contains(&a)
    {
        return Err(LambdaError::validation(
            a,
            "compatibleArchitecture",
            "Member must satisfy enum value set: [x86_64, arm64]",
        ));
    }
    Ok(())
}

fn matches(v: &LayerVersion, f: &LayerFilter<'_>) -> bool {
    f.compatible_runtime
        .is_none_or(|r| v.compatible_runtimes.iter().any(|x| x == r))
        && f.compatible_architecture
            .is_none_or(|a| v.compatible_architectures.iter().any(|x| x == a))
}

impl LambdaRegion {
    fn layer_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:lambda:{}:{}:layer:{name}",
            self.state.region.partition().as_str(),
            self.state.region.as_str(),
            self.inner().env.account.as_str()
        )
    }

    /// The layer name a `LayerName` parameter (a name or this region's layer ARN) stands for.
    fn layer_name(&self, name_or_arn: &str) -> Result<String> {
        let invalid = || {
            LambdaError::validation(
                name_or_arn,
                "layerName",
                &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
            )
        };
        if name_or_arn.is_empty() || name_or_arn.chars().count() > 140 {
            return Err(LambdaError::validation(
                name_or_arn,
                "layerName",
                "Member must have length between 1 and 140",
            ));
        }
        let is_name = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if let Some(rest) = name_or_arn.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.split(':').collect();
            let [_, "lambda", region, account, "layer", name] = parts[..] else {
                return Err(invalid());
            };
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) || !is_name(name)
            {
                return Err(invalid());
            }
            // Another region's or account's layer is not in this store.
            if region != self.state.region.as_str() || account != self.inner().env.account.as_str()
            {
                return Err(not_found());
            }
            return Ok(name.to_owned());
        }
        if is_name(name_or_arn) {
            Ok(name_or_arn.to_owned())
        } else {
            Err(invalid())
        }
    }

    /// PublishLayerVersion: stores a new version of layer `layer_name`.
    pub fn publish_layer_version(
        &self,
        layer_name: &str,
        req: PublishLayerVersion,
    ) -> Result<LayerVersion> {
        let name = self.layer_name(layer_name)?;
        let description = req.description.unwrap_or_default();
        if description.chars().count() > 256 {
            return Err(LambdaError::validation(
                &description,
                "description",
                "Member must have length less than or equal to 256",
            ));
        }
        if let Some(l) = &req.license_info
            && l.chars().count() > 512
        {
            return Err(LambdaError::validation(
                l,
                "licenseInfo",
                "Member must have length less than or equal to 512",
            ));
        }
        let runtimes = req.compatible_runtimes.unwrap_or_default();
        if runtimes.len() > MAX_COMPATIBLE_RUNTIMES {
            return Err(LambdaError::validation(
                &format!("{runtimes:?}"),
                "compatibleRuntimes",
                "Member must have length less than or equal to 15",
            ));
        }
        for r in &runtimes {
            check_filter(&LayerFilter {
                compatible_runtime: Some(r),
                compatible_architecture: None,
            })
            .map_err(|_| {
                LambdaError::validation(
                    r,
                    "compatibleRuntimes",
                    &format!(
                        "Member must satisfy enum value set: [{}]",
                        crate::runtime::RUNTIMES.join(", ")
                    ),
                )
            })?;
        }
        let archs = req.compatible_architectures.unwrap_or_default();
        if archs.len() > 2 || archs.iter().any(|a| !ARCHITECTURES.contains(&a.as_str())) {
            return Err(LambdaError::validation(
                &format!("{archs:?}"),
                "compatibleArchitectures",
                "Member must have length less than or equal to 2 and satisfy enum value set: [x86_64, arm64]",
            ));
        }
        let code = self
            .load_code(&req.content, "PublishLayerVersion")?
            .ok_or_else(|| {
                LambdaError::InvalidParameterValue(
                    "Please provide a source for layer content.".into(),
                )
            })?;
        if code.unzipped_size > MAX_UNZIPPED_BYTES {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )));
        }
        let layer_arn = self.layer_arn(&name);
        let now = self.now();
        let mut layers = self.state.layers.lock();
        let layer = layers.entry(name.clone()).or_default();
        layer.next_version += 1;
        let version = layer.next_version;
        let info = LayerVersion {
            content: LayerVersionContent {
                location: format!(
                    "nubis://lambda/{}/layers/{name}/{version}",
                    self.region().as_str()
                ),
                code_sha256: code.sha256.clone(),
                code_size: code.size(),
            },
            layer_version_arn: format!("{layer_arn}:{version}"),
            layer_arn,
            description,
            created_date: crate::functions::last_modified(now),
            version,
            compatible_runtimes: runtimes,
            license_info: req.license_info,
            compatible_architectures: archs,
        };
        layer.versions.insert(
            version,
            Arc::new(StoredVersion {
                info: info.clone(),
                code,
            }),
        );
        Ok(info)
    }

    fn stored_version(&self, name: &str, version: i64) -> Result<Arc<StoredVersion>> {
        let v = u64::try_from(version).map_err(|_| not_found())?;
        self.state
            .layers
            .lock()
            .get(name)
            .and_then(|l| l.versions.get(&v).cloned())
            .ok_or_else(not_found)
    }

    /// GetLayerVersion.
    pub fn get_layer_version(&self, layer_name: &str, version: i64) -> Result<LayerVersion> {
        let name = self.layer_name(layer_name)?;
        Ok(self.stored_version(&name, version)?.info.clone())
    }

    /// GetLayerVersionByArn (`arn:…:layer:<name>:<version>`).
    pub fn get_layer_version_by_arn(&self, arn: &str) -> Result<LayerVersion> {
        if arn.is_empty() || arn.chars().count() > 140 {
            return Err(LambdaError::validation(
                arn,
                "arn",
                "Member must have length between 1 and 140",
            ));
        }
        let (layer, version) = split_version_arn(arn).ok_or_else(|| {
            LambdaError::validation(
                arn,
                "arn",
                "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+",
            )
        })?;
        let name = self.layer_name(layer)?;
        Ok(self.stored_version(&name, version)?.info.clone())
    }

    /// DeleteLayerVersion. Deleting a version that does not exist succeeds, as in AWS; functions
    /// that use the version keep its content.
    pub fn delete_layer_version(&self, layer_name: &str, version: i64) -> Result<()> {
        let name = self.layer_name(layer_name)?;
        let mut layers = self.state.layers.lock();
        if let (Some(l), Ok(v)) = (layers.get_mut(&name), u64::try_from(version)) {
            l.versions.remove(&v);
        }
        Ok(())
    }

    /// ListLayerVersions, newest first.
    pub fn list_layer_versions(
        &self,
        layer_name: &str,
        filter: LayerFilter<'_>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<Page<LayerVersionsListItem>> {
        check_filter(&filter)?;
        let name = self.layer_name(layer_name)?;
        let all: Vec<(String, LayerVersionsListItem)> = self
            .state
            .layers
            .lock()
            .get(&name)
            .map(|l| {
                l.versions
                    .values()
                    .rev()
                    .filter(|v| matches(&v.info, &filter))
                    // Newest first: the marker key sorts descending versions ascending.
                    .map(|v| {
                        (
                            format!("{:020}", u64::MAX - v.info.version),
                            (&v.info).into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        paginate_pub(all, "layer-versions", marker, max_items)
    }

    /// ListLayers: every layer with a version matching the filters, with its newest such version.
    pub fn list_layers(
        &self,
        filter: LayerFilter<'_>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<Page<LayersListItem>> {
        check_filter(&filter)?;
        let all: Vec<(String, LayersListItem)> = self
            .state
            .layers
            .lock()
            .iter()
            .filter_map(|(name, l)| {
                let v = l
                    .versions
                    .values()
                    .rev()
                    .find(|v| matches(&v.info, &filter))?;
                Some((
                    name.clone(),
                    LayersListItem {
                        layer_name: name.clone(),
                        layer_arn: v.info.layer_arn.clone(),
                        latest_matching_version: (&v.info).into(),
                    },
                ))
            })
            .collect();
        paginate_pub(all, "layers", marker, max_items)
    }

    /// Resolves a function's `Layers` (already checked for syntax) against the store: each must
    /// exist in this region, no layer twice, and `code_unzipped` plus the layers must unzip to at
    /// most 250 MB. Fills in each layer's `CodeSize` and returns the packages in order.
    pub(crate) fn resolve_layers(
        &self,
        layers: &mut [Layer],
        code_unzipped: u64,
    ) -> Result<Vec<Arc<CodePackage>>> {
        let mut seen: Vec<&str> = Vec::with_capacity(layers.len());
        for l in layers.iter() {
            let base = l.arn.rsplit_once(':').map_or(l.arn.as_str(), |(b, _)| b);
            if let Some(prev) = seen
                .iter()
                .find(|p| p.rsplit_once(':').map(|(b, _)| b) == Some(base))
            {
                return Err(LambdaError::InvalidParameterValue(format!(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. {prev} and {} are versions of the same layer.",
                    l.arn
                )));
            }
            seen.push(&l.arn);
        }
        let mut packages = Vec::with_capacity(layers.len());
        let mut total = code_unzipped;
        for l in layers.iter_mut() {
            let region = l.arn.split(':').nth(3).unwrap_or_default();
            if region != self.state.region.as_str() {
                return Err(LambdaError::InvalidParameterValue(format!(
                    "Layers are not in the same region as the function. Layers are expected to be in region {}.",
                    self.state.region.as_str()
                )));
            }
            let missing = || {
                LambdaError::InvalidParameterValue(format!(
                    "Layer version {} does not exist.",
                    l.arn
                ))
            };
            let stored = self.get_stored_by_arn(&l.arn).ok_or_else(missing)?;
            l.code_size = stored.code.size();
            total += stored.code.unzipped_size;
            packages.push(Arc::clone(&stored.code));
        }
        if total > MAX_UNZIPPED_BYTES {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} bytes. The actual size is {total} bytes."
            )));
        }
        Ok(packages)
    }

    fn get_stored_by_arn(&self, arn: &str) -> Option<Arc<StoredVersion>> {
        let (layer, version) = split_version_arn(arn)?;
        let name = self.layer_name(layer).ok()?;
        self.stored_version(&name, version).ok()
    }
}

/// Splits `arn:…:layer:<name>:<version>` into the layer ARN and the version.
fn split_version_arn(arn: &str) -> Option<(&str, i64)> {
    let (layer, version) = arn.rsplit_once(':')?;
    if !layer.starts_with("arn:")
        || version.is_empty()
        || !version.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((layer, version.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_arns_split() {
        assert_eq!(
            split_version_arn("arn:aws:lambda:us-east-1:000000000000:layer:x:3"),
            Some(("arn:aws:lambda:us-east-1:000000000000:layer:x", 3))
        );
        assert_eq!(
            split_version_arn("arn:aws:lambda:us-east-1:000000000000:layer:x"),
            None
        );
        assert_eq!(split_version_arn("x:1"), None);
        assert_eq!(split_version_arn("arn:a:b:"), None);
    }
}
