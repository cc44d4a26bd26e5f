//! SQL data types: PostgreSQL's names, their type modifiers, and the rules that pick a common type.
//!
//! Guarantee: [`DataType::from_ast`] accepts exactly the types this engine stores, and
//! `Display` prints PostgreSQL's canonical name (`integer`, `character varying(5)`, `numeric(10,2)`),
//! which is what error messages and `information_schema.columns.data_type` show.

use sqlparser::ast;

use crate::error::{AuroraError, Result};

/// A column or expression type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// `boolean`.
    Bool,
    /// `smallint`.
    Int2,
    /// `integer`.
    Int4,
    /// `bigint`.
    Int8,
    /// `numeric(p, s)`; `None` is unconstrained.
    Numeric(Option<(u32, u32)>),
    /// `real`.
    Float4,
    /// `double precision`.
    Float8,
    /// `text`.
    Text,
    /// `character varying(n)`.
    Varchar(Option<u32>),
    /// `character(n)` (blank-padded).
    Char(u32),
    /// `bytea`.
    Bytea,
    /// `date`.
    Date,
    /// `time without time zone`.
    Time,
    /// `timestamp without time zone`.
    Timestamp,
    /// `timestamp with time zone`.
    TimestampTz,
    /// `interval`.
    Interval,
    /// `uuid`.
    Uuid,
    /// `jsonb`.
    Jsonb,
    /// `json` (stored parsed, like jsonb).
    Json,
    /// `T[]`.
    Array(Box<DataType>),
    /// The type of an untyped literal (`'abc'`, `NULL`) before context decides it.
    Unknown,
}

/// Broad type categories, as PostgreSQL's `typcategory` groups them for implicit coercion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Booleans.
    Bool,
    /// Integers, numeric and floats.
    Numeric,
    /// Strings.
    String,
    /// Dates, times and timestamps.
    DateTime,
    /// Intervals.
    Timespan,
    /// Everything else.
    Other,
}

impl DataType {
    /// Converts a parsed SQL type.
    pub fn from_ast(t: &ast::DataType) -> Result<DataType> {
        use ast::DataType as A;
        Ok(match t {
            A::Boolean | A::Bool => DataType::Bool,
            A::SmallInt(_) | A::Int2(_) => DataType::Int2,
            A::Int(_) | A::Integer(_) | A::Int4(_) | A::MediumInt(_) => DataType::Int4,
            A::BigInt(_) | A::Int8(_) => DataType::Int8,
            A::Numeric(info) | A::Decimal(info) | A::Dec(info) => DataType::Numeric(match info {
                ast::ExactNumberInfo::None => None,
                ast::ExactNumberInfo::Precision(p) => Some((*p as u32, 0)),
                ast::ExactNumberInfo::PrecisionAndScale(p, s) => {
                    Some((*p as u32, (*s).max(0) as u32))
                }
            }),
            A::Real | A::Float4 => DataType::Float4,
            A::Float(info) => match info {
                ast::ExactNumberInfo::Precision(p) if *p <= 24 => DataType::Float4,
                _ => DataType::Float8,
            },
            A::Double(_) | A::DoublePrecision | A::Float8 | A::Float64 => DataType::Float8,
            A::Text | A::String(_) => DataType::Text,
            A::Varchar(len) | A::CharacterVarying(len) | A::CharVarying(len) | A::Nvarchar(len) => {
                DataType::Varchar(char_len(len))
            }
            A::Char(len) | A::Character(len) => DataType::Char(char_len(len).unwrap_or(1)),
            A::Bytea | A::Blob(_) => DataType::Bytea,
            A::Date => DataType::Date,
            A::Time(_, tz) => match tz {
                ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => {
                    return Err(AuroraError::unsupported("type time with time zone"));
                }
                _ => DataType::Time,
            },
            A::Timestamp(_, tz) => match tz {
                ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => DataType::TimestampTz,
                _ => DataType::Timestamp,
            },
            A::TimestampNtz(_) | A::Datetime(_) => DataType::Timestamp,
            A::Interval { .. } => DataType::Interval,
            A::Uuid => DataType::Uuid,
            A::JSONB => DataType::Jsonb,
            A::JSON => DataType::Json,
            A::Array(def) => match def {
                ast::ArrayElemTypeDef::SquareBracket(inner, _)
                | ast::ArrayElemTypeDef::AngleBracket(inner)
                | ast::ArrayElemTypeDef::Parenthesis(inner) => {
                    DataType::Array(Box::new(DataType::from_ast(inner)?))
                }
                _ => DataType::Array(Box::new(DataType::Text)),
            },
            A::Custom(name, mods) => {
                let mods: Vec<String> = mods.iter().map(|m| m.to_string()).collect();
                return Self::from_name(&name.to_string().to_lowercase(), &mods);
            }
            other => {
                return Err(AuroraError::sql(
                    "42704",
                    format!("type \"{other}\" does not exist"),
                ));
            }
        })
    }

