//! Glacier restores: the retrieval tiers, how long each takes on the injected clock, and the
//! `x-amz-restore` header.
//!
//! Restores are evaluated lazily: nothing runs in the background; every read compares the
//! clock's `now` with the restore's completion and expiry instants, so a test that advances a
//! `ManualClock` sees a restore finish (and later expire) exactly at the documented times.
//!
//! Times used (the upper ends of the documented ranges, so a client that waits the documented
//! time always finds the restore done): GLACIER — Expedited 5 minutes, Standard 5 hours, Bulk
//! 12 hours; DEEP_ARCHIVE — Standard 12 hours, Bulk 48 hours (Expedited is not offered).
//! The restored copy expires `Days` days after completion, rounded up to the next midnight UTC.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::store::model::StorageClass;

/// A retrieval tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tier {
    /// Minutes.
    Expedited,
    /// Hours (the default).
    #[default]
    Standard,
    /// The cheapest and slowest.
    Bulk,
}

impl Tier {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Expedited => "Expedited",
            Tier::Standard => "Standard",
            Tier::Bulk => "Bulk",
        }
    }

    /// How long a restore (or Glacier Select job) of an object in `class` takes on this tier.
    pub fn duration(self, class: StorageClass) -> Result<Duration> {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        let secs = match (class, self) {
            (StorageClass::Glacier, Tier::Expedited) => 5 * MIN,
            (StorageClass::Glacier, Tier::Standard) => 5 * HOUR,
            (StorageClass::Glacier, Tier::Bulk) => 12 * HOUR,
            (StorageClass::DeepArchive, Tier::Standard) => 12 * HOUR,
            (StorageClass::DeepArchive, Tier::Bulk) => 48 * HOUR,
            (StorageClass::DeepArchive, Tier::Expedited) => {
                return Err(Error::InvalidObjectState {
                    message:
                        "Expedited retrievals are not available for the DEEP_ARCHIVE storage class"
                            .into(),
                    storage_class: class.as_str().into(),
                });
            }
            _ => {
                return Err(Error::InvalidObjectState {
                    message: "Restore is not allowed for the object's current storage class".into(),
                    storage_class: class.as_str().into(),
                });
            }
        };
        Ok(Duration::from_secs(secs))
    }
}

impl FromStr for Tier {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "Expedited" => Ok(Tier::Expedited),
            "Standard" => Ok(Tier::Standard),
            "Bulk" => Ok(Tier::Bulk),
            _ => Err(Error::MalformedXml),
        }
    }
}

/// The restore state of an archived object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    /// The tier asked for.
    pub tier: Tier,
    /// When the restored copy becomes readable.
    pub completes: SystemTime,
    /// How many days the copy stays.
    pub days: u32,
}

impl Restore {
    /// When the restored copy goes away: `days` after completion, rounded up to midnight UTC.
    pub fn expires(&self) -> SystemTime {
        let end = self.completes + Duration::from_secs(u64::from(self.days) * 86_400);
        let secs = end
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let rounded = secs.div_ceil(86_400) * 86_400;
        UNIX_EPOCH + Duration::from_secs(rounded)
    }

    /// Whether the restore is still running at `now`.
    pub fn ongoing(&self, now: SystemTime) -> bool {
        now < self.completes
    }

    /// Whether the restored copy can be read at `now`.
    pub fn readable(&self, now: SystemTime) -> bool {
        !self.ongoing(now) && now < self.expires()
    }

    /// Whether the restored copy has expired at `now` (the restore is over and forgotten).
    pub fn expired(&self, now: SystemTime) -> bool {
        now >= self.expires()
    }

    /// The `x-amz-restore` header at `now`, or `None` once the copy has expired.
    pub fn header(&self, now: SystemTime) -> Option<String> {
        if self.ongoing(now) {
            Some("ongoing-request=\"true\"".to_owned())
        } else if self.expired(now) {
            None
        } else {
            Some(format!(
                "ongoing-request=\"false\", expiry-date=\"{}\"",
                nubis_core::clock::to_http_date(self.expires())
            ))
        }
    }
}

/// What a RestoreObject request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// A new restore (or Glacier Select job) started: HTTP 202.
    Accepted,
    /// The object was already restored; its expiry was updated: HTTP 200.
    AlreadyRestored,
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubis_core::{Clock, ManualClock};

    #[test]
    fn restore_lifecycle_on_the_clock() {
        let clock = ManualClock::at_default_epoch();
        let start = clock.now();
        let r = Restore {
            tier: Tier::Standard,
            completes: start + Tier::Standard.duration(StorageClass::Glacier).unwrap(),
            days: 2,
        };
        assert_eq!(r.header(start).as_deref(), Some("ongoing-request=\"true\""));
        clock.advance(Duration::from_secs(5 * 3600));
        let h = r.header(clock.now()).unwrap();
        assert_eq!(
            h,
            "ongoing-request=\"false\", expiry-date=\"Sun, 04 Jan 2026 00:00:00 GMT\""
        );
        assert!(r.readable(clock.now()));
        clock.advance(Duration::from_secs(3 * 86_400));
        assert!(r.expired(clock.now()));
        assert_eq!(r.header(clock.now()), None);
        assert!(Tier::Expedited.duration(StorageClass::DeepArchive).is_err());
        assert!(Tier::Bulk.duration(StorageClass::Standard).is_err());
    }
}
