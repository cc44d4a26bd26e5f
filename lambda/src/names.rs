//! Parsers and validators for the names the Lambda API takes: function references (name, full or
//! partial ARN, with an optional `:qualifier`), qualifiers, alias names, handlers, roles and
//! environment variable keys.
//!
//! Guarantees: every parser here is total — any input gives `Ok` or a typed error, never a panic —
//! and a parsed [`FunctionRef`] prints back ([`FunctionRef::to_string`]) to an input that parses
//! to the same value. The patterns are those of the Lambda API model, written out by hand so the
//! crate needs no regex engine.

use std::fmt;

use crate::error::{LambdaError, Result};

/// The model's pattern for `FunctionName`, quoted in validation messages.
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// The model's pattern for `Qualifier`.
pub const QUALIFIER_PATTERN: &str = r"(|[a-zA-Z0-9$_-]+)";
/// The model's pattern for alias names.
pub const ALIAS_PATTERN: &str = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
/// The model's pattern for `Role`.
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
/// The model's pattern for `Handler`.
pub const HANDLER_PATTERN: &str = r"[^\s]+";

/// A function named by a request: a bare name, a partial ARN (`123456789012:function:f`) or a
/// full ARN, each with an optional `:qualifier` (version or alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The function's name.
    pub name: String,
    /// The version or alias after the name, if any.
    pub qualifier: Option<String>,
    /// The region of a full ARN or region-prefixed reference.
    pub region: Option<String>,
    /// The account of an ARN.
    pub account: Option<String>,
    /// The partition of a full ARN.
    pub partition: Option<String>,
}

impl FunctionRef {
    /// Parses a `FunctionName` parameter.
    pub fn parse(input: &str) -> Result<FunctionRef> {
        let invalid = || {
            LambdaError::validation(
                input,
                "functionName",
                &format!("Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"),
            )
        };
        if input.is_empty() {
            return Err(LambdaError::validation(
                input,
                "functionName",
                "Member must have length greater than or equal to 1",
            ));
        }
        if input.len() > 140 {
            return Err(LambdaError::validation(
                input,
                "functionName",
                "Member must have length less than or equal to 140",
            ));
        }
        let mut parts: Vec<&str> = input.split(':').collect();
        let mut r = FunctionRef {
            name: String::new(),
            qualifier: None,
            region: None,
            account: None,
            partition: None,
        };
        if parts.first() == Some(&"arn") {
            // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
            if parts.len() < 7 || parts.len() > 8 || parts[2] != "lambda" {
                return Err(invalid());
            }
            let partition = parts[1];
            if !(partition.is_empty()
                || (partition.starts_with("aws")
                    && partition[3..]
                        .chars()
                        .all(|c| c.is_ascii_alphabetic() || c == '-')))
            {
                return Err(invalid());
            }
            r.partition = Some(partition.to_owned());
            parts.drain(..3);
        }
        if parts.len() >= 4 && is_region(parts[0]) {
            r.region = Some(parts[0].to_owned());
            parts.remove(0);
        } else if r.partition.is_some() {
            return Err(invalid());
        }
        if parts.len() >= 3 && is_account(parts[0]) {
            r.account = Some(parts[0].to_owned());
            parts.remove(0);
        } else if r.partition.is_some() || r.region.is_some() {
            return Err(invalid());
        }
        if parts.len() >= 2 && parts[0] == "function" {
            parts.remove(0);
        } else if r.account.is_some() {
            return Err(invalid());
        }
        match parts.as_slice() {
            [name] if is_name(name) => r.name = (*name).to_owned(),
            [name, q] if is_name(name) && (*q == "$LATEST" || is_name(q)) => {
                r.name = (*name).to_owned();
                r.qualifier = Some((*q).to_owned());
            }
            _ => return Err(invalid()),
        }
        if r.account.is_none() && r.name.len() > 64 {
            return Err(LambdaError::validation(
                input,
                "functionName",
                "Member must have length less than or equal to 64",
            ));
        }
        Ok(r)
    }

    /// Combines the qualifier derived from the name with a separate `Qualifier` parameter.
    pub fn with_qualifier(mut self, qualifier: Option<&str>) -> Result<FunctionRef> {
        match (self.qualifier.as_deref(), qualifier) {
            (_, None) => {}
            (_, Some(q)) => {
                validate_qualifier(q)?;
                match self.qualifier.as_deref() {
                    Some(derived) if derived != q => {
                        return Err(LambdaError::InvalidParameterValue(
                            "The derived qualifier from the function name does not match the specified qualifier.".into(),
                        ));
                    }
                    _ => self.qualifier = Some(q.to_owned()),
                }
            }
        }
        Ok(self)
    }
}

impl fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.partition {
            write!(f, "arn:{p}:lambda:")?;
        }
        if let Some(r) = &self.region {
            write!(f, "{r}:")?;
        }
        if let Some(a) = &self.account {
            write!(f, "{a}:function:")?;
        }
        f.write_str(&self.name)?;
        if let Some(q) = &self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