    /// Types named by identifier (`int4`, `serial`, `timestamptz`…).
    fn from_name(name: &str, mods: &[String]) -> Result<DataType> {
        let name = name.trim_matches('"');
        // Built-in types live in pg_catalog; psql spells them `pg_catalog.text`.
        let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
        Ok(match name {
            "int2" | "smallserial" | "serial2" => DataType::Int2,
            "int4" | "serial" | "serial4" => DataType::Int4,
            "int8" | "bigserial" | "serial8" => DataType::Int8,
            "float4" => DataType::Float4,
            "float8" => DataType::Float8,
            "bool" => DataType::Bool,
            "timestamptz" => DataType::TimestampTz,
            "varchar" => DataType::Varchar(mods.first().and_then(|m| m.parse().ok())),
            "bpchar" => DataType::Char(mods.first().and_then(|m| m.parse().ok()).unwrap_or(1)),
            "jsonb" => DataType::Jsonb,
            "json" => DataType::Json,
            "uuid" => DataType::Uuid,
            "bytea" => DataType::Bytea,
            "text" | "name" | "citext" => DataType::Text,
            "numeric" | "decimal" => DataType::Numeric(None),
            _ => {
                return Err(AuroraError::sql(
                    "42704",
                    format!("type \"{name}\" does not exist"),
                ));
            }
        })
    }

    /// Whether a `serial` pseudo-type was written (the column gets a sequence default).
    pub fn is_serial_name(t: &ast::DataType) -> bool {
        matches!(t, ast::DataType::Custom(name, _)
            if matches!(name.to_string().to_lowercase().as_str(),
                "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"))
    }

    /// PostgreSQL's type category.
    pub fn category(&self) -> Category {
        match self {
            DataType::Bool => Category::Bool,
            DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Numeric(_)
            | DataType::Float4
            | DataType::Float8 => Category::Numeric,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Unknown => {
                Category::String
            }
            DataType::Date | DataType::Time | DataType::Timestamp | DataType::TimestampTz => {
                Category::DateTime
            }
            DataType::Interval => Category::Timespan,
            _ => Category::Other,
        }
    }

    /// Rank among numeric types for promotion (int2 < int4 < int8 < numeric < float4 < float8).
    pub fn numeric_rank(&self) -> Option<u8> {
        Some(match self {
            DataType::Int2 => 0,
            DataType::Int4 => 1,
            DataType::Int8 => 2,
            DataType::Numeric(_) => 3,
            DataType::Float4 => 4,
            DataType::Float8 => 5,
            _ => return None,
        })
    }

