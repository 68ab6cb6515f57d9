//! casesctl's command line: help, version and usage errors, without any AWS endpoint.

use std::process::{Command, Output};

fn casesctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casesctl"))
        .args(args)
        // Nothing here may reach AWS: a usage error stops before any client is built.
        .env_remove("TABLE_NAME")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn help_exits_0_and_lists_every_command() {
    let out = casesctl(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let help = text(&out);
    for command in ["table", "replay", "show", "event-config", "TABLE_NAME"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        &["replay", "--help"][..],
        &["table", "--help"],
        &["table", "create", "--help"],
        &["show", "--help"],
        &["event-config", "--help"],
        &["event-config", "show", "--help"],
        &["event-config", "apply", "--help"],
        &["help", "replay"],
    ] {
        let out = casesctl(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    let replay = text(&casesctl(&["replay", "--help"]));
    assert!(replay.contains("PATH"), "{replay}");
    let apply = text(&casesctl(&["event-config", "apply", "--help"]));
    assert!(
        apply.contains("--domain-id") && apply.contains("--yes"),
        "{apply}"
    );
}

#[test]
fn version_exits_0() {
    let out = casesctl(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        text(&out)
    );
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    for args in [
        &["bogus"][..],
        &[],
        &["event-config", "show"],
        &["event-config", "apply", "--yes"],
        &["replay"],
        &["table"],
        &["show", "--frobnicate"],
    ] {
        let out = casesctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("Usage:") || text(&out).contains("--help"),
            "{args:?}: {}",
            text(&out)
        );
    }
    let missing = text(&casesctl(&["event-config", "show"]));
    assert!(missing.contains("--domain-id"), "{missing}");
}

#[test]
fn a_failing_command_exits_1() {
    // No TABLE_NAME: the configuration error is reported before anything is contacted.
    let out = casesctl(&["show"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("TABLE_NAME"), "{}", text(&out));
}
