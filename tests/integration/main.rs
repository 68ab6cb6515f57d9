//! The integration tests, one module per subject, in one test binary: the shared support (the
//! DynamoDB Local server, the Cases stand-in, generators) is compiled and linked once, and the
//! test harness runs the slow tests of one subject beside the quick ones of another.

#[path = "../support/mod.rs"]
mod support;

mod backfill;
mod casesctl_cli;
mod correctness;
mod dashboard;
mod deployment;
mod edge_cases;
mod enrichment;
mod errors;
mod export;
mod fuzz_regressions;
mod metrics;
mod one_truth;
mod one_truth_regressions;
mod projection_properties;
mod read_model;
mod reconcile;
mod reconciler_lambda;
mod sample_events;
mod standin;
mod written_order;
