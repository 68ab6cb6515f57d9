//! Reconcile: heals what lost events and deferred enrichment leave behind, at a bounded rate.
//!
//! One run, for one domain, under a lease (one run at a time; a crashed run's lease expires):
//! 1. every case in the sparse `byDeferred` index gets its GetCase call and is applied as a
//!    snapshot (404: a tombstone, see below);
//! 2. SearchCases, newest-updated first, down to the last run's watermark (minus a margin):
//!    each case found is applied as a snapshot, so a lost `CASE.UPDATED` (or `CASE.CREATED`)
//!    heals;
//! 3. cases the read model holds live and updated since then (index `byStatus`) that the search
//!    did not return get a GetCase: a 404 means their `CASE.DELETED` was lost, and the case
//!    becomes a tombstone marked `deletedBy = reconcile` (no counter is invented).
//!
//! Every Cases call goes through one [`Limiter`]; the checkpoint after every page makes a run
//! resumable. Snapshots go through the same pure core as everything else
//! ([`decide_snapshot`], [`decide_gone`]): never a rollback of a newer event, never a
//! resurrection.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::backfill::Limiter;
use crate::backfill::source::{CaseDirectory, CaseSearch, FoundCase};
use crate::enrichment::{CaseReader, ReaderError};
use crate::event::FieldValue;
use crate::projection::{CaseSnapshot, ProjectionOptions, decide_gone, decide_snapshot};
use crate::store::{CaseCommit, CommitOutcome, DomainStore, ReadModelStore, StoreError};

/// The checkpoint's and the lease's name.
pub const NAME: &str = "RECONCILE";
/// The search goes this far below the watermark: SearchCases is eventually consistent.
pub const WATERMARK_MARGIN: TimeDelta = TimeDelta::minutes(5);
/// Without a watermark or `--since`: the last day.
pub const FIRST_RUN_WINDOW: TimeDelta = TimeDelta::days(1);
/// SearchCases returns at most this many field values per case.
const SEARCH_MAX_FIELDS: usize = 25;
const CASES_AT_ONCE: usize = 4;
/// Deferred cases filled between two lease renewals.
const DEFERRED_PAGE: usize = 25;
const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone)]
pub struct Options {
    pub domain_id: String,
    /// Cases API requests per second, all operations together.
    pub rate: f64,
    /// Look back this far instead of from the watermark.
    pub since: Option<TimeDelta>,
    pub page_size: u32,
    /// `CASE_FIELDS`; `None`: every field of the domain.
    pub case_fields: Option<Vec<String>>,
    pub projection: ProjectionOptions,
    /// How long a lease holds without renewal (renewed after every page).
    pub lease: Duration,
    /// Who runs (written on the lease).
    pub owner: String,
    /// Only fill deferred cases (step 1): no search, no lost-delete check, watermark untouched.
    pub deferred_only: bool,
    /// `REPORT_DIMENSIONS`: what the metric aggregates are grouped by.
    pub dimensions: Vec<String>,
}

/// What a run found and fixed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Deferred cases filled (their wanted fields fetched).
    pub deferred_filled: u64,
    /// Cases the search found that the read model did not hold.
    pub cases_created: u64,
    /// Field values a snapshot changed outside a deferred fill (lost updates healed).
    pub fields_corrected: u64,
    /// Live cases GetCase answered 404 for: tombstoned.
    pub tombstones: u64,
    /// Cases SearchCases returned since the watermark.
    pub cases_searched: u64,
    /// Of those, cases the read model held whose fields a snapshot changed.
    pub cases_corrected: u64,
    pub pages: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    /// Newest `last_updated_datetime` a finished run saw.
    watermark: Option<DateTime<Utc>>,
    /// An unfinished run.
    pending: Option<Pending>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Pending {
    since: DateTime<Utc>,
    newest: Option<DateTime<Utc>>,
    token: Option<String>,
    /// Case ids the search returned (not checked for a lost delete again).
    seen: BTreeSet<String>,
    counts: Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub counts: Counts,
    /// Deferred cases still waiting after the run, and the age of the oldest.
    pub deferred_left: u64,
    pub oldest_deferred_age: Option<Duration>,
    pub since: DateTime<Utc>,
    pub watermark: Option<DateTime<Utc>>,
    pub calls: BTreeMap<&'static str, u64>,
    pub throttles: u64,
    pub elapsed: Duration,
}

