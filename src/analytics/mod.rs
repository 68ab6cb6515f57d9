//! Case metrics from the read model: the aggregates a commit maintains ([`aggregate`]) and the
//! reports built from them ([`model`]).

pub mod aggregate;
pub mod codes;
pub mod model;
pub mod read;
pub mod report;
