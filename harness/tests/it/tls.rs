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

/// ds-2's certificate has `d`. ds-1 dials ds-2 first: ds-1 refuses ds-2's
/// certificate and ds-2 logs 105 with the alert a JDK client sends
/// (`by_alert`); ds-2 dials ds-1: ds-1 refuses ds-2's client certificate
/// and logs 105 with its own trust manager's text (`by_pkix`).
async fn defect(d: CertDefect, by_alert: &str, by_pkix: &str) {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mesh = Mesh::start(spec(2, d)).await.expect("mesh");
        let (s1, s2) = (mesh.server("ds-1").expect("1").clone(), mesh.server("ds-2").expect("2").clone());
        let tls_line = |s: &harness::Server, from: &str| {
            s.log()
                .records()
                .into_iter()
                .find(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with(from))
        };
        // The acceptor names the initiator with the name a reverse lookup gives.
        let from1 = "ds-1.example.com/127.0.0.1:";
        let ok = s2.log().wait_for(WAIT, |rs| rs.iter().any(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with(from1))).await;
        assert!(ok, "105 on ds-2 naming ds-1:\n{}", s2.log().replication_lines().join("\n"));
        let line = tls_line(&s2, from1).expect("105 naming ds-1");
        assert_eq!(line.args[2], by_alert, "ds-2 hears ds-1's alert");
        assert!(line.args[1].starts_with("/127.0.0.2:"), "the local address has no name: {}", line.args[1]);
        assert!(
            line.line.contains("severity=INFORMATION msgID=105 msg=Replication server accepted a connection from ds-1.example.com/127.0.0.1:"),
            "{}",
            line.line
        );
        assert!(s2.log().replication_lines().iter().any(|l| l.contains("msgID=105 ")), "INFORMATION: the replication log");
        let from2 = "ds-2.example.com/127.0.0.2:";
        let ok = s1.log().wait_for(WAIT, |rs| rs.iter().any(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key && r.args[0].starts_with(from2))).await;
        assert!(ok, "105 on ds-1 naming ds-2:\n{}", s1.log().replication_lines().join("\n"));
        assert_eq!(tls_line(&s1, from2).expect("105 naming ds-2").args[2], by_pkix, "ds-1's trust manager speaks");
        for s in [&s1, &s2] {
            assert_eq!(s.log().count(|r| r.key == catalog::CONNECTION_TO_RS.key), 0, "no 205: the link never formed");
        }
        mesh.shutdown().await;
    })
    .await
    .expect("bounded");
}

const VALIDITY: &str =
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate() {
    // DS 7.1 runs on Java 11: jdk11u sends certificate_expired.
    defect(CertDefect::Expired, "Received fatal alert: certificate_expired", VALIDITY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_not_yet_valid() {
    defect(CertDefect::NotYetValid, "Received fatal alert: bad_certificate", VALIDITY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_foreign_ca() {
    defect(
        CertDefect::ForeignCa,
        "Received fatal alert: certificate_unknown",
        "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_without_the_servers_name_is_accepted_as_the_product_accepts_it() {
    // No server code checks host names: the chain is good, the links form.
    tokio::time::timeout(Duration::from_secs(60), async {
        let mesh = Mesh::start(spec(2, CertDefect::MissingName)).await.expect("mesh");
        mesh.wait_all_up(WAIT).await.expect("links up despite the name");
        for s in mesh.servers() {
            assert_eq!(s.log().count(|r| r.key == catalog::SSL_SERVER_CON_ATTEMPT_ERROR.key), 0);
        }
        mesh.shutdown().await;
    })
    .await
    .expect("bounded");
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
