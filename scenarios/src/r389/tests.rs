//! The 389 flavor's scenario plumbing: what its files mean, every refusal
//! with its place, the bundled library against the verdict catalog, and the
//! complete example of docs/389.md run as written.

use std::time::Duration;

use harness::ds389::{Answer, Role};

use crate::plan::{load, Action, Action389, Plan, Until, Until389};

const BASE: &str = "name = \"x\"\n[topology]\nflavor = \"389\"\n\
    [[topology.servers]]\nname = \"slapd-a\"\nreplica = { role = \"supplier\" }\n\
    [[topology.servers]]\nname = \"slapd-b\"\nreplica = { role = \"consumer\" }\n\
    [[topology.agreements]]\nfrom = \"slapd-a\"\nto = \"slapd-b\"\n";

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

#[test]
fn a_389_topology_is_typed() {
    let p = plan(&format!(
        "{BASE}[[topology.servers]]\nname = \"slapd-c\"\nversion = \"1.3.5.10\"\n\
         replica = {{ role = \"supplier\", id = 7, backoff_min = \"1s\", backoff_max = \"10s\", answer = \"busy\", clock_offset = \"-2h\", release_timeout = \"5s\" }}\n\
         [[topology.agreements]]\nfrom = \"slapd-c\"\nto = \"slapd-b\"\nname = \"c-b\"\ntimeout = \"10s\"\ncredentials = \"other\"\n"
    ));
    let r = p.r389.as_ref().expect("a 389 plan");
    assert_eq!(r.servers.len(), 3);
    let a = &r.servers[0];
    assert_eq!(a.version.to_string(), "2.3.1", "the default");
    assert_eq!(a.replica.as_ref().map(|r| r.role), Some(Role::Supplier { rid: 1 }));
    assert_eq!(a.agreements[0].name, "a-to-b");
    assert_eq!(r.servers[1].replica.as_ref().map(|r| r.role), Some(Role::Consumer));
    let c = &r.servers[2];
    let cr = c.replica.as_ref().expect("a replica");
    assert_eq!(cr.role, Role::Supplier { rid: 7 });
    assert_eq!((cr.backoff_min, cr.backoff_max), (Duration::from_secs(1), Duration::from_secs(10)));
    assert_eq!(c.knobs.answer, Some(Answer::Busy));
    assert_eq!(c.clock_offset, -time::Duration::hours(2));
    assert_eq!(c.agreements[0].timeout, Duration::from_secs(10));
    assert_eq!(r.release_timeouts, [("slapd-c".to_owned(), Duration::from_secs(5))]);
    assert_eq!(r.links.len(), 2);
    assert!(!r.expect_in_sync, "a knob and other credentials start it broken");
    assert!(plan(BASE).r389.as_ref().is_some_and(|r| r.expect_in_sync));
}

