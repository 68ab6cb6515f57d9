//! `template.yaml` grants exactly what the code uses: the function's DynamoDB and Cases actions
//! are compared with the operations the real SDK clients perform while projecting the sample
//! stream with enrichment (recorded by an SDK interceptor).

use crate::support;

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

/// Records the IAM action of every request a client makes, as IAM authorises it: a
/// `TransactWriteItems` by the action of each item it holds (read from the request body: `Put`,
/// `Update`, `Delete`, `ConditionCheck`), a `TransactGetItems` as `GetItem`.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<BTreeSet<String>>>);

impl Recorder {
    fn actions(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Recorder {
    /// `client`, recording every request it makes.
    fn dynamodb(&self, client: &aws_sdk_dynamodb::Client) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    /// `client`, recording every request it makes.
    fn s3(&self, client: &aws_sdk_s3::Client) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    /// `client`, recording every request it makes.
    fn cases(&self, client: &aws_sdk_connectcases::Client) -> aws_sdk_connectcases::Client {
        aws_sdk_connectcases::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            let body: serde_json::Value = context
                .request()
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            self.0
                .lock()
                .unwrap()
                .extend(iam_actions(m.service(), m.name(), &body));
        }
        Ok(())
    }
}

/// The IAM actions one SDK request needs.
fn iam_actions(service: &str, operation: &str, body: &serde_json::Value) -> Vec<String> {
    match (service.to_ascii_lowercase().as_str(), operation) {
        ("dynamodb", "TransactWriteItems") => {
            let items = body["TransactItems"].as_array().expect("TransactItems");
            items
                .iter()
                .flat_map(|item| item.as_object().unwrap().keys())
                .map(|kind| match kind.as_str() {
                    "Put" => "dynamodb:PutItem".to_owned(),
                    "Update" => "dynamodb:UpdateItem".to_owned(),
                    "Delete" => "dynamodb:DeleteItem".to_owned(),
                    "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
                    other => panic!("unknown transaction item {other}"),
                })
                .collect()
        }
        ("dynamodb", "TransactGetItems") => vec!["dynamodb:GetItem".into()],
        ("dynamodb", "BatchWriteItem") => {
            // Authorised as BatchWriteItem itself; its requests are puts and deletes only.
            for requests in body["RequestItems"].as_object().unwrap().values() {
                for r in requests.as_array().unwrap() {
                    let kind = r.as_object().unwrap().keys().next().unwrap();
                    assert!(["PutRequest", "DeleteRequest"].contains(&kind.as_str()));
                }
            }
            vec!["dynamodb:BatchWriteItem".into()]
        }
        ("dynamodb", op) => vec![format!("dynamodb:{op}")],
        ("connectcases", op) => vec![format!("cases:{op}")],
        ("sqs", op) => vec![format!("sqs:{op}")],
        ("s3", op) => vec![format!("s3:{op}")],
        other => panic!("unexpected service call {other:?}"),
    }
}

/// An update giving `case_id` 400 fields of 768 characters, more than its item holds: the full
/// values go to `FULL#` overflow items, which a later, smaller state of the case (a delete, a
/// tombstone) deletes in its commit's transaction.
fn oversized_update(event_id: &str, case_id: &str) -> serde_json::Value {
    use support::streams::{case_event, text};
    let fields: serde_json::Map<String, serde_json::Value> = (0..400)
        .map(|n| {
            (
                format!("field_{n:03}"),
                text(&format!("{n:03}-").repeat(192)),
            )
        })
        .collect();
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    case_event(
        event_id,
        &at,
        "UPDATED",
        case_id,
        serde_json::Value::Object(fields),
    )
}

/// A table `cases` on `dynamo` holding every sample event's projection; its client.
async fn sample_table(dynamo: &DynamoLocal) -> aws_sdk_dynamodb::Client {
    let table_client = dynamo.client(Duration::from_secs(5));
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
    table_client
}

/// `used` and `granted` are the same set of actions.
fn assert_exactly(used: &BTreeSet<String>, granted: &BTreeSet<String>, whose: &str) {
    let missing: Vec<_> = used.difference(granted).collect();
    let extra: Vec<_> = granted.difference(used).collect();
    assert!(missing.is_empty(), "{whose} lacks {missing:?}");
    assert!(extra.is_empty(), "{whose} grants unused {extra:?}");
}

/// `value` with `!If [condition, then, else]` resolved by `mode` (the conditions that hold) and
/// `!Ref AWS::NoValue` dropped from sequences.
fn resolve(value: &serde_yaml_ng::Value, mode: &[&str]) -> Option<serde_yaml_ng::Value> {
    use serde_yaml_ng::Value;
    match value {
        Value::Tagged(t) if t.tag == "If" => {
            let args = t.value.as_sequence().unwrap();
            let holds = mode.contains(&args[0].as_str().unwrap());
            resolve(&args[if holds { 1 } else { 2 }], mode)
        }
        Value::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some("AWS::NoValue") => None,
        Value::Sequence(items) => Some(Value::Sequence(
            items.iter().filter_map(|v| resolve(v, mode)).collect(),
        )),
        Value::Mapping(m) => Some(Value::Mapping(
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), resolve(v, mode)?)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The delivery modes, as the conditions that hold in each.
const MODES: [&[&str]; 2] = [&["UseQueue"], &["UseDirect"]];

fn template_actions() -> BTreeSet<String> {
    function_actions("ProjectorFunction")
}

/// The actions a function's role is granted (in every delivery mode).
fn function_actions(function: &str) -> BTreeSet<String> {
    MODES
        .iter()
        .flat_map(|mode| mode_actions(function, mode))
        .filter(|a| !a.starts_with("sqs:"))
        .collect()
}

/// The actions a function's role is granted in one delivery mode.
fn mode_actions(function: &str, mode: &[&str]) -> BTreeSet<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    let policies = resolve(&doc["Resources"][function]["Properties"]["Policies"], mode).unwrap();
    let mut actions = BTreeSet::new();
    for policy in policies.as_sequence().unwrap() {
        for statement in policy["Statement"].as_sequence().unwrap() {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"));
            for action in statement["Action"].as_sequence().unwrap() {
                let action = action.as_str().unwrap();
                assert!(!action.contains('*'), "no wildcard actions: {action}");
                actions.insert(action.to_owned());
            }
        }
    }
    actions
}

/// The functions of the template.
fn template_functions() -> Vec<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .collect()
}

/// What Lambda itself does with the projector's role: in queue mode it polls the queue (the
/// event source mapping: ReceiveMessage, DeleteMessage, GetQueueAttributes); in direct mode it
/// sends on-failure records to the dead-letter queue. Nothing else of SQS.
#[test]
fn the_projector_gets_the_sqs_actions_of_its_delivery_mode_only() {
    let sqs = |mode: &[&str]| -> BTreeSet<String> {
        mode_actions("ProjectorFunction", mode)
            .into_iter()
            .filter(|a| a.starts_with("sqs:"))
            .collect()
    };
    let set = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        sqs(MODES[0]),
        set(&[
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ])
    );
    assert_eq!(sqs(MODES[1]), set(&["sqs:SendMessage"]));
    assert!(
        mode_actions("ReconcilerFunction", MODES[0])
            .iter()
            .all(|a| !a.starts_with("sqs:"))
    );
    // Every function's role is checked against what it sends (the tests below).
    assert_eq!(
        template_functions(),
        [
            "ProjectorFunction",
            "ReconcilerFunction",
            "WidgetFunction",
            "ExporterFunction"
        ]
    );
}

