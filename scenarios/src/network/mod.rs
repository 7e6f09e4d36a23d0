//! The network a scenario runs on (`--network`, `[topology] network`):
//!
//! - `proxy` (the default): every server on its own loopback address, the
//!   in-process fault proxy on each directed link, faults as toxics;
//! - `netns`: every server on a test host of its own (a network namespace
//!   with an address in 198.18.0.0/15, all on one bridge), no proxy, faults
//!   as nftables rules on the hosts (root only).
//!
//! Code map:
//! - [`fault`]: what each fault becomes as kernel rules, the kernel-only
//!   faults, and the refusal of what the kernel cannot do.
//! - [`kernel`]: one topology's kernel network: the lab, its hosts
//!   registered with the harness, faults on the timeline, the case's note.
//! - [`prepare`], [`guard_signals`]: before a netns run: the machine can, Ctrl-C and SIGTERM
//!   remove this process's test hosts, leftovers of killed runs are removed.

pub mod fault;
pub mod kernel;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which network a scenario runs on.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Loopback addresses and the userspace fault proxy on every link.
    #[default]
    Proxy,
    /// One network namespace per server on a bridge, faults as nftables rules (root).
    Netns,
}

impl Network {
    pub fn name(self) -> &'static str {
        match self {
            Network::Proxy => "proxy",
            Network::Netns => "netns",
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The `--network` flag, shared by `run`, `mesh` and `lab`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetworkArg {
    /// proxy: loopback and the userspace fault proxy (default); netns: a network namespace per
    /// server, faults as nftables rules (root). Overrides the files' `[topology] network`.
    #[arg(long, value_enum, value_name = "proxy|netns")]
    pub network: Option<Network>,
}

/// What can go wrong with the kernel network.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The machine cannot make test hosts (not root, no `ip` or `nft`).
    #[error("{0}")]
    Unavailable(String),
    /// Making or removing the lab, its hosts or their addresses.
    #[error("kernel network: {0}")]
    Lab(String),
    /// Installing or removing a fault's rules.
    #[error("kernel network rule: {0}")]
    Rule(String),
    /// A combination the netns network refuses (bad input).
    #[error("{0}")]
    Refused(String),
}

impl NetworkError {
    /// The machine or the command line is at fault (exit 2), not a scenario.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, NetworkError::Unavailable(_) | NetworkError::Refused(_))
    }
}

/// Whether this machine can run the netns network (root, `ip`, `nft`).
pub fn preflight() -> Result<(), NetworkError> {
    netlab::preflight::check().map_err(|e| NetworkError::Unavailable(format!("--network netns: {e}")))
}

/// Removes what runs killed earlier left behind, now (the names of the
/// namespaces removed).
pub async fn sweep() -> Result<Vec<String>, NetworkError> {
    tokio::task::spawn_blocking(netlab::sweep)
        .await
        .map_err(|e| NetworkError::Lab(e.to_string()))?
        .map_err(|e| NetworkError::Lab(e.to_string()))
}

/// Before a run or a mesh on the netns network: checks that the machine can
/// make test hosts (else the reason, bad input), has Ctrl-C (after
/// `grace`) and SIGTERM remove them ([`guard_signals`]), and removes what
/// killed runs left behind. Returns a line for the user.
pub async fn prepare(grace: Duration) -> Result<String, NetworkError> {
    preflight()?;
    guard_signals(grace);
    let removed = sweep().await?;
    let mut line =
        "network: netns (a network namespace per server in 198.18.0.0/15, faults as nftables rules)".to_owned();
    if !removed.is_empty() {
        line.push_str(&format!("; removed {} network namespaces left by runs that were killed", removed.len()));
    }
    Ok(line)
}

/// On SIGTERM at once, on Ctrl-C (SIGINT) after `grace` (time for a
/// command that ends cleanly on Ctrl-C, as `mesh --hold-for` does, to remove
/// its labs itself): removes every test host this process still has and
/// exits with 143 or 130. A `kill -9` cannot be
/// caught: the next lab of any process sweeps what it left ([`netlab::sweep`]).
pub fn guard_signals(grace: Duration) {
    use tokio::signal::unix::{signal, SignalKind};
    static ONCE: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if !first {
        return;
    }
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        tracing::warn!(
            "cannot watch for Ctrl-C and SIGTERM: an interrupted run may leave test hosts for the next run to remove"
        );
        return;
    };
    tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        if code == 130 {
            tokio::select! {
                _ = tokio::time::sleep(grace) => {}
                _ = term.recv() => {}
            }
        }
        let removed = tokio::task::spawn_blocking(netlab::remove_all_mine).await.unwrap_or(0);
        eprintln!("replharness: interrupted; removed {removed} network namespaces of this run");
        std::process::exit(code);
    });
}
