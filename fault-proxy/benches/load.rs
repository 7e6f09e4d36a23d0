//! fault-proxy under load, side by side with Toxiproxy and noxious when
//! their binaries are given (`-- --toxiproxy PATH --noxious PATH`, or
//! `TOXIPROXY_SERVER` / `NOXIOUS_SERVER`; see bench-support/peers.rs), and
//! against direct loopback:
//!
//! - **held**: N connections (8,000; `--conns N`) opened one after another
//!   through one proxy to an echo server, then every one pinged at once:
//!   the time to open them all, how many echo, descriptors and KiB of RSS
//!   each costs the proxy. Rounds interleaved, each proxy a fresh process.
//! - **streams**: 200 streams at 1 MB/s each while a 1 ms latency toxic is
//!   added and removed 500 times: each API call's latency, the proxy's peak
//!   RSS, and whether every stream arrived byte-exact.
//!
//! Writes the `fault-proxy-load` section of BENCHMARKS.md.

#[path = "../../bench-support/report.rs"]
mod bench_report;
#[path = "../../bench-support/peers.rs"]
mod peers;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_report::{today, write_section};
use peers::{load, median, pct, Peer, PeerBin};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ROUNDS: usize = 3;
const STREAMS: usize = 200;
const CYCLES: usize = 500;
/// The streams phase stops cycling after this long, whatever the count.
const CYCLE_DEADLINE: Duration = Duration::from_secs(90);
/// One stream's pace: a block every TICK.
const BLOCK: usize = 16 * 1024;
const TICK: Duration = Duration::from_millis(16);
const WAIT: Duration = Duration::from_secs(15);

async fn echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { continue };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
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

/// One "held" round through `to`.
#[derive(Debug, Clone, Copy)]
struct Held {
    open_s: f64,
    held: usize,
    fds_per_conn: f64,
    kib_per_conn: f64,
}

async fn hold(to: SocketAddr, n: usize, peer: Option<&Peer>) -> Held {
    let (fds0, rss0) = peer.map_or((0, 0), |p| (p.fds(), p.rss_kib().0));
    let t = Instant::now();
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        if let Ok(Ok(s)) = tokio::time::timeout(WAIT, TcpStream::connect(to)).await {
            conns.push(s);
        }
    }
    let pings = conns.into_iter().enumerate().map(|(i, mut s)| {
        tokio::spawn(async move {
            let msg = (i as u32).to_be_bytes();
            let mut back = [0u8; 4];
            let ok = tokio::time::timeout(WAIT, async {
                s.write_all(&msg).await?;
                s.read_exact(&mut back).await
            })
            .await
            .is_ok_and(|r| r.is_ok())
                && back == msg;
            (ok, s)
        })
    });
    let mut kept = Vec::with_capacity(n);
    let mut held = 0;
    for p in pings.collect::<Vec<_>>() {
        if let Ok((ok, s)) = p.await {
            held += usize::from(ok);
            kept.push(s);
        }
    }
    let open_s = t.elapsed().as_secs_f64();
    let (fds1, rss1) = peer.map_or((0, 0), |p| (p.fds(), p.rss_kib().0));
    drop(kept);
    Held {
        open_s,
        held,
        fds_per_conn: (fds1.saturating_sub(fds0)) as f64 / n as f64,
        kib_per_conn: (rss1.saturating_sub(rss0)) as f64 / n as f64,
    }
}

/// Stream `i`'s byte at offset `at`.
fn pattern(i: usize, at: u64) -> u8 {
    ((at + i as u64 * 13) % 251) as u8
}

#[derive(Debug, Default)]
struct Streams {
    api_ms: Vec<f64>,
    api_failed: usize,
    cycles: usize,
    exact: usize,
    stalled: usize,
    corrupt: usize,
    hwm_kib: u64,
    rss_after_kib: u64,
    rss_before_kib: u64,
    mbytes: f64,
}

