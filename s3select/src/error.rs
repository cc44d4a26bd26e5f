//! The crate's one error type: every S3 and S3 Select error with its AWS code, message and
//! HTTP status.
//!
//! Messages are the texts S3 documents for each code. Errors that S3 reports with extra
//! elements (`<BucketName>`, `<Key>`, `<ArgumentName>` …) expose them through
//! [`Error::details`], so the wire layer can add them to the XML body without matching variants.

use nubis_core::ServiceError;

/// Where in an SQL expression a parse error happened (1-based, as S3 reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// Every error the S3 engine and the S3 Select engine raise.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bucket does not exist.
    #[error("The specified bucket does not exist")]
    NoSuchBucket {
        /// The bucket name.
        bucket: String,
    },
    /// The key does not exist.
    #[error("The specified key does not exist.")]
    NoSuchKey {
        /// The key.
        key: String,
    },
    /// The multipart upload does not exist.
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload {
        /// The upload id.
        upload_id: String,
    },
    /// The bucket name breaks S3's naming rules.
    #[error("The specified bucket is not valid.")]
    InvalidBucketName {
        /// The rejected name.
        bucket: String,
    },
    /// The caller already owns a bucket with this name (every region but us-east-1).
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou {
        /// The bucket name.
        bucket: String,
    },
    /// The bucket still holds objects or uploads.
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty {
        /// The bucket name.
        bucket: String,
    },
    /// The location constraint names no region, or a region other than the endpoint's.
    #[error("{message}")]
    InvalidLocationConstraint {
        /// What is wrong.
        message: String,
    },
    /// A bucket in another region was addressed through this region's endpoint.
    #[error(
        "The {location} location constraint is incompatible for the region specific endpoint this request was sent to."
    )]
    IllegalLocationConstraint {
        /// The requested location.
        location: String,
    },
    /// An argument S3 rejects, named.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
        /// The argument's name.
        name: String,
        /// The argument's value.
        value: String,
    },
    /// A request S3 refuses as a whole.
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// The storage class is not one S3 knows.
    #[error("The storage class you specified is not valid")]
    InvalidStorageClass {
        /// The rejected class.
        class: String,
    },
    /// The range lies outside the object.
    #[error("The requested range is not satisfiable")]
    InvalidRange {
        /// The object's size.
        size: u64,
        /// The requested range.
        range: String,
    },
    /// An `If-Match`/`If-Unmodified-Since` condition failed.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed {
        /// The header that failed.
        condition: String,
    },
    /// An `If-None-Match`/`If-Modified-Since` condition says the client's copy is current.
    #[error("Not Modified")]
    NotModified,
    /// A part other than the last is smaller than 5 MB.
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall {
        /// The part's size.
        size: u64,
        /// The minimum.
        min: u64,
    },
    /// An object larger than S3 allows in one request.
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge {
        /// The proposed size.
        size: u64,
        /// The maximum.
        max: u64,
    },
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    #[error(
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    )]
    InvalidPart {
        /// The part number.
        part_number: u32,
    },
    /// The parts of CompleteMultipartUpload are not in ascending order.
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    /// The object is archived (GET, copy or select of a GLACIER/DEEP_ARCHIVE object not restored).
    #[error("{message}")]
    InvalidObjectState {
        /// What is wrong.
        message: String,
        /// The object's storage class.
        storage_class: String,
    },
    /// A restore of this object is already running.
    #[error("Object restore is already in progress")]
    RestoreAlreadyInProgress,
    /// A request body is not the XML S3 expects.
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedXml,
    /// The `Content-MD5` header does not match the body.
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadDigest,
    /// The `Content-MD5` header is not base64 of 16 bytes.
    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,
    /// User metadata over 2 KB.
    #[error("Your metadata headers exceed the maximum allowed metadata size.")]
    MetadataTooLarge {
        /// The metadata size in bytes.
        size: usize,
    },
    /// A key over 1024 bytes.
    #[error("Your key is too long")]
    KeyTooLong {
        /// The key's length.
        len: usize,
    },
    /// The method is not allowed on this resource.
    #[error("The specified method is not allowed against this resource.")]
    MethodNotAllowed {
        /// The method.
        method: String,
        /// The resource type.
        resource: String,
    },
    /// A header or feature Nubis implements no behaviour for (S3's own `NotImplemented`).
    #[error("A header you provided implies functionality that is not implemented")]
    NotImplemented {
        /// The header or parameter.
        header: String,
    },
    /// The continuation token was not issued by ListObjectsV2 for this bucket.
    #[error("The continuation token provided is incorrect")]
    InvalidContinuationToken,
    /// An internal invariant failed; never expected.
    #[error("We encountered an internal error. Please try again.")]
    Internal,
    /// An S3 Select error: one of the documented codes, with its message and position.
    #[error("{message}")]
    Select {
        /// The S3 Select error code (`ParseUnexpectedToken`, `CastFailed` …).
        code: &'static str,
        /// The message.
        message: String,
        /// Where in the SQL expression, for parse errors.
        position: Option<Position>,
        /// The HTTP status (400 for nearly all).
        status: u16,
    },
}

impl Error {
    /// An S3 Select error with status 400.
    pub fn select(code: &'static str, message: impl Into<String>) -> Self {
        Error::Select {
            code,
            message: message.into(),
            position: None,
            status: 400,
        }
    }

