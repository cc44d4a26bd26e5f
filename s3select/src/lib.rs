//! nubis-s3select: being built (see docs/s3select.md).
