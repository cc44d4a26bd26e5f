//! The shapes of the Lambda control plane: function configurations as AWS returns them, and the
//! requests that create and change them. Field names follow the API (PascalCase on the wire), so
//! the wire binding serializes and deserializes these types directly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Default memory, in MB.
pub const DEFAULT_MEMORY_MB: u32 = 128;
/// Default timeout, in seconds.
pub const DEFAULT_TIMEOUT_S: u32 = 3;
/// Default ephemeral storage (`/tmp`), in MB.
pub const DEFAULT_EPHEMERAL_MB: u32 = 512;
/// The role the Rust API's shorthand constructors use.
pub const DEFAULT_ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// A function's configuration (`FunctionConfiguration` in the API).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    /// The function's name.
    pub function_name: String,
    /// The function's ARN (qualified for published versions).
    pub function_arn: String,
    /// The runtime identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The execution role.
    pub role: String,
    /// The handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Size of the deployment package in bytes.
    pub code_size: u64,
    /// The description.
    pub description: String,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Memory in MB.
    pub memory_size: u32,
    /// When the configuration last changed (`2026-01-01T00:00:00.000+0000`).
    pub last_modified: String,
    /// Base64 SHA-256 of the deployment package.
    pub code_sha256: String,
    /// `$LATEST` or a version number.
    pub version: String,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentResponse>,
    /// X-Ray tracing mode.
    pub tracing_config: TracingConfig,
    /// Changes with every update.
    pub revision_id: String,
    /// Layers (recorded; see `docs/lambda.md`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
    /// `Pending`, `Active`, `Inactive` or `Failed`.
    pub state: String,
    /// Why the function is in its state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// The state reason's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    /// `InProgress`, `Successful` or `Failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<String>,
    /// Why the last update is in its status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// The last update status reason's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<String>,
    /// `Zip` (container images are not run by Nubis).
    pub package_type: String,
    /// `x86_64` or `arm64`.
    pub architectures: Vec<String>,
    /// `/tmp` size.
    pub ephemeral_storage: EphemeralStorage,
    /// Where failed asynchronous events go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Logging configuration.
    pub logging_config: LoggingConfig,
    /// SnapStart (always off).
    pub snap_start: SnapStartResponse,
}

/// Environment variables as returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    /// The variables.
    pub variables: BTreeMap<String, String>,
}

/// Environment variables as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// The variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// X-Ray tracing mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `PassThrough` or `Active`.
    pub mode: String,
}

/// A layer attached to a function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Layer {
    /// The layer version ARN.
    pub arn: String,
    /// Its size (unknown to Nubis: 0).
    pub code_size: u64,
}

/// `/tmp` size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    /// MB, 512–10240.
    pub size: i64,
}

/// The dead-letter target of asynchronous invocations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// An SQS queue or SNS topic ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// Logging configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `Text`.
    pub log_format: String,
    /// `/aws/lambda/<name>`.
    pub log_group: String,
}

/// SnapStart as returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStartResponse {
    /// `None`.
    pub apply_on: String,
    /// `Off`.
    pub optimization_status: String,
}

/// A deployment package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionCode {
    /// The zip file itself (base64 on the wire).
    #[serde(default, with = "b64", skip_serializing_if = "Option::is_none")]
    pub zip_file: Option<Vec<u8>>,
    /// An S3 bucket holding the zip (fetched through the facade's [`crate::CodeStore`]).
    #[serde(default, rename = "S3Bucket", skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// The S3 key.
    #[serde(default, rename = "S3Key", skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// The S3 object version.
    #[serde(
        default,
        rename = "S3ObjectVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub s3_object_version: Option<String>,
    /// A container image URI (Nubis does not run images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
}

impl FunctionCode {
    /// A package from zip bytes.
    pub fn zip(bytes: impl Into<Vec<u8>>) -> Self {
        FunctionCode {
            zip_file: Some(bytes.into()),
            ..Default::default()
        }
    }

    /// A package in S3.
    pub fn s3(bucket: &str, key: &str) -> Self {
        FunctionCode {
            s3_bucket: Some(bucket.into()),
            s3_key: Some(key.into()),
            ..Default::default()
        }
    }
}

