//! The proxies a benchmark runs side by side: fault-proxy (this crate's
//! release binary) and, when their binaries are given, Toxiproxy and
//! noxious, built from their public source (`shared/reference/building-peers.md`).
//! Nothing is downloaded: a peer whose path is not given is left out.
//!
//! Paths: `--toxiproxy PATH` / `--noxious PATH` on the bench's command line
//! (`cargo bench -p fault-proxy -- --toxiproxy …`), or the environment
//! variables `TOXIPROXY_SERVER` / `NOXIOUS_SERVER`. All three speak
//! Toxiproxy's HTTP API, which is how the benchmark drives them.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FaultProxy,
    Toxiproxy,
    Noxious,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::FaultProxy => "fault-proxy",
            Kind::Toxiproxy => "Toxiproxy",
            Kind::Noxious => "noxious",
        }
    }
}

/// A proxy binary to run.
#[derive(Debug, Clone)]
pub struct PeerBin {
    pub kind: Kind,
    pub path: PathBuf,
    /// Extra arguments (fault-proxy's `--threads`), and the label they give.
    pub args: Vec<String>,
    pub label: String,
}

impl PeerBin {
    fn new(kind: Kind, path: PathBuf) -> Self {
        PeerBin { kind, path, args: Vec::new(), label: kind.name().to_owned() }
    }
}

/// fault-proxy (at `own`, with its default of one thread, and with
/// `--threads 2` unless `--no-two`), then every peer given by flag or
/// environment.
pub fn binaries(own: &str) -> Vec<PeerBin> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mut out = vec![PeerBin::new(Kind::FaultProxy, own.into())];
    if !args.iter().any(|a| a == "--no-two") {
        out.push(PeerBin {
            args: vec!["--threads".into(), "2".into()],
            label: "fault-proxy, 2 threads".into(),
            ..PeerBin::new(Kind::FaultProxy, own.into())
        });
    }
    for (kind, f, env) in
        [(Kind::Toxiproxy, "--toxiproxy", "TOXIPROXY_SERVER"), (Kind::Noxious, "--noxious", "NOXIOUS_SERVER")]
    {
        if let Some(p) = flag(f).or_else(|| std::env::var(env).ok()).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(p);
            if path.is_file() {
                out.push(PeerBin::new(kind, path));
            } else {
                eprintln!("{}: {} is not a file; left out", kind.name(), path.display());
            }
        }
    }
    out
}

/// A running proxy process and its API.
#[derive(Debug)]
pub struct Peer {
    pub kind: Kind,
    child: Child,
    pub api: SocketAddr,
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr")
}

impl Peer {
    pub fn start(bin: &PeerBin) -> Peer {
        let api = free_port();
        let port = api.port().to_string();
        let mut cmd = Command::new(&bin.path);
        cmd.args(&bin.args);
        match bin.kind {
            Kind::FaultProxy => cmd.args(["--api", &api.to_string(), "--seed", "1"]).env("RUST_LOG", "warn"),
            Kind::Toxiproxy => cmd.args(["-host", "127.0.0.1", "-port", &port]).env("LOG_LEVEL", "error"),
            Kind::Noxious => cmd.args(["--host", "127.0.0.1", "--port", &port]).env("RUST_LOG", "error"),
        };
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start proxy");
        let peer = Peer { kind: bin.kind, child, api };
        let deadline = Instant::now() + Duration::from_secs(20);
        while peer.try_call("GET", "/version", "").is_none_or(|(s, _)| s != 200) {
            assert!(Instant::now() < deadline, "{} API did not come up on {api}", bin.kind.name());
            std::thread::sleep(Duration::from_millis(20));
        }
        peer
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn try_call(&self, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect_timeout(&self.api, Duration::from_secs(5)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut resp = String::new();
        s.read_to_string(&mut resp).ok()?;
        let status = resp.split(' ').nth(1)?.parse().ok()?;
        Some((status, resp))
    }

    /// One API call: (status, whole response); status 0 when it failed or timed out.
    pub fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.try_call(method, path, body).unwrap_or((0, String::new()))
    }

    /// Creates a proxy to `upstream`; its listen address. `extra`: more
    /// JSON keys (fault-proxy's `buffer_bytes`), sent to fault-proxy only.
    pub fn create(&self, name: &str, upstream: SocketAddr, extra: &str) -> SocketAddr {
        let listen = free_port();
        let extra =
            if self.kind == Kind::FaultProxy && !extra.is_empty() { format!(",{extra}") } else { String::new() };
        let body = format!(r#"{{"name":"{name}","listen":"{listen}","upstream":"{upstream}","enabled":true{extra}}}"#);
        let (status, resp) = self.call("POST", "/proxies", &body);
        assert!(status == 201 || status == 200, "{}: create {name}: {resp}", self.kind.name());
        listen
    }

    pub fn add_toxic(&self, proxy: &str, body: &str) -> u16 {
        self.call("POST", &format!("/proxies/{proxy}/toxics"), body).0
    }

    pub fn remove_toxic(&self, proxy: &str, toxic: &str) -> u16 {
        self.call("DELETE", &format!("/proxies/{proxy}/toxics/{toxic}"), "").0
    }

    /// utime + stime of the process, seconds.
    pub fn cpu(&self) -> f64 {
        cpu_of(self.pid())
    }

    /// Open descriptors of the process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map(|d| d.count()).unwrap_or(0)
    }

    /// VmRSS and VmHWM (peak), KiB.
    pub fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU seconds of each thread of the process, by thread name.
    pub fn thread_cpu(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) {
            for t in dir.flatten() {
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim().to_owned();
                let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                out.push((comm, ticks(&stat)));
            }
        }
        out
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ticks(stat: &str) -> f64 {
    let Some(close) = stat.rfind(')') else { return 0.0 };
    let f: Vec<&str> = stat[close + 2..].split(' ').collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (n(11) + n(12)) / 100.0
}

/// utime + stime of a process, seconds.
pub fn cpu_of(pid: u32) -> f64 {
    ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// How busy the machine was: the 1-minute load average and the cores.
pub fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let one = avg.split_whitespace().next().unwrap_or("?").to_owned();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("load average {one} on {cores} cores")
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
