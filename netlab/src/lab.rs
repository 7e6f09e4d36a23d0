//! A lab: one namespace per test host, each with a veth to a bridge in a
//! switch namespace of its own, and every host's address in 198.18.0.0/15.
//!
//! ```text
//!   replharness-P-S-L-h1-ds-1        replharness-P-S-L-sw          replharness-P-S-L-h2-ds-2
//!   eth0 198.18.0.1/15  <-- veth -->  h1 ── br0 ── h2  <-- veth -->  eth0 198.18.0.2/15
//!   lo                                                               lo
//! ```
//!
//! Nothing is made in the machine's own namespace: no interface, no route,
//! no rule. Removing a lab deletes its namespaces, which takes their veths,
//! the bridge and their nftables tables with them. A lab is removed by
//! [`Lab::shutdown`], by its `Drop` (an error, a panic, a deadline), by
//! [`remove_all_mine`] (Ctrl-C, SIGTERM), and, after a `kill -9`, by the next
//! lab of any process ([`sweep`]), which removes the namespaces whose owner
//! is gone and never those of a live process.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cmd;
use crate::error::Error;
use crate::host::Host;
use crate::names::{self, Owner};

/// Namespaces this process made and has not removed yet.
static MINE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Addresses (offsets in 198.18.0.0/15) held by this process's live labs.
static ADDRESSES: Mutex<Addresses> = Mutex::new(Addresses { used: BTreeSet::new(), cursor: 0 });

static NEXT_LAB: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 198.18.0.0/15: 131 072 addresses, of which hosts take those whose last
/// byte is neither 0 nor 255 (easier to read), and never the first or last.
#[derive(Debug)]
struct Addresses {
    used: BTreeSet<u32>,
    cursor: u32,
}

const SPAN: u32 = 1 << 17;

/// The address at `offset` in 198.18.0.0/15.
fn at(offset: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + (offset % SPAN))
}

impl Addresses {
    fn take(&mut self, n: usize) -> Result<Vec<Ipv4Addr>, Error> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut tried = 0;
        while out.len() < n {
            if tried >= SPAN {
                for a in &out {
                    self.used.remove(&(u32::from(*a) - u32::from(Ipv4Addr::new(198, 18, 0, 0))));
                }
                return Err(Error::NoAddress { wanted: n });
            }
            self.cursor = (self.cursor + 1) % SPAN;
            tried += 1;
            let last = self.cursor & 0xff;
            if last == 0 || last == 255 || self.used.contains(&self.cursor) {
                continue;
            }
            self.used.insert(self.cursor);
            out.push(at(self.cursor));
        }
        Ok(out)
    }

    fn give_back(&mut self, addrs: &[Ipv4Addr]) {
        let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
        for a in addrs {
            self.used.remove(&(u32::from(*a).wrapping_sub(base)));
        }
        if self.used.is_empty() {
            // The next lab starts at 198.18.0.1 again: addresses read the same run after run.
            self.cursor = 0;
        }
    }
}

/// A lab's network: a switch and its test hosts.
#[derive(Debug)]
pub struct Lab {
    id: u64,
    owner: Owner,
    switch: String,
    hosts: Vec<Arc<Host>>,
    addresses: Vec<Ipv4Addr>,
    /// Namespaces made and not removed yet.
    made: Mutex<Vec<String>>,
}

