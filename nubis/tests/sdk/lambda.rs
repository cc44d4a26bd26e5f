//! SDK tests for lambda (see docs/).
