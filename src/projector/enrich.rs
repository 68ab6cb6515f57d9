//! GetCase enrichment and field metadata, as the projector uses them.

use std::collections::{BTreeSet, HashMap};

use chrono::{TimeDelta, Utc};

use super::Projector;
use crate::enrichment::plan::{FetchContext, fields_to_fetch, fill_configured_nulls};
use crate::enrichment::templates::named_templates;
use crate::enrichment::{CaseReader, Enrichment, EnrichmentStatus};
use crate::event::{CaseEvent, Change};
use crate::report::{RecordError, Work};
use crate::store::{ReadModelStore, StoredCase};

impl<S: ReadModelStore, R: CaseReader> Projector<S, R> {
    /// Makes configured-but-absent fields explicit nulls and fetches, at most once, the fields
    /// the events leave out (see [`crate::enrichment::plan`]).
    pub(super) async fn enrich(
        &self,
        events: &mut [CaseEvent],
        stored: Option<&StoredCase>,
        work: &mut Work,
    ) -> Result<Option<Enrichment>, RecordError> {
        let Some(enricher) = &self.enricher else {
            return Ok(None);
        };
        if !events.iter().any(|e| matches!(e.change, Change::Case(_))) {
            return Ok(None);
        }
        let first = &events[0];
        let (domain_id, case_id) = (first.domain_id.clone(), first.case_id.clone());
        let mut facts = enricher.facts(&domain_id).await?;
        // A carried field the cached configuration lacks: the configuration changed since.
        let carries_unconfigured = |e: &CaseEvent| match &e.change {
            Change::Case(c) => c
                .fields
                .iter()
                .flatten()
                .any(|(id, _)| !facts.configured.contains(id)),
            _ => false,
        };
        if !facts.configured.is_empty()
            && events.iter().any(carries_unconfigured)
            && enricher.forget_facts(&domain_id).await
        {
            facts = enricher.facts(&domain_id).await?;
        }
        for event in events.iter_mut() {
            fill_configured_nulls(event, &facts.configured);
        }
        let settings = enricher.settings();
        let context = FetchContext {
            wanted: &facts.wanted,
            configured: &facts.configured,
            stored: stored.map(|s| &s.view),
            // Stored with millisecond precision: keep the cached state equal to the stored one.
            now: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
                .unwrap_or_else(Utc::now),
            max_snapshot_age: TimeDelta::from_std(settings.max_snapshot_age)
                .unwrap_or(TimeDelta::MAX),
        };
        let refs: Vec<&CaseEvent> = events.iter().collect();
        let needed = fields_to_fetch(&context, &refs);
        if needed.is_empty() {
            return Ok(None);
        }
        let enrichment = enricher
            .fetch(&domain_id, &case_id, &needed, context.now)
            .await?;
        match enrichment.status {
            EnrichmentStatus::Deferred(_) => work.enrichment_deferred += 1,
            _ => work.get_case_calls += 1,
        }
        Ok(Some(enrichment))
    }

    /// Stores names, types and option labels of fields the read model has not described yet.
    /// Best effort: a failure is logged and retried with the next event naming the field.
    pub(super) async fn describe_new_fields(&self, events: &[&CaseEvent]) {
        let Some(enricher) = &self.enricher else {
            return;
        };
        let mut by_domain: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for e in events {
            if let Change::Case(c) = &e.change {
                let ids = by_domain.entry(&e.domain_id).or_default();
                ids.extend(c.changed_field_ids.iter().cloned());
                ids.extend(c.fields.iter().flat_map(|f| f.keys().cloned()));
            }
        }
        for (domain_id, ids) in by_domain {
            let unknown = enricher
                .undescribed(domain_id, &ids, || async {
                    self.store
                        .described_fields(domain_id)
                        .await
                        .unwrap_or_default()
                })
                .await;
            if unknown.is_empty() {
                continue;
            }
            let result = match enricher.describe(domain_id, &unknown).await {
                Ok(infos) => self
                    .store
                    .put_field_metadata(domain_id, &infos)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(()) => {
                    enricher.mark_described(domain_id, &unknown).await;
                    tracing::info!(domain_id, fields = unknown.len(), "described new fields");
                }
                Err(error) => tracing::warn!(domain_id, %error, "could not describe new fields"),
            }
        }
    }

    /// Stores the names of templates the events name and the read model has no name for: at
    /// most one ListTemplates call per domain per invocation, none once every template named is
    /// known (the names stay cached for the execution environment). Best effort like
    /// [`Self::describe_new_fields`]: throttling or an outage is logged and retried with the next
    /// invocation; a refusal (the role lacks `cases:ListTemplates`) is logged once and those
    /// templates keep showing their ids.
    pub(super) async fn name_new_templates(&self, events: &[&CaseEvent]) {
        let Some(enricher) = &self.enricher else {
            return;
        };
        for (domain_id, ids) in named_templates(events.iter().copied()) {
            let asked = enricher
                .unnamed_templates(domain_id, &ids, || async {
                    self.store
                        .template_names(domain_id)
                        .await
                        .unwrap_or_default()
                })
                .await;
            if asked.is_empty() {
                continue;
            }
            let listed = match enricher.list_templates(domain_id).await {
                Ok(listed) => listed,
                Err(error) if error.is_retryable() => {
                    tracing::warn!(domain_id, %error, "could not list templates: names later");
                    continue;
                }
                Err(error) => {
                    tracing::error!(domain_id, %error, "cannot list templates: dashboards show template ids");
                    Vec::new()
                }
            };
            let done = enricher.template_writes(domain_id, &asked, &listed).await;
            match self.store.put_template_names(domain_id, &done.put).await {
                Ok(()) => {
                    enricher.learn_templates(domain_id, &done).await;
                    tracing::info!(
                        domain_id,
                        named = done.put.len(),
                        not_listed = done.not_listed.len(),
                        "stored template names"
                    );
                }
                Err(error) => {
                    tracing::warn!(domain_id, %error, "could not store template names")
                }
            }
        }
    }
}
