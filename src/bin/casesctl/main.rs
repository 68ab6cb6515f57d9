//! casesctl: run and set up the read model. Parsing and dispatch only; the commands are in
//! `commands.rs`.
//!
//! casesctl table create                               create the table as template.yaml defines it (idempotent)
//! casesctl replay PATH...                             feed event files/folders through the handler, one invocation per file
//! casesctl show                                       print the read model
//! casesctl event-config show --domain-id D            print the domain's case event configuration
//! casesctl event-config apply --domain-id D [--yes]   set the configuration the projector works best with
//!
//! Exit status: 0 on success, 1 when a command fails, 2 on a usage error.

mod commands;
mod local;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

const ENVIRONMENT: &str = "\
Environment:
  TABLE_NAME                     the read-model table (table, replay, show)
  CASE_FIELDS                    comma-separated case field ids (replay; event-config apply adds them)
  AWS_ENDPOINT_URL_DYNAMODB      e.g. DynamoDB Local
  AWS_ENDPOINT_URL_CONNECTCASES  e.g. the Connect Cases stand-in
  and every other variable the Lambda reads (see template.yaml) and the standard AWS ones";

/// Run and set up the cases-projector read model.
#[derive(Debug, Parser)]
#[command(name = "casesctl", version, after_help = ENVIRONMENT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the read-model table.
    #[command(subcommand)]
    Table(TableCommand),
    /// Feed event files through the handler, one invocation per file.
    ///
    /// A folder stands for its `*.json` files (not its sub-folders), in name order. Exits 1 if
    /// any record fails or any file is not a recognised invocation.
    Replay {
        /// Event files or folders of them.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the read model: cases, related items, daily counters, field metadata (a Scan: for
    /// local tables).
    Show,
    /// Show or set the Connect Cases domain's case event configuration.
    #[command(subcommand)]
    EventConfig(EventConfigCommand),
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the table as template.yaml defines it (does nothing if it exists).
    Create,
}

#[derive(Debug, Subcommand)]
enum EventConfigCommand {
    /// Print the domain's case event configuration.
    Show(Domain),
    /// Enable events with related-item content and the fields the projector needs (the
    /// dashboard fields and CASE_FIELDS); prints the difference and asks before writing.
    Apply {
        #[command(flatten)]
        domain: Domain,
        /// Write without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
struct Domain {
    /// The Connect Cases domain id.
    #[arg(long, value_name = "D")]
    domain_id: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors exit 2 with a hint; --help and --version exit 0.
    let cli = Cli::parse();
    match cli.command {
        Command::Table(TableCommand::Create) => commands::table_create().await,
        Command::Replay { paths } => commands::replay(&paths).await,
        Command::Show => commands::show().await,
        Command::EventConfig(EventConfigCommand::Show(Domain { domain_id })) => {
            commands::event_config_show(&domain_id).await
        }
        Command::EventConfig(EventConfigCommand::Apply { domain, yes }) => {
            commands::event_config_apply(&domain.domain_id, yes).await
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("casesctl").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_come_in_any_order() {
        for args in [
            ["event-config", "apply", "--domain-id", "d", "--yes"],
            ["event-config", "apply", "--yes", "--domain-id", "d"],
            ["event-config", "apply", "--yes", "--domain-id=d", "--"],
        ] {
            let args: Vec<&str> = args.into_iter().filter(|a| *a != "--").collect();
            assert!(
                matches!(
                    parse(&args),
                    Ok(Command::EventConfig(EventConfigCommand::Apply { domain, yes: true }))
                        if domain.domain_id == "d"
                ),
                "{args:?}"
            );
        }
    }

    #[test]
    fn replay_needs_a_path_and_takes_many() {
        assert!(parse(&["replay"]).is_err());
        assert!(matches!(
            parse(&["replay", "events/", "more.json"]),
            Ok(Command::Replay { paths }) if paths.len() == 2
        ));
    }
}
