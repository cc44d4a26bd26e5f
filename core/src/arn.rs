//! Amazon Resource Names: parse and format every shape the engines use.
//!
//! `arn:partition:service:region:account-id:resource`, where `resource` may itself contain
//! `:` and `/` (`table/Music/stream/2026-01-01T00:00:00.000`, `function:f:PROD`,
//! `cluster:my-db`). Region and account may be empty (`arn:aws:s3:::bucket/key`); account may be
//! `aws` for AWS-managed resources. Guarantee: for every `Arn` value `a`,
//! `a.to_string().parse::<Arn>() == Ok(a)`.

use std::fmt;
use std::str::FromStr;

use crate::{AccountId, Error, Partition, Region};

/// A parsed ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    partition: Partition,
    service: String,
    region: Option<Region>,
    account: ArnAccount,
    resource: String,
}

/// The account field of an ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArnAccount {
    /// Empty (S3 buckets, global resources).
    None,
    /// `aws`, for AWS-managed resources such as managed IAM policies.
    Aws,
    /// A twelve-digit account.
    Id(AccountId),
}

impl Arn {
    /// Builds an ARN for a regional resource owned by an account.
    pub fn new(
        service: &str,
        region: &Region,
        account: AccountId,
        resource: impl Into<String>,
    ) -> Self {
        Arn {
            partition: region.partition(),
            service: service.to_owned(),
            region: Some(region.clone()),
            account: ArnAccount::Id(account),
            resource: resource.into(),
        }
    }

    /// Builds an ARN with every field given.
    pub fn from_parts(
        partition: Partition,
        service: &str,
        region: Option<Region>,
        account: ArnAccount,
        resource: impl Into<String>,
    ) -> Result<Self, Error> {
        let arn = Arn {
            partition,
            service: service.to_owned(),
            region,
            account,
            resource: resource.into(),
        };
        // Validate through the one parser so both constructors enforce the same rules.
        arn.to_string().parse()
    }

    /// The partition.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The service namespace (`dynamodb`, `s3`, `lambda`, `rds`, …).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region, if the ARN has one.
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }

    /// The account field.
    pub fn account(&self) -> ArnAccount {
        self.account
    }

    /// The account id, if the ARN names one.
    pub fn account_id(&self) -> Option<AccountId> {
        match self.account {
            ArnAccount::Id(a) => Some(a),
            _ => None,
        }
    }

    /// Everything after the fifth `:`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource type and the rest, split at the first `/` or `:`
    /// (`table/Music` gives `("table", "Music")`; a bare `bucket` gives `("", "bucket")`).
    pub fn resource_parts(&self) -> (&str, &str) {
        match self.resource.find(['/', ':']) {
            Some(i) => (&self.resource[..i], &self.resource[i + 1..]),
            None => ("", &self.resource),
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:", self.partition, self.service)?;
        if let Some(r) = &self.region {
            f.write_str(r.as_str())?;
        }
        f.write_str(":")?;
        match self.account {
            ArnAccount::None => {}
            ArnAccount::Aws => f.write_str("aws")?,
            ArnAccount::Id(a) => f.write_str(a.as_str())?,
        }
        write!(f, ":{}", self.resource)
    }
}

impl FromStr for Arn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidArn {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = s.splitn(6, ':');
        if parts.next() != Some("arn") {
            return Err(bad("an ARN starts with 'arn:'"));
        }
        let partition = parts.next().ok_or_else(|| bad("missing partition"))?;
        let partition: Partition = partition.parse().map_err(|_| bad("unknown partition"))?;
        let service = parts.next().ok_or_else(|| bad("missing service"))?;
        if service.is_empty()
            || !service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("the service must be lowercase letters, digits and '-'"));
        }
        let region = parts.next().ok_or_else(|| bad("missing region"))?;
        let region = if region.is_empty() {
            None
        } else {
            let r = Region::new(region).map_err(|_| bad("unknown region"))?;
            if r.partition() != partition {
                return Err(bad("the region is not in the ARN's partition"));
            }
            Some(r)
        };
        let account = parts.next().ok_or_else(|| bad("missing account"))?;
        let account = match account {
            "" => ArnAccount::None,
            "aws" => ArnAccount::Aws,
            a => {
                ArnAccount::Id(AccountId::new(a).map_err(|_| bad("the account must be 12 digits"))?)
            }
        };
        let resource = parts.next().ok_or_else(|| bad("missing resource"))?;
        if resource.is_empty() {
            return Err(bad("missing resource"));
        }
        Ok(Arn {
            partition,
            service: service.to_owned(),
            region,
            account,
            resource: resource.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes_the_engines_use() {
        for s in [
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music/stream/2026-01-01T00:00:00.000",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Music/backup/01700000000000-abcdef12",
            "arn:aws:dynamodb::123456789012:global-table/Music",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::bucket/path/to/key",
            "arn:aws:lambda:eu-west-1:123456789012:function:my-fn",
            "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:PROD",
            "arn:aws:rds:us-west-2:123456789012:cluster:my-db",
            "arn:aws:rds::123456789012:global-cluster:g1",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::123456789012:role/service-role/lambda",
            "arn:aws-cn:s3:::cn-bucket",
        ] {
            let arn: Arn = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(arn.to_string(), s);
        }
        let arn: Arn = "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:PROD"
            .parse()
            .unwrap();
        assert_eq!(arn.resource_parts(), ("function", "my-fn:PROD"));
    }

    #[test]
    fn bad_arns() {
        for s in [
            "",
            "arn",
            "arn:aws",
            "arn:aws:s3",
            "arn:aws:s3::",
            "arn:aws:s3:::",
            "urn:aws:s3:::b",
            "arn:aws:S3:::b",
            "arn:aws:s3:mars-1::b",
            "arn:aws:s3::12:b",
            "arn:aws-cn:s3:us-east-1::b",
        ] {
            assert!(
                matches!(s.parse::<Arn>(), Err(Error::InvalidArn { .. })),
                "{s}"
            );
        }
    }

    fn arb_arn() -> impl Strategy<Value = Arn> {
        let region = prop_oneof![
            Just(None),
            (0..crate::region::REGIONS.len()).prop_map(|i| Some(crate::region::REGIONS[i].0))
        ];
        let account = prop_oneof![
            Just(ArnAccount::None),
            Just(ArnAccount::Aws),
            "[0-9]{12}".prop_map(|s| ArnAccount::Id(AccountId::new(&s).unwrap()))
        ];
        ("[a-z][a-z0-9-]{0,12}", region, account, "[!-~]{1,40}").prop_map(
            |(service, region, account, resource)| {
                let region = region.map(|r| Region::new(r).unwrap());
                let partition = region
                    .as_ref()
                    .map(Region::partition)
                    .unwrap_or(Partition::Aws);
                Arn {
                    partition,
                    service,
                    region,
                    account,
                    resource,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn arn_round_trips(arn in arb_arn()) {
            prop_assert_eq!(arn.to_string().parse::<Arn>().unwrap(), arn);
        }

        #[test]
        fn garbage_never_panics(s in "\\PC{0,60}") {
            if let Ok(arn) = s.parse::<Arn>() {
                prop_assert_eq!(arn.to_string(), s);
            }
        }
    }
}
