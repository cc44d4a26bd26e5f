//! Parsing and checking what CreateTable and UpdateTable are given: key schemas, projections,
//! provisioned throughput.

use crate::error::{Error, Result};
use crate::key::{KeyAttr, KeyType, Schema};
use crate::model::*;
use crate::table::ProjKind;
use crate::validate::Shape;

pub(super) const P: &str = "One or more parameter values were invalid: ";
pub(super) const STREAM_VIEW_TYPES: &[&str] =
    &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

pub(super) fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::Validation(format!("{P}{msg}"))
}

pub(super) fn parse_schema(
    elems: &[KeySchemaElement],
    defs: &[AttributeDefinition],
    index: Option<&str>,
) -> Result<Schema> {
    let ty_of = |name: &str| {
        defs.iter()
            .find(|d| d.attribute_name == name)
            .and_then(|d| KeyType::parse(&d.attribute_type))
    };
    let first = elems
        .first()
        .ok_or_else(|| invalid("Invalid KeySchema: KeySchema is empty"))?;
    if first.key_type != "HASH" {
        return Err(Error::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = elems.get(1) {
        if second.key_type != "RANGE" {
            return Err(Error::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if second.attribute_name == first.attribute_name {
            return Err(Error::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    let attr = |e: &KeySchemaElement| -> Result<KeyAttr> {
        let ty = ty_of(&e.attribute_name).ok_or_else(|| match index {
            Some(ix) => invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}] for index: {ix}",
                e.attribute_name,
                defs.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            )),
            None => invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                elems.iter().map(|e| e.attribute_name.as_str()).collect::<Vec<_>>().join(", "),
                defs.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        })?;
        Ok(KeyAttr {
            name: e.attribute_name.clone(),
            ty,
        })
    };
    Ok(Schema {
        hash: attr(first)?,
        range: elems.get(1).map(attr).transpose()?,
    })
}

pub(super) fn parse_projection(
    p: &Option<Projection>,
    index: &str,
) -> Result<(Projection, ProjKind)> {
    let p = p.clone().unwrap_or_default();
    let kind = match p.projection_type.as_deref() {
        Some("ALL") | Some("KEYS_ONLY") if p.non_key_attributes.is_some() => {
            return Err(invalid(format!(
                "ProjectionType is {}, but NonKeyAttributes is specified",
                p.projection_type.as_deref().unwrap_or_default()
            )));
        }
        Some("ALL") => ProjKind::All,
        Some("KEYS_ONLY") => ProjKind::KeysOnly,
        Some("INCLUDE") => match &p.non_key_attributes {
            Some(v) if !v.is_empty() => ProjKind::Include(v.clone()),
            _ => {
                return Err(invalid(format!(
                    "NonKeyAttributes must be specified when ProjectionType is INCLUDE for index: {index}"
                )));
            }
        },
        Some(other) => return Err(invalid(format!("Unknown ProjectionType: {other}"))),
        None => return Err(invalid("Unknown ProjectionType: null")),
    };
    Ok((p, kind))
}

pub(super) fn throughput(
    t: &Option<ProvisionedThroughput>,
    provisioned: bool,
    index: Option<&str>,
) -> Result<(i64, i64)> {
    match (provisioned, t) {
        (
            true,
            Some(ProvisionedThroughput {
                read_capacity_units: Some(r),
                write_capacity_units: Some(w),
            }),
        ) => Ok((*r, *w)),
        (true, Some(_)) => Err(invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
        (true, None) => Err(match index {
            Some(ix) => invalid(format!(
                "ProvisionedThroughput must be specified for index: {ix}"
            )),
            None => invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ),
        }),
        (false, Some(_)) => Err(match index {
            Some(ix) => invalid(format!(
                "ProvisionedThroughput should not be specified for index: {ix} when BillingMode is PAY_PER_REQUEST"
            )),
            None => invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ),
        }),
        (false, None) => Ok((0, 0)),
    }
}

/// The shape checks CreateTable and UpdateTable share, in the order DynamoDB reports them:
/// billing mode, table class, provisioned throughput, stream view type.
pub(super) fn table_settings_shape(
    s: &mut Shape,
    billing_mode: &Option<String>,
    table_class: &Option<String>,
    throughput: &Option<ProvisionedThroughput>,
    stream: &Option<StreamSpecification>,
) {
    s.one_of(
        "billingMode",
        billing_mode,
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    s.one_of(
        "tableClass",
        table_class,
        &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
    );
    throughput_shape(s, "provisionedThroughput", throughput);
    if let Some(ss) = stream {
        s.one_of(
            "streamSpecification.streamViewType",
            &ss.stream_view_type,
            STREAM_VIEW_TYPES,
        );
    }
}

pub(super) fn throughput_shape(s: &mut Shape, member: &str, t: &Option<ProvisionedThroughput>) {
    if let Some(t) = t {
        s.range(
            &format!("{member}.readCapacityUnits"),
            t.read_capacity_units,
            1,
            i64::MAX,
        );
        s.range(
            &format!("{member}.writeCapacityUnits"),
            t.write_capacity_units,
            1,
            i64::MAX,
        );
    }
}
