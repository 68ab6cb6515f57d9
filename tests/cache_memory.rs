//! The case cache's budget is of heap: what it charges an entry covers what the entry really
//! takes, as a counting allocator sees it (with glibc's per-allocation overhead), so a cache of
//! `CASE_CACHE_BYTES` holds no more than that.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use cases_projector::event::{FieldValue, RelatedItemType};
use cases_projector::projection::{CaseView, Deferred, RelatedItemView, Version, Versioned};
use cases_projector::store::cache::{CachedStore, entry_bytes, heap};
use cases_projector::store::{CaseCommit, CaseStore, CommitOutcome, StoreError, StoredCase};
use chrono::{DateTime, TimeDelta, Utc};

/// Counts this thread's live heap, each allocation charged as glibc's malloc would.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn charge(bytes: usize, sign: isize) {
    let _ = LIVE.try_with(|l| l.set(l.get() + sign * heap::chunk(bytes) as isize));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size(), 1);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        charge(layout.size(), -1);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        charge(layout.size(), -1);
        charge(new_size, 1);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Heap taken by a clone of `view`, as counted.
fn measured(view: &CaseView) -> usize {
    let before = live();
    let copy = view.clone();
    let taken = live() - before;
    drop(copy);
    taken as usize
}

fn at(i: usize) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::milliseconds(1_700_000_000_000 + i as i64)
}

fn version(i: usize) -> Version {
    Version {
        at: at(i),
        event_id: format!("{:016x}-{i}", i * 7919),
    }
}

/// A case with `fields` fields, `history` status entries and `items` related items.
fn case(n: usize, fields: usize, history: usize, items: usize) -> CaseView {
    let case_id = format!("{n:08x}-5a5a-4000-8000-000000000000");
    let mut view = CaseView {
        case_id: case_id.clone(),
        domain_id: "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into(),
        template_id: Some("tpl".into()),
        created_at: Some(at(0)),
        version: Some(version(history)),
        enrichment: Some("fetched".into()),
        ..CaseView::default()
    };
    for f in 0..fields {
        let value = match f % 4 {
            0 => FieldValue::String(format!("value {f} of case {n}, {}", "x".repeat(f % 60))),
            1 => FieldValue::Double(f as f64),
            2 => FieldValue::Boolean(true),
            _ => FieldValue::Empty,
        };
        view.fields.insert(
            format!("field_{f}"),
            Versioned {
                value,
                version: version(f),
            },
        );
    }
    for h in 0..history {
        let status = if h.is_multiple_of(2) {
            "open"
        } else {
            "closed"
        };
        view.status_history.insert(version(h), status.into());
    }
    for i in 0..items {
        let id = format!("{case_id}-ri-{i}");
        let content: BTreeMap<String, FieldValue> = [
            ("contentType", FieldValue::String("Text/Plain".into())),
            ("channel", FieldValue::String("VOICE".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        view.related_items.insert(
            id.clone(),
            RelatedItemView {
                id,
                item_type: if i % 3 == 0 {
                    RelatedItemType::Unknown("Survey".into())
                } else {
                    RelatedItemType::Comment
                },
                created_at: Some(at(i)),
                version: version(i),
                content_version: Some(version(i)),
                deleted: false,
                custom_fields: (i % 2 == 0).then(|| content.clone()),
                content,
            },
        );
    }
    if n.is_multiple_of(2) {
        view.deferred = Some(Deferred {
            since: at(1),
            fields: (0..3)
                .map(|f| format!("wanted_{f}"))
                .collect::<BTreeSet<_>>(),
        });
    }
    view
}

fn shapes() -> Vec<CaseView> {
    let mut views = Vec::new();
    for (fields, history, items) in [
        (0, 0, 0),
        (1, 1, 0),
        (5, 10, 1),
        (11, 11, 11),
        (12, 40, 3),
        (30, 200, 30),
        (400, 1000, 120),
    ] {
        views.push(case(views.len(), fields, history, items));
    }
    views
}

#[test]
fn what_a_case_state_is_charged_covers_the_heap_it_takes() {
    for view in shapes() {
        let (charged, taken) = (heap::case_view(&view), measured(&view));
        let shape = (
            view.fields.len(),
            view.status_history.len(),
            view.related_items.len(),
        );
        assert!(
            charged >= taken,
            "{shape:?}: charged {charged}, takes {taken}"
        );
        // Conservative, not wasteful: the budget would hold far fewer cases than it could.
        assert!(
            charged <= 2 * taken,
            "{shape:?}: charged {charged}, takes {taken}"
        );
    }
}

/// Serves fixed states, as a table would: every load returns a fresh copy.
struct Fixed(HashMap<String, StoredCase>);

impl CaseStore for Fixed {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        Ok(self.0.get(case_id).cloned())
    }

    async fn commit(&self, _: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        unreachable!("the test only loads")
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_cache_holds_no_more_heap_than_its_budget() {
    const BUDGET: usize = 1 << 20;
    let cases: Vec<StoredCase> = (0..3_000)
        .map(|n| StoredCase {
            view: case(n, 5 + n % 7, n % 25, n % 3),
            revision: 1,
        })
        .collect();
    let total: usize = cases.iter().map(entry_bytes).sum();
    assert!(total > 3 * BUDGET, "the cases outgrow the budget");
    let ids: Vec<String> = cases.iter().map(|c| c.view.case_id.clone()).collect();
    let inner = Fixed(
        cases
            .into_iter()
            .map(|c| (c.view.case_id.clone(), c))
            .collect(),
    );
    let cache = CachedStore::new(inner, BUDGET);
    let before = live();
    let mut peak = 0;
    for id in ids.iter().chain(&ids) {
        let loaded = cache.load(id).await.unwrap();
        drop(loaded);
        peak = peak.max(live() - before);
    }
    assert!(
        peak as usize <= BUDGET,
        "the cache took {peak} bytes of heap for a budget of {BUDGET}"
    );
    // And it uses its budget: the accounting is not so conservative that it holds little.
    assert!(
        peak as usize > BUDGET * 3 / 4,
        "the cache took only {peak} bytes of a budget of {BUDGET}"
    );
}
