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
    /// Estimated calls per operation (at least; more pages where a case has more).
    pub calls: Vec<(&'static str, u64)>,
    pub estimated_seconds: f64,
}

impl Plan {
    pub fn new(
        cases: u64,
        page_size: u32,
        fields_beyond_search: usize,
        related: RelatedStrategy,
        rate: f64,
    ) -> Self {
        let search = cases.div_ceil(u64::from(page_size.max(1))).max(1);
        let get_case = cases * (fields_beyond_search as u64).div_ceil(220);
        let mut calls = vec![("SearchCases", search)];
        if get_case > 0 {
            calls.push(("GetCase", get_case));
        }
        match related {
            // Unknown until read: at least one page; never more than the per-case plan.
            RelatedStrategy::DomainWide => calls.push(("SearchAllRelatedItems", 1)),
            RelatedStrategy::PerCase => calls.push(("SearchRelatedItems", cases)),
        }
        // Cases updated within the history window: one page each at least.
        calls.push(("GetCaseAuditEvents", cases));
        let total: u64 = calls.iter().map(|(_, n)| n).sum();
        Plan {
            cases,
            related,
            calls,
            estimated_seconds: total as f64 / rate.max(f64::MIN_POSITIVE),
        }
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
            "  estimated time ≥ {}h{:02}m{:02}s at the rate",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}