/// `CreateFunction`'s request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunction {
    /// The name (or ARN) of the new function.
    pub function_name: String,
    /// The runtime (required for zip packages).
    #[serde(default)]
    pub runtime: Option<String>,
    /// The execution role ARN.
    #[serde(default)]
    pub role: String,
    /// The handler (required for zip packages). `nubis:<name>` runs an in-process handler.
    #[serde(default)]
    pub handler: Option<String>,
    /// The code. In-process (`nubis:`) functions may leave it empty.
    #[serde(default)]
    pub code: FunctionCode,
    /// Description (≤ 256 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Timeout in seconds (1–900, default 3).
    #[serde(default)]
    pub timeout: Option<i64>,
    /// Memory in MB (128–10240, default 128).
    #[serde(default)]
    pub memory_size: Option<i64>,
    /// Publish version 1 at once.
    #[serde(default)]
    pub publish: Option<bool>,
    /// Environment variables (≤ 4 KB).
    #[serde(default)]
    pub environment: Option<Environment>,
    /// `["x86_64"]` or `["arm64"]`.
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    /// `/tmp` size.
    #[serde(default)]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Layer version ARNs (≤ 5).
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Dead-letter target.
    #[serde(default)]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// `Zip` or `Image`.
    #[serde(default)]
    pub package_type: Option<String>,
    /// Tracing.
    #[serde(default)]
    pub tracing_config: Option<TracingConfig>,
}

impl CreateFunction {
    /// A request for an in-process function whose handler is registered as `handler_name`.
    pub fn in_process(name: &str, handler_name: &str) -> Self {
        CreateFunction {
            function_name: name.into(),
            runtime: Some("provided.al2023".into()),
            role: DEFAULT_ROLE.into(),
            handler: Some(format!(
                "{}{handler_name}",
                crate::runtime::IN_PROCESS_PREFIX
            )),
            ..Default::default()
        }
    }

    /// A request for a function from a zip package.
    pub fn zip(name: &str, runtime: &str, handler: &str, zip: impl Into<Vec<u8>>) -> Self {
        CreateFunction {
            function_name: name.into(),
            runtime: Some(runtime.into()),
            role: DEFAULT_ROLE.into(),
            handler: Some(handler.into()),
            code: FunctionCode::zip(zip),
            ..Default::default()
        }
    }
}

/// `UpdateFunctionConfiguration`'s request: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionConfiguration {
    /// Runtime.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<String>,
    /// Handler.
    #[serde(default)]
    pub handler: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Timeout.
    #[serde(default)]
    pub timeout: Option<i64>,
    /// Memory.
    #[serde(default)]
    pub memory_size: Option<i64>,
    /// Environment (replaces the whole set).
    #[serde(default)]
    pub environment: Option<Environment>,
    /// `/tmp` size.
    #[serde(default)]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Layers (replaces the list).
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// Dead-letter target.
    #[serde(default)]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Tracing.
    #[serde(default)]
    pub tracing_config: Option<TracingConfig>,
    /// Only update if the revision matches.
    #[serde(default)]
    pub revision_id: Option<String>,
}

/// `UpdateFunctionCode`'s request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateFunctionCode {
    /// New zip bytes.
    #[serde(default, with = "b64")]
    pub zip_file: Option<Vec<u8>>,
    /// New package in S3.
    #[serde(default, rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    /// S3 key.
    #[serde(default, rename = "S3Key")]
    pub s3_key: Option<String>,
    /// S3 object version.
    #[serde(default, rename = "S3ObjectVersion")]
    pub s3_object_version: Option<String>,
    /// Image URI.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// Publish a version after updating.
    #[serde(default)]
    pub publish: Option<bool>,
    /// Validate without changing anything.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Only update if the revision matches.
    #[serde(default)]
    pub revision_id: Option<String>,
    /// Architectures.
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
}

/// An alias's routing configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    /// Version → share of traffic (0.0–1.0) routed to it instead of the primary version.
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// An alias (`AliasConfiguration`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    /// The alias ARN.
    pub alias_arn: String,
    /// The alias name.
    pub name: String,
    /// The primary version.
    pub function_version: String,
    /// Description.
    pub description: String,
    /// Weighted routing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRoutingConfiguration>,
    /// Changes on every update.
    pub revision_id: String,
}

/// The asynchronous invocation settings of a function or qualifier
/// (`FunctionEventInvokeConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfig {
    /// The function (with qualifier) ARN; set by the engine.
    #[serde(default)]
    pub function_arn: String,
    /// When last changed (seconds since the epoch on the wire).
    #[serde(default)]
    pub last_modified: f64,
    /// 0–2, default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    /// 60–21600, default 21600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<i64>,
    /// Where records of successful and failed events go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationConfig>,
}

/// OnSuccess / OnFailure destinations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    /// Destination for successful events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Destination>,
    /// Destination for failed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Destination>,
}

/// A destination ARN.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    /// An SQS queue, SNS topic, EventBridge bus, S3 bucket or Lambda function ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// Base64 for `ZipFile` blobs.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            STANDARD
                .decode(s.as_bytes())
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}
