//! Deployment packages: size limits, the zip check, `CodeSha256`, and (for process functions)
//! unpacking into a task root.
//!
//! Guarantees: a package accepted by [`CodePackage::from_zip`] opens as a zip archive, has no entry
//! that escapes its root (`../`, absolute paths), and unpacks to at most 250 MB. A task root is
//! unpacked once per package, lazily, and deleted when the last version using it is dropped.

use std::io::{Cursor, Read};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::{LambdaError, Result};

/// Largest zip accepted directly in a request (50 MB).
pub const MAX_ZIPPED_BYTES: usize = 52_428_800;
/// Largest request body for CreateFunction/UpdateFunctionCode.
pub const MAX_REQUEST_BYTES: usize = 70_167_211;
/// Largest unpacked package (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// Total code storage per region (75 GB).
pub const MAX_TOTAL_CODE_BYTES: u64 = 80_530_636_800;

/// A deployment package, shared by every version that uses it.
#[derive(Debug)]
pub struct CodePackage {
    /// The zip bytes (empty for in-process functions created without code).
    pub zip: Bytes,
    /// Base64 SHA-256 of `zip`.
    pub sha256: String,
    /// Total uncompressed size.
    pub unzipped_size: u64,
    #[cfg(feature = "process")]
    task_root: parking_lot::Mutex<Option<Arc<tempfile::TempDir>>>,
}

impl CodePackage {
    /// An empty package (in-process functions).
    pub fn empty() -> Arc<Self> {
        Arc::new(CodePackage {
            zip: Bytes::new(),
            sha256: sha256_b64(b""),
            unzipped_size: 0,
            #[cfg(feature = "process")]
            task_root: parking_lot::Mutex::new(None),
        })
    }

    /// Checks and wraps zip bytes uploaded for `operation` (`CreateFunction`, `UpdateFunctionCode`).
    pub fn from_zip(zip: Vec<u8>, operation: &str) -> Result<Arc<Self>> {
        if zip.len() > MAX_ZIPPED_BYTES {
            return Err(LambdaError::RequestEntityTooLarge(format!(
                "Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"
            )));
        }
        let unzipped_size = inspect_zip(&zip)?;
        Ok(Arc::new(CodePackage {
            sha256: sha256_b64(&zip),
            zip: Bytes::from(zip),
            unzipped_size,
            #[cfg(feature = "process")]
            task_root: parking_lot::Mutex::new(None),
        }))
    }

    /// Checks and wraps zip bytes read from S3 (no direct-upload size limit).
    pub fn from_zip_unbounded(zip: Vec<u8>) -> Result<Arc<Self>> {
        let unzipped_size = inspect_zip(&zip)?;
        Ok(Arc::new(CodePackage {
            sha256: sha256_b64(&zip),
            zip: Bytes::from(zip),
            unzipped_size,
            #[cfg(feature = "process")]
            task_root: parking_lot::Mutex::new(None),
        }))
    }

    /// The package size as `CodeSize` reports it.
    pub fn size(&self) -> u64 {
        self.zip.len() as u64
    }

    /// The unpacked task root, unpacking on first use (blocking IO: call from a blocking task).
    #[cfg(feature = "process")]
    pub fn task_root(&self) -> std::io::Result<Arc<tempfile::TempDir>> {
        let mut slot = self.task_root.lock();
        if let Some(dir) = slot.as_ref() {
            return Ok(Arc::clone(dir));
        }
        let dir = tempfile::Builder::new()
            .prefix("nubis-lambda-task-")
            .tempdir()?;
        let mut archive =
            zip::ZipArchive::new(Cursor::new(&self.zip[..])).map_err(std::io::Error::other)?;
        archive.extract(dir.path()).map_err(std::io::Error::other)?;
        let dir = Arc::new(dir);
        *slot = Some(Arc::clone(&dir));
        Ok(dir)
    }
}

/// Extracts `layers` in order into one new directory — a later layer's file replaces an earlier
/// one's, as in `/opt` — for one execution environment (blocking IO: call from a blocking task).
#[cfg(feature = "process")]
pub(crate) fn extract_layers(layers: &[Arc<CodePackage>]) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("nubis-lambda-opt-")
        .tempdir()?;
    for layer in layers {
        let mut archive =
            zip::ZipArchive::new(Cursor::new(&layer.zip[..])).map_err(std::io::Error::other)?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(std::io::Error::other)?;
            // `enclosed_name` refuses absolute paths and `..`: nothing lands outside the directory.
            let Some(rel) = entry.enclosed_name() else {
                continue;
            };
            let path = dir.path().join(rel);
            if entry.is_dir() {
                std::fs::create_dir_all(&path)?;
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // Replace, not write through: an earlier layer's file may be read-only.
            let _ = std::fs::remove_file(&path);
            let mut out = std::fs::File::create(&path)?;
            std::io::copy(&mut entry, &mut out)?;
            #[cfg(unix)]
            if let Some(mode) = entry.unix_mode() {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
        }
    }
    Ok(dir)
}

/// Base64 of the SHA-256 of `bytes` (`CodeSha256`).
pub fn sha256_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

fn unzip_error() -> LambdaError {
    LambdaError::InvalidParameterValue(
        "Could not unzip uploaded file. Please check your file, then try to upload again.".into(),
    )
}

/// Opens the archive, checks every entry's path and returns the total uncompressed size.
fn inspect_zip(zip: &[u8]) -> Result<u64> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| unzip_error())?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| unzip_error())?;
        if entry.enclosed_name().is_none() {
            return Err(unzip_error());
        }
        total = total.saturating_add(entry.size());
        if total > MAX_UNZIPPED_BYTES {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )));
        }
    }
    Ok(total)
}

/// Reads one file of a package (SAM and tests use it to look inside).
pub fn read_entry(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).ok()?;
    let mut entry = archive.by_name(name).ok()?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).ok()?;
    Some(out)
}

/// Builds a zip from `(path, contents, unix mode)` entries — for SAM `CodeUri` directories, tests
/// and benches.
pub fn build_zip(entries: &[(&str, &[u8], u32)]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(*name, opts)
            .map_err(|e| LambdaError::InvalidParameterValue(e.to_string()))?;
        w.write_all(data)
            .map_err(|e| LambdaError::InvalidParameterValue(e.to_string()))?;
    }
    let cursor = w
        .finish()
        .map_err(|e| LambdaError::InvalidParameterValue(e.to_string()))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_checked_and_hashed() {
        let zip = build_zip(&[("bootstrap", b"#!/bin/sh\n", 0o755)]).unwrap();
        let pkg = CodePackage::from_zip(zip.clone(), "CreateFunction").unwrap();
        assert_eq!(pkg.sha256, sha256_b64(&zip));
        assert_eq!(pkg.unzipped_size, 10);
        assert_eq!(
            read_entry(&zip, "bootstrap").as_deref(),
            Some(&b"#!/bin/sh\n"[..])
        );
        let err = CodePackage::from_zip(b"not a zip".to_vec(), "CreateFunction").unwrap_err();
        assert!(
            matches!(err, LambdaError::InvalidParameterValue(m) if m.starts_with("Could not unzip"))
        );
        assert_eq!(
            sha256_b64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
