//! The read model on DynamoDB: one Query to load a case, one TransactWriteItems to commit it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, Put, PutRequest, ReturnConsumedCapacity, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update, WriteRequest,
};

use super::item::{
    self, EVENT_SK, Item, case_item, case_pk, event_pk, related_item, view_from_items,
};
use super::{CaseCommit, CommitOutcome, ReadModelStore, StoreError, StoredCase};
use crate::enrichment::FieldInfo;
use crate::projection::{CounterIncrements, RelatedItemView};
use crate::table::{self, TableDefinition};

/// DynamoDB allows 100 actions per transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    dedupe_ttl: Duration,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, dedupe_ttl: Duration) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            dedupe_ttl,
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

    fn put(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))
    }

    fn marker(&self, event_id: &str, case_id: &str) -> Result<TransactWriteItem, StoreError> {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.dedupe_ttl;
        let item = Item::from([
            ("pk".into(), av_s(event_pk(event_id))),
            ("sk".into(), av_s(EVENT_SK)),
            ("caseId".into(), av_s(case_id)),
            (
                "expiresAt".into(),
                aws_sdk_dynamodb::types::AttributeValue::N(expires.as_secs().to_string()),
            ),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn counter_update(&self, c: &CounterIncrements) -> Result<TransactWriteItem, StoreError> {
        let (pk, sk) = item::stats_key(&c.domain_id, c.day);
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut adds = Vec::new();
        for (i, (name, by)) in c.increments.iter().enumerate() {
            names.insert(format!("#c{i}"), name.clone());
            values.insert(
                format!(":c{i}"),
                aws_sdk_dynamodb::types::AttributeValue::N(by.to_string()),
            );
            adds.push(format!("#c{i} :c{i}"));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", av_s(pk))
            .key("sk", av_s(sk))
            .update_expression(format!("ADD {}", adds.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
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

    /// Creates the table exactly as `template.yaml` defines it. Idempotent: an existing table
    /// is left as it is (and reported by the caller's comparison).
    pub async fn create_table(&self) -> Result<bool, StoreError> {
        let def =
            TableDefinition::from_template().map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut request = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::from(def.billing_mode.as_str()));
        for a in &def.attribute_definitions {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?,
            );
        }
        for k in key_schema(&def.key_schema)? {
            request = request.key_schema(k);
        }
        for g in &def.global_secondary_indexes {
            let projection = Projection::builder()
                .projection_type(ProjectionType::from(g.projection.projection_type.as_str()))
                .set_non_key_attributes(
                    (!g.projection.non_key_attributes.is_empty())
                        .then(|| g.projection.non_key_attributes.clone()),
                )
                .build();
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&g.index_name)
                    .set_key_schema(Some(key_schema(&g.key_schema)?))
                    .projection(projection)
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?,
            );
        }
        let created = match request.send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                false
            }
            Err(e) => return Err(classify(e)),
        };
        if let Some(ttl) = def.ttl_attribute() {
            let enabled = self
                .time_to_live()
                .await?
                .is_some_and(|t| t.attribute_name == ttl);
            if !enabled {
                let spec = TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?;
                self.client
                    .update_time_to_live()
                    .table_name(&self.table)
                    .time_to_live_specification(spec)
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(created)
    }

    async fn time_to_live(&self) -> Result<Option<table::TimeToLive>, StoreError> {
        let out = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.time_to_live_description().and_then(|d| {
            d.attribute_name().map(|a| table::TimeToLive {
                attribute_name: a.to_owned(),
                enabled: d
                    .time_to_live_status()
                    .is_some_and(|s| s.as_str() == "ENABLED"),
            })
        }))
    }

    /// What DynamoDB reports about the table, in the template's terms.
    pub async fn describe_table(&self) -> Result<TableDefinition, StoreError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(classify)?;
        let t = out
            .table()
            .ok_or_else(|| StoreError::Rejected("no table description".into()))?;
        let keys = |ks: &[KeySchemaElement]| -> Vec<table::KeyElement> {
            ks.iter()
                .map(|k| table::KeyElement {
                    attribute_name: k.attribute_name().to_owned(),
                    key_type: k.key_type().as_str().to_owned(),
                })
                .collect()
        };
        let mut def = TableDefinition {
            billing_mode: t
                .billing_mode_summary()
                .and_then(|b| b.billing_mode())
                .map(|b| b.as_str().to_owned())
                .unwrap_or_else(|| "PROVISIONED".into()),
            attribute_definitions: t
                .attribute_definitions()
                .iter()
                .map(|a| table::AttributeDefinition {
                    attribute_name: a.attribute_name().to_owned(),
                    attribute_type: a.attribute_type().as_str().to_owned(),
                })
                .collect(),
            key_schema: keys(t.key_schema()),
            global_secondary_indexes: t
                .global_secondary_indexes()
                .iter()
                .map(|g| table::GlobalSecondaryIndex {
                    index_name: g.index_name().unwrap_or_default().to_owned(),
                    key_schema: keys(g.key_schema()),
                    projection: table::Projection {
                        projection_type: g
                            .projection()
                            .and_then(|p| p.projection_type())
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_default(),
                        non_key_attributes: g
                            .projection()
                            .map(|p| p.non_key_attributes().to_vec())
                            .unwrap_or_default(),
                    },
                })
                .collect(),
            time_to_live_specification: self.time_to_live().await?,
        };
        def.normalise();
        Ok(def)
    }
}

