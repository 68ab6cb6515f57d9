//! Typed Amazon Connect Cases events, as EventBridge delivers them.
//!
//! Wire shapes follow `case-events.md` and the Cases API model. Parsing is strict about what
//! the projector needs (ids, times, the domain ARN) and lenient about everything else: unknown
//! JSON fields are ignored and unknown event or related-item types become explicit `Unknown`
//! variants, so a new AWS feature never turns into a poison message.
//!
//! Normalised once, here: times are truncated to the millisecond (what the read model stores),
//! and ids are checked against the Cases service model's length limits. A [`ParseError`] names
//! the JSON path and what was expected, never a value from the payload.

mod content;
mod error;
mod fields;
mod ids;
mod input;
mod wire;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use error::{IdLimit, IdProblem, ParseError};
pub use ids::{CASE_ID, DOMAIN_ID, EVENT_ID, RELATED_ITEM_ID, TEMPLATE_ID};
pub use input::{Invocation, Record, parse_invocation};
pub use wire::{parse_event, parse_event_value};

/// One case or related-item event, validated and flattened out of its EventBridge envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    /// EventBridge event id: unique per event, the idempotency key.
    pub id: String,
    pub domain_id: String,
    pub case_id: String,
    /// `detail.approximateChangeTime`: the ordering key, millisecond precision.
    pub changed_at: DateTime<Utc>,
    pub performed_by: Option<PerformedBy>,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Case(CaseChange),
    RelatedItem(RelatedItemChange),
    /// An `eventType` this version does not know. Later stages skip it with a log line.
    Unknown {
        event_type: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Created,
    Updated,
    Deleted,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Created => "CREATED",
            Operation::Updated => "UPDATED",
            Operation::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseChange {
    pub operation: Operation,
    pub template_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub changed_field_ids: Vec<String>,
    /// Field values as they are after the change; `None` for a metadata-only event.
    pub fields: Option<BTreeMap<String, FieldValue>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelatedItemChange {
    pub operation: Operation,
    pub changed_attributes: Vec<String>,
    pub item: RelatedItem,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelatedItem {
    pub id: String,
    pub item_type: RelatedItemType,
    pub created_at: Option<DateTime<Utc>>,
    /// Present only when the domain's event configuration includes related-item content.
    pub content: Option<RelatedItemContent>,
}

/// The value union shared by events and GetCase (`FieldValueUnion`).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    String(String),
    Double(f64),
    Boolean(bool),
    /// `emptyValue: {}`: the field was explicitly emptied.
    Empty,
    UserArn(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerformedBy {
    User {
        user_arn: String,
        iam_principal_arn: Option<String>,
    },
    CustomEntity {
        custom_entity: String,
        iam_principal_arn: Option<String>,
    },
    IamPrincipal {
        iam_principal_arn: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelatedItemType {
    Contact,
    Comment,
    File,
    Sla,
    ConnectCase,
    Custom,
    /// A type this version does not know, kept verbatim.
    Unknown(String),
}

impl RelatedItemType {
    /// Case-insensitive: `Comment` (docs) and `comment` (AWS samples) both occur.
    pub fn parse(raw: &str) -> Self {
        match raw.to_ascii_lowercase().as_str() {
            "contact" => Self::Contact,
            "comment" => Self::Comment,
            "file" => Self::File,
            "sla" => Self::Sla,
            "connectcase" => Self::ConnectCase,
            "custom" => Self::Custom,
            _ => Self::Unknown(raw.to_owned()),
        }
    }

    /// The canonical spelling (the API enum), used in the read model.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Contact => "Contact",
            Self::Comment => "Comment",
            Self::File => "File",
            Self::Sla => "Sla",
            Self::ConnectCase => "ConnectCase",
            Self::Custom => "Custom",
            Self::Unknown(raw) => raw,
        }
    }

    /// The key under which the event carries this type's content.
    fn content_key(&self) -> Option<&'static str> {
        Some(match self {
            Self::Contact => "contact",
            Self::Comment => "comment",
            Self::File => "file",
            Self::Sla => "sla",
            Self::ConnectCase => "connectCase",
            Self::Custom => "custom",
            Self::Unknown(_) => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RelatedItemContent {
    Contact {
        contact_arn: String,
        channel: Option<String>,
    },
    /// The body is customer content: it is never logged, and stored only when configured.
    Comment {
        body: String,
        content_type: Option<String>,
    },
    File {
        file_arn: String,
    },
    Sla {
        name: String,
        sla_type: Option<String>,
        status: Option<String>,
        target_time: Option<String>,
        completion_time: Option<String>,
    },
    ConnectCase {
        case_id: String,
    },
    /// Free-form fields: customer content, stored only when configured.
    Custom {
        fields: BTreeMap<String, FieldValue>,
    },
}

impl CaseEvent {
    /// `CASE.UPDATED`-style name for logs and reports.
    pub fn event_type(&self) -> String {
        match &self.change {
            Change::Case(c) => format!("CASE.{}", c.operation.as_str()),
            Change::RelatedItem(r) => format!("RELATED_ITEM.{}", r.operation.as_str()),
            Change::Unknown { event_type } => event_type.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
