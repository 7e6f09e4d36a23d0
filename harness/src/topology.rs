//! What a topology of mock servers shares, whatever their family: the
//! environment (virtual clock, host map, change notices, test PKI), the
//! servers themselves, and the loopback address plan.
//!
//! A family plugs in by giving its server type a [`Member`] impl; a
//! [`Topology`] of those servers then looks servers up by name, waits on
//! change notices without losing a wake-up, writes the case folder through
//! [`crate::casefile`] and stops every server. The family's own handle (DS:
//! [`crate::ds::mesh::Mesh`]) wraps a `Topology` and adds its link tables.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::casefile::{Case, CaseServer, CaseSource};
use crate::clock::VirtualClock;
use crate::error::HarnessError;
use crate::hostmap::HostMap;
use crate::pki::Pki;

/// Change notices: a server's tasks call [`Changes::notify`] whenever a link
/// or session comes up or goes down; waits register before they check, so no
/// notice between a check and the wait is lost.
#[derive(Debug, Clone, Default)]
pub struct Changes(Arc<Notify>);

/// A wait re-checks at least this often, even without a notice: a safety net
/// for state that changes without one (it costs one check per period).
const RECHECK: Duration = Duration::from_millis(200);

impl Changes {
    /// Wakes every waiter.
    pub fn notify(&self) {
        self.0.notify_waiters();
    }

    /// Runs `check` at every change notice until it gives `Ok`, or until
    /// `timeout` has passed (then its last `Err`).
    pub async fn wait_until<T, F, Fut>(&self, timeout: Duration, check: F) -> Result<(), T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), T>>,
    {
        self.wait(timeout, Some(RECHECK), check).await
    }

    async fn wait<T, F, Fut>(&self, timeout: Duration, recheck: Option<Duration>, mut check: F) -> Result<(), T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), T>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.0.notified();
            tokio::pin!(notified);
            // Registered before the check: a notice during it still wakes us.
            notified.as_mut().enable();
            let outcome = check().await;
            if outcome.is_ok() || tokio::time::Instant::now() >= deadline {
                return outcome;
            }
            let until = match recheck {
                Some(period) => deadline.min(tokio::time::Instant::now() + period),
                None => deadline,
            };
            let _ = tokio::time::timeout_at(until, notified).await;
        }
    }
}

/// Shared by every server of a topology, whatever its family.
#[derive(Debug, Clone)]
pub struct Env {
    pub clock: VirtualClock,
    /// Where each server's connections lead (routes to fault-proxy listeners).
    pub hosts: Arc<HostMap>,
    /// Woken whenever any link comes up or goes down.
    pub changes: Changes,
    /// The topology's test PKI, when some server runs TLS.
    pub pki: Option<Arc<Pki>>,
}

impl Env {
    /// A fresh environment: an empty host map, no change yet.
    pub fn new(clock: VirtualClock, pki: Option<Arc<Pki>>) -> Self {
        Self { clock, hosts: Arc::new(HostMap::new()), changes: Changes::default(), pki }
    }
}

/// What a topology needs of each server, whatever its family.
pub trait Member: Send + Sync + 'static {
    /// Its name in the topology and the case folder.
    fn name(&self) -> String;

    /// Its `[[servers]]` entry of `topology.toml` and its files, as they are now.
    fn case_server(&self, env: &Env) -> CaseServer;

    /// Stops it cleanly (a stopped server does nothing).
    fn stop(&self) -> impl Future<Output = ()> + Send;
}

/// The servers of one topology and their environment.
#[derive(Debug)]
pub struct Topology<S> {
    env: Env,
    servers: Vec<Arc<S>>,
}

impl<S: Member> Topology<S> {
    /// Holds `servers`, whose names must differ.
    pub fn new(env: Env, servers: Vec<Arc<S>>) -> Result<Self, HarnessError> {
        let mut names = std::collections::BTreeSet::new();
        for s in &servers {
            let name = s.name();
            if !names.insert(name.clone()) {
                return Err(HarnessError::Config(format!("two servers are named {name:?}")));
            }
        }
        Ok(Self { env, servers })
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn servers(&self) -> &[Arc<S>] {
        &self.servers
    }

    pub fn server(&self, name: &str) -> Result<&Arc<S>, HarnessError> {
        self.servers.iter().find(|s| s.name() == name).ok_or_else(|| HarnessError::UnknownServer(name.to_owned()))
    }

    /// Stops every server cleanly, in order.
    pub async fn shutdown(&self) {
        for s in &self.servers {
            s.stop().await;
        }
    }
}

impl<S: Member> CaseSource for Topology<S> {
    fn case(&self) -> Case {
        Case {
            collected_at: self.env.clock.now(),
            servers: self.servers.iter().map(|s| s.case_server(&self.env)).collect(),
            extra: toml::Table::new(),
        }
    }
}

/// The loopback address of server number `i` (from 1): 127.0.0.1 to
/// 127.0.0.254, then 127.0.1.1 to 127.0.1.254, … (never .0 or .255, so no
/// two servers share one).
pub fn loopback_for(i: usize) -> IpAddr {
    let k = i.max(1) - 1;
    let host = (k % 254) as u8 + 1;
    let third = ((k / 254) % 256) as u8;
    let second = ((k / 254 / 256) % 256) as u8;
    IpAddr::V4(Ipv4Addr::new(127, second, third, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_for_server_255_and_256_differ() {
        // Regression: 255 and 256 both got 127.0.1.1.
        assert_ne!(loopback_for(255), loopback_for(256));
        let all: std::collections::BTreeSet<IpAddr> = (1..=70_000).map(loopback_for).collect();
        assert_eq!(all.len(), 70_000, "every server its own address");
        assert_eq!(loopback_for(1), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(loopback_for(254), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 254)));
        assert_eq!(loopback_for(255), IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)));
        assert!(all.iter().all(|a| a.is_loopback()));
    }

    #[tokio::test]
    async fn a_notice_during_the_check_is_not_lost() {
        let changes = Changes::default();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, f) = (changes.clone(), flag.clone());
        let mut checks = 0;
        // The state changes (and is notified) while the first check runs.
        // Without the periodic re-check, only that notice can wake the wait
        // before its timeout.
        let outcome = changes
            .wait(Duration::from_secs(10), None, || {
                checks += 1;
                let (c, f) = (c.clone(), f.clone());
                async move {
                    let seen = f.load(std::sync::atomic::Ordering::SeqCst);
                    if !seen {
                        f.store(true, std::sync::atomic::Ordering::SeqCst);
                        c.notify();
                    }
                    if seen {
                        Ok(())
                    } else {
                        Err(())
                    }
                }
            })
            .await;
        assert_eq!(outcome, Ok(()), "the notice sent during the check woke the wait");
        assert_eq!(checks, 2);
    }
}
