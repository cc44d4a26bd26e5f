//! The PostgreSQL wire protocol of Aurora clusters, driven by tokio-postgres.
