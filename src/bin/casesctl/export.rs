//! `casesctl export`: the projection as Parquet, to a folder or S3 (the work is
//! `cases_projector::export`).

use cases_projector::export::ExportError;
use cases_projector::export::run::{Options, Summary, run};
use cases_projector::export::s3::{self, S3Sink};
use cases_projector::export::sink::{Destination, LocalDir};
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};

use crate::env;
use crate::outcome::{Failure, Outcome};

pub struct Args {
    pub domain_id: String,
    pub out: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The summary as one JSON object instead of a sentence.
    pub json: bool,
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Store(s) => Failure::from(s),
            e @ ExportError::Destination(_) => Failure::Refused(e.to_string()),
            e => Failure::Failed(e.to_string()),
        }
    }
}

pub async fn export(args: Args) -> Outcome {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from >= to
    {
        return Err(Failure::Refused(format!(
            "empty range: --from {from} must be before --to {to} (exclusive)"
        )));
    }
    let config = env::config(env::EXPORT)?;
    let destination = Destination::parse(&args.out)?;
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
        Destination::Dir(path) => run(&store, &LocalDir::new(&path)?, &options).await,
    };
    let summary = result.map_err(|e| {
        Failure::from(e)
            .then("the previous export stays readable; run the same command again to go on")
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&summary).expect("a summary serialises")
        );
    } else {
        println!("{}", describe(&summary));
    }
    Ok(())
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
