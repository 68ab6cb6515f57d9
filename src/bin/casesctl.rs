//! casesctl: run and set up the read model.
//!
//! casesctl table create                           create the table as template.yaml defines it (idempotent)
//! casesctl replay PATH...                         feed event files/folders through the handler, one invocation per file
//! casesctl show                                   print the read model
//! casesctl event-config show --domain-id D        print the domain's case event configuration
//! casesctl event-config apply --domain-id D [--yes]  set the configuration the projector works best with
//!
//! Honours TABLE_NAME, CASE_FIELDS and the standard AWS variables (AWS_ENDPOINT_URL_DYNAMODB,
//! AWS_ENDPOINT_URL_CONNECTCASES, ...).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cases_projector::config::Config;
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::enrichment::CaseReader;
use cases_projector::{local, wiring};

const USAGE: &str = "usage: casesctl table create | replay PATH... | show | event-config (show|apply) --domain-id D [--yes]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [
            "event-config",
            action @ ("show" | "apply"),
            "--domain-id",
            domain,
            rest @ ..,
        ] => event_config(action, domain, rest.contains(&"--yes")).await,
        ["table", "create"] | ["show"] | ["replay", _, ..] => read_model(&args).await,
        _ => fail(USAGE),
    }
}

async fn read_model(args: &[&str]) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    match args {
        ["table", "create"] => match store.create_table().await {
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
        },
        ["show"] => match local::render_read_model(&store).await {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        ["replay", paths @ ..] => {
            let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
            let files = match local::replay_files(&paths) {
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
                        .all(|r| r.count("failed") == 0 && r.unrecognised.is_none()) =>
                {
                    ExitCode::SUCCESS
                }
                Ok(_) => ExitCode::FAILURE,
                Err(e) => fail(&e.to_string()),
            }
        }
        _ => fail(USAGE),
    }
}

async fn event_config(action: &str, domain_id: &str, yes: bool) -> ExitCode {
    let api = CasesApi::new(connect_cases::client(
        &wiring::sdk_config().await,
        Duration::from_secs(10),
    ));
    let current = match api.event_configuration(domain_id).await {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    if action == "show" {
        print!("{}", local::render_event_configuration(&current));
        return ExitCode::SUCCESS;
    }
    let case_fields: Vec<String> = std::env::var("CASE_FIELDS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
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

fn fail(message: &str) -> ExitCode {
    eprintln!("casesctl: {message}");
    ExitCode::FAILURE
}
