//! Length limits on the ids a Cases event carries, and the check against them.

use super::{IdLimit, IdProblem, ParseError};

const SERVICE_MODEL: &str = "per the Connect Cases service model";

/// `CaseId` in the Cases service model (`connectcases-service-2.json`): length 1..=500, no
/// pattern. Also the shape of a `ConnectCase` related item's `caseId`.
pub const CASE_ID: IdLimit = IdLimit {
    shape: "CaseId",
    min: 1,
    max: 500,
    in_bytes: false,
    source: SERVICE_MODEL,
};
/// `RelatedItemId`: length 1..=500, no pattern.
pub const RELATED_ITEM_ID: IdLimit = IdLimit {
    shape: "RelatedItemId",
    ..CASE_ID
};
/// A related item id also names its row: `RELATED#<id>` is a DynamoDB sort key (under 1,024
/// bytes). 500 characters of up to 4 bytes each would not fit, and a write that can never succeed
/// would be retried until the DLQ: refused at parse time instead, unretried.
pub const RELATED_ITEM_KEY: IdLimit = IdLimit {
    shape: "RelatedItemId",
    min: 1,
    max: 1000,
    in_bytes: true,
    source: "so that RELATED#<id> fits a DynamoDB sort key",
};
/// `DomainId`: length 1..=500, no pattern.
pub const DOMAIN_ID: IdLimit = IdLimit {
    shape: "DomainId",
    ..CASE_ID
};
/// `TemplateId`: length 1..=500, no pattern.
pub const TEMPLATE_ID: IdLimit = IdLimit {
    shape: "TemplateId",
    ..CASE_ID
};
/// The EventBridge event id. EventBridge sends a UUID (36 bytes) and documents no limit; the id
/// becomes the DynamoDB partition key `EVENT#<id>`, which must stay under 2048 bytes. 256 bytes
/// leaves ample room for any id scheme (replayed or hand-made events included) while keeping
/// the key, and every log line and report that names the event, small.
pub const EVENT_ID: IdLimit = IdLimit {
    shape: "event id",
    min: 1,
    max: 256,
    in_bytes: true,
    source: "so that EVENT#<id> stays a small DynamoDB key",
};

/// Checks `id` against `limit` without reading more of it than the limit needs.
pub(super) fn check_id(field: &'static str, id: &str, limit: IdLimit) -> Result<(), ParseError> {
    let too_long = if limit.in_bytes {
        id.len() > limit.max
    } else {
        // At most 4 bytes a character: short byte strings need no counting.
        id.len() > limit.max && id.chars().nth(limit.max).is_some()
    };
    let too_short = if limit.in_bytes {
        id.len() < limit.min
    } else {
        id.chars().take(limit.min).count() < limit.min
    };
    let problem = match (too_short, too_long) {
        (true, _) => IdProblem::TooShort,
        (_, true) => IdProblem::TooLong,
        _ => return Ok(()),
    };
    Err(ParseError::InvalidId {
        field,
        problem,
        limit,
    })
}
