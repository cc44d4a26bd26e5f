//! Opaque pagination tokens, one format for every service.
//!
//! A token carries a JSON value (the position to resume from) and a tag naming the operation that
//! issued it, base64-encoded so clients treat it as opaque. Decoding a token issued by another
//! operation, or a string that is not a token, is [`crate::Error::InvalidToken`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes `position` as an opaque token for operation `tag`.
pub fn encode<T: Serialize>(tag: &str, position: &T) -> String {
    let body = serde_json::json!({ "t": tag, "p": position });
    URL_SAFE_NO_PAD.encode(body.to_string())
}

/// Decodes a token that [`encode`] made for operation `tag`.
pub fn decode<T: DeserializeOwned>(tag: &str, token: &str) -> Result<T, crate::Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| crate::Error::InvalidToken)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| crate::Error::InvalidToken)?;
    if value.get("t").and_then(|t| t.as_str()) != Some(tag) {
        return Err(crate::Error::InvalidToken);
    }
    let position = value.get("p").cloned().ok_or(crate::Error::InvalidToken)?;
    serde_json::from_value(position).map_err(|_| crate::Error::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_strangers() {
        let t = encode("ListTables", &"Music");
        assert_eq!(
            decode::<String>("ListTables", &t).ok().as_deref(),
            Some("Music")
        );
        assert!(decode::<String>("ListBackups", &t).is_err());
        assert!(decode::<String>("ListTables", "not a token").is_err());
    }
}
