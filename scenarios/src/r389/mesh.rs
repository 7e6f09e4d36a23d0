//! `replharness mesh --flavor 389`: N suppliers (`slapd-s1` …, replica ids
//! 1 …) with agreements to each other and to each of M read-only
//! consumers (`slapd-c1` …), on loopback. It waits until every agreement is
//! in sync (its last session succeeded and the consumer holds the
//! supplier's newest change), prints the servers and agreements, can write
//! the case folder and hold the topology running to point tools at it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use harness::ds389::{AgreementView, Lab389, Lab389Spec, Version389};

use crate::cli::MeshArgs;
use crate::error::BadInput;
use crate::network::kernel::KernelNet;
use crate::network::Network;

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub suppliers: usize,
    pub consumers: usize,
    pub version: Version389,
    pub suffix: String,
    pub time_scale: f64,
    pub settle_timeout: Duration,
    pub case_out: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub seed: u64,
    pub hold_for: Option<Duration>,
    pub network: Network,
}

impl TryFrom<MeshArgs> for Settings {
    type Error = BadInput;

    fn try_from(a: MeshArgs) -> Result<Self, BadInput> {
        if a.tls {
            return Err(BadInput("--tls: the 389 flavor's agreements run LDAP in clear (docs/389.md)".into()));
        }
        // The DS default version means "not given".
        let vtext = if a.version == "7.1" { crate::plan::r389::DEFAULT_VERSION } else { a.version.as_str() };
        let version = Version389::parse(vtext).map_err(|e| BadInput(format!("--version: {e}")))?;
        let max = crate::plan::MAX_TIME_SCALE;
        if !(a.time_scale.is_finite() && (1.0..=max).contains(&a.time_scale)) {
            return Err(BadInput(format!(
                "--time-scale must be a number from 1 to {max}, not {}",
                crate::error::show_number(a.time_scale)
            )));
        }
        let suffix = match a.backends.as_slice() {
            [one] if one.contains('=') => one.clone(),
            [one] => return Err(BadInput(format!("--backend {one:?} is not a DN such as dc=example,dc=com"))),
            _ => return Err(BadInput("--flavor 389 replicates one suffix: give --backend once".into())),
        };
        if usize::from(a.servers) + usize::from(a.consumers) > 254 {
            return Err(BadInput("--servers and --consumers: at most 254 servers in all".into()));
        }
        Ok(Self {
            suppliers: usize::from(a.servers),
            consumers: usize::from(a.consumers),
            version,
            suffix,
            time_scale: a.time_scale,
            settle_timeout: a.settle_timeout,
            case_out: a.case_out,
            log_dir: a.log_dir,
            seed: a.seed.unwrap_or_else(crate::runner::seed_from_clock),
            hold_for: a.hold_for,
            network: a.net.network.unwrap_or_default(),
        })
    }
}

/// What came up.
#[derive(Debug)]
pub struct Report {
    /// (name, host, LDAP address, role).
    pub servers: Vec<(String, String, String, String)>,
    pub agreements: Vec<AgreementView>,
    /// Agreements not in sync when the settle timeout passed.
    pub missing: Vec<String>,
}

pub async fn command(args: MeshArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::try_from(args)?;
    crate::out::line(&format!("seed: {}", settings.seed))?;
    let report = run(&settings).await?;
    let mut text = render(&report);
    if let Some(dir) = &settings.case_out {
        let _ = writeln!(text, "\ncase folder: {}", dir.display());
    }
    crate::out::print(&text)?;
    if report.missing.is_empty() {
        crate::out::print("\nevery agreement in sync\n")?;
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("\nnot in sync after {:?}:", settings.settle_timeout);
        for m in &report.missing {
            eprintln!("  {m}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Brings the topology up, waits, writes the case, holds it, stops it.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let mut spec = Lab389Spec::new(settings.suppliers, settings.consumers, &settings.suffix);
    for s in &mut spec.servers {
        s.version = settings.version.clone();
    }
    spec.time_scale = settings.time_scale;
    spec.log_dir = settings.log_dir.clone();
    spec.seed = settings.seed;
    // --network netns: one test host per server.
    let kernel = match settings.network {
        Network::Proxy => None,
        Network::Netns => {
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
    let result = match Lab389::start(spec).await {
        Ok(lab) => {
            let result = settle_and_hold(&lab, settings).await;
            lab.shutdown().await;
            result
        }
        Err(e) => Err(e.into()),
    };
    if let Some(k) = &kernel {
        k.shutdown().await.map_err(crate::Error::from)?;
    }
    result
}

async fn settle_and_hold(lab: &Lab389, settings: &Settings) -> anyhow::Result<Report> {
    let missing = match lab.wait_in_sync(settings.settle_timeout).await {
        Ok(()) => Vec::new(),
        Err(rows) => rows
            .into_iter()
            .filter(|r| !r.status.contains("Incremental update succeeded"))
            .map(|r| format!("{} on {}: {}", r.name, r.supplier, r.status))
            .collect(),
    };
    let servers = lab
        .servers()
        .iter()
        .map(|s| {
            let c = s.config();
            let role = if s.is_supplier() {
                format!("supplier, replica id {}", s.rid().unwrap_or(0))
            } else {
                "consumer".into()
            };
            (c.name.clone(), c.host.clone(), s.ldap_addr().to_string(), role)
        })
        .collect();
    let report = Report { servers, agreements: lab.agreements(), missing };
    if let Some(dir) = &settings.case_out {
        harness::casefile::write_case(lab, dir)?;
    }
    if let Some(hold) = settings.hold_for {
        crate::out::print(&format!("holding the topology for {:.0}s (Ctrl-C ends it)\n", hold.as_secs_f64()))?;
        tokio::select! {
            _ = tokio::time::sleep(hold) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    Ok(report)
}

/// The server and agreement tables.
pub fn render(r: &Report) -> String {
    let mut t = String::from("server      host                 LDAP address            role\n");
    for (name, host, addr, role) in &r.servers {
        let _ = writeln!(t, "{name:11} {host:20} {addr:23} {role}");
    }
    t.push_str("\nagreement            supplier    consumer    status\n");
    for a in &r.agreements {
        let _ = writeln!(t, "{:20} {:11} {:11} {}", a.name, a.supplier, a.consumer, a.status);
    }
    t
}