impl Summary {
    /// Cases API calls per case changed (created, corrected, tombstoned or filled).
    pub fn calls_per_changed_case(&self) -> Option<f64> {
        let changed = self.counts.deferred_filled
            + self.counts.cases_created
            + self.counts.tombstones
            + self.counts.cases_corrected;
        let calls: u64 = self.calls.values().sum();
        (changed > 0).then(|| calls as f64 / changed as f64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Another run holds the domain's lease: not a failure, nothing was done.
    #[error("another reconcile of this domain is running (its lease ends at {until})")]
    Busy { until: DateTime<Utc> },
    #[error("{0}")]
    Refused(ReaderError),
    #[error("Cases API: {0}")]
    Cases(ReaderError),
    #[error("read model: {0}")]
    Store(#[from] StoreError),
    #[error("the checkpoint is unreadable: {0}")]
    Checkpoint(String),
}

impl From<ReaderError> for ReconcileError {
    fn from(e: ReaderError) -> Self {
        match e {
            ReaderError::AccessDenied { .. } | ReaderError::NotFound { .. } => {
                ReconcileError::Refused(e)
            }
            other => ReconcileError::Cases(other),
        }
    }
}

impl ReconcileError {
    /// Exit code for `casesctl`: 0 when another run is busy, 2 when an operator must act.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReconcileError::Busy { .. } => 0,
            ReconcileError::Refused(_) => 2,
            _ => 1,
        }
    }
}

/// What applying one snapshot changed.
#[derive(Debug, Default, Clone, Copy)]
struct Applied {
    created: bool,
    fields_changed: u64,
    tombstoned: bool,
    deferred_cleared: bool,
}

pub struct Reconcile<'a, C, S> {
    cases: &'a C,
    store: &'a S,
    limiter: &'a Limiter,
    options: Options,
    calls: std::sync::Mutex<BTreeMap<&'static str, u64>>,
}

