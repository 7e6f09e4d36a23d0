//! Connectivity probes run at the end of a scenario, from each server to each
//! peer's replication and admin ports, along the same paths the servers use
//! (through the fault proxy where the topology puts it; on the netns
//! network from the server's own test host, its sockets made there),
//! loopback or the run's own test hosts only.
//!
//! A proxy accepts before it can know whether its upstream answers; when the
//! upstream refuses, the proxy resets the client at once. A connection reset
//! right after it was accepted therefore reads as `refused`; a server that
//! accepts and closes politely (the mock admin port) reads as `ok`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::AsyncReadExt;

use harness::{testnet, Mesh};

/// One line of `probes.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeLine {
    pub from: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub kind: &'static str,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub elapsed_ms: u64,
}

/// How a TCP attempt ended.
async fn tcp(from: IpAddr, to: SocketAddr, wait: Duration) -> &'static str {
    if !testnet::may_dial(from, to.ip()) {
        return "timeout";
    }
    let Ok(socket) = testnet::socket(from, to.is_ipv4()) else { return "refused" };
    if testnet::bindable(from) && from.is_ipv4() == to.is_ipv4() {
        let _ = socket.bind(SocketAddr::new(from, 0));
    }
    let mut stream = match tokio::time::timeout(wait, socket.connect(to)).await {
        Err(_) => return "timeout",
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return "refused",
        Ok(Err(_)) => return "refused",
        Ok(Ok(s)) => s,
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(wait.min(Duration::from_millis(30)), stream.read(&mut byte)).await {
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => "refused",
        _ => "ok",
    }
}

/// A TLS handshake with the prober's own trust and certificate: `ok`, or
/// `tls-error` with the defect found.
async fn tls(
    from: IpAddr,
    to: SocketAddr,
    host: &str,
    ctx: &harness::pki::TlsContexts,
    wait: Duration,
) -> (&'static str, Option<String>) {
    if !testnet::may_dial(from, to.ip()) {
        return ("timeout", None);
    }
    let Ok(socket) = testnet::socket(from, to.is_ipv4()) else {
        return ("refused", None);
    };
    if testnet::bindable(from) && from.is_ipv4() == to.is_ipv4() {
        let _ = socket.bind(SocketAddr::new(from, 0));
    }
    let stream = match tokio::time::timeout(wait, socket.connect(to)).await {
        Err(_) => return ("timeout", None),
        Ok(Err(_)) => return ("refused", None),
        Ok(Ok(s)) => s,
    };
    let Ok(name) = harness::pki::server_name(host) else {
        return ("tls-error", Some(format!("{host:?} is not a valid server name")));
    };
    match tokio::time::timeout(wait, ctx.connector.connect(name, stream)).await {
        Err(_) => ("timeout", None),
        Ok(Ok(_)) => ("ok", None),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => ("refused", None),
        Ok(Err(e)) => ("tls-error", Some(harness::pki::describe(&e))),
    }
}

/// Every probe, from every server to every other one.
pub async fn run(mesh: &Mesh, wait: Duration) -> Vec<ProbeLine> {
    let mut out = Vec::new();
    let servers: Vec<_> = mesh.servers().iter().map(|s| s.config()).collect();
    for a in &servers {
        let from_ip = a.bind_ip();
        for b in servers.iter().filter(|b| b.name != a.name) {
            let t = Instant::now();
            let lookup = mesh.hosts().lookup_from(&a.name, &b.host);
            let ms = |t: Instant| t.elapsed().as_millis() as u64;
            match &lookup {
                Ok(addrs) => out.push(ProbeLine {
                    from: a.name.clone(),
                    target: b.host.clone(),
                    port: None,
                    kind: "dns",
                    outcome: "resolved",
                    address: addrs.first().map(|x| x.to_string()),
                    detail: None,
                    elapsed_ms: ms(t),
                }),
                Err(_) => {
                    out.push(ProbeLine {
                        from: a.name.clone(),
                        target: b.host.clone(),
                        port: None,
                        kind: "dns",
                        outcome: "nxdomain",
                        address: None,
                        detail: None,
                        elapsed_ms: ms(t),
                    });
                    continue;
                }
            }
            let mut ports = vec![b.admin_port];
            if b.rs {
                ports.insert(0, b.replication_port);
            }
            for port in ports {
                let Ok(to) = mesh.hosts().resolve(&a.name, &b.host, port) else { continue };
                let t = Instant::now();
                let outcome = tcp(from_ip, to, wait).await;
                out.push(ProbeLine {
                    from: a.name.clone(),
                    target: b.host.clone(),
                    port: Some(port),
                    kind: "tcp",
                    outcome,
                    address: None,
                    detail: None,
                    elapsed_ms: ms(t),
                });
            }
            // TLS towards a TLS replication port, with the prober's own trust.
            let ctx = mesh.pki().filter(|_| a.tls && b.tls && b.rs).and_then(|p| p.contexts(&a.name).ok());
            if let (Some(ctx), Ok(to)) = (ctx, mesh.hosts().resolve(&a.name, &b.host, b.replication_port)) {
                let t = Instant::now();
                let (outcome, detail) = tls(from_ip, to, &b.host, &ctx, wait).await;
                out.push(ProbeLine {
                    from: a.name.clone(),
                    target: b.host.clone(),
                    port: Some(b.replication_port),
                    kind: "tls",
                    outcome,
                    address: None,
                    detail,
                    elapsed_ms: ms(t),
                });
            }
        }
    }
    out
}
