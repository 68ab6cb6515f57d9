//! casesctl: run and set up the read model. Parsing and dispatch only; the commands are in
//! `commands.rs`.
//!
//! casesctl table create                               create the table as template.yaml defines it (idempotent)
//! casesctl replay PATH...                             feed event files/folders through the handler, one invocation per file
//! casesctl show                                       print the read model
//! casesctl event-config show --domain-id D            print the domain's case event configuration
//! casesctl event-config apply --domain-id D [--yes]   set the configuration the projector works best with
//! casesctl backfill --domain-id D [--rate R] [--history-since DATE] [--resume | --restart] [--dry-run]
//!                                                     fill the read model from the Cases API, history included
//! casesctl report --domain-id D --from DATE --to DATE [--interval day|week|total] [--by FIELD] [--format table|json|csv]
//! casesctl dashboard --domain-id D [--from DATE --to DATE] --out FILE.html
//! casesctl reconcile --domain-id D [--since DURATION] [--rate R] [--deferred-only]
//!                                                     fill deferred cases, heal lost updates and deletes
//! casesctl regroup --domain-id D [--restart]          every stored case counted under REPORT_DIMENSIONS now
//! casesctl export --domain-id D --out DIR|s3://BUCKET/PREFIX [--from DATE --to DATE]
//!                                                     the projection as Parquet for SQL engines
//!
//! Exit status: 0 done, 1 failed (running again may work), 2 refused (a usage error, or
//! something an operator must change first); see `outcome.rs`.

