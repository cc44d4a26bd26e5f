//! Intrinsic functions of a SAM template: `!Ref`, `!GetAtt`, `!Sub` and `!Join` (short and
//! long forms) over parameters, pseudo parameters and the template's resources, resolved while
//! the YAML is turned into JSON.
//!
//! Guarantees: every intrinsic either resolves to the value `sam local` would give it or is a
//! typed [`SamError`] (`Unsupported` for the intrinsics SAM local does not resolve either,
//! `Invalid` for a malformed argument or a reference to nothing) — never a silent wrong value.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use serde_norway::Value as Yaml;

use super::{ParseOptions, SamError};

/// Resolves intrinsics against one template's parameters and resources.
pub(super) struct Resolver<'a> {
    pub(super) opts: &'a ParseOptions,
    /// Parameter values by name.
    pub(super) params: BTreeMap<String, Value>,
    /// Function logical id → function name.
    pub(super) names: BTreeMap<String, String>,
    /// Logical id → resource type, for every resource.
    pub(super) resources: BTreeMap<String, String>,
}

impl Resolver<'_> {
    fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.opts.region, self.opts.account
        )
    }

    fn reference(&self, name: &str) -> Result<Value, SamError> {
        Ok(match name {
            "AWS::Region" => json!(self.opts.region),
            "AWS::AccountId" => json!(self.opts.account),
            "AWS::StackName" => json!(self.opts.stack_name),
            "AWS::Partition" => json!("aws"),
            "AWS::URLSuffix" => json!("amazonaws.com"),
            "AWS::NoValue" => Value::Null,
            _ => {
                if let Some(v) = self.params.get(name) {
                    v.clone()
                } else if let Some(n) = self.names.get(name) {
                    json!(n)
                } else if self.resources.contains_key(name) {
                    json!(name)
                } else {
                    return Err(SamError::Invalid(format!("unresolved reference '{name}'")));
                }
            }
        })
    }

    fn get_att(&self, target: &str) -> Result<Value, SamError> {
        let (res, attr) = target
            .split_once('.')
            .ok_or_else(|| SamError::Invalid(format!("bad GetAtt '{target}'")))?;
        match (self.names.get(res), attr) {
            (Some(n), "Arn") => Ok(json!(self.arn(n))),
            (None, _) if self.resources.contains_key(res) => {
                let kind = &self.resources[res];
                if kind == "AWS::DynamoDB::Table" && attr == "StreamArn" {
                    Ok(json!(format!(
                        "arn:aws:dynamodb:{}:{}:table/{res}/stream/1970-01-01T00:00:00.000",
                        self.opts.region, self.opts.account
                    )))
                } else {
                    Ok(json!(format!("{res}.{attr}")))
                }
            }
            _ => Err(SamError::Unsupported(format!("GetAtt {target}"))),
        }
    }

    fn sub(&self, text: &str, vars: &Map<String, Value>) -> Result<Value, SamError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| SamError::Invalid(format!("unclosed ${{ in Sub '{text}'")))?;
            let key = &after[..end];
            if let Some(lit) = key.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else {
                let v = match vars.get(key) {
                    Some(v) => v.clone(),
                    None if key.contains('.') && !key.starts_with("AWS::") => self.get_att(key)?,
                    None => self.reference(key)?,
                };
                out.push_str(&scalar(&v));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(json!(out))
    }

    fn intrinsic(&self, name: &str, arg: &Value) -> Result<Value, SamError> {
        match (name, arg) {
            ("Ref", Value::String(s)) => self.reference(s),
            ("GetAtt" | "Fn::GetAtt", Value::String(s)) => self.get_att(s),
            ("GetAtt" | "Fn::GetAtt", Value::Array(a)) if a.len() == 2 => {
                self.get_att(&format!("{}.{}", scalar(&a[0]), scalar(&a[1])))
            }
            ("Sub" | "Fn::Sub", Value::String(s)) => self.sub(s, &Map::new()),
            ("Sub" | "Fn::Sub", Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
                (Value::String(s), Value::Object(vars)) => self.sub(s, vars),
                _ => Err(SamError::Invalid("Sub takes a string and a map".into())),
            },
            ("Join" | "Fn::Join", Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
                (Value::String(d), Value::Array(items)) => {
                    Ok(json!(items.iter().map(scalar).collect::<Vec<_>>().join(d)))
                }
                _ => Err(SamError::Invalid(
                    "Join takes a delimiter and a list".into(),
                )),
            },
            _ => Err(SamError::Unsupported(format!("intrinsic function {name}"))),
        }
    }

    /// YAML → JSON with every intrinsic resolved.
    pub(super) fn resolve(&self, y: &Yaml) -> Result<Value, SamError> {
        Ok(match y {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => json!(b),
            Yaml::Number(n) => {
                serde_json::to_value(n).map_err(|e| SamError::Invalid(e.to_string()))?
            }
            Yaml::String(s) => json!(s),
            Yaml::Sequence(s) => Value::Array(
                s.iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => scalar(&self.resolve(other)?),
                    };
                    out.insert(key, self.resolve(v)?);
                }
                if out.len() == 1
                    && let Some((k, v)) = out.iter().next()
                    && (k == "Ref" || k.starts_with("Fn::"))
                {
                    return self.intrinsic(k, v);
                }
                Value::Object(out)
            }
            Yaml::Tagged(t) => {
                let tag = t.tag.to_string();
                let arg = self.resolve(&t.value)?;
                self.intrinsic(tag.trim_start_matches('!'), &arg)?
            }
        })
    }
}

/// A JSON value as the text it stands for in a string context.
pub(super) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
