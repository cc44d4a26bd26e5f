//! nubis-aurora: being built (see docs/aurora.md).
