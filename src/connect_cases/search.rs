//! [`CaseDirectory`] on `aws-sdk-connectcases`: SearchCases, SearchRelatedItems,
//! SearchAllRelatedItems, GetCaseAuditEvents.

use std::collections::BTreeMap;

use aws_sdk_connectcases::primitives::DateTime as SdkTime;
use aws_sdk_connectcases::types::{
    AuditEventFieldValueUnion, Order, RelatedItemContent as Content, SearchAllRelatedItemsSort,
    SearchAllRelatedItemsSortProperty, Sort,
};
use chrono::{DateTime, Utc};

use super::{CasesApi, classify, from_union, ids, next_page};
use crate::backfill::source::{
    AuditEvent, AuditField, AuditPage, CaseDirectory, CasePage, CaseSearch, FoundCase,
    RelatedItemPage,
};
use crate::enrichment::ReaderError;
use crate::event::{FieldValue, RelatedItem, RelatedItemContent, RelatedItemType};
use crate::model::now_ms;

/// Related-item and audit searches return at most 25 per page.
const PAGE_25: i32 = 25;

fn time(t: &SdkTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(t.to_millis().ok()?)
}

fn time_text(t: &SdkTime) -> Option<String> {
    time(t).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn fields(values: &[aws_sdk_connectcases::types::FieldValue]) -> BTreeMap<String, FieldValue> {
    values
        .iter()
        .filter_map(|f| Some((f.id().to_owned(), from_union(f.value()?)?)))
        .collect()
}

fn content(c: &Content) -> Option<RelatedItemContent> {
    Some(match c {
        Content::Contact(x) => RelatedItemContent::Contact {
            contact_arn: x.contact_arn().to_owned(),
            channel: Some(x.channel().to_owned()),
        },
        Content::Comment(x) => RelatedItemContent::Comment {
            body: x.body().to_owned(),
            content_type: Some(x.content_type().as_str().to_owned()),
        },
        Content::File(x) => RelatedItemContent::File {
            file_arn: x.file_arn().to_owned(),
        },
        Content::Sla(x) => {
            let s = x.sla_configuration()?;
            RelatedItemContent::Sla {
                name: s.name().to_owned(),
                sla_type: Some(s.r#type().as_str().to_owned()),
                status: Some(s.status().as_str().to_owned()),
                target_time: time_text(s.target_time()),
                completion_time: s.completion_time().and_then(time_text),
            }
        }
        Content::ConnectCase(x) => RelatedItemContent::ConnectCase {
            case_id: x.case_id().to_owned(),
        },
        Content::Custom(x) => RelatedItemContent::Custom {
            fields: fields(x.fields()),
        },
        _ => return None,
    })
}

fn related_item(
    id: &str,
    item_type: &aws_sdk_connectcases::types::RelatedItemType,
    association: &SdkTime,
    c: Option<&Content>,
) -> RelatedItem {
    RelatedItem {
        id: id.to_owned(),
        item_type: RelatedItemType::parse(item_type.as_str()),
        created_at: time(association),
        content: c.and_then(content),
    }
}

fn audit_value(v: &AuditEventFieldValueUnion) -> Option<FieldValue> {
    Some(match v {
        AuditEventFieldValueUnion::StringValue(s) => FieldValue::String(s.clone()),
        AuditEventFieldValueUnion::DoubleValue(d) => FieldValue::Double(*d),
        AuditEventFieldValueUnion::BooleanValue(b) => FieldValue::Boolean(*b),
        AuditEventFieldValueUnion::EmptyValue(_) => FieldValue::Empty,
        AuditEventFieldValueUnion::UserArnValue(u) => FieldValue::UserArn(u.clone()),
        _ => return None,
    })
}

fn invalid(
    operation: &'static str,
) -> impl Fn(aws_sdk_connectcases::error::BuildError) -> ReaderError {
    move |e| ReaderError::Invalid {
        operation,
        message: e.to_string(),
    }
}

impl CaseDirectory for CasesApi {
    async fn search_cases(&self, search: &CaseSearch<'_>) -> Result<CasePage, ReaderError> {
        let mut request = self
            .client()
            .search_cases()
            .domain_id(search.domain_id)
            .max_results(search.page_size.clamp(1, 100) as i32)
            .set_fields(Some(ids(search.fields)))
            .set_next_token(search.next_token.map(str::to_owned));
        if search.newest_first {
            request = request.sorts(
                Sort::builder()
                    .field_id("last_updated_datetime")
                    .sort_order(Order::Descending)
                    .build()
                    .map_err(invalid("SearchCases"))?,
            );
        }
        let sent_at = now_ms();
        let out = request
            .send()
            .await
            .map_err(|e| classify("SearchCases", None, e))?;
        Ok(CasePage {
            cases: out
                .cases()
                .iter()
                .flatten()
                .map(|c| FoundCase {
                    case_id: c.case_id().to_owned(),
                    template_id: c.template_id().to_owned(),
                    fields: fields(c.fields()),
                })
                .collect(),
            next_token: next_page(out.next_token()),
            total_count: u64::try_from(out.total_count()).ok(),
            sent_at,
        })
    }

    async fn search_related_items(
        &self,
        domain_id: &str,
        case_id: &str,
        next_token: Option<&str>,
    ) -> Result<RelatedItemPage, ReaderError> {
        let sent_at = now_ms();
        let out = self
            .client()
            .search_related_items()
            .domain_id(domain_id)
            .case_id(case_id)
            .max_results(PAGE_25)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("SearchRelatedItems", Some(case_id), e))?;
        Ok(RelatedItemPage {
            items: out
                .related_items()
                .iter()
                .flatten()
                .map(|i| {
                    let item = related_item(
                        i.related_item_id(),
                        i.r#type(),
                        i.association_time(),
                        i.content(),
                    );
                    (case_id.to_owned(), item)
                })
                .collect(),
            next_token: next_page(out.next_token()),
            sent_at,
        })
    }

    async fn search_all_related_items(
        &self,
        domain_id: &str,
        newest_first: bool,
        next_token: Option<&str>,
    ) -> Result<RelatedItemPage, ReaderError> {
        let mut request = self
            .client()
            .search_all_related_items()
            .domain_id(domain_id)
            .max_results(PAGE_25)
            .set_next_token(next_token.map(str::to_owned));
        if newest_first {
            request = request.sorts(
                SearchAllRelatedItemsSort::builder()
                    .sort_property(SearchAllRelatedItemsSortProperty::AssociationTime)
                    .sort_order(Order::Descending)
                    .build()
                    .map_err(invalid("SearchAllRelatedItems"))?,
            );
        }
        let sent_at = now_ms();
        let out = request
            .send()
            .await
            .map_err(|e| classify("SearchAllRelatedItems", None, e))?;
        Ok(RelatedItemPage {
            items: out
                .related_items()
                .iter()
                .flatten()
                .map(|i| {
                    let item = related_item(
                        i.related_item_id(),
                        i.r#type(),
                        i.association_time(),
                        i.content(),
                    );
                    (i.case_id().to_owned(), item)
                })
                .collect(),
            next_token: next_page(out.next_token()),
            sent_at,
        })
    }

    async fn audit_events(
        &self,
        domain_id: &str,
        case_id: &str,
        next_token: Option<&str>,
    ) -> Result<AuditPage, ReaderError> {
        let out = self
            .client()
            .get_case_audit_events()
            .domain_id(domain_id)
            .case_id(case_id)
            .max_results(PAGE_25)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("GetCaseAuditEvents", Some(case_id), e))?;
        Ok(AuditPage {
            events: out
                .audit_events()
                .iter()
                .flatten()
                .filter_map(|e| {
                    Some(AuditEvent {
                        id: e.event_id().to_owned(),
                        kind: e.r#type().as_str().to_owned(),
                        related_item_type: e
                            .related_item_type()
                            .map(|t| RelatedItemType::parse(t.as_str())),
                        performed_at: time(e.performed_time())?,
                        fields: e
                            .fields()
                            .iter()
                            .flatten()
                            .map(|f| AuditField {
                                id: f.event_field_id().to_owned(),
                                old: f.old_value().and_then(audit_value),
                                new: f.new_value().and_then(audit_value),
                            })
                            .collect(),
                    })
                })
                .collect(),
            next_token: next_page(out.next_token()),
        })
    }
}
