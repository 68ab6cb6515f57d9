//! Backfill: a complete read model from the Cases API, history included.
//!
//! Pages SearchCases over the whole domain; fills each case's wanted fields (GetCase for those
//! beyond the 25 a search returns), reads related items (domain-wide with SearchAllRelatedItems,
//! or per case), and reads each case's audit history for the statuses it had. Every case goes
//! through the same pure core as events, each read versioned by its own data's time: it fills
//! and refreshes but never rolls back what a newer event set, so backfill is safe while the
//! projector is live, and every number follows from the merged states (nothing is counted twice
//! however often a backfill runs). Every Cases call goes through one [`Limiter`]; a checkpoint
//! after every page makes a run resumable.

pub mod history;
pub mod limiter;
pub mod plan;
pub mod source;

use std::collections::HashSet;

use futures::StreamExt;

use crate::enrichment::templates::{self, KnownTemplates};
use crate::enrichment::{CaseReader, ReaderError};
use crate::projection::CaseSnapshot;
use crate::store::{DomainStore, ReadModelStore};
pub use limiter::Limiter;
pub use plan::{Plan, RelatedStrategy};
use source::{CaseDirectory, CaseSearch};

/// SearchCases returns at most this many field values per case.
pub const SEARCH_MAX_FIELDS: usize = 25;
/// The checkpoint's name.
const CHECKPOINT: &str = "BACKFILL";
/// Cases of one page processed at once (the limiter still spaces their calls).
const CASES_AT_ONCE: usize = 4;

/// Fields a backfill always reads: the case's times and status, for history and indexes.
const SYSTEM_FIELDS: [&str; 5] = [
    "last_updated_datetime",
    "created_datetime",
    "status",
    "title",
    "last_closed_datetime",
];

mod case;
mod types;

use types::Checkpoint;
pub use types::*;

pub struct Backfill<'a, C, S> {
    cases: &'a C,
    store: &'a S,
    limiter: &'a Limiter,
    options: Options,
}

