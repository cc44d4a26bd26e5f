//! nubis-neptune: being built (see docs/neptune.md).
