//! The kernel network of one topology: a [`netlab::Lab`] with one test host
//! per server, each host's address registered with the harness
//! ([`harness::testnet`]) so the server's sockets are made inside it, and
//! the faults of the timeline as nftables rules on the hosts, switched on
//! and off by their schedule as the proxy switches its toxics.
//!
//! Every `ip` and `nft` call runs on tokio's blocking pool. The lab is
//! removed by [`KernelNet::shutdown`], or by its `Drop` if the scenario's
//! future is dropped (deadline, panic).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::testnet::{self, Registration, SocketMaker};
use netlab::{Host, Lab, Rule};
use tokio::sync::Notify;

use super::fault::{KernelFault, Side};
use super::NetworkError;

/// The keys of each `[[network.hosts]]` entry of a case's `topology.toml`.
pub const HOST_KEYS: &[&str] = &[
    "server",
    "namespace",
    "address",
    "tcp_retransmitted_segments",
    "tcp_syn_retransmits",
    "tcp_resets_sent",
    "tcp_failed_attempts",
];

/// A test host's sockets, for the harness.
#[derive(Debug)]
struct HostSockets(Arc<Host>);

impl SocketMaker for HostSockets {
    fn tcp_socket(&self, ipv4: bool) -> std::io::Result<OwnedFd> {
        self.0.tcp_socket(ipv4)
    }
}

/// A directed link: the connections `from` opens to `to`'s port `port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    pub from: String,
    pub to: String,
    pub port: u16,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}->{}:{}", self.from, self.to, self.port)
    }
}

/// One fault on one directed link: its chains, and the task that runs its schedule.
#[derive(Debug)]
struct Installed {
    chains: Vec<(Arc<Host>, String, Vec<Rule>)>,
    /// Ends the schedule's task, which then takes the chains off if they are on.
    stop: Arc<Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The kernel network of one topology.
#[derive(Debug)]
pub struct KernelNet {
    /// Taken (unregistered) at shutdown, before the lab gives its addresses
    /// back; declared first, so a drop also unregisters before the lab goes.
    registered: Mutex<Vec<Registration>>,
    lab: Arc<Lab>,
    faults: tokio::sync::Mutex<BTreeMap<(Link, String), Installed>>,
    next_chain: AtomicU64,
    /// The first error a schedule task met (it cannot return one).
    late_error: Arc<Mutex<Option<String>>>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, NetworkError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| NetworkError::Lab(format!("a blocking task failed: {e}")))
}

async fn install(chains: &[(Arc<Host>, String, Vec<Rule>)]) -> Result<(), NetworkError> {
    for (host, chain, rules) in chains {
        let (h, c, r) = (host.clone(), chain.clone(), rules.clone());
        blocking(move || h.install(&c, &r)).await?.map_err(|e| NetworkError::Rule(e.to_string()))?;
    }
    Ok(())
}

async fn remove(chains: &[(Arc<Host>, String, Vec<Rule>)]) -> Result<(), NetworkError> {
    for (host, chain, _) in chains {
        let (h, c) = (host.clone(), chain.clone());
        blocking(move || h.remove(&c)).await?.map_err(|e| NetworkError::Rule(e.to_string()))?;
    }
    Ok(())
}

impl KernelNet {
    /// Makes one test host per server (in order) and registers their addresses.
    pub async fn create(servers: &[String]) -> Result<KernelNet, NetworkError> {
        let names = servers.to_vec();
        let lab = blocking(move || Lab::create(&names.iter().map(String::as_str).collect::<Vec<_>>()))
            .await?
            .map_err(|e| NetworkError::Lab(e.to_string()))?;
        let lab = Arc::new(lab);
        let mut registered = Vec::new();
        for h in lab.hosts() {
            let maker = Arc::new(HostSockets(h.clone()));
            let r = testnet::register(IpAddr::V4(h.address()), lab.id(), maker)
                .map_err(|e| NetworkError::Lab(format!("test host {}: {e}", h.name())))?;
            registered.push(r);
        }
        tracing::debug!(lab = lab.id(), hosts = servers.len(), "kernel network up");
        Ok(KernelNet {
            registered: Mutex::new(registered),
            lab,
            faults: tokio::sync::Mutex::new(BTreeMap::new()),
            next_chain: AtomicU64::new(1),
            late_error: Arc::new(Mutex::new(None)),
        })
    }

    /// The address of `server`'s test host.
    pub fn address(&self, server: &str) -> Option<Ipv4Addr> {
        self.lab.host(server).map(|h| h.address())
    }

    /// The lab underneath (namespace names, counters).
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    fn host(&self, server: &str) -> Result<Arc<Host>, NetworkError> {
        self.lab.host(server).cloned().ok_or_else(|| NetworkError::Lab(format!("no test host for {server}")))
    }

