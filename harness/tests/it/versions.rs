//! What each version writes where the versions differ (`docs/ds-versions.md`),
//! and the lines of the DS's RS selection, the RS↔RS handshake's failures,
//! duplicate ids and differing generation ids, against fake peers played by
//! the test on loopback.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use harness::catalog::{self, MsgDef};
use harness::codec::ReplCodec;
use harness::hostmap::HostEntry;
use harness::wire::{ReplMsg, ReplServerStart, ReplServerStartDs, StartHeader, StartSession};
use harness::{Mesh, Server, ServerConfig, Version};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::support::{bounded, count, probe_start, spec, wait_logged, WAIT};

const D: &str = "dc=example,dc=com";
const FAKE_HOST: &str = "fake.example.com";
const FAKE_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));

fn lines(s: &Server) -> String {
    s.log().records().iter().map(|r| r.line.as_str()).collect::<Vec<_>>().join("\n")
}

fn line_of(s: &Server, def: &MsgDef) -> String {
    s.log().records().into_iter().find(|r| r.key == def.key).map(|r| r.line).unwrap_or_default()
}

/// What a fake peer does with the n-th connection it accepts (from 0).
type Play =
    Arc<dyn Fn(usize, Framed<TcpStream, ReplCodec>) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

/// A fake replication server on 127.0.0.9, played by the test.
struct Fake {
    addr: SocketAddr,
    cancel: CancellationToken,
}

