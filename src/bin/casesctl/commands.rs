//! The bodies of casesctl's commands. Each returns the process's exit status: 0 on success, 1
//! with a message on standard error otherwise.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cases_projector::config::{Config, ConfigError};
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::enrichment::CaseReader;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::wiring;

use crate::local;

/// The configuration and the store, for the commands that work on the read model.
async fn read_model() -> Result<(Config, aws_config::SdkConfig, DynamoStore), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    Ok((config, sdk, store))
}

pub async fn table_create() -> ExitCode {
    let (config, _, store) = match read_model().await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    match store.create_table().await {
        Ok(created) => {
            let verb = if created {
                "created"
            } else {
                "already exists:"
            };
            println!(
                "table {} {verb} as template.yaml defines it",
                config.table_name
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

pub async fn show() -> ExitCode {
    let (_, _, store) = match read_model().await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    match local::render_read_model(&store).await {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

pub async fn replay(paths: &[PathBuf]) -> ExitCode {
    let (config, sdk, _) = match read_model().await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let files = match local::replay_files(paths) {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string()),
    };
    let projector = wiring::projector(&sdk, &config);
    let mut out = String::new();
    let result = local::replay(&projector, &files, &mut out).await;
    print!("{out}");
    match result {
        Ok(reports)
            if reports
                .iter()
                .all(|r| r.counts().failed == 0 && r.unrecognised.is_none()) =>
        {
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::FAILURE,
        Err(e) => fail(&e.to_string()),
    }
}

async fn cases_api() -> CasesApi {
    CasesApi::new(connect_cases::client(
        &wiring::sdk_config().await,
        Duration::from_secs(10),
    ))
}

pub async fn event_config_show(domain_id: &str) -> ExitCode {
    match cases_api().await.event_configuration(domain_id).await {
        Ok(current) => {
            print!("{}", local::render_event_configuration(&current));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

pub async fn event_config_apply(domain_id: &str, yes: bool) -> ExitCode {
    let case_fields = match case_fields() {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string()),
    };
    let api = cases_api().await;
    let current = match api.event_configuration(domain_id).await {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let desired = local::recommended_event_configuration(&current, &case_fields);
    let diff = local::event_configuration_diff(&current, &desired);
    if diff.is_empty() {
        println!(
            "the event configuration of {domain_id} already has everything the projector needs"
        );
        return ExitCode::SUCCESS;
    }
    print!("changes to the event configuration of {domain_id}:\n{diff}");
    if desired.fields.len() > 400 {
        return fail("an event configuration holds at most 400 fields");
    }
    if !yes {
        println!("apply? [y/N]");
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing changed");
            return ExitCode::SUCCESS;
        }
    }
    match api.put_event_configuration(domain_id, &desired).await {
        Ok(()) => {
            println!("applied");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// `CASE_FIELDS` exactly as the Lambda reads it, through [`Config`]. The event configuration
/// needs no table, so `TABLE_NAME` may be unset here; and the fields belong in the events
/// whether or not the function enriches (with `ENRICHMENT=off` events are its only source), so
/// they are read as if enrichment were on.
fn case_fields() -> Result<Vec<String>, ConfigError> {
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(
            std::env::var(name)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "(not needed)".into()),
        ),
        "ENRICHMENT" => Some("on".into()),
        _ => std::env::var(name).ok(),
    })?;
    Ok(config
        .enrichment
        .and_then(|e| e.case_fields)
        .unwrap_or_default())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("casesctl: {message}");
    ExitCode::FAILURE
}
