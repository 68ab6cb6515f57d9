//! A failed Cases API call as a [`ReaderError`]: classified by what the service says is
//! missing or refused, not by the status code alone.

use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connectcases::types::error::ResourceNotFoundException;

use crate::enrichment::{MissingResource, ReaderError};

/// A failed call as a [`ReaderError`]; `case_id` is the case the call was about, if any (a
/// ResourceNotFoundException naming it means the case was deleted).
pub(super) fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    case_id: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> ReaderError {
    let message = match &err {
        SdkError::ServiceError(s) => s.err().message().unwrap_or_default().to_owned(),
        other => crate::sdk_failure::describe(other),
    };
    match err.code() {
        Some("ThrottlingException") => ReaderError::Throttled { operation, message },
        Some("AccessDeniedException") => ReaderError::AccessDenied { operation, message },
        Some("ValidationException") => ReaderError::Invalid { operation, message },
        Some("ResourceNotFoundException") => {
            // Every operation's error enum gives its ResourceNotFoundException as the source.
            let detail = err
                .as_service_error()
                .and_then(|e| e.source())
                .and_then(|e| e.downcast_ref::<ResourceNotFoundException>());
            let (resource_type, resource_id) = detail
                .map(|d| (d.resource_type(), d.resource_id()))
                .unwrap_or_default();
            ReaderError::NotFound {
                operation,
                resource: MissingResource::classify(resource_type, resource_id, case_id),
                resource_id: resource_id.to_owned(),
                message,
            }
        }
        _ => ReaderError::Unavailable { operation, message },
    }
}

/// The requested field ids a ValidationException's message names. The Cases API documents no
/// structured member for them (ValidationException has only `message`; for CreateCase it says
/// the exception is "denoting which field identifiers in the request" are deleted), so an id
/// counts as named when it appears in the message as a whole token (between characters that
/// cannot be part of an id: not alphanumeric, `_` or `-`). An id that is itself a common word
/// could be named by a message about something else: it is then left out of the read, which
/// costs its value for that read only.
pub fn fields_named(message: &str, requested: &[String]) -> Vec<String> {
    let is_id_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let tokens: std::collections::HashSet<&str> = message
        .split(|c: char| !is_id_char(c))
        .filter(|t| !t.is_empty())
        .collect();
    requested
        .iter()
        .filter(|id| tokens.contains(id.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_validation_message_names_the_requested_ids_it_contains_as_whole_tokens() {
        let requested = ids(&["status", "a1b2-c3", "priority", "title"]);
        assert_eq!(
            fields_named("Field a1b2-c3 does not exist in domain", &requested),
            ids(&["a1b2-c3"])
        );
        assert_eq!(
            fields_named("Fields not found: [a1b2-c3, priority]", &requested),
            ids(&["a1b2-c3", "priority"])
        );
        // A part of a longer token is not the id.
        assert_eq!(
            fields_named("Field priority_level does not exist", &requested),
            Vec::<String>::new()
        );
        assert_eq!(
            fields_named("1 validation error detected", &requested),
            Vec::<String>::new()
        );
    }
}
