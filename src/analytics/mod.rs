//! Case metrics as users read them: reports built from the aggregates every case's commit
//! maintains (what a case contributes is the pure core's, `projection::contribution`; how the
//! aggregates are stored is the store's, `store::codes`).

pub mod model;
pub mod read;
pub mod report;
pub mod source;
