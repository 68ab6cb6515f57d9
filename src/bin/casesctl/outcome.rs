//! How every command ends: one line on standard error saying what happened and what to do,
//! prefixed `casesctl <command>:`, and one of three exit statuses: 0 done, 1 failed (running
//! again may work), 2 refused (a usage error, or something an operator must change first).

use std::process::ExitCode;

use cases_projector::backfill::BackfillError;
use cases_projector::config::ConfigError;
use cases_projector::enrichment::ReaderError;
use cases_projector::reconcile::ReconcileError;
use cases_projector::store::StoreError;

#[derive(Debug)]
pub enum Failure {
    /// Usage, configuration, access, a missing table or domain: exit 2.
    Refused(String),
    /// Tried and failed (a service unavailable, an interrupted run, records that failed): exit 1.
    Failed(String),
}

pub type Outcome = Result<(), Failure>;

impl Failure {
    /// The same failure with what to do next.
    pub fn then(self, advice: &str) -> Self {
        match self {
            Failure::Refused(m) => Failure::Refused(format!("{m}; {advice}")),
            Failure::Failed(m) => Failure::Failed(format!("{m}; {advice}")),
        }
    }
}

/// The exit status of `command`, after printing its failure if any.
pub fn exit(command: &str, outcome: Outcome) -> ExitCode {
    let (message, code) = match outcome {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Refused(m)) => (m, 2),
        Err(Failure::Failed(m)) => (m, 1),
    };
    // One line whatever a service put in its message.
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("casesctl {command}: {line}");
    ExitCode::from(code)
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Refused(e.to_string())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Unavailable(_) => Failure::Failed(format!(
                "{e}; check that DynamoDB answers (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials) and run again"
            )),
            StoreError::Misconfigured(m) if m.starts_with("ResourceNotFoundException") => {
                Failure::Refused(format!(
                    "{e}; check TABLE_NAME and AWS_REGION (`casesctl table create` makes a table)"
                ))
            }
            StoreError::Misconfigured(_) => Failure::Refused(format!(
                "{e}; check the credentials and their permissions on the table"
            )),
            _ => Failure::Failed(e.to_string()),
        }
    }
}

impl From<ReaderError> for Failure {
    fn from(e: ReaderError) -> Self {
        if e.is_refusal() {
            Failure::Refused(format!(
                "{e}; check --domain-id, AWS_REGION and the permissions"
            ))
        } else if matches!(e, ReaderError::Unavailable { .. }) {
            Failure::Failed(format!(
                "{e}; check that the Cases API answers (AWS_ENDPOINT_URL_CONNECTCASES, AWS_REGION, credentials) and run again"
            ))
        } else {
            Failure::Failed(e.to_string())
        }
    }
}

impl From<BackfillError> for Failure {
    fn from(e: BackfillError) -> Self {
        match e {
            BackfillError::Refused(r) | BackfillError::Cases(r) => Failure::from(r),
            BackfillError::Store(s) => Failure::from(s),
            e @ (BackfillError::Unfinished | BackfillError::NothingToResume) => {
                Failure::Refused(e.to_string())
            }
            e @ BackfillError::Checkpoint(_) => Failure::Failed(format!(
                "{e}; start over with --restart (nothing counts twice)"
            )),
        }
    }
}

impl From<ReconcileError> for Failure {
    fn from(e: ReconcileError) -> Self {
        match e {
            ReconcileError::Refused(r) | ReconcileError::Cases(r) => Failure::from(r),
            ReconcileError::Store(s) => Failure::from(s),
            e @ (ReconcileError::Busy { .. } | ReconcileError::LeaseLost { .. }) => {
                Failure::Refused(format!("{e}: nothing more done"))
            }
            e => Failure::Failed(e.to_string()),
        }
    }
}
