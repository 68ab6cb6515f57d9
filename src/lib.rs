//! cases-projector: projects Amazon Connect Cases events into a DynamoDB read model.
//!
//! The crate reads as a map, from pure to impure:
//! - [`event`]: typed Cases events and the invocation shapes that carry them (no AWS SDK);
//! - [`projection`]: the pure decision, event (+ state, + snapshot) → new state and writes;
//! - [`store`]: the read-model port and its DynamoDB adapter;
//! - [`handler`]: one invocation end to end, shared by the Lambda and `casesctl replay`;
//! - [`config`]: settings read once from the environment.

pub mod config;
pub mod connect_cases;
pub mod enrichment;
pub mod event;
pub mod handler;
pub mod local;
pub mod metrics;
pub mod model;
pub mod projection;
pub mod store;
pub mod table;
pub mod telemetry;
pub mod wiring;
