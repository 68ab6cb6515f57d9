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
use cases_projector::backfill::{Backfill, Limiter, Mode, Options, Quiet};
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
            self.0
                .lock()
                .unwrap()
                .insert(format!("{}:{}", m.service(), m.name()));
        }
        Ok(())
    }
}

/// The IAM actions an SDK operation needs. Transactions and batches are authorised per
/// contained action.
fn iam_actions(recorded: &str) -> Vec<String> {
    let (service, operation) = recorded.split_once(':').unwrap();
    match (service.to_ascii_lowercase().as_str(), operation) {
        // A commit's transaction puts items, adds to counters and deletes overflow items.
        ("dynamodb", "TransactWriteItems") => vec![
            "dynamodb:PutItem".into(),
            "dynamodb:UpdateItem".into(),
            "dynamodb:DeleteItem".into(),
        ],
        ("dynamodb", op) => vec![format!("dynamodb:{op}")],
        ("connectcases", op) => vec![format!("cases:{op}")],
        other => panic!("unexpected service call {other:?}"),
    }
}

fn template_actions() -> BTreeSet<String> {
    function_actions("ProjectorFunction")
}

fn function_actions(function: &str) -> BTreeSet<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    let statements = &doc["Resources"][function]["Properties"]["Policies"][0]["Statement"];
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
    DynamoStore::new(table_client.clone(), "cases")
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
    let projector = projector(DynamoStore::new(dynamo_client, "cases"))
        .with_enricher(Enricher::new(CasesApi::new(cases), settings));
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
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

async fn casesctl(
    standin: &CasesStandIn,
    args: &[&str],
    stdin: &str,
    case_fields: &str,
) -> (bool, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_casesctl"))
        .args(args)
        .env("AWS_ENDPOINT_URL_CONNECTCASES", standin.endpoint())
        .env("AWS_REGION", "us-west-2")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CASE_FIELDS", case_fields)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn casesctl_event_config_shows_and_applies_after_confirmation() {
    const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
    let standin = CasesStandIn::start(sample_fixture()).await;
    let (ok, shown) = casesctl(
        &standin,
        &["event-config", "show", "--domain-id", DOMAIN],
        "",
        "",
    )
    .await;
    assert!(ok, "{shown}");
    assert!(
        shown.contains("enabled: true") && shown.contains("events carry metadata only"),
        "{shown}"
    );

    let apply = ["event-config", "apply", "--domain-id", DOMAIN];
    let (ok, declined) = casesctl(&standin, &apply, "n\n", "priority").await;
    assert!(
        ok && declined.contains("+ field status") && declined.contains("+ field priority"),
        "{declined}"
    );
    assert!(declined.contains("nothing changed"));
    assert_eq!(
        standin.calls("PutCaseEventConfiguration"),
        0,
        "nothing is written without confirmation"
    );

    let (ok, applied) =
        casesctl(&standin, &[&apply[..], &["--yes"]].concat(), "", "priority").await;
    assert!(ok && applied.contains("applied"), "{applied}");
    let put = standin.last_put_configuration().unwrap();
    assert_eq!(put["eventBridge"]["enabled"], true);
    assert_eq!(
        put["eventBridge"]["includedData"]["relatedItemData"]["includeContent"],
        true
    );
    let fields: Vec<&str> = put["eventBridge"]["includedData"]["caseData"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"status")
            && fields.contains(&"last_closed_datetime")
            && fields.contains(&"priority"),
        "{fields:?}"
    );

    let (_, again) = casesctl(&standin, &apply, "", "priority").await;
    assert!(
        again.contains("already has everything"),
        "idempotent: {again}"
    );
    let (_, shown) = casesctl(
        &standin,
        &["event-config", "show", "--domain-id", DOMAIN],
        "",
        "",
    )
    .await;
    assert!(shown.contains("priority"), "{shown}");
}

/// The policy the README gives an operator for `casesctl backfill` (the JSON block after the
/// `backfill-policy` marker), as its actions.
fn readme_backfill_actions() -> BTreeSet<String> {
    readme_policy_actions("backfill-policy")
}

/// The actions of the README's policy after `<!-- marker -->`.
fn readme_policy_actions(marker: &str) -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = readme
        .split(&format!("<!-- {marker} -->"))
        .nth(1)
        .expect("marker in README");
    let json = after
        .split("```json")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(json).expect("the policy is JSON");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        for action in statement["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(!action.contains('*'), "no wildcard actions: {action}");
            actions.insert(action.to_owned());
        }
    }
    actions
}

