//! `casesctl backfill`: wiring, progress (a bar on a terminal, periodic lines otherwise) and the
//! summary. The work is `cases_projector::backfill`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cases_projector::backfill::{self, Backfill, Counts, Limiter, Mode, Options, Plan, Summary};
use cases_projector::config::Config;
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

pub struct Args {
    pub domain_id: String,
    pub rate: f64,
    pub page_size: u32,
    pub history_since: Option<NaiveDate>,
    pub mode: Mode,
    pub dry_run: bool,
}

pub async fn run(args: Args) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), 1),
    };
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let cases = CasesApi::new(connect_cases::batch_client(&sdk, config.cases_timeout));
    let limiter = Limiter::new(args.rate);
    let history_since = match args.history_since {
        Some(day) => day.and_hms_opt(0, 0, 0).unwrap().and_utc(),
        None => Utc::now() - chrono::TimeDelta::days(90),
    };
    let options = Options {
        domain_id: args.domain_id,
        rate: args.rate,
        page_size: args.page_size,
        history_since,
        mode: args.mode,
        dry_run: args.dry_run,
        case_fields: config
            .enrichment
            .as_ref()
            .and_then(|e| e.case_fields.clone()),
        projection: config.projection,
        dimensions: config.report_dimensions.clone(),
    };
    let progress = Progress::new();
    let backfill = Backfill::new(&cases, &store, &limiter, options);
    let run = backfill.run(&progress);
    tokio::pin!(run);
    // Between pages too (a page throttled for minutes), the progress line shows the throttles.
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            _ = tick.tick() => progress.tick(limiter.calls(), limiter.throttles()),
        }
    };
    progress.finish();
    match result {
        Ok(summary) => {
            eprintln!("{}", render_summary(&summary, args.dry_run));
            for warning in &summary.warnings {
                eprintln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let hint = match &e {
                backfill::BackfillError::Store(_) => {
                    " (the checkpoint is kept: run again with --resume)"
                }
                _ => "",
            };
            fail(&format!("{e}{hint}"), e.exit_code())
        }
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("casesctl backfill: {message}");
    ExitCode::from(code)
}

/// A bar on a terminal; a line every 10 seconds otherwise (logs, CI).
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
    /// The counts of the last page done.
    counts: Mutex<Counts>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} cases  {msg}  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// The progress line again with the calls and throttles so far.
    fn tick(&self, calls: u64, throttles: u64) {
        let counts = self.counts.lock().unwrap().clone();
        backfill::Progress::advanced(self, &counts, calls, throttles);
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl backfill::Progress for Progress {
    fn planned(&self, plan: &Plan) {
        eprintln!("{plan}");
        if let Some(bar) = &self.bar {
            bar.set_length(plan.cases);
        }
    }

    fn advanced(&self, counts: &Counts, calls: u64, throttles: u64) {
        counts.clone_into(&mut self.counts.lock().unwrap());
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        let message = format!(
            "{:.1} calls/s, {throttles} throttled, {} related item(s), {} history(ies) read",
            calls as f64 / elapsed,
            counts.related_items,
            counts.histories_read
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(counts.cases);
                bar.set_message(message);
            }
            None => {
                let mut last = self.last_line.lock().unwrap();
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    eprintln!("backfill: {} case(s) done; {message}", counts.cases);
                }
            }
        }
    }
}

fn render_summary(s: &Summary, dry_run: bool) -> String {
    if dry_run {
        return "dry run: nothing written".into();
    }
    let calls: Vec<String> = s.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    format!(
        "backfill done in {:.1}s: {} case(s), {} deleted meanwhile (skipped), {} related item(s), {} case history(ies) read; calls: {}; {} throttled",
        s.elapsed.as_secs_f64(),
        s.counts.cases,
        s.counts.cases_gone,
        s.counts.related_items,
        s.counts.histories_read,
        calls.join(", "),
        s.throttles,
    )
}
