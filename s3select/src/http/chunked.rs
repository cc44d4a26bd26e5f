//! Decoding `aws-chunked` request bodies (`Content-Encoding: aws-chunked`, the streaming
//! SigV4 payloads and the unsigned-payload-with-trailer form the SDKs send with checksums).
//!
//! Guarantees: never panics; a malformed body is `IncompleteBody`-style `InvalidRequest`, and
//! the decoded length is checked against `x-amz-decoded-content-length` when given.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};

fn malformed() -> Error {
    Error::InvalidRequest {
        message: "The aws-chunked request body is malformed".into(),
    }
}

/// Decodes an aws-chunked body; returns the payload.
pub fn decode(body: &[u8], decoded_len: Option<u64>) -> Result<Bytes> {
    let mut out = BytesMut::with_capacity(
        decoded_len
            .unwrap_or(body.len() as u64)
            .min(body.len() as u64) as usize,
    );
    let mut i = 0;
    loop {
        let line_end = memchr::memmem::find(&body[i..], b"\r\n").ok_or_else(malformed)? + i;
        let line = std::str::from_utf8(&body[i..line_end]).map_err(|_| malformed())?;
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| malformed())?;
        i = line_end + 2;
        if size == 0 {
            break;
        }
        let end = i.checked_add(size).ok_or_else(malformed)?;
        if end + 2 > body.len() || &body[end..end + 2] != b"\r\n" {
            return Err(malformed());
        }
        out.extend_from_slice(&body[i..end]);
        i = end + 2;
    }
    if let Some(n) = decoded_len
        && n != out.len() as u64
    {
        return Err(Error::InvalidRequest { message: "You did not provide the number of bytes specified by the Content-Length HTTP header.".into() });
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_signed_and_trailer_forms() {
        let signed = b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=ghi\r\n\r\n";
        assert_eq!(&decode(signed, Some(11)).unwrap()[..], b"hello world");
        let trailer = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        assert_eq!(&decode(trailer, None).unwrap()[..], b"abc");
        assert!(decode(b"zz\r\n", None).is_err());
        assert!(decode(b"5\r\nab", None).is_err());
        assert!(decode(signed, Some(3)).is_err());
    }
}
