//! Raw bytes into the invocation parser (EventBridge, SQS, arrays, and the bytes as one SQS
//! body), then the whole projector on the in-memory store.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cases_projector_fuzz::checks::check_invocation_bytes(data);
});