async fn streams(peer: &Peer, to: SocketAddr) -> Streams {
    let stop = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..STREAMS {
        let Ok(Ok(s)) = tokio::time::timeout(WAIT, TcpStream::connect(to)).await else { continue };
        let _ = s.set_nodelay(true);
        let (mut r, mut w) = s.into_split();
        let (stop, moved) = (stop.clone(), moved.clone());
        let sent = Arc::new(AtomicU64::new(u64::MAX));
        let sent_w = sent.clone();
        let writer = tokio::spawn(async move {
            let mut at = 0u64;
            let mut block = vec![0u8; BLOCK];
            let mut tick = tokio::time::interval(TICK);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                for (k, b) in block.iter_mut().enumerate() {
                    *b = pattern(i, at + k as u64);
                }
                if tokio::time::timeout(WAIT, w.write_all(&block)).await.map_or(true, |r| r.is_err()) {
                    break;
                }
                at += BLOCK as u64;
            }
            sent_w.store(at, Ordering::SeqCst);
            w
        });
        let reader = tokio::spawn(async move {
            let mut got = 0u64;
            let mut buf = vec![0u8; 64 * 1024];
            let mut bad = false;
            loop {
                let want = sent.load(Ordering::SeqCst);
                if got >= want {
                    break;
                }
                let n = match tokio::time::timeout(WAIT, r.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return (false, bad, got),
                };
                bad |= buf[..n].iter().enumerate().any(|(k, b)| *b != pattern(i, got + k as u64));
                got += n as u64;
                moved.fetch_add(n as u64, Ordering::Relaxed);
            }
            (true, bad, got)
        });
        tasks.push((writer, reader));
    }
    let mut out = Streams { rss_before_kib: peer.rss_kib().0, ..Streams::default() };
    let started = Instant::now();
    let toxic = r#"{"name":"lat","type":"latency","stream":"downstream","attributes":{"latency":1}}"#;
    while out.cycles < CYCLES && started.elapsed() < CYCLE_DEADLINE {
        for add in [true, false] {
            let t = Instant::now();
            let status = tokio::task::block_in_place(|| {
                if add {
                    peer.add_toxic("streams", toxic)
                } else {
                    peer.remove_toxic("streams", "lat")
                }
            });
            out.api_ms.push(t.elapsed().as_secs_f64() * 1e3);
            if !(200..300).contains(&status) {
                out.api_failed += 1;
            }
        }
        out.cycles += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for (w, r) in tasks {
        let _w = w.await;
        match r.await {
            Ok((true, false, _)) => out.exact += 1,
            Ok((true, true, _)) | Ok((false, true, _)) => out.corrupt += 1,
            _ => out.stalled += 1,
        }
    }
    out.mbytes = moved.load(Ordering::Relaxed) as f64 / 1e6 / secs;
    let (rss, hwm) = peer.rss_kib();
    out.rss_after_kib = rss;
    out.hwm_kib = hwm;
    out.api_ms.sort_by(f64::total_cmp);
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--conns")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(8000);
    if let Err(e) = fault_proxy::fds::raise_limit() {
        eprintln!("cannot raise the descriptor limit: {e}");
    }
    let bins = peers::binaries(env!("CARGO_BIN_EXE_fault-proxy"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(n, bins));
}

async fn run(n: usize, bins: Vec<PeerBin>) {
    let load_before = load();
    let up = echo().await;
    // Held connections: rounds interleaved, direct first in each.
    let mut held: Vec<Vec<Held>> = vec![Vec::new(); bins.len() + 1];
    for round in 0..ROUNDS {
        eprintln!("held, round {}/{ROUNDS}: {n} connections each through direct and {} proxies", round + 1, bins.len());
        held[0].push(hold(up, n, None).await);
        for (k, bin) in bins.iter().enumerate() {
            let peer = Peer::start(bin);
            let to = peer.create("held", up, "");
            let h = hold(to, n, Some(&peer)).await;
            eprintln!(
                "  {}: {:.2} s, {}/{n} held, {:.2} fds and {:.1} KiB each",
                bin.kind.name(),
                h.open_s,
                h.held,
                h.fds_per_conn,
                h.kib_per_conn
            );
            held[k + 1].push(h);
            drop(peer);
            // Let the closed connections' sockets go before the next proxy.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let mut streamed = Vec::new();
    for bin in &bins {
        eprintln!(
            "streams: {STREAMS} at {} KB/s each, 1 ms latency added and removed {CYCLES} times, through {}",
            BLOCK as u128 * 1000 / TICK.as_millis() / 1000,
            bin.kind.name()
        );
        let peer = Peer::start(bin);
        let to = peer.create("streams", up, "");
        let s = streams(&peer, to).await;
        eprintln!(
            "  {}: API p50 {:.2} ms p99 {:.1} ms ({} failed), {} cycles, {}/{STREAMS} exact, {} stalled, {} corrupt, peak RSS {} MiB",
            bin.label,
            pct(&s.api_ms, 0.5),
            pct(&s.api_ms, 0.99),
            s.api_failed,
            s.cycles,
            s.exact,
            s.stalled,
            s.corrupt,
            s.hwm_kib / 1024
        );
        streamed.push((bin.label.clone(), s));
        drop(peer);
    }
    let load_after = load();
    let report = report(n, &bins, &held, &streamed, &load_before, &load_after);
    print!("{report}");
    write_section("fault-proxy-load", &report);
}

fn report(
    n: usize,
    bins: &[PeerBin],
    held: &[Vec<Held>],
    streamed: &[(String, Streams)],
    load_before: &str,
    load_after: &str,
) -> String {
    let med = |v: &[Held], f: fn(&Held) -> f64| median(v.iter().map(f).collect());
    let direct_open = med(&held[0], |h| h.open_s);
    let fp_open = med(&held[1], |h| h.open_s);
    let mut out = format!(
        "## fault-proxy under load (`cargo bench -p fault-proxy --bench load`)\n\n\
         Measured {date} on this machine, {load_before} at the start and {load_after} at the end (the machine is shared: \
         other builds and tests ran meanwhile). Peers built from their public source (`shared/reference/building-peers.md`), \
         each proxy its own process, a fresh one per round; medians of {ROUNDS} rounds, interleaved with direct.\n\n\
         ### {n} connections held\n\n\
         Opened one after another through one proxy to an echo server, then all pinged at once; the time runs until the last echo.\n\n\
         | path | time to open {n} | vs direct | vs fault-proxy | held | descriptors each | KiB each |\n\
         |---|---|---|---|---|---|---|\n\
         | direct | {direct_open:.2} s | 1.00× | — | {dheld} | — | — |\n",
        date = today(),
        dheld = med(&held[0], |h| h.held as f64) as usize,
    );
    for (k, bin) in bins.iter().enumerate() {
        let h = &held[k + 1];
        let open = med(h, |h| h.open_s);
        out += &format!(
            "| {} | {open:.2} s | {:.2}× | {:.2}× | {}/{n} | {:.2} | {:.1} |\n",
            bin.label,
            open / direct_open,
            open / fp_open,
            med(h, |h| h.held as f64) as usize,
            med(h, |h| h.fds_per_conn),
            med(h, |h| h.kib_per_conn),
        );
    }
    out += &format!(
        "\n### {STREAMS} streams under a cycling latency fault\n\n\
         {STREAMS} streams at {} KB/s each through an echo server while a 1 ms downstream latency toxic is added and \
         removed {CYCLES} times (stopped after {} s if not done); every stream checked byte by byte.\n\n\
         | proxy | API p50 | API p99 | failed calls | cycles | streams exact | stalled | corrupt | RSS before | peak RSS | RSS after |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        BLOCK as u128 * 1000 / TICK.as_millis() / 1000,
        CYCLE_DEADLINE.as_secs(),
    );
    for (label, s) in streamed {
        out += &format!(
            "| {} | {:.2} ms | {:.1} ms | {} | {} | {}/{STREAMS} | {} | {} | {:.0} MiB | {:.0} MiB | {:.0} MiB |\n",
            label,
            pct(&s.api_ms, 0.5),
            pct(&s.api_ms, 0.99),
            s.api_failed,
            s.cycles,
            s.exact,
            s.stalled,
            s.corrupt,
            s.rss_before_kib as f64 / 1024.0,
            s.hwm_kib as f64 / 1024.0,
            s.rss_after_kib as f64 / 1024.0,
        );
    }
    out
}
