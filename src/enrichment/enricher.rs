//! The enrichment service: per-domain caches and the GetCase call itself.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::templates::{self, KnownTemplates, TemplateWrites};
use super::{Budget, CaseReader, FieldInfo, ReaderError, TemplateInfo};
use crate::event::FieldValue;
use crate::projection::{Deferred, Snapshot};

#[derive(Debug, Clone, PartialEq)]
pub struct EnricherSettings {
    /// `CASE_FIELDS`: the wanted field ids; `None` means every field of the domain (ListFields).
    pub case_fields: Option<Vec<String>>,
    /// How long a domain's field list and event configuration are trusted.
    pub cache_ttl: Duration,
    /// A stored snapshot older than this is refreshed in full on the next event.
    pub max_snapshot_age: Duration,
}

/// What the projector knows about a domain, refreshed every `cache_ttl`.
#[derive(Debug, Clone)]
pub struct DomainFacts {
    pub wanted: Arc<BTreeSet<String>>,
    pub configured: Arc<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichmentStatus {
    Fetched,
    /// The case no longer exists (deleted meanwhile): the event's own data is projected.
    NotFound,
    /// A permission or request problem an operator must fix (access denied, the domain missing,
    /// a request refused); the event's own data is projected.
    Refused(String),
    /// GetCase throttled past the SDK's retries, or this instance's GetCase budget spent: the
    /// event's own data is projected and the fields still wanted are left for reconcile.
    Deferred(Deferred),
}

impl EnrichmentStatus {
    /// Value of the case item's `enrichment` attribute.
    pub fn label(&self) -> &'static str {
        match self {
            EnrichmentStatus::Fetched => "fetched",
            EnrichmentStatus::NotFound => "not-found",
            EnrichmentStatus::Refused(_) => "refused",
            EnrichmentStatus::Deferred(_) => "deferred",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enrichment {
    pub snapshot: Option<Snapshot>,
    pub status: EnrichmentStatus,
}

struct Cached<T> {
    value: T,
    fetched: Instant,
}

#[derive(Default)]
struct DomainCache {
    facts: Option<Cached<DomainFacts>>,
    /// Field ids whose metadata is in the read model (or known not to exist).
    described: Option<HashSet<String>>,
    /// Template names in the read model, and ids known to have none.
    templates: Option<KnownTemplates>,
}

pub struct Enricher<R> {
    reader: R,
    settings: EnricherSettings,
    domains: Mutex<HashMap<String, DomainCache>>,
    /// This instance's GetCase budget; `None`: unlimited.
    budget: Option<Budget>,
}

impl<R: CaseReader> Enricher<R> {
    pub fn new(reader: R, settings: EnricherSettings) -> Self {
        Enricher {
            reader,
            settings,
            domains: Mutex::new(HashMap::new()),
            budget: None,
        }
    }

    /// Limits this instance's GetCase calls; over the budget, enrichment is deferred.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn settings(&self) -> &EnricherSettings {
        &self.settings
    }

    /// The domain's wanted and configured fields, from cache or the service. A refusal
    /// (access denied) degrades to what is known, and is cached like an answer so it is not
    /// asked again on every event; throttling and outages are errors (the record is retried).
    pub async fn facts(&self, domain_id: &str) -> Result<DomainFacts, ReaderError> {
        let mut domains = self.domains.lock().await;
        let cache = domains.entry(domain_id.to_owned()).or_default();
        if let Some(c) = cache
            .facts
            .as_ref()
            .filter(|c| c.fetched.elapsed() < self.settings.cache_ttl)
        {
            return Ok(c.value.clone());
        }
        let wanted: BTreeSet<String> = match &self.settings.case_fields {
            Some(ids) => ids.iter().cloned().collect(),
            None => match self.reader.list_fields(domain_id).await {
                Ok(fields) => fields.into_iter().map(|f| f.id).collect(),
                Err(e) if e.is_retryable() => return Err(e),
                Err(e) => {
                    tracing::error!(domain_id, error = %e, "cannot list the domain's fields: no GetCase enrichment until fixed (or set CASE_FIELDS)");
                    BTreeSet::new()
                }
            },
        };
        let configured: BTreeSet<String> = match self.reader.event_configuration(domain_id).await {
            Ok(c) => c.fields.into_iter().collect(),
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => {
                tracing::error!(domain_id, error = %e, "cannot read the event configuration: absent fields are fetched, not assumed null");
                BTreeSet::new()
            }
        };
        let facts = DomainFacts {
            wanted: Arc::new(wanted),
            configured: Arc::new(configured),
        };
        cache.facts = Some(Cached {
            value: facts.clone(),
            fetched: Instant::now(),
        });
        Ok(facts)
    }

    /// Drops the cached facts of `domain_id` if older than a minute (so a field that is always
    /// carried but never configured costs one lookup a minute, not one per event): the next
    /// [`Self::facts`] asks the service. Returns whether they were dropped.
    pub async fn forget_facts(&self, domain_id: &str) -> bool {
        let mut domains = self.domains.lock().await;
        let Some(cache) = domains.get_mut(domain_id) else {
            return false;
        };
        let old = cache
            .facts
            .as_ref()
            .is_some_and(|c| c.fetched.elapsed() >= Duration::from_secs(60));
        if old {
            cache.facts = None;
        }
        old
    }

    /// GetCase for `fields`, sent at `now`: the snapshot is as of then (GetCase reads the case
    /// itself, so its answer holds every change made before the request; one made while the
    /// answer was in flight is newer and wins over it). A requested field the answer leaves out
    /// is null in the case now, and is recorded as such.
    pub async fn fetch(
        &self,
        domain_id: &str,
        case_id: &str,
        fields: &BTreeSet<String>,
        now: DateTime<Utc>,
    ) -> Result<Enrichment, ReaderError> {
        let deferred = || {
            Ok(Enrichment {
                snapshot: None,
                status: EnrichmentStatus::Deferred(Deferred {
                    since: now,
                    fields: fields.clone(),
                }),
            })
        };
        if self.budget.as_ref().is_some_and(|b| !b.try_take()) {
            return deferred();
        }
        let ids: Vec<String> = fields.iter().cloned().collect();
        match self.reader.get_case(domain_id, case_id, &ids).await {
            Ok(Some(mut values)) => {
                for id in fields {
                    values.entry(id.clone()).or_insert(FieldValue::Empty);
                }
                values.retain(|id, _| fields.contains(id));
                Ok(Enrichment {
                    snapshot: Some(Snapshot {
                        as_of: now,
                        fields: values,
                    }),
                    status: EnrichmentStatus::Fetched,
                })
            }
            Ok(None) => Ok(Enrichment {
                snapshot: None,
                status: EnrichmentStatus::NotFound,
            }),
            Err(ReaderError::Throttled { .. }) => {
                tracing::info!(domain_id, case_id, "GetCase throttled: enrichment deferred");
                deferred()
            }
            Err(e) if e.is_retryable() => Err(e),
            Err(e) => {
                tracing::error!(domain_id, case_id, error = %e, "GetCase refused: projecting the event's own data");
                Ok(Enrichment {
                    snapshot: None,
                    status: EnrichmentStatus::Refused(e.to_string()),
                })
            }
        }
    }

    /// Field ids among `ids` whose metadata is not in the read model yet. `stored` loads the
    /// ids already there, once per domain per execution environment.
    pub async fn undescribed<F, Fut>(
        &self,
        domain_id: &str,
        ids: &BTreeSet<String>,
        stored: F,
    ) -> Vec<String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = HashSet<String>>,
    {
        let mut domains = self.domains.lock().await;
        let cache = domains.entry(domain_id.to_owned()).or_default();
        if cache.described.is_none() {
            cache.described = Some(stored().await);
        }
        let described = cache.described.as_ref().expect("set above");
        ids.iter()
            .filter(|id| !described.contains(*id))
            .cloned()
            .collect()
    }

    /// Names, types and option labels of `ids`.
    pub async fn describe(
        &self,
        domain_id: &str,
        ids: &[String],
    ) -> Result<Vec<FieldInfo>, ReaderError> {
        self.reader.describe_fields(domain_id, ids).await
    }

    /// Remembers `ids` as described once their metadata is stored, including ids the service
    /// does not know, so they are not asked for again.
    pub async fn mark_described(&self, domain_id: &str, ids: &[String]) {
        let mut domains = self.domains.lock().await;
        let described = domains
            .entry(domain_id.to_owned())
            .or_default()
            .described
            .get_or_insert_with(HashSet::new);
        described.extend(ids.iter().cloned());
    }

    /// Template ids among `ids` whose name is neither in the read model nor asked about already
    /// (see [`templates::to_ask`]). `stored` loads the names already there, once per domain per
    /// execution environment.
    pub async fn unnamed_templates<F, Fut>(
        &self,
        domain_id: &str,
        ids: &BTreeSet<String>,
        stored: F,
    ) -> BTreeSet<String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::collections::BTreeMap<String, String>>,
    {
        let mut domains = self.domains.lock().await;
        let cache = domains.entry(domain_id.to_owned()).or_default();
        if cache.templates.is_none() {
            cache.templates = Some(KnownTemplates {
                named: stored().await,
                ..KnownTemplates::default()
            });
        }
        templates::to_ask(ids, cache.templates.as_ref().expect("set above"))
    }

    /// ListTemplates: every template of the domain, with its name.
    pub async fn list_templates(&self, domain_id: &str) -> Result<Vec<TemplateInfo>, ReaderError> {
        self.reader.list_templates(domain_id).await
    }

    /// What a ListTemplates answer to a call made for `asked` writes (see [`templates::writes`]).
    pub async fn template_writes(
        &self,
        domain_id: &str,
        asked: &BTreeSet<String>,
        listed: &[TemplateInfo],
    ) -> TemplateWrites {
        let domains = self.domains.lock().await;
        let known = domains
            .get(domain_id)
            .and_then(|c| c.templates.clone())
            .unwrap_or_default();
        templates::writes(asked, listed, &known)
    }

    /// Remembers `done` once written: its templates as named, the ids it could not name as not
    /// to be asked about again.
    pub async fn learn_templates(&self, domain_id: &str, done: &TemplateWrites) {
        let mut domains = self.domains.lock().await;
        domains
            .entry(domain_id.to_owned())
            .or_default()
            .templates
            .get_or_insert_with(KnownTemplates::default)
            .learn(done);
    }
}
