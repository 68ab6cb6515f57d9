//! casesctl: run the read model locally.
//!
//! casesctl table create        create the table as template.yaml defines it (idempotent)
//! casesctl replay PATH...      feed event files/folders through the handler, one invocation per file
//! casesctl show                print the read model
//!
//! Honours TABLE_NAME and the standard AWS variables (AWS_ENDPOINT_URL_DYNAMODB, ...).

use std::path::PathBuf;
use std::process::ExitCode;

use cases_projector::config::Config;
use cases_projector::{local, wiring};

const USAGE: &str = "usage: casesctl table create | casesctl replay PATH... | casesctl show";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let store = wiring::store(&config).await;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
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
        ["replay", paths @ ..] if !paths.is_empty() => {
            let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
            let files = match local::replay_files(&paths) {
                Ok(f) => f,
                Err(e) => return fail(&e.to_string()),
            };
            let projector = wiring::projector(&config).await;
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
        ["show"] => match local::render_read_model(&store).await {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()),
        },
        _ => fail(USAGE),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("casesctl: {message}");
    ExitCode::FAILURE
}
