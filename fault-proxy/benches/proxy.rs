//! fault-proxy against direct loopback and, when their binaries are given
//! (`-- --toxiproxy PATH --noxious PATH`, or `TOXIPROXY_SERVER` /
//! `NOXIOUS_SERVER`; see bench-support/peers.rs), Toxiproxy and noxious, in
//! the same run: throughput of 1 GiB and the proxy's CPU seconds per GiB,
//! added 64-byte round-trip time and the proxy's CPU per round trip, and a
//! 16 MiB stream under a 10 ms latency fault. Medians of several rounds,
//! every path interleaved in each round. Writes its section of BENCHMARKS.md
//! (run: `cargo bench -p fault-proxy --bench proxy`).
//!
//! Each proxy is its own process, driven through its HTTP API like any
//! Toxiproxy client would; sender and sink are plain blocking sockets in
//! this process.

#[path = "../../bench-support/report.rs"]
mod bench_report;
#[path = "../../bench-support/peers.rs"]
mod peers;
use bench_report::{today, write_section};
use peers::{load, median, pct, Kind, Peer};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

const GIB: u64 = 1 << 30;
const ROUNDS: usize = 5;

/// A sink that answers "OK" after `total` bytes on each connection.
fn sink(total: u64) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind sink");
    let addr = l.local_addr().expect("addr");
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 20];
                let mut got = 0u64;
                while got < total {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got += n as u64,
                    }
                }
                let _ = s.write_all(b"OK");
            });
        }
    });
    addr
}

/// An echo server for round trips.
fn echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind echo");
    let addr = l.local_addr().expect("addr");
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_nodelay(true);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Seconds to push `total` bytes in 1 MiB writes and get the sink's "OK".
fn push(to: SocketAddr, total: u64) -> f64 {
    let mut s = TcpStream::connect(to).expect("connect");
    let chunk = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let n = chunk.len().min((total - sent) as usize);
        s.write_all(&chunk[..n]).expect("write");
        sent += n as u64;
    }
    let mut ok = [0u8; 2];
    s.read_exact(&mut ok).expect("OK");
    start.elapsed().as_secs_f64()
}

/// 64-byte ping-pong round trips, in µs, sorted.
fn rtt_conn(to: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(to).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    rtts(&mut s, 200, &mut Vec::new());
    s
}

/// `n` 64-byte ping-pong round trips on `s`, in µs, appended to `out`.
fn rtts(s: &mut TcpStream, n: usize, out: &mut Vec<f64>) {
    let msg = [7u8; 64];
    let mut back = [0u8; 64];
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&msg).expect("write");
        s.read_exact(&mut back).expect("read");
        out.push(t.elapsed().as_secs_f64() * 1e6);
    }
}

/// One path's numbers, medians over the rounds.
#[derive(Debug, Default, Clone)]
struct Path {
    name: String,
    kind: Option<Kind>,
    gib_s: Vec<f64>,
    cpu_per_gib: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    cpu_us_per_rt: Vec<f64>,
    lat16: Vec<f64>,
}

/// A path's targets: where its bulk, echo and latency traffic goes.
struct Target {
    peer: Option<Peer>,
    bulk: SocketAddr,
    rtt: SocketAddr,
    lat: SocketAddr,
}