impl<'a, C, S> Backfill<'a, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    pub fn new(cases: &'a C, store: &'a S, limiter: &'a Limiter, options: Options) -> Self {
        Backfill {
            cases,
            store,
            limiter,
            options,
        }
    }

    pub async fn run(&self, progress: &dyn Progress) -> Result<Summary, BackfillError> {
        let started = std::time::Instant::now();
        let domain = self.options.domain_id.as_str();
        let mut checkpoint = match (
            self.options.mode,
            self.store.checkpoint(domain, CHECKPOINT).await?,
        ) {
            (Mode::Resume, None) => return Err(BackfillError::NothingToResume),
            (Mode::Restart, _) | (_, None) => Checkpoint::default(),
            (Mode::Fresh, Some(raw)) => {
                let saved = parse_checkpoint(&raw)?;
                if !saved.finished && !self.options.dry_run {
                    return Err(BackfillError::Unfinished);
                }
                Checkpoint::default()
            }
            (Mode::Resume, Some(raw)) => {
                let saved = parse_checkpoint(&raw)?;
                if saved.finished {
                    return Err(BackfillError::NothingToResume);
                }
                saved
            }
        };
        let wanted = self.wanted_fields().await?;
        let (searched, fetched) = split_fields(&wanted);
        let first = self
            .search(
                &searched,
                checkpoint
                    .cases_token
                    .as_deref()
                    .filter(|_| !checkpoint.cases_done),
            )
            .await?;
        let total = first
            .total_count
            .or(checkpoint.total)
            .unwrap_or(first.cases.len() as u64);
        checkpoint.total = Some(total);
        let strategy = match checkpoint.strategy {
            Some(s) => s,
            None => self.choose_strategy().await?,
        };
        checkpoint.strategy = Some(strategy);
        let plan = Plan::new(
            total,
            self.options.page_size,
            fetched.len(),
            strategy,
            self.options.rate,
            self.options.case_fields.is_none(),
        );
        progress.planned(&plan);
        if self.options.dry_run {
            return Ok(self.summary(plan, checkpoint.counts, started));
        }
        self.save(&checkpoint).await?;
        let warnings: Vec<String> = self.name_templates().await?.into_iter().collect();

        let mut page = Some(first).filter(|_| !checkpoint.cases_done);
        while let Some(current) = page.take() {
            let results: Vec<Result<Option<(u64, bool)>, BackfillError>> =
                futures::stream::iter(&current.cases)
                    .map(|found| self.case(found, current.sent_at, &fetched, strategy))
                    .buffer_unordered(CASES_AT_ONCE)
                    .collect()
                    .await;
            for r in results {
                let Some((items, history_read)) = r? else {
                    checkpoint.counts.cases_gone += 1;
                    continue;
                };
                checkpoint.counts.cases += 1;
                checkpoint.counts.related_items += items;
                checkpoint.counts.histories_read += u64::from(history_read);
            }
            checkpoint.counts.pages += 1;
            checkpoint.cases_token = current.next_token.clone();
            checkpoint.cases_done = current.next_token.is_none();
            self.save(&checkpoint).await?;
            progress.advanced(
                &checkpoint.counts,
                self.limiter.calls(),
                self.limiter.throttles(),
            );
            if let Some(token) = &current.next_token {
                page = Some(self.search(&searched, Some(token)).await?);
            }
        }

        if strategy == RelatedStrategy::DomainWide && !checkpoint.related_done {
            loop {
                let token = checkpoint.related_token.clone();
                let items = self
                    .limiter
                    .call("SearchAllRelatedItems", || {
                        self.cases
                            .search_all_related_items(domain, false, token.as_deref())
                    })
                    .await?;
                for snapshot in CaseSnapshot::of_related_items(domain, items.sent_at, items.items) {
                    checkpoint.counts.related_items += snapshot.related_items.len() as u64;
                    self.apply(snapshot).await?;
                }
                checkpoint.counts.pages += 1;
                checkpoint.related_token = items.next_token.clone();
                checkpoint.related_done = items.next_token.is_none();
                self.save(&checkpoint).await?;
                progress.advanced(
                    &checkpoint.counts,
                    self.limiter.calls(),
                    self.limiter.throttles(),
                );
                if checkpoint.related_done {
                    break;
                }
            }
        }
        checkpoint.finished = true;
        self.save(&checkpoint).await?;
        Ok(Summary {
            warnings,
            ..self.summary(plan, checkpoint.counts, started)
        })
    }

    fn summary(&self, plan: Plan, counts: Counts, started: std::time::Instant) -> Summary {
        Summary {
            plan,
            counts,
            calls: self.limiter.calls_by_operation(),
            throttles: self.limiter.throttles(),
            elapsed: started.elapsed(),
            warnings: Vec::new(),
        }
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), BackfillError> {
        let raw = serde_json::to_string(checkpoint)
            .map_err(|e| BackfillError::Checkpoint(e.to_string()))?;
        self.store
            .put_checkpoint(&self.options.domain_id, CHECKPOINT, &raw)
            .await?;
        Ok(())
    }

    /// `CASE_FIELDS`, or every field of the domain; the system fields backfill needs first.
    async fn wanted_fields(&self) -> Result<Vec<String>, BackfillError> {
        let domain = self.options.domain_id.as_str();
        let listed: Vec<String> = match &self.options.case_fields {
            Some(ids) => ids.clone(),
            None => self
                .limiter
                .call("ListFields", || self.cases.list_fields(domain))
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect(),
        };
        let mut wanted: Vec<String> = SYSTEM_FIELDS.iter().map(|s| s.to_string()).collect();
        for id in listed {
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        Ok(wanted)
    }

    /// Stores every template's name (or its new name) for dashboards: one ListTemplates per run.
    /// A role without `cases:ListTemplates` costs the names only: the run goes on, and says so
    /// (the returned warning).
    async fn name_templates(&self) -> Result<Option<String>, BackfillError> {
        let domain = self.options.domain_id.as_str();
        let listed = match self
            .limiter
            .call("ListTemplates", || self.cases.list_templates(domain))
            .await
        {
            Ok(listed) => listed,
            Err(error @ ReaderError::AccessDenied { .. }) => {
                return Ok(Some(format!(
                    "templates not named (dashboards show their ids): {error}"
                )));
            }
            Err(error) => return Err(error.into()),
        };
        let known = KnownTemplates {
            named: self.store.template_names(domain).await?,
            ..KnownTemplates::default()
        };
        let done = templates::writes(&Default::default(), &listed, &known);
        self.store.put_template_names(domain, &done.put).await?;
        Ok(None)
    }

    async fn search(
        &self,
        fields: &[String],
        next_token: Option<&str>,
    ) -> Result<source::CasePage, BackfillError> {
        let search = CaseSearch {
            domain_id: &self.options.domain_id,
            page_size: self.options.page_size,
            fields,
            next_token,
            newest_first: false,
        };
        Ok(self
            .limiter
            .call("SearchCases", || self.cases.search_cases(&search))
            .await?)
    }

    /// Domain-wide reads never take more requests than per-case ones (25 items a page either
    /// way, and per case at least one call each): use them unless the service refuses.
    async fn choose_strategy(&self) -> Result<RelatedStrategy, BackfillError> {
        let probe = self
            .limiter
            .call("SearchAllRelatedItems", || {
                self.cases
                    .search_all_related_items(&self.options.domain_id, false, None)
            })
            .await;
        match probe {
            Ok(_) => Ok(RelatedStrategy::DomainWide),
            Err(ReaderError::Invalid { .. } | ReaderError::AccessDenied { .. }) => {
                Ok(RelatedStrategy::PerCase)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The fields SearchCases returns (at most 25) and those GetCase must fetch.
fn split_fields(wanted: &[String]) -> (Vec<String>, Vec<String>) {
    let searched: Vec<String> = wanted.iter().take(SEARCH_MAX_FIELDS).cloned().collect();
    let seen: HashSet<&String> = searched.iter().collect();
    let fetched = wanted
        .iter()
        .filter(|f| !seen.contains(f))
        .cloned()
        .collect();
    (searched, fetched)
}

fn parse_checkpoint(raw: &str) -> Result<Checkpoint, BackfillError> {
    serde_json::from_str(raw).map_err(|e| BackfillError::Checkpoint(e.to_string()))
}
