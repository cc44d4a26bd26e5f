//! SDK tests for aurora (see docs/).
