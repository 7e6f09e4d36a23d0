//! Labs on the real kernel: these tests need root, `ip` and `nft`. Without
//! them they fail, saying why (CI runs them as root; they are never skipped).

use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::Duration;

use netlab::{Lab, Packets, Ports, Rule, Verdict};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Generous bound on every wait that should succeed.
const WAIT: Duration = Duration::from_secs(10);

fn need_root() {
    if let Err(why) = netlab::preflight::check() {
        panic!("this test makes network namespaces and nftables rules: {why}");
    }
}

fn lab(names: &[&str]) -> Lab {
    need_root();
    Lab::create(names).expect("lab")
}

fn socket(fd: OwnedFd) -> TcpSocket {
    TcpSocket::from_std_stream(std::net::TcpStream::from(fd))
}

async fn listen(lab: &Lab, host: &str) -> (TcpListener, SocketAddr) {
    let h = lab.host(host).expect("host");
    let s = socket(h.tcp_socket(true).expect("socket"));
    s.bind(SocketAddr::new(IpAddr::V4(h.address()), 0)).expect("bind");
    let l = s.listen(64).expect("listen");
    let a = l.local_addr().expect("addr");
    (l, a)
}

async fn dial(lab: &Lab, host: &str, to: SocketAddr, wait: Duration) -> std::io::Result<TcpStream> {
    let h = lab.host(host).expect("host");
    let s = socket(h.tcp_socket(true)?);
    s.bind(SocketAddr::new(IpAddr::V4(h.address()), 0))?;
    match tokio::time::timeout(wait, s.connect(to)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")),
    }
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

#[tokio::test]
async fn hosts_reach_each_other_from_their_own_addresses_and_leave_nothing_behind() {
    let lab = lab(&["ds-1", "ds-2"]);
    let names: Vec<String> =
        std::iter::once(lab.switch().to_owned()).chain(lab.hosts().iter().map(|h| h.netns().to_owned())).collect();
    let now = netlab::namespaces();
    assert!(names.iter().all(|n| now.contains(n)), "{names:?} in {now:?}");
    assert!(names.iter().all(|n| n.contains(&format!("-{}-", std::process::id()))), "the owner's pid in {names:?}");
    let (l, at) = listen(&lab, "ds-2").await;
    assert!(netlab::in_test_range(match at.ip() {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => panic!("v4"),
    }));
    let mut c = dial(&lab, "ds-1", at, WAIT).await.expect("connect");
    let (mut s, peer) = tokio::time::timeout(WAIT, l.accept()).await.expect("accept in time").expect("accept");
    assert_eq!(peer.ip(), IpAddr::V4(lab.host("ds-1").expect("h").address()), "the server sees the host's address");
    c.write_all(b"ping").await.expect("write");
    let mut buf = [0u8; 4];
    tokio::time::timeout(WAIT, s.read_exact(&mut buf)).await.expect("read in time").expect("read");
    assert_eq!(&buf, b"ping");
    // The machine's own namespace cannot reach a test host: nothing was made there.
    let outside = TcpSocket::new_v4().expect("socket");
    let r = tokio::time::timeout(Duration::from_secs(2), outside.connect(at)).await;
    assert!(!matches!(r, Ok(Ok(_))), "the root namespace has no way to {at}");
    drop((c, s, l));
    lab.shutdown().expect("shutdown");
    let now = netlab::namespaces();
    assert!(names.iter().all(|n| !now.contains(n)), "{names:?} still in {now:?}");
    lab.shutdown().expect("a second shutdown is a no-op");
}

#[tokio::test]
async fn a_dropped_lab_removes_its_namespaces() {
    let lab = lab(&["x"]);
    let ns = lab.hosts()[0].netns().to_owned();
    drop(lab);
    assert!(!netlab::namespaces().contains(&ns));
}

#[tokio::test]
async fn drop_silences_new_connections_and_reject_refuses_them() {
    let lab = lab(&["a", "b"]);
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (_l, at) = listen(&lab, "b").await;
    b.install("f1", &[rule(&a, &b, at.port(), Packets::All, Verdict::Drop)]).expect("drop");
    let e = dial(&lab, "a", at, Duration::from_millis(600)).await.expect_err("no answer");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    b.install("f1", &[rule(&a, &b, at.port(), Packets::Opening, Verdict::RejectTcpReset)]).expect("reject");
    let e = dial(&lab, "a", at, WAIT).await.expect_err("refused");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
    b.install("f1", &[rule(&a, &b, at.port(), Packets::Opening, Verdict::RejectIcmpPortUnreachable)]).expect("icmp");
    let e = dial(&lab, "a", at, WAIT).await.expect_err("refused");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
    assert!(b.ruleset().expect("ruleset").contains("reject"), "the rule is in b's own table");
    assert!(!a.ruleset().expect("ruleset").contains("reject"), "and only there");
    b.remove("f1").expect("remove");
    dial(&lab, "a", at, WAIT).await.expect("open again");
}

#[tokio::test]
async fn a_drop_on_a_live_connection_holds_data_that_retransmits_deliver_once_it_ends() {
    let lab = lab(&["a", "b"]);
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (l, at) = listen(&lab, "b").await;
    let mut c = dial(&lab, "a", at, WAIT).await.expect("connect");
    let (mut s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("in time").expect("accept");
    let before = a.tcp_counters().expect("counters");
    b.install("f1", &[rule(&a, &b, at.port(), Packets::All, Verdict::Drop)]).expect("drop");
    c.write_all(b"held").await.expect("write");
    let mut buf = [0u8; 4];
    let r = tokio::time::timeout(Duration::from_millis(700), s.read_exact(&mut buf)).await;
    assert!(r.is_err(), "nothing passes while the drop is on");
    b.remove("f1").expect("remove");
    tokio::time::timeout(WAIT, s.read_exact(&mut buf)).await.expect("delivered by a retransmit").expect("read");
    assert_eq!(&buf, b"held");
    let after = a.tcp_counters().expect("counters");
    assert!(after.retransmitted_segments > before.retransmitted_segments, "{before:?} -> {after:?}");
}

#[tokio::test]
async fn random_loss_costs_retransmits_but_no_byte() {
    let lab = lab(&["a", "b"]);
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (l, at) = listen(&lab, "b").await;
    let mut c = dial(&lab, "a", at, WAIT).await.expect("connect");
    let (mut s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("in time").expect("accept");
    b.install("loss", &[rule(&a, &b, at.port(), Packets::All, Verdict::DropRandomly { per_10000: 2000 })])
        .expect("loss");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        c.write_all(&sent).await.expect("write");
        c.shutdown().await.expect("fin");
        c
    });
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut got)).await.expect("in time").expect("read");
    assert_eq!(got, data, "TCP delivers every byte, in order");
    let _c = tokio::time::timeout(WAIT, writer).await.expect("writer in time").expect("writer");
    // About 70 wire-size segments (not 2 veth super-packets): 20% of them lost is never none.
    let r = a.tcp_counters().expect("counters").retransmitted_segments;
    assert!(r >= 3, "20% loss of ~70 segments costs retransmits: {r}");
}

