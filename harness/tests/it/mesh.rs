//! A mesh of mock servers on loopback: what each event writes to which log.

use std::time::{Duration, Instant};

use harness::catalog;
use harness::{Mesh, ServerConfig, Version};

use crate::support::{bounded, count, id, spec, wait_logged, SCALE, WAIT};

/// For each unordered pair and domain: one 205 on one side, the matching 206
/// on the other, with the ids, domain and addresses that really ran.
fn assert_links_per_pair(mesh: &Mesh, expected: impl Fn(&str, &str) -> usize) {
    let servers = mesh.servers();
    for (i, a) in servers.iter().enumerate() {
        for b in servers.iter().skip(i + 1) {
            for d in a.config().domains {
                let dn = d.base_dn.as_str();
                let (ai, bi) = (id(a), id(b));
                let a_to_b = count(a, &catalog::CONNECTION_TO_RS, &[&ai, &bi, dn]);
                let b_to_a = count(b, &catalog::CONNECTION_TO_RS, &[&bi, &ai, dn]);
                let b_from_a = count(b, &catalog::CONNECTION_FROM_RS, &[&bi, &ai, dn]);
                let a_from_b = count(a, &catalog::CONNECTION_FROM_RS, &[&ai, &bi, dn]);
                assert_eq!(a_to_b + b_to_a, expected(&a.name(), &b.name()), "205 lines for {ai}<->{bi} {dn}");
                assert_eq!(a_to_b, b_from_a, "each 205 {ai}->{bi} has its 206 on {bi} ({dn})");
                assert_eq!(b_to_a, a_from_b, "each 205 {bi}->{ai} has its 206 on {ai} ({dn})");
                // Addresses: the initiator names the host it dialled and the
                // listener's port; the acceptor the initiator's own address,
                // with the name a reverse lookup gives (the JDK caches it).
                for (from, to) in [(a, b), (b, a)] {
                    let (fc, tc) = (from.config(), to.config());
                    for r in from
                        .log()
                        .records()
                        .iter()
                        .filter(|r| r.is(&catalog::CONNECTION_TO_RS, &[&fc.server_id, &tc.server_id, dn]))
                    {
                        assert_eq!(r.args[3], format!("{}/{}", tc.host, to.replication_addr()));
                    }
                    for r in to
                        .log()
                        .records()
                        .iter()
                        .filter(|r| r.is(&catalog::CONNECTION_FROM_RS, &[&tc.server_id, &fc.server_id, dn]))
                    {
                        let prefix = format!("{}/{}:", fc.host, fc.addresses[0]);
                        assert!(r.args[3].starts_with(&prefix), "206 address {}", r.args[3]);
                    }
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_two_domains_log_listening_accepts_and_one_link_per_pair() {
    bounded(async {
        let mesh = Mesh::start(spec(3, "7.1")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("every link up");
        for s in mesh.servers() {
            let c = s.config();
            assert_eq!(c.domains.len(), 2, "7.1 replicates cn=schema and the backend only");
            let port = c.replication_port.to_string();
            let ip = c.addresses[0].to_string();
            assert_eq!(count(s, &catalog::REPLICATION_SERVER_LISTENING, &[&c.server_id, &ip, &port]), 1);
            assert_eq!(count(s, &catalog::DIRECTORY_SERVER_STARTED, &[]), 1);
            for d in &c.domains {
                assert!(
                    wait_logged(s, &catalog::CONNECTION_FROM_DS, &[&c.server_id, &c.server_id, &d.base_dn], 1).await
                );
                assert!(
                    wait_logged(s, &catalog::NOW_FOUND_SAME_GENERATION, &[&c.server_id, &c.server_id, &d.base_dn], 1)
                        .await
                );
            }
            // INFORMATION accepts are in the replication log only (3.x+ defaults).
            assert!(s
                .log()
                .replication_lines()
                .iter()
                .any(|l| l.contains("severity=INFORMATION msgID=207 msg=Replication server RS(")));
            assert!(!s.log().errors_lines().iter().any(|l| l.contains("msgID=207")));
            for bad in [
                &catalog::RS_BADLY_DISCONNECTED,
                &catalog::READER_EXCEPTION,
                &catalog::RS_DISCONNECTED_DURING_HANDSHAKE,
            ] {
                assert_eq!(
                    count(s, bad, &[]),
                    0,
                    "{} on a healthy mesh:\n{}",
                    bad.key,
                    s.log().replication_lines().join("\n")
                );
            }
        }
        assert_links_per_pair(&mesh, |_, _| 1);
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_makes_peers_log_181_and_a_restart_relinks() {
    bounded(async {
        let mesh = Mesh::start(spec(3, "2.6")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("every link up");
        let victim = mesh.server("ds-3").expect("ds-3");
        victim.kill().await;
        let domains = victim.config().domains;
        assert_eq!(domains.len(), 3, "2.6 also replicates cn=admin data");
        for peer in ["ds-1", "ds-2"] {
            let p = mesh.server(peer).expect("peer");
            for d in &domains {
                assert!(
                    wait_logged(p, &catalog::RS_BADLY_DISCONNECTED, &[&id(p), "3", "*", &d.base_dn], 1).await,
                    "{peer} logs 181 for RS(3) and {}",
                    d.base_dn
                );
            }
            // 2.x dialect: composed msgID, SEVERE_ERROR, errors log only.
            assert!(p.log().errors_lines().iter().any(|l| l
                .contains("severity=SEVERE_ERROR msgID=14942389 msg=The connection from this replication server RS(")));
            assert!(!p.log().replication_lines().iter().any(|l| l.contains("msgID=14942389")));
            // 2.x's reader takes the end of the stream for an IOException: never 53.
            assert_eq!(count(p, &catalog::READER_EXCEPTION, &[]), 0, "{peer}");
        }
        assert_eq!(count(victim, &catalog::SERVER_SHUTDOWN, &[]), 0, "a killed server writes nothing more");
        victim.start().await.expect("restart");
        mesh.wait_all_up(WAIT).await.expect("links back");
        // One link per pair before the kill, one more after for ds-3's pairs.
        assert_links_per_pair(&mesh, |a, b| if a == "ds-3" || b == "ds-3" { 2 } else { 1 });
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_logs_shutdown_63_on_ds_links_and_no_181_on_peers() {
    bounded(async {
        let mut spec = spec(3, "7.1");
        // A standalone DS replicating through ds-2's RS.
        let v = Version::parse("7.1").expect("v");
        let mut ds4 = ServerConfig::new("ds-4", "ds-4.example.com", harness::mesh::loopback_for(4), v.clone(), "ds-4");
        ds4.domains = harness::domains_for(&v, &["dc=example,dc=com"]);
        ds4.rs = false;
        ds4.ds_replication_servers = vec!["ds-2".into()];
        spec.servers.push(ds4);
        let mesh = Mesh::start(spec).await.expect("mesh");
        if let Err(missing) = mesh.wait_all_up(WAIT).await {
            for s in mesh.servers() {
                eprintln!("--- {}:\n{}", s.name(), s.log().replication_lines().join("\n"));
            }
            panic!("not up: {missing:?}");
        }
        let stopped = mesh.server("ds-2").expect("ds-2");
        stopped.stop().await;
        let errors = stopped.log().errors_lines();
        let n = errors.len();
        assert!(errors[n - 2].contains(
            "category=CORE severity=NOTICE msgID=139 msg=The Directory Server has sent an alert notification generated by class org.opends.server.core.DirectoryServer (alert type org.opends.server.DirectoryServerShutdown, alert ID org.opends.messages.core-141): The Directory Server has started the shutdown process. The shutdown was initiated by an instance of class org.opends.server.core.DirectoryServerShutdownHook and"
        ), "{}", errors[n - 2]);
        assert!(
            errors[n - 1].ends_with("category=CORE severity=NOTICE msgID=203 msg=The Directory Server is now stopped")
        );
        assert_eq!(count(stopped, &catalog::SERVER_SHUTDOWN, &[]), 0, "141 is 139's text, not a line");
        let ds4 = mesh.server("ds-4").expect("ds-4");
        let domains = ds4.config().domains;
        assert!(wait_logged(ds4, &catalog::REPLICATION_SERVER_PROPERLY_DISCONNECTED, &["ds-2"], domains.len()).await);
        for d in &domains {
            let line = ds4.log().records().into_iter().find(|r| {
                r.is(&catalog::REPLICATION_SERVER_PROPERLY_DISCONNECTED, &["ds-2"]) && r.args[3] == d.base_dn
            });
            let line = line.unwrap_or_else(|| panic!("63 for {}", d.base_dn));
            assert_eq!(line.args[2], "ds-4");
            // From 4.0 on a DS names the RS by HostPort, without the host name.
            assert!(line.args[1].starts_with("127.0.0.2:"), "{}", line.args[1]);
        }
        // Peers saw StopMsg: wait until they dropped their links to ds-2, then
        // check nothing was logged as a failure.
        mesh.wait_links(WAIT, |rows| rows.iter().filter(|r| r.a == "ds-2" || r.b == "ds-2").all(|r| !r.up))
            .await
            .expect("peers dropped their links");
        for peer in ["ds-1", "ds-3"] {
            let p = mesh.server(peer).expect("peer");
            assert_eq!(count(p, &catalog::RS_BADLY_DISCONNECTED, &[]), 0, "{peer}: no 181 after a clean stop");
            assert_eq!(count(p, &catalog::READER_EXCEPTION, &[]), 0, "{peer}: no 53 after a clean stop");
        }
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_mismatch_logs_96_and_146_and_keeps_the_connection() {
    bounded(async {
        let mesh = Mesh::start(spec(1, "7.1")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("up");
        let s = mesh.server("ds-1").expect("ds-1");
        let dn = "dc=example,dc=com";
        s.set_generation_id(dn, 777_777).await.expect("restore");
        assert!(wait_logged(s, &catalog::NOW_FOUND_BAD_GENERATION, &["ds-1", "ds-1", dn], 1).await, "96 on the DS");
        assert!(wait_logged(s, &catalog::BAD_GENERATION_ID_FROM_DS, &["ds-1"], 1).await, "146 on the RS");
        let rec = s.log().records().into_iter().find(|r| r.key == catalog::BAD_GENERATION_ID_FROM_DS.key).expect("146");
        assert_eq!(rec.args[2], "777777");
        assert_eq!(rec.args[3], dn);
        // The connection stays: several heartbeat intervals later it is still up,
        // unbroken. (This wait is the observation window for something that
        // must not happen, not a stand-in for an event.)
        tokio::time::sleep(mesh.clock().real(mesh.timings().heartbeat_interval) * 5).await;
        assert!(mesh.ds_table().await.iter().all(|r| r.rs.as_deref() == Some("ds-1")));
        assert_eq!(count(s, &catalog::HEARTBEAT_FAILURE, &[]), 0);
        assert_eq!(count(s, &catalog::REPLICATION_SERVER_BADLY_DISCONNECTED, &[]), 0);
        assert_eq!(count(s, &catalog::NOW_FOUND_BAD_GENERATION, &[]), 1, "one reconnect, not a loop");
        // Changes from the mismatched DS are ignored with 135.
        s.write_entry(dn, "uid=user.0,ou=People,dc=example,dc=com").await.expect("write");
        assert!(wait_logged(s, &catalog::IGNORING_UPDATE_FROM_DS_BADGENID, &["ds-1"], 1).await);
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_timestamps_advance_by_time_scale_times_real_time() {
    bounded(async {
        let mut spec = spec(1, "7.1");
        let start = time::macros::datetime!(2026-11-22 03:00:00 UTC);
        spec.start = Some(start);
        let real0 = Instant::now();
        let mesh = Mesh::start(spec).await.expect("mesh");
        let started = mesh.clock().now();
        let s = mesh.server("ds-1").expect("ds-1");
        // Real time passes while the server runs: 300 ms stand for 30 s of log time.
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.stop().await;
        let real = real0.elapsed();
        let recs = s.log().records();
        let first = recs.first().expect("records");
        let last = recs.last().expect("records").at;
        assert!(start <= first.at && first.at <= started, "{} is within the start-up, from {start}", first.at);
        let span = (last - first.at).unsigned_abs();
        assert!(span >= Duration::from_secs(30), "300 ms × 100 ≥ 30 s of log time, got {span:?}");
        assert!(span <= real.mul_f64(SCALE) + Duration::from_secs(1), "{span:?} vs real {real:?}");
        // The line carries the record's own virtual stamp, in the product's format.
        let line = &s.log().errors_lines()[0];
        assert_eq!(first.line, *line);
        assert!(line.starts_with(&format!("[{}]", harness::ds::log::format_stamp(first.at))), "{line}");
        assert!(line.starts_with("[22/Nov/2026:"), "{line}");
    })
    .await;
}