fn is_region(s: &str) -> bool {
    // [a-z]{2}(-gov)?-[a-z]+-\d{1}
    let b = s.as_bytes();
    if b.len() < 6 || !b[0].is_ascii_lowercase() || !b[1].is_ascii_lowercase() || b[2] != b'-' {
        return false;
    }
    let rest = &s[3..];
    let rest = rest.strip_prefix("gov-").unwrap_or(rest);
    match rest.rsplit_once('-') {
        Some((word, digit)) => {
            !word.is_empty()
                && word.bytes().all(|c| c.is_ascii_lowercase())
                && digit.len() == 1
                && digit.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// Whether `s` matches `[a-zA-Z0-9-_]+`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// Validates a `Qualifier` parameter (1–128 characters of `[a-zA-Z0-9$_-]`).
pub fn validate_qualifier(q: &str) -> Result<()> {
    if q.len() > 128 {
        return Err(LambdaError::validation(
            q,
            "qualifier",
            "Member must have length less than or equal to 128",
        ));
    }
    if q.is_empty()
        || !q
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'$' || c == b'_' || c == b'-')
    {
        return Err(LambdaError::validation(
            q,
            "qualifier",
            &format!("Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"),
        ));
    }
    Ok(())
}

/// Validates an alias name: 1–128 characters of `[a-zA-Z0-9-_]`, not all digits.
pub fn validate_alias_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(LambdaError::validation(
            name,
            "name",
            "Member must have length less than or equal to 128",
        ));
    }
    if !is_name(name) || name.bytes().all(|c| c.is_ascii_digit()) {
        return Err(LambdaError::validation(
            name,
            "name",
            &format!("Member must satisfy regular expression pattern: {ALIAS_PATTERN}"),
        ));
    }
    Ok(())
}

/// Validates a function version (`$LATEST` or a positive decimal number).
pub fn is_version(v: &str) -> bool {
    v == "$LATEST"
        || (!v.is_empty()
            && v.len() <= 10
            && v.bytes().all(|c| c.is_ascii_digit())
            && !v.starts_with('0'))
}

/// Validates a `Handler` (1–128 non-whitespace characters).
pub fn validate_handler(h: &str) -> Result<()> {
    if h.len() > 128 {
        return Err(LambdaError::validation(
            h,
            "handler",
            "Member must have length less than or equal to 128",
        ));
    }
    if h.is_empty() || h.chars().any(char::is_whitespace) {
        return Err(LambdaError::validation(
            h,
            "handler",
            &format!("Member must satisfy regular expression pattern: {HANDLER_PATTERN}"),
        ));
    }
    Ok(())
}

/// Validates an execution role ARN.
pub fn validate_role(role: &str) -> Result<()> {
    let invalid = || {
        LambdaError::validation(
            role,
            "role",
            &format!("Member must satisfy regular expression pattern: {ROLE_PATTERN}"),
        )
    };
    let rest = role.strip_prefix("arn:").ok_or_else(invalid)?;
    let (partition, rest) = rest.split_once(':').ok_or_else(invalid)?;
    if !(partition.is_empty()
        || (partition.starts_with("aws")
            && partition[3..]
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '-')))
    {
        return Err(invalid());
    }
    let rest = rest.strip_prefix("iam::").ok_or_else(invalid)?;
    let (account, rest) = rest.split_once(':').ok_or_else(invalid)?;
    if !is_account(account) {
        return Err(invalid());
    }
    let path = rest.strip_prefix("role").ok_or_else(invalid)?;
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty()
        || !path
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&c))
    {
        return Err(invalid());
    }
    Ok(())
}

/// Whether `key` is a valid environment variable name (`[a-zA-Z]([a-zA-Z0-9_])+`).
pub fn is_env_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Environment variables Lambda sets itself and refuses to let a function override.
pub const RESERVED_ENV_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_reference_shape() {
        let r = FunctionRef::parse("my-function").unwrap();
        assert_eq!(
            (r.name.as_str(), r.qualifier.as_deref()),
            ("my-function", None)
        );
        let r = FunctionRef::parse("my-function:PROD").unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("PROD"));
        let r = FunctionRef::parse("123456789012:function:f:$LATEST").unwrap();
        assert_eq!(
            (r.account.as_deref(), r.qualifier.as_deref()),
            (Some("123456789012"), Some("$LATEST"))
        );
        let r = FunctionRef::parse("arn:aws:lambda:us-west-2:123456789012:function:f:3").unwrap();
        assert_eq!(
            (r.region.as_deref(), r.name.as_str(), r.qualifier.as_deref()),
            (Some("us-west-2"), "f", Some("3"))
        );
        assert_eq!(
            r.to_string(),
            "arn:aws:lambda:us-west-2:123456789012:function:f:3"
        );
        let r = FunctionRef::parse("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f")
            .unwrap();
        assert_eq!(r.region.as_deref(), Some("us-gov-west-1"));
        for bad in [
            "",
            "a b",
            "f:",
            ":f",
            "arn:aws:s3:us-east-1:123456789012:function:f",
            "f:a:b",
            "12345:function:f",
            "f:$X",
        ] {
            assert!(FunctionRef::parse(bad).is_err(), "{bad}");
        }
        assert!(FunctionRef::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn qualifier_rules() {
        let r = FunctionRef::parse("f:1").unwrap();
        assert!(r.clone().with_qualifier(Some("2")).is_err());
        assert_eq!(
            r.with_qualifier(Some("1")).unwrap().qualifier.as_deref(),
            Some("1")
        );
        assert!(validate_alias_name("123").is_err());
        assert!(validate_alias_name("v1").is_ok());
        assert!(is_version("12") && is_version("$LATEST") && !is_version("01") && !is_version("x"));
    }

    #[test]
    fn roles_handlers_env_keys() {
        assert!(validate_role("arn:aws:iam::123456789012:role/lambda-role").is_ok());
        assert!(validate_role("arn:aws:iam::123456789012:user/x").is_err());
        assert!(validate_role("role").is_err());
        assert!(validate_handler("index.handler").is_ok());
        assert!(validate_handler("a b").is_err());
        assert!(is_env_key("FOO_1") && !is_env_key("1FOO") && !is_env_key("F"));
    }
}
