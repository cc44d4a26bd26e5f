//! SDK tests for dynamo (see docs/).
