//! The object store: the [`S3`] engine and its operations.

pub mod archive;
pub mod conditions;
pub mod engine;
pub mod list;
pub mod model;
pub mod multipart;
pub mod restore;

pub use archive::{OutputLocation, RestoreObject};
pub use conditions::Conditions;
pub use engine::{
    AccelerateStatus, BucketInfo, CopyObject, DeleteError, GetObject, GetObjectOutput, PutObject,
    S3,
};
pub use list::{ListObjectsV2, ListObjectsV2Output, ListedObject};
pub use model::{ObjectHeaders, ObjectInfo, StorageClass};
pub use multipart::{CreateMultipartUpload, PartInfo, UploadInfo};
pub use restore::{RestoreOutcome, Tier};