#[test]
fn sweep_removes_a_dead_owners_namespaces_and_never_a_live_ones() {
    need_root();
    // pid 1 is alive (its real start time); a pid above pid_max never ran.
    let init_start = std::fs::read_to_string("/proc/1/stat").ok().as_deref().and_then(netlab::names::start_time);
    let live = netlab::names::name(netlab::names::Owner { pid: 1, start: init_start.expect("pid 1") }, 1, "sw");
    let dead = netlab::names::name(netlab::names::Owner { pid: 4_194_400, start: 5 }, 1, "sw");
    for n in [&live, &dead] {
        netlab::cmd::ip_batch(None, false, &[format!("netns add {n}")]).expect("netns add");
    }
    // Labs of tests running alongside sweep too: the dead one may be gone already.
    let removed = netlab::sweep().expect("sweep");
    let now = netlab::namespaces();
    let cleanup = netlab::cmd::ip_batch(None, true, &[format!("netns delete {live}")]);
    assert!(!now.contains(&dead), "the dead owner's is gone (removed here: {removed:?})");
    assert!(!removed.contains(&live) && now.contains(&live), "the live owner's stays: {removed:?}");
    cleanup.expect("remove the test's own namespace");
}

#[tokio::test]
async fn a_hosts_settings_are_its_own_and_icmp_errors_are_not_rate_limited() {
    let lab = lab(&["a", "b"]);
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (_l, at) = listen(&lab, "b").await;
    b.install("r", &[rule(&a, &b, at.port(), Packets::Opening, Verdict::RejectIcmpPortUnreachable)]).expect("icmp");
    // Far past the kernel's default burst of 6 ICMP errors a second to one peer.
    for i in 0..40 {
        // Under the 1 s SYN retransmission: a rate-limited (unanswered) SYN would time out.
        let e = dial(&lab, "a", at, Duration::from_millis(500)).await.expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "attempt {i}: {e}");
    }
    let root = std::fs::read_to_string("/proc/sys/net/ipv4/icmp_ratelimit").expect("root's setting");
    assert_ne!(root.trim(), "", "the machine's own setting is untouched ({root:?})");
    assert!(b.sysctl("/etc/passwd", "x").is_err(), "only network settings");
}

#[tokio::test]
async fn a_rate_limit_polices_and_tcp_backs_off_without_losing_a_byte() {
    let lab = lab(&["a", "b"]);
    let (a, b) = (lab.host("a").expect("a").clone(), lab.host("b").expect("b").clone());
    let (l, at) = listen(&lab, "b").await;
    let mut c = dial(&lab, "a", at, WAIT).await.expect("connect");
    let (mut s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("in time").expect("accept");
    let rate = Verdict::DropOverRate { bytes_per_second: 200_000, burst_bytes: 20_000 };
    b.install("bw", &[rule(&a, &b, at.port(), Packets::All, rate)]).expect("policer");
    assert!(b.ruleset().expect("ruleset").contains("limit rate over 200000 bytes/second"));
    let before = a.tcp_counters().expect("counters").retransmitted_segments;
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 253) as u8).collect();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        c.write_all(&sent).await.expect("write");
        c.shutdown().await.expect("fin");
        c
    });
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut got)).await.expect("in time").expect("read");
    assert_eq!(got, data, "every byte, in order");
    let _c = tokio::time::timeout(WAIT, writer).await.expect("writer in time").expect("writer");
    let after = a.tcp_counters().expect("counters").retransmitted_segments;
    assert!(after > before, "what the policer dropped was sent again ({before} -> {after})");
}
