//! `template.yaml` grants exactly what the code uses: the function's DynamoDB and Cases actions
//! are compared with the operations the real SDK clients perform while projecting the sample
//! stream with enrichment (recorded by an SDK interceptor).

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use cases_projector::connect_cases::CasesApi;
use cases_projector::enrichment::{Enricher, EnricherSettings};
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::table::TEMPLATE;
use support::cases_standin::CasesStandIn;
use support::*;

/// Records `service:operation` of every request a client makes.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<BTreeSet<String>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            self.0.lock().unwrap().insert(m.name().to_owned());
        }
        Ok(())
    }
}

/// The IAM actions an SDK operation needs. Transactions and batches are authorised per
/// contained action.
fn iam_actions(operation: &str) -> Vec<String> {
    match operation {
        "TransactWriteItems" => vec!["dynamodb:PutItem".into(), "dynamodb:UpdateItem".into()],
        "Query" | "BatchWriteItem" => vec![format!("dynamodb:{operation}")],
        cases => vec![format!("cases:{cases}")],
    }
}

fn template_actions() -> BTreeSet<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    let statements =
        &doc["Resources"]["ProjectorFunction"]["Properties"]["Policies"][0]["Statement"];
    let mut actions = BTreeSet::new();
    for statement in statements.as_sequence().unwrap() {
        for action in statement["Action"].as_sequence().into_iter().flatten() {
            let action = action.as_str().unwrap();
            assert!(!action.contains('*'), "no wildcard actions: {action}");
            if action.starts_with("dynamodb:") || action.starts_with("cases:") {
                actions.insert(action.to_owned());
            }
        }
    }
    actions
}

#[tokio::test]
async fn template_grants_exactly_the_dynamodb_and_cases_actions_the_code_uses() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let table_client = dynamodb_client(&dynamo.endpoint(), Duration::from_secs(5));
    DynamoStore::new(table_client.clone(), "cases", DEDUPE_TTL)
        .create_table()
        .await
        .unwrap();

    // Only the function's own calls are recorded: table creation above is casesctl's.
    let recorder = Recorder::default();
    let dynamo_client = aws_sdk_dynamodb::Client::from_conf(
        table_client
            .config()
            .to_builder()
            .interceptor(recorder.clone())
            .build(),
    );
    let cases = cases_client(&standin.endpoint());
    let cases = aws_sdk_connectcases::Client::from_conf(
        cases
            .config()
            .to_builder()
            .interceptor(recorder.clone())
            .build(),
    );
    let settings = EnricherSettings {
        case_fields: None,
        cache_ttl: Duration::from_secs(900),
        max_snapshot_age: Duration::from_secs(3600),
    };
    let projector = projector(DynamoStore::new(dynamo_client, "cases", DEDUPE_TTL))
        .with_enricher(Enricher::new(CasesApi::new(cases), settings));
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.count("failed"), 0);
    }

    let used: BTreeSet<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|op| iam_actions(op))
        .collect();
    let granted = template_actions();
    let missing: Vec<_> = used.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&used).collect();
    assert!(missing.is_empty(), "template.yaml lacks {missing:?}");
    assert!(extra.is_empty(), "template.yaml grants unused {extra:?}");
}
