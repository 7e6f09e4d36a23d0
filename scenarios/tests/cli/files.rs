//! Scenario files that are not valid: exit 2, with `FILE:LINE:COL` and what
//! is wrong, before anything runs.

use crate::common::replharness;

const BASE: &str =
    "name = \"bad\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n\n[[topology.servers]]\nname = \"ds-2\"\n";

/// Writes each `(file, text)` to a folder and checks `replharness run FILE`
/// exits 2 with `FILE` + the expected message.
fn refused(cases: &[(&str, String, &str)]) {
    let dir = tempfile::tempdir().expect("dir");
    for (file, body, want) in cases {
        let p = dir.path().join(file);
        std::fs::write(&p, body).expect("write");
        let out = replharness(&["run", p.to_str().expect("p")]);
        assert_eq!(out.code(), Some(2), "{file}: {}", out.text());
        assert!(out.stderr.contains(&format!("{file}{want}")), "{file}: wanted {want:?} in\n{}", out.stderr);
        assert!(!out.stdout.contains("PASS") && !out.stdout.contains("FAIL"), "{file}: nothing runs");
    }
}

#[test]
fn invalid_files_exit_2_naming_file_line_and_column() {
    refused(&[
        ("unknown-key.toml", format!("{BASE}colour = \"red\"\n"), ":8:1: unknown field `colour`"),
        (
            "bad-duration.toml",
            format!("{BASE}[[steps]]\nat = \"whenever\"\naction = \"kill\"\nserver = \"ds-1\"\n"),
            ":9:6: \"whenever\" is not a duration",
        ),
        (
            "unknown-id.toml",
            format!("{BASE}[[expect]]\nid = \"ds.all-good\"\n"),
            ":9:6: unknown verdict id \"ds.all-good\"",
        ),
        (
            "dangling.toml",
            format!("{BASE}[[steps]]\naction = \"stop\"\nserver = \"ds-7\"\n"),
            ":10:10: no server named \"ds-7\" (servers: ds-1, ds-2)",
        ),
    ]);
    let out = replharness(&["run", "/no/such/scenario.toml"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("cannot read /no/such/scenario.toml"), "{}", out.stderr);
    let out = replharness(&["run", "--filter", "no scenario is called this"]);
    assert_eq!(out.code(), Some(2));
}

/// `attributes = { latancy = 100 }` validated and ran as a 0 ms latency.
#[test]
fn a_misspelt_fault_attribute_is_refused_naming_it() {
    let fault = |attrs: &str| {
        format!("{BASE}[[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = {{ type = \"latency\", attributes = {{ {attrs} }} }}\n")
    };
    refused(&[
        (
            "latancy.toml",
            fault("latancy = 100"),
            ":12:44: fault.attributes.latancy: unknown key (a latency toxic takes latency, jitter)",
        ),
        ("fault-key.toml", format!("{BASE}[[steps]]\naction = \"fault\"\nlink = \"ds-1 -> ds-2\"\nfault = {{ type = \"drop\", latency = 5 }}\n"), ":11:26: unknown field `latency`"),
    ]);
}

/// The fault proxy's bounds hold in scenario files: integers at most
/// i64::MAX, no negatives, durations at most 24 h; exit 2 with the place.
#[test]
fn numbers_out_of_range_in_scenario_files_exit_2_with_the_place() {
    let step =
        |body: &str| format!("{BASE}[[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"ds-1 <-> ds-2\"\n{body}\n");
    refused(&[
        (
            "latency-over-a-day.toml",
            step("fault = { type = \"latency\", attributes = { latency = 86400001 } }"),
            ":12:54: fault.attributes.latency: 86400001 is out of range: at most 86400000 (24 h in milliseconds)",
        ),
        (
            "negative-bytes.toml",
            step("fault = { type = \"limit_data\", attributes = { bytes = -1 } }"),
            ":12:55: fault.attributes.bytes: -1 is negative",
        ),
        (
            "past-i64.toml",
            step("fault = { type = \"limit_data\", attributes = { bytes = 9223372036854775808 } }"),
            ":12:55: ",
        ),
        (
            "flap-over-a-day.toml",
            step("fault = { type = \"reset_peer\" }\nflap = { on = \"25h\", off = \"1s\" }"),
            ":13:15: \"25h\" is longer than 24h",
        ),
        (
            "at-over-a-day.toml",
            format!("{BASE}[[steps]]\nat = \"24h 1s\"\naction = \"kill\"\nserver = \"ds-1\"\n"),
            ":9:6: \"24h 1s\" is longer than 24h",
        ),
        ("deadline.toml", format!("deadline = \"2d\"\n{BASE}"), ":1:12: \"2d\" is longer than 24h"),
        ("time-scale.toml", format!("time_scale = 1e9\n{BASE}"), ":1:14: time_scale must be a number from 1 to 10000"),
        (
            "generation.toml",
            format!("{BASE}[[steps]]\naction = \"generation\"\nserver = \"ds-1\"\ndomain = \"dc=example,dc=com\"\ngeneration_id = -5\n"),
            ":12:17: generation_id must be 0 or more, not -5",
        ),
        ("seed.toml", format!("seed = -1\n{BASE}"), ":1:8: invalid value: integer `-1`, expected u64"),
    ]);
}

/// A field of another action (`flap` on a `kill`, `fault` on a `clear`)
/// was accepted and ignored: each action now takes exactly its own fields.
#[test]
fn a_field_of_another_action_is_refused() {
    refused(&[
        (
            "kill-timeout.toml",
            format!("{BASE}[[steps]]\naction = \"kill\"\nserver = \"ds-1\"\ntimeout = \"5s\"\n"),
            ":11:1: unknown field `timeout`, expected `at` or `server`",
        ),
        (
            "clear-fault.toml",
            format!("{BASE}[[steps]]\naction = \"clear\"\nlink = \"ds-1 -> ds-2\"\nname = \"x\"\nfault = {{ type = \"drop\" }}\n"),
            ":12:1: unknown field `fault`",
        ),
        (
            "not-proxied.toml",
            format!("{BASE}[[steps]]\naction = \"fault\"\nlink = \"ds-1 -> ds-2\"\nport = \"admin\"\nfault = {{ type = \"drop\" }}\n"),
            ":10:8: link ds-1->ds-2:admin does not go through the fault proxy (admin ports need admin_ports = true",
        ),
    ]);
}
