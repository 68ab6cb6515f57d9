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

/// A template's id and name (ListTemplates), for dashboards to show the name instead of the id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TemplateInfo {
    pub id: String,
    pub name: String,
}

/// Now, at the read model's precision (milliseconds).
pub fn now_ms() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DateTime, Utc};
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now)
}
