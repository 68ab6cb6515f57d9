//! Structured sequences of one case's events through the pure per-case decision.
#![no_main]

use cases_projector_fuzz::checks::{Spec, check_decide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|spec: Spec| {
    check_decide(&spec);
});