#[test]
fn the_389_steps_and_waits_are_typed() {
    let p = plan(&format!(
        "{BASE}[[steps]]\nat = \"1m\"\naction = \"write\"\nserver = \"slapd-a\"\ncount = 5\n\
         [[steps]]\nat = \"1m\"\naction = \"agreement\"\nagreement = \"a-to-b\"\nenabled = false\n\
         [[steps]]\nat = \"2m\"\naction = \"replica\"\nserver = \"slapd-b\"\nanswer = \"none\"\nimport = true\nreplay_error = 0\n\
         [[steps]]\nat = \"2m\"\naction = \"init\"\nagreement = \"a-to-b\"\n\
         [[steps]]\nat = \"3m\"\naction = \"wait\"\nuntil = {{ status = \"succeeded\", agreement = \"a-to-b\" }}\n\
         [[steps]]\nat = \"3m\"\naction = \"wait\"\nuntil = {{ line = \"auth resumed\", server = \"slapd-a\", count = 2 }}\n\
         [[steps]]\nat = \"3m\"\naction = \"wait\"\nuntil = {{ in_sync = true }}\n\
         [[steps]]\nat = \"4m\"\naction = \"fault\"\nlink = \"slapd-a -> slapd-b\"\nfault = {{ type = \"reject\" }}\n"
    ));
    let a: Vec<&Action> = p.steps.iter().map(|s| &s.action).collect();
    assert!(matches!(a[0], Action::R389(Action389::Write { server, count: 5 }) if server == "slapd-a"));
    let Action::R389(Action389::Agreement { supplier, change, .. }) = a[1] else { panic!("{:?}", a[1]) };
    assert_eq!((supplier.as_str(), change.enabled), ("slapd-a", Some(false)));
    let Action::R389(Action389::Replica { change, .. }) = a[2] else { panic!("{:?}", a[2]) };
    assert_eq!((change.answer, change.import, change.replay_error), (Some(None), true, Some(None)));
    assert!(matches!(a[3], Action::R389(Action389::Init { supplier, .. }) if supplier == "slapd-a"));
    let waits: Vec<&Until389> = a
        .iter()
        .filter_map(|x| match x {
            Action::Wait { until: Until::R389(u), .. } => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        [
            &Until389::Status { agreement: Some("a-to-b".into()), text: "succeeded".into() },
            &Until389::Line { server: "slapd-a".into(), text: "auth resumed".into(), count: 2 },
            &Until389::InSync,
        ]
    );
    assert!(matches!(a[7], Action::Fault { links, .. } if links.len() == 1 && links[0].to == "slapd-b"));
}

#[test]
fn refusals_name_their_place() {
    let cases: &[(String, &str, &str)] = &[
        (
            BASE.replace("name = \"slapd-b\"\n", "name = \"slapd-b\"\nserver_id = \"2\"\n"),
            "x.toml:9:1",
            "server_id is a key of DS servers",
        ),
        (
            BASE.replace("role = \"consumer\"", "role = \"hub\""),
            "x.toml:9:",
            "role \"hub\" is not supplier or consumer",
        ),
        (
            BASE.replace("role = \"consumer\"", "role = \"consumer\", id = 3"),
            "x.toml:9:",
            "a consumer's replica id is 65535",
        ),
        (
            BASE.replace("role = \"consumer\"", "role = \"consumer\", answer = \"maybe\""),
            "x.toml:9:",
            "answer \"maybe\" is not one of busy, backoff",
        ),
        (
            BASE.replace("role = \"supplier\"", "role = \"supplier\", fault = \"gremlins\""),
            "x.toml:6:",
            "fault \"gremlins\" is not one of no-current-csn",
        ),
        (
            BASE.replace("role = \"supplier\"", "role = \"supplier\", clock_offset = \"+11000d\""),
            "x.toml:6:",
            "at most ten years",
        ),
        (
            BASE.replace("from = \"slapd-a\"\nto", "from = \"slapd-b\"\nto")
                .replace("to = \"slapd-b\"", "to = \"slapd-a\""),
            "x.toml:11:",
            "slapd-b is no supplier",
        ),
        (format!("{BASE}transport = \"IPX\"\n"), "x.toml:13:", "transport \"IPX\" is not LDAP, SSL or TLS"),
        (format!("{BASE}timeout = \"0s\"\n"), "x.toml:13:", "timeout must be positive"),
        (
            format!("{BASE}[[topology.agreements]]\nfrom = \"slapd-a\"\nto = \"slapd-b\"\n"),
            "x.toml:13:",
            "two agreements are named \"a-to-b\"",
        ),
        (
            step("action = \"generation\"\nserver = \"slapd-b\"\ndomain = \"dc=example,dc=com\"\ngeneration_id = 1"),
            "x.toml:15:",
            "import = true",
        ),
        (
            step("action = \"init\"\nagreement = \"b-to-a\""),
            "x.toml:16:13",
            "no agreement named \"b-to-a\" (the topology has: a-to-b)",
        ),
        (
            step("action = \"agreement\"\nagreement = \"a-to-b\""),
            "x.toml:13:",
            "changes credentials, enabled, timeout or transport",
        ),
        (
            step("action = \"write\"\nserver = \"slapd-a\"\ncount = 0"),
            "x.toml:17:9",
            "count 0 is not between 1 and 1000000",
        ),
        (
            step("action = \"wait\"\nuntil = { logged = 181, server = \"slapd-a\" }"),
            "x.toml:16:9",
            "waits of DS topologies",
        ),
        (step("action = \"wait\"\nuntil = { line = \"x\" }"), "x.toml:16:9", "until.line needs until.server"),
    ];
    let mut wrong = Vec::new();
    for (text, place, words) in cases {
        let (p, m) = refusal(text);
        if !p.starts_with(place) || !m.contains(words) {
            wrong.push(format!("want {place} {words:?}, got {p} {m:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The 389 steps and waits on a DS topology.
    let ds = "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n[[topology.servers]]\nname = \"ds-2\"\n";
    let (p, m) = refusal(&format!("{ds}[[steps]]\naction = \"write\"\nserver = \"ds-1\"\n"));
    assert!(p.starts_with("x.toml:8:") && m.contains("takes a 389 topology"), "{p}: {m}");
    let (p, m) = refusal(&format!("{ds}[[steps]]\naction = \"wait\"\nuntil = {{ in_sync = true }}\n"));
    assert!(p.starts_with("x.toml:9:") && m.contains("waits of 389 topologies"), "{p}: {m}");
    let (p, m) = refusal(&format!("{ds}[[topology.servers]]\nname = \"ds-3\"\nreplica = {{ role = \"supplier\" }}\n"));
    assert!(p.starts_with("x.toml:9:1") && m.contains("replica takes a 389 topology"), "{p}: {m}");
    let (p, m) = refusal(&format!("{ds}[[topology.agreements]]\nfrom = \"ds-1\"\nto = \"ds-2\"\n"));
    assert!(p.starts_with("x.toml:7:") && m.contains("an agreement takes a 389 topology"), "{p}: {m}");
}

/// Every 389 verdict of the catalog has a bundled scenario that expects it,
/// tagged 389 (and no 389 scenario expects another family's).
#[test]
fn every_389_verdict_has_a_bundled_scenario() {
    let plans: Vec<Plan> = crate::suite::load(&[]).expect("the library");
    let r389: Vec<&Plan> = plans.iter().filter(|p| p.r389.is_some()).collect();
    assert!(r389.len() >= 40, "{} 389 scenarios", r389.len());
    for p in &r389 {
        assert!(p.tags.iter().any(|t| t == "389"), "{}: tagged 389", p.file);
        for e in &p.expect {
            let id = match e {
                crate::plan::Expectation::Present { id, .. } | crate::plan::Expectation::Absent(id) => id,
            };
            assert!(id.starts_with("389."), "{}: expects {id}", p.file);
        }
    }
    for def in diagnosis::catalog::CATALOG.iter().filter(|d| d.family == "389") {
        let shown = r389.iter().any(|p| {
            p.expect.iter().any(|e| matches!(e, crate::plan::Expectation::Present { id, .. } if id == def.id))
        });
        assert!(shown, "{}: no bundled scenario expects it", def.id);
    }
}

/// Guidance names the agreement's own objects.
#[test]
fn reinit_guidance_names_the_agreement() {
    let plans: Vec<Plan> = crate::suite::load(&[]).expect("the library");
    let p = plans.iter().find(|p| p.file.ends_with("389-generation-id-mismatch.toml")).expect("bundled");
    let guided = p.expect.iter().any(|e| {
        matches!(e, crate::plan::Expectation::Present { guidance, .. }
            if guidance.iter().any(|g| g.contains("dsconf slapd-a repl-agmt init --suffix dc=example,dc=com a-to-b")))
    });
    assert!(guided, "the mismatch scenario checks the dsconf command");
}

/// The example of docs/389.md, "A complete scenario", as written.
fn docs_example() -> &'static str {
    const MD: &str = include_str!("../../../docs/389.md");
    let section = &MD[MD.find("## A complete scenario").expect("the section")..];
    let start = section.find("```toml\n").expect("its file") + "```toml\n".len();
    let len = section[start..].find("```").expect("its end");
    &section[start..start + len]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_example_runs() {
    let p = load("docs/389.md", docs_example()).unwrap_or_else(|e| panic!("docs/389.md's example: {e}"));
    let out = crate::runner::run(&p, &crate::runner::RunOptions::new(389)).await;
    assert!(out.passed, "docs/389.md's example: {:#?}", out.failures);
    assert!(out.verdicts.iter().all(|v| v.id.starts_with("389.")), "{:?}", out.verdicts);
}