#[tokio::test]
async fn template_grants_exactly_the_dynamodb_and_cases_actions_the_code_uses() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let table_client = dynamo.client(Duration::from_secs(5));
    DynamoStore::new(table_client.clone(), "cases")
        .create_table()
        .await
        .unwrap();

    // Only the function's own calls are recorded: table creation above is casesctl's.
    let recorder = Recorder::default();
    let dynamo_client = recorder.dynamodb(&table_client);
    let cases = cases_client(&standin.endpoint());
    let cases = recorder.cases(&cases);
    let settings = EnricherSettings {
        case_fields: None,
        cache_ttl: Duration::from_secs(900),
        max_snapshot_age: Duration::from_secs(3600),
    };
    let projector = projector(DynamoStore::new(dynamo_client.clone(), "cases"))
        .with_enricher(Enricher::new(CasesApi::new(cases), settings));
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
    }
    // A case grown past its item, then deleted: the delete's commit removes its overflow items.
    let plain = support::projector(DynamoStore::new(dynamo_client, "cases"));
    let case = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
    let deleted = support::streams::case_event(
        "oversized-deleted",
        &at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "DELETED",
        case,
        serde_json::json!({}),
    );
    for event in [oversized_update("oversized", case), deleted] {
        let report = handle(&plain, event).await;
        assert_eq!(report.counts().applied, 1, "{report:?}");
    }

    let granted = template_actions();
    assert_exactly(&recorder.actions(), &granted, "template.yaml");
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

    // Everything `show` and `apply` sent is what the README's policy grants.
    let used: BTreeSet<String> = standin
        .all_calls()
        .keys()
        .map(|op| format!("cases:{op}"))
        .collect();
    assert_exactly(
        &used,
        &readme_policy_actions("event-config-policy"),
        "the README's event-config policy",
    );
}

