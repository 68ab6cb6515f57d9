//! A [`WritePlan`](crate::store::writes::WritePlan)'s writes as DynamoDB requests.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnConsumedCapacity, TransactWriteItem, Update,
};

use super::{DynamoStore, av_s, classify};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::store::domain::IndexQuery;
use crate::store::item::Item;
use crate::store::keys::{CASE_PREFIX, CASE_SK, Key, case_id_of};
use crate::store::writes::{Condition, Write, WritePlan, code_collision};
use crate::store::{CommitOutcome, ItemPage, PlanExecutor, StoreError};

/// A key as a Scan's `ExclusiveStartKey`.
fn start_key((pk, sk): &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), av_s(pk)), ("sk".to_owned(), av_s(sk))])
}

impl PlanExecutor for DynamoStore {
    async fn get_item(&self, (pk, sk): &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", av_s(pk))
            .key("sk", av_s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    async fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
            .expression_attribute_values(":pk", av_s(pk))
            .expression_attribute_values(":a", av_s(from_sk))
            .expression_attribute_values(":b", av_s(to_sk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(classify)
    }

    async fn case_page(
        &self,
        domain_id: &str,
        after: Option<&Key>,
    ) -> Result<(Vec<String>, Option<Key>), StoreError> {
        // Only what regroup needs back: the key. The filter is applied after the read, so a
        // page may hold few cases; its `LastEvaluatedKey` still moves on.
        let start = after.map(start_key);
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .set_exclusive_start_key(start)
            .filter_expression("sk = :case AND begins_with(pk, :prefix) AND domainId = :d")
            .expression_attribute_values(":case", av_s(CASE_SK))
            .expression_attribute_values(":prefix", av_s(CASE_PREFIX))
            .expression_attribute_values(":d", av_s(domain_id))
            .projection_expression("pk")
            .send()
            .await
            .map_err(classify)?;
        let text = |i: &Item, k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
        let ids = out
            .items()
            .iter()
            .filter_map(|i| Some(case_id_of(&text(i, "pk")?)?.to_owned()))
            .collect();
        let next = out
            .last_evaluated_key()
            .and_then(|k| Some((text(k, "pk")?, text(k, "sk")?)));
        Ok((ids, next))
    }

    async fn case_items_page(&self, after: Option<&Key>) -> Result<ItemPage, StoreError> {
        let start = after.map(start_key);
        // Eventually consistent: half the read units; what a page misses of a change in flight
        // the next export has.
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .set_exclusive_start_key(start)
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(":prefix", av_s(CASE_PREFIX))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(classify)?;
        let text = |i: &Item, k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned();
        let next = out
            .last_evaluated_key()
            .and_then(|k| Some((text(k, "pk")?, text(k, "sk")?)));
        let read_units = out
            .consumed_capacity()
            .and_then(|c| c.capacity_units())
            .unwrap_or_default();
        Ok(ItemPage {
            items: out.items.unwrap_or_default(),
            next,
            read_units,
        })
    }

    async fn query_index(&self, query: &IndexQuery<'_>) -> Result<Vec<Item>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(query.index)
            .expression_attribute_names("#p", query.partition.0)
            .expression_attribute_values(":p", av_s(query.partition.1));
        request = match query.sort.1 {
            Some(from) => request
                .key_condition_expression("#p = :p AND #s >= :s")
                .expression_attribute_names("#s", query.sort.0)
                .expression_attribute_values(":s", av_s(from)),
            None => request.key_condition_expression("#p = :p"),
        };
        request
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(classify)
    }

    /// Runs a plan: the writes ahead, then the atomic part as one conditional PutItem (when it
    /// is a single put: half a transaction's write units) or one transaction.
    async fn execute(&self, plan: &WritePlan) -> Result<CommitOutcome, StoreError> {
        let (mut units, code_requests) = self.write_codes(&plan.codes).await?;
        units += self.write_ahead(&plan.ahead).await?;
        let requests = 1 + code_requests + plan.ahead.len() as u32;
        if plan.atomic.is_empty() {
            return Ok(CommitOutcome::Committed {
                write_units: units,
                write_requests: requests - 1,
            });
        }
        if let [Write::Put { item, condition }] = plan.atomic.as_slice() {
            // Nothing to keep atomic with the case item: one conditional PutItem costs half a
            // transaction's write units.
            let (expression, names, values) = condition_parts(condition.as_ref());
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .set_condition_expression(expression)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            return match result {
                Ok(out) => Ok(CommitOutcome::Committed {
                    write_units: units
                        + out
                            .consumed_capacity()
                            .and_then(|c| c.capacity_units())
                            .unwrap_or(0.0),
                    write_requests: requests,
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
        let actions = plan
            .atomic
            .iter()
            .map(|w| self.transact_item(w))
            .collect::<Result<Vec<_>, _>>()?;
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
                if (0..plan.atomic.len()).any(failed) {
                    return Ok(CommitOutcome::RevisionConflict);
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

impl DynamoStore {
    /// Conditional PutItems, a few at a time; a failed condition means a newer record is there.
    pub(super) async fn write_ahead(&self, writes: &[Write]) -> Result<f64, StoreError> {
        let mut units = 0.0;
        for chunk in writes.chunks(8) {
            for result in futures::future::join_all(chunk.iter().map(|w| self.put_if(w))).await {
                units += result?.unwrap_or(0.0);
            }
        }
        Ok(units)
    }

    /// The `CODE#` items this instance has not written yet; returns units and requests. A code
    /// this instance wrote with another text is a collision too.
    async fn write_codes(&self, codes: &[Write]) -> Result<(f64, u32), StoreError> {
        let text = |w: &Write| match w {
            Write::Put { item, .. } => item.get("text").and_then(|v| v.as_s().ok()).cloned(),
            _ => None,
        };
        let mut missing: Vec<&Write> = Vec::new();
        {
            let written = self.codes_written.lock().unwrap();
            for w in codes {
                match written.get(&w.key()) {
                    None => missing.push(w),
                    Some(t) if Some(t) == text(w).as_ref() => {}
                    Some(_) => return Err(code_collision(&w.key().1)),
                }
            }
        }
        let mut units = 0.0;
        for chunk in missing.chunks(8) {
            let results = futures::future::join_all(chunk.iter().map(|w| self.put_if(w))).await;
            for (w, result) in chunk.iter().zip(results) {
                match result? {
                    None => return Err(code_collision(&w.key().1)),
                    Some(u) => units += u,
                }
                self.codes_written
                    .lock()
                    .unwrap()
                    .insert(w.key(), text(w).unwrap_or_default());
            }
        }
        Ok((units, missing.len() as u32))
    }

    /// One conditional put: its units, or `None` when the condition failed (nothing written).
    async fn put_if(&self, write: &Write) -> Result<Option<f64>, StoreError> {
        let Write::Put { item, condition } = write else {
            return Err(StoreError::Rejected("only puts go ahead".into()));
        };
        let (expression, names, values) = condition_parts(condition.as_ref());
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.consumed_capacity()
                    .and_then(|c| c.capacity_units())
                    .unwrap_or(0.0),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(e)),
        }
    }

    pub(super) fn transact_item(&self, write: &Write) -> Result<TransactWriteItem, StoreError> {
        let rejected = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Rejected(e.to_string());
        Ok(match write {
            Write::Put { item, condition } => {
                let (expression, names, values) = condition_parts(condition.as_ref());
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .set_condition_expression(expression)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(rejected)?;
                TransactWriteItem::builder().put(put).build()
            }
            Write::Delete { pk, sk } => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", av_s(pk))
                    .key("sk", av_s(sk))
                    .build()
                    .map_err(rejected)?;
                TransactWriteItem::builder().delete(delete).build()
            }
            Write::Add { pk, sk, increments } => {
                let mut names = HashMap::new();
                let mut values = HashMap::new();
                let mut adds = Vec::new();
                for (i, (name, by)) in increments.iter().enumerate() {
                    names.insert(format!("#c{i}"), name.clone());
                    values.insert(format!(":c{i}"), AttributeValue::N(by.to_string()));
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
                    .map_err(rejected)?;
                TransactWriteItem::builder().update(update).build()
            }
        })
    }
}

type ExpressionNames = Option<HashMap<String, String>>;
type ExpressionValues = Option<HashMap<String, AttributeValue>>;

/// A plan's condition as a DynamoDB condition expression.
pub(super) fn condition_parts(
    condition: Option<&Condition>,
) -> (Option<String>, ExpressionNames, ExpressionValues) {
    match condition {
        None => (None, None, None),
        Some(Condition::Absent) => (Some("attribute_not_exists(pk)".into()), None, None),
        Some(Condition::Revision(r)) => (
            Some("rev = :expected".into()),
            None,
            Some(HashMap::from([(
                ":expected".into(),
                AttributeValue::N(r.to_string()),
            )])),
        ),
        Some(Condition::LeaseFree { owner, now }) => (
            Some("attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner".into()),
            Some(HashMap::from([("#owner".into(), "owner".into())])),
            Some(HashMap::from([
                (":now".into(), AttributeValue::N(now.to_string())),
                (":owner".into(), av_s(owner)),
            ])),
        ),
        Some(Condition::TextIs(t)) => (
            Some("attribute_not_exists(pk) OR #text = :text".into()),
            Some(HashMap::from([("#text".into(), "text".into())])),
            Some(HashMap::from([(":text".into(), av_s(t))])),
        ),
        Some(Condition::VersionAtMost(v)) => (
            Some("attribute_not_exists(pk) OR #version <= :version".into()),
            Some(HashMap::from([("#version".into(), "version".into())])),
            Some(HashMap::from([(":version".into(), av_s(v))])),
        ),
    }
}
