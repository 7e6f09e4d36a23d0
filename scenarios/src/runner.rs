//! Runs one scenario: brings the topology up in-process on loopback with the
//! fault proxy on the chosen links (one listener per directed link), plays the
//! timeline on the virtual clock, runs the probes, writes the case folder,
//! asks the engine (or an external analyzer) for verdicts and compares them
//! with the expectations. Waits are on conditions (a line logged, a link up).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fault_proxy::{Proxy, ProxyServer, ProxySpec, Toxic};
use harness::hostmap::HostEntry;
use harness::mesh::loopback_for;
use harness::{domains_for, Mesh, MeshSpec, ServerConfig, Timings, Version};
use serde_json::json;

use crate::format::{parse_link, Scenario, Source, Step};
use crate::{analyzer, expect, probe};

/// How scenarios are judged.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    /// An external analyzer's command words; `None`: the built-in engine.
    pub analyzer: Option<Vec<String>>,
    pub analyzer_timeout: Duration,
    /// Keep each case folder under this directory.
    pub keep: Option<PathBuf>,
}

/// What happened to one scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub file: String,
    pub seed: u64,
    pub passed: bool,
    /// Expected vs got, one entry per unmet expectation, or the error.
    pub failures: Vec<String>,
    pub verdicts: Vec<diagnosis::Verdict>,
    pub seconds: f64,
    pub case_dir: Option<PathBuf>,
}

