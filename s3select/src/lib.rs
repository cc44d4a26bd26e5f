//! # nubis-s3select
//!
//! An S3 object store (buckets, objects as shared [`bytes::Bytes`], multipart uploads, storage
//! classes, Glacier restores on the injected clock, Transfer Acceleration) and the S3 Select /
//! Glacier Select engine on top of it: S3 Select's SQL dialect with its own error codes,
//! streaming over CSV, JSON and Parquet, GZIP and BZIP2.
//!
//! Key design decision: the SQL engine never materialises rows it does not need. Scanners hand
//! the evaluator borrowed field slices ([`select::eval::Row`]), the binder resolves column names
//! to slots once per query, and the executor reads bounded windows, so a filter over a large
//! CSV object runs at memory speed with bounded memory.
//!
//! ```
//! use bytes::Bytes;
//! use nubis_core::{Env, Region};
//! use nubis_s3select::{S3, PutObject, select::{SelectRequest, InputFormat, CsvInput, FileHeaderInfo}};
//!
//! let s3 = S3::new(Env::default());
//! s3.create_bucket(&Region::US_EAST_1, "data", None).unwrap();
//! s3.put_object(PutObject::new("data", "people.csv", Bytes::from_static(b"name,age\nAda,36\nAlan,41\n"))).unwrap();
//! let input = InputFormat::Csv(CsvInput { file_header_info: FileHeaderInfo::Use, ..Default::default() });
//! let req = SelectRequest::new("SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 40", input);
//! let (out, _stats) = s3.select_object_content_to_end("data", "people.csv", &req).unwrap();
//! assert_eq!(out, b"Alan\n");
//! ```

pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod select;
pub mod store;

pub use bytes;
pub use error::{Error, Position, Result};
pub use nubis_core::ServiceError;
pub use store::*;
