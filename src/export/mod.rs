//! The projection as Parquet for SQL engines (Athena, DuckDB, anything reading Hive-style
//! Parquet): `case_metrics_daily` (every number of `casesctl report`, per UTC day and group,
//! partitioned by day), and the current-state tables `cases`, `case_fields` and
//! `related_items`. Layout and choices: `docs/export.md`.
//!
//! Pure: [`tables`] (columns, rows from report rows and case states) and [`parquet`] (rows to
//! bytes). Ports: the read model ([`crate::store::PlanExecutor`]) and [`sink::ObjectSink`], with
//! a local-folder adapter ([`sink::LocalDir`]) and S3 ([`s3`]). The run: [`run`].

pub mod lambda;
pub mod parquet;
pub mod run;
pub mod s3;
pub mod sink;
pub mod tables;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing to the destination failed.
    #[error("export destination: {message}")]
    Sink { message: String, retryable: bool },
    /// Rows that do not fit their table: a bug, the same every time.
    #[error("cannot encode Parquet: {0}")]
    Encode(String),
    #[error("invalid export destination: {0}")]
    Destination(String),
}

impl ExportError {
    /// Whether running again can succeed (the state is kept: it goes on where this one stopped).
    pub fn is_retryable(&self) -> bool {
        match self {
            ExportError::Store(e) => e.is_retryable(),
            ExportError::Sink { retryable, .. } => *retryable,
            ExportError::Encode(_) | ExportError::Destination(_) => false,
        }
    }
}
