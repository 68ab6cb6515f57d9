//! The Connect Cases adapter: [`CaseReader`] (and, in `search`, the backfill port
//! [`crate::backfill::source::CaseDirectory`]) on `aws-sdk-connectcases`.

mod search;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::config::interceptors::InterceptorContext;
use aws_sdk_connectcases::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_connectcases::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_connectcases::types::error::ResourceNotFoundException;
use aws_sdk_connectcases::types::{FieldIdentifier, FieldValueUnion};
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

use crate::enrichment::{
    CaseFields, CaseReader, EventConfiguration, FieldInfo, MissingResource, ReaderError,
};
use crate::event::FieldValue;

/// GetCase accepts at most 220 field ids per request.
pub const GET_CASE_MAX_FIELDS: usize = 220;
/// BatchGetField accepts at most 50 field ids per request.
pub const BATCH_GET_FIELD_MAX: usize = 50;

#[derive(Clone, Debug)]
pub struct CasesApi {
    client: Client,
}

impl CasesApi {
    pub fn new(client: Client) -> Self {
        CasesApi { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The Connect Cases client, from the shared AWS config (`AWS_ENDPOINT_URL_CONNECTCASES`
/// included), with adaptive retries: GetCase throttling slows the client down instead of
/// hammering the quota.
pub fn client(sdk: &aws_config::SdkConfig, operation_timeout: Duration) -> Client {
    let config = aws_sdk_connectcases::config::Builder::from(sdk)
        .timeout_config(timeouts(operation_timeout))
        .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(4))
        .build();
    Client::from_conf(config)
}

/// The client of a batch run (backfill, reconcile): the SDK retries outages, never throttling.
/// A throttling answer comes back at once to the run's [`crate::backfill::Limiter`], which
/// backs off and goes on however long the throttling lasts (and counts it for the progress
/// line); inside the SDK, its backoff would count against `operation_timeout` and turn a long
/// throttle into a timeout that stops the run.
pub fn batch_client(sdk: &aws_config::SdkConfig, operation_timeout: Duration) -> Client {
    let config = aws_sdk_connectcases::config::Builder::from(sdk)
        .timeout_config(timeouts(operation_timeout))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4))
        .retry_classifier(NoThrottleRetries)
        .build();
    Client::from_conf(config)
}

fn timeouts(operation_timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(operation_timeout)
        .connect_timeout(Duration::from_millis(500))
        .build()
}

/// Forbids the SDK's retry of a throttling answer (HTTP 429 or a `ThrottlingException`); runs
/// after the SDK's own classifiers, so its verdict stands.
#[derive(Debug)]
struct NoThrottleRetries;

impl ClassifyRetry for NoThrottleRetries {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let error_type = response
            .headers()
            .get("x-amzn-ErrorType")
            .unwrap_or_default();
        if response.status().as_u16() == 429 || error_type.starts_with("ThrottlingException") {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "no throttle retries (the batch run's limiter backs off)"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// A failed call as a [`ReaderError`]; `case_id` is the case the call was about, if any (a
/// ResourceNotFoundException naming it means the case was deleted).
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    case_id: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> ReaderError {
    let message = match &err {
        SdkError::ServiceError(s) => s.err().message().unwrap_or_default().to_owned(),
        other => aws_sdk_connectcases::error::DisplayErrorContext(other).to_string(),
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

fn from_union(v: &FieldValueUnion) -> Option<FieldValue> {
    Some(match v {
        FieldValueUnion::StringValue(s) => FieldValue::String(s.clone()),
        FieldValueUnion::DoubleValue(d) => FieldValue::Double(*d),
        FieldValueUnion::BooleanValue(b) => FieldValue::Boolean(*b),
        FieldValueUnion::EmptyValue(_) => FieldValue::Empty,
        FieldValueUnion::UserArnValue(u) => FieldValue::UserArn(u.clone()),
        _ => return None,
    })
}

fn ids(field_ids: &[String]) -> Vec<FieldIdentifier> {
    field_ids
        .iter()
        .filter_map(|id| FieldIdentifier::builder().id(id).build().ok())
        .collect()
}

impl CasesApi {
    /// PutCaseEventConfiguration (operators only: `casesctl event-config apply`; the function
    /// never calls it and its role does not allow it).
    pub async fn put_event_configuration(
        &self,
        domain_id: &str,
        config: &EventConfiguration,
    ) -> Result<(), ReaderError> {
        use aws_sdk_connectcases::types::{
            CaseEventIncludedData, EventBridgeConfiguration, EventIncludedData,
            RelatedItemEventIncludedData,
        };
        let invalid = |e: aws_sdk_connectcases::error::BuildError| ReaderError::Invalid {
            operation: "PutCaseEventConfiguration",
            message: e.to_string(),
        };
        let included = EventIncludedData::builder()
            .case_data(
                CaseEventIncludedData::builder()
                    .set_fields(Some(ids(&config.fields)))
                    .build()
                    .map_err(invalid)?,
            )
            .related_item_data(
                RelatedItemEventIncludedData::builder()
                    .include_content(config.include_related_item_content)
                    .build()
                    .map_err(invalid)?,
            )
            .build();
        let event_bridge = EventBridgeConfiguration::builder()
            .enabled(config.enabled)
            .included_data(included)
            .build()
            .map_err(invalid)?;
        self.client
            .put_case_event_configuration()
            .domain_id(domain_id)
            .event_bridge(event_bridge)
            .send()
            .await
            .map_err(|e| classify("PutCaseEventConfiguration", None, e))?;
        Ok(())
    }
}

impl CaseReader for CasesApi {
    async fn get_case(
        &self,
        domain_id: &str,
        case_id: &str,
        field_ids: &[String],
    ) -> Result<CaseFields, ReaderError> {
        let mut values = BTreeMap::new();
        for chunk in field_ids.chunks(GET_CASE_MAX_FIELDS) {
            let mut chunk: Vec<String> = chunk.to_vec();
            let mut next_token: Option<String> = None;
            while !chunk.is_empty() {
                let result = self
                    .client
                    .get_case()
                    .domain_id(domain_id)
                    .case_id(case_id)
                    .set_fields(Some(ids(&chunk)))
                    .set_next_token(next_token.take())
                    .send()
                    .await;
                let out = match result.map_err(|e| classify("GetCase", Some(case_id), e)) {
                    Ok(out) => out,
                    Err(e) if e.is_case_gone() => return Ok(None),
                    // Field ids the domain does not have: read the rest without them (from the
                    // first page again). Each round drops at least one id, so this ends.
                    Err(ReaderError::Invalid { message, .. })
                        if !fields_named(&message, &chunk).is_empty() =>
                    {
                        let unknown = fields_named(&message, &chunk);
                        tracing::warn!(
                            domain_id,
                            case_id,
                            ?unknown,
                            "GetCase refused field ids the domain does not have: read without them (check CASE_FIELDS)"
                        );
                        chunk.retain(|id| !unknown.contains(id));
                        values.retain(|id, _| !unknown.contains(id));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                for f in out.fields() {
                    if let Some(v) = f.value().and_then(from_union) {
                        values.insert(f.id().to_owned(), v);
                    }
                }
                next_token = next_page(out.next_token());
                if next_token.is_none() {
                    break;
                }
            }
        }
        Ok(Some(values))
    }

    async fn list_fields(&self, domain_id: &str) -> Result<Vec<FieldInfo>, ReaderError> {
        let mut fields = Vec::new();
        let mut pages = self
            .client
            .list_fields()
            .domain_id(domain_id)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListFields", None, e))?;
            fields.extend(page.fields().iter().map(|f| FieldInfo {
                id: f.field_id().to_owned(),
                name: f.name().to_owned(),
                field_type: f.r#type().as_str().to_owned(),
                namespace: f.namespace().as_str().to_owned(),
                options: BTreeMap::new(),
            }));
        }
        Ok(fields)
    }

    async fn describe_fields(
        &self,
        domain_id: &str,
        field_ids: &[String],
    ) -> Result<Vec<FieldInfo>, ReaderError> {
        let mut infos = Vec::new();
        for chunk in field_ids.chunks(BATCH_GET_FIELD_MAX) {
            let out = self
                .client
                .batch_get_field()
                .domain_id(domain_id)
                .set_fields(Some(ids(chunk)))
                .send()
                .await
                .map_err(|e| classify("BatchGetField", None, e))?;
            for f in out.fields() {
                let mut info = FieldInfo {
                    id: f.field_id().to_owned(),
                    name: f.name().to_owned(),
                    field_type: f.r#type().as_str().to_owned(),
                    namespace: f.namespace().as_str().to_owned(),
                    options: BTreeMap::new(),
                };
                if info.field_type == "SingleSelect" {
                    info.options = self.field_options(domain_id, &info.id).await?;
                }
                infos.push(info);
            }
        }
        Ok(infos)
    }

    async fn field_options(
        &self,
        domain_id: &str,
        field_id: &str,
    ) -> Result<BTreeMap<String, String>, ReaderError> {
        let mut options = BTreeMap::new();
        let mut pages = self
            .client
            .list_field_options()
            .domain_id(domain_id)
            .field_id(field_id)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListFieldOptions", None, e))?;
            options.extend(
                page.options()
                    .iter()
                    .map(|o| (o.value().to_owned(), o.name().to_owned())),
            );
        }
        Ok(options)
    }

    async fn event_configuration(
        &self,
        domain_id: &str,
    ) -> Result<EventConfiguration, ReaderError> {
        let out = self
            .client
            .get_case_event_configuration()
            .domain_id(domain_id)
            .send()
            .await
            .map_err(|e| classify("GetCaseEventConfiguration", None, e))?;
        let eb = out.event_bridge();
        let included = eb.and_then(|e| e.included_data());
        Ok(EventConfiguration {
            enabled: eb.is_some_and(|e| e.enabled()),
            fields: included
                .and_then(|i| i.case_data())
                .map(|c| c.fields().iter().map(|f| f.id().to_owned()).collect())
                .unwrap_or_default(),
            include_related_item_content: included
                .and_then(|i| i.related_item_data())
                .is_some_and(|r| r.include_content()),
        })
    }
}

/// The token of the next page; the service may send an empty one for none.
fn next_page(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
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
