//! Parse + project one ~2 KB `CASE.UPDATED` event onto a stored case (no I/O).
//! Run: `cargo bench --bench projection`.

use cases_projector::event::parse_event;
use cases_projector::projection::{ProjectionOptions, decide, fold};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// 01-case-created.json with extra fields, to about 2 KB.
fn two_kb_event() -> Vec<u8> {
    let mut event: serde_json::Value =
        serde_json::from_slice(&sample("02-case-updated.json")).unwrap();
    let fields = event["detail"]["case"]["fields"].as_object_mut().unwrap();
    for i in 0..20 {
        fields.insert(
            format!("custom_field_{i:02}"),
            serde_json::json!({"value": {"stringValue": format!("value number {i}")}}),
        );
    }
    let bytes = serde_json::to_vec(&event).unwrap();
    assert!((1800..2600).contains(&bytes.len()), "{} bytes", bytes.len());
    bytes
}

fn parse_and_project(c: &mut Criterion) {
    let options = ProjectionOptions::default();
    let state = fold(
        &[parse_event(&sample("01-case-created.json")).unwrap()],
        &options,
    );
    let bytes = two_kb_event();
    let mut group = c.benchmark_group("case_event_2kb");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse_event(black_box(&bytes)).unwrap())
    });
    group.bench_function("parse_and_project", |b| {
        b.iter(|| {
            let event = parse_event(black_box(&bytes)).unwrap();
            decide(state.as_ref(), &event, &options)
        })
    });
    group.finish();
}

criterion_group!(benches, parse_and_project);
criterion_main!(benches);
