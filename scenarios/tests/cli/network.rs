//! `--network netns`: the kernel network as a user runs it. These tests make
//! network namespaces and nftables rules, so they need root, `ip` and
//! `nft`; without them they fail, saying why (CI runs them as root; they are
//! never skipped). Each run's namespaces are found by the pid in their names.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{command, crate_file, replharness, run_bounded, wait_bounded};

fn need_root() {
    if let Err(why) = netlab::preflight::check() {
        panic!("this test runs replharness on the netns network: {why}");
    }
}

/// The namespaces whose name says process `pid` owns them.
fn namespaces_of(pid: u32) -> Vec<String> {
    netlab::namespaces().into_iter().filter(|n| netlab::names::parse(n).is_some_and(|p| p.owner.pid == pid)).collect()
}

/// Waits (bounded) until `pid` has made at least `n` namespaces.
fn wait_for_namespaces(pid: u32, n: usize) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let now = namespaces_of(pid);
        if now.len() >= n {
            return now;
        }
        assert!(Instant::now() < until, "process {pid} made {} of {n} namespaces in 60 s", now.len());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Each scenario's verdicts (id, cause, subject), from a `--report-json` file.
fn verdicts(report: &str) -> BTreeMap<String, (bool, Vec<String>)> {
    let text = std::fs::read_to_string(report).expect("report");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        if v["type"] != "scenario" {
            continue;
        }
        let d = &v["data"];
        let mut got: Vec<String> = d["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .map(|x| format!("{} cause={} subject={}", x["id"], x["cause"], subject_of(x)))
            .collect();
        got.sort();
        out.insert(d["name"].as_str().expect("name").to_owned(), (d["passed"] == true, got));
    }
    out
}

#[test]
fn firewall_dns_and_flapping_reach_the_same_verdicts_on_both_networks_and_leave_no_namespace() {
    need_root();
    let dir = tempfile::tempdir().expect("dir");
    let mut reports = Vec::new();
    for network in ["proxy", "netns"] {
        let report = dir.path().join(format!("{network}.jsonl")).display().to_string();
        let args = [
            "run",
            "--network",
            network,
            "--filter",
            "firewall",
            "--filter",
            "dns",
            "--filter",
            "flapping",
            "--report-json",
            &report,
        ];
        let mut c = command(&args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = c.spawn().expect("start");
        let pid = child.id();
        let out = child.wait_with_output().expect("run");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "--network {network}:\n{text}");
        if network == "netns" {
            assert!(text.contains("network: netns"), "{text}");
        }
        assert_eq!(namespaces_of(pid), Vec::<String>::new(), "--network {network} left namespaces");
        reports.push(verdicts(&report));
    }
    let (proxy, netns) = (&reports[0], &reports[1]);
    assert!(proxy.len() >= 7, "every bundled firewall, dns and flapping scenario: {:?}", proxy.keys());
    assert_eq!(proxy.keys().collect::<Vec<_>>(), netns.keys().collect::<Vec<_>>());
    for (name, p) in proxy {
        assert_eq!(Some(p), netns.get(name), "{name}: proxy (left) and netns (right) differ");
        assert!(p.0, "{name} passed");
    }
}

