//! Wiring, in one place: config → SDK clients → adapters → projector. Used by the Lambda and
//! by `casesctl`.

use crate::config::Config;
use crate::connect_cases::{self, CasesApi};
use crate::enrichment::Enricher;
use crate::handler::Projector;
use crate::store::dynamodb::{self, DynamoStore};

pub async fn store(config: &Config) -> DynamoStore {
    let client = dynamodb::client_from_env(config.store_timeout).await;
    DynamoStore::new(client, &config.table_name, config.dedupe_ttl)
}

pub async fn projector(config: &Config) -> Projector<DynamoStore, CasesApi> {
    let enricher = match &config.enrichment {
        Some(settings) => {
            let client = connect_cases::client_from_env(config.cases_timeout).await;
            Some(Enricher::new(CasesApi::new(client), settings.clone()))
        }
        None => None,
    };
    Projector::from_parts(
        store(config).await,
        enricher,
        config.projection,
        config.case_concurrency,
    )
}
