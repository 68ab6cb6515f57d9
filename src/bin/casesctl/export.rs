//! `casesctl export`: the projection as Parquet, to a folder or S3 (the work is
//! `cases_projector::export`).

use std::process::ExitCode;

use cases_projector::config::Config;
use cases_projector::export::run::{Options, Summary, run};
use cases_projector::export::s3::{self, S3Sink};
use cases_projector::export::sink::{Destination, LocalDir};
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};

pub struct Args {
    pub domain_id: String,
    pub out: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("casesctl export: {message}");
    ExitCode::from(code)
}

pub async fn export(args: Args) -> ExitCode {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from >= to
    {
        return fail(
            &format!("empty range: --from {from} must be before --to {to} (exclusive)"),
            2,
        );
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let destination = match Destination::parse(&args.out) {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let mut options = Options::new(args.domain_id, Utc::now());
    options.dimensions = config.report_dimensions.clone();
    options.include_content = config.projection.store_customer_content;
    options.from = args.from;
    options.to = args.to;
    let result = match destination {
        Destination::S3 { bucket, prefix } => {
            run(
                &store,
                &S3Sink::new(s3::client(&sdk), bucket, prefix),
                &options,
            )
            .await
        }
        Destination::Dir(path) => match LocalDir::new(&path) {
            Ok(sink) => run(&store, &sink, &options).await,
            Err(e) => return fail(&e.to_string(), 1),
        },
    };
    match result {
        Ok(summary) => {
            eprintln!("{}", describe(&summary));
            println!(
                "{}",
                serde_json::to_string(&summary).expect("a summary serialises")
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(
            &format!(
                "{e}\nthe previous export stays readable; run the same command again to go on"
            ),
            1,
        ),
    }
}

fn describe(s: &Summary) -> String {
    format!(
        "export {}{}: {} of {} day(s) rewritten; {} case(s), {} field value(s), {} related item(s); {} file(s), {} bytes written, {} removed; {:.1} read units scanned",
        s.export_id,
        if s.resumed { " (resumed)" } else { "" },
        s.days_written.len(),
        s.days,
        s.counts.cases,
        s.counts.field_values,
        s.counts.related_items,
        s.files_written,
        s.bytes_written,
        s.files_deleted,
        s.scan_read_units,
    )
}
