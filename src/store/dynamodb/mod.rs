//! The read model on DynamoDB: one Query to load a case, one TransactWriteItems to commit it.

mod admin;
mod requests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnConsumedCapacity, WriteRequest};

use super::item::{self, Item, view_from_items};
use super::keys::{Key, case_pk, field_id_of, fields_pk};
use super::writes;
use super::{
    CaseCommit, CaseStore, CommitOutcome, FieldMetadataStore, PlanExecutor, StoreError, StoredCase,
};
use crate::model::FieldInfo;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// The aggregate `CODE#` items written by this instance, with their texts: they never
    /// change.
    codes_written: Arc<Mutex<HashMap<Key, String>>>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            codes_written: Arc::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Every item of the table (a Scan): for local inspection and tests, never the Lambda.
    pub async fn scan_all(&self) -> Result<Vec<Item>, StoreError> {
        self.client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(classify)
    }

    /// Unconditional puts in batches of 25, retrying unprocessed items.
    async fn batch_put(&self, items: Vec<Item>) -> Result<f64, StoreError> {
        let mut units = 0.0;
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|i| {
                    PutRequest::builder()
                        .set_item(Some(i.clone()))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(|e| StoreError::Rejected(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            for _ in 0..8 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(classify)?;
                units += out
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum::<f64>();
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(
                    "related items stayed unprocessed".into(),
                ));
            }
        }
        Ok(units)
    }
}

fn av_s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Sorts an SDK error into retryable or not.
pub(super) fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, HttpResponse>,
) -> StoreError {
    let retryable_codes = [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    ];
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown");
            let message = format!("{code}: {}", service.err().message().unwrap_or_default());
            let status = service.raw().status().as_u16();
            if retryable_codes.contains(&code) || status >= 500 {
                StoreError::Unavailable(message)
            } else if matches!(code, "ValidationException" | "SerializationException") {
                StoreError::Rejected(message)
            } else {
                StoreError::Misconfigured(message)
            }
        }
        // Timeouts, connection failures, unreadable responses: the service may be back soon.
        _ => StoreError::Unavailable(crate::sdk_failure::describe(&err)),
    }
}

impl CaseStore for DynamoStore {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", av_s(case_pk(case_id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(classify)?;
        view_from_items(case_id, &items)
    }

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let plan = writes::plan(commit);
        self.execute(&plan).await
    }
}

impl FieldMetadataStore for DynamoStore {
    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", av_s(fields_pk(domain_id)))
            .projection_expression("sk")
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(classify)?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let sk = i.get("sk")?.as_s().ok()?;
                field_id_of(sk).map(str::to_owned)
            })
            .collect())
    }

    async fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> Result<(), StoreError> {
        let items = fields
            .iter()
            .map(|f| item::field_metadata_item(domain_id, f))
            .collect();
        self.batch_put(items).await.map(|_| ())
    }

    async fn template_names(
        &self,
        domain_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        crate::store::domain::template_names(self, domain_id).await
    }

    async fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[crate::model::TemplateInfo],
    ) -> Result<(), StoreError> {
        // One PutItem each: a domain has few templates, and every role that writes them (the
        // projector's, backfill's) already puts items, so naming templates adds no DynamoDB action.
        for t in templates {
            let plan = writes::WritePlan {
                atomic: vec![writes::Write::Put {
                    item: item::template_name_item(domain_id, t),
                    condition: None,
                }],
                ..writes::WritePlan::default()
            };
            self.execute(&plan).await?;
        }
        Ok(())
    }
}

/// The DynamoDB client, from the shared AWS config (region, credentials, `AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_DYNAMODB`), with a per-operation time budget so a stalled endpoint fails the
/// record retryably instead of hanging the invocation.
pub fn client(sdk: &aws_config::SdkConfig, operation_timeout: Duration) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(operation_timeout)
        .operation_attempt_timeout(operation_timeout / 2)
        .connect_timeout(Duration::from_millis(500))
        .build();
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .build();
    Client::from_conf(config)
}
