//! SDK tests for neptune (see docs/).
