//! The fuzz targets' invariants under `cargo test` (CI does not run cargo-fuzz; `scripts/fuzz`
//! does the long runs): every seed of `fuzz/corpus/<target>/seed-*`, every finding kept in
//! `fuzz/regressions/<target>/`, the sample events of `events/`, and a few thousand
//! deterministic pseudo-random inputs go through the same checks as the fuzz targets
//! (`fuzz/src/checks.rs`).

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cases_projector::event::{CaseEvent, parse_invocation};
use cases_projector::projection::ProjectionOptions;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files of `dir` (not recursive) whose name starts with `prefix`, sorted.
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n != ".gitkeep")
        })
        .collect();
    out.sort();
    out
}

/// Seeds and regressions of one target.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut all = files(&root().join("fuzz/corpus").join(target), "seed-");
    all.extend(files(&root().join("fuzz/regressions").join(target), ""));
    all
}

fn sample_files() -> Vec<PathBuf> {
    let mut all = files(&root().join("events"), "");
    all.extend(files(&root().join("events/malformed"), ""));
    all.retain(|p| p.extension().is_some_and(|x| x == "json"));
    all
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn parse_invocation_seeds_regressions_and_samples_keep_the_invariants() {
    let inputs: Vec<PathBuf> = inputs("parse_invocation")
        .into_iter()
        .chain(sample_files())
        .collect();
    assert!(inputs.len() > 20, "seed corpus missing");
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| checks::check_invocation_bytes(&bytes));
        assert!(outcome.is_ok(), "{} breaks an invariant", path.display());
    }
}

/// Sample events cut, with bytes flipped and spliced: a cheap stand-in for the fuzzer in CI.
#[test]
fn parse_invocation_mutated_samples_keep_the_invariants() {
    let samples: Vec<Vec<u8>> = sample_files()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let mut rng = Rng(0x00C0_FFEE_0014);
    for round in 0..1500 {
        let mut bytes = samples[round % samples.len()].clone();
        match rng.next() % 4 {
            0 => bytes.truncate((rng.next() as usize) % (bytes.len() + 1)),
            1 => {
                for _ in 0..1 + rng.next() % 8 {
                    let i = (rng.next() as usize) % bytes.len();
                    bytes[i] = rng.next() as u8;
                }
            }
            2 => {
                let other = &samples[(rng.next() as usize) % samples.len()];
                let at = (rng.next() as usize) % bytes.len();
                let from = (rng.next() as usize) % other.len();
                bytes.splice(at..at, other[from..].iter().copied().take(200));
            }
            _ => {
                let i = (rng.next() as usize) % bytes.len();
                let n = 1 + (rng.next() % 16) as usize;
                let junk = rng.bytes(n);
                bytes.splice(i..i, junk);
            }
        }
        let outcome = std::panic::catch_unwind(|| checks::check_invocation_bytes(&bytes));
        assert!(
            outcome.is_ok(),
            "round {round}: mutated input breaks an invariant: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[test]
fn decide_case_seeds_and_regressions_keep_the_invariants() {
    let inputs = inputs("decide_case");
    assert!(!inputs.is_empty(), "seed corpus missing");
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| checks::check_decide_bytes(&bytes));
        assert!(outcome.is_ok(), "{} breaks an invariant", path.display());
    }
}

#[test]
fn decide_case_pseudo_random_specs_keep_the_invariants() {
    let mut rng = Rng(0x0005_EED0_0014);
    for round in 0..3000 {
        let len = 8 + (rng.next() % 600) as usize;
        let bytes = rng.bytes(len);
        let outcome = std::panic::catch_unwind(|| checks::check_decide_bytes(&bytes));
        assert!(outcome.is_ok(), "round {round} breaks an invariant");
    }
}

/// The sample events, grouped by case, through the decision's invariants (both content modes).
#[test]
fn decide_case_on_sample_events_keeps_the_invariants() {
    let mut by_case: BTreeMap<String, Vec<CaseEvent>> = BTreeMap::new();
    for path in files(&root().join("events"), "") {
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let payload = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for record in parse_invocation(payload).into_records() {
            if let Ok(event) = record.event {
                by_case
                    .entry(event.case_id.clone())
                    .or_default()
                    .push(event);
            }
        }
    }
    assert!(by_case.values().map(Vec::len).sum::<usize>() > 20);
    for events in by_case.values() {
        for store_customer_content in [false, true] {
            checks::check_events(
                events,
                &ProjectionOptions {
                    store_customer_content,
                },
            );
        }
    }
}
