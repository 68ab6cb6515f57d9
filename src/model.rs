//! Model types both sides share: the Cases adapter produces them, the read model stores them.

use std::collections::BTreeMap;

/// A field's metadata: what a dashboard needs to show `Status: Closed` instead of ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    pub id: String,
    pub name: String,
    /// `Text`, `Number`, `Boolean`, `DateTime`, `SingleSelect`, `Url`, `User`.
    pub field_type: String,
    /// `System` or `Custom`.
    pub namespace: String,
    /// SingleSelect option value → label.
    pub options: BTreeMap<String, String>,
}