mod backfill;
mod commands;
mod dashboard;
mod env;
mod export;
mod local;
mod outcome;
mod progress;
mod reconcile;
mod regroup;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Run and set up the cases-projector read model.
#[derive(Debug, Parser)]
#[command(
    name = "casesctl",
    version,
    after_help = "Each command's --help lists the environment it reads (TABLE_NAME, ...).\n\
                  Exit status: 0 done, 1 failed (running again may work), 2 refused (a usage\n\
                  error, or something to change first: the message says what)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the read-model table.
    #[command(subcommand)]
    Table(TableCommand),
    /// Feed event files through the handler, one invocation per file.
    ///
    /// A folder stands for its `*.json` files (not its sub-folders), in name order. Exits 1 if
    /// any record fails or any file is not a recognised invocation.
    #[command(after_help = env::help(env::REPLAY))]
    Replay {
        /// Event files or folders of them.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the read model: cases, related items, daily numbers, field metadata (a Scan: for
    /// local tables).
    #[command(after_help = env::help(env::TABLE))]
    Show,
    /// Show or set the Connect Cases domain's case event configuration.
    #[command(subcommand)]
    EventConfig(EventConfigCommand),
    /// Fill the read model from the Cases API: every case, its related items, and the statuses
    /// its audit history shows.
    ///
    /// Safe while the projector is live: each read is applied as of its own data's time, so it
    /// never rolls back a newer change, and every number follows from the merged case states (a
    /// second run counts nothing twice). Deleted cases cannot be backfilled: DeleteCase removes a
    /// case with its audit history.
    ///
    /// Ctrl-C stops it: the checkpoint of the last page done is kept, and `--resume` goes on
    /// from there.
    #[command(after_help = env::help(env::BACKFILL))]
    Backfill(BackfillArgs),
    /// Connect's case metrics per interval (and group) from the read model's aggregates.
    ///
    /// --from is inclusive, --to exclusive, UTC days. Metric ids and definitions as in Amazon
    /// Connect (docs/metrics.md); JSON rows carry them as keys.
    #[command(after_help = env::help(env::REPORT))]
    Report(ReportArgs),
    /// Write one self-contained HTML page of the case metrics (charts and their numbers).
    #[command(after_help = env::help(env::REPORT))]
    Dashboard(DashboardArgs),
    /// Heal the read model: fill every case whose GetCase enrichment was deferred, apply cases
    /// updated since the last run's watermark as snapshots (a lost update heals), add related
    /// items associated since then that it lacks (a lost related-item event), and tombstone live
    /// cases GetCase no longer finds (a lost delete).
    ///
    /// The first run (no watermark yet, no --since) looks back one day. One run at a time per
    /// domain (a lease that expires if a run dies): another run meanwhile is refused (exit 2)
    /// and does nothing. Prints its summary; `--emf` prints the CloudWatch EMF line instead.
    /// Ctrl-C stops it at the last page done, releases the lease, and the next run goes on.
    #[command(after_help = env::help(env::RECONCILE))]
    Reconcile(ReconcileArgs),
    /// Count every stored case of the domain under the REPORT_DIMENSIONS set now: after changing
    /// them, and once after upgrading a table an earlier version wrote (its numbers then come
    /// from the cases).
    ///
    /// Reads only the table (a Scan), moves each case's contribution in the case's own
    /// conditional write (safe beside the live projector), checkpoints every page: a failed or
    /// interrupted run goes on where it stopped when run again.
    #[command(after_help = env::help(env::REPORT))]
    Regroup(RegroupArgs),
    /// Write the projection as Parquet (Hive-style, for Athena, DuckDB, QuickSight, Grafana):
    /// the daily numbers of `report` and the current cases and related items (docs/export.md).
    ///
    /// Rewrites only the days whose numbers changed since the last export to the same place, and
    /// publishes a new snapshot of the current state; an interrupted run goes on when run again.
    #[command(after_help = env::help(env::EXPORT))]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    domain: Domain,
    /// A folder, or s3://BUCKET/PREFIX.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    out: String,
    /// Only days from this UTC day (inclusive); default every day.
    #[arg(long, value_name = "DATE")]
    from: Option<chrono::NaiveDate>,
    /// Only days before this UTC day (exclusive).
    #[arg(long, value_name = "DATE")]
    to: Option<chrono::NaiveDate>,
    /// `json`: the summary as one JSON object (files, bytes, days rewritten, read units).
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct RegroupArgs {
    #[command(flatten)]
    domain: Domain,
    /// Start over instead of going on from an unfinished run.
    #[arg(long)]
    restart: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IntervalArg {
    Day,
    Week,
    Total,
}

impl From<IntervalArg> for cases_projector::analytics::model::Interval {
    fn from(i: IntervalArg) -> Self {
        match i {
            IntervalArg::Day => Self::Day,
            IntervalArg::Week => Self::Week,
            IntervalArg::Total => Self::Total,
        }
    }
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    domain: Domain,
    /// First UTC day (inclusive).
    #[arg(long, value_name = "DATE")]
    from: chrono::NaiveDate,
    /// Last UTC day (exclusive).
    #[arg(long, value_name = "DATE")]
    to: chrono::NaiveDate,
    #[arg(long, value_enum, default_value_t = IntervalArg::Day)]
    interval: IntervalArg,
    /// Group by `template`, `status` or a field id in REPORT_DIMENSIONS (the case's current value).
    #[arg(long, value_name = "FIELD")]
    by: Option<String>,
    #[arg(long, value_enum, default_value_t = report::Format::Table)]
    format: report::Format,
}

#[derive(Debug, Args)]
struct DashboardArgs {
    #[command(flatten)]
    domain: Domain,
    /// First UTC day (inclusive); default 30 days before --to.
    #[arg(long, value_name = "DATE")]
    from: Option<chrono::NaiveDate>,
    /// Last UTC day (exclusive); default tomorrow.
    #[arg(long, value_name = "DATE")]
    to: Option<chrono::NaiveDate>,
    /// Where to write the page.
    #[arg(long, value_name = "FILE.html")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ReconcileArgs {
    #[command(flatten)]
    domain: Domain,
    /// Look back this far (e.g. 15m, 6h, 7d; at most 3650d) instead of from the last run's
    /// watermark.
    #[arg(long, value_name = "DURATION", value_parser = cases_projector::reconcile::parse_window, allow_hyphen_values = true)]
    since: Option<chrono::TimeDelta>,
    /// Cases API requests per second, all operations together (shared with the projector),
    /// 0.01 to 20: the template's reconciler uses 1.
    #[arg(long, value_name = "R", default_value_t = 1.0, value_parser = rate, allow_negative_numbers = true)]
    rate: f64,
    /// SearchCases page size.
    #[arg(long, value_name = "N", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    page_size: u32,
    /// Seconds a run's lease lasts without renewal (renewed after every page), 1 to 43200.
    #[arg(long, value_name = "S", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=43_200))]
    lease_seconds: u64,
    /// Only fill deferred cases: no search, no lost-delete check.
    #[arg(long)]
    deferred_only: bool,
    /// Print the run's CloudWatch embedded-metric-format line (as the reconciler function logs
    /// it) on standard output instead of the summary.
    #[arg(long)]
    emf: bool,
}

#[derive(Debug, Args)]
struct BackfillArgs {
    #[command(flatten)]
    domain: Domain,
    /// Cases API requests per second, all operations together, 0.01 to 20 (the account's
    /// GetCase quota, about 4/s by default, is shared with the live projector).
    #[arg(long, value_name = "R", default_value_t = 2.0, value_parser = rate, allow_negative_numbers = true)]
    rate: f64,
    /// Read audit history only for cases updated since this UTC day (default: 90 days ago).
    #[arg(long, value_name = "DATE")]
    history_since: Option<chrono::NaiveDate>,
    /// SearchCases page size (the model allows 1–100; older documentation says at most 25).
    #[arg(long, value_name = "N", default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    page_size: u32,
    /// Continue an interrupted run from its checkpoint (refused when there is none).
    #[arg(long, conflicts_with = "restart")]
    resume: bool,
    /// Start over, discarding an unfinished run's checkpoint (nothing counts twice).
    #[arg(long)]
    restart: bool,
    /// Print the plan and stop. Planning reads the domain's size: ListFields (unless
    /// CASE_FIELDS is set), one SearchCases and one SearchAllRelatedItems call.
    #[arg(long)]
    dry_run: bool,
}

/// Requests per second: from one every 100 s to 20/s (5 times the default GetCase quota:
/// more needs a raised quota, and then still shares it with the live projector).
const RATES: std::ops::RangeInclusive<f64> = 0.01..=20.0;

fn rate(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(r) if RATES.contains(&r) => Ok(r),
        _ => Err(format!(
            "expected requests per second from {} to {}",
            RATES.start(),
            RATES.end()
        )),
    }
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the table as template.yaml defines it (does nothing if it exists).
    #[command(after_help = env::help(env::TABLE))]
    Create,
}

#[derive(Debug, Subcommand)]
enum EventConfigCommand {
    /// Print the domain's case event configuration.
    #[command(after_help = env::help(env::EVENT_CONFIG_SHOW))]
    Show(Domain),
    /// Enable events with related-item content and the fields the projector needs (the
    /// dashboard fields and CASE_FIELDS); prints the difference and asks before writing.
    #[command(after_help = env::help(env::EVENT_CONFIG_APPLY))]
    Apply {
        #[command(flatten)]
        domain: Domain,
        /// Write without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
struct Domain {
    /// The Connect Cases domain id.
    #[arg(long, value_name = "D")]
    domain_id: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors exit 2 with a hint; --help and --version exit 0.
    let cli = Cli::parse();
    let name = cli.command.name();
    outcome::exit(name, run(cli.command).await)
}

impl Command {
    /// The command's name in messages.
    fn name(&self) -> &'static str {
        match self {
            Command::Table(TableCommand::Create) => "table create",
            Command::Replay { .. } => "replay",
            Command::Show => "show",
            Command::EventConfig(EventConfigCommand::Show(_)) => "event-config show",
            Command::EventConfig(EventConfigCommand::Apply { .. }) => "event-config apply",
            Command::Backfill(_) => "backfill",
            Command::Report(_) => "report",
            Command::Dashboard(_) => "dashboard",
            Command::Reconcile(_) => "reconcile",
            Command::Regroup(_) => "regroup",
            Command::Export(_) => "export",
        }
    }
}

async fn run(command: Command) -> outcome::Outcome {
    match command {
        Command::Table(TableCommand::Create) => commands::table_create().await,
        Command::Replay { paths } => commands::replay(&paths).await,
        Command::Show => commands::show().await,
        Command::EventConfig(EventConfigCommand::Show(Domain { domain_id })) => {
            commands::event_config_show(&domain_id).await
        }
        Command::EventConfig(EventConfigCommand::Apply { domain, yes }) => {
            commands::event_config_apply(&domain.domain_id, yes).await
        }
        Command::Report(a) => {
            let query = report::Query {
                domain_id: a.domain.domain_id,
                from: a.from,
                to: a.to,
                interval: a.interval.into(),
                by: a.by,
            };
            report::report(query, a.format).await
        }
        Command::Dashboard(a) => {
            let to = a
                .to
                .unwrap_or_else(|| chrono::Utc::now().date_naive() + chrono::TimeDelta::days(1));
            let from = a.from.unwrap_or(to - chrono::TimeDelta::days(30));
            let query = report::Query {
                domain_id: a.domain.domain_id,
                from,
                to,
                interval: cases_projector::analytics::model::Interval::Day,
                by: None,
            };
            report::dashboard(query, a.out).await
        }
        Command::Backfill(a) => {
            backfill::run(backfill::Args {
                domain_id: a.domain.domain_id,
                rate: a.rate,
                page_size: a.page_size,
                history_since: a.history_since,
                mode: match (a.resume, a.restart) {
                    (true, _) => cases_projector::backfill::Mode::Resume,
                    (_, true) => cases_projector::backfill::Mode::Restart,
                    _ => cases_projector::backfill::Mode::Fresh,
                },
                dry_run: a.dry_run,
            })
            .await
        }
        Command::Regroup(a) => regroup::run(a.domain.domain_id, a.restart).await,
        Command::Export(a) => {
            export::export(export::Args {
                domain_id: a.domain.domain_id,
                out: a.out,
                from: a.from,
                to: a.to,
                json: a.format == SummaryFormat::Json,
            })
            .await
        }
        Command::Reconcile(a) => {
            reconcile::run(reconcile::Args {
                domain_id: a.domain.domain_id,
                rate: a.rate,
                since: a.since,
                page_size: a.page_size,
                lease: std::time::Duration::from_secs(a.lease_seconds),
                deferred_only: a.deferred_only,
                emf: a.emf,
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("casesctl").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_come_in_any_order() {
        for args in [
            ["event-config", "apply", "--domain-id", "d", "--yes"],
            ["event-config", "apply", "--yes", "--domain-id", "d"],
            ["event-config", "apply", "--yes", "--domain-id=d", "--"],
        ] {
            let args: Vec<&str> = args.into_iter().filter(|a| *a != "--").collect();
            assert!(
                matches!(
                    parse(&args),
                    Ok(Command::EventConfig(EventConfigCommand::Apply { domain, yes: true }))
                        if domain.domain_id == "d"
                ),
                "{args:?}"
            );
        }
    }

    #[test]
    fn replay_needs_a_path_and_takes_many() {
        assert!(parse(&["replay"]).is_err());
        assert!(matches!(
            parse(&["replay", "events/", "more.json"]),
            Ok(Command::Replay { paths }) if paths.len() == 2
        ));
    }
}
