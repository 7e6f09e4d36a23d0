//! Mutual TLS between mock servers: the same accept lines as clear text, and
//! each certificate defect logged as the real product logs it.

use std::time::Duration;

use harness::catalog;
use harness::pki::CertDefect;
use harness::{Mesh, MeshSpec, Timings, Version};

const WAIT: Duration = Duration::from_secs(15);

fn spec(n: usize, defect_on_2: CertDefect) -> MeshSpec {
    let mut spec = MeshSpec::full_mesh(n, &Version::parse("7.1").expect("v"), &["dc=example,dc=com"]);
    spec.time_scale = 100.0;
    spec.timings = Timings {
        handshake_timeout: Duration::from_secs(100),
        link_timeout: Duration::from_secs(60),
        ..Timings::default()
    };
    for s in &mut spec.servers {
        s.tls = true;
    }
    spec.servers[1].cert_defect = defect_on_2;
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mtls_mesh_logs_the_same_lines_as_clear_text() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mesh = Mesh::start(spec(3, CertDefect::None)).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("every link up over TLS");
        for s in mesh.servers() {
            let id = s.config().server_id;
            assert_eq!(s.log().count(|r| r.is(&catalog::REPLICATION_SERVER_LISTENING, &[&id])), 1);
            assert_eq!(s.log().count(|r| r.is(&catalog::CONNECTION_FROM_DS, &[&id, &id])), 2, "one 207 per domain");
            assert_eq!(s.log().count(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key), 0, "no failed handshake");
        }
        let total_205: usize =
            mesh.servers().iter().map(|s| s.log().count(|r| r.key == catalog::CONNECTION_TO_RS.key)).sum();
        assert_eq!(total_205, 6, "3 pairs × 2 domains, one link each");
        let dir = tempfile::tempdir().expect("dir");
        harness::casefile::write_case(&mesh, dir.path()).expect("case");
        let pem = std::fs::read_to_string(dir.path().join("servers/ds-1/certs/server.pem")).expect("public cert");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let all: Vec<_> = walk(dir.path());
        assert_eq!(all.len(), 1 + 3 * 4, "topology.toml and four files per server");
        assert!(all.iter().all(|c| !c.contains("PRIVATE KEY")), "never a private key in a case folder");
        mesh.shutdown().await;
    })
    .await
    .expect("bounded");
}

/// Every file's text under `dir` (bytes that are not UTF-8 shown replaced,
/// never left out: a key in binary form must not slip through).
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

async fn defect(d: CertDefect, both_ways: bool, want: &str) {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mesh = Mesh::start(spec(2, d)).await.expect("mesh");
        let (s1, s2) = (mesh.server("ds-1").expect("1").clone(), mesh.server("ds-2").expect("2").clone());
        // ds-1 dials ds-2 first: ds-1 rejects ds-2's certificate, ds-2 logs 105 naming ds-1.
        let ok = s2
            .log()
            .wait_for(WAIT, |rs| {
                rs.iter()
                    .any(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with("/127.0.0.1:"))
            })
            .await;
        assert!(ok, "105 on ds-2 naming ds-1:\n{}", s2.log().replication_lines().join("\n"));
        if both_ways {
            // ds-2 dials ds-1 with its certificate: ds-1 refuses it and logs 105 naming ds-2.
            let ok = s1
                .log()
                .wait_for(WAIT, |rs| {
                    rs.iter().any(|r| {
                        r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with("/127.0.0.2:")
                    })
                })
                .await;
            assert!(ok, "105 on ds-1 naming ds-2:\n{}", s1.log().replication_lines().join("\n"));
            let line = s1
                .log()
                .records()
                .into_iter()
                .find(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with("/127.0.0.2:"))
                .expect("105 naming ds-2");
            assert!(line.args[2].contains(want), "the error names the defect: {}", line.args[2]);
            for s in [&s1, &s2] {
                assert_eq!(
                    s.log().count(|r| r.key == catalog::CONNECTION_TO_RS.key),
                    0,
                    "no 205: the link never formed"
                );
            }
        }
        // The initiator whose handshake failed writes no 205 for that link.
        assert_eq!(s1.log().count(|r| r.is(&catalog::CONNECTION_TO_RS, &["ds-1", "ds-2"])), 0);
        let line = s2
            .log()
            .records()
            .into_iter()
            .find(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with("/127.0.0.1:"))
            .expect("105 naming ds-1");
        assert!(
            line.line.contains(
                "severity=INFORMATION msgID=105 msg=Replication server accepted a connection from /127.0.0.1:"
            ),
            "{}",
            line.line
        );
        assert!(
            s2.log().replication_lines().iter().any(|l| l.contains("msgID=105 ")),
            "INFORMATION: the replication log"
        );
        mesh.shutdown().await;
    })
    .await
    .expect("bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate() {
    defect(CertDefect::Expired, true, "certificate expired on ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_not_yet_valid() {
    defect(CertDefect::NotYetValid, true, "certificate not valid before ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_foreign_ca() {
    defect(CertDefect::ForeignCa, true, "certificate issuer not trusted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_without_the_servers_name() {
    // Only the server name is checked (clients are not): ds-2's own dials get through.
    defect(CertDefect::MissingName, false, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ssl_encryption_the_session_goes_on_in_clear_after_the_start_messages() {
    use futures_util::{SinkExt, StreamExt};
    use harness::codec::ReplCodec;
    use harness::wire::{ReplMsg, StartSession};
    use tokio_util::codec::Framed;
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut spec = spec(2, CertDefect::None);
        for s in &mut spec.servers {
            s.ssl_encryption = false;
        }
        let mesh = Mesh::start(spec).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("links up, TLS then clear");
        // A DS of our own: TLS for the start messages, then clear text.
        let ctx = mesh.pki().expect("pki").contexts("ds-1").expect("contexts");
        let s2 = mesh.server("ds-2").expect("ds-2");
        let tcp = tokio::net::TcpStream::connect(s2.replication_addr()).await.expect("connect");
        let tls = ctx
            .connector
            .connect(harness::pki::server_name("ds-2.example.com").expect("name"), tcp)
            .await
            .expect("TLS");
        let mut framed = Framed::new(tls, ReplCodec::default());
        let start = crate::support::probe_start(8, false);
        framed.send(ReplMsg::ServerStart(start)).await.expect("send over TLS");
        match tokio::time::timeout(WAIT, framed.next()).await.expect("reply") {
            Some(Ok(ReplMsg::ReplServerStartDs(r))) => assert!(!r.ssl_encryption),
            other => panic!("expected the RS's start reply over TLS, got {other:?}"),
        }
        // Both sides drop TLS here: the next messages are clear text on the same socket.
        let tcp = framed.into_inner().into_inner().0;
        let mut clear = Framed::new(tcp, ReplCodec::default());
        let session =
            StartSession { status: 1, assured_flag: 0, assured_mode: 1, safe_data_level: 1, referral_urls: vec![] };
        clear.send(ReplMsg::StartSession(session)).await.expect("send in clear");
        match tokio::time::timeout(WAIT, clear.next()).await.expect("topology") {
            Some(Ok(ReplMsg::Topology(_))) => {}
            other => panic!("expected the topology in clear text, got {other:?}"),
        }
        assert!(
            s2.log()
                .wait_for(WAIT, |rs| rs.iter().any(|r| r.is(&catalog::CONNECTION_FROM_DS, &["ds-2", "probe"])))
                .await
        );
        drop(clear);
        mesh.shutdown().await;
    })
    .await
    .expect("bounded");
}
