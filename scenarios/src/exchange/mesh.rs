//! `replharness mesh --flavor exchange`: an organization of N sites (one
//! bridgehead each, every site inbound to every other, the default schedule)
//! on loopback; it waits until every link is up and every request of the
//! first activation is answered, prints the bridgeheads and their links, and
//! can write the case folder and hold the organization running.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use harness::exchange::{Count, LinkRow, OrgSpec, Organization, Schedule};

use crate::cli::MeshArgs;
use crate::error::BadInput;
use crate::network::kernel::KernelNet;
use crate::network::Network;

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sites: usize,
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
        if a.servers < 2 {
            return Err(BadInput(format!(
                "--servers {}: an Exchange organization needs 2 sites or more to replicate between",
                a.servers
            )));
        }
        if a.tls {
            return Err(BadInput("--tls: Exchange bridgeheads exchange their messages in clear (no TLS)".into()));
        }
        let max = crate::plan::MAX_TIME_SCALE;
        if !(a.time_scale.is_finite() && (1.0..=max).contains(&a.time_scale)) {
            return Err(BadInput(format!(
                "--time-scale must be a number from 1 to {max}, not {}",
                crate::error::show_number(a.time_scale)
            )));
        }
        Ok(Self {
            sites: usize::from(a.servers),
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

/// One bridgehead as the table shows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub site: String,
    pub listens: String,
    pub host: String,
    pub schedule: String,
    pub inbound: usize,
    pub count: Count,
}

/// What the run found.
#[derive(Debug)]
pub struct Report {
    pub rows: Vec<Row>,
    pub links: Vec<LinkRow>,
    /// What did not settle in time, one line each.
    pub missing: Vec<String>,
}

/// `replharness mesh --flavor exchange`: exit 0 when everything settled, 1 when not.
pub async fn command(args: MeshArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::try_from(args)?;
    crate::out::line(&format!("seed: {}", settings.seed))?;
    let report = run(&settings).await?;
    let mut text = render(&report);
    if let Some(dir) = &settings.case_out {
        let _ = writeln!(text, "\ncase folder: {}", dir.display());
    }
    if report.missing.is_empty() {
        text.push_str("\nall links up; every request of the first activation answered\n");
        crate::out::print(&text)?;
        Ok(ExitCode::SUCCESS)
    } else {
        crate::out::print(&text)?;
        eprintln!("\nnot settled after {:?}:", settings.settle_timeout);
        for m in &report.missing {
            eprintln!("  {m}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Brings the organization up, waits, writes the case, holds it, stops it
/// (whatever happened in between).
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let mut spec = OrgSpec::full(settings.sites, &Schedule::default());
    spec.time_scale = settings.time_scale;
    spec.log_dir = settings.log_dir.clone();
    spec.seed = settings.seed;
    // --network netns: one test host per bridgehead.
    let kernel = match settings.network {
        Network::Proxy => None,
        Network::Netns => {
            let line = crate::network::prepare(Duration::from_secs(10)).await.map_err(crate::Error::from)?;
            crate::out::line(&line)?;
            let names: Vec<String> = spec.sites.iter().map(|s| s.bridgehead.clone()).collect();
            let k = KernelNet::create(&names).await.map_err(crate::Error::from)?;
            for s in &mut spec.sites {
                if let Some(a) = k.address(&s.bridgehead) {
                    s.address = std::net::IpAddr::V4(a);
                }
            }
            Some(k)
        }
    };
    let result = match Organization::start(spec).await {
        Ok(org) => {
            let result = settle_and_hold(&org, settings).await;
            org.shutdown().await;
            result
        }
        Err(e) => Err(e.into()),
    };
    if let Some(k) = &kernel {
        k.shutdown().await.map_err(crate::Error::from)?;
    }
    result
}

/// Every bridgehead has a reply for each context of each inbound site.
fn first_round_missing(org: &Organization) -> Vec<String> {
    org.servers()
        .iter()
        .filter_map(|b| {
            let want = 2 * b.config().inbound_sites.len() as u64;
            let got = b.counts().replies_received;
            (got < want).then(|| format!("{}: {got} of {want} replies of the first activation", b.name()))
        })
        .collect()
}

async fn settle_and_hold(org: &Organization, settings: &Settings) -> anyhow::Result<Report> {
    let mut missing = org.wait_links_up(settings.settle_timeout).await.err().unwrap_or_default();
    if missing.is_empty() {
        let settled = org
            .env()
            .changes
            .wait_until(settings.settle_timeout, || async {
                let m = first_round_missing(org);
                if m.is_empty() {
                    Ok(())
                } else {
                    Err(m)
                }
            })
            .await;
        missing = settled.err().unwrap_or_default();
    } else {
        missing = missing.into_iter().map(|l| format!("link {l} not up")).collect();
    }
    let rows = org
        .servers()
        .iter()
        .map(|b| {
            let cfg = b.config();
            Row {
                name: cfg.bridgehead.clone(),
                site: cfg.site.clone(),
                listens: b.listen_addr().to_string(),
                host: cfg.host.clone(),
                schedule: cfg.schedule.to_string(),
                inbound: cfg.inbound_sites.len(),
                count: b.counts(),
            }
        })
        .collect();
    let report = Report { rows, links: org.link_table(), missing };
    if let Some(dir) = &settings.case_out {
        harness::casefile::write_case(org, dir)?;
    }
    if let Some(hold) = settings.hold_for {
        crate::out::print(&format!(
            "holding the organization for {:.0}s; the connectors go on activating on their schedule\n",
            hold.as_secs_f64()
        ))?;
        tokio::select! {
            _ = tokio::time::sleep(hold) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    Ok(report)
}

/// The bridgehead table and the link table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let w = report.rows.iter().map(|r| r.name.len()).max().unwrap_or(10).max(10);
    let s = report.rows.iter().map(|r| r.site.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:w$}  {:s$}  {:21}  {:7}  {:5}  {:8}  schedule",
        "bridgehead", "site", "listens on", "inbound", "asked", "got back"
    );
    for r in &report.rows {
        let _ = writeln!(
            out,
            "{:w$}  {:s$}  {:21}  {:7}  {:5}  {:8}  {} ({})",
            r.name, r.site, r.listens, r.inbound, r.count.requests_sent, r.count.replies_received, r.schedule, r.host
        );
    }
    let _ = writeln!(out);
    let pair_w = report.links.iter().map(|l| l.from.len() + l.to.len() + 4).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:pair_w$}  {:5}  messages sent", "link", "state");
    for l in &report.links {
        let state = if l.up { "up" } else { "DOWN" };
        let _ = writeln!(out, "{:pair_w$}  {state:5}  {}", format!("{} -> {}", l.from, l.to), l.sent);
    }
    out
}