#[test]
fn a_run_killed_with_sigkill_leaves_its_namespaces_and_the_next_run_removes_them() {
    need_root();
    // A scenario that runs for seconds: its lab is up while it runs.
    let mut run = command(&["run", "--network", "netns", "--filter", "firewall drops the replication port"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the run");
    let pid = run.id();
    // A switch and two hosts.
    let made = wait_for_namespaces(pid, 3);
    run.kill().expect("kill -9");
    // Not reaped yet: a zombie still counts as its owner, so no sweep can take them yet.
    assert_eq!(namespaces_of(pid), made, "a killed run cannot clean up");
    let status = wait_bounded(&mut run, &["run"]);
    assert_eq!(status.code(), None, "killed by a signal");
    // From here on any lab's sweep may remove them (tests run side by side); the next run surely does.
    let next = replharness(&["run", "--network", "netns", "--filter", "healthy mesh"]);
    assert_eq!(next.code(), Some(0), "{}", next.text());
    assert_eq!(namespaces_of(pid), Vec::<String>::new(), "the next run removed the dead run's namespaces");
}

#[test]
fn ctrl_c_and_sigterm_remove_the_runs_namespaces() {
    need_root();
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let mut run = command(&["run", "--network", "netns", "--filter", "firewall drops the replication port"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start");
        let pid = run.id();
        wait_for_namespaces(pid, 3);
        let sent = std::process::Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill");
        assert!(sent.success());
        let status = wait_bounded(&mut run, &["run"]);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut run.stdout.take().expect("stdout"), &mut err).expect("stdout");
        std::io::Read::read_to_string(&mut run.stderr.take().expect("stderr"), &mut err).expect("stderr");
        assert_eq!(status.code(), Some(code), "{signal}: {err}");
        assert!(err.contains("interrupted; removed 3 network namespaces"), "{signal}: {err}");
        assert_eq!(namespaces_of(pid), Vec::<String>::new(), "{signal} left namespaces");
    }
}

#[test]
fn the_kernel_only_scenarios_run_apart_and_the_case_notes_the_network() {
    need_root();
    let keep = tempfile::tempdir().expect("keep");
    let folder = crate_file("library-netns").display().to_string();
    let keep_s = keep.path().display().to_string();
    let r = replharness(&["run", &folder, "--keep", &keep_s]);
    assert_eq!(r.code(), Some(0), "{}", r.text());
    let topo = std::fs::read_to_string(keep.path().join("packet-loss-on-the-link-between-two-sites/topology.toml"))
        .expect("the case's topology.toml");
    let t: toml::Table = toml::from_str(&topo).expect("TOML");
    let net = t["network"].as_table().expect("[network]");
    assert_eq!(net["kind"].as_str(), Some("netns"));
    let hosts = net["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 2);
    let retransmitted: i64 = hosts.iter().map(|h| h["tcp_retransmitted_segments"].as_integer().expect("count")).sum();
    assert!(retransmitted > 0, "5% loss each way costs real retransmits: {net:?}");
    for s in t["servers"].as_array().expect("servers") {
        let a = s["addresses"][0].as_str().expect("address");
        assert!(a.starts_with("198.18.") || a.starts_with("198.19."), "a test host's address: {a}");
    }
    // The same folder on the proxy network: refused, naming the step and the way out.
    let r = replharness(&["run", &folder, "--network", "proxy"]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    assert!(r.text().contains("packet-loss.toml:") && r.text().contains("--network netns"), "{}", r.text());
}

#[test]
fn the_default_suite_stays_on_the_proxy_network_and_notes_it() {
    let keep = tempfile::tempdir().expect("keep");
    let keep_s = keep.path().display().to_string();
    let r = replharness(&["run", "--filter", "healthy mesh", "--keep", &keep_s]);
    assert_eq!(r.code(), Some(0), "{}", r.text());
    assert!(!r.text().contains("network: netns"), "{}", r.text());
    let topo = std::fs::read_to_string(keep.path().join("healthy-mesh/topology.toml")).expect("topology.toml");
    let t: toml::Table = toml::from_str(&topo).expect("TOML");
    assert_eq!(t["network"]["kind"].as_str(), Some("proxy"));
    assert!(t["servers"][0]["addresses"][0].as_str().is_some_and(|a| a.starts_with("127.")));
}

#[test]
fn what_the_kernel_network_cannot_do_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("latency.toml");
    std::fs::write(
        &file,
        "name = \"slow\"\n[topology]\n[[topology.servers]]\nname = \"a\"\n[[topology.servers]]\nname = \"b\"\n\
         [[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"a <-> b\"\nfault = { type = \"latency\", attributes = { latency = 100 } }\n",
    )
    .expect("write");
    let f = file.display().to_string();
    let r = replharness(&["run", &f, "--network", "netns"]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    assert!(r.text().contains("latency.toml:7:1") && r.text().contains("tc netem"), "{}", r.text());
    assert!(r.text().contains("--network proxy"), "{}", r.text());
    let r = replharness(&["run", "--network", "wifi"]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    // The lab lists and heals faults on its proxies: it says so instead of running without them.
    let r = replharness(&["lab", "--network", "netns"]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    assert!(r.text().contains("the lab runs on the proxy network only"), "{}", r.text());
    let kernel_only = crate_file("library-netns/packet-loss.toml").display().to_string();
    let r = replharness(&["lab", &kernel_only]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    assert!(r.text().contains("packet-loss.toml: network = \"netns\""), "{}", r.text());
}

#[test]
fn without_root_the_netns_network_is_refused_saying_why() {
    need_root();
    // The same binary as an unprivileged user (nobody).
    let mut c = std::process::Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_replharness")])
        .args(["run", "--network", "netns", "--filter", "healthy mesh"])
        .stdin(Stdio::null());
    let r = run_bounded(c, &["setpriv", "run", "--network", "netns"]);
    assert_eq!(r.code(), Some(2), "{}", r.text());
    assert!(r.text().contains("need root") && r.text().contains("--network proxy"), "{}", r.text());
}

#[test]
fn a_mesh_on_test_hosts_writes_their_addresses_and_namespaces_into_its_case() {
    need_root();
    let dir = tempfile::tempdir().expect("dir");
    let case = dir.path().join("case").display().to_string();
    let r = replharness(&["mesh", "--network", "netns", "--servers", "3", "--time-scale", "100", "--case-out", &case]);
    assert_eq!(r.code(), Some(0), "{}", r.text());
    assert!(r.text().contains("all links up"), "{}", r.text());
    let t: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.path().join("case/topology.toml")).expect("topology"))
            .expect("TOML");
    let hosts = t["network"]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    for (h, s) in hosts.iter().zip(t["servers"].as_array().expect("servers")) {
        assert_eq!(h["address"], s["addresses"][0], "the case's address is the host's");
        assert!(h["namespace"].as_str().is_some_and(|n| n.starts_with("replharness-")));
    }
}

/// A verdict's subject with the port of a 389 `consumer` (`host:port`) left out: the system
/// picks the consumer's port anew for every run, so it cannot compare across runs.
fn subject_of(x: &serde_json::Value) -> serde_json::Value {
    let mut s = x["subject"].clone();
    if let Some(c) = s.get_mut("consumer") {
        if let Some(host) = c.as_str().and_then(|hp| hp.rsplit_once(':')).map(|(h, _)| h.to_owned()) {
            *c = serde_json::Value::String(host);
        }
    }
    s
}
