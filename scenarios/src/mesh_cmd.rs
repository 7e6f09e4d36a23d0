//! `replharness mesh`: an N-server mesh on loopback (or, with `--network netns`,
//! one test host per server), its link table, its case folder.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use harness::mesh::{DsRow, LinkRow};
use harness::{Mesh, MeshSpec, Version};

use crate::cli::MeshArgs;
use crate::network::kernel::KernelNet;
use crate::network::Network;

/// Validated settings of a mesh run.
#[derive(Debug, Clone)]
pub struct MeshSettings {
    pub servers: usize,
    pub version: Version,
    pub backends: Vec<String>,
    pub time_scale: f64,
    pub settle_timeout: Duration,
    pub case_out: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub seed: u64,
    pub tls: bool,
    pub hold_for: Option<Duration>,
    pub network: Network,
}

pub use crate::error::BadInput;

impl TryFrom<MeshArgs> for MeshSettings {
    type Error = BadInput;

    fn try_from(a: MeshArgs) -> Result<Self, BadInput> {
        let version = Version::parse(&a.version).map_err(|e| BadInput(format!("--version: {e}")))?;
        let max = crate::plan::MAX_TIME_SCALE;
        if !(a.time_scale.is_finite() && (1.0..=max).contains(&a.time_scale)) {
            return Err(BadInput(format!(
                "--time-scale must be a number from 1 to {max}, not {}",
                crate::error::show_number(a.time_scale)
            )));
        }
        if let Some(b) = a.backends.iter().find(|b| !b.contains('=')) {
            return Err(BadInput(format!("--backend {b:?} is not a DN such as dc=example,dc=com")));
        }
        Ok(Self {
            servers: usize::from(a.servers),
            version,
            backends: a.backends,
            time_scale: a.time_scale,
            settle_timeout: a.settle_timeout,
            case_out: a.case_out,
            log_dir: a.log_dir,
            seed: a.seed.unwrap_or_else(crate::runner::seed_from_clock),
            tls: a.tls,
            hold_for: a.hold_for,
            network: a.net.network.unwrap_or_default(),
        })
    }
}

/// The outcome of a mesh run.
#[derive(Debug)]
pub struct MeshReport {
    pub links: Vec<LinkRow>,
    pub ds: Vec<DsRow>,
    pub missing: Vec<String>,
}

/// Brings the mesh up, waits, writes the case, holds it (`--hold-for`),
/// stops it. The mesh (and its test hosts) is shut down whatever happened in
/// between.
pub async fn run(settings: &MeshSettings) -> anyhow::Result<MeshReport> {
    let backends: Vec<&str> = settings.backends.iter().map(String::as_str).collect();
    let mut spec = MeshSpec::full_mesh(settings.servers, &settings.version, &backends);
    spec.time_scale = settings.time_scale;
    spec.log_dir = settings.log_dir.clone();
    spec.seed = settings.seed;
    for s in &mut spec.servers {
        s.tls = settings.tls;
    }
    let kernel = match settings.network {
        Network::Proxy => None,
        Network::Netns => {
            // Ctrl-C ends a hold cleanly; the guard only steps in if that takes over 10 s.
            let line = crate::network::prepare(Duration::from_secs(10)).await.map_err(crate::Error::from)?;
            crate::out::line(&line)?;
            let names: Vec<String> = spec.servers.iter().map(|s| s.name.clone()).collect();
            let k = KernelNet::create(&names).await.map_err(crate::Error::from)?;
            for s in &mut spec.servers {
                if let Some(a) = k.address(&s.name) {
                    s.addresses = vec![std::net::IpAddr::V4(a)];
                }
            }
            Some(k)
        }
    };
    let result = match Mesh::start(spec).await {
        Ok(mesh) => {
            let result = up_and_hold(&mesh, settings, kernel.as_ref()).await;
            mesh.shutdown().await;
            result
        }
        Err(e) => Err(e.into()),
    };
    if let Some(k) = &kernel {
        k.shutdown().await.map_err(crate::Error::from)?;
    }
    result
}

async fn up_and_hold(mesh: &Mesh, settings: &MeshSettings, kernel: Option<&KernelNet>) -> anyhow::Result<MeshReport> {
    let missing = match mesh.wait_all_up(settings.settle_timeout).await {
        Ok(()) => Vec::new(),
        Err(missing) => missing,
    };
    let report = MeshReport { links: mesh.link_table().await, ds: mesh.ds_table().await, missing };
    if let Some(dir) = &settings.case_out {
        let mut case = harness::casefile::CaseSource::case(mesh);
        if let Some(k) = kernel {
            case.extra.insert("network".into(), toml::Value::Table(k.note().await));
        }
        case.write(dir)?;
    }
    if let Some(hold) = settings.hold_for {
        let mut text =
            format!("holding the mesh for {:.0}s (Ctrl-C ends it); replication ports:\n", hold.as_secs_f64());
        for s in mesh.servers() {
            let _ = write!(text, "  {:8} {} ({})", s.name(), s.replication_addr(), s.config().host);
            if let Some(h) = kernel.and_then(|k| k.lab().host(&s.name())) {
                let _ = write!(text, "  ip netns exec {} …", h.netns());
            }
            text.push('\n');
        }
        crate::out::print(&text)?;
        tokio::select! {
            _ = tokio::time::sleep(hold) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    Ok(report)
}

/// The per-link summary table.
pub fn render(report: &MeshReport) -> String {
    let mut out = String::new();
    let pair_w = report.links.iter().map(|l| l.a.len() + l.b.len() + 5).max().unwrap_or(4).max(4);
    let dom_w = report
        .links
        .iter()
        .map(|l| l.domain.len())
        .chain(report.ds.iter().map(|d| d.domain.len()))
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(out, "{:pair_w$}  {:dom_w$}  {:5}  initiator", "pair", "domain", "state");
    for l in &report.links {
        let pair = format!("{} <-> {}", l.a, l.b);
        let state = if l.up { "up" } else { "DOWN" };
        let _ =
            writeln!(out, "{pair:pair_w$}  {:dom_w$}  {state:5}  {}", l.domain, l.initiator.as_deref().unwrap_or("-"));
    }
    let _ = writeln!(out);
    let srv_w = report.ds.iter().map(|d| d.server.len()).max().unwrap_or(6).max(6);
    let _ = writeln!(out, "{:srv_w$}  {:dom_w$}  DS connected to RS", "server", "domain");
    for d in &report.ds {
        let _ = writeln!(out, "{:srv_w$}  {:dom_w$}  {}", d.server, d.domain, d.rs.as_deref().unwrap_or("DOWN"));
    }
    out
}