/// The per-scenario seed: the file's own, or one drawn from the run's seed and the name.
pub fn scenario_seed(run_seed: u64, sc: &Scenario) -> u64 {
    sc.seed.unwrap_or_else(|| {
        sc.name.bytes().fold(run_seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    })
}

pub async fn run(sc: &Scenario, file: &str, text: &str, opts: &RunOptions) -> Outcome {
    let started = Instant::now();
    let seed = scenario_seed(opts.seed, sc);
    let src = Source { file, text };
    let deadline = sc.deadline.as_ref().and_then(|d| src.duration(d).ok()).unwrap_or(Duration::from_secs(60));
    let stage = Arc::new(Mutex::new("start".to_owned()));
    let mut outcome = Outcome {
        name: sc.name.clone(),
        file: file.to_owned(),
        seed,
        passed: false,
        failures: Vec::new(),
        verdicts: Vec::new(),
        seconds: 0.0,
        case_dir: None,
    };
    let until = tokio::time::Instant::now() + deadline;
    let work = play(sc, &src, seed, opts, stage.clone(), until);
    // The deadline is enforced inside (so the topology is always shut down);
    // this bound only catches a shutdown that itself hangs.
    match tokio::time::timeout(deadline + Duration::from_secs(30), work).await {
        Ok(Ok((verdicts, failures, dir))) => {
            outcome.passed = failures.is_empty();
            outcome.failures = failures;
            outcome.verdicts = verdicts;
            outcome.case_dir = dir;
        }
        Ok(Err(e)) => outcome.failures.push(e),
        Err(_) => {
            let at = stage.lock().map(|s| s.clone()).unwrap_or_default();
            outcome.failures.push(format!("deadline of {}s passed during {at}", deadline.as_secs_f64()));
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

fn set(stage: &Mutex<String>, s: String) {
    if let Ok(mut g) = stage.lock() {
        *g = s;
    }
}

type Played = (Vec<diagnosis::Verdict>, Vec<String>, Option<PathBuf>);

async fn play(
    sc: &Scenario,
    src: &Source<'_>,
    seed: u64,
    opts: &RunOptions,
    stage: Arc<Mutex<String>>,
    until: tokio::time::Instant,
) -> Result<Played, String> {
    let spec = mesh_spec(sc, src, seed)?;
    let mesh = Mesh::bind(spec).await.map_err(|e| e.to_string())?;
    let proxies = ProxyServer::new(fault_proxy::Options {
        seed,
        dial_timeout: mesh.clock().real(mesh.timings().handshake_timeout),
        allow_remote: false,
    });
    let body = async {
        let links = wire_proxies(sc, &mesh, &proxies).await?;
        let mut steps: Vec<(Duration, &Step)> = sc
            .steps
            .iter()
            .map(|s| (s.at.as_ref().and_then(|a| src.duration(a).ok()).unwrap_or_default(), s))
            .collect();
        steps.sort_by_key(|(at, _)| *at);
        // Steps at 0 shape the world before anything connects.
        let (early, later): (Vec<_>, Vec<_>) = steps.into_iter().partition(|(at, _)| at.is_zero());
        for (_, s) in &early {
            set(&stage, format!("step {} at 0s", s.action.get_ref()));
            step(s, src, &mesh, &links).await?;
        }
        set(&stage, "start".into());
        mesh.start_all().await.map_err(|e| e.to_string())?;
        // A topology with a broken certificate is not meant to come up.
        let broken_cert = sc.topology.servers.iter().any(|x| x.cert.as_ref().is_some_and(|c| c.get_ref() != "none"));
        if early.is_empty() && !broken_cert {
            set(&stage, "waiting for every link to come up".into());
            if let Err(missing) = mesh.wait_all_up(Duration::from_secs(30)).await {
                return Err(format!("the topology did not come up: {}", missing.join(", ")));
            }
        }
        for (at, s) in &later {
            set(&stage, format!("step {} at {}s", s.action.get_ref(), at.as_secs()));
            tokio::time::sleep_until(mesh.clock().instant_at(*at).into()).await;
            step(s, src, &mesh, &links).await?;
        }
        set(&stage, "probes".into());
        let probes = if sc.probes.enabled {
            let wait =
                sc.probes.timeout.as_ref().and_then(|t| src.duration(t).ok()).unwrap_or(Duration::from_millis(500));
            probe::run(&mesh, wait).await
        } else {
            Vec::new()
        };
        set(&stage, "writing the case folder".into());
        let (dir, _tmp) = case_dir(opts, &sc.name)?;
        harness::casefile::write_case(&mesh, &dir).map_err(|e| e.to_string())?;
        let lines: String = probes.iter().filter_map(|p| serde_json::to_string(p).ok()).map(|l| l + "\n").collect();
        std::fs::write(dir.join("probes.jsonl"), lines).map_err(|e| format!("{}: {e}", dir.display()))?;
        set(&stage, "diagnosis".into());
        let verdicts = match &opts.analyzer {
            None => diagnosis::diagnose(&dir, &diagnosis::Options::default()).map_err(|e| e.to_string())?.verdicts,
            Some(words) => analyzer::run(words, &dir, opts.analyzer_timeout).await?,
        };
        let failures = expect::check(&sc.expect, &verdicts);
        Ok((verdicts, failures, opts.keep.as_ref().map(|_| dir)))
    };
    let result = match tokio::time::timeout_at(until, body).await {
        Ok(r) => r,
        Err(_) => {
            let at = stage.lock().map(|s| s.clone()).unwrap_or_default();
            Err(format!("deadline passed during {at}"))
        }
    };
    set(&stage, "shutdown".into());
    mesh.shutdown().await;
    proxies.shutdown().await;
    result
}

/// A kept folder, or a temporary one (removed when the guard drops).
fn case_dir(opts: &RunOptions, name: &str) -> Result<(PathBuf, Option<TempDir>), String> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    match &opts.keep {
        Some(root) => {
            let dir = root.join(safe);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            Ok((dir, None))
        }
        None => {
            let t = TempDir::new(&safe)?;
            Ok((t.0.clone(), Some(t)))
        }
    }
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    fn new(stem: &str) -> Result<TempDir, String> {
        let unique = format!(
            "replharness-{stem}-{}-{:x}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ rand_bits()
        );
        let p = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(TempDir(p))
    }
}

fn rand_bits() -> u128 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    t.as_nanos()
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mesh_spec(sc: &Scenario, src: &Source, seed: u64) -> Result<MeshSpec, String> {
    let t = &sc.topology;
    let backends: Vec<&str> = t.backends.iter().map(String::as_str).collect();
    let mut servers = Vec::new();
    for (i, s) in t.servers.iter().enumerate() {
        let name = s.name.get_ref().clone();
        let version = Version::parse(s.version.as_deref().unwrap_or(&t.version)).map_err(|e| e.to_string())?;
        let id = s.server_id.clone().unwrap_or_else(|| {
            if version.string_server_ids() {
                name.clone()
            } else {
                (i + 1).to_string()
            }
        });
        let host = s.host.clone().unwrap_or_else(|| format!("{name}.example.com"));
        let mut c = ServerConfig::new(&name, &host, loopback_for(i + 1), version.clone(), &id);
        if let Some(a) = &s.addresses {
            c.addresses = a.iter().filter_map(|x| x.get_ref().parse().ok()).collect();
        }
        c.domains = match &s.domains {
            Some(d) => d.iter().map(|b| harness::DomainConfig::new(b)).collect(),
            None => domains_for(&version, &backends),
        };
        c.replication_port = s.replication_port.unwrap_or(0);
        c.admin_port = s.admin_port.unwrap_or(0);
        c.rs = s.rs;
        c.ds = s.ds;
        c.tls = s.tls;
        c.ssl_encryption = s.ssl_encryption;
        c.cert_defect = s.cert.as_ref().and_then(|d| harness::pki::CertDefect::parse(d.get_ref())).unwrap_or_default();
        c.ds_replication_servers = s.replicates_through.iter().flatten().map(|n| n.get_ref().clone()).collect();
        servers.push(c);
    }
    let d = |o: &Option<toml::Spanned<String>>, default: Duration| -> Result<Duration, String> {
        o.as_ref().map_or(Ok(default), |x| src.duration(x).map_err(|e| e.to_string()))
    };
    let base = Timings::default();
    let timings = Timings {
        connect_retry: d(&sc.timings.connect_retry, base.connect_retry)?,
        handshake_timeout: d(&sc.timings.handshake_timeout, base.handshake_timeout)?,
        heartbeat_interval: d(&sc.timings.heartbeat, base.heartbeat_interval)?,
        changetime_heartbeat_interval: d(&sc.timings.changetime_heartbeat, base.changetime_heartbeat_interval)?,
        link_timeout: d(&sc.timings.link_timeout, Duration::from_secs(120))?,
    };
    Ok(MeshSpec {
        servers,
        timings,
        time_scale: sc.time_scale,
        start: None,
        log_dir: None,
        max_frame_len: harness::wire::DEFAULT_MAX_FRAME_LEN,
        seed,
    })
}

/// Proxies by link name: `A->B` (replication port), `A->B:admin`.
type Links = BTreeMap<String, Proxy>;

async fn wire_proxies(sc: &Scenario, mesh: &Mesh, proxies: &ProxyServer) -> Result<Links, String> {
    let mut links = Links::new();
    let cfgs: Vec<_> = mesh.servers().iter().map(|s| (s.config(), s.replication_addr(), s.admin_addr())).collect();
    let p = &sc.topology.proxy;
    for (a, _, _) in &cfgs {
        for (b, repl, admin) in &cfgs {
            let self_link = a.name == b.name;
            let rs_link = !self_link && a.rs && b.rs && p.rs_links;
            let ds_link = p.ds_links && a.ds && b.rs && (self_link || a.ds_replication_servers.contains(&b.name));
            if rs_link || ds_link {
                let name = format!("{}->{}", a.name, b.name);
                let proxy = proxies
                    .create(ProxySpec::new(&name, "127.0.0.1:0", &repl.to_string()))
                    .await
                    .map_err(|e| e.to_string())?;
                let at = proxy.listen_addr().ok_or("proxy without an address")?;
                mesh.hosts().route(&a.name, &b.host, b.replication_port, at);
                links.insert(name, proxy);
            }
            if p.admin_ports && !self_link {
                let name = format!("{}->{}:admin", a.name, b.name);
                let proxy = proxies
                    .create(ProxySpec::new(&name, "127.0.0.1:0", &admin.to_string()))
                    .await
                    .map_err(|e| e.to_string())?;
                let at = proxy.listen_addr().ok_or("proxy without an address")?;
                mesh.hosts().route(&a.name, &b.host, b.admin_port, at);
                links.insert(name, proxy);
            }
        }
    }
    Ok(links)
}

fn link_proxies<'a>(links: &'a Links, step: &Step) -> Result<Vec<&'a Proxy>, String> {
    let link = step.link.as_ref().ok_or("no link")?;
    let (a, b, both) = parse_link(link.get_ref()).ok_or("bad link")?;
    let admin = step.port.as_ref().is_some_and(|p| p.get_ref() == "admin");
    let suffix = if admin { ":admin" } else { "" };
    let mut names = vec![format!("{a}->{b}{suffix}")];
    if both {
        names.push(format!("{b}->{a}{suffix}"));
    }
    names
        .iter()
        .map(|n| {
            links.get(n).ok_or_else(|| format!("link {n} does not go through the fault proxy (see [topology.proxy])"))
        })
        .collect()
}

async fn step(s: &Step, src: &Source<'_>, mesh: &Mesh, links: &Links) -> Result<(), String> {
    let server = |n: &toml::Spanned<String>| mesh.server(n.get_ref()).map_err(|e| e.to_string());
    match s.action.get_ref().as_str() {
        "fault" => {
            let mut body = serde_json::to_value(s.fault.as_ref().ok_or("no fault")?).map_err(|e| e.to_string())?;
            if let Some(n) = &s.name {
                body["name"] = json!(n);
            }
            if let Some(f) = &s.flap {
                let real = |d: &toml::Spanned<String>| {
                    src.duration(d).map(|x| mesh.clock().real(x).as_millis() as u64).map_err(|e| e.to_string())
                };
                body["schedule"] = json!({"flap": {"on_ms": real(&f.on)?, "off_ms": real(&f.off)?, "count": f.count}});
            }
            let toxic = Toxic::from_json(&body).map_err(|e| e.to_string())?;
            for p in link_proxies(links, s)? {
                p.add_fault(toxic.clone()).await.map_err(|e| format!("{}: {e}", p.name()))?;
            }
        }
        "clear" => {
            let name = s.name.as_deref().unwrap_or_default();
            for p in link_proxies(links, s)? {
                p.remove_fault(name).await.map_err(|e| format!("{}: {e}", p.name()))?;
            }
        }
        "stop" => server(s.server.as_ref().ok_or("no server")?)?.stop().await,
        "kill" => server(s.server.as_ref().ok_or("no server")?)?.kill().await,
        "start" => server(s.server.as_ref().ok_or("no server")?)?.start().await.map_err(|e| e.to_string())?,
        "dns" => {
            let host = s.host.as_ref().ok_or("no host")?.get_ref();
            let entry = match &s.address {
                Some(a) => HostEntry::Addresses(vec![a.get_ref().parse().map_err(|_| "bad address")?]),
                None => HostEntry::Unresolvable,
            };
            // Without `from`, every server sees the record.
            let from: Vec<String> = match &s.from {
                Some(f) => vec![f.get_ref().clone()],
                None => mesh.servers().iter().map(|x| x.name()).collect(),
            };
            for f in from {
                mesh.hosts().set_for(&f, host, entry.clone());
            }
        }
        "generation" => {
            let sv = server(s.server.as_ref().ok_or("no server")?)?;
            sv.set_generation_id(s.domain.as_deref().unwrap_or_default(), s.generation_id.unwrap_or_default())
                .await
                .map_err(|e| e.to_string())?;
        }
        "wait" => wait(s, src, mesh).await?,
        other => return Err(format!("unknown action {other}")),
    }
    Ok(())
}

async fn wait(s: &Step, src: &Source<'_>, mesh: &Mesh) -> Result<(), String> {
    let u = s.until.as_ref().ok_or("no until")?;
    let limit = s.timeout.as_ref().and_then(|t| src.duration(t).ok()).unwrap_or(Duration::from_secs(30));
    if let (Some(ordinal), Some(server)) = (u.logged, &u.server) {
        let count = u.count.unwrap_or(1);
        let sv = mesh.server(server.get_ref()).map_err(|e| e.to_string())?;
        let ok = sv.log().wait_for(limit, |rs| rs.iter().filter(|r| r.ordinal == ordinal).count() >= count).await;
        return if ok {
            Ok(())
        } else {
            Err(format!("waited {}s for message {ordinal} ×{count} on {}", limit.as_secs_f64(), server.get_ref()))
        };
    }
    let (link, want_up) = match (&u.link_up, &u.link_down) {
        (Some(l), _) => (l, true),
        (_, Some(l)) => (l, false),
        _ => return Err("empty until".into()),
    };
    let (a, b, _) = parse_link(link.get_ref()).ok_or("bad link")?;
    let end = tokio::time::Instant::now() + limit;
    loop {
        let rows = mesh.link_table().await;
        let pair: Vec<_> = rows.iter().filter(|r| (r.a == a && r.b == b) || (r.a == b && r.b == a)).collect();
        let up = !pair.is_empty() && pair.iter().all(|r| r.up);
        let down = pair.iter().all(|r| !r.up);
        if (want_up && up) || (!want_up && down) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= end {
            return Err(format!(
                "waited {}s for {} to be {}",
                limit.as_secs_f64(),
                link.get_ref(),
                if want_up { "up" } else { "down" }
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Loads a file (for callers that run one).
pub fn load(path: &Path) -> Result<(String, Scenario), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let sc = crate::format::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    Ok((text, sc))
}
