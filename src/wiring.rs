//! Wiring, in one place: config → AWS config (loaded once) → SDK clients → adapters →
//! projector. Used by the Lambda and by `casesctl`.

use crate::config::Config;
use crate::connect_cases::{self, CasesApi};
use crate::enrichment::{Budget, Enricher};
use crate::projector::Projector;
use crate::store::cache::CachedStore;
use crate::store::dynamodb::{self, DynamoStore};

/// The standard AWS environment: region, credentials (resolved lazily, on first request),
/// endpoint overrides.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

pub fn store(sdk: &aws_config::SdkConfig, config: &Config) -> DynamoStore {
    DynamoStore::new(
        dynamodb::client(sdk, config.store_timeout),
        &config.table_name,
    )
}

pub type LambdaProjector = Projector<CachedStore<DynamoStore>, CasesApi>;

pub fn projector(sdk: &aws_config::SdkConfig, config: &Config) -> LambdaProjector {
    let enricher = config.enrichment.as_ref().map(|settings| {
        Enricher::new(
            CasesApi::new(connect_cases::client(sdk, config.cases_timeout)),
            settings.clone(),
        )
        .with_budget(Budget::new(
            config.get_case_rate,
            config.get_case_rate.max(1.0),
        ))
    });
    let store = CachedStore::new(store(sdk, config), config.case_cache_bytes);
    Projector::from_parts(store, enricher, config.projection, config.case_concurrency)
        .with_dimensions(config.report_dimensions.clone())
}
