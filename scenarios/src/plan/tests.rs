//! Scenario → Plan: what each file means, typed, and every refusal with its place.

use std::time::Duration;

use harness::hostmap::HostEntry;

use super::*;
use crate::format::Port;

const BASE: &str =
    "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n\n[[topology.servers]]\nname = \"ds-2\"\n";

fn plan(text: &str) -> Plan {
    load("x.toml", text).unwrap_or_else(|e| panic!("valid: {e}"))
}

/// The place and message of a refusal.
fn refusal(text: &str) -> (String, String) {
    let e = load("x.toml", text).expect_err("invalid");
    let (place, problem) = e.problem().unwrap_or_else(|| panic!("an invalid file, not {e}"));
    (place.to_string(), problem.to_string())
}

fn step(body: &str) -> String {
    format!("{BASE}[[steps]]\nat = \"1m\"\n{body}\n")
}

/// The runner re-parsed durations with `.ok()…unwrap_or_default()`; every
/// duration is now read once, into the plan, with its default said here.
#[test]
fn silent_defaults_are_gone_every_duration_is_typed_in_the_plan() {
    let p = plan(BASE);
    assert_eq!(p.deadline, DEFAULT_DEADLINE);
    assert_eq!(p.probe_timeout, Some(DEFAULT_PROBE_TIMEOUT));
    assert_eq!(p.timings.link_timeout, Duration::from_secs(120));
    assert!(p.expect_all_up);
    let p = plan(&format!(
        "deadline = \"90s\"\n{BASE}[timings]\nheartbeat = \"1.5s\"\n[probes]\ntimeout = \"250ms\"\n\
         [[steps]]\nat = \"2m\"\naction = \"wait\"\nuntil = {{ logged = 181, server = \"ds-1\", count = 2 }}\ntimeout = \"20s\"\n\
         [[steps]]\naction = \"kill\"\nserver = \"ds-2\"\n"
    ));
    assert_eq!(p.deadline, Duration::from_secs(90));
    assert_eq!(p.timings.heartbeat_interval, Duration::from_millis(1500));
    assert_eq!(p.probe_timeout, Some(Duration::from_millis(250)));
    // In time order: the kill at 0 first.
    assert_eq!(p.steps[0].at, Duration::ZERO);
    assert!(matches!(&p.steps[0].action, Action::Kill { server } if server == "ds-2"));
    assert_eq!(p.steps[1].at, Duration::from_secs(120));
    let Action::Wait { until, timeout } = &p.steps[1].action else { panic!("a wait") };
    assert_eq!(*timeout, Duration::from_secs(20));
    assert_eq!(*until, Until::Logged { server: "ds-1".into(), ordinal: 181, count: 2 });
    assert_eq!(p.steps[1].place.to_string(), "x.toml:13:1");
    assert_eq!(plan(&format!("{BASE}[probes]\nenabled = false\n")).probe_timeout, None);
}

