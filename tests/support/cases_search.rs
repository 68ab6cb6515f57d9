//! The stand-in's search and history operations: SearchCases, SearchRelatedItems,
//! SearchAllRelatedItems, GetCaseAuditEvents. Paging tokens are opaque strings holding an offset
//! into the (filtered, sorted) result; a token that does not parse is a ValidationException.
//!
//! What is modelled, and what is not:
//! - SearchCases `filter`: `field` (`equalTo`, `contains`, `greaterThan`, `greaterThanOrEqualTo`,
//!   `lessThan`, `lessThanOrEqualTo` on `stringValue` (string order, which is time order for the
//!   ISO 8601 date-time strings the fixtures use), `doubleValue` (number order) or `booleanValue`
//!   (equality)), `not`, `andAll`, `orAll`. `tag` filters and `searchTerm` are accepted and
//!   ignored (they match every case). A case without the field never matches a comparison.
//! - SearchCases `sorts`: by field values, numbers before strings, cases without the field last;
//!   ties and the unsorted order are by case id.
//! - Related-item `filters`: a filter matches items of its member's type (`contact` → `Contact`,
//!   ...); a `contact` filter's `channel` list is honoured too; other filter members (comment
//!   body, file ARN, ...) are accepted and ignored. Several filters: any of them matches.
//! - SearchRelatedItems and GetCaseAuditEvents return items in fixture (append) order;
//!   SearchAllRelatedItems in case id order, then fixture order, unless `sorts` say otherwise
//!   (`AssociationTime` or `CaseId`, `Asc` or `Desc`).

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::{CaseFixture, DomainFixture, case_not_found, validation};

type Answer = (u16, Option<&'static str>, Value);

/// `maxResults` (default `default`, allowed `1..=max`) and the offset in `nextToken`.
fn paging(request: &Value, default: u64, max: u64) -> Result<(usize, usize), Answer> {
    let size = match &request["maxResults"] {
        Value::Null => default,
        v => v.as_u64().unwrap_or(0),
    };
    if !(1..=max).contains(&size) {
        return Err(validation(format!(
            "maxResults must be between 1 and {max}, got {}",
            request["maxResults"]
        )));
    }
    let start = match &request["nextToken"] {
        Value::Null => 0,
        Value::String(t) => t
            .parse()
            .map_err(|_| validation(format!("invalid nextToken {t}")))?,
        other => return Err(validation(format!("invalid nextToken {other}"))),
    };
    Ok((size as usize, start))
}

/// One page of `items` and the token of the next one.
fn page(items: Vec<Value>, size: usize, start: usize) -> (Vec<Value>, Option<String>) {
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let next = (end < total).then(|| end.to_string());
    let page = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start));
    (page.collect(), next)
}

fn with_token(mut body: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        body["nextToken"] = json!(token);
    }
    body
}

fn field_value<'a>(case: &'a CaseFixture, field_id: &str) -> Option<&'a Value> {
    case.fields
        .iter()
        .find(|f| f["id"] == field_id)
        .map(|f| &f["value"])
}

/// Order of two `FieldValueUnion`s: numbers, then strings, then booleans; `None` when they cannot
/// be compared.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a["doubleValue"].as_f64(), b["doubleValue"].as_f64()) {
        return x.partial_cmp(&y);
    }
    if let (Some(x), Some(y)) = (a["stringValue"].as_str(), b["stringValue"].as_str()) {
        return Some(x.cmp(y));
    }
    if let (Some(x), Some(y)) = (a["booleanValue"].as_bool(), b["booleanValue"].as_bool()) {
        return Some(x.cmp(&y));
    }
    None
}

fn rank(v: Option<&Value>) -> u8 {
    match v {
        Some(v) if v["doubleValue"].is_number() => 0,
        Some(v) if v["stringValue"].is_string() => 1,
        Some(v) if v["booleanValue"].is_boolean() => 2,
        Some(_) => 3,
        None => 4,
    }
}

fn matches(filter: &Value, case: &CaseFixture) -> bool {
    if let Some(field) = filter.get("field") {
        let Some((op, operand)) = field.as_object().and_then(|o| o.iter().next()) else {
            return true;
        };
        let Some(value) = operand["id"].as_str().and_then(|id| field_value(case, id)) else {
            return false;
        };
        let wanted = &operand["value"];
        if op == "contains" {
            return match (
                value["stringValue"].as_str(),
                wanted["stringValue"].as_str(),
            ) {
                (Some(have), Some(part)) => have.contains(part),
                _ => false,
            };
        }
        let Some(order) = compare(value, wanted) else {
            return false;
        };
        return match op.as_str() {
            "equalTo" => order.is_eq(),
            "greaterThan" => order.is_gt(),
            "greaterThanOrEqualTo" => order.is_ge(),
            "lessThan" => order.is_lt(),
            "lessThanOrEqualTo" => order.is_le(),
            _ => true,
        };
    }
    if let Some(inner) = filter.get("not") {
        return !matches(inner, case);
    }
    if let Some(all) = filter["andAll"].as_array() {
        return all.iter().all(|f| matches(f, case));
    }
    if let Some(any) = filter["orAll"].as_array() {
        return any.iter().any(|f| matches(f, case));
    }
    true // `tag`, or nothing: accepted, not modelled.
}