fn key_schema(keys: &[table::KeyElement]) -> Result<Vec<KeySchemaElement>, StoreError> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(|e| StoreError::Rejected(e.to_string()))
        })
        .collect()
}

fn av_s(v: impl Into<String>) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(v.into())
}

/// Sorts an SDK error into retryable or not.
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
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
        _ => {
            StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string())
        }
    }
}

impl ReadModelStore for DynamoStore {
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

    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", av_s(item::fields_pk(domain_id)))
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
                i.get("sk")?
                    .as_s()
                    .ok()?
                    .strip_prefix(item::FIELD_PREFIX)
                    .map(str::to_owned)
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

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let case_id = &commit.view.case_id;
        let revision = commit.expected_revision.map_or(1, |r| r + 1);
        let case_item = case_item(commit.view, revision);
        let (condition, expected) = match commit.expected_revision {
            None => ("attribute_not_exists(pk)", None),
            Some(r) => (
                "rev = :expected",
                Some(aws_sdk_dynamodb::types::AttributeValue::N(r.to_string())),
            ),
        };
        if commit.counted_events.is_empty() && commit.related_items.is_empty() {
            // Nothing to keep atomic with the case item: one conditional PutItem costs half a
            // transaction's write units.
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(case_item))
                .condition_expression(condition)
                .set_expression_attribute_values(
                    expected.map(|v| HashMap::from([(":expected".to_owned(), v)])),
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            return match result {
                Ok(out) => Ok(CommitOutcome::Committed {
                    write_units: out
                        .consumed_capacity()
                        .and_then(|c| c.capacity_units())
                        .unwrap_or(0.0),
                    write_requests: 1,
                }),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    Ok(CommitOutcome::RevisionConflict)
                }
                Err(e) => Err(classify(e)),
            };
        }
        let case_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(case_item))
            .condition_expression(condition)
            .set_expression_attribute_values(
                expected.map(|v| HashMap::from([(":expected".to_owned(), v)])),
            )
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let case_put = TransactWriteItem::builder().put(case_put).build();

        // Counters of several events on the same domain and day go into one update.
        let mut counters: Vec<CounterIncrements> = Vec::new();
        for e in &commit.counted_events {
            match counters
                .iter_mut()
                .find(|c| c.domain_id == e.counters.domain_id && c.day == e.counters.day)
            {
                Some(c) => {
                    for (k, v) in &e.counters.increments {
                        *c.increments.entry(k.clone()).or_insert(0) += v;
                    }
                }
                None => counters.push(e.counters.clone()),
            }
        }
        // Related items a counted event creates commit with its marker; the others (a case
        // delete's tombstones) may go ahead when they do not fit in one transaction. That is
        // safe: they are final, the transaction below is still conditional on the revision, and
        // on a conflict the caller reloads and writes them again.
        let (atomic, rest): (Vec<&RelatedItemView>, Vec<&RelatedItemView>) =
            commit.related_items.iter().copied().partition(|r| {
                commit
                    .counted_events
                    .iter()
                    .any(|e| e.related_item_id.as_deref() == Some(r.id.as_str()))
            });
        let fixed = 1 + commit.counted_events.len() + counters.len() + atomic.len();
        let mut units = 0.0;
        let mut requests = 1;
        let mut actions = vec![case_put];
        if fixed + rest.len() > MAX_TRANSACTION_ITEMS {
            let ahead: Vec<Item> = rest.iter().map(|r| related_item(case_id, r)).collect();
            requests += ahead.len().div_ceil(25) as u32;
            units += self.batch_put(ahead).await?;
        } else {
            for r in &rest {
                actions.push(
                    TransactWriteItem::builder()
                        .put(self.put(related_item(case_id, r))?)
                        .build(),
                );
            }
        }
        for r in &atomic {
            actions.push(
                TransactWriteItem::builder()
                    .put(self.put(related_item(case_id, r))?)
                    .build(),
            );
        }
        let first_marker = actions.len();
        for e in &commit.counted_events {
            actions.push(self.marker(&e.event_id, case_id)?);
        }
        for c in &counters {
            actions.push(self.counter_update(c)?);
        }

        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                units += out
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum::<f64>();
                Ok(CommitOutcome::Committed {
                    write_units: units,
                    write_requests: requests,
                })
            }
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                let TransactWriteItemsError::TransactionCanceledException(cancel) = service.err()
                else {
                    unreachable!()
                };
                let codes: Vec<&str> = cancel
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None"))
                    .collect();
                let failed = |i: usize| codes.get(i) == Some(&"ConditionalCheckFailed");
                if failed(0) {
                    return Ok(CommitOutcome::RevisionConflict);
                }
                let counted: Vec<String> = commit
                    .counted_events
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| failed(first_marker + i))
                    .map(|(_, e)| e.event_id.clone())
                    .collect();
                if !counted.is_empty() {
                    return Ok(CommitOutcome::AlreadyCounted { event_ids: counted });
                }
                let reasons = codes.join(",");
                if codes.contains(&"TransactionConflict") {
                    Err(StoreError::Contention(format!(
                        "transaction cancelled: [{reasons}]"
                    )))
                } else if codes
                    .iter()
                    .any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
                {
                    Err(StoreError::Unavailable(format!(
                        "transaction cancelled: [{reasons}]"
                    )))
                } else {
                    Err(StoreError::Rejected(format!(
                        "transaction cancelled: [{reasons}] {}",
                        cancel.message().unwrap_or_default()
                    )))
                }
            }
            Err(e) => Err(classify(e)),
        }
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
