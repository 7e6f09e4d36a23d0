//! Descriptors per connection and what happens when they run out, counted
//! on the proxy binary's own process (`/proc/PID/fd`), so the test's client
//! and echo sockets are not in the count. Bounded: 200 connections, and a
//! process limited to 128 descriptors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::WAIT;

fn http(api: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(api).expect("api");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut r = String::new();
    s.read_to_string(&mut r).expect("read");
    r
}

/// An echo upstream, a thread per connection.
fn echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// The proxy binary as its own process, with one proxy in front of `upstream`.
struct ProxyProcess {
    child: Child,
    api: SocketAddr,
    listen: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl ProxyProcess {
    /// Started through `prefix` (e.g. `prlimit --nofile=128:128`), if any,
    /// with `extra` arguments.
    fn start(prefix: &[&str], extra: &[&str], upstream: SocketAddr) -> ProxyProcess {
        let bin = env!("CARGO_BIN_EXE_fault-proxy");
        let (program, args): (&str, Vec<&str>) = match prefix.split_first() {
            Some((p, rest)) => (p, rest.iter().copied().chain([bin]).collect()),
            None => (bin, vec![]),
        };
        let mut child = Command::new(program)
            .args(args)
            .args(["--api", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "fault_proxy=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start");
        let mut banner = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut banner).expect("banner");
        let api: SocketAddr = banner
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no API address in {banner:?}"));
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let resp = http(api, "POST", "/proxies", &format!(r#"{{"name":"p","upstream":"{upstream}"}}"#));
        assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
        let at = resp.find("\"listen\":\"").expect("listen") + 10;
        let listen = resp[at..at + resp[at..].find('"').expect("end")].parse().expect("listen addr");
        ProxyProcess { child, api, listen, stderr: rx }
    }

    /// Open descriptors, once the count holds still for 50 ms (the API
    /// connection of a listing just answered may still be closing).
    fn fds(&self) -> usize {
        let count = || std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).expect("fd dir").count();
        let deadline = Instant::now() + WAIT;
        let mut last = count();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = count();
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }

    fn live(&self) -> usize {
        let r = http(self.api, "GET", "/proxies/p/connections", "");
        r.matches("\"id\":").count()
    }

    fn wait_live(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.live() != n {
            assert!(Instant::now() < deadline, "{} live connections, waited for {n}", self.live());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// Waits (at most WAIT) for a log line containing `what`.
    fn wait_log(&self, what: &str) -> bool {
        let deadline = Instant::now() + WAIT;
        while let Ok(line) = self.stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.contains(what) {
                return true;
            }
        }
        false
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects and has `msg` echoed; `Err` if the proxy closes the connection instead.
fn echoed(to: SocketAddr, msg: &[u8]) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&to, WAIT)?;
    s.set_read_timeout(Some(WAIT))?;
    s.write_all(msg)?;
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back)?;
    assert_eq!(back, msg);
    Ok(s)
}

fn ping(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).expect("write");
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).expect("echo");
    assert_eq!(back, msg);
}

/// 6 descriptors per connection (two sockets and two splice pipes of two
/// ends each) held 3,334 connections under a 20,000 limit: pipes are now
/// pooled and held only while bytes move. On one thread at most one pipe
/// is out at a time, so the count is exact: two per connection. With more
/// threads the pool may keep a few more idle pipes (at most
/// `PipePool::KEEP`, the server's, whatever the connections).
#[test]
fn regression_a_proxied_connection_holds_two_descriptors() {
    let up = echo();
    two_each(ProxyProcess::start(&[], &[], up), 0);
    two_each(ProxyProcess::start(&[], &["--threads", "2"], up), 2 * fault_proxy::io::PipePool::KEEP);
}

fn two_each(proxy: ProxyProcess, pool: usize) {
    // One connection first, so the pool has made its pipe: it is the
    // server's, not a connection's.
    drop(echoed(proxy.listen, b"warm").expect("warm-up"));
    proxy.wait_live(0);
    let before = proxy.fds();
    let mut conns: Vec<TcpStream> =
        (0..200).map(|i| echoed(proxy.listen, format!("c{i}").as_bytes()).expect("echo")).collect();
    proxy.wait_live(200);
    let after = proxy.fds();
    assert!(
        after - before <= 2 * 200 + pool,
        "{} descriptors for 200 connections (before {before}, after {after})",
        after - before
    );
    for (i, c) in conns.iter_mut().enumerate() {
        ping(c, format!("again {i}").as_bytes());
    }
    assert!(proxy.fds() - before <= 2 * 200 + pool, "still two each after a second round");
    drop(conns);
    proxy.wait_live(0);
}

/// At the descriptor limit, new clients are closed at once (counted, logged
/// once), established connections go on and the API still answers; when
/// some close, clients are accepted again. 128 descriptors admit
/// (128 - HEADROOM 64 - 128 / 8 for pipes) / 2 = 24 connections.
#[test]
fn out_of_descriptors_new_clients_are_refused_and_established_ones_go_on() {
    let up = echo();
    let proxy = ProxyProcess::start(&["prlimit", "--nofile=128:128"], &[], up);
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..50 {
        match echoed(proxy.listen, format!("c{i}").as_bytes()) {
            Ok(s) => held.push(s),
            Err(_) => refused += 1,
        }
    }
    assert_eq!(held.len(), 24, "(128 - 64 - 16) / 2 connections admitted");
    assert_eq!(refused, 26);
    for (i, s) in held.iter_mut().enumerate() {
        ping(s, format!("still {i}").as_bytes());
    }
    let metrics = http(proxy.api, "GET", "/metrics", "");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("fault_proxy_refused_connections_total{proxy=\"p\"}"))
        .unwrap_or_else(|| panic!("no refused counter in {metrics}"));
    let counted: u64 = line.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("count");
    assert_eq!(counted, refused, "{line}");
    assert!(proxy.wait_log("out of descriptors"), "the episode is logged");
    let again = proxy.log().iter().filter(|l| l.contains("out of descriptors")).count();
    assert_eq!(again, 0, "once: {refused} refusals, one warning");
    let keep = held.len() - 5;
    held.truncate(keep);
    proxy.wait_live(keep);
    let mut fresh = echoed(proxy.listen, b"back").expect("accepted again once descriptors are free");
    ping(&mut fresh, b"fine");
    assert!(proxy.wait_log("descriptors free again"), "the recovery is logged");
}
