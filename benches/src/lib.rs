//! Shared helpers for the Nubis benchmarks (data generators).
