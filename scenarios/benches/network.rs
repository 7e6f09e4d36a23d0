//! The two networks side by side (needs root, `ip` and `nft`): the suite's
//! wall time on each, what a fault costs to notice on each (a refused
//! connect, a connect held by a drop, a live connection under a drop or a
//! reject), and what making test hosts costs. Writes the `network` section
//! of BENCHMARKS.md (run: `cargo bench -p scenarios --bench network`).

#[path = "../../bench-support/report.rs"]
mod bench_report;
use bench_report::{today, write_section};

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use fault_proxy::{ProxyServer, ProxySpec, Toxic};
use netlab::{Lab, Packets, Ports, Rule, Verdict};
use scenarios::network::Network;
use scenarios::plan::Plan;
use scenarios::runner::{self, Outcome, RunOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ms(s: f64) -> String {
    if s < 0.01 {
        format!("{:.2} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// Runs every plan that `network` can play, one at a time.
async fn suite(plans: &[Plan], network: Network) -> (f64, Vec<Outcome>) {
    let opts = RunOptions::new(1);
    let t = Instant::now();
    let mut out = Vec::new();
    for p in plans {
        let Ok(p) = p.clone().on_network(network) else { continue };
        out.push(runner::run(&p, &opts).await);
    }
    (t.elapsed().as_secs_f64(), out)
}

fn socket(fd: OwnedFd) -> TcpSocket {
    TcpSocket::from_std_stream(std::net::TcpStream::from(fd))
}

fn v4(h: &netlab::Host) -> IpAddr {
    IpAddr::V4(h.address())
}

async fn dial_from(h: &netlab::Host, to: SocketAddr, wait: Duration) -> (f64, std::io::Result<TcpStream>) {
    let s = socket(h.tcp_socket(true).expect("socket"));
    s.bind(SocketAddr::new(v4(h), 0)).expect("bind");
    let t = Instant::now();
    let r = match tokio::time::timeout(wait, s.connect(to)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")),
    };
    (t.elapsed().as_secs_f64(), r)
}

async fn listen_in(h: &netlab::Host) -> (TcpListener, SocketAddr) {
    let s = socket(h.tcp_socket(true).expect("socket"));
    s.bind(SocketAddr::new(v4(h), 0)).expect("bind");
    let l = s.listen(128).expect("listen");
    let a = l.local_addr().expect("addr");
    (l, a)
}

fn rule(from: &netlab::Host, to: &netlab::Host, port: u16, packets: Packets, verdict: Verdict) -> Rule {
    Rule {
        from: from.address(),
        from_ports: None,
        to: to.address(),
        to_ports: Some(Ports::one(port)),
        packets,
        verdict,
    }
}

/// Loopback server with a proxy in front; the proxy's listen address.
async fn proxied() -> (ProxyServer, fault_proxy::Proxy, SocketAddr, TcpListener) {
    let server = TcpListener::bind("127.0.0.2:0").await.expect("server");
    let up = server.local_addr().expect("addr");
    let proxies =
        ProxyServer::new(fault_proxy::Options { seed: 1, dial_timeout: Duration::from_secs(5), allow_remote: false });
    let p = proxies.create(ProxySpec::new("bench", "127.0.0.1:0", &up.to_string())).await.expect("proxy");
    let at = p.listen_addr().expect("listening");
    (proxies, p, at, server)
}

fn toxic(body: serde_json::Value) -> Toxic {
    Toxic::from_json(&body).expect("toxic")
}

struct Row(String, String, String, String);

/// A subject with the ports taken out of `host:port` values (a 389
/// consumer's port is whatever the system gave it, in any two runs).
fn without_ports(subject: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = Vec::new();
    for (k, v) in subject {
        let v = match v.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{host}:PORT")
            }
            _ => v.clone(),
        };
        out.push(format!("{k}={v}"));
    }
    out.join(",")
}

#[allow(clippy::too_many_lines)]
async fn measures() -> Vec<Row> {
    let mut rows = Vec::new();
    // Making a lab.
    let mut make2 = Vec::new();
    let mut make10 = Vec::new();
    for _ in 0..ROUNDS {
        for (n, into) in [(2usize, &mut make2), (10, &mut make10)] {
            let names: Vec<String> = (1..=n).map(|i| format!("ds-{i}")).collect();
            let t = Instant::now();
            let lab = tokio::task::spawn_blocking(move || {
                let lab = Lab::create(&names.iter().map(String::as_str).collect::<Vec<_>>()).expect("lab");
                lab.shutdown().expect("shutdown");
            });
            lab.await.expect("blocking");
            into.push(t.elapsed().as_secs_f64());
        }
    }
    rows.push(Row(
        "make and remove a lab: 2 hosts / 10 hosts".into(),
        "—".into(),
        format!("{} / {}", ms(median(make2)), ms(median(make10))),
        "namespaces, bridge, veths, addresses".into(),
    ));

    let lab = tokio::task::spawn_blocking(|| Lab::create(&["a", "b"]).expect("lab")).await.expect("blocking");
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (kl, kat) = listen_in(&b).await;
    let (_proxies, proxy, pat, _server) = proxied().await;

    // A rule change.
    let mut change = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        b.install("f1", &[rule(&a, &b, kat.port(), Packets::All, Verdict::Drop)]).expect("install");
        b.remove("f1").expect("remove");
        change.push(t.elapsed().as_secs_f64() / 2.0);
    }
    let mut toxic_change = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        proxy.add_fault(toxic(serde_json::json!({"type": "drop", "name": "d"}))).await.expect("add");
        proxy.remove_fault("d").await.expect("remove");
        toxic_change.push(t.elapsed().as_secs_f64() / 2.0);
    }
    rows.push(Row(
        "add or remove one fault".into(),
        ms(median(toxic_change)),
        ms(median(change)),
        "netns: one `nft -f` in the host".into(),
    ));

    // Reject: how fast connect() is refused.
    let mut refused = (Vec::new(), Vec::new(), Vec::new());
    proxy.add_fault(toxic(serde_json::json!({"type": "reject", "name": "r"}))).await.expect("reject");
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(pat)).await.expect("answered");
        assert_eq!(r.expect_err("refused").kind(), std::io::ErrorKind::ConnectionRefused);
        refused.0.push(t.elapsed().as_secs_f64());
    }
    proxy.remove_fault("r").await.expect("clear");
    for (verdict, into) in
        [(Verdict::RejectTcpReset, &mut refused.1), (Verdict::RejectIcmpPortUnreachable, &mut refused.2)]
    {
        b.install("r", &[rule(&a, &b, kat.port(), Packets::Opening, verdict)]).expect("reject");
        for _ in 0..ROUNDS {
            let (t, r) = dial_from(&a, kat, Duration::from_secs(5)).await;
            assert_eq!(r.expect_err("refused").kind(), std::io::ErrorKind::ConnectionRefused);
            into.push(t);
        }
        b.remove("r").expect("clear");
    }
    rows.push(Row(
        "reject: `connect()` refused after".into(),
        ms(median(refused.0)),
        format!("RST {} · ICMP {}", ms(median(refused.1)), ms(median(refused.2))),
        "both: ECONNREFUSED".into(),
    ));

    // Drop: a connect started during a 1.5 s drop completes at the SYN retransmission that follows it.
    let hold = Duration::from_millis(1500);
    proxy.add_fault(toxic(serde_json::json!({"type": "drop", "name": "d"}))).await.expect("drop");
    let t = Instant::now();
    let connecting =
        tokio::spawn(async move { tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(pat)).await });
    tokio::time::sleep(hold).await;
    proxy.remove_fault("d").await.expect("clear");
    let through_proxy = connecting.await.expect("task").map(|r| r.is_ok()).unwrap_or(false);
    let proxy_drop = t.elapsed().as_secs_f64();
    let syn_before = a.tcp_counters().expect("counters").syn_retransmits;
    b.install("d", &[rule(&a, &b, kat.port(), Packets::All, Verdict::Drop)]).expect("drop");
    let t = Instant::now();
    let a2 = a.clone();
    let connecting = tokio::spawn(async move { dial_from(&a2, kat, Duration::from_secs(10)).await.1.is_ok() });
    tokio::time::sleep(hold).await;
    b.remove("d").expect("clear");
    let through_kernel = connecting.await.expect("task");
    let kernel_drop = t.elapsed().as_secs_f64();
    let syns = a.tcp_counters().expect("counters").syn_retransmits - syn_before;
    rows.push(Row(
        "drop (1.5 s) of new connections: `connect()` completes after".into(),
        format!("{}{}", ms(proxy_drop), if through_proxy { "" } else { " (failed)" }),
        format!("{}{} ({syns} SYN retransmitted)", ms(kernel_drop), if through_kernel { "" } else { " (failed)" }),
        "the client's own SYN retransmissions on both (this kernel: every 1 s four times, tcp_syn_linear_timeouts = 4, then doubling)".into(),
    ));

    // A live connection under a drop: what the sender's kernel does in 3 s
    // (a listener of its own: the one above still queues the connect that went through).
    let (kl2, kat2) = listen_in(&b).await;
    let mut c = dial_from(&a, kat2, Duration::from_secs(5)).await.1.expect("connect");
    let (mut s, _) = kl2.accept().await.expect("accept");
    let before = a.tcp_counters().expect("counters").retransmitted_segments;
    b.install("d", &[rule(&a, &b, kat2.port(), Packets::All, Verdict::Drop)]).expect("drop");
    c.write_all(b"lost").await.expect("write");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let retrans = a.tcp_counters().expect("counters").retransmitted_segments - before;
    b.remove("d").expect("clear");
    let mut buf = [0u8; 4];
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut buf)).await.expect("delivered").expect("read");
    let delivered = t.elapsed().as_secs_f64();
    rows.push(Row(
        "drop of a live connection, 3 s: the sender's kernel".into(),
        "nothing to notice: the proxy's socket took the bytes".into(),
        format!("{retrans} retransmissions (RTO back-off); delivered {} after the drop ends", ms(delivered)),
        "neither errors before TCP gives up (Linux: ~15 min); the harness's `link_timeout` stands for it".into(),
    ));

    // A live connection under reject with reset_existing: when the client learns.
    let mut p_reset = Vec::new();
    for _ in 0..ROUNDS {
        let mut c =
            tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(pat)).await.expect("t").expect("connect");
        c.write_all(b"x").await.expect("write");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let t = Instant::now();
        proxy
            .add_fault(toxic(
                serde_json::json!({"type": "reject", "name": "r", "attributes": {"reset_existing": true}}),
            ))
            .await
            .expect("reject");
        let mut b1 = [0u8; 1];
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read(&mut b1)).await;
        p_reset.push(t.elapsed().as_secs_f64());
        proxy.remove_fault("r").await.expect("clear");
    }
    let mut k_idle = Vec::new();
    for _ in 0..ROUNDS {
        let mut c = dial_from(&a, kat, Duration::from_secs(5)).await.1.expect("connect");
        let (_s, _) = kl.accept().await.expect("accept");
        b.install("r", &[rule(&a, &b, kat.port(), Packets::NotOpeningNorReset, Verdict::RejectTcpReset)])
            .expect("reject");
        // The client is idle for 100 ms, then sends: the next packet meets the rule.
        let t = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = c.write_all(b"x").await;
        let mut b1 = [0u8; 1];
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read(&mut b1)).await;
        k_idle.push(t.elapsed().as_secs_f64());
        b.remove("r").expect("clear");
    }
    rows.push(Row(
        "reject with `reset_existing`: a live connection learns after".into(),
        format!("{} (the proxy resets it at once)", ms(median(p_reset))),
        format!("{} (at its next packet: idle 100 ms, then sends)", ms(median(k_idle))),
        "a kernel rule acts only on packets that cross it".into(),
    ));
    drop((kl, kl2, s, c));
    tokio::task::spawn_blocking(move || lab.shutdown().expect("shutdown")).await.expect("blocking");
    rows
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Err(why) = netlab::preflight::check() {
        panic!("this benchmark makes network namespaces and nftables rules: {why}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let library = scenarios::suite::load(&[]).expect("library");
    let shared: Vec<Plan> = library
        .iter()
        .filter(|p| p.tags.iter().any(|t| ["firewall", "dns", "flapping"].contains(&t.as_str())))
        .cloned()
        .collect();
    let kernel_only = scenarios::suite::load(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("library-netns")])
        .expect("library-netns");
    let playable = library.iter().filter(|p| (*p).clone().on_network(Network::Netns).is_ok()).count();
    let (report, all_same) = rt.block_on(async {
        scenarios::network::guard_signals(Duration::ZERO);
        let (proxy_all, proxy_out) = suite(&library, Network::Proxy).await;
        let (netns_all, netns_out) = suite(&library, Network::Netns).await;
        let (kernel_t, kernel_out) = suite(&kernel_only, Network::Netns).await;
        let rows = measures().await;
        let passed = |o: &[Outcome]| o.iter().filter(|x| x.passed).count();
        let verdicts = |o: &Outcome| {
            let mut v: Vec<String> = o
                .verdicts
                .iter()
                .map(|v| format!("{} {:?} {}", v.id, v.cause, without_ports(&v.subject)))
                .collect();
            v.sort();
            v
        };
        let mut text = format!(
            "## network (`cargo bench -p scenarios --bench network`, as root)\n\nMeasured {} on this machine (2 cores), one scenario at a time; the netns network needs root. `--network proxy`: loopback and the in-process fault proxy; `--network netns`: a network namespace per server, faults as nftables rules.\n\n",
            today()
        );
        text.push_str("| suite | proxy | netns |\n|---|---|---|\n");
        let _ = writeln!(
            text,
            "| bundled suite ({} scenarios; {} without a fault the kernel cannot play) | {:.1} s, {} of {} passed | {:.1} s, {} of {} passed |",
            library.len(),
            playable,
            proxy_all,
            passed(&proxy_out),
            proxy_out.len(),
            netns_all,
            passed(&netns_out),
            netns_out.len()
        );
        // The proxy's time over the same scenarios as the netns run.
        let same_set: f64 =
            proxy_out.iter().filter(|o| netns_out.iter().any(|n| n.name == o.name)).map(|o| o.seconds).sum();
        let netns_sum: f64 = netns_out.iter().map(|o| o.seconds).sum();
        let _ = writeln!(
            text,
            "| the {} scenarios both networks play (sum of scenario times) | {:.1} s | {:.1} s |",
            netns_out.len(),
            same_set,
            netns_sum
        );
        let mut all_same = true;
        let mut per = String::new();
        for p in &shared {
            let (a, b) = (
                proxy_out.iter().find(|o| o.name == p.name).expect("ran"),
                netns_out.iter().find(|o| o.name == p.name).expect("ran"),
            );
            let same = verdicts(a) == verdicts(b) && a.passed == b.passed;
            all_same &= same;
            let _ = writeln!(
                per,
                "| {} | {:.1} s{} | {:.1} s{} | {} |",
                p.name,
                a.seconds,
                if a.passed { "" } else { " FAIL" },
                b.seconds,
                if b.passed { "" } else { " FAIL" },
                if same { "yes" } else { "**no**" }
            );
        }
        let _ = writeln!(
            text,
            "| kernel-only scenarios (`scenarios/library-netns/`, {}) | — | {:.1} s, {} passed |",
            kernel_only.len(),
            kernel_t,
            passed(&kernel_out)
        );
        text.push_str("\nThe scenarios tagged `firewall`, `dns` or `flapping`, on each network (same verdicts: ids, causes and subjects equal, the ports of `host:port` aside, which the system picks anew in every run):\n\n| scenario | proxy | netns | same verdicts |\n|---|---|---|---|\n");
        text.push_str(&per);
        text.push_str("\nWhat a fault costs to notice (medians of 5 where repeated):\n\n| measure | proxy | netns | note |\n|---|---|---|---|\n");
        for Row(a, b, c, d) in rows {
            let _ = writeln!(text, "| {a} | {b} | {c} | {d} |");
        }
        (text, all_same)
    });
    write_section("network", &report);
    print!("{report}");
    assert!(all_same, "the shared scenarios reached other verdicts on the two networks");
}
