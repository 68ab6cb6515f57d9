//! The Connect Cases adapter: [`CaseReader`] (and, in `search`, the backfill port
//! [`crate::backfill::source::CaseDirectory`]) on `aws-sdk-connectcases`.

mod client;
mod errors;
mod search;

pub use client::{batch_client, client};
use errors::classify;
pub use errors::fields_named;

use std::collections::BTreeMap;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{FieldIdentifier, FieldValueUnion};

use crate::enrichment::{
    CaseFields, CaseReader, EventConfiguration, FieldInfo, ReaderError, TemplateInfo,
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

    async fn list_templates(&self, domain_id: &str) -> Result<Vec<TemplateInfo>, ReaderError> {
        use aws_sdk_connectcases::types::TemplateStatus;
        let mut templates = Vec::new();
        // Both statuses named: the service documents no default for the filter.
        let mut pages = self
            .client
            .list_templates()
            .domain_id(domain_id)
            .max_results(100)
            .status(TemplateStatus::Active)
            .status(TemplateStatus::Inactive)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListTemplates", None, e))?;
            templates.extend(page.templates().iter().map(|t| TemplateInfo {
                id: t.template_id().to_owned(),
                name: t.name().to_owned(),
            }));
        }
        Ok(templates)
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