    /// Adds `fault` to the directed link `link`: on now, or on its schedule from now.
    pub async fn add(&self, link: &Link, fault: &KernelFault) -> Result<(), NetworkError> {
        let key = (link.clone(), fault.name.clone());
        let mut faults = self.faults.lock().await;
        if faults.contains_key(&key) {
            return Err(NetworkError::Rule(format!("link {link}: a fault named {:?} is already on", fault.name)));
        }
        let (client, server) = (self.host(&link.from)?, self.host(&link.to)?);
        let mut by_side: BTreeMap<Side, Vec<Rule>> = BTreeMap::new();
        for (side, rule) in fault.rules(client.address(), server.address(), link.port) {
            by_side.entry(side).or_default().push(rule);
        }
        let chains: Vec<(Arc<Host>, String, Vec<Rule>)> = by_side
            .into_iter()
            .map(|(side, rules)| {
                let host = if side == Side::Server { server.clone() } else { client.clone() };
                (host, format!("f{}", self.next_chain.fetch_add(1, Ordering::Relaxed)), rules)
            })
            .collect();
        let stop = Arc::new(Notify::new());
        let task = match &fault.schedule {
            None => {
                install(&chains).await?;
                None
            }
            Some(schedule) => {
                let (schedule, chains, stop, late) =
                    (schedule.clone(), chains.clone(), stop.clone(), self.late_error.clone());
                Some(tokio::spawn(async move {
                    if let Err(e) = follow(&schedule, &chains, &stop).await {
                        tracing::warn!("a scheduled kernel fault: {e}");
                        late.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e.to_string());
                    }
                }))
            }
        };
        tracing::debug!(%link, fault = %fault.name, chains = chains.len(), "kernel fault added");
        faults.insert(key, Installed { chains, stop, task });
        Ok(())
    }

    /// Removes the fault named `name` from `link` (its rules at once).
    pub async fn remove(&self, link: &Link, name: &str) -> Result<(), NetworkError> {
        let installed = self.faults.lock().await.remove(&(link.clone(), name.to_owned()));
        let Some(mut f) = installed else {
            return Err(NetworkError::Rule(format!("link {link}: no fault named {name:?}")));
        };
        match f.task.take() {
            // The task takes its chains off as it ends.
            Some(t) => {
                f.stop.notify_one();
                let _ = t.await;
                Ok(())
            }
            None => remove(&f.chains).await,
        }
    }

    /// The first error a scheduled fault met while it ran, if any.
    pub fn late_error(&self) -> Option<String> {
        self.late_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// What the case folder notes of this network: `[network]` of `topology.toml`.
    pub async fn note(&self) -> toml::Table {
        let lab = self.lab.clone();
        let hosts = blocking(move || {
            lab.hosts()
                .iter()
                .map(|h| {
                    let mut t = toml::Table::new();
                    let [server, namespace, address, retransmitted, syn, resets, failed] = HOST_KEYS else {
                        return toml::Value::Table(t);
                    };
                    t.insert((*server).into(), h.name().into());
                    t.insert((*namespace).into(), h.netns().into());
                    t.insert((*address).into(), h.address().to_string().into());
                    if let Ok(c) = h.tcp_counters() {
                        let n = |v: u64| toml::Value::Integer(i64::try_from(v).unwrap_or(i64::MAX));
                        t.insert((*retransmitted).into(), n(c.retransmitted_segments));
                        t.insert((*syn).into(), n(c.syn_retransmits));
                        t.insert((*resets).into(), n(c.resets_sent));
                        t.insert((*failed).into(), n(c.failed_attempts));
                    }
                    toml::Value::Table(t)
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut t = toml::Table::new();
        t.insert("kind".into(), "netns".into());
        t.insert("range".into(), "198.18.0.0/15".into());
        t.insert("switch".into(), self.lab.switch().into());
        t.insert("hosts".into(), toml::Value::Array(hosts));
        t
    }

    /// Stops every schedule, then removes the lab (namespaces, links, rules).
    pub async fn shutdown(&self) -> Result<(), NetworkError> {
        let faults = std::mem::take(&mut *self.faults.lock().await);
        for (_, mut f) in faults {
            if let Some(t) = f.task.take() {
                f.stop.notify_one();
                let _ = t.await;
            }
        }
        // Unregistered first: the lab's addresses may go to another lab as soon as it is removed.
        self.registered.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let lab = self.lab.clone();
        blocking(move || lab.shutdown()).await?.map_err(|e| NetworkError::Lab(e.to_string()))
    }
}

impl Drop for KernelNet {
    /// A network dropped without [`KernelNet::shutdown`] (a deadline, a
    /// panic): its schedules stop; the lab's own drop removes the namespaces.
    fn drop(&mut self) {
        if let Ok(mut faults) = self.faults.try_lock() {
            for f in faults.values_mut() {
                if let Some(t) = f.task.take() {
                    t.abort();
                }
            }
        }
    }
}

/// Runs a fault's schedule: its chains on while `schedule.active`, off
/// otherwise, until the schedule ends or `stop` is notified (then off).
async fn follow(
    schedule: &fault_proxy::schedule::Schedule,
    chains: &[(Arc<Host>, String, Vec<Rule>)],
    stop: &Notify,
) -> Result<(), NetworkError> {
    let since = tokio::time::Instant::now();
    let mut on = false;
    loop {
        let elapsed = since.elapsed();
        let want = schedule.active(elapsed);
        if want != on {
            if want {
                install(chains).await?;
            } else {
                remove(chains).await?;
            }
            on = want;
        }
        let Some(next) = schedule.next_change(elapsed) else {
            // No change ever again: on for good (until removed), or over.
            if on {
                stop.notified().await;
            }
            break;
        };
        // Never spin: a change that is due now is taken at the next turn.
        let at = since + next.max(elapsed + Duration::from_millis(1));
        tokio::select! {
            _ = stop.notified() => break,
            _ = tokio::time::sleep_until(at) => {}
        }
    }
    if on {
        remove(chains).await?;
    }
    Ok(())
}
