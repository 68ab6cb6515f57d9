//! cases-projector: projects Amazon Connect Cases events into a DynamoDB read model.
//!
//! The crate reads as a map, from pure to impure:
//! - [`event`]: typed Cases events and the invocation shapes that carry them (no AWS SDK);
//! - [`projection`]: the pure decision, event (+ state, + snapshot) → new state and writes;
//! - [`store`]: the read-model port and its DynamoDB adapter;
//! - [`projector`]: one invocation end to end (load → decide → commit), shared by the Lambda and
//!   `casesctl replay`; [`report`]: what became of each record;
//! - [`lambda`]: the Lambda adapter (deadline, logs, EMF, the answer Lambda expects);
//! - [`config`]: settings read once from the environment.

pub mod analytics;
pub mod backfill;
pub mod config;
pub mod connect_cases;
pub mod dashboard;
pub mod enrichment;
pub mod event;
pub mod export;
pub mod lambda;
pub mod metrics;
pub mod model;
pub mod projection;
pub mod projector;
pub mod reconcile;
pub mod regroup;
pub mod report;
pub mod sdk_failure;
pub mod store;
pub mod table;
pub mod telemetry;
pub mod widget;
pub mod wiring;
