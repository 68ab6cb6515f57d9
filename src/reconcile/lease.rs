//! The run's lease on the domain: taken at the start, held through every write, released at
//! the end. A write first makes sure the lease is still the run's, renewing it once a third of
//! it has passed: however long a step's loop (a throttled Cases API, thousands of candidates),
//! the lease never lapses while the run writes, and a run that lost it (stalled past its end,
//! another run took over) stops before its next write.

use std::time::{Instant, SystemTime};

use chrono::DateTime;
use tokio::sync::Mutex;

use super::{NAME, Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::CaseReader;
use crate::store::{DomainStore, ReadModelStore};

#[derive(Debug, Default)]
pub(super) struct LeaseState(Mutex<Held>);

#[derive(Debug, Default)]
enum Held {
    #[default]
    No,
    /// Taken or renewed then.
    Since(Instant),
    /// Another owner holds it (until then, epoch seconds).
    Lost(u64),
}

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// The lease's end for a renewal now, in whole epoch seconds rounded up (so it never ends
    /// before `now + lease`).
    fn lease_until(&self) -> u64 {
        let end = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            + self.options.lease;
        end.as_secs() + u64::from(end.subsec_nanos() > 0)
    }

    /// Takes or renews the lease in the store: `Err(until)` when another owner holds it.
    async fn acquire(&self) -> Result<Result<(), u64>, ReconcileError> {
        Ok(self
            .store
            .acquire_lease(
                &self.options.domain_id,
                NAME,
                &self.options.owner,
                self.lease_until(),
            )
            .await?)
    }

    /// Takes the lease for a run; `Busy` when another run holds it.
    pub(super) async fn take_lease(&self) -> Result<(), ReconcileError> {
        let mut held = self.lease.0.lock().await;
        let taken_at = Instant::now();
        match self.acquire().await? {
            Ok(()) => {
                *held = Held::Since(taken_at);
                Ok(())
            }
            Err(until) => {
                *held = Held::No;
                Err(ReconcileError::Busy {
                    until: DateTime::from_timestamp(until as i64, 0).unwrap_or_default(),
                })
            }
        }
    }

    /// Before a write: the lease is still this run's (renewed when a third of it has passed),
    /// or `LeaseLost` and nothing more is written.
    pub(super) async fn hold_lease(&self) -> Result<(), ReconcileError> {
        let mut held = self.lease.0.lock().await;
        let renew_after = self.options.lease / 3;
        match *held {
            Held::Since(at) if at.elapsed() < renew_after => return Ok(()),
            Held::Lost(until) => return Err(lost(until)),
            _ => {}
        }
        let renewed_at = Instant::now();
        match self.acquire().await? {
            Ok(()) => {
                *held = Held::Since(renewed_at);
                Ok(())
            }
            Err(until) => {
                tracing::error!(
                    domain_id = self.options.domain_id,
                    "another reconcile took this run's lease: stopping before the next write"
                );
                *held = Held::Lost(until);
                Err(lost(until))
            }
        }
    }

    /// Gives the lease up at the end of a run, unless another run took it.
    pub(super) async fn release_lease(&self) -> Result<(), ReconcileError> {
        let mut held = self.lease.0.lock().await;
        if matches!(*held, Held::Lost(_)) {
            return Ok(());
        }
        *held = Held::No;
        self.store
            .release_lease(&self.options.domain_id, NAME, &self.options.owner)
            .await?;
        Ok(())
    }
}

fn lost(until: u64) -> ReconcileError {
    ReconcileError::LeaseLost {
        until: DateTime::from_timestamp(until as i64, 0).unwrap_or_default(),
    }
}