impl Fake {
    /// `accepts`: how many connections it takes before it closes its listener
    /// (then connections are refused).
    async fn start(accepts: usize, play: Play) -> Fake {
        let listener = TcpListener::bind(SocketAddr::new(FAKE_IP, 0)).await.expect("bind fake");
        let addr = listener.local_addr().expect("addr");
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            for n in 0..accepts {
                let stream = tokio::select! {
                    _ = c.cancelled() => return,
                    r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => return },
                };
                let play = play.clone();
                let c = c.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = c.cancelled() => {}
                        _ = play(n, Framed::new(stream, ReplCodec::default())) => {}
                    }
                });
            }
            // The listener is dropped here: connections are refused from now on.
        });
        Fake { addr, cancel }
    }

    fn url(&self) -> String {
        format!("{FAKE_HOST}:{}", self.addr.port())
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn rs_start_ds(id: &str) -> ReplMsg {
    ReplMsg::ReplServerStartDs(ReplServerStartDs {
        header: StartHeader { protocol_version: 8, generation_id: -1, group_id: 1 },
        base_dn: D.into(),
        server_id: id.into(),
        server_url: format!("{FAKE_HOST}:1"),
        window_size: 100,
        ssl_encryption: false,
        degraded_status_threshold: 5000,
        weight: 1,
        connected_ds_number: 0,
        server_state: vec![],
    })
}

fn rs_start(id: &str, url: &str) -> ReplMsg {
    ReplMsg::ReplServerStart(ReplServerStart {
        header: StartHeader { protocol_version: 8, generation_id: -1, group_id: 1 },
        base_dn: D.into(),
        server_id: id.into(),
        server_url: url.into(),
        window_size: 100,
        ssl_encryption: false,
        degraded_status_threshold: 5000,
        server_state: vec![],
    })
}

/// One DS (and RS) of `version` for dc=example,dc=com only, whose DS
/// replicates through `url` only.
async fn ds_through(version: &str, url: String) -> Mesh {
    let mut spec = spec(1, version);
    spec.servers[0].domains.retain(|d| d.base_dn == D);
    let mesh = Mesh::bind(spec).await.expect("mesh");
    mesh.hosts().set(FAKE_HOST, HostEntry::Addresses(vec![FAKE_IP]));
    mesh.server("ds-1").expect("ds-1").set_ds_replication_servers(vec![url]);
    mesh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_lines_per_version() {
    bounded(async {
        for (v, first, id135) in [
            ("2.6", "msgID=458886 msg=OpenDJ 2.6.0 (build 20130626201500Z, R9086) starting up", "msgID=458887 "),
            ("3.0", "msgID=org.opends.messages.core.134 msg=OpenDJ 3.0.0 (build 20160108162142, revision number 185acee3ba68d8da1782007eebacb3701dc996d6) starting up", "msgID=org.opends.messages.core.135 "),
            ("4.0.1", "msgID=134 msg=OpenDJ 4.0.1 (build 20180216184824, revision number ae848be258db66917554b6f2c24d03d7e207980f) starting up", "msgID=135 "),
            ("7.1", "msgID=134 msg=ForgeRock Directory Services 7.1.0 (build ", "msgID=135 "),
        ] {
            let mesh = Mesh::start(spec(1, v)).await.expect("mesh");
            mesh.wait_all_up(WAIT).await.expect("up");
            let s = mesh.server("ds-1").expect("ds-1");
            let errors = s.log().errors_lines();
            assert!(errors[0].contains(first), "{v}: {}", errors[0]);
            // The DS connected during the start-up: 62 comes before 135, then 139.
            let pos = |needle: &str| errors.iter().position(|l| l.contains(needle)).unwrap_or(usize::MAX);
            let started = pos(id135);
            assert!(started < errors.len(), "{v}: 135 logged:\n{}", errors.join("\n"));
            assert!(errors[started + 1].contains("(alert type org.opends.server.DirectoryServerStarted, alert ID "), "{v}");
            assert!(pos("has connected to replication server") < started, "{v}: 62 before 135:\n{}", errors.join("\n"));
            if v == "3.0" {
                assert!(errors.iter().any(|l| l.contains("category=SYNC severity=NOTICE msgID=org.opends.messages.replication.204 ")));
                assert!(errors[started + 1].contains("alert ID org.opends.messages.core-135): The Directory"));
            }
            if v == "2.6" {
                assert!(errors[started + 1].contains("alert ID 458887):  The Directory"), "two spaces");
            }
            mesh.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_peer_is_53_with_the_versions_frames_from_3_0_on() {
    bounded(async {
        for (v, peer, frames) in [
            ("3.0", "2", "IOException: no more data (Session.java:452 Session.java:414 ServerReader.java:96)"),
            ("7.1", "ds-2", "IOException: no more data (Session.java:441 Session.java:403 ServerReader.java:86)"),
        ] {
            // A link timeout of 6 s real: a loaded machine's stall of the
            // window acks must not end the link (181) before the kill.
            let mut sp = spec(2, v);
            sp.timings.link_timeout = Duration::from_secs(600);
            let mesh = Mesh::start(sp).await.expect("mesh");
            mesh.wait_all_up(WAIT).await.expect("up");
            let s1 = mesh.server("ds-1").expect("ds-1");
            let before = count(s1, &catalog::RS_BADLY_DISCONNECTED, &[]);
            mesh.server("ds-2").expect("ds-2").kill().await;
            let who = format!("Replication server RS({peer}) for domain \"{D}\"");
            assert!(wait_logged(s1, &catalog::READER_EXCEPTION, &[&who, frames], 1).await, "{v}: 53 on ds-1");
            assert_eq!(
                count(s1, &catalog::RS_BADLY_DISCONNECTED, &[]),
                before,
                "{v}: a FIN is not a SocketException: {:#?}",
                s1.log().records()
            );
            mesh.shutdown().await;
        }
    })
    .await;
}

/// A DS of the test's own that completes its handshake, then closes without StopMsg.
async fn ds_closes_without_stop(addr: SocketAddr) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut framed = Framed::new(stream, ReplCodec::default());
    framed.send(ReplMsg::ServerStart(probe_start(8, false))).await.expect("start");
    assert!(matches!(tokio::time::timeout(WAIT, framed.next()).await, Ok(Some(Ok(ReplMsg::ReplServerStartDs(_))))));
    let session =
        StartSession { status: 1, assured_flag: 0, assured_mode: 1, safe_data_level: 1, referral_urls: vec![] };
    framed.send(ReplMsg::StartSession(session)).await.expect("session");
    assert!(matches!(tokio::time::timeout(WAIT, framed.next()).await, Ok(Some(Ok(ReplMsg::Topology(_))))));
    // FIN, then read what still comes until the server closes (unread bytes
    // would turn the close into a reset).
    let mut stream = framed.into_inner();
    tokio::io::AsyncWriteExt::shutdown(&mut stream).await.expect("fin");
    let mut sink = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read(&mut stream, &mut sink)).await {
        if n == 0 {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ds_that_closes_without_stopmsg_is_211_in_2_6_and_53_later() {
    bounded(async {
        let mesh = Mesh::start(spec(1, "2.6")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("up");
        let s = mesh.server("ds-1").expect("ds-1");
        ds_closes_without_stop(s.replication_addr()).await;
        assert!(wait_logged(s, &catalog::DS_BADLY_DISCONNECTED, &["1", "probe"], 1).await, "2.6: 211");
        assert!(line_of(s, &catalog::DS_BADLY_DISCONNECTED).contains("severity=SEVERE_ERROR msgID=14942419 "));
        assert_eq!(count(s, &catalog::READER_EXCEPTION, &[]), 0);
        mesh.shutdown().await;

        let mesh = Mesh::start(spec(1, "7.1")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("up");
        let s = mesh.server("ds-1").expect("ds-1");
        ds_closes_without_stop(s.replication_addr()).await;
        let who = format!("Replica DS(probe) for domain \"{D}\"");
        assert!(wait_logged(s, &catalog::READER_EXCEPTION, &[&who, "*"], 1).await, "7.1: 53");
        assert!(line_of(s, &catalog::READER_EXCEPTION)
            .ends_with(": IOException: no more data (Session.java:441 Session.java:403 ServerReader.java:86)"));
        assert_eq!(count(s, &catalog::DS_BADLY_DISCONNECTED, &[]), 0);
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unexpected_first_message_before_4_0_is_silent_and_ends_the_listener() {
    bounded(async {
        let mesh = Mesh::start(spec(2, "3.0")).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("up");
        let s = mesh.server("ds-1").expect("ds-1");
        let mut hb =
            Framed::new(TcpStream::connect(s.replication_addr()).await.expect("connect"), ReplCodec::default());
        hb.send(ReplMsg::Heartbeat).await.expect("send");
        // The session is closed (StopMsg first: no error on it)...
        assert!(matches!(tokio::time::timeout(WAIT, hb.next()).await, Ok(Some(Ok(ReplMsg::Stop)))));
        // ... and the listener thread has returned: a new DS connects (the port
        // is bound) and hears nothing. (An observation window for an absence.)
        let mut late =
            Framed::new(TcpStream::connect(s.replication_addr()).await.expect("connect"), ReplCodec::default());
        late.send(ReplMsg::ServerStart(probe_start(8, false))).await.expect("send");
        let window = mesh.clock().real(mesh.timings().handshake_timeout) / 2;
        assert!(tokio::time::timeout(window, late.next()).await.is_err(), "nobody reads new connections");
        for def in [&catalog::UNEXPECTED_MESSAGE, &catalog::EXCEPTION_LISTENING] {
            assert_eq!(count(s, def, &[]), 0, "{}: 3.0 logs nothing:\n{}", def.key, lines(s));
        }
        // Established links are not the listener's: they stay up.
        mesh.wait_all_up(WAIT).await.expect("still up");
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_connection_refused_after_a_good_probe_is_17_then_23_once() {
    bounded(async {
        // The probe gets an answer; then the fake stops listening.
        let play: Play = Arc::new(|_, mut f| {
            Box::pin(async move {
                if let Some(Ok(ReplMsg::ServerStart(_))) = f.next().await {
                    let _ = f.send(rs_start_ds("fake-rs")).await;
                    while let Some(Ok(_)) = f.next().await {}
                }
            })
        });
        let fake = Fake::start(1, play).await;
        let mesh = ds_through("7.1", fake.url()).await;
        mesh.start_all().await.expect("start");
        let s = mesh.server("ds-1").expect("ds-1");
        let url = fake.url();
        assert!(
            wait_logged(s, &catalog::NO_CHANGELOG_SERVER_LISTENING, &["ds-1", &url, D], 1).await,
            "17:\n{}",
            lines(s)
        );
        assert!(
            wait_logged(s, &catalog::COULD_NOT_FIND_CHANGELOG, &["ds-1", D, "fake-rs"], 1).await,
            "23 names the RS id"
        );
        // Later rounds find no RS at all, but the outage is already logged: no 208.
        tokio::time::sleep(mesh.clock().real(Duration::from_secs(2))).await;
        assert_eq!(count(s, &catalog::NO_CHANGELOG_SERVER_LISTENING, &[]), 1, "{}", lines(s));
        assert_eq!(count(s, &catalog::COULD_NOT_FIND_CHANGELOG, &["ds-1", D]), 1);
        assert_eq!(count(s, &catalog::NO_AVAILABLE_CHANGELOGS, &["ds-1", D]), 0);
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phase_two_failure_is_119_every_time_and_23_once() {
    bounded(async {
        // Phase 1 always answered; the StartSessionMsg is met with a close.
        let play: Play = Arc::new(|_, mut f| {
            Box::pin(async move {
                if let Some(Ok(ReplMsg::ServerStart(_))) = f.next().await {
                    let _ = f.send(rs_start_ds("fake-rs")).await;
                    let _ = f.next().await;
                }
            })
        });
        let fake = Fake::start(64, play).await;
        let mesh = ds_through("7.1", fake.url()).await;
        mesh.start_all().await.expect("start");
        let s = mesh.server("ds-1").expect("ds-1");
        let trace = "IOException: no more data (Session.java:441 Session.java:403 ReplicationBroker.java:1209 ReplicationBroker.java:817 ReplicationBroker.java:2168 ReplicationBroker.java:2430 ReplicationDomain.java:755 ReplicationDomain.java:2967 Thread.java:834)";
        assert!(wait_logged(s, &catalog::EXCEPTION_STARTING_SESSION_PHASE, &["ds-1", &fake.url(), D, trace], 2).await, "119, twice");
        assert_eq!(count(s, &catalog::COULD_NOT_FIND_CHANGELOG, &["ds-1", D, "fake-rs"]), 1, "23 once per outage");
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_server_id_is_54_on_the_rs_per_attempt_and_208_on_the_newcomer() {
    bounded(async {
        let mut spec = spec(1, "7.1");
        let v = Version::parse("7.1").expect("v");
        let mut twin = ServerConfig::new("ds-2", "ds-2.example.com", harness::mesh::loopback_for(2), v.clone(), "ds-1");
        twin.domains = harness::domains_for(&v, &[D]);
        twin.rs = false;
        twin.ds_replication_servers = vec!["ds-1".into()];
        spec.servers.push(twin);
        let mesh = Mesh::start(spec).await.expect("mesh");
        let (s1, s2) = (mesh.server("ds-1").expect("ds-1"), mesh.server("ds-2").expect("ds-2"));
        let dup = format!("Replica DS(ds-1) for domain \"{D}\"");
        assert!(wait_logged(s1, &catalog::DUPLICATE_SERVER_ID, &["*", &dup, &dup, "ds-1"], 2).await, "54 per attempt");
        let l = line_of(s1, &catalog::DUPLICATE_SERVER_ID);
        let port = s1.config().replication_port;
        assert!(
            l.contains(&format!("msg=In Replication server Replication Server {port} ds-1: servers Replica DS(ds-1)")),
            "{l}"
        );
        // Whichever DS came second is refused, once per domain: 208 when the
        // other was already connected at its probe, else (both probes
        // answered) 119 for its final connection and 23.
        for d in ["cn=schema", D] {
            let refused: usize = [s1, s2]
                .iter()
                .map(|s| {
                    count(s, &catalog::NO_AVAILABLE_CHANGELOGS, &["ds-1", d])
                        + count(s, &catalog::COULD_NOT_FIND_CHANGELOG, &["ds-1", d])
                })
                .sum();
            assert_eq!(refused, 1, "{d}: one twin says it has no RS:\n{}\n{}", lines(s1), lines(s2));
        }
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_lock_held_by_a_hanging_handshake_is_145_for_the_next_peer() {
    bounded(async {
        // A peer RS that accepts and never answers: ds-1's initiator holds its
        // domain lock for the whole handshake timeout.
        let play: Play = Arc::new(|_, mut f| Box::pin(async move { while let Some(Ok(_)) = f.next().await {} }));
        let fake = Fake::start(64, play).await;
        let mut spec = spec(1, "7.1");
        spec.servers[0].ds = false;
        let mesh = Mesh::bind(spec).await.expect("mesh");
        mesh.hosts().set(FAKE_HOST, HostEntry::Addresses(vec![FAKE_IP]));
        let s = mesh.server("ds-1").expect("ds-1");
        s.set_peers(vec![fake.url()]);
        mesh.start_all().await.expect("start");
        // Another RS calls in while the lock is held (3 s + 0..5 s < 100 s).
        let mut done = false;
        for _ in 0..20 {
            let mut f = Framed::new(TcpStream::connect(s.replication_addr()).await.expect("connect"), ReplCodec::default());
            f.send(rs_start("ds-9", "ds-9.example.com:1")).await.expect("send");
            let _ = tokio::time::timeout(WAIT, f.next()).await;
            if count(s, &catalog::TIMEOUT_WHEN_CROSS_CONNECTION, &[]) > 0 {
                done = true;
                break;
            }
        }
        assert!(done, "145:\n{}", lines(s));
        let l = line_of(s, &catalog::TIMEOUT_WHEN_CROSS_CONNECTION);
        assert!(l.contains(&format!("for domain \"{D}\". The connection attempt from replication server RS(ds-9) at ds-1.example.com/127.0.0.1:")), "{l}");
        assert!(l.contains("to this replication server RS(ds-1) will be aborted") && l.contains("severity=ERROR msgID=145 "), "{l}");
        // The hanging handshake itself: the initiator's read timed out, 179.
        assert!(wait_logged(s, &catalog::RS_DISCONNECTED_DURING_HANDSHAKE, &["ds-1", &format!("{FAKE_HOST}/{}", fake.addr)], 1).await);
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_reply_in_the_rs_handshake_is_157_and_a_reset_before_the_topology_a_raw_line() {
    bounded(async {
        let play: Play = Arc::new(|_, mut f| {
            Box::pin(async move {
                let _ = f.next().await;
                let _ = f.send(ReplMsg::Heartbeat).await;
                while let Some(Ok(_)) = f.next().await {}
            })
        });
        let fake = Fake::start(64, play).await;
        let mut spec = spec(1, "7.1");
        spec.servers[0].ds = false;
        let mesh = Mesh::bind(spec).await.expect("mesh");
        mesh.hosts().set(FAKE_HOST, HostEntry::Addresses(vec![FAKE_IP]));
        let s = mesh.server("ds-1").expect("ds-1");
        s.set_peers(vec![fake.url()]);
        mesh.start_all().await.expect("start");
        let got = "org.opends.server.replication.protocol.HeartbeatMsg";
        assert!(wait_logged(s, &catalog::REPLICATION_PROTOCOL_MESSAGE_TYPE, &[got, "ReplServerStartMsg"], 1).await, "157");
        // A peer that calls in, reads the acceptor's start message, then resets.
        let stream = TcpStream::connect(s.replication_addr()).await.expect("connect");
        let mut f = Framed::new(stream, ReplCodec::default());
        f.send(rs_start("ds-9", "ds-9.example.com:1")).await.expect("send");
        assert!(matches!(tokio::time::timeout(WAIT, f.next()).await, Ok(Some(Ok(ReplMsg::ReplServerStart(_))))));
        let stream = f.into_inner();
        stream.set_zero_linger().expect("linger");
        drop(stream);
        assert!(wait_logged(s, &catalog::RAW_ERROR, &["Connection reset"], 1).await, "raw line:\n{}", lines(s));
        assert!(line_of(s, &catalog::RAW_ERROR).ends_with("category=SYNC severity=ERROR msgID=-1 msg=Connection reset"));
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_ids_that_differ_between_rss_are_77_twice_and_79_on_each_side() {
    bounded(async {
        let mut spec = spec(2, "7.1");
        for d in &mut spec.servers[1].domains {
            if d.base_dn == D {
                d.generation_id = 55555;
            }
        }
        let mesh = Mesh::start(spec).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("links kept despite the ids");
        let (s1, s2) = (mesh.server("ds-1").expect("1"), mesh.server("ds-2").expect("2"));
        assert!(wait_logged(s1, &catalog::BAD_GENERATION_ID_FROM_RS, &["ds-2", "*", "55555", D, "ds-1"], 2).await);
        assert!(wait_logged(s2, &catalog::BAD_GENERATION_ID_FROM_RS, &["ds-1", "*", "*", D, "ds-2", "55555"], 2).await);
        for (s, other) in [(s1, "ds-2"), (s2, "ds-1")] {
            assert!(wait_logged(s, &catalog::ERROR_MSG_RECEIVED, &[], 1).await, "79 on {}", s.name());
            let l = line_of(s, &catalog::ERROR_MSG_RECEIVED);
            let expect = format!(
                "severity=ERROR msgID=79 msg=The following error has been received : Replication server RS({}) at ",
                s.config().server_id
            );
            assert!(
                l.contains(&expect)
                    && l.contains(&format!("but the generation ID of this replication server RS({other}) is")),
                "{l}"
            );
        }
        // A change is not sent to the peer with the other id: no 81, no 80.
        s1.write_entry(D, "uid=user.0,ou=People,dc=example,dc=com").await.expect("write");
        tokio::time::sleep(mesh.clock().real(Duration::from_secs(2))).await;
        for s in [s1, s2] {
            assert_eq!(
                count(s, &catalog::IGNORING_UPDATE_TO_RS, &[]) + count(s, &catalog::IGNORING_UPDATE_FROM_RS, &[]),
                0
            );
        }
        mesh.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_texts_are_java_8s_before_ds_5() {
    bounded(async {
        let mut spec = spec(2, "3.0");
        for s in &mut spec.servers {
            s.tls = true;
        }
        spec.servers[1].cert_defect = harness::pki::CertDefect::ForeignCa;
        let mesh = Mesh::start(spec).await.expect("mesh");
        let (s1, s2) = (mesh.server("ds-1").expect("1"), mesh.server("ds-2").expect("2"));
        let pkix = "sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target";
        assert!(wait_logged(s1, &catalog::SSL_SERVER_CON_ATTEMPT_ERROR, &["*", "*", pkix], 1).await, "ds-1 refuses ds-2's certificate");
        let alert = "Received fatal alert: certificate_unknown";
        assert!(wait_logged(s2, &catalog::SSL_SERVER_CON_ATTEMPT_ERROR, &["*", "*", alert], 1).await, "Java 8 sends certificate_unknown");
        assert!(line_of(s1, &catalog::SSL_SERVER_CON_ATTEMPT_ERROR)
            .contains("severity=INFORMATION msgID=org.opends.messages.replication.105 msg=Replication server accepted a connection from ds-2.example.com/127.0.0.2:"));
        mesh.shutdown().await;
    })
    .await;
}
