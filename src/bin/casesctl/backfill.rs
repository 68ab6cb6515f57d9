//! `casesctl backfill`: wiring, progress (a bar on a terminal, a line every 10 s otherwise),
//! Ctrl-C and the summary. The work is `cases_projector::backfill`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cases_projector::backfill::{self, Backfill, Counts, Limiter, Mode, Options, Plan, Summary};
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::env;
use crate::outcome::{Failure, Outcome};
use crate::progress;

pub struct Args {
    pub domain_id: String,
    pub rate: f64,
    pub page_size: u32,
    pub history_since: Option<NaiveDate>,
    pub mode: Mode,
    pub dry_run: bool,
}

pub async fn run(args: Args) -> Outcome {
    let config = env::config(env::BACKFILL)?;
    let history_since = match args.history_since {
        Some(day) if day > Utc::now().date_naive() => {
            return Err(Failure::Refused(format!(
                "--history-since {day} is in the future: give a day up to today"
            )));
        }
        Some(day) => day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        None => Utc::now() - chrono::TimeDelta::days(90),
    };
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let cases = CasesApi::new(connect_cases::batch_client(&sdk, config.cases_timeout));
    let limiter = Limiter::new(args.rate);
    let options = Options {
        domain_id: args.domain_id.clone(),
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
    eprintln!(
        "planning: reading the size of domain {} at {} call(s)/s ...",
        args.domain_id, args.rate
    );
    let progress = Progress::new(&limiter, args.rate);
    let backfill = Backfill::new(&cases, &store, &limiter, options);
    let run = backfill.run(&progress);
    tokio::pin!(run);
    // Between pages too (a page throttled for minutes), the progress line moves.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            _ = tick.tick() => progress.show(),
            _ = tokio::signal::ctrl_c() => {
                progress.finish();
                let done = progress.counts.lock().map(|c| c.cases).unwrap_or_default();
                return Err(Failure::Failed(format!(
                    "interrupted: the checkpoint of the last page done is kept ({done} case(s)); \
                     continue with `casesctl backfill --domain-id {} --resume` (the page in progress is read again, nothing counts twice)",
                    args.domain_id
                )));
            }
        }
    };
    progress.finish();
    let summary = result.map_err(|e| {
        let store_failed = matches!(e, backfill::BackfillError::Store(_));
        let failure = Failure::from(e);
        if store_failed {
            failure.then("the checkpoint is kept: run again with --resume")
        } else {
            failure
        }
    })?;
    println!("{}", render_summary(&summary, args.dry_run));
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// A bar on a terminal; a line every 10 seconds otherwise (logs, CI).
struct Progress<'a> {
    limiter: &'a Limiter,
    bar: Option<ProgressBar>,
    rate: f64,
    started: Instant,
    last_line: Mutex<Instant>,
    /// The plan, and the calls made before it was known.
    plan: Mutex<Option<(Plan, u64)>>,
    /// The counts of the last page done.
    counts: Mutex<Counts>,
}

impl<'a> Progress<'a> {
    fn new(limiter: &'a Limiter, rate: f64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            limiter,
            bar,
            rate,
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            plan: Mutex::new(None),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// The progress line as things stand.
    fn show(&self) {
        let Some((plan, calls_at_plan)) = self.plan.lock().unwrap().clone() else {
            return;
        };
        let counts = self.counts.lock().unwrap().clone();
        let state = progress::Backfill {
            calls: self.limiter.calls(),
            throttles: self.limiter.throttles(),
            calls_at_plan,
            plan: &plan,
            counts: &counts,
            rate: self.rate,
            elapsed: self.started.elapsed(),
        };
        match &self.bar {
            Some(bar) => bar.set_message(progress::backfill_line(&state, 80)),
            None => {
                let mut last = self.last_line.lock().unwrap();
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    eprintln!("backfill: {}", progress::backfill_line(&state, 70));
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl backfill::Progress for Progress<'_> {
    fn planned(&self, plan: &Plan) {
        eprintln!("{plan}");
        *self.plan.lock().unwrap() = Some((plan.clone(), self.limiter.calls()));
    }

    fn advanced(&self, counts: &Counts, _calls: u64, _throttles: u64) {
        counts.clone_into(&mut self.counts.lock().unwrap());
        self.show();
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
