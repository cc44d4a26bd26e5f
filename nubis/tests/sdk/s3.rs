//! SDK tests for s3 (see docs/).
