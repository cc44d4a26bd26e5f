//! AWS accounts and regions: validated newtypes.
//!
//! A [`Region`] is one of the real region codes AWS publishes (commercial, China and GovCloud
//! partitions); anything else is a typed [`crate::Error::InvalidRegion`]. An [`AccountId`] is
//! exactly twelve ASCII digits.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Every region code Nubis accepts, with its partition.
pub const REGIONS: &[(&str, Partition)] = &[
    ("us-east-1", Partition::Aws),
    ("us-east-2", Partition::Aws),
    ("us-west-1", Partition::Aws),
    ("us-west-2", Partition::Aws),
    ("af-south-1", Partition::Aws),
    ("ap-east-1", Partition::Aws),
    ("ap-east-2", Partition::Aws),
    ("ap-south-1", Partition::Aws),
    ("ap-south-2", Partition::Aws),
    ("ap-southeast-1", Partition::Aws),
    ("ap-southeast-2", Partition::Aws),
    ("ap-southeast-3", Partition::Aws),
    ("ap-southeast-4", Partition::Aws),
    ("ap-southeast-5", Partition::Aws),
    ("ap-southeast-7", Partition::Aws),
    ("ap-northeast-1", Partition::Aws),
    ("ap-northeast-2", Partition::Aws),
    ("ap-northeast-3", Partition::Aws),
    ("ca-central-1", Partition::Aws),
    ("ca-west-1", Partition::Aws),
    ("eu-central-1", Partition::Aws),
    ("eu-central-2", Partition::Aws),
    ("eu-west-1", Partition::Aws),
    ("eu-west-2", Partition::Aws),
    ("eu-west-3", Partition::Aws),
    ("eu-south-1", Partition::Aws),
    ("eu-south-2", Partition::Aws),
    ("eu-north-1", Partition::Aws),
    ("il-central-1", Partition::Aws),
    ("me-south-1", Partition::Aws),
    ("me-central-1", Partition::Aws),
    ("mx-central-1", Partition::Aws),
    ("sa-east-1", Partition::Aws),
    ("cn-north-1", Partition::AwsCn),
    ("cn-northwest-1", Partition::AwsCn),
    ("us-gov-east-1", Partition::AwsUsGov),
    ("us-gov-west-1", Partition::AwsUsGov),
];

/// An AWS partition: the namespace a region and an ARN live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// `aws`, the commercial regions.
    Aws,
    /// `aws-cn`, the China regions.
    AwsCn,
    /// `aws-us-gov`, AWS GovCloud (US).
    AwsUsGov,
}

impl Partition {
    /// The partition's name as it appears in ARNs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The DNS suffix of the partition's service endpoints.
    pub const fn dns_suffix(self) -> &'static str {
        match self {
            Partition::AwsCn => "amazonaws.com.cn",
            _ => "amazonaws.com",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Partition {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "aws" => Ok(Partition::Aws),
            "aws-cn" => Ok(Partition::AwsCn),
            "aws-us-gov" => Ok(Partition::AwsUsGov),
            _ => Err(Error::InvalidArn {
                input: s.to_owned(),
                reason: "unknown partition".into(),
            }),
        }
    }
}

/// A validated AWS region code such as `us-east-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(Cow<'static, str>);

impl Region {
    /// A region from a string known at compile time. The code is checked when used through
    /// [`Region::partition`]; prefer [`Region::new`] for input.
    pub const fn from_static(code: &'static str) -> Self {
        Region(Cow::Borrowed(code))
    }

    /// `us-east-1`, the default region.
    pub const US_EAST_1: Region = Region::from_static("us-east-1");

    /// Validates a region code.
    pub fn new(code: &str) -> Result<Self, Error> {
        REGIONS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| Region(Cow::Borrowed(c)))
            .ok_or_else(|| Error::InvalidRegion {
                input: code.to_owned(),
            })
    }

    /// The region code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition the region belongs to.
    pub fn partition(&self) -> Partition {
        REGIONS
            .iter()
            .find(|(c, _)| *c == self.as_str())
            .map(|(_, p)| *p)
            .unwrap_or(Partition::Aws)
    }

    /// Every region Nubis knows.
    pub fn all() -> impl Iterator<Item = Region> {
        REGIONS.iter().map(|(c, _)| Region(Cow::Borrowed(*c)))
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US_EAST_1
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Region::new(s)
    }
}

/// A twelve-digit AWS account id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 12]);

impl AccountId {
    /// `000000000000`, the account local tools conventionally use.
    pub const LOCAL: AccountId = AccountId(*b"000000000000");

    /// Validates an account id: exactly twelve ASCII digits.
    pub fn new(s: &str) -> Result<Self, Error> {
        let bytes = s.as_bytes();
        if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidAccountId {
                input: s.to_owned(),
            });
        }
        let mut out = [0u8; 12];
        out.copy_from_slice(bytes);
        Ok(AccountId(out))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("000000000000")
    }
}

impl Default for AccountId {
    fn default() -> Self {
        AccountId::LOCAL
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        AccountId::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_regions_validate() {
        assert_eq!(
            Region::new("eu-west-1").map(|r| r.partition()).ok(),
            Some(Partition::Aws)
        );
        assert_eq!(
            Region::new("cn-north-1").map(|r| r.partition()).ok(),
            Some(Partition::AwsCn)
        );
        assert!(matches!(
            Region::new("us-east-9"),
            Err(Error::InvalidRegion { .. })
        ));
        assert!(matches!(Region::new(""), Err(Error::InvalidRegion { .. })));
    }

    proptest! {
        #[test]
        fn region_round_trips(i in 0..REGIONS.len()) {
            let code = REGIONS[i].0;
            let r = Region::new(code).unwrap();
            prop_assert_eq!(r.to_string(), code);
            prop_assert_eq!(r.as_str().parse::<Region>().unwrap(), r);
        }

        #[test]
        fn bad_region_strings_are_typed_errors(s in "\\PC{0,20}") {
            match Region::new(&s) {
                Ok(r) => prop_assert!(REGIONS.iter().any(|(c, _)| *c == r.as_str())),
                Err(e) => {
                    let typed = matches!(e, Error::InvalidRegion { .. });
                    prop_assert!(typed);
                }
            }
        }

        #[test]
        fn account_ids(s in "[0-9]{12}", bad in "\\PC{0,14}") {
            prop_assert_eq!(AccountId::new(&s).unwrap().to_string(), s);
            if bad.len() != 12 || !bad.bytes().all(|b| b.is_ascii_digit()) {
                prop_assert!(AccountId::new(&bad).is_err());
            }
        }
    }
}
