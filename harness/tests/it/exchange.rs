//! The Exchange 5.5 family on real loopback sockets: the seed's flow per
//! activation, paging at 512, counting a day, the capacity model's backlog,
//! a dropped link, a restart, junk on the listener, the case folder.

use std::sync::Arc;
use std::time::Duration;

use harness::exchange::day::{self, DaySpec};
use harness::exchange::events::{self, EventDef};
use harness::exchange::{Bridgehead, Capacity, DetailView, OrgSpec, Organization, Schedule};
use harness::logbook::LogRecord;
use tokio::io::AsyncWriteExt as _;

use crate::relay::Relay;
use crate::support::{bounded, WAIT};

const PARIS_SITE: &str = "/o=Contoso/ou=PARIS";
const PARIS_CONFIG: &str = "/o=Contoso/ou=PARIS/cn=Configuration";

/// `n` sites, every site inbound to every other, at `scale`.
fn spec(n: usize, scale: f64) -> OrgSpec {
    let mut s = OrgSpec::full(n, &Schedule::default());
    s.time_scale = scale;
    s
}

fn ids(recs: &[LogRecord]) -> Vec<u32> {
    recs.iter().map(|r| r.ordinal).collect()
}

fn keyed(b: &Bridgehead, defs: &[EventDef]) -> Vec<LogRecord> {
    b.log().records().into_iter().filter(|r| defs.iter().any(|d| d.key == r.key)).collect()
}