/// Round trips: this many batches per path, each of RTT_BATCH.
const RTT_BATCHES: usize = 50;
const RTT_BATCH: usize = 1000;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let load_before = load();
    let gib_sink = sink(GIB);
    let e = echo();
    let mib16 = 16u64 << 20;
    let s16 = sink(mib16);
    let bins = peers::binaries(env!("CARGO_BIN_EXE_fault-proxy"));
    let mut targets = vec![Target { peer: None, bulk: gib_sink, rtt: e, lat: s16 }];
    let mut paths = vec![Path { name: "direct".into(), ..Path::default() }];
    for bin in &bins {
        let peer = Peer::start(bin);
        let bulk = peer.create("bulk", gib_sink, "");
        let rtt = peer.create("rtt", e, "");
        // The 16 MiB in flight under 10 ms fit fault-proxy's budget only if it is raised.
        let lat = peer.create("latency", s16, r#""buffer_bytes":33554432"#);
        let code = peer
            .add_toxic("latency", r#"{"name":"lat","type":"latency","stream":"upstream","attributes":{"latency":10}}"#);
        assert!((200..300).contains(&code), "{}: latency toxic {code}", bin.kind.name());
        targets.push(Target { peer: Some(peer), bulk, rtt, lat });
        paths.push(Path { name: bin.label.clone(), kind: Some(bin.kind), ..Path::default() });
    }
    for round in 0..ROUNDS {
        eprintln!("round {}/{ROUNDS}: 1 GiB and 16 MiB under 10 ms, through {} paths", round + 1, paths.len());
        for (t, p) in targets.iter().zip(paths.iter_mut()) {
            let cpu = |t: &Target| t.peer.as_ref().map_or(0.0, Peer::cpu);
            let before = cpu(t);
            let secs = push(t.bulk, GIB);
            p.gib_s.push(1.0 / secs);
            p.cpu_per_gib.push(cpu(t) - before);
            p.lat16.push(push(t.lat, mib16));
            eprintln!(
                "  {}: {:.2} GiB/s, 16 MiB under 10 ms {:.1} ms",
                p.name,
                1.0 / secs,
                p.lat16.last().copied().unwrap_or(0.0) * 1e3
            );
        }
    }
    // Round trips in short batches, every path in turn, so a burst of load
    // from the machine's other users falls on all paths alike.
    eprintln!("round trips: {RTT_BATCHES} batches of {RTT_BATCH} per path, interleaved");
    let mut conns: Vec<TcpStream> = targets.iter().map(|t| rtt_conn(t.rtt)).collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    let mut cpu_s = vec![0.0; targets.len()];
    for _ in 0..RTT_BATCHES {
        for (i, t) in targets.iter().enumerate() {
            let before = t.peer.as_ref().map_or(0.0, Peer::cpu);
            rtts(&mut conns[i], RTT_BATCH, &mut samples[i]);
            cpu_s[i] += t.peer.as_ref().map_or(0.0, Peer::cpu) - before;
        }
    }
    for (i, p) in paths.iter_mut().enumerate() {
        let r = &mut samples[i];
        r.sort_by(f64::total_cmp);
        p.p50.push(pct(r, 0.5));
        p.p99.push(pct(r, 0.99));
        p.cpu_us_per_rt.push(cpu_s[i] * 1e6 / r.len() as f64);
        eprintln!("  {}: p50 {:.1} us, p99 {:.1} us", p.name, pct(r, 0.5), pct(r, 0.99));
    }
    let report = report(&paths, &load_before, &load());
    print!("{report}");
    write_section("fault-proxy", &report);
}

fn report(paths: &[Path], load_before: &str, load_after: &str) -> String {
    let m = |v: &Vec<f64>| median(v.clone());
    let d = &paths[0];
    let (d_gib, d50, d99) = (m(&d.gib_s), m(&d.p50), m(&d.p99));
    let d16 = m(&d.lat16);
    let ideal = 0.010 + d16;
    let fp = &paths[1];
    let fp_added = m(&fp.p50) - d50;
    let nox_added = paths.iter().find(|p| p.kind == Some(Kind::Noxious)).map(|p| m(&p.p50) - d50);
    let mut out = format!(
        "## fault-proxy (`cargo bench -p fault-proxy --bench proxy`)\n\n\
         Measured {date} on this machine, {load_before} at the start and {load_after} at the end (shared with other \
         engineers' builds and tests: figures are noisy, ratios within one run are what to compare). Loopback, each \
         proxy its own release process, medians of {ROUNDS} rounds with every path interleaved in each round \
         (round trips: {RTT_BATCHES} batches of {RTT_BATCH} per path, the paths taking turns, percentiles over all). Peers built from their public source (`shared/reference/building-peers.md`). \
         The 16 MiB latency case runs fault-proxy with `buffer_bytes` 32 MiB, so the bytes in flight fit; \
         ideal = 10 ms + the direct transfer time.\n\n\
         | path | 1 GiB | vs direct | proxy CPU per GiB | 64 B RTT p50 | added p50 | p99 | proxy CPU per round trip | 16 MiB under 10 ms | vs ideal |\n\
         |---|---|---|---|---|---|---|---|---|---|\n\
         | direct | {d_gib:.2} GiB/s | 1.00× | — | {d50:.1} µs | — | {d99:.1} µs | — | {d16ms:.1} ms (no fault) | — |\n",
        date = today(),
        d16ms = d16 * 1e3,
    );
    for p in &paths[1..] {
        out += &format!(
            "| {} | {:.2} GiB/s | {:.2}× | {:.3} CPU-s | {:.1} µs | {:+.1} µs | {:.1} µs | {:.1} µs | {:.1} ms | {:.2}× |\n",
            p.name,
            m(&p.gib_s),
            m(&p.gib_s) / d_gib,
            m(&p.cpu_per_gib),
            m(&p.p50),
            m(&p.p50) - d50,
            m(&p.p99),
            m(&p.cpu_us_per_rt),
            m(&p.lat16) * 1e3,
            m(&p.lat16) / ideal,
        );
    }
    let mut goals = vec![
        format!("throughput ≥ 0.9× direct: {:.2}× ({})", m(&fp.gib_s) / d_gib, yes(m(&fp.gib_s) / d_gib >= 0.9)),
        format!("16 MiB under 10 ms ≤ 1.2× ideal: {:.2}× ({})", m(&fp.lat16) / ideal, yes(m(&fp.lat16) <= 1.2 * ideal)),
    ];
    for peer in paths.iter().filter(|p| !matches!(p.kind, None | Some(Kind::FaultProxy))) {
        goals.push(format!(
            "throughput ahead of {}: {:.2}× theirs ({})",
            peer.name,
            m(&fp.gib_s) / m(&peer.gib_s),
            yes(m(&fp.gib_s) > m(&peer.gib_s))
        ));
    }
    if let Some(nox) = nox_added {
        goals.push(format!(
            "added p50 RTT ≤ 0.75× noxious's: {fp_added:+.1} µs vs {nox:+.1} µs, {:.2}× ({})",
            fp_added / nox,
            yes(fp_added <= 0.75 * nox)
        ));
    }
    out += "\nGoals (issue 14), this run: ";
    out += &goals.join("; ");
    out += ".\n";
    out
}

fn yes(b: bool) -> &'static str {
    if b {
        "met"
    } else {
        "**not met**"
    }
}
