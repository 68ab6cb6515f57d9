//! Table administration, for `casesctl table create` and the tests: create the table exactly as
//! `template.yaml` defines it, and describe it in the template's terms.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};

use super::{DynamoStore, classify};
use crate::store::StoreError;
use crate::table::{self, TableDefinition};

impl DynamoStore {
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
        // Sent once: a retry after a late answer would find the table the first attempt made
        // and report it as already there.
        let once = aws_sdk_dynamodb::config::Builder::default()
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled());
        let created = match request.customize().config_override(once).send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                false
            }
            Err(e) => match classify(e) {
                // The request may have arrived and only its answer been late (a just-started
                // DynamoDB Local takes seconds over its first CreateTable): look before failing.
                StoreError::Unavailable(why) => {
                    if !self.table_appears().await {
                        return Err(StoreError::Unavailable(why));
                    }
                    true
                }
                other => return Err(other),
            },
        };
        self.wait_until_active().await?;
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
        if TableDefinition::point_in_time_recovery() {
            self.enable_point_in_time_recovery().await?;
        }
        Ok(created)
    }

    /// Whether the table shows up within a few seconds (after a create whose answer never came).
    async fn table_appears(&self) -> bool {
        for _ in 0..20 {
            match self.table_status().await {
                Ok(Some(_)) => return true,
                Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        false
    }

    /// Waits for a new table to leave CREATING: DynamoDB refuses the TTL and backup settings
    /// until then. DynamoDB Local creates tables active at once.
    async fn wait_until_active(&self) -> Result<(), StoreError> {
        for _ in 0..120 {
            match self.table_status().await? {
                Some(TableStatus::Active) => return Ok(()),
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "table {} is not active two minutes after its creation",
            self.table
        )))
    }

    /// The table's status; `None` while DynamoDB does not know it.
    async fn table_status(&self) -> Result<Option<TableStatus>, StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table().and_then(|t| t.table_status().cloned())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Turns point-in-time recovery on, as the template has it. DynamoDB Local has no backups
    /// (it answers `UnknownOperationException`): there it is left off, with a warning.
    async fn enable_point_in_time_recovery(&self) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        let sent = self
            .client
            .update_continuous_backups()
            .table_name(&self.table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| StoreError::Rejected(e.to_string()))?,
            )
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("UnknownOperationException") => {
                tracing::warn!(
                    table = self.table,
                    "this endpoint has no point-in-time recovery (DynamoDB Local?): left off"
                );
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
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
