//! The fuzz targets' invariants, shared with `tests/integration/fuzz_regressions.rs` (which includes
//! `checks.rs` by path and replays the seed corpora and every regression through it).
pub mod checks;
