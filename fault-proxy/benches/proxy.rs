//! fault-proxy against direct loopback, in the same run: throughput of 1 GiB,
//! proxy CPU seconds per GiB, added 64-byte round-trip time, and a 16 MiB
//! stream under a 10 ms latency fault. Medians of several rounds, interleaved.
//! Writes its section of BENCHMARKS.md (run: `cargo bench -p fault-proxy`).
//!
//! The proxy is the release binary, run as its own process, driven through
//! its HTTP API like any Toxiproxy client would; sender and sink are plain
//! blocking sockets in this process.

#[path = "../../bench-support/report.rs"]
mod bench_report;
use bench_report::{today, write_section};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
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
fn rtts(to: SocketAddr, n: usize) -> Vec<f64> {
    let mut s = TcpStream::connect(to).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let msg = [7u8; 64];
    let mut back = [0u8; 64];
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 1000 {
        let t = Instant::now();
        s.write_all(&msg).expect("write");
        s.read_exact(&mut back).expect("read");
        if i >= 1000 {
            out.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A minimal HTTP/1.1 client for the proxy's API.
fn api(api: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(api).expect("api");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response");
    resp
}

struct Proxy {
    child: Child,
    api: SocketAddr,
}

impl Proxy {
    fn start() -> Proxy {
        let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
            .args(["--api", &port.to_string(), "--seed", "1"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fault-proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("banner");
        Proxy { child, api: port }
    }

    fn create(&self, name: &str, upstream: SocketAddr) -> SocketAddr {
        let body = format!(r#"{{"name":"{name}","listen":"127.0.0.1:0","upstream":"{upstream}"}}"#);
        let resp = api(self.api, "POST", "/proxies", &body);
        let at = resp.find("\"listen\":\"").expect("listen in response") + 10;
        resp[at..resp[at..].find('"').expect("end") + at].parse().expect("listen addr")
    }

    /// utime + stime of the proxy process, seconds.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("stat");
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
        ticks / 100.0
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let proxy = Proxy::start();
    let gib_sink = sink(GIB);
    let through = proxy.create("bulk", gib_sink);
    eprintln!("throughput: 1 GiB × {ROUNDS} rounds each, direct and proxied, interleaved");
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    let mut cpu = 0.0;
    for _ in 0..ROUNDS {
        direct.push(push(gib_sink, GIB));
        let before = proxy.cpu();
        proxied.push(push(through, GIB));
        cpu += proxy.cpu() - before;
    }
    let (d, p) = (median(direct), median(proxied));
    let cpu_per_gib = cpu / ROUNDS as f64;

    eprintln!("round trips: 64 B × 20000");
    let e = echo();
    let pe = proxy.create("rtt", e);
    let (mut d50, mut d99, mut p50, mut p99) = (vec![], vec![], vec![], vec![]);
    for _ in 0..3 {
        let r = rtts(e, 20_000);
        d50.push(pct(&r, 0.5));
        d99.push(pct(&r, 0.99));
        let r = rtts(pe, 20_000);
        p50.push(pct(&r, 0.5));
        p99.push(pct(&r, 0.99));
    }
    let (d50, d99, p50, p99) = (median(d50), median(d99), median(p50), median(p99));

    eprintln!("16 MiB under a 10 ms latency fault");
    let mib16 = 16u64 << 20;
    let s16 = sink(mib16);
    let lat = proxy.create("latency", s16);
    let resp = api(
        proxy.api,
        "POST",
        "/proxies/latency/toxics",
        r#"{"type":"latency","stream":"upstream","attributes":{"latency":10}}"#,
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let (mut direct16, mut lat16) = (vec![], vec![]);
    for _ in 0..ROUNDS {
        direct16.push(push(s16, mib16));
        lat16.push(push(lat, mib16));
    }
    let (direct16, lat16) = (median(direct16), median(lat16));
    let budget = 0.010 + direct16;

    let gibs = |secs: f64| 1.0 / secs;
    let ratio = d / p;
    let report = format!(
        "## fault-proxy (`cargo bench -p fault-proxy`)\n\n\
         Measured {date} on this machine ({cores} cores), loopback, proxy as its own release process, \
         medians of {ROUNDS} rounds (RTT: of 3 runs of 20000), direct and proxied interleaved in the same run.\n\n\
         | measure | direct | fault-proxy | result | goal | met |\n\
         |---|---|---|---|---|---|\n\
         | 1 GiB throughput, no fault | {dg:.2} GiB/s | {pg:.2} GiB/s | {ratio:.2}× direct | ≥ 0.75× direct | {m1} |\n\
         | proxy CPU per GiB | — | {cpu_per_gib:.3} CPU-s | {cpu_per_gib:.3} CPU-s/GiB | ≤ 0.35 CPU-s/GiB | {m2} |\n\
         | 64 B round trip p50 | {d50:.1} µs | {p50:.1} µs | {a50:+.1} µs | ≤ +20 µs | {m3} |\n\
         | 64 B round trip p99 | {d99:.1} µs | {p99:.1} µs | {a99:+.1} µs | — | — |\n\
         | 16 MiB, 10 ms latency fault | {d16:.1} ms (no fault) | {l16:.1} ms | {r16:.2}× (10 ms + transfer) | ≤ 1.2× | {m4} |\n\n\
         For comparison, the reference's measurements on the same kind of machine: noxious reaches about half of direct \
         throughput, Toxiproxy about a fifth; noxious adds ≈ 32 µs and Toxiproxy ≈ 46 µs to p50; 16 MiB under a 10 ms \
         latency toxic took Toxiproxy 35 ms and noxious 7.76 s.\n",
        date = today(),
        cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        dg = gibs(d),
        pg = gibs(p),
        m1 = yes(ratio >= 0.75),
        m2 = yes(cpu_per_gib <= 0.35),
        a50 = p50 - d50,
        a99 = p99 - d99,
        m3 = yes(p50 - d50 <= 20.0),
        d16 = direct16 * 1e3,
        l16 = lat16 * 1e3,
        r16 = lat16 / budget,
        m4 = yes(lat16 <= 1.2 * budget),
    );
    print!("{report}");
    write_section("fault-proxy", &report);
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "**no**"
    }
}