    /// Whether this is one of the string types.
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_)
        )
    }

    /// The type two values are converted to when combined (UNION, CASE, COALESCE, comparison).
    /// `None` when PostgreSQL would refuse to combine them.
    pub fn common(a: &DataType, b: &DataType) -> Option<DataType> {
        if a == b {
            return Some(a.clone());
        }
        match (a, b) {
            (DataType::Unknown, t) | (t, DataType::Unknown) => Some(if t == &DataType::Unknown {
                DataType::Text
            } else {
                t.clone()
            }),
            _ => {
                if let (Some(ra), Some(rb)) = (a.numeric_rank(), b.numeric_rank()) {
                    let t = if ra >= rb { a } else { b };
                    return Some(match t {
                        DataType::Numeric(_) => DataType::Numeric(None),
                        t => t.clone(),
                    });
                }
                if a.is_string() && b.is_string() {
                    return Some(DataType::Text);
                }
                match (a, b) {
                    (DataType::Date, DataType::Timestamp)
                    | (DataType::Timestamp, DataType::Date) => Some(DataType::Timestamp),
                    (DataType::TimestampTz, DataType::Timestamp | DataType::Date)
                    | (DataType::Timestamp | DataType::Date, DataType::TimestampTz) => {
                        Some(DataType::TimestampTz)
                    }
                    (DataType::Json, DataType::Jsonb) | (DataType::Jsonb, DataType::Json) => {
                        Some(DataType::Jsonb)
                    }
                    _ => None,
                }
            }
        }
    }

    /// The OID PostgreSQL assigns the type (for drivers and `pg_type` lookups).
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Bytea => 17,
            DataType::Int8 => 20,
            DataType::Int2 => 21,
            DataType::Int4 => 23,
            DataType::Text | DataType::Unknown => 25,
            DataType::Json => 114,
            DataType::Float4 => 700,
            DataType::Float8 => 701,
            DataType::Char(_) => 1042,
            DataType::Varchar(_) => 1043,
            DataType::Date => 1082,
            DataType::Time => 1083,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Interval => 1186,
            DataType::Numeric(_) => 1700,
            DataType::Uuid => 2950,
            DataType::Jsonb => 3802,
            DataType::Array(inner) => match **inner {
                DataType::Int4 => 1007,
                DataType::Int8 => 1016,
                DataType::Text => 1009,
                _ => 2277,
            },
        }
    }

    /// The name `information_schema.columns.data_type` reports (no modifiers).
    pub fn base_name(&self) -> String {
        match self {
            DataType::Varchar(_) => "character varying".into(),
            DataType::Char(_) => "character".into(),
            DataType::Numeric(_) => "numeric".into(),
            DataType::Array(_) => "ARRAY".into(),
            other => other.to_string(),
        }
    }
}

fn char_len(len: &Option<ast::CharacterLength>) -> Option<u32> {
    match len {
        Some(ast::CharacterLength::IntegerLength { length, .. }) => Some(*length as u32),
        _ => None,
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataType::Bool => f.write_str("boolean"),
            DataType::Int2 => f.write_str("smallint"),
            DataType::Int4 => f.write_str("integer"),
            DataType::Int8 => f.write_str("bigint"),
            DataType::Numeric(None) => f.write_str("numeric"),
            DataType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            DataType::Float4 => f.write_str("real"),
            DataType::Float8 => f.write_str("double precision"),
            DataType::Text => f.write_str("text"),
            DataType::Varchar(None) => f.write_str("character varying"),
            DataType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            DataType::Char(n) => write!(f, "character({n})"),
            DataType::Bytea => f.write_str("bytea"),
            DataType::Date => f.write_str("date"),
            DataType::Time => f.write_str("time without time zone"),
            DataType::Timestamp => f.write_str("timestamp without time zone"),
            DataType::TimestampTz => f.write_str("timestamp with time zone"),
            DataType::Interval => f.write_str("interval"),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Jsonb => f.write_str("jsonb"),
            DataType::Json => f.write_str("json"),
            DataType::Array(inner) => write!(f, "{inner}[]"),
            DataType::Unknown => f.write_str("unknown"),
        }
    }
}
