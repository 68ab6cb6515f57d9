//! `casesctl regroup`: wiring, progress (a spinner with counts on a terminal, a line every 10 s
//! otherwise) and the summary. The work is `cases_projector::regroup`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cases_projector::regroup::{self, Counts, Options};
use cases_projector::wiring;
use indicatif::{ProgressBar, ProgressStyle};

use crate::env;
use crate::outcome::{Failure, Outcome};

struct Progress {
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

impl regroup::Progress for Progress {
    fn advanced(&self, c: &Counts) {
        let message = format!("{} case(s) read, {} regrouped", c.cases, c.regrouped);
        match &self.bar {
            Some(bar) => {
                bar.set_position(c.cases);
                bar.set_message(message);
            }
            None => {
                let mut last = self.last_line.lock().unwrap();
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    eprintln!("regroup: {message}");
                }
            }
        }
    }
}

pub async fn run(domain_id: String, restart: bool) -> Outcome {
    let config = env::config(env::REPORT)?;
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let progress = Progress {
        bar,
        last_line: Mutex::new(Instant::now()),
    };
    let options = Options {
        domain_id,
        dimensions: config.report_dimensions.clone(),
        restart,
    };
    let again = format!("casesctl regroup --domain-id {}", options.domain_id);
    let result = tokio::select! {
        result = regroup::run(&store, &options, &progress) => result.map_err(|e| {
            Failure::from(e).then(&format!("the checkpoint is kept: `{again}` goes on"))
        }),
        _ = tokio::signal::ctrl_c() => Err(Failure::Failed(format!(
            "interrupted: the checkpoint of the last page done is kept; `{again}` goes on from there"
        ))),
    };
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    println!(
        "regroup done{}: {} case(s) read in {} page(s), {} regrouped under [{}]",
        if summary.resumed { " (resumed)" } else { "" },
        summary.counts.cases,
        summary.counts.pages,
        summary.counts.regrouped,
        options.dimensions.join(",")
    );
    Ok(())
}
