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
    for command in [
        "table",
        "replay",
        "show",
        "event-config",
        "TABLE_NAME",
        "Exit status",
    ] {
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

/// Stderr as one string, and the exit status.
fn failure(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_casesctl"))
        .args(args)
        .env_remove("TABLE_NAME")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_setting_is_refused_the_same_way_by_every_command() {
    const D: &str = "4f0c8a7e-2b6d-4e1a-9c3f-5d7b8e9a0c1d";
    for (name, args) in [
        ("table create", &["table", "create"][..]),
        ("show", &["show"]),
        ("replay", &["replay", "events/01-case-created.json"]),
        ("backfill", &["backfill", "--domain-id", D]),
        ("reconcile", &["reconcile", "--domain-id", D]),
        ("regroup", &["regroup", "--domain-id", D]),
        (
            "report",
            &[
                "report",
                "--domain-id",
                D,
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
            ],
        ),
        (
            "dashboard",
            &["dashboard", "--domain-id", D, "--out", "x.html"],
        ),
    ] {
        let (code, stderr) = failure(args, &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!(
                "casesctl {name}: TABLE_NAME is not set: it must name the read-model DynamoDB table"
            ),
            "{args:?}"
        );
    }
}

#[test]
fn numbers_out_of_bounds_are_refused_with_the_bounds() {
    const D: &str = "4f0c8a7e-2b6d-4e1a-9c3f-5d7b8e9a0c1d";
    for rate in ["-1", "0", "1e-9", "20.5", "abc", "inf", "NaN"] {
        for command in ["backfill", "reconcile"] {
            let (code, stderr) = failure(&[command, "--domain-id", D, "--rate", rate], &[]);
            assert_eq!(code, Some(2), "{command} --rate {rate}: {stderr}");
            assert!(
                stderr.contains("requests per second from 0.01 to 20"),
                "{command} --rate {rate}: {stderr}"
            );
        }
    }
    for (args, says) in [
        (&["reconcile", "--since", "100000000d"][..], "at most 3650d"),
        (&["reconcile", "--since", "-5m"], "--since"),
        (&["reconcile", "--lease-seconds", "0"], "1..=43200"),
        (&["reconcile", "--page-size", "101"], "1..=100"),
        (&["backfill", "--page-size", "0"], "1..=100"),
    ] {
        let (code, stderr) = failure(&[args, &["--domain-id", D]].concat(), &[]);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let (code, stderr) = failure(
        &[
            "backfill",
            "--domain-id",
            D,
            "--history-since",
            "2999-01-01",
        ],
        &[("TABLE_NAME", "t")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("in the future"), "{stderr}");
}

#[test]
fn each_help_lists_exactly_the_environment_its_command_reads() {
    let help = |args: &[&str]| text(&casesctl(args));
    let report = help(&["report", "--help"]);
    for name in [
        "TABLE_NAME",
        "REPORT_DIMENSIONS",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ] {
        assert!(report.contains(name), "{name}:\n{report}");
    }
    assert!(!report.contains("CASE_FIELDS"), "{report}");
    let backfill = help(&["backfill", "--help"]);
    for name in [
        "TABLE_NAME",
        "CASE_FIELDS",
        "REPORT_DIMENSIONS",
        "AWS_ENDPOINT_URL_CONNECTCASES",
    ] {
        assert!(backfill.contains(name), "{name}:\n{backfill}");
    }
    assert!(help(&["reconcile", "--help"]).contains("HOSTNAME"));
    let event_config = help(&["event-config", "show", "--help"]);
    assert!(!event_config.contains("TABLE_NAME"), "{event_config}");
    assert!(help(&["replay", "--help"]).contains("GET_CASE_RATE"));

    // A setting a command does not list is not read: an invalid ENRICHMENT does not stop
    // `show`, which fails on the (closed) endpoint instead.
    let (code, stderr) = failure(
        &["show"],
        &[
            ("TABLE_NAME", "t"),
            ("ENRICHMENT", "bogus"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
            ("STORE_TIMEOUT_MS", "2000"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("ENRICHMENT"), "{stderr}");
}

#[test]
fn an_unreachable_table_is_one_line_saying_what_to_check_without_sdk_debug_text() {
    let (code, stderr) = failure(
        &["show"],
        &[
            ("TABLE_NAME", "t"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
            ("STORE_TIMEOUT_MS", "2000"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("casesctl show: read model unavailable: "),
        "{stderr}"
    );
    assert!(stderr.contains("check that DynamoDB answers"), "{stderr}");
    for debug in ["{", "DispatchFailure", "ConnectorError", "source:"] {
        assert!(!stderr.contains(debug), "{debug}: {stderr}");
    }
}