/// Waits until `b` logged `def` with these leading arguments `n` times.
async fn logged(b: &Bridgehead, def: EventDef, args: &[&str], n: usize) -> bool {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let ok = b
        .log()
        .wait_for(WAIT, move |rs| {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            rs.iter().filter(|r| r.is(&def, &a)).count() >= n
        })
        .await;
    if !ok {
        eprintln!("--- {}:\n{}", b.name(), b.log().text());
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_activation_writes_the_seeds_flow_on_both_bridgeheads() {
    bounded(async {
        // The default schedule fires at the start (00:00), next at 03:00: 3 real minutes away.
        let org = Organization::start(spec(2, 60.0)).await.expect("up");
        let (london, paris) = (org.of_site("LONDON").expect("L").clone(), org.of_site("PARIS").expect("P").clone());
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 2).await);
        assert!(logged(&paris, events::REPLY_RECEIVED, &["BH-LONDON"], 2).await);

        // Requester, per context: 1068, 1100, 1058; configuration first, then site.
        let asked = keyed(&london, &[events::ASK, events::SUBMITTED, events::COMPLETED]);
        assert_eq!(ids(&asked), [1068, 1100, 1058, 1068, 1100, 1058]);
        assert_eq!(asked[0].args, [PARIS_CONFIG, "BH-PARIS"]);
        assert_eq!(asked[3].args, [PARIS_SITE, "BH-PARIS"]);
        // Responder, per request: 1099, 1070, 1071, 1101, from the requester's last USN.
        let answered = keyed(&paris, &[events::REQUEST_RECEIVED, events::CONTEXT, events::RETRIEVED, events::ANSWERED]);
        assert_eq!(ids(&answered), [1099, 1070, 1071, 1101, 1099, 1070, 1071, 1101]);
        assert_eq!(answered[1].args, [PARIS_CONFIG, "120"]);
        assert!(answered[2].line.ends_with("Retrieved 0 objects, entries up to USN 120."), "{}", answered[2].line);
        assert_eq!(answered[5].args, [PARIS_SITE, "400"]);
        // Requester: 1099 for every reply, after its request's 1058.
        let back = keyed(&london, &[events::REPLY_RECEIVED]);
        assert_eq!(back.len(), 2);
        assert!(back.iter().all(|r| r.at >= asked[5].at));

        org.wait_quiet(WAIT).await.expect("every request answered");
        let t = org.total();
        assert_eq!((t.requests_received, t.replies_received, t.discarded), (4, 4, 0));
        assert_eq!(t.sent(), t.received(), "every message written was read");
        org.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_pages_at_512_and_the_requester_asks_for_the_rest_when_ready() {
    bounded(async {
        let mut s = spec(2, 60.0);
        s.sites[1].site_context.objects = 1300;
        let org = Organization::start(s).await.expect("up");
        let (london, paris) = (org.of_site("LONDON").expect("L").clone(), org.of_site("PARIS").expect("P").clone());
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 2).await, "the first activation");
        london.request_now("PARIS", true).await.expect("refresh");
        // 1 page of configuration, 3 of site.
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 2 + 4).await);
        org.wait_quiet(WAIT).await.expect("quiet");
        let retrieved: Vec<String> = keyed(&paris, &[events::RETRIEVED])
            .iter()
            .map(|r| r.line.rsplit('\t').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            &retrieved[2..],
            [
                "Retrieved 120 objects, entries up to USN 120.",
                "Retrieved 512 objects, entries up to USN 512. More objects remain.",
                "Retrieved 512 objects, entries up to USN 1024. More objects remain.",
                "Retrieved 276 objects, entries up to USN 1300.",
            ]
        );
        let from: Vec<String> = keyed(&paris, &[events::CONTEXT])
            .iter()
            .filter(|r| r.args[0] == PARIS_SITE)
            .map(|r| r.args[1].clone())
            .collect();
        assert_eq!(from, ["1300", "0", "512", "1024"], "each follow-up asks from the last page's USN");
        let replica = london.replica(PARIS_SITE).expect("replica");
        assert_eq!((replica.usn, replica.applied), (1300, 1300));
        org.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_ten_sites_counts_the_seeds_2880_messages() {
    bounded(async {
        let (report, org) = day::run(&DaySpec::new(10, Schedule::default())).await.expect("day");
        org.shutdown().await;
        assert_eq!(report.activations_per_day, 8);
        assert_eq!(report.messages_formula, 2880);
        assert_eq!(report.messages_counted, 2880, "{report:#?}");
        assert_eq!((report.requests, report.replies, report.backlog), (1440, 1440, 0));
        for (name, b) in &report.per_bridgehead {
            assert_eq!((b.sent, b.received), (288, 288), "{name}: 9 sites × 2 contexts × 8 × 2");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_an_hour_counts_twelve_times_the_default_and_the_site_range_is_enforced() {
    bounded(async {
        let (default, org) = day::run(&DaySpec::new(3, Schedule::default())).await.expect("day");
        org.shutdown().await;
        let quarter = Schedule::parse_spec("4-per-hour", DetailView::FifteenMinutes).expect("spec");
        let (busy, org) = day::run(&DaySpec::new(3, quarter)).await.expect("day");
        org.shutdown().await;
        assert_eq!((default.messages_counted, busy.messages_counted), (192, 2304));
        assert_eq!(busy.messages_counted, 12 * default.messages_counted);
        // The 1-hour view's trap: every hour block selected is 4 an hour too.
        let hourly = Schedule::parse_spec("hourly", DetailView::OneHour).expect("spec");
        assert_eq!(hourly.on(time::Weekday::Monday), 96);
        for n in [1, 51] {
            let err = day::run(&DaySpec::new(n, Schedule::default())).await.expect_err("out of range").to_string();
            assert!(err.contains("2 to 50"), "{err}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_too_demanding_for_the_capacity_builds_a_backlog_that_grows() {
    bounded(async {
        // 3 sites at 4 an hour: each inbox takes 8 messages every 15 minutes
        // (32 an hour) and handles 16 an hour.
        let mut s = OrgSpec::full(3, &Schedule::parse_spec("4-per-hour", DetailView::FifteenMinutes).expect("s"));
        s.time_scale = 3600.0;
        for site in &mut s.sites {
            site.capacity = Capacity::MessagesPerHour(16);
        }
        let org = Organization::start(s).await.expect("up");
        let mut unanswered = Vec::new();
        for minutes in [20, 50, 80] {
            tokio::time::sleep_until(org.clock().instant_at(Duration::from_secs(minutes * 60)).into()).await;
            let t = org.total();
            unanswered.push(t.requests_submitted - t.replies_received);
        }
        org.shutdown().await;
        assert!(unanswered[0] < unanswered[1] && unanswered[1] < unanswered[2], "{unanswered:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_link_gets_no_reply_while_the_others_go_on() {
    bounded(async {
        let org = Organization::bind(spec(3, 60.0)).await.expect("bound");
        let paris = org.of_site("PARIS").expect("P").clone();
        let relay = Relay::start(paris.listen_addr()).await;
        relay.drop_all();
        let host = paris.config().host;
        org.hosts().route("BH-LONDON", &host, paris.listen_addr().port(), relay.addr);
        org.start_all().await.expect("up");
        let london = org.of_site("LONDON").expect("L").clone();
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-NEWYORK"], 2).await);
        assert!(logged(&paris, events::REPLY_RECEIVED, &["BH-NEWYORK"], 2).await);
        // PARIS's requests reach LONDON (PARIS -> LONDON is not cut) and are
        // answered, but the answers take the cut direction.
        assert!(logged(&london, events::ANSWERED, &["BH-PARIS"], 2).await);
        let count = |b: &Bridgehead, def: EventDef, who: &str| b.log().count(|r| r.is(&def, &[who]));
        assert_eq!(count(&london, events::SUBMITTED, "BH-PARIS"), 2, "LONDON asked PARIS");
        assert_eq!(count(&paris, events::REQUEST_RECEIVED, "BH-LONDON"), 0, "and it never arrived");
        assert_eq!(count(&london, events::REPLY_RECEIVED, "BH-PARIS"), 0);
        assert_eq!(count(&paris, events::REPLY_RECEIVED, "BH-LONDON"), 0, "LONDON's answers never arrived");
        org.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bridgehead_takes_its_links_down_and_a_restart_brings_them_back() {
    bounded(async {
        let org = Organization::start(spec(2, 60.0)).await.expect("up");
        org.wait_links_up(WAIT).await.expect("links up");
        let (london, paris) = (org.of_site("LONDON").expect("L").clone(), org.of_site("PARIS").expect("P").clone());
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 2).await, "the first activation");
        let port = paris.listen_addr().port();
        paris.stop().await;
        let down = org
            .env()
            .changes
            .wait_until(WAIT, || async {
                if london.links().iter().all(|l| !l.up) {
                    Ok(())
                } else {
                    Err(())
                }
            })
            .await;
        assert!(down.is_ok(), "LONDON saw PARIS close: {:?}", london.links());
        paris.start().await.expect("restart");
        assert_eq!(paris.listen_addr().port(), port, "same port");
        org.wait_links_up(WAIT).await.expect("links up again");
        london.request_now("PARIS", false).await.expect("request now");
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 4).await);
        org.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_on_the_listener_closes_that_connection_only() {
    bounded(async {
        let org = Organization::start(spec(2, 60.0)).await.expect("up");
        let (london, paris) = (org.of_site("LONDON").expect("L").clone(), org.of_site("PARIS").expect("P").clone());
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 2).await);
        for junk in [&[0xffu8, 0xff, 0xff, 0xff, 1][..], &[0, 0, 0, 3, 7, 0, 0], &[0, 0, 0, 1, 1]] {
            let mut s = tokio::net::TcpStream::connect(paris.listen_addr()).await.expect("connect");
            s.write_all(junk).await.expect("write");
            let mut buf = [0u8; 1];
            let read = tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read(&mut s, &mut buf)).await;
            assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "closed after {junk:?}: {read:?}");
        }
        london.request_now("PARIS", false).await.expect("request now");
        assert!(logged(&london, events::REPLY_RECEIVED, &["BH-PARIS"], 4).await, "still serving");
        org.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_folder_has_the_connectors_and_the_event_logs() {
    bounded(async {
        let mut s = spec(2, 60.0);
        s.sites[0].schedule = Schedule::grid(&["Mon-Fri 09:00-17:00".into()], DetailView::OneHour).expect("grid");
        let org = Arc::new(Organization::start(s).await.expect("up"));
        let paris = org.of_site("PARIS").expect("P").clone();
        assert!(logged(&paris, events::REPLY_RECEIVED, &["BH-LONDON"], 2).await);
        let dir = tempfile::tempdir().expect("dir");
        harness::casefile::write_case(&*org, dir.path()).expect("written");
        org.shutdown().await;
        let topo: toml::Table = std::fs::read_to_string(dir.path().join("topology.toml")).expect("t").parse().expect("toml");
        let servers = topo["servers"].as_array().expect("servers");
        assert_eq!(servers[0]["flavor"].as_str(), Some("exchange"));
        assert_eq!(servers[0]["site"].as_str(), Some("LONDON"));
        assert!(servers[0].get("ports").is_none());
        let c = topo["connectors"].as_array().expect("connectors");
        assert_eq!(c[0]["bridgehead"].as_str(), Some("BH-LONDON"));
        assert_eq!(c[0]["schedule"][0].as_str(), Some("Mon-Fri 09:00-17:00"));
        assert_eq!(c[0]["detail_view"].as_str(), Some("1h"));
        assert_eq!(c[1]["schedule"].as_integer(), Some(8));
        assert_eq!(c[1]["inbound_sites"][0].as_str(), Some("LONDON"));
        let log = std::fs::read_to_string(dir.path().join("servers/BH-PARIS/events.log")).expect("events");
        assert!(log.lines().all(|l| l.split('\t').count() == 9), "{log}");
        assert!(log.lines().any(|l| l.contains("\t1068\tN/A\tBH-PARIS\tAsk for updates for naming context /o=Contoso/ou=LONDON/cn=Configuration from BH-LONDON")));
        // LONDON's grid starts Monday 09:00: it has asked nothing at 00:00.
        let london = std::fs::read_to_string(dir.path().join("servers/BH-LONDON/events.log")).expect("events");
        assert!(!london.contains("\t1068\t"), "{london}");
    })
    .await;
}
