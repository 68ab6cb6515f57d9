//! `casesctl dashboard`: every panel of the case-metrics widget on one self-contained page (no
//! network request: inline SVG and CSS), drawn by the same renderer as the CloudWatch widget
//! (`cases_projector::dashboard`). The aggregates are read once; every report comes from them.

use std::path::Path;

use cases_projector::analytics::model::Interval;
use cases_projector::analytics::source;
use cases_projector::config::Config;
use cases_projector::dashboard::{self, Data, widget};
use cases_projector::store::dynamodb::DynamoStore;
use chrono::Utc;

use crate::outcome::{Failure, Outcome};
use crate::report::{Query, print_notes};

pub async fn write(config: &Config, store: &DynamoStore, q: &Query, out: &Path) -> Outcome {
    if q.from >= q.to {
        return Err(Failure::Refused(format!(
            "empty range: --from {} must be before --to {} (exclusive)",
            q.from, q.to
        )));
    }
    let groupings = widget::groupings(&config.report_dimensions);
    let fields: Vec<&str> = groupings.iter().map(String::as_str).collect();
    let names = source::names(store, &q.domain_id, &fields).await?;
    let aggregates = source::aggregates(store, &q.domain_id, q.from, q.to).await?;
    print_notes(&aggregates.notes);
    let now = Utc::now();
    let total = aggregates.report(Interval::Total, None, &names, now);
    let series = aggregates.report(q.interval, None, &names, now);
    let breakdowns: Vec<_> = groupings
        .iter()
        .map(|by| aggregates.report(Interval::Total, Some(by), &names, now))
        .collect();
    let html = dashboard::page(&Data {
        total: &total,
        series: &series,
        breakdowns: &breakdowns,
        names: &names,
        notes: &aggregates.notes,
        top: widget::DEFAULT_TOP,
    });
    std::fs::write(out, html)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", out.display())))?;
    println!("{}", out.display());
    Ok(())
}