#[tokio::test]
async fn the_readme_table_create_policy_grants_exactly_the_calls_table_create_makes() {
    let dynamo = DynamoLocal::start();
    let recorder = Recorder::default();
    let client = recorder.dynamodb(&dynamo.client(Duration::from_secs(5)));
    let store = DynamoStore::new(client, "cases");
    assert!(store.create_table().await.unwrap());
    // Run again on an existing table, as an operator might.
    assert!(!store.create_table().await.unwrap());
    assert_exactly(
        &recorder.actions(),
        &readme_policy_actions("table-create-policy"),
        "the README's table create policy",
    );
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
    let table_client = dynamo.client(Duration::from_secs(5));
    DynamoStore::new(table_client.clone(), "cases")
        .create_table()
        .await
        .unwrap();
    let recorder = Recorder::default();
    let store = DynamoStore::new(recorder.dynamodb(&table_client), "cases");
    let cases = CasesApi::new(recorder.cases(&cases_client(&standin.endpoint())));
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

    let granted = readme_backfill_actions();
    // A commit deletes a case's overflow items when its new state needs fewer than the stored
    // one (`store::writes::plan`); no case here shrinks past its item, so that action is added
    // (the projector's and the reconciler's tests send it for real).
    let mut used = recorder.actions();
    used.insert("dynamodb:DeleteItem".to_owned());
    assert_exactly(&used, &granted, "README's policy");
}

#[tokio::test]
async fn template_grants_the_reconciler_exactly_the_calls_reconcile_makes() {
    use cases_projector::enrichment::Budget;
    use cases_projector::reconcile::{Options as ReconcileOptions, Reconcile};
    use cases_projector::store::DomainStore;
    use support::cases_standin::{Fault, FaultRule};

    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let table_client = dynamo.client(Duration::from_secs(5));
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
    // Grown past its item first: its tombstone's commit removes its overflow items.
    let report = handle(
        &support::projector(store.clone()),
        oversized_update("oversized", live),
    )
    .await;
    assert_eq!(report.counts().applied, 1, "{report:?}");

    let recorder = Recorder::default();
    let dynamo_client = recorder.dynamodb(&table_client);
    let cases = cases_client(&standin.endpoint());
    let cases = recorder.cases(&cases);
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

    let granted = function_actions("ReconcilerFunction");
    assert_exactly(&recorder.actions(), &granted, "template.yaml");
    // Index queries are authorised on the index ARNs.
    assert!(TEMPLATE.contains("${ReadModelTable.Arn}/index/byDeferred"));
    assert!(TEMPLATE.contains("${ReadModelTable.Arn}/index/byStatus"));
}

/// `casesctl regroup` on a table with cases to move and cases already grouped: the README's policy
/// grants exactly what it sends, a transaction's actions each counted.
#[tokio::test]
async fn the_readme_regroup_policy_grants_exactly_the_calls_regroup_makes() {
    let dynamo = DynamoLocal::start();
    let table_client = sample_table(&dynamo).await;
    let recorder = Recorder::default();
    let store = DynamoStore::new(recorder.dynamodb(&table_client), "cases");
    let options = cases_projector::regroup::Options {
        domain_id: "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into(),
        dimensions: vec!["case_reason".into()],
        restart: false,
    };
    let summary = cases_projector::regroup::run(&store, &options, &())
        .await
        .unwrap();
    assert!(summary.counts.regrouped > 0, "{summary:?}");
    let granted = readme_policy_actions("regroup-policy");
    // A commit deletes a case's overflow items when its new state needs fewer than the stored
    // one (`store::writes::plan`); no case here shrinks past its item, so that action is added
    // (the projector's and the reconciler's tests send it for real).
    let mut used = recorder.actions();
    used.insert("dynamodb:DeleteItem".to_owned());
    assert_exactly(&used, &granted, "the README's regroup policy");
}

