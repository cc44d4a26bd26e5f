//! Lambda runtime identifiers: which the API accepts, which are deprecated for create and update,
//! and how Nubis runs each one.

use crate::error::{LambdaError, Result};

/// Every value of the API model's `Runtime` enum.
pub const RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
];

/// Runtimes past their block-create/update date, with the runtime AWS recommends instead.
const DEPRECATED: &[(&str, &str)] = &[
    ("nodejs", "nodejs22.x"),
    ("nodejs4.3", "nodejs22.x"),
    ("nodejs4.3-edge", "nodejs22.x"),
    ("nodejs6.10", "nodejs22.x"),
    ("nodejs8.10", "nodejs22.x"),
    ("nodejs10.x", "nodejs22.x"),
    ("nodejs12.x", "nodejs22.x"),
    ("nodejs14.x", "nodejs22.x"),
    ("python2.7", "python3.13"),
    ("python3.6", "python3.13"),
    ("python3.7", "python3.13"),
    ("dotnetcore1.0", "dotnet8"),
    ("dotnetcore2.0", "dotnet8"),
    ("dotnetcore2.1", "dotnet8"),
    ("dotnetcore3.1", "dotnet8"),
    ("ruby2.5", "ruby3.3"),
    ("ruby2.7", "ruby3.3"),
    ("go1.x", "provided.al2023"),
    ("provided", "provided.al2023"),
];

/// How Nubis runs a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerKind {
    /// A Rust handler registered in-process under this name (Handler `nubis:<name>`).
    InProcess(String),
    /// The package's `bootstrap` executable (`provided.al2023`, `provided.al2`).
    Bootstrap,
    /// `python3 -m awslambdaric <handler>` (the `python3.*` runtimes).
    Python,
    /// A runtime Nubis has no interpreter for (Node.js, Java, .NET, Ruby).
    Unavailable,
}

/// The prefix that marks an in-process handler.
pub const IN_PROCESS_PREFIX: &str = "nubis:";

/// Decides how a function with `runtime` and `handler` runs.
pub fn handler_kind(runtime: Option<&str>, handler: Option<&str>) -> HandlerKind {
    if let Some(name) = handler.and_then(|h| h.strip_prefix(IN_PROCESS_PREFIX)) {
        return HandlerKind::InProcess(name.to_owned());
    }
    match runtime {
        Some(r) if r.starts_with("provided") => HandlerKind::Bootstrap,
        Some(r) if r.starts_with("python3") => HandlerKind::Python,
        _ => HandlerKind::Unavailable,
    }
}

/// Validates a runtime for CreateFunction/UpdateFunctionConfiguration.
pub fn validate_runtime(runtime: &str) -> Result<()> {
    if !RUNTIMES.contains(&runtime) {
        return Err(LambdaError::validation(
            runtime,
            "runtime",
            &format!(
                "Member must satisfy enum value set: [{}] or be a valid ARN",
                RUNTIMES.join(", ")
            ),
        ));
    }
    if let Some((_, instead)) = DEPRECATED.iter().find(|(r, _)| *r == runtime) {
        return Err(LambdaError::InvalidParameterValue(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime ({instead}) while creating or updating functions."
        )));
    }
    Ok(())
}

/// `AWS_EXECUTION_ENV` for a managed runtime (`None` for OS-only runtimes).
pub fn execution_env(runtime: &str) -> Option<String> {
    if runtime.starts_with("provided") {
        None
    } else {
        Some(format!("AWS_Lambda_{runtime}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_validation() {
        assert_eq!(
            handler_kind(Some("provided.al2023"), Some("nubis:echo")),
            HandlerKind::InProcess("echo".into())
        );
        assert_eq!(
            handler_kind(Some("provided.al2"), Some("bootstrap")),
            HandlerKind::Bootstrap
        );
        assert_eq!(
            handler_kind(Some("python3.12"), Some("app.handler")),
            HandlerKind::Python
        );
        assert_eq!(
            handler_kind(Some("nodejs20.x"), Some("index.handler")),
            HandlerKind::Unavailable
        );
        assert!(validate_runtime("python3.12").is_ok());
        assert!(matches!(
            validate_runtime("python2.7"),
            Err(LambdaError::InvalidParameterValue(_))
        ));
        assert!(matches!(
            validate_runtime("cobol"),
            Err(LambdaError::Validation(_))
        ));
    }
}