impl<'a, C, S> Reconcile<'a, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    pub fn new(cases: &'a C, store: &'a S, limiter: &'a Limiter, options: Options) -> Self {
        Reconcile {
            cases,
            store,
            limiter,
            options,
            calls: Default::default(),
        }
    }

    async fn call<T, F, Fut>(&self, operation: &'static str, call: F) -> Result<T, ReaderError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ReaderError>>,
    {
        *self.calls.lock().unwrap().entry(operation).or_default() += 1;
        self.limiter.call(call).await
    }

    fn lease_until(&self) -> u64 {
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            + self.options.lease)
            .as_secs()
    }

    /// Takes or renews the lease; `Busy` when another run holds it.
    async fn lease(&self) -> Result<(), ReconcileError> {
        let domain = &self.options.domain_id;
        match self
            .store
            .acquire_lease(domain, NAME, &self.options.owner, self.lease_until())
            .await?
        {
            Ok(()) => Ok(()),
            Err(until) => Err(ReconcileError::Busy {
                until: DateTime::from_timestamp(until as i64, 0).unwrap_or_default(),
            }),
        }
    }

    /// One run under the domain's lease, released at the end (also after a failure).
    pub async fn run(&self) -> Result<Summary, ReconcileError> {
        self.lease().await?;
        let result = self.run_leased().await;
        let released = self
            .store
            .release_lease(&self.options.domain_id, NAME, &self.options.owner)
            .await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    async fn run_leased(&self) -> Result<Summary, ReconcileError> {
        let started = std::time::Instant::now();
        let domain = self.options.domain_id.as_str();
        let mut checkpoint: Checkpoint = match self.store.checkpoint(domain, NAME).await? {
            Some(raw) => {
                serde_json::from_str(&raw).map_err(|e| ReconcileError::Checkpoint(e.to_string()))?
            }
            None => Checkpoint::default(),
        };
        let now = now_ms();
        let since = match (
            self.options.since,
            &checkpoint.pending,
            checkpoint.watermark,
        ) {
            (Some(window), _, _) => now - window,
            (None, Some(p), _) => p.since,
            (None, None, Some(w)) => w - WATERMARK_MARGIN,
            (None, None, None) => now - FIRST_RUN_WINDOW,
        };
        let mut pending = match checkpoint.pending.take() {
            Some(p) if p.since == since => p,
            _ => Pending {
                since,
                ..Pending::default()
            },
        };

        // 1. Deferred cases.
        let wanted = self.wanted_fields().await?;
        let deferred = self.store.deferred_cases(domain).await?;
        // In pages, renewing the lease after each: a long fill never outlives its lease.
        for page in deferred.chunks(DEFERRED_PAGE) {
            let results: Vec<Result<Applied, ReconcileError>> = futures::stream::iter(page)
                .map(|d| {
                    let fields: Vec<String> = if d.fields.is_empty() {
                        wanted.clone()
                    } else {
                        d.fields.clone()
                    };
                    async move { self.refresh(&d.case_id, &fields).await }
                })
                .buffer_unordered(CASES_AT_ONCE)
                .collect()
                .await;
            for r in results {
                let applied = r?;
                pending.counts.deferred_filled += u64::from(applied.deferred_cleared);
                pending.counts.tombstones += u64::from(applied.tombstoned);
            }
            self.lease().await?;
        }
        if self.options.deferred_only {
            checkpoint.pending = None;
            return self
                .summary(pending.counts, since, checkpoint.watermark, started)
                .await;
        }

        // 2. Cases updated since the watermark, newest first.
        let mut searched: Vec<String> = vec!["last_updated_datetime".to_owned()];
        searched.extend(
            wanted
                .iter()
                .filter(|f| *f != "last_updated_datetime")
                .cloned(),
        );
        let fetched: Vec<String> = searched.split_off(SEARCH_MAX_FIELDS.min(searched.len()));
        let mut token = pending.token.clone();
        loop {
            let search = CaseSearch {
                domain_id: domain,
                page_size: self.options.page_size,
                fields: &searched,
                next_token: token.as_deref(),
                newest_first: true,
            };
            let page = self
                .call("SearchCases", || self.cases.search_cases(&search))
                .await?;
            let mut reached_watermark = false;
            let mut current = Vec::new();
            for found in &page.cases {
                let updated = updated_at(found);
                if updated.is_some_and(|t| t < since) {
                    reached_watermark = true;
                    break;
                }
                if let Some(t) = updated {
                    pending.newest = Some(pending.newest.map_or(t, |n| n.max(t)));
                }
                current.push(found);
            }
            let results: Vec<Result<Applied, ReconcileError>> = futures::stream::iter(current)
                .map(|found| self.found(found, &searched, &fetched))
                .buffer_unordered(CASES_AT_ONCE)
                .collect()
                .await;
            for r in results {
                let applied = r?;
                pending.counts.cases_searched += 1;
                pending.counts.cases_created += u64::from(applied.created);
                pending.counts.fields_corrected += applied.fields_changed;
                pending.counts.tombstones += u64::from(applied.tombstoned);
                pending.counts.deferred_filled += u64::from(applied.deferred_cleared);
                pending.counts.cases_corrected +=
                    u64::from(applied.fields_changed > 0 && !applied.created);
            }
            pending
                .seen
                .extend(page.cases.iter().map(|c| c.case_id.clone()));
            pending.counts.pages += 1;
            token = page.next_token.clone().filter(|_| !reached_watermark);
            pending.token = token.clone();
            checkpoint.pending = Some(pending.clone());
            self.save(&checkpoint).await?;
            self.lease().await?;
            if token.is_none() {
                break;
            }
        }

        // 3. Live in the read model, updated since, not found by the search: deleted?
        let statuses = self.statuses().await?;
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        for status in &statuses {
            for case_id in self
                .store
                .live_cases_updated_since(domain, status, since)
                .await?
            {
                if !pending.seen.contains(&case_id) {
                    candidates.insert(case_id);
                }
            }
        }
        let probe = vec!["status".to_owned()];
        let results: Vec<Result<Applied, ReconcileError>> = futures::stream::iter(&candidates)
            .map(|case_id| self.refresh(case_id, &probe))
            .buffer_unordered(CASES_AT_ONCE)
            .collect()
            .await;
        for r in results {
            let applied = r?;
            pending.counts.tombstones += u64::from(applied.tombstoned);
            pending.counts.fields_corrected += applied.fields_changed;
        }

        let counts = pending.counts.clone();
        checkpoint.watermark = match (checkpoint.watermark, pending.newest) {
            (Some(w), Some(n)) => Some(w.max(n)),
            (w, n) => w.or(n),
        };
        checkpoint.pending = None;
        self.save(&checkpoint).await?;

        self.summary(counts, since, checkpoint.watermark, started)
            .await
    }

    async fn summary(
        &self,
        counts: Counts,
        since: DateTime<Utc>,
        watermark: Option<DateTime<Utc>>,
        started: std::time::Instant,
    ) -> Result<Summary, ReconcileError> {
        let left = self.store.deferred_cases(&self.options.domain_id).await?;
        let oldest = left.iter().map(|d| d.since).min();
        Ok(Summary {
            counts,
            deferred_left: left.len() as u64,
            oldest_deferred_age: oldest.map(|t| (Utc::now() - t).to_std().unwrap_or_default()),
            since,
            watermark,
            calls: self.calls.lock().unwrap().clone(),
            throttles: self.limiter.throttles(),
            elapsed: started.elapsed(),
        })
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), ReconcileError> {
        let raw = serde_json::to_string(checkpoint)
            .map_err(|e| ReconcileError::Checkpoint(e.to_string()))?;
        self.store
            .put_checkpoint(&self.options.domain_id, NAME, &raw)
            .await?;
        Ok(())
    }

    /// `CASE_FIELDS`, or every field of the domain.
    async fn wanted_fields(&self) -> Result<Vec<String>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        Ok(match &self.options.case_fields {
            Some(ids) => ids.clone(),
            None => self
                .call("ListFields", || self.cases.list_fields(domain))
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect(),
        })
    }

    /// The values of the `status` field (its options): the partitions of `byStatus`.
    async fn statuses(&self) -> Result<Vec<String>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let ids = vec!["status".to_owned()];
        let infos = self
            .call("BatchGetField", || self.cases.describe_fields(domain, &ids))
            .await?;
        Ok(infos
            .into_iter()
            .filter(|f| f.id == "status")
            .flat_map(|f| f.options.into_keys())
            .collect())
    }

    /// A case the search returned: its searched fields (absent ones are empty now), the rest
    /// with GetCase, applied as a snapshot.
    async fn found(
        &self,
        found: &FoundCase,
        searched: &[String],
        fetched: &[String],
    ) -> Result<Applied, ReconcileError> {
        let taken_at = now_ms();
        let mut fields = found.fields.clone();
        for id in searched {
            fields.entry(id.clone()).or_insert(FieldValue::Empty);
        }
        if !fetched.is_empty() {
            match self.get_case(&found.case_id, fetched).await? {
                Some(values) => fields.extend(values),
                None => return self.gone(&found.case_id, taken_at).await,
            }
        }
        let created_at = match fields.get("created_datetime") {
            Some(FieldValue::String(t)) => t.parse::<DateTime<Utc>>().ok(),
            _ => None,
        };
        self.apply(CaseSnapshot {
            case_id: found.case_id.clone(),
            domain_id: self.options.domain_id.clone(),
            template_id: Some(found.template_id.clone()),
            created_at,
            taken_at,
            fields: Some(fields),
            related_items: Vec::new(),
            status_history: Vec::new(),
        })
        .await
    }

    /// GetCase for `fields` of a case the read model holds: applied as a snapshot, or a
    /// tombstone on 404.
    async fn refresh(&self, case_id: &str, fields: &[String]) -> Result<Applied, ReconcileError> {
        let taken_at = now_ms();
        match self.get_case(case_id, fields).await? {
            None => self.gone(case_id, taken_at).await,
            Some(mut values) => {
                for id in fields {
                    values.entry(id.clone()).or_insert(FieldValue::Empty);
                }
                self.apply(CaseSnapshot {
                    case_id: case_id.to_owned(),
                    domain_id: self.options.domain_id.clone(),
                    template_id: None,
                    created_at: None,
                    taken_at,
                    fields: Some(values),
                    related_items: Vec::new(),
                    status_history: Vec::new(),
                })
                .await
            }
        }
    }

    /// GetCase in chunks; `None` when the case does not exist.
    async fn get_case(
        &self,
        case_id: &str,
        fields: &[String],
    ) -> Result<Option<BTreeMap<String, FieldValue>>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let mut values = BTreeMap::new();
        for chunk in fields.chunks(crate::connect_cases::GET_CASE_MAX_FIELDS) {
            match self
                .call("GetCase", || self.cases.get_case(domain, case_id, chunk))
                .await
            {
                Ok(Some(v)) => values.extend(v),
                Ok(None) | Err(ReaderError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(values))
    }

    async fn gone(
        &self,
        case_id: &str,
        taken_at: DateTime<Utc>,
    ) -> Result<Applied, ReconcileError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let stored = self.store.load(case_id).await?;
            let decision = decide_gone(
                stored.as_ref().map(|s| &s.view),
                taken_at,
                &self.options.dimensions,
            );
            let Some(view) = decision.view.as_ref().filter(|_| decision.writes()) else {
                return Ok(Applied::default());
            };
            let commit = CaseCommit {
                previous: stored.as_ref(),
                view,
                related_items: decision
                    .changed_related_items
                    .iter()
                    .filter_map(|id| view.related_items.get(id))
                    .collect(),
                counted_events: Vec::new(),
                metric_deltas: &decision.metric_deltas,
            };
            match self.store.commit(&commit).await? {
                CommitOutcome::Committed { .. } => {
                    tracing::info!(case_id, "live case not found by GetCase: tombstoned");
                    return Ok(Applied {
                        tombstoned: true,
                        deferred_cleared: stored.is_some_and(|s| s.view.deferred.is_some()),
                        ..Applied::default()
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await,
            }
        }
        Err(StoreError::Contention(format!("case {case_id} kept changing")).into())
    }

    /// Load → decide (as a snapshot) → commit, again on a lost race.
    async fn apply(&self, snapshot: CaseSnapshot) -> Result<Applied, ReconcileError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let stored = self.store.load(&snapshot.case_id).await?;
            let before = stored.as_ref().map(|s| &s.view);
            let decision = decide_snapshot(
                before,
                &snapshot,
                &self.options.dimensions,
                &self.options.projection,
            );
            let Some(view) = decision.view.as_ref().filter(|_| decision.writes()) else {
                return Ok(Applied::default());
            };
            let commit = CaseCommit {
                previous: stored.as_ref(),
                view,
                related_items: decision
                    .changed_related_items
                    .iter()
                    .filter_map(|id| view.related_items.get(id))
                    .collect(),
                counted_events: Vec::new(),
                metric_deltas: &decision.metric_deltas,
            };
            match self.store.commit(&commit).await? {
                CommitOutcome::Committed { .. } => {
                    let fields_changed = view
                        .fields
                        .iter()
                        .filter(|(id, f)| {
                            match before.and_then(|b| b.fields.get(*id)) {
                                Some(old) => old.value != f.value,
                                // Learning that a field is empty corrects nothing.
                                None => f.value != FieldValue::Empty,
                            }
                        })
                        .count() as u64;
                    return Ok(Applied {
                        created: before.is_none(),
                        fields_changed: if before.is_none() { 0 } else { fields_changed },
                        tombstoned: false,
                        deferred_cleared: before.is_some_and(|b| b.deferred.is_some())
                            && view.deferred.is_none(),
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await,
            }
        }
        Err(StoreError::Contention(format!("case {} kept changing", snapshot.case_id)).into())
    }
}

fn updated_at(found: &FoundCase) -> Option<DateTime<Utc>> {
    match found.fields.get("last_updated_datetime") {
        Some(FieldValue::String(t)) => t.parse().ok(),
        _ => None,
    }
}

/// Now, at the read model's precision.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now)
}

/// The run's summary as one CloudWatch EMF line (namespace `CasesProjector`, dimension
/// `DomainId`): what reconcile found and fixed, and the oldest deferred case's age (alarmed).
pub fn emf(summary: &Summary, domain_id: &str, now: DateTime<Utc>) -> serde_json::Value {
    let c = &summary.counts;
    let metrics: [(&str, &str, f64); 9] = [
        ("ReconcileDeferredFilled", "Count", c.deferred_filled as f64),
        ("ReconcileCasesCreated", "Count", c.cases_created as f64),
        (
            "ReconcileFieldsCorrected",
            "Count",
            c.fields_corrected as f64,
        ),
        ("ReconcileTombstones", "Count", c.tombstones as f64),
        ("ReconcileCasesSearched", "Count", c.cases_searched as f64),
        ("DeferredCases", "Count", summary.deferred_left as f64),
        (
            "OldestDeferredAgeSeconds",
            "Seconds",
            summary
                .oldest_deferred_age
                .map_or(0.0, |a| a.as_secs_f64().floor()),
        ),
        (
            "ReconcileCasesCalls",
            "Count",
            summary.calls.values().sum::<u64>() as f64,
        ),
        ("ReconcileThrottles", "Count", summary.throttles as f64),
    ];
    let mut doc = serde_json::Map::new();
    doc.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": crate::metrics::NAMESPACE,
                "Dimensions": [["DomainId"]],
                "Metrics": metrics
                    .iter()
                    .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    doc.insert("DomainId".into(), domain_id.into());
    for (name, _, value) in metrics {
        doc.insert(name.into(), value.into());
    }
    serde_json::Value::Object(doc)
}

/// A look-back window such as `90s`, `15m`, `6h` or `7d`.
pub fn parse_window(raw: &str) -> Result<TimeDelta, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{raw}`: expected a number and a unit, e.g. 15m, 6h, 7d"))?;
    let window = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => None,
    };
    window
        .filter(|w| *w > TimeDelta::zero())
        .ok_or_else(|| format!("`{raw}`: expected a positive number and s, m, h or d"))
}

/// The summary in one line, for a terminal or a log.
pub fn render(s: &Summary) -> String {
    let calls: Vec<String> = s.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    let c = &s.counts;
    format!(
        "reconcile done in {:.1}s: {} deferred case(s) filled, {} case(s) created, {} field(s) corrected in {} case(s), {} tombstone(s); {} case(s) searched since {}; {} deferred left (oldest {}s); calls: {}; {} throttled",
        s.elapsed.as_secs_f64(),
        c.deferred_filled,
        c.cases_created,
        c.fields_corrected,
        c.cases_corrected,
        c.tombstones,
        c.cases_searched,
        crate::store::item::iso(s.since),
        s.deferred_left,
        s.oldest_deferred_age.map_or(0, |a| a.as_secs()),
        calls.join(", "),
        s.throttles,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_with_a_unit() {
        assert_eq!(parse_window("15m"), Ok(TimeDelta::minutes(15)));
        assert_eq!(parse_window("7d"), Ok(TimeDelta::days(7)));
        assert!(parse_window("7").is_err());
        assert!(parse_window("0h").is_err());
        assert!(parse_window("h").is_err());
    }
}