/// The exporter's three runs (the third removes the first's snapshot) against DynamoDB Local and
/// moto's S3: the template grants its role exactly what it sends, and the README's policy for
/// `casesctl export` the same.
#[tokio::test]
async fn template_and_readme_grant_the_exporter_exactly_the_calls_an_export_makes() {
    use cases_projector::export::run::{Options, run};
    use cases_projector::export::s3::S3Sink;
    let dynamo = DynamoLocal::start();
    let moto = support::moto::MotoS3::start();
    let table_client = sample_table(&dynamo).await;
    moto.client()
        .create_bucket()
        .bucket("export")
        .send()
        .await
        .unwrap();
    let recorder = Recorder::default();
    let store = DynamoStore::new(recorder.dynamodb(&table_client), "cases");
    let sink = S3Sink::new(recorder.s3(&moto.client()), "export", "");
    let domain = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
    let mut deleted = 0;
    for _ in 0..3 {
        let summary = run(&store, &sink, &Options::new(domain, chrono::Utc::now()))
            .await
            .unwrap();
        deleted += summary.files_deleted;
    }
    assert!(deleted > 0, "a superseded snapshot was removed");
    assert_exactly(
        &recorder.actions(),
        &function_actions("ExporterFunction"),
        "template.yaml",
    );
    assert_exactly(
        &recorder.actions(),
        &readme_policy_actions("export-policy"),
        "the README's export policy",
    );
}

/// The variables a function's code reads (recorded through its settings' lookup, every
/// optional one absent so that each is read), and the log level's.
fn read_by(function: &str) -> BTreeSet<String> {
    use cases_projector::config::Config;
    use cases_projector::reconcile::lambda::Settings;
    let read = Mutex::new(BTreeSet::new());
    let lookup = |name: &str| {
        read.lock().unwrap().insert(name.to_owned());
        match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "CASES_DOMAIN_ID" => Some("b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".to_owned()),
            _ => None,
        }
    };
    match function {
        "ProjectorFunction" => drop(Config::from_lookup(lookup).unwrap()),
        "ReconcilerFunction" => drop(Settings::from_lookup(lookup).unwrap()),
        "WidgetFunction" => drop(cases_projector::widget::Settings::from_lookup(lookup).unwrap()),
        "ExporterFunction" => drop(
            cases_projector::export::lambda::Settings::from_lookup(|name| match name {
                "EXPORT_TO" => {
                    lookup(name);
                    Some("s3://bucket".to_owned())
                }
                _ => lookup(name),
            })
            .unwrap(),
        ),
        other => panic!("which settings does {other} read?"),
    }
    let mut read = read.into_inner().unwrap();
    read.extend(
        cases_projector::telemetry::LEVEL_VARIABLES
            .iter()
            .map(|v| v.to_string()),
    );
    read
}

/// The variables the template gives a function: the globals and its own.
fn template_env(function: &str) -> BTreeSet<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    let own = &doc["Resources"][function]["Properties"]["Environment"]["Variables"];
    let global = &doc["Globals"]["Function"]["Environment"]["Variables"];
    [own, global]
        .into_iter()
        .filter_map(|v| v.as_mapping())
        .flat_map(|m| m.keys())
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

/// Every function gets every variable its code reads that the stack configures (so a parameter
/// reaches every function it matters to), none it does not read, and each variable left to its
/// default is documented in the README's Configuration section.
#[test]
fn each_functions_environment_matches_what_its_code_reads() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let configuration = readme
        .split("## Configuration")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let functions = template_functions();
    let configured: BTreeSet<String> = functions.iter().flat_map(|f| template_env(f)).collect();
    for function in &functions {
        let read = read_by(function);
        let given = template_env(function);
        let unread: Vec<_> = given.difference(&read).collect();
        assert!(
            unread.is_empty(),
            "{function} is given {unread:?}, never read"
        );
        let missing: Vec<_> = read
            .intersection(&configured)
            .filter(|v| !given.contains(*v))
            .collect();
        assert!(
            missing.is_empty(),
            "{function} reads {missing:?}, which the stack sets for another function only"
        );
        for defaulted in read.difference(&given) {
            assert!(
                configuration.contains(&format!("`{defaulted}`")),
                "{defaulted} ({function}, left to its default) is not in the README's Configuration"
            );
        }
    }
}