    /// An S3 Select parse error at `position`.
    pub fn parse(code: &'static str, message: impl Into<String>, position: Position) -> Self {
        Error::Select {
            code,
            message: message.into(),
            position: Some(position),
            status: 400,
        }
    }

    /// `InvalidArgument` for `name` = `value`.
    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Error::InvalidArgument {
            message: message.into(),
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    /// Extra XML elements S3 adds to this error's body (`BucketName`, `Key`, `UploadId` …).
    pub fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Error::NoSuchBucket { bucket }
            | Error::InvalidBucketName { bucket }
            | Error::BucketAlreadyOwnedByYou { bucket }
            | Error::BucketNotEmpty { bucket } => vec![("BucketName", bucket.clone())],
            Error::NoSuchKey { key } => vec![("Key", key.clone())],
            Error::NoSuchUpload { upload_id } => vec![("UploadId", upload_id.clone())],
            Error::InvalidArgument { name, value, .. } => {
                vec![
                    ("ArgumentName", name.clone()),
                    ("ArgumentValue", value.clone()),
                ]
            }
            Error::InvalidRange { size, range } => {
                vec![
                    ("RangeRequested", range.clone()),
                    ("ActualObjectSize", size.to_string()),
                ]
            }
            Error::PreconditionFailed { condition } => vec![("Condition", condition.clone())],
            Error::EntityTooSmall { size, min } => {
                vec![
                    ("ProposedSize", size.to_string()),
                    ("MinSizeAllowed", min.to_string()),
                ]
            }
            Error::EntityTooLarge { size, max } => {
                vec![
                    ("ProposedSize", size.to_string()),
                    ("MaxSizeAllowed", max.to_string()),
                ]
            }
            Error::InvalidObjectState { storage_class, .. } => {
                vec![("StorageClass", storage_class.clone())]
            }
            Error::InvalidStorageClass { class } => vec![("StorageClassRequested", class.clone())],
            Error::MethodNotAllowed { method, resource } => {
                vec![
                    ("Method", method.clone()),
                    ("ResourceType", resource.clone()),
                ]
            }
            Error::NotImplemented { header } => vec![("Header", header.clone())],
            Error::Select {
                position: Some(p), ..
            } => {
                vec![
                    ("LineNumber", p.line.to_string()),
                    ("ColumnNumber", p.column.to_string()),
                ]
            }
            _ => Vec::new(),
        }
    }
}

impl ServiceError for Error {
    fn code(&self) -> &str {
        match self {
            Error::NoSuchBucket { .. } => "NoSuchBucket",
            Error::NoSuchKey { .. } => "NoSuchKey",
            Error::NoSuchUpload { .. } => "NoSuchUpload",
            Error::InvalidBucketName { .. } => "InvalidBucketName",
            Error::BucketAlreadyOwnedByYou { .. } => "BucketAlreadyOwnedByYou",
            Error::BucketNotEmpty { .. } => "BucketNotEmpty",
            Error::InvalidLocationConstraint { .. } => "InvalidLocationConstraint",
            Error::IllegalLocationConstraint { .. } => "IllegalLocationConstraintException",
            Error::InvalidArgument { .. } => "InvalidArgument",
            Error::InvalidRequest { .. } => "InvalidRequest",
            Error::InvalidStorageClass { .. } => "InvalidStorageClass",
            Error::InvalidRange { .. } => "InvalidRange",
            Error::PreconditionFailed { .. } => "PreconditionFailed",
            Error::NotModified => "NotModified",
            Error::EntityTooSmall { .. } => "EntityTooSmall",
            Error::EntityTooLarge { .. } => "EntityTooLarge",
            Error::InvalidPart { .. } => "InvalidPart",
            Error::InvalidPartOrder => "InvalidPartOrder",
            Error::InvalidObjectState { .. } => "InvalidObjectState",
            Error::RestoreAlreadyInProgress => "RestoreAlreadyInProgress",
            Error::MalformedXml => "MalformedXML",
            Error::BadDigest => "BadDigest",
            Error::InvalidDigest => "InvalidDigest",
            Error::MetadataTooLarge { .. } => "MetadataTooLarge",
            Error::KeyTooLong { .. } => "KeyTooLongError",
            Error::MethodNotAllowed { .. } => "MethodNotAllowed",
            Error::NotImplemented { .. } => "NotImplemented",
            Error::InvalidContinuationToken => "InvalidArgument",
            Error::Internal => "InternalError",
            Error::Select { code, .. } => code,
        }
    }

    fn status(&self) -> u16 {
        match self {
            Error::NoSuchBucket { .. } | Error::NoSuchKey { .. } | Error::NoSuchUpload { .. } => {
                404
            }
            Error::BucketAlreadyOwnedByYou { .. }
            | Error::BucketNotEmpty { .. }
            | Error::RestoreAlreadyInProgress => 409,
            Error::InvalidRange { .. } => 416,
            Error::PreconditionFailed { .. } => 412,
            Error::NotModified => 304,
            Error::InvalidObjectState { .. } => 403,
            Error::MethodNotAllowed { .. } => 405,
            Error::NotImplemented { .. } => 501,
            Error::Internal => 500,
            Error::Select { status, .. } => *status,
            _ => 400,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
