//! Exchange 5.5, producer and reader together:
//! - every event of the harness's exchange catalog, written by its own event
//!   log (the line a bridgehead writes), is read by the diagnosis as the
//!   event it is, with the partner, context and numbers intact;
//! - a case folder written by a real organization (an activation, a refresh
//!   that pages at 512, the follow-ups) has no unknown line, every line is
//!   recognised, and it is diagnosed healthy.

use std::time::Duration;

use diagnosis::exchange::events::{classify, Ev};
use harness::exchange::events::{self, EventDef, EventLog, CATALOG};
use harness::exchange::{OrgSpec, Organization, Schedule};
use harness::VirtualClock;

const NC: &str = "/o=Contoso/ou=PARIS/cn=Configuration";
const WAIT: Duration = Duration::from_secs(20);

fn s(x: &str) -> String {
    x.to_owned()
}

/// What the diagnosis must read from the line the harness writes for `def`
/// (written through the same calls a bridgehead makes).
fn written_and_expected(def: &EventDef) -> Vec<(String, Ev)> {
    let log = EventLog::utc("BH-LONDON", VirtualClock::starting_now(1.0));
    let expected = match def.key {
        "ASK_FOR_UPDATES" => {
            log.asking(NC, "BH-PARIS");
            vec![Ev::Ask { nc: s(NC), partner: s("BH-PARIS") }]
        }
        "REQUEST_SUBMITTED" | "COMPLETED" => {
            log.submitted("BH-PARIS", NC);
            vec![
                Ev::Submitted { partner: s("BH-PARIS"), nc: s(NC) },
                Ev::Completed { nc: s(NC), partner: s("BH-PARIS") },
            ]
        }
        "REQUEST_RECEIVED" | "CONTEXT_TO_GET" => {
            log.request_received("BH-PARIS", NC, 4711);
            vec![Ev::Request { requester: s("BH-PARIS"), nc: s(NC) }, Ev::Context { nc: s(NC), usn: s("4711") }]
        }
        "OBJECTS_RETRIEVED" | "REPLY_SUBMITTED" => {
            log.reply_sent("BH-PARIS", 512, 5223, true);
            log.reply_sent("BH-PARIS", 12, 5235, false);
            vec![
                Ev::Retrieved { objects: 512, usn: s("5223"), more: true },
                Ev::Answered { requester: s("BH-PARIS") },
                Ev::Retrieved { objects: 12, usn: s("5235"), more: false },
                Ev::Answered { requester: s("BH-PARIS") },
            ]
        }
        "REPLY_RECEIVED" => {
            log.reply_received("BH-PARIS", NC);
            vec![Ev::ReplyBack { partner: s("BH-PARIS"), nc: s(NC) }]
        }
        other => panic!("{other}: a new event in the harness's catalog needs its expected reading here"),
    };
    let lines: Vec<String> = log.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), expected.len(), "{}: {lines:#?}", def.key);
    lines.into_iter().zip(expected).collect()
}

#[test]
fn every_event_the_harness_writes_is_read_as_what_it_says() {
    for def in CATALOG {
        for (line, want) in written_and_expected(def) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            assert_eq!(
                (f[2], f[3], f[4], f[6], f[7]),
                ("MSExchangeDS", "Information", "Replication", "N/A", "BH-LONDON")
            );
            assert_eq!(classify(f[5], f[8]), Some(want), "{line}");
        }
    }
    // Each id once at least, both 1099s told apart.
    let ids: std::collections::BTreeSet<u32> = CATALOG.iter().map(|d| d.id).collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), [1058, 1068, 1070, 1071, 1099, 1100, 1101]);
    assert_eq!(CATALOG.iter().filter(|d| d.id == 1099).count(), 2);
    assert_eq!(events::REPLY_RECEIVED.id, events::REQUEST_RECEIVED.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_from_a_running_organization_is_read_whole_and_healthy() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut spec = OrgSpec::full(3, &Schedule::default());
        spec.time_scale = 60.0;
        spec.sites[1].site_context.objects = 1100;
        let org = Organization::start(spec).await.expect("up");
        let london = org.of_site("LONDON").expect("L").clone();
        let back = |n: usize| {
            let l = london.clone();
            async move {
                l.log()
                    .wait_for(WAIT, |rs| rs.iter().filter(|r| r.is(&events::REPLY_RECEIVED, &["*"])).count() >= n)
                    .await
            }
        };
        assert!(back(4).await, "the first activation");
        // The first activation's follow-ups done (a refresh asked in the
        // middle of them would race their replies), then the refresh.
        org.wait_quiet(WAIT).await.expect("quiet before the refresh");
        let before = london.log().count(|r| r.is(&events::REPLY_RECEIVED, &["*"]));
        london.request_now("PARIS", true).await.expect("refresh");
        // 1 page of configuration, 3 of site (512, 512, 76).
        assert!(back(before + 4).await, "the refresh and its follow-ups");
        org.wait_quiet(WAIT).await.expect("quiet");
        let dir = tempfile::tempdir().expect("dir");
        harness::casefile::write_case(&org, dir.path()).expect("case");
        org.shutdown().await;

        let r = diagnosis::diagnose(dir.path(), &diagnosis::Options::default()).expect("diagnosed");
        assert!(r.input.is_clean(), "{:?}", r.input);
        for name in ["BH-LONDON", "BH-PARIS", "BH-NEWYORK"] {
            let file = format!("servers/{name}/events.log");
            let text = std::fs::read_to_string(dir.path().join(&file)).expect("events.log");
            let read = r.input.read.get(&file).copied().unwrap_or_default();
            assert!(read.lines > 0 && read.recognised == read.lines, "{file}: {read:?}");
            assert_eq!(read.lines as usize, text.lines().count());
        }
        let more = std::fs::read_to_string(dir.path().join("servers/BH-PARIS/events.log")).expect("paris");
        assert_eq!(more.matches("More objects remain.").count(), 2, "two full pages announced more");
        let ids: Vec<&str> = r.verdicts.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["exchange.healthy"], "{}", diagnosis::report::human(&r));
    })
    .await
    .expect("bounded");
}
