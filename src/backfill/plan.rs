//! What a backfill will cost, before it starts: cases, calls per operation, time at the rate.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelatedStrategy {
    /// SearchAllRelatedItems over the domain: one call per 25 related items.
    DomainWide,
    /// SearchRelatedItems per case: at least one call per case.
    PerCase,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub cases: u64,
    pub related: RelatedStrategy,
    /// Estimated calls per operation (at least; more pages where a case has more), planning
    /// calls included.
    pub calls: Vec<(&'static str, u64)>,
    /// Requests per second the run is limited to.
    pub rate: f64,
    pub estimated_seconds: f64,
}

impl Plan {
    /// `fields_listed`: the wanted fields came from ListFields (no `CASE_FIELDS`).
    pub fn new(
        cases: u64,
        page_size: u32,
        fields_beyond_search: usize,
        related: RelatedStrategy,
        rate: f64,
        fields_listed: bool,
    ) -> Self {
        let search = cases.div_ceil(u64::from(page_size.max(1))).max(1);
        let get_case = cases * (fields_beyond_search as u64).div_ceil(220);
        let mut calls = Vec::new();
        if fields_listed {
            calls.push(("ListFields", 1));
        }
        // The run names the domain's templates for dashboards (a dry run does not).
        calls.push(("ListTemplates", 1));
        calls.push(("SearchCases", search));
        if get_case > 0 {
            calls.push(("GetCase", get_case));
        }
        match related {
            // The probe that chose the strategy, then at least one page; never more than the
            // per-case plan.
            RelatedStrategy::DomainWide => calls.push(("SearchAllRelatedItems", 2)),
            // The probe was refused; then one call per case at least.
            RelatedStrategy::PerCase => calls.push(("SearchRelatedItems", cases + 1)),
        }
        // Cases updated within the history window: one page each at least.
        calls.push(("GetCaseAuditEvents", cases));
        let plan = Plan {
            cases,
            related,
            calls,
            rate,
            estimated_seconds: 0.0,
        };
        Plan {
            estimated_seconds: plan.total_calls() as f64 / rate.max(f64::MIN_POSITIVE),
            ..plan
        }
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.iter().map(|(_, n)| n).sum()
    }

    /// Calls the case pages take per case (their search page, reads, related items, history).
    pub fn calls_per_case(&self) -> f64 {
        let per_domain =
            |op: &str| matches!(op, "ListFields" | "ListTemplates" | "SearchAllRelatedItems");
        let case_calls: u64 = self
            .calls
            .iter()
            .filter(|(op, _)| !per_domain(op))
            .map(|(_, n)| n)
            .sum();
        case_calls as f64 / self.cases.max(1) as f64
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "backfill plan: {} case(s)", self.cases)?;
        let related = match self.related {
            RelatedStrategy::DomainWide => {
                "related items: domain-wide (SearchAllRelatedItems, 25 per call: never more calls than per case)"
            }
            RelatedStrategy::PerCase => {
                "related items: per case (SearchRelatedItems; SearchAllRelatedItems was refused)"
            }
        };
        writeln!(f, "  {related}")?;
        for (op, n) in &self.calls {
            writeln!(f, "  {op:<22} ≥ {n}")?;
        }
        let secs = self.estimated_seconds.round() as u64;
        write!(
            f,
            "  estimated time ≥ {}h{:02}m{:02}s at {} call(s)/s",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            self.rate
        )
    }
}
