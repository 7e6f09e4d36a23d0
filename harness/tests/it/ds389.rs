//! The 389 flavor on real loopback sockets: a supplier and a consumer
//! replicate, and each fault on the agreement's path gives the status and
//! the errors-log lines the real server gives.

use std::time::Duration;

use harness::ds389::{Lab389, Lab389Spec};

use crate::support::bounded;

const SUFFIX: &str = "dc=example,dc=com";
const WAIT: Duration = Duration::from_secs(15);

fn spec() -> Lab389Spec {
    spec_of(1, 1)
}

/// `suppliers` suppliers in a mesh, each also sending to `consumers` consumers.
fn spec_of(suppliers: usize, consumers: usize) -> Lab389Spec {
    let mut s = Lab389Spec::new(suppliers, consumers, SUFFIX);
    s.time_scale = 100.0;
    for c in &mut s.servers {
        if let Some(r) = c.replica.as_mut() {
            r.backoff_min = Duration::from_secs(1);
            r.backoff_max = Duration::from_secs(4);
        }
        for a in &mut c.agreements {
            a.timeout = Duration::from_secs(10);
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_and_a_consumer_replicate_and_write_the_real_files() {
    bounded(async {
        let lab = Lab389::start(spec()).await.expect("lab");
        lab.wait_in_sync(WAIT).await.expect("first session (the keep-alive entry) reaches the consumer");
        let s = lab.server("slapd-s1").expect("supplier");
        let c = lab.server("slapd-c1").expect("consumer");
        let csns = s.write(5).await.expect("writes");
        lab.wait_in_sync(WAIT).await.expect("the writes reach the consumer");
        assert!(c.ruv_max(1) >= csns.last().copied());
        let rows = lab.agreements();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, "Error (0) Replica acquired successfully: Incremental update succeeded");
        let case = harness::casefile::CaseSource::case(&lab);
        let sup = case.servers.iter().find(|x| x.entry.name == "slapd-s1").expect("supplier files");
        let text = |f: &str| {
            String::from_utf8(sup.files.iter().find(|x| x.path.to_str() == Some(f)).expect(f).contents.clone()).expect("utf8")
        };
        let agmts = text("agreements.ldif");
        let unfolded = agmts.replace("\n ", "");
        assert!(unfolded.starts_with("dn: cn=s1-to-c1,cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config\n"), "{agmts}");
        assert!(agmts.contains("nsds5replicaLastUpdateStatus: Error (0) Replica acquired successfully: Increme\n ntal update succeeded\n"), "{agmts}");
        assert!(agmts.lines().all(|l| l.len() <= 78));
        let errors = text("errors");
        assert!(errors.starts_with("\t389-Directory/2.3.1 B2025.016.1616\n"), "{errors}");
        assert!(errors.contains(" - NOTICE - NSMMReplicationPlugin - replica_subentry_check - Need to create replication keep alive entry <cn=repl keep alive 1,dc=example,dc=com>\n"), "{errors}");
        let replica = text("replica.ldif");
        assert!(replica.contains("nsds5AgmtMaxCSN: dc=example,dc=com;s1-to-c1;c1.example.com;"), "{replica}");
        eprintln!("{agmts}\n{replica}\n{errors}");
        lab.shutdown().await;
    })
    .await;
}

/// The supplier's lines with this key, in order.
fn lines(lab: &Lab389, server: &str, key: &str) -> Vec<String> {
    lab.server(server).expect("server").log().records().into_iter().filter(|r| r.key == key).map(|r| r.line).collect()
}

async fn status_is(lab: &Lab389, wanted: &str) {
    let w = wanted.to_owned();
    lab.wait_agreements(WAIT, |rows| rows.iter().any(|a| a.status == w))
        .await
        .unwrap_or_else(|rows| panic!("never {wanted:?}; agreements: {rows:#?}"));
}

async fn healthy_lab() -> Lab389 {
    let lab = Lab389::start(spec()).await.expect("lab");
    lab.wait_in_sync(WAIT).await.expect("in sync");
    lab
}

const SUCCEEDED: &str = "Error (0) Replica acquired successfully: Incremental update succeeded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_consumer_fails_on_the_cached_connection_then_on_connect_and_recovers() {
    bounded(async {
        // A slower clock: the connection lingers 60 s (6 s real) after the last session.
        let mut sp = spec();
        sp.time_scale = 10.0;
        let lab = Lab389::start(sp).await.expect("lab");
        lab.wait_in_sync(WAIT).await.expect("in sync");
        let (s, c) = (lab.server("slapd-s1").expect("s"), lab.server("slapd-c1").expect("c"));
        c.stop().await;
        // Nothing to send: the status does not move, even with the consumer down.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(lab.agreements()[0].status, SUCCEEDED);
        s.write(1).await.expect("write");
        status_is(&lab, "Error (-1) Problem connecting to replica - LDAP error: Can't contact LDAP server (connection error)").await;
        let unable = lines(&lab, "slapd-s1", "ACQ_NO_RESPONSE");
        assert_eq!(unable.len(), 1, "the cached connection fails once: {}", s.log().text("errors"));
        assert!(unable[0].ends_with("): Unable to receive the response for a startReplication extended operation to consumer (Can't contact LDAP server). Will retry later."));
        let binds = lines(&lab, "slapd-s1", "LDAP_BIND_SEND_FAILED");
        assert!(binds[0].contains("network error 107 (Transport endpoint is not connected, host \"c1.example.com:"), "{binds:#?}");
        assert!(lines(&lab, "slapd-s1", "BIND_FAILED").is_empty(), "-1 after -1: no bind_and_check_pwp line");
        c.start().await.expect("restart");
        lab.wait_in_sync(WAIT).await.expect("recovered");
        let resumed = lines(&lab, "slapd-s1", "BIND_RESUMED");
        assert_eq!(resumed.len(), 1, "{resumed:#?}");
        assert!(resumed[0].contains(" - INFO - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=s1-to-c1\" (c1:"));
        assert!(lines(&lab, "slapd-c1", "SLAPD_STOPPED").len() == 1, "a clean stop writes its lines");
        lab.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_back_off_exponentially_on_the_virtual_clock() {
    bounded(async {
        let lab = healthy_lab().await;
        let (s, c) = (lab.server("slapd-s1").expect("s"), lab.server("slapd-c1").expect("c"));
        c.kill().await;
        s.write(1).await.expect("write");
        let log = s.log().clone();
        let got = log.wait_for(WAIT, |rs| rs.iter().filter(|r| r.key == "LDAP_BIND_SEND_FAILED").count() >= 5).await;
        assert!(got, "five retries");
        // Every failed attempt: the first may be on the cached connection.
        let at: Vec<time::OffsetDateTime> = log
            .records()
            .into_iter()
            .filter(|r| r.key == "LDAP_BIND_SEND_FAILED" || r.key == "ACQ_NO_RESPONSE")
            .map(|r| r.at)
            .collect();
        // Backoff min 1 s, max 4 s: 1, 2, 4, 4 s apart (virtual time); a late
        // attempt makes the next one earlier (the last scheduled time counts).
        let gaps: Vec<f64> = at.windows(2).map(|w| (w[1] - w[0]).as_seconds_f64()).collect();
        for (g, want) in gaps.iter().zip([1.0, 2.0, 4.0, 4.0]) {
            assert!(*g >= want * 0.8, "retries {gaps:?}: each about the backoff interval");
        }
        assert!(gaps.iter().take(4).sum::<f64>() >= 11.0 * 0.9, "1 + 2 + 4 + 4 s in all: {gaps:?}");
        lab.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_49_at_once_and_the_fix_resumes() {
    bounded(async {
        let lab = healthy_lab().await;
        let s = lab.server("slapd-s1").expect("s");
        s.modify_agreement("s1-to-c1", |a| a.credentials = "WrongPass999".into()).expect("set");
        status_is(&lab, "Error (49) Problem connecting to replica - LDAP error: Invalid credentials (connection error)").await;
        let l = lines(&lab, "slapd-s1", "LDAP_BIND_REFUSED");
        assert!(l[0].ends_with(" - ERR - slapi_ldap_bind - Error: could not bind id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error 49 (Invalid credentials)"), "{l:?}");
        let f = lines(&lab, "slapd-s1", "BIND_FAILED");
        assert!(f[0].ends_with(") - Replication bind with SIMPLE auth failed: LDAP error 49 (Invalid credentials) ()"), "{f:?}");
        s.modify_agreement("s1-to-c1", |a| a.credentials = harness::ds389::config::DEFAULT_PASSWORD.into()).expect("set");
        status_is(&lab, SUCCEEDED).await;
        assert_eq!(lines(&lab, "slapd-s1", "BIND_RESUMED").len(), 1);
        lab.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_side_causes_give_their_statuses_and_lines() {
    bounded(async {
        let lab = healthy_lab().await;
        let (s, c) = (lab.server("slapd-s1").expect("s"), lab.server("slapd-c1").expect("c"));
        c.set_bind_dns(vec![]).expect("no rights");
        s.write(1).await.expect("write");
        status_is(&lab, "Error (3) Replication error acquiring replica: Unable to acquire replica: permission denied. The bind dn does not have permission to supply replication updates to the replica. Will retry later. (permission denied)").await;
        let l = lines(&lab, "slapd-c1", "EXTOP_REFUSED");
        assert!(l[0].contains(" replica=\"dc=example,dc=com\": Unable to acquire replica: error: permission denied"), "{l:?}");
        assert!(l[0].contains(" - ERR - NSMMReplicationPlugin - multisupplier_extop_StartNSDS50ReplicationRequest - conn="), "{l:?}");
        c.set_bind_dns(vec![harness::ds389::config::REPLICATION_MANAGER.into()]).expect("rights back");
        status_is(&lab, SUCCEEDED).await;
        c.import_without_replication().expect("import");
        s.write(1).await.expect("write");
        status_is(&lab, "Error (19) Replication error acquiring replica: Replica has different database generation ID, remote replica may need to be initialized (RUV error)").await;
        s.init("s1-to-c1").await.expect("init");
        lab.wait_in_sync(WAIT).await.expect("reinitialized");
        assert_eq!(lines(&lab, "slapd-s1", "TOTAL_FINISHED").len(), 1);
        assert_eq!(lines(&lab, "slapd-c1", "BE_ONLINE").len(), 1);
        lab.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consumer_answer_gives_the_documented_status() {
    use harness::ds389::Answer;
    bounded(async {
        let lab = healthy_lab().await;
        let (s, c) = (lab.server("slapd-s1").expect("s"), lab.server("slapd-c1").expect("c"));
        let cases = [
            (Answer::Busy, "Error (1) Can't acquire busy replica (Unable to acquire replica: the replica is currently being updated by another supplier.)"),
            (Answer::Backoff, "Error (14) Can't acquire replica (Unable to acquire replica: the replica instructed us to go into backoff mode. Will retry later.)"),
            (Answer::InternalError, "Error (8) Replication error acquiring replica: Failed to acquire replica: Internal error occurred on the remote replica (internal error)"),
            (Answer::DecodingError, "Error (4) Replication error acquiring replica: Unable to acquire replica: the consumer was unable to decode the startReplicationRequest extended operation sent by the supplier. Replication is aborting. (decoding error)"),
            (Answer::UnknownProtocol, "Error (5) Replication error acquiring replica: Unable to acquire replica (unknown update protocol)"),
        ];
        for (answer, want) in cases {
            c.set_knobs(harness::ds389::ConsumerKnobs { answer: Some(answer), ..Default::default() });
            // A fatal answer waits for the agreement to change; a change also restarts a backoff.
            s.modify_agreement("s1-to-c1", |_| {}).expect("touch");
            s.write(1).await.expect("write");
            status_is(&lab, want).await;
        }
        c.set_knobs(Default::default());
        s.modify_agreement("s1-to-c1", |_| {}).expect("touch");
        status_is(&lab, SUCCEEDED).await;
        lab.shutdown().await;
    })
    .await;
}

/// Two suppliers with agreements both ways, and a consumer of each: a write
/// on either (and the keep-alive entries each adds at its first start)
/// reaches every other server, and no agreement finds missing data. Each
/// supplier's session skips the replica ids its peer is up to date or ahead
/// for (`clcache_refresh_local_maxcsn`), as the real changelog positioning
/// does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_suppliers_replicate_both_ways_without_missing_data() {
    bounded(async {
        let lab = Lab389::start(spec_of(2, 1)).await.expect("lab");
        lab.wait_in_sync(WAIT)
            .await
            .unwrap_or_else(|rows| panic!("the keep-alive entries never everywhere: {rows:#?}"));
        let s1 = lab.server("slapd-s1").expect("s1");
        let s2 = lab.server("slapd-s2").expect("s2");
        let c1 = lab.server("slapd-c1").expect("c1");
        let a = s1.write(1).await.expect("write on s1");
        lab.wait_in_sync(WAIT).await.unwrap_or_else(|rows| panic!("s1's write never everywhere: {rows:#?}"));
        assert!(s2.ruv_max(1) >= a.last().copied());
        let b = s2.write(2).await.expect("writes on s2");
        let a2 = s1.write(1).await.expect("another write on s1");
        lab.wait_in_sync(WAIT).await.unwrap_or_else(|rows| panic!("the writes never everywhere: {rows:#?}"));
        assert!(s2.ruv_max(1) >= a2.last().copied());
        assert!(s1.ruv_max(2) >= b.last().copied());
        assert!(c1.ruv_max(1) >= a2.last().copied() && c1.ruv_max(2) >= b.last().copied());
        let rows = lab.agreements();
        assert_eq!(rows.len(), 4, "s1-to-s2, s1-to-c1, s2-to-s1, s2-to-c1: {rows:#?}");
        for r in &rows {
            assert_eq!(r.status, "Error (0) Replica acquired successfully: Incremental update succeeded", "{r:#?}");
        }
        for name in ["slapd-s1", "slapd-s2"] {
            let bad: Vec<String> = lab
                .server(name)
                .expect("server")
                .log()
                .records()
                .into_iter()
                .map(|r| r.line)
                .filter(|l| l.contains("Missing data encountered") || l.contains("purged from the changelog"))
                .collect();
            assert!(bad.is_empty(), "{name}: {bad:#?}");
        }
        lab.shutdown().await;
    })
    .await;
}
