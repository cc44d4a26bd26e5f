//! `Range` and the conditional headers of GET/HEAD (and CopyObject's `x-amz-copy-source-if-*`).
//!
//! S3 serves one byte range per request: a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range is
//! honoured; a header it cannot parse (or several ranges) is ignored and the whole object is
//! returned, as S3 does. A range starting past the end is `InvalidRange` (416). Conditions follow
//! RFC 7232's precedence: `If-Match` before `If-Unmodified-Since`, `If-None-Match` before
//! `If-Modified-Since`; dates compare at one-second resolution.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// The conditional headers of a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match`: an ETag (quoted or not) or `*`.
    pub if_match: Option<String>,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`, as an HTTP date.
    pub if_modified_since: Option<String>,
    /// `If-Unmodified-Since`, as an HTTP date.
    pub if_unmodified_since: Option<String>,
}

fn etag_matches(list: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == bare)
}

/// Parses an HTTP date (RFC 7231 IMF-fixdate / RFC 2822); `None` if it is not one (S3 then
/// ignores the condition).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| UNIX_EPOCH + std::time::Duration::from_secs(d.timestamp().max(0) as u64))
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Conditions {
    /// Whether there is any condition.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }

    /// Checks the conditions against an object's ETag and modification time.
    ///
    /// `PreconditionFailed` (412) or `NotModified` (304) when they fail.
    pub fn check(&self, etag: &str, last_modified: SystemTime) -> Result<()> {
        let lm = secs(last_modified);
        if let Some(m) = &self.if_match {
            if !etag_matches(m, etag) {
                return Err(Error::PreconditionFailed {
                    condition: "If-Match".into(),
                });
            }
        } else if let Some(t) = self
            .if_unmodified_since
            .as_deref()
            .and_then(parse_http_date)
            && lm > secs(t)
        {
            return Err(Error::PreconditionFailed {
                condition: "If-Unmodified-Since".into(),
            });
        }
        if let Some(m) = &self.if_none_match {
            if etag_matches(m, etag) {
                return Err(Error::NotModified);
            }
        } else if let Some(t) = self.if_modified_since.as_deref().and_then(parse_http_date)
            && lm <= secs(t)
        {
            return Err(Error::NotModified);
        }
        Ok(())
    }

    /// The same checks for CopyObject's source, where every failure is `PreconditionFailed`.
    pub fn check_copy_source(&self, etag: &str, last_modified: SystemTime) -> Result<()> {
        match self.check(etag, last_modified) {
            Err(Error::NotModified) => Err(Error::PreconditionFailed {
                condition: if self.if_none_match.is_some() {
                    "x-amz-copy-source-If-None-Match"
                } else {
                    "x-amz-copy-source-If-Modified-Since"
                }
                .into(),
            }),
            Err(Error::PreconditionFailed { condition }) => Err(Error::PreconditionFailed {
                condition: format!("x-amz-copy-source-{condition}"),
            }),
            other => other,
        }
    }
}

/// Resolves a `Range` header against an object of `size` bytes: `Ok(None)` means the whole
/// object, `Ok(Some((first, last)))` an inclusive byte range.
pub fn resolve_range(header: &str, size: u64) -> Result<Option<(u64, u64)>> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let invalid = || {
        Err(Error::InvalidRange {
            size,
            range: header.to_owned(),
        })
    };
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return invalid();
        }
        let n = n.min(size);
        return Ok(Some((size - n, size - 1)));
    }
    let Ok(first) = a.parse::<u64>() else {
        return Ok(None);
    };
    let last = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(l) if l >= first => l,
            _ => return Ok(None),
        }
    };
    if first >= size {
        return invalid();
    }
    Ok(Some((first, last.min(size - 1))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ranges() {
        assert_eq!(resolve_range("bytes=0-4", 10).unwrap(), Some((0, 4)));
        assert_eq!(resolve_range("bytes=5-", 10).unwrap(), Some((5, 9)));
        assert_eq!(resolve_range("bytes=-3", 10).unwrap(), Some((7, 9)));
        assert_eq!(resolve_range("bytes=-30", 10).unwrap(), Some((0, 9)));
        assert_eq!(resolve_range("bytes=3-100", 10).unwrap(), Some((3, 9)));
        assert_eq!(resolve_range("bytes=0-1,3-4", 10).unwrap(), None);
        assert_eq!(resolve_range("items=0-1", 10).unwrap(), None);
        assert!(resolve_range("bytes=10-", 10).is_err());
        assert!(resolve_range("bytes=0-0", 0).is_err());
    }

    #[test]
    fn conditions_follow_rfc7232() {
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let c = Conditions {
            if_match: Some("\"abc\"".into()),
            ..Default::default()
        };
        assert!(c.check("\"abc\"", t).is_ok());
        assert!(matches!(
            c.check("\"xyz\"", t),
            Err(Error::PreconditionFailed { .. })
        ));
        let c = Conditions {
            if_none_match: Some("abc".into()),
            ..Default::default()
        };
        assert_eq!(c.check("\"abc\"", t), Err(Error::NotModified));
        let c = Conditions {
            if_modified_since: Some("Thu, 01 Jan 2026 00:00:00 GMT".into()),
            ..Default::default()
        };
        assert_eq!(c.check("\"abc\"", t), Err(Error::NotModified));
        let c = Conditions {
            if_unmodified_since: Some("Wed, 31 Dec 2025 00:00:00 GMT".into()),
            ..Default::default()
        };
        assert!(c.check("\"abc\"", t).is_err());
        // If-Match wins over a failing If-Unmodified-Since.
        let c = Conditions {
            if_match: Some("*".into()),
            if_unmodified_since: Some("Wed, 31 Dec 2025 00:00:00 GMT".into()),
            ..Default::default()
        };
        assert!(c.check("\"abc\"", t).is_ok());
    }
}
