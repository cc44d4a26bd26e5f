//! `Filters`, `MaxRecords` and `Marker` of DescribeDBClusters and DescribeDBInstances, with
//! RDS's rules: `MaxRecords` 20–100 (default 100), at most 100 values per filter, filter
//! names each operation documents; a page that is cut short carries a `Marker` (the last
//! identifier returned) that continues after it.

use std::collections::{BTreeMap, HashMap};

use super::error::RdsError;
use super::model::{ClusterView, InstanceView};

/// One `Filters.Filter.N`: a name and the values any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Filter name.
    pub name: String,
    /// Values.
    pub values: Vec<String>,
}

/// Reads `Filters.Filter.N.Name` / `Filters.Filter.N.Values.Value.M` from a form.
pub fn filters(params: &HashMap<String, String>) -> Result<Vec<Filter>, RdsError> {
    let mut by_index: BTreeMap<u32, (Option<String>, BTreeMap<u32, String>)> = BTreeMap::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Filters.Filter.") else {
            continue;
        };
        let (n, field) = rest.split_once('.').unwrap_or((rest, ""));
        let n: u32 = n
            .parse()
            .map_err(|_| RdsError::InvalidParameterValue(format!("Invalid parameter {k}")))?;
        let entry = by_index.entry(n).or_default();
        if field == "Name" {
            entry.0 = Some(v.clone());
        } else if let Some(m) = field.strip_prefix("Values.Value.") {
            let m: u32 = m
                .parse()
                .map_err(|_| RdsError::InvalidParameterValue(format!("Invalid parameter {k}")))?;
            entry.1.insert(m, v.clone());
        }
    }
    by_index
        .into_values()
        .map(|(name, values)| {
            let name = name.ok_or(RdsError::MissingParameter("Filters.Filter.N.Name"))?;
            if values.is_empty() {
                return Err(RdsError::InvalidParameterValue(format!(
                    "Filter {name} requires at least one value"
                )));
            }
            if values.len() > 100 {
                return Err(RdsError::InvalidParameterCombination(
                    "Only up to 100 unique filter values may be specified per filter.".into(),
                ));
            }
            Ok(Filter {
                name,
                values: values.into_values().collect(),
            })
        })
        .collect()
}

/// `MaxRecords` (20–100, default 100) and `Marker`.
pub fn page(params: &HashMap<String, String>) -> Result<(usize, Option<String>), RdsError> {
    let max = match params.get("MaxRecords").filter(|v| !v.is_empty()) {
        None => 100,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (20..=100).contains(&n) => n as usize,
            _ => {
                return Err(RdsError::InvalidParameterValue(format!(
                    "Invalid value {v} for MaxRecords. Must be between 20 and 100"
                )));
            }
        },
    };
    Ok((max, params.get("Marker").filter(|m| !m.is_empty()).cloned()))
}

/// The page after `marker` (items sorted by `key`), and the marker of the next page.
pub fn paginate<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> &str,
    max: usize,
    marker: Option<&str>,
) -> (Vec<T>, Option<String>) {
    items.sort_by(|a, b| key(a).cmp(key(b)));
    if let Some(m) = marker {
        items.retain(|i| key(i) > m);
    }
    let next = (items.len() > max).then(|| key(&items[max - 1]).to_string());
    items.truncate(max);
    (items, next)
}

fn arn_or_id_matches(values: &[String], id: &str, arn: &str) -> bool {
    values.iter().any(|v| v == id || v == arn)
}

/// Whether a cluster passes every filter (names RDS documents for DescribeDBClusters).
pub fn cluster_matches(c: &ClusterView, filters: &[Filter]) -> Result<bool, RdsError> {
    for f in filters {
        let ok = match f.name.as_str() {
            "db-cluster-id" => arn_or_id_matches(&f.values, &c.id, &c.arn),
            "db-cluster-resource-id" => f.values.contains(&c.resource_id),
            "engine" => f.values.contains(&c.engine),
            // No cluster here is a clone or joined to a directory domain.
            "clone-group-id" | "domain" => false,
            other => {
                return Err(RdsError::InvalidParameterValue(format!(
                    "Unrecognized filter name: {other}"
                )));
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether an instance passes every filter (names RDS documents for DescribeDBInstances).
pub fn instance_matches(
    i: &InstanceView,
    cluster_arn: &str,
    filters: &[Filter],
) -> Result<bool, RdsError> {
    for f in filters {
        let ok = match f.name.as_str() {
            "db-cluster-id" => arn_or_id_matches(&f.values, &i.cluster, cluster_arn),
            "db-instance-id" => arn_or_id_matches(&f.values, &i.id, &i.arn),
            "engine" => f.values.contains(&i.engine),
            "dbi-resource-id" | "domain" => false,
            other => {
                return Err(RdsError::InvalidParameterValue(format!(
                    "Unrecognized filter name: {other}"
                )));
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_and_pages_follow_rds_rules() {
        let f = filters(&form(&[
            ("Filters.Filter.1.Name", "engine"),
            ("Filters.Filter.1.Values.Value.2", "b"),
            ("Filters.Filter.1.Values.Value.1", "a"),
        ]))
        .unwrap();
        assert_eq!(
            f,
            vec![Filter {
                name: "engine".into(),
                values: vec!["a".into(), "b".into()]
            }]
        );
        assert!(filters(&form(&[("Filters.Filter.1.Name", "engine")])).is_err());
        assert!(filters(&form(&[("Filters.Filter.x.Name", "engine")])).is_err());
        let e = page(&form(&[("MaxRecords", "5")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value 5 for MaxRecords. Must be between 20 and 100"
        );
        assert_eq!(page(&form(&[])).unwrap(), (100, None));
        let items: Vec<String> = (0..45).map(|i| format!("c{i:02}")).collect();
        let (p1, m1) = paginate(items.clone(), |s| s.as_str(), 20, None);
        assert_eq!((p1.len(), m1.as_deref()), (20, Some("c19")));
        let (p3, m3) = paginate(items, |s| s.as_str(), 20, Some("c39"));
        assert_eq!((p3.len(), m3), (5, None));
    }
}
