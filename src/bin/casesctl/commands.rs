//! The bodies of casesctl's commands. Each returns its [`Outcome`]; `main` prints a failure
//! and exits with its status.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use cases_projector::config::{Config, ConfigError};
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::enrichment::CaseReader;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::wiring;

use crate::env::{self, Var};
use crate::local;
use crate::outcome::{Failure, Outcome};

/// The configuration `vars` give and the store, for the commands that work on the read model.
pub async fn read_model(
    vars: &[Var],
) -> Result<(Config, aws_config::SdkConfig, DynamoStore), Failure> {
    let config = env::config(vars)?;
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    Ok((config, sdk, store))
}

pub async fn table_create() -> Outcome {
    let (config, _, store) = read_model(env::TABLE).await?;
    let verb = if store.create_table().await? {
        "created"
    } else {
        "already exists:"
    };
    println!(
        "table {} {verb} as template.yaml defines it",
        config.table_name
    );
    Ok(())
}

pub async fn show() -> Outcome {
    let (_, _, store) = read_model(env::TABLE).await?;
    print!("{}", local::render_read_model(&store).await?);
    Ok(())
}

pub async fn replay(paths: &[PathBuf]) -> Outcome {
    let (config, sdk, _) = read_model(env::REPLAY).await?;
    let files = local::replay_files(paths).map_err(|e| Failure::Refused(e.to_string()))?;
    let projector = wiring::projector(&sdk, &config);
    let mut out = String::new();
    let result = local::replay(&projector, &files, &mut out).await;
    print!("{out}");
    let reports = result.map_err(|e| Failure::Failed(e.to_string()))?;
    let failed: usize = reports.iter().map(|r| r.counts().failed).sum();
    let unrecognised = reports.iter().filter(|r| r.unrecognised.is_some()).count();
    if failed + unrecognised > 0 {
        return Err(Failure::Failed(format!(
            "{failed} record(s) failed and {unrecognised} file(s) were not an invocation (see above)"
        )));
    }
    Ok(())
}

async fn cases_api() -> CasesApi {
    CasesApi::new(connect_cases::client(
        &wiring::sdk_config().await,
        Duration::from_secs(10),
    ))
}

pub async fn event_config_show(domain_id: &str) -> Outcome {
    let current = cases_api().await.event_configuration(domain_id).await?;
    print!("{}", local::render_event_configuration(&current));
    Ok(())
}

pub async fn event_config_apply(domain_id: &str, yes: bool) -> Outcome {
    let case_fields = case_fields()?;
    let api = cases_api().await;
    let current = api.event_configuration(domain_id).await?;
    let desired = local::recommended_event_configuration(&current, &case_fields);
    let diff = local::event_configuration_diff(&current, &desired);
    if diff.is_empty() {
        println!(
            "the event configuration of {domain_id} already has everything the projector needs"
        );
        return Ok(());
    }
    print!("changes to the event configuration of {domain_id}:\n{diff}");
    if desired.fields.len() > 400 {
        return Err(Failure::Refused(
            "an event configuration holds at most 400 fields: shorten CASE_FIELDS".into(),
        ));
    }
    if !yes {
        println!("apply? [y/N]");
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing changed");
            return Ok(());
        }
    }
    api.put_event_configuration(domain_id, &desired).await?;
    println!("applied");
    Ok(())
}

/// `CASE_FIELDS` exactly as the Lambda reads it, through [`Config`]. The event configuration
/// needs no table; and the fields belong in the events whether or not the function enriches
/// (with `ENRICHMENT=off` events are its only source), so they are read as if enrichment were
/// on.
fn case_fields() -> Result<Vec<String>, ConfigError> {
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("(not needed)".into()),
        "ENRICHMENT" => Some("on".into()),
        "CASE_FIELDS" => std::env::var(name).ok(),
        _ => None,
    })?;
    Ok(config
        .enrichment
        .and_then(|e| e.case_fields)
        .unwrap_or_default())
}