#[test]
fn every_action_is_typed() {
    let p = plan(&format!(
        "{BASE}[topology.proxy]\nadmin_ports = true\n\
         [[steps]]\naction = \"dns\"\nhost = \"ds-2.example.com\"\nfrom = \"ds-1\"\naddress = \"127.0.0.99\"\n\
         [[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nport = \"admin\"\nname = \"fw\"\n\
         fault = {{ type = \"reset_peer\", attributes = {{ timeout = 0 }} }}\nflap = {{ on = \"20s\", off = \"60s\", count = 4 }}\n\
         [[steps]]\nat = \"2m\"\naction = \"clear\"\nlink = \"ds-1 -> ds-2\"\nport = \"admin\"\nname = \"fw\"\n\
         [[steps]]\nat = \"3m\"\naction = \"generation\"\nserver = \"ds-2\"\ndomain = \"dc=example,dc=com\"\ngeneration_id = 5\n\
         [[steps]]\nat = \"4m\"\naction = \"wait\"\nuntil = {{ link_down = \"ds-2 <-> ds-1\" }}\n"
    ));
    let Action::Dns { host, from, entry } = &p.steps[0].action else { panic!("dns") };
    assert_eq!((host.as_str(), from.as_deref()), ("ds-2.example.com", Some("ds-1")));
    assert_eq!(*entry, HostEntry::Addresses(vec!["127.0.0.99".parse().expect("ip")]));
    let Action::Fault { links, toxic } = &p.steps[1].action else { panic!("fault") };
    let names: Vec<String> = links.iter().map(LinkRef::proxy_name).collect();
    assert_eq!(names, ["ds-1->ds-2:admin", "ds-2->ds-1:admin"]);
    assert_eq!(toxic.name, "fw");
    let flap = toxic.schedule.as_ref().and_then(|s| s.flap.as_ref()).expect("a flap");
    assert_eq!((flap.on_ms, flap.off_ms, flap.count), (200, 600, Some(4)), "virtual 20s / 60s at scale 100");
    assert!(matches!(&p.steps[2].action, Action::Clear { links, name } if links.len() == 1 && name == "fw"));
    assert!(matches!(&p.steps[3].action, Action::Generation { generation_id: 5, .. }));
    let Action::Wait { until, timeout } = &p.steps[4].action else { panic!("wait") };
    assert_eq!(*until, Until::LinkDown { a: "ds-2".into(), b: "ds-1".into() });
    assert_eq!(*timeout, steps::DEFAULT_WAIT);
    let proxied: Vec<String> = p.proxied.iter().map(LinkRef::proxy_name).collect();
    assert_eq!(proxied, ["ds-1->ds-2", "ds-1->ds-2:admin", "ds-2->ds-1", "ds-2->ds-1:admin"]);
}

#[test]
fn a_ds_link_needs_ds_links_and_replicates_through_names_a_server() {
    let (at, msg) = refusal(&step("action = \"fault\"\nlink = \"ds-1 -> ds-1\"\nfault = { type = \"reject\" }"));
    assert_eq!(at, "x.toml:11:8");
    assert!(msg.contains("a DS's own link needs ds_links = true"), "{msg}");
    let p = plan(&format!("{BASE}replicates_through = [\"ds-1\"]\n[topology.proxy]\nds_links = true\n"));
    assert!(p.proxied.contains(&LinkRef { from: "ds-2".into(), to: "ds-1".into(), port: Port::Replication }));
    assert!(p.proxied.contains(&LinkRef { from: "ds-2".into(), to: "ds-2".into(), port: Port::Replication }));
    let (at, msg) = refusal(&format!("{BASE}replicates_through = [\"ds-1\", \"ds-3\"]\n"));
    assert_eq!((at.as_str(), msg.as_str()), ("x.toml:8:31", "no server named \"ds-3\" (servers: ds-1, ds-2)"));
}

