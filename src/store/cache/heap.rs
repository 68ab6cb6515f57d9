//! What a cached case state takes on the heap, counted conservatively: every string's capacity,
//! every B-tree node, and the allocator's own overhead per allocation. Checked against a
//! counting allocator in `tests/cache_memory.rs`.

use std::collections::BTreeMap;
use std::mem::size_of;

use crate::event::FieldValue;
use crate::projection::{CaseView, RelatedItemView, Version};

/// Bytes the allocator takes for a request of `n` bytes: glibc malloc adds an 8-byte header,
/// rounds to 16 and hands out 32 at least.
pub fn chunk(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

fn owned(s: &String) -> usize {
    chunk(s.capacity())
}

fn version(v: &Version) -> usize {
    owned(&v.event_id)
}

/// Entries a B-tree node holds at most (std's `CAPACITY`).
const NODE_CAPACITY: usize = 11;
/// Entries every node but the root holds at least (std's `MIN_LEN`).
const NODE_MIN: usize = 5;

/// The nodes of a `BTreeMap<K, V>` of `len` entries, at most: one node up to 11 entries, beyond
/// that one per 5 entries (each non-root node is at least that full), and the internal nodes'
/// edge arrays on top.
pub fn btree_nodes<K, V>(len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    // Parent pointer, index and length, then the key and value arrays.
    let leaf = 16 + NODE_CAPACITY * (size_of::<K>() + size_of::<V>());
    let edges = (NODE_CAPACITY + 1) * size_of::<usize>();
    if len <= NODE_CAPACITY {
        return chunk(leaf);
    }
    let nodes = 1 + (len - 1) / NODE_MIN;
    let internal = 1 + nodes / (NODE_MIN + 1);
    nodes * chunk(leaf) + internal * (chunk(leaf + edges) - chunk(leaf))
}

fn btree<K, V>(map: &BTreeMap<K, V>, entry: impl Fn(&K, &V) -> usize) -> usize {
    btree_nodes::<K, V>(map.len()) + map.iter().map(|(k, v)| entry(k, v)).sum::<usize>()
}

fn value(v: &FieldValue) -> usize {
    match v {
        FieldValue::String(s) | FieldValue::UserArn(s) => owned(s),
        FieldValue::Double(_) | FieldValue::Boolean(_) | FieldValue::Empty => 0,
    }
}

fn values(map: &BTreeMap<String, FieldValue>) -> usize {
    btree(map, |k, v| owned(k) + value(v))
}

fn related_item(item: &RelatedItemView) -> usize {
    let unknown_type = match &item.item_type {
        crate::event::RelatedItemType::Unknown(t) => owned(t),
        _ => 0,
    };
    owned(&item.id)
        + unknown_type
        + version(&item.version)
        + item.content_version.as_ref().map_or(0, version)
        + values(&item.content)
        + item.custom_fields.as_ref().map_or(0, values)
}

/// Heap bytes of `view` (not counting the `CaseView` itself, which lives where it is held).
pub fn case_view(view: &CaseView) -> usize {
    owned(&view.case_id)
        + owned(&view.domain_id)
        + view.template_id.as_ref().map_or(0, owned)
        + view.version.as_ref().map_or(0, version)
        + view.deleted.as_ref().map_or(0, version)
        + btree(&view.fields, |k, f| {
            owned(k) + value(&f.value) + version(&f.version)
        })
        + btree(&view.related_items, |k, item| owned(k) + related_item(item))
        + view.enrichment.as_ref().map_or(0, owned)
        + btree(&view.status_history, |v, s| version(v) + owned(s))
        + view.deferred.as_ref().map_or(0, |d| {
            btree_nodes::<String, ()>(d.fields.len()) + d.fields.iter().map(owned).sum::<usize>()
        })
}