/// The namespaces that exist now (`ip netns list`, read from `/run/netns`).
pub fn namespaces() -> Vec<String> {
    let mut out: Vec<String> = match std::fs::read_dir("/run/netns") {
        Ok(d) => d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn delete(names: &[String]) -> Result<(), Error> {
    if names.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = names.iter().map(|n| format!("netns delete {n}")).collect();
    // -force: go on past a name already gone (another process swept it).
    let result = cmd::ip_batch(None, true, &lines);
    let left: Vec<&String> = {
        let now = namespaces();
        names.iter().filter(|n| now.contains(n)).collect()
    };
    match (result, left.is_empty()) {
        (_, true) => Ok(()),
        (Err(e), false) => Err(e),
        (Ok(()), false) => Err(Error::Command {
            what: "ip netns delete".into(),
            detail: format!("still there: {}", left.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
        }),
    }
}

/// Removes every namespace of this crate whose owner process is gone (a run
/// killed with `kill -9`, a crash); a live process's are left alone.
/// Returns the names removed.
pub fn sweep() -> Result<Vec<String>, Error> {
    let dead: Vec<String> =
        namespaces().into_iter().filter(|n| names::parse(n).is_some_and(|p| !p.owner.alive())).collect();
    if !dead.is_empty() {
        tracing::info!(
            count = dead.len(),
            "removing test hosts left behind by runs that are gone: {}",
            dead.join(", ")
        );
        delete(&dead)?;
    }
    Ok(dead)
}

/// Removes every namespace this process made and still has (for Ctrl-C
/// and SIGTERM, just before the process exits). Returns how many.
pub fn remove_all_mine() -> usize {
    let names: Vec<String> = std::mem::take(&mut *lock(&MINE)).into_iter().collect();
    if let Err(e) = delete(&names) {
        tracing::warn!("removing this run's test hosts: {e}");
    }
    names.len()
}

impl Lab {
    /// Makes a lab with one test host per name (in order: host 1 gets the
    /// first address), after sweeping what dead runs left behind.
    pub fn create(hosts: &[&str]) -> Result<Lab, Error> {
        if hosts.is_empty() {
            return Err(Error::Invalid("a lab needs at least one test host".into()));
        }
        if let Err(e) = sweep() {
            tracing::warn!("could not remove every leftover test host: {e}");
        }
        let owner = Owner::me();
        let id = NEXT_LAB.fetch_add(1, Ordering::Relaxed);
        let addresses = lock(&ADDRESSES).take(hosts.len())?;
        let switch = names::name(owner, id, "sw");
        let host_ns: Vec<String> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| names::name(owner, id, &format!("h{}-{}", i + 1, names::safe(h))))
            .collect();
        let mut lab = Lab { id, owner, switch, hosts: Vec::new(), addresses, made: Mutex::new(Vec::new()) };
        match lab.build(hosts, &host_ns) {
            Ok(()) => Ok(lab),
            Err(e) => {
                let _ = lab.shutdown();
                Err(e)
            }
        }
    }

    fn build(&mut self, hosts: &[&str], host_ns: &[String]) -> Result<(), Error> {
        let mut all = vec![self.switch.clone()];
        all.extend(host_ns.iter().cloned());
        // Recorded before they exist: a Ctrl-C in between still removes them.
        lock(&MINE).extend(all.iter().cloned());
        lock(&self.made).extend(all.iter().cloned());
        cmd::ip_batch(None, false, &all.iter().map(|n| format!("netns add {n}")).collect::<Vec<_>>())?;
        let mut sw = vec!["link add br0 type bridge".to_owned(), "link set br0 up".to_owned()];
        for (i, ns) in host_ns.iter().enumerate() {
            let port = format!("h{}", i + 1);
            sw.push(format!("link add {port} type veth peer name eth0 netns {ns}"));
            sw.push(format!("link set {port} master br0"));
            sw.push(format!("link set {port} up"));
        }
        cmd::ip_batch(Some(&self.switch), false, &sw)?;
        for ((name, ns), address) in hosts.iter().zip(host_ns).zip(&self.addresses) {
            let host = Host::enter(name, ns, *address)?;
            cmd::ip_batch(Some(ns), false, &host.setup_lines())?;
            for (path, value) in crate::host::SETTINGS {
                host.sysctl(path, value).map_err(|source| Error::Host {
                    host: name.to_string(),
                    what: "cannot set a network setting",
                    source,
                })?;
            }
            self.hosts.push(Arc::new(host));
        }
        tracing::debug!(lab = self.id, hosts = hosts.len(), "lab up");
        Ok(())
    }

    /// The lab's number in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The process that owns it.
    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// The switch namespace (the bridge `br0`).
    pub fn switch(&self) -> &str {
        &self.switch
    }

    pub fn hosts(&self) -> &[Arc<Host>] {
        &self.hosts
    }

    /// The host made for `name`.
    pub fn host(&self, name: &str) -> Option<&Arc<Host>> {
        self.hosts.iter().find(|h| h.name() == name)
    }

    /// Removes every namespace of the lab (so every link and rule in them)
    /// and gives its addresses back. Safe to call again.
    pub fn shutdown(&self) -> Result<(), Error> {
        for h in &self.hosts {
            h.stop();
        }
        let made = std::mem::take(&mut *lock(&self.made));
        if made.is_empty() {
            return Ok(());
        }
        let result = delete(&made);
        {
            let mut mine = lock(&MINE);
            for n in &made {
                mine.remove(n);
            }
        }
        lock(&ADDRESSES).give_back(&self.addresses);
        result
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::warn!("removing lab {}: {e}", self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_skip_dot_0_and_dot_255_and_are_never_shared() {
        let mut a = Addresses { used: BTreeSet::new(), cursor: 0 };
        let first = a.take(300).expect("room");
        assert_eq!(first[0], Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(first[253], Ipv4Addr::new(198, 18, 0, 254));
        assert_eq!(first[254], Ipv4Addr::new(198, 18, 1, 1));
        let second = a.take(10).expect("room");
        assert!(second.iter().all(|x| !first.contains(x)));
        assert!(first.iter().chain(&second).all(|x| {
            let o = x.octets();
            o[0] == 198 && (o[1] == 18 || o[1] == 19) && o[3] != 0 && o[3] != 255
        }));
        a.give_back(&first);
        a.give_back(&second);
        assert_eq!(a.take(1).expect("room"), [Ipv4Addr::new(198, 18, 0, 1)], "starts over once all are back");
    }

    #[test]
    fn the_range_runs_out_instead_of_wrapping_into_used_addresses() {
        let mut a = Addresses { used: BTreeSet::new(), cursor: 0 };
        let usable = (0..SPAN).filter(|o| o & 0xff != 0 && o & 0xff != 255).count();
        let all = a.take(usable).expect("every usable address");
        assert!(all.iter().all(|x| x.octets()[0] == 198));
        assert!(matches!(a.take(1), Err(Error::NoAddress { wanted: 1 })));
    }

    #[test]
    fn an_empty_lab_is_refused() {
        assert!(matches!(Lab::create(&[]), Err(Error::Invalid(_))));
    }
}
