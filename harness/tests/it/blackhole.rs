//! Black holes (no byte and no FIN passes) on RS↔RS and DS↔RS links: what
//! the real product notices, and not before its timeouts.

use std::time::{Duration, Instant};

use harness::catalog;
use harness::Mesh;

use crate::relay::Relay;
use crate::support::{bounded, id, spec, wait_logged, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_rs_link_logs_181_after_link_timeout_not_before() {
    bounded(async {
        let mesh = Mesh::bind(spec(2, "7.1")).await.expect("mesh");
        let (s1, s2) = (mesh.server("ds-1").expect("1").clone(), mesh.server("ds-2").expect("2").clone());
        // Both directions through relays, whichever side initiates.
        let r12 = Relay::start(s2.replication_addr()).await;
        let r21 = Relay::start(s1.replication_addr()).await;
        mesh.hosts().route("ds-1", "ds-2.example.com", s2.config().replication_port, r12.addr);
        mesh.hosts().route("ds-2", "ds-1.example.com", s1.config().replication_port, r21.addr);
        mesh.start_all().await.expect("start");
        mesh.wait_all_up(WAIT).await.expect("every link up");
        let link_timeout = mesh.clock().real(mesh.timings().link_timeout);
        let t0 = Instant::now();
        r12.drop_all();
        r21.drop_all();
        for (s, peer) in [(&s1, "ds-2"), (&s2, "ds-1")] {
            for d in ["cn=schema", "dc=example,dc=com"] {
                assert!(
                    wait_logged(s, &catalog::RS_BADLY_DISCONNECTED, &[&id(s), peer, "*", d], 1).await,
                    "{} logs 181",
                    id(s)
                );
            }
        }
        let first = [&s1, &s2]
            .iter()
            .flat_map(|s| s.log().records())
            .filter(|r| r.key == catalog::RS_BADLY_DISCONNECTED.key)
            .map(|r| r.at)
            .min()
            .expect("a 181");
        // The first 181's virtual stamp is at least link_timeout after the drop
        // began (less 20 ms real: a message sent just before the drop counts
        // from when it was sent).
        let after_drop = (first - mesh.clock().at(t0)).unsigned_abs();
        let floor = mesh.clock().virtual_of(link_timeout.saturating_sub(Duration::from_millis(20)));
        assert!(after_drop >= floor, "first 181 {after_drop:?} after the drop; link_timeout is {link_timeout:?} real");
        // DS sessions are not behind the relays and stay up.
        assert!(mesh.ds_table().await.iter().all(|r| r.rs.is_some()));
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_ds_link_logs_97_on_the_ds_and_211_on_the_rs() {
    bounded(async {
        let mesh = Mesh::bind(spec(1, "7.1")).await.expect("mesh");
        let s = mesh.server("ds-1").expect("ds-1").clone();
        let relay = Relay::start(s.replication_addr()).await;
        mesh.hosts().route("ds-1", "ds-1.example.com", s.config().replication_port, relay.addr);
        mesh.start_all().await.expect("start");
        mesh.wait_all_up(WAIT).await.expect("up");
        let heartbeat = mesh.clock().real(mesh.timings().heartbeat_interval);
        let t0 = Instant::now();
        relay.drop_all();
        let dn = "dc=example,dc=com";
        assert!(wait_logged(&s, &catalog::HEARTBEAT_FAILURE, &["ds-1", "ds-1", "*", dn], 1).await, "97 on the DS");
        assert!(t0.elapsed() >= heartbeat, "97 needs two checks a heartbeat interval apart");
        assert!(wait_logged(&s, &catalog::DS_BADLY_DISCONNECTED, &["ds-1", "ds-1", "*", dn], 1).await, "211 on the RS");
        assert!(
            t0.elapsed() >= mesh.clock().real(mesh.timings().link_timeout).saturating_sub(Duration::from_millis(20))
        );
        // The DS's new attempts go into the black hole: it reports no RS at all.
        assert!(wait_logged(&s, &catalog::NO_AVAILABLE_CHANGELOGS, &["ds-1", dn], 1).await, "208");
        mesh.shutdown().await;
    })
    .await;
}