pub(super) fn search_cases(domain: &DomainFixture, request: &Value) -> Answer {
    let (size, start) = match paging(request, 25, 100) {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let wanted: Vec<&str> = request["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .collect();
    if wanted.len() > 25 {
        return validation(format!(
            "fields must hold at most 25 items, got {}",
            wanted.len()
        ));
    }
    let sorts: Vec<(&str, bool)> = request["sorts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["fieldId"].as_str()?, s["sortOrder"] == "Desc")))
        .collect();
    let mut found: Vec<(&String, &CaseFixture)> = domain
        .cases
        .iter()
        .filter(|(_, case)| request.get("filter").is_none_or(|f| matches(f, case)))
        .collect();
    found.sort_by(|(id_a, a), (id_b, b)| {
        for (field, desc) in &sorts {
            let (va, vb) = (field_value(a, field), field_value(b, field));
            let order = match rank(va).cmp(&rank(vb)) {
                Ordering::Equal => va
                    .zip(vb)
                    .and_then(|(x, y)| compare(x, y))
                    .unwrap_or(Ordering::Equal),
                by_kind => by_kind, // never reversed: missing values stay last
            };
            let order = if *desc && rank(va) == rank(vb) {
                order.reverse()
            } else {
                order
            };
            if order.is_ne() {
                return order;
            }
        }
        id_a.cmp(id_b)
    });
    let total = found.len();
    let items: Vec<Value> = found
        .into_iter()
        .map(|(case_id, case)| {
            let fields: Vec<Value> = wanted
                .iter()
                .filter_map(|id| case.fields.iter().find(|f| f["id"] == *id).cloned())
                .collect();
            json!({
                "caseId": case_id,
                "templateId": case.template_id,
                "fields": fields,
                "tags": case.tags,
            })
        })
        .collect();
    let (cases, next) = page(items, size, start);
    (
        200,
        None,
        with_token(json!({ "cases": cases, "totalCount": total }), next),
    )
}

/// The `RelatedItemType` a `RelatedItemTypeFilter` member stands for.
fn filter_type(member: &str) -> &str {
    match member {
        "contact" => "Contact",
        "comment" => "Comment",
        "file" => "File",
        "sla" => "Sla",
        "connectCase" => "ConnectCase",
        "custom" => "Custom",
        other => other,
    }
}

fn item_matches(filters: &[Value], item: &Value) -> bool {
    filters.is_empty()
        || filters.iter().any(|filter| {
            let Some((member, detail)) = filter.as_object().and_then(|o| o.iter().next()) else {
                return true;
            };
            if item["type"] != filter_type(member) {
                return false;
            }
            match detail["channel"].as_array() {
                Some(channels) if member == "contact" && !channels.is_empty() => {
                    channels.contains(&item["content"]["contact"]["channel"])
                }
                _ => true,
            }
        })
}

fn filters(request: &Value) -> Vec<Value> {
    request["filters"].as_array().cloned().unwrap_or_default()
}

pub(super) fn search_related_items(
    domain: &DomainFixture,
    case_id: &str,
    request: &Value,
) -> Answer {
    let Some(case) = domain.cases.get(case_id) else {
        return case_not_found(case_id);
    };
    let (size, start) = match paging(request, 25, 25) {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let filters = filters(request);
    let items: Vec<Value> = case
        .related_items
        .iter()
        .filter(|item| item_matches(&filters, item))
        .cloned()
        .collect();
    let (items, next) = page(items, size, start);
    (
        200,
        None,
        with_token(json!({ "relatedItems": items }), next),
    )
}

pub(super) fn search_all_related_items(domain: &DomainFixture, request: &Value) -> Answer {
    let (size, start) = match paging(request, 25, 25) {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let filters = filters(request);
    let mut case_ids: Vec<&String> = domain.cases.keys().collect();
    case_ids.sort();
    let mut items: Vec<Value> = case_ids
        .into_iter()
        .flat_map(|case_id| {
            domain.cases[case_id]
                .related_items
                .iter()
                .filter(|item| item_matches(&filters, item))
                .map(move |item| {
                    let mut item = item.clone();
                    item["caseId"] = json!(case_id);
                    item
                })
        })
        .collect();
    let sorts: Vec<(String, bool)> = request["sorts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let key = match s["sortProperty"].as_str()? {
                "AssociationTime" => "associationTime",
                "CaseId" => "caseId",
                _ => return None,
            };
            Some((key.to_owned(), s["sortOrder"] == "Desc"))
        })
        .collect();
    // Stable: items equal on every sort key keep case id, then fixture order.
    items.sort_by(|a, b| {
        for (key, desc) in &sorts {
            let order = a[key].as_str().cmp(&b[key].as_str());
            let order = if *desc { order.reverse() } else { order };
            if order.is_ne() {
                return order;
            }
        }
        Ordering::Equal
    });
    let (items, next) = page(items, size, start);
    (
        200,
        None,
        with_token(json!({ "relatedItems": items }), next),
    )
}

pub(super) fn get_case_audit_events(
    domain: &DomainFixture,
    case_id: &str,
    request: &Value,
) -> Answer {
    let Some(case) = domain.cases.get(case_id) else {
        return case_not_found(case_id);
    };
    let (size, start) = match paging(request, 25, 25) {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let (events, next) = page(case.audit_events.clone(), size, start);
    (
        200,
        None,
        with_token(json!({ "auditEvents": events }), next),
    )
}
