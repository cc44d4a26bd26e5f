//! TTL settings, tags, limits and endpoints: the small control-plane operations.

use std::sync::Arc;

use crate::engine::{RegionDb, Table};
use crate::error::{Error, Result};
use crate::model::*;
use crate::validate::Shape;

const P: &str = "One or more parameter values were invalid: ";

impl RegionDb {
    /// UpdateTimeToLive.
    pub fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.required("timeToLiveSpecification", &input.time_to_live_specification);
        if let Some(spec) = &input.time_to_live_specification {
            s.name_rules(
                "timeToLiveSpecification.attributeName",
                &spec.attribute_name,
                1,
                255,
            );
        }
        s.finish()?;
        let spec = input.time_to_live_specification.unwrap_or_default();
        let t = self.table_named(input.table_name.as_deref().unwrap_or_default())?;
        let mut st = t.state.write();
        match (&st.def.ttl_attribute, spec.enabled) {
            (Some(_), true) => return Err(Error::validation("TimeToLive is already enabled")),
            (None, false) => return Err(Error::validation("TimeToLive is already disabled")),
            (Some(a), false) if *a != spec.attribute_name => {
                return Err(Error::validation(
                    "The attribute name provided does not match the attribute name of the table's TTL",
                ));
            }
            _ => {}
        }
        st.def.ttl_attribute = spec.enabled.then(|| spec.attribute_name.clone());
        st.rebuild_ttl();
        t.refresh_due(&st);
        Ok(UpdateTimeToLiveOutput {
            time_to_live_specification: Some(spec),
        })
    }

    /// DescribeTimeToLive.
    pub fn describe_time_to_live(&self, input: TableNameInput) -> Result<DescribeTimeToLiveOutput> {
        let mut s = Shape::new();
        s.table_name("tableName", &input.table_name);
        s.finish()?;
        let t = self.table_named(input.table_name.as_deref().unwrap_or_default())?;
        let st = t.state.read();
        let d = match &st.def.ttl_attribute {
            Some(a) => TimeToLiveDescription {
                time_to_live_status: "ENABLED".to_owned(),
                attribute_name: Some(a.clone()),
            },
            None => TimeToLiveDescription {
                time_to_live_status: "DISABLED".to_owned(),
                attribute_name: None,
            },
        };
        Ok(DescribeTimeToLiveOutput {
            time_to_live_description: Some(d),
        })
    }

    fn table_by_arn(&self, arn: &str) -> Result<Arc<Table>> {
        let not_found = || {
            Error::ResourceNotFound(format!(
                "Requested resource not found: ResourcArn: {arn} not found"
            ))
        };
        let prefix = format!(
            "arn:aws:dynamodb:{}:{}:table/",
            self.region.as_str(),
            self.env.account.as_str()
        );
        let Some(rest) = arn.strip_prefix(&prefix) else {
            return Err(Error::validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            )));
        };
        let name = rest.split('/').next().unwrap_or_default();
        self.tables.read().get(name).cloned().ok_or_else(not_found)
    }

    /// TagResource.
    pub fn tag_resource(&self, input: TagResourceInput) -> Result<()> {
        let mut s = Shape::new();
        s.required("resourceArn", &input.resource_arn);
        s.required("tags", &input.tags);
        s.finish()?;
        let tags = input.tags.unwrap_or_default();
        if tags.is_empty() {
            return Err(Error::validation(
                "Atleast one Tag needs to be provided as Input.",
            ));
        }
        let t = self.table_by_arn(input.resource_arn.as_deref().unwrap_or_default())?;
        let mut st = t.state.write();
        for tag in tags {
            if tag.key.is_empty()
                || tag.key.len() > 128
                || tag.value.len() > 256
                || tag.key.starts_with("aws:")
            {
                return Err(Error::validation(format!(
                    "{P}Invalid tag key or value: {}",
                    tag.key
                )));
            }
            match st.def.tags.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => st.def.tags.push(tag),
            }
        }
        if st.def.tags.len() > 50 {
            return Err(Error::LimitExceeded(
                "The number of tags on the resource exceeds the limit of 50".to_owned(),
            ));
        }
        Ok(())
    }

    /// UntagResource.
    pub fn untag_resource(&self, input: UntagResourceInput) -> Result<()> {
        let mut s = Shape::new();
        s.required("resourceArn", &input.resource_arn);
        s.required("tagKeys", &input.tag_keys);
        s.finish()?;
        let keys = input.tag_keys.unwrap_or_default();
        if keys.is_empty() {
            return Err(Error::validation(
                "Atleast one Tag Key needs to be provided as Input.",
            ));
        }
        let t = self.table_by_arn(input.resource_arn.as_deref().unwrap_or_default())?;
        t.state.write().def.tags.retain(|t| !keys.contains(&t.key));
        Ok(())
    }

    /// ListTagsOfResource.
    pub fn list_tags_of_resource(&self, input: ListTagsInput) -> Result<ListTagsOutput> {
        let mut s = Shape::new();
        s.required("resourceArn", &input.resource_arn);
        s.finish()?;
        let t = self.table_by_arn(input.resource_arn.as_deref().unwrap_or_default())?;
        let mut tags = t.state.read().def.tags.clone();
        tags.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(ListTagsOutput {
            tags,
            next_token: None,
        })
    }

    /// DescribeLimits: the default quotas of an AWS account.
    pub fn describe_limits(&self) -> DescribeLimitsOutput {
        DescribeLimitsOutput {
            account_max_read_capacity_units: 80_000,
            account_max_write_capacity_units: 80_000,
            table_max_read_capacity_units: 40_000,
            table_max_write_capacity_units: 40_000,
        }
    }

    /// DescribeEndpoints: the regional endpoint.
    pub fn describe_endpoints(&self) -> DescribeEndpointsOutput {
        DescribeEndpointsOutput {
            endpoints: vec![Endpoint {
                address: format!(
                    "dynamodb.{}.{}",
                    self.region.as_str(),
                    self.region.partition().dns_suffix()
                ),
                cache_period_in_minutes: 1440,
            }],
        }
    }
}