#[tokio::test]
async fn the_readme_backfill_policy_grants_exactly_the_calls_backfill_makes() {
    let dynamo = DynamoLocal::start();
    // More than 25 fields, so some come from GetCase.
    let standin = CasesStandIn::start(support::domain_gen::generate(1, 5, 30).fixture()).await;
    let table_client = dynamodb_client(&dynamo.endpoint(), Duration::from_secs(5));
    DynamoStore::new(table_client.clone(), "cases")
        .create_table()
        .await
        .unwrap();
    let recorder = Recorder::default();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(
            table_client
                .config()
                .to_builder()
                .interceptor(recorder.clone())
                .build(),
        ),
        "cases",
    );
    let cases = CasesApi::new(aws_sdk_connectcases::Client::from_conf(
        cases_client(&standin.endpoint())
            .config()
            .to_builder()
            .interceptor(recorder.clone())
            .build(),
    ));
    let options = |mode| Options {
        domain_id: "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into(),
        rate: 1000.0,
        page_size: 25,
        history_since: "2020-01-01T00:00:00Z".parse().unwrap(),
        mode,
        dry_run: false,
        case_fields: None,
        projection: Default::default(),
        dimensions: Vec::new(),
    };
    let limiter = Limiter::new(1000.0);
    Backfill::new(&cases, &store, &limiter, options(Mode::Fresh))
        .run(&Quiet)
        .await
        .unwrap();
    // Where SearchAllRelatedItems is refused, related items are read per case.
    standin.inject(support::cases_standin::FaultRule {
        operation: Some("SearchAllRelatedItems"),
        case_id: None,
        fault: support::cases_standin::Fault::AccessDenied,
        rate: 1.0,
        times: None,
    });
    Backfill::new(&cases, &store, &limiter, options(Mode::Restart))
        .run(&Quiet)
        .await
        .unwrap();

    let used: BTreeSet<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|op| iam_actions(op))
        .collect();
    let granted = readme_backfill_actions();
    let missing: Vec<_> = used.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&used).collect();
    assert!(missing.is_empty(), "README's policy lacks {missing:?}");
    assert!(extra.is_empty(), "README's policy grants unused {extra:?}");
}

/// The reconciler's actions: like [`iam_actions`], but its transactions only put and delete
/// (reconcile counts nothing, so it never adds to a counter).
fn reconciler_iam_actions(recorded: &str) -> Vec<String> {
    match recorded.split_once(':').unwrap() {
        (service, "TransactWriteItems") if service.eq_ignore_ascii_case("dynamodb") => {
            vec!["dynamodb:PutItem".into(), "dynamodb:DeleteItem".into()]
        }
        _ => iam_actions(recorded),
    }
}

#[tokio::test]
async fn template_grants_the_reconciler_exactly_the_calls_reconcile_makes() {
    use cases_projector::enrichment::Budget;
    use cases_projector::reconcile::{Options as ReconcileOptions, Reconcile};
    use cases_projector::store::DomainStore;
    use support::cases_standin::{Fault, FaultRule};

    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let table_client = dynamodb_client(&dynamo.endpoint(), Duration::from_secs(5));
    let store = DynamoStore::new(table_client.clone(), "cases");
    store.create_table().await.unwrap();
    // The projector leaves cases deferred (GetCase throttled past the SDK's retries).
    standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: None,
    });
    let settings = EnricherSettings {
        case_fields: None,
        cache_ttl: Duration::from_secs(900),
        max_snapshot_age: Duration::from_secs(3600),
    };
    let projector = projector(store.clone()).with_enricher(
        Enricher::new(CasesApi::new(cases_client(&standin.endpoint())), settings)
            .with_budget(Budget::new(100.0, 100.0)),
    );
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
    }
    let domain = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
    assert!(!store.deferred_cases(domain).await.unwrap().is_empty());
    standin.clear_faults();
    // And one live case is gone from the domain: its delete was lost.
    let live = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";
    assert!(standin.remove_case(domain, live).is_some());

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
    let recorded_store = DynamoStore::new(dynamo_client, "cases");
    let limiter = Limiter::new(1000.0);
    let api = CasesApi::new(cases);
    let summary = Reconcile::new(
        &api,
        &recorded_store,
        &limiter,
        ReconcileOptions {
            since: Some(chrono::TimeDelta::days(3650)),
            ..reconcile_options(domain, 1000.0)
        },
    )
    .run()
    .await
    .unwrap();
    assert!(summary.counts.deferred_filled > 0);
    assert!(summary.counts.tombstones > 0, "{summary:?}");

    let used: BTreeSet<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|op| reconciler_iam_actions(op))
        .collect();
    let granted = function_actions("ReconcilerFunction");
    let missing: Vec<_> = used.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&used).collect();
    assert!(missing.is_empty(), "template.yaml lacks {missing:?}");
    assert!(extra.is_empty(), "template.yaml grants unused {extra:?}");
    // Index queries are authorised on the index ARNs.
    assert!(TEMPLATE.contains("${ReadModelTable.Arn}/index/byDeferred"));
    assert!(TEMPLATE.contains("${ReadModelTable.Arn}/index/byStatus"));
}

/// `casesctl regroup` on a table with cases to move and cases already grouped: the README's policy
/// grants exactly what it sends, a transaction's actions each counted.
#[tokio::test]
async fn the_readme_regroup_policy_grants_exactly_the_calls_regroup_makes() {
    let dynamo = DynamoLocal::start();
    let table_client = dynamodb_client(&dynamo.endpoint(), Duration::from_secs(5));
    let plain = DynamoStore::new(table_client.clone(), "cases");
    plain.create_table().await.unwrap();
    for event in sample_stream() {
        assert_eq!(
            handle(&projector(plain.clone()), event)
                .await
                .counts()
                .failed,
            0
        );
    }
    let recorder = Recorder::default();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(
            table_client
                .config()
                .to_builder()
                .interceptor(recorder.clone())
                .build(),
        ),
        "cases",
    );
    let options = cases_projector::regroup::Options {
        domain_id: "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into(),
        dimensions: vec!["case_reason".into()],
        restart: false,
    };
    let summary = cases_projector::regroup::run(&store, &options, &())
        .await
        .unwrap();
    assert!(summary.counts.regrouped > 0, "{summary:?}");
    let used: BTreeSet<String> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .flat_map(|op| iam_actions(op))
        .collect();
    let granted = readme_policy_actions("regroup-policy");
    let missing: Vec<_> = used.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "the README's regroup policy lacks {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "the README's regroup policy grants unused {extra:?}"
    );
}