/// Lambda drops JSON application logs below `ApplicationLogLevel`: it follows `LogLevel`.
#[test]
fn the_log_level_parameter_reaches_lambdas_log_filter() {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    for level in doc["Parameters"]["LogLevel"]["AllowedValues"]
        .as_sequence()
        .unwrap()
    {
        let level = level.as_str().unwrap();
        assert_eq!(
            doc["Mappings"]["LambdaLogLevel"][level]["Level"].as_str(),
            Some(level.to_uppercase().as_str())
        );
    }
    for function in template_functions() {
        let config = &doc["Resources"][function.as_str()]["Properties"]["LoggingConfig"];
        let level = serde_yaml_ng::to_string(&config["ApplicationLogLevel"]).unwrap();
        assert!(
            level.contains("LambdaLogLevel") && level.contains("LogLevel"),
            "{function}: {level}"
        );
        assert!(
            matches!(config["LogGroup"], serde_yaml_ng::Value::Tagged(_)),
            "{function} logs to its own group"
        );
    }
}

fn template() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(TEMPLATE).unwrap()
}

/// The README's `## Deploy` and `## Operate` sections.
fn readme_deploy_and_operate() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("\n## Deploy").expect("a Deploy section");
    readme[start..].to_owned()
}

#[test]
fn a_stack_deletion_or_replacement_keeps_the_table_the_archive_and_the_dead_letter_queues() {
    let doc = template();
    for kept in [
        "ReadModelTable",
        "CasesEventsArchive",
        "DeadLetterQueue",
        "RuleDeadLetterQueue",
    ] {
        let resource = &doc["Resources"][kept];
        assert_eq!(
            resource["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{kept}"
        );
        assert_eq!(
            resource["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{kept}"
        );
    }
    // A standard DLQ keeps a message's first enqueue time: it must keep messages longer than
    // the queue they come from, or they expire on arrival.
    let retention = |q: &str| {
        doc["Resources"][q]["Properties"]["MessageRetentionPeriod"]
            .as_u64()
            .unwrap()
    };
    assert!(retention("DeadLetterQueue") > retention("EventsQueue"));
}

#[test]
fn one_required_domain_and_the_reconciler_and_its_alarm_always_deployed() {
    let doc = template();
    let domain = &doc["Parameters"]["CasesDomainId"];
    assert!(domain.get("Default").is_none(), "no default: required");
    let pattern = regex_lite_match(domain["AllowedPattern"].as_str().unwrap());
    assert!(pattern("b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d"));
    assert!(!pattern("") && !pattern("*") && !pattern("b7e3a1c2"));
    for resource in [
        "ReconcilerFunction",
        "DeferredAgeAlarm",
        "ReconcilerErrorsAlarm",
    ] {
        assert!(
            doc["Resources"][resource].get("Condition").is_none(),
            "{resource} is always deployed"
        );
    }
    // No grant reaches beyond the domain.
    assert!(!TEMPLATE.contains(":domain/*"));
}

/// The one pattern the template uses for a domain id, checked without a regex engine: a
/// lower-case UUID.
fn regex_lite_match(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(
        pattern,
        "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    );
    |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && parts.iter().all(|p| {
                p.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            })
    }
}

/// Every allowed interval schedules the reconciler at that rate, and `DeferredAgeAlarm` evaluates
/// over two of them (every period holds a run's data point) and waits, rather than fires, while
/// there is none (before the first run).
#[test]
fn the_deferred_age_alarm_follows_the_reconcile_schedule_and_waits_for_the_first_run() {
    let doc = template();
    let alarm = &doc["Resources"]["DeferredAgeAlarm"]["Properties"];
    assert_eq!(alarm["TreatMissingData"].as_str(), Some("missing"));
    let period = serde_yaml_ng::to_string(&alarm["Period"]).unwrap();
    assert!(period.contains("ReconcileInterval") && period.contains("AlarmPeriod"));
    let schedule =
        serde_yaml_ng::to_string(
            &doc["Resources"]["ReconcilerFunction"]["Properties"]["Events"]["Every"]["Properties"]
                ["Schedule"],
        )
        .unwrap();
    assert!(schedule.contains("ReconcileInterval") && schedule.contains("Schedule"));
    for minutes in doc["Parameters"]["ReconcileIntervalMinutes"]["AllowedValues"]
        .as_sequence()
        .unwrap()
    {
        let minutes = minutes.as_u64().unwrap();
        let row = &doc["Mappings"]["ReconcileInterval"][minutes.to_string().as_str()];
        let rate = row["Schedule"].as_str().unwrap();
        let (n, unit) = rate
            .strip_prefix("rate(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|r| r.split_once(' '))
            .unwrap();
        let n: u64 = n.parse().unwrap();
        let scheduled = match unit {
            "minutes" => n,
            "hour" | "hours" => n * 60,
            other => panic!("{other}"),
        };
        assert_eq!(scheduled, minutes, "{rate}");
        assert_eq!(unit == "hour", n == 1 && unit.starts_with("hour"), "{rate}");
        let period = row["AlarmPeriod"].as_u64().unwrap();
        assert_eq!(period, 2 * 60 * minutes);
        assert!(period <= 86_400, "CloudWatch's longest evaluation");
    }
}

/// Every parameter, output and alarm of the template is in the README's Deploy and Operate
/// sections (each alarm with what to do).
#[test]
fn the_readme_deploy_and_operate_sections_name_every_parameter_output_and_alarm() {
    let doc = template();
    let readme = readme_deploy_and_operate();
    for section in ["Parameters", "Outputs"] {
        for (name, _) in doc[section].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            assert!(
                readme.contains(&format!("`{name}`")),
                "{section}: {name} is not in the README's Deploy section"
            );
        }
    }
    for (name, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() == Some("AWS::CloudWatch::Alarm") {
            let name = name.as_str().unwrap();
            assert!(
                readme
                    .lines()
                    .any(|l| l.starts_with(&format!("| `{name}`")) && l.matches('|').count() == 4),
                "{name} has no row (fires when, do) in the README's alarm table"
            );
        }
    }
}

/// With `KmsKeyArn` set, the table, every queue and the archive are encrypted with it, and each
/// role may use it only through the services that hold its data; without it, nothing of KMS.
#[test]
fn an_optional_customer_managed_key_covers_every_store_of_event_data() {
    let doc = template();
    let key_of = |resource: &str, path: &[&str], mode: &[&str]| {
        let mut value = resolve(&doc["Resources"][resource]["Properties"], mode).unwrap();
        for step in path {
            value = value.get(*step).cloned().unwrap_or_default();
        }
        serde_yaml_ng::to_string(&value).unwrap()
    };
    let stores: [(&str, &[&str]); 5] = [
        ("ReadModelTable", &["SSESpecification", "KMSMasterKeyId"]),
        ("EventsQueue", &["KmsMasterKeyId"]),
        ("DeadLetterQueue", &["KmsMasterKeyId"]),
        ("RuleDeadLetterQueue", &["KmsMasterKeyId"]),
        ("CasesEventsArchive", &["KmsKeyIdentifier"]),
    ];
    for (resource, path) in stores {
        assert!(
            key_of(resource, path, &["UseQueue", "HasKmsKey"]).contains("KmsKeyArn"),
            "{resource} with the key"
        );
        assert_eq!(
            key_of(resource, path, &["UseQueue"]).trim(),
            "null",
            "{resource} without it"
        );
    }
    for function in template_functions() {
        for mode in MODES {
            let kms = |with_key: bool| -> Vec<String> {
                let mut conditions = mode.to_vec();
                if with_key {
                    conditions.push("HasKmsKey");
                }
                mode_actions(&function, &conditions)
                    .into_iter()
                    .filter(|a| a.starts_with("kms:"))
                    .collect()
            };
            assert!(kms(false).is_empty(), "{function}");
            assert_eq!(
                kms(true),
                [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey"
                ],
                "{function}"
            );
        }
    }
    assert!(TEMPLATE.matches("kms:ViaService").count() == template_functions().len());
}

/// The widget invocations of `events/widget/`, each a JSON value.
fn widget_invocations() -> Vec<(String, serde_json::Value)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("events/widget"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| (f.display().to_string(), read_json(&f)))
        .collect()
}

/// The widget function, answering every sample invocation and a breakdown by a dimension on a
/// table with the sample events, and one on a table that does not exist: the template grants
/// its role exactly the requests it sends.
#[tokio::test]
async fn template_grants_the_widget_exactly_the_reads_it_makes() {
    use cases_projector::widget::{Settings, answer};
    let dynamo = DynamoLocal::start();
    let table_client = dynamo.client(Duration::from_secs(5));
    let plain = DynamoStore::new(table_client.clone(), "cases");
    plain.create_table().await.unwrap();
    let projector = projector(plain).with_dimensions(vec!["case_reason".into()]);
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
    }
    let recorder = Recorder::default();
    let client = recorder.dynamodb(&table_client);
    let settings = Settings::from_lookup(|name| match name {
        "TABLE_NAME" => Some("cases".into()),
        "CASES_DOMAIN_ID" => Some("b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into()),
        "REPORT_DIMENSIONS" => Some("case_reason".into()),
        _ => None,
    })
    .unwrap();
    let store = DynamoStore::new(client.clone(), "cases");
    let mut invocations = widget_invocations();
    let mut by_reason = invocations
        .iter()
        .find(|(f, _)| f.ends_with("breakdown-status.json"))
        .unwrap()
        .1
        .clone();
    by_reason["by"] = "case_reason".into();
    by_reason["widgetContext"]["params"]["by"] = "case_reason".into();
    invocations.push(("by case_reason".into(), by_reason));
    for (file, event) in &invocations {
        let html = answer(&store, &settings, event, chrono::Utc::now()).await;
        assert!(
            !html.to_string().contains("could not be read"),
            "{file}: {html}"
        );
    }
    let missing = DynamoStore::new(client, "no-such-table");
    let html = answer(&missing, &settings, &invocations[0].1, chrono::Utc::now()).await;
    assert!(html.to_string().contains("could not be read"), "{html}");
    assert_exactly(
        &recorder.actions(),
        &function_actions("WidgetFunction"),
        "template.yaml",
    );
}

/// Every widget of the case-metrics dashboard is a custom widget calling WidgetFunction with
/// parameters it accepts (checked by the widget's own parser, with a dashboard's context), is
/// redrawn on refresh, resize and a new time range, and sits on CloudWatch's 24-column grid
/// without overlapping another; the dashboard's name is a stack output.
#[test]
fn the_case_metrics_dashboard_calls_the_widget_with_parameters_it_accepts() {
    use cases_projector::dashboard::widget::{Invocation, request};
    let doc = template();
    let dashboard = &doc["Resources"]["CaseMetricsDashboard"];
    assert_eq!(
        dashboard["Type"].as_str(),
        Some("AWS::CloudWatch::Dashboard")
    );
    let serde_yaml_ng::Value::Tagged(sub) = &dashboard["Properties"]["DashboardBody"] else {
        panic!("the body is a !Sub");
    };
    let args = sub.value.as_sequence().unwrap();
    let endpoint = serde_yaml_ng::to_string(&args[1]["Fn"]).unwrap();
    assert!(
        endpoint.contains("GetAtt") && endpoint.contains("WidgetFunction.Arn"),
        "{endpoint}"
    );
    let body: serde_json::Value = serde_json::from_str(args[0].as_str().unwrap()).unwrap();
    let widgets = body["widgets"].as_array().unwrap();
    let mut panels = BTreeSet::new();
    let mut cells = BTreeSet::new();
    for w in widgets {
        let p = &w["properties"];
        assert_eq!(w["type"], "custom");
        assert_eq!(p["endpoint"], "${Fn}");
        assert_eq!(
            p["updateOn"],
            serde_json::json!({"refresh": true, "resize": true, "timeRange": true})
        );
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        let [x, y, width, height] = ["x", "y", "width", "height"].map(|k| w[k].as_u64().unwrap());
        assert!(x + width <= 24, "{w}");
        for cx in x..x + width {
            for cy in y..y + height {
                assert!(cells.insert((cx, cy)), "widgets overlap at {cx},{cy}");
            }
        }
        let invocation: Invocation = serde_json::from_value(serde_json::json!({
            "widgetContext": {
                "timeRange": {"mode": "relative", "start": 1_795_046_400_000_i64, "end": 1_795_392_000_000_i64},
                "params": p["params"], "width": width * 49, "height": height * 61
            }
        }))
        .unwrap();
        let asked = request(&invocation, &[]).unwrap_or_else(|e| panic!("{w}: {e}"));
        panels.insert(format!("{:?}", asked.panel));
    }
    assert_eq!(panels.len(), widgets.len(), "one widget per panel");
    let output =
        serde_yaml_ng::to_string(&doc["Outputs"]["CaseMetricsDashboardName"]["Value"]).unwrap();
    assert!(output.contains("CaseMetricsDashboard"), "{output}");
}
