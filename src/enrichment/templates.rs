//! The pure part of naming templates: which template ids are worth a ListTemplates call, and what
//! to write once it answered. The read model caches each template's name beside the field
//! metadata (`TEMPLATE#<id>` items of `FIELDS#<domain>`), so dashboards show names, not ids.
//!
//! ListTemplates answers every template of a domain at once, so one call names every template
//! an invocation's events name (and the rest of the domain's besides); what it cannot name (a
//! deleted template) is remembered so it is not asked about again.

use std::collections::{BTreeMap, BTreeSet};

use crate::event::{CaseEvent, Change};
use crate::model::TemplateInfo;

/// What is known of a domain's template names: those the read model holds, and the ids a
/// ListTemplates answer of this execution environment did not list (or that a refusal left
/// unnamed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownTemplates {
    /// Template id → name, as stored.
    pub named: BTreeMap<String, String>,
    /// Ids asked about without a name to show for it: not asked about again.
    pub unnamed: BTreeSet<String>,
}

/// What to do after ListTemplates answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateWrites {
    /// Template-name items to write: every listed template whose name the read model lacks or
    /// holds differently (a renamed template), in id order.
    pub put: Vec<TemplateInfo>,
    /// Ids asked about that the answer does not list.
    pub not_listed: BTreeSet<String>,
}

/// The template ids `events` name (case events only), per domain.
pub fn named_templates<'a>(
    events: impl IntoIterator<Item = &'a CaseEvent>,
) -> BTreeMap<&'a str, BTreeSet<String>> {
    let mut by_domain: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in events {
        if let Change::Case(c) = &e.change
            && let Some(id) = c.template_id.as_deref().filter(|id| !id.is_empty())
        {
            by_domain
                .entry(e.domain_id.as_str())
                .or_default()
                .insert(id.to_owned());
        }
    }
    by_domain
}

/// The ids among `ids` worth a ListTemplates call: neither named in the read model nor asked
/// about already.
pub fn to_ask(ids: &BTreeSet<String>, known: &KnownTemplates) -> BTreeSet<String> {
    ids.iter()
        .filter(|id| !known.named.contains_key(*id) && !known.unnamed.contains(*id))
        .cloned()
        .collect()
}

/// What a ListTemplates answer (`listed`) to a call made for `asked` writes.
pub fn writes(
    asked: &BTreeSet<String>,
    listed: &[TemplateInfo],
    known: &KnownTemplates,
) -> TemplateWrites {
    let by_id: BTreeMap<&str, &str> = listed
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    TemplateWrites {
        put: by_id
            .iter()
            .filter(|(id, name)| known.named.get(**id).map(String::as_str) != Some(**name))
            .map(|(id, name)| TemplateInfo {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
            })
            .collect(),
        not_listed: asked
            .iter()
            .filter(|id| !by_id.contains_key(id.as_str()))
            .cloned()
            .collect(),
    }
}

impl KnownTemplates {
    /// Remembers what was written and what could not be named.
    pub fn learn(&mut self, done: &TemplateWrites) {
        for t in &done.put {
            self.named.insert(t.id.clone(), t.name.clone());
            self.unnamed.remove(&t.id);
        }
        self.unnamed.extend(done.not_listed.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn t(id: &str, name: &str) -> TemplateInfo {
        TemplateInfo {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn only_templates_without_a_name_are_asked_about_and_one_answer_names_the_domain() {
        let mut known = KnownTemplates {
            named: [("t1".to_owned(), "Billing".to_owned())].into(),
            unnamed: set(&["gone"]),
        };
        // Named in the read model, or asked about already: no call.
        assert!(to_ask(&set(&["t1", "gone"]), &known).is_empty());
        let asked = to_ask(&set(&["t1", "t2", "t9", "gone"]), &known);
        assert_eq!(asked, set(&["t2", "t9"]));

        // The answer lists t1 (unchanged), t2, t3 (not in these events) and t1's name as stored:
        // t2 and t3 are written, t1 is not; t9 is not listed (deleted meanwhile).
        let listed = [t("t3", "Returns"), t("t1", "Billing"), t("t2", "Shipping")];
        let done = writes(&asked, &listed, &known);
        assert_eq!(done.put, [t("t2", "Shipping"), t("t3", "Returns")]);
        assert_eq!(done.not_listed, set(&["t9"]));
        known.learn(&done);
        assert!(to_ask(&set(&["t1", "t2", "t3", "t9"]), &known).is_empty());

        // A renamed template is written again when a call is made anyway.
        let done = writes(
            &set(&["t4"]),
            &[t("t1", "Billing (old)"), t("t4", "New")],
            &known,
        );
        assert_eq!(done.put, [t("t1", "Billing (old)"), t("t4", "New")]);
        assert!(done.not_listed.is_empty());

        // Nothing listed (an empty domain, a refusal handled as such): nothing to write.
        let done = writes(&set(&["t5"]), &[], &known);
        assert!(done.put.is_empty());
        assert_eq!(done.not_listed, set(&["t5"]));
    }

    #[test]
    fn case_events_name_their_templates_per_domain() {
        use crate::event::{CaseChange, Operation};
        let event = |domain: &str, case: &str, template: Option<&str>| CaseEvent {
            id: format!("e-{case}"),
            domain_id: domain.into(),
            case_id: case.into(),
            changed_at: chrono::DateTime::UNIX_EPOCH,
            performed_by: None,
            change: Change::Case(CaseChange {
                operation: Operation::Updated,
                template_id: template.map(str::to_owned),
                created_at: None,
                changed_field_ids: Vec::new(),
                fields: None,
            }),
        };
        let events = [
            event("d1", "c1", Some("t1")),
            event("d1", "c2", Some("t2")),
            event("d1", "c3", Some("t1")),
            event("d2", "c4", Some("t1")),
            event("d2", "c5", None),
        ];
        let named = named_templates(&events);
        assert_eq!(named["d1"], set(&["t1", "t2"]));
        assert_eq!(named["d2"], set(&["t1"]));
        assert_eq!(named.len(), 2);
    }
}