#[test]
fn refusals_name_their_place() {
    let cases: &[(String, &str, &str)] = &[
        (step("action = \"wait\"\nuntil = { logged = 181 }"), "x.toml:11:9", "until.logged needs until.server"),
        (
            step("action = \"wait\"\nuntil = { link_up = \"ds-1 <-> ds-2\", count = 2 }"),
            "x.toml:11:38",
            "until.count goes with until.logged only",
        ),
        (step("action = \"wait\"\nuntil = {}"), "x.toml:11:9", "until takes exactly one of logged, link_up, link_down"),
        (
            step("action = \"wait\"\nuntil = { link_up = \"ds-1 ds-2\" }"),
            "x.toml:11:21",
            "link \"ds-1 ds-2\" is not \"A -> B\" or \"A <-> B\"",
        ),
        (step("action = \"dns\"\nhost = \"x\""), "x.toml:8:1", "action \"dns\" takes unresolvable"),
        (
            step("action = \"dns\"\nhost = \"x\"\naddress = \"192.0.2.10\""),
            "x.toml:12:11",
            "\"192.0.2.10\" is not a loopback address",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"lag\" }"),
            "x.toml:12:18",
            "fault type \"lag\": expected one of latency,",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"latency\", stream = \"sideways\" }"),
            "x.toml:12:9",
            "fault: stream was invalid",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"drop\", target = { clinet = \"x\" } }"),
            "x.toml:12:37",
            "fault.target.clinet: unknown key",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"drop\", toxicity = 2 }"),
            "x.toml:12:37",
            "fault.toxicity: 2.0 is not between 0 and 1",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"drop\", toxicity = nan }"),
            "x.toml:12:37",
            "fault: toxicity NaN is not between 0 and 1",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"reset_peer\" }\nflap = { on = \"10ms\", off = \"1s\" }"),
            "x.toml:13:15",
            "flap.on: 10ms is under 1 ms of real time at time_scale 100",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"reset_peer\", schedule = { duration_ms = 5 } }\nflap = { on = \"10s\", off = \"1s\" }"),
            "x.toml:13:8",
            "a fault takes flap or schedule, not both",
        ),
        (
            step("action = \"fault\"\nlink = \"ds-1 <-> ds-2\"\nfault = { type = \"drop\", schedule = { duration_ms = 86400001 } }"),
            "x.toml:12:53",
            "fault.schedule.duration_ms: 86400001 is out of range",
        ),
        (format!("tags = [\"ds\", \"Fire wall\"]\n{BASE}"), "x.toml:1:15", "tag \"Fire wall\": a tag is a lowercase word"),
        (format!("time_scale = 0.5\n{BASE}"), "x.toml:1:14", "time_scale must be a number from 1 to 10000, not 0.5"),
        (format!("{BASE}version = \"seven\"\n"), "x.toml:8:11", "invalid configuration: version \"seven\""),
        (format!("{BASE}cert = \"expired\"\n"), "x.toml:8:8", "cert needs tls = true"),
        (format!("{BASE}tls = true\ncert = \"rotten\"\n"), "x.toml:9:8", "cert \"rotten\": expected none, expired"),
        (format!("{BASE}addresses = [\"10.0.0.1\"]\n"), "x.toml:8:14", "\"10.0.0.1\" is not a loopback address"),
        (format!("{BASE}\n[[topology.servers]]\nname = \"ds-1\"\n"), "x.toml:10:8", "two servers are named \"ds-1\""),
        ("name = \"x\"\n[topology]\nservers = []\n".to_owned(), "x.toml:2:1", "topology.servers is empty"),
        (format!("{BASE}[[expect]]\nid = \"ds.healthy\"\nabsent = \"ds.healthy\"\n"), "x.toml:8:1", "each [[expect]] takes exactly one"),
        (format!("{BASE}[[expect]]\nabsent = \"ds.nope\"\n"), "x.toml:9:10", "unknown verdict id \"ds.nope\""),
        (
            step("action = \"fault\"\nlink = \"ds-1 -> ds-2\"\nfault = { type = \"limit_data\", attributes = { bytes = 9223372036854775808 } }"),
            "x.toml:12:55",
            "number too large to fit in target type (integers in a scenario file are at most 9223372036854775807, i64::MAX)",
        ),
    ];
    for (text, at, msg) in cases {
        let (got_at, got) = refusal(text);
        assert_eq!(&got_at, at, "{got}\n{text}");
        assert!(got.contains(msg), "wanted {msg:?}, got {got:?}\n{text}");
    }
}

#[test]
fn the_proxys_bounds_are_inclusive() {
    let p = plan(&step(
        "action = \"fault\"\nlink = \"ds-1 -> ds-2\"\nfault = { type = \"limit_data\", attributes = { bytes = 9223372036854775807 } }",
    ));
    assert!(
        matches!(&p.steps[0].action, Action::Fault { toxic, .. } if toxic.kind == fault_proxy::Kind::LimitData { bytes: i64::MAX as u64 })
    );
    plan(&step("action = \"fault\"\nlink = \"ds-1 -> ds-2\"\nfault = { type = \"latency\", attributes = { latency = 86400000 } }"));
    plan(&format!("deadline = \"24h\"\ntime_scale = 10000\n{BASE}"));
}

/// Backward compatible: the bundled library and the documented example
/// still read, and their plans say what the files say.
#[test]
fn the_library_and_the_documented_example_still_read() {
    for (file, text) in crate::suite::LIBRARY {
        let p = load(file, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.expect.is_empty(), "{file}");
    }
    let md = include_str!("../../../docs/scenarios.md");
    let start = md.find("```toml\n").expect("example") + "```toml\n".len();
    let p = plan(&md[start..start + md[start..].find("```").expect("end")]);
    assert_eq!((p.seed, p.steps.len(), p.tags.len()), (Some(42), 6, 3));
}
