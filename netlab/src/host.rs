//! One test host: a network namespace with one address, and a worker thread
//! that entered it.
//!
//! A socket belongs to the namespace of the thread that created it, and
//! keeps it for life: bound, connected and used from any thread afterwards,
//! it still sends and receives inside its namespace. So each host has one
//! plain thread that called `setns` into the host's namespace (through
//! rustix, which keeps `unsafe` out of this workspace) and makes the host's
//! sockets on request; everything else (binding, connecting, every byte)
//! runs on the caller's async runtime as for any socket. The thread also
//! reads the host's own TCP counters (`/proc/thread-self/net/…` shows the
//! reading thread's namespace).

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd as _, OwnedFd};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use rustix::net::{ipproto, socket_with, AddressFamily, SocketFlags, SocketType};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

use crate::error::Error;
use crate::rules::{self, Rule};
use crate::{cmd, CIDR_PREFIX};

/// What a host's worker thread is asked to do.
enum Request {
    Socket {
        ipv4: bool,
        reply: mpsc::SyncSender<io::Result<OwnedFd>>,
    },
    Counters {
        reply: mpsc::SyncSender<io::Result<TcpCounters>>,
    },
    /// Writes a `/proc/sys/net/…` setting of the host's namespace.
    Sysctl {
        path: &'static str,
        value: String,
        reply: mpsc::SyncSender<io::Result<()>>,
    },
}

/// The settings every test host gets: ICMP errors are not rate-limited
/// (the kernel sends one per second per peer after a burst of 6; servers
/// on a virtual clock retry a hundred times faster than the product, and a
/// rejected SYN would go unanswered, like a drop).
pub const SETTINGS: &[(&str, &str)] = &[("/proc/sys/net/ipv4/icmp_ratelimit", "0")];

/// A host's TCP counters since its namespace was made (the kernel's MIB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpCounters {
    /// Segments sent again (`Tcp: RetransSegs`): the real retransmits.
    pub retransmitted_segments: u64,
    /// SYNs sent again (`TcpExt: TCPSynRetrans`).
    pub syn_retransmits: u64,
    /// RSTs sent (`Tcp: OutRsts`).
    pub resets_sent: u64,
    /// Connection attempts that failed (`Tcp: AttemptFails`).
    pub failed_attempts: u64,
}

/// Reads `Name: keys` / `Name: values` line pairs of `/proc/net/snmp` or
/// `/proc/net/netstat` for one field.
pub fn mib_field(text: &str, group: &str, field: &str) -> Option<u64> {
    let mut lines = text.lines().filter(|l| l.split(':').next() == Some(group));
    while let (Some(keys), Some(values)) = (lines.next(), lines.next()) {
        let keys = keys.split_whitespace().skip(1);
        let values = values.split_whitespace().skip(1);
        if let Some((_, v)) = keys.zip(values).find(|(k, _)| *k == field) {
            return v.parse().ok();
        }
    }
    None
}

fn read_counters() -> io::Result<TcpCounters> {
    let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp")?;
    let netstat = std::fs::read_to_string("/proc/thread-self/net/netstat").unwrap_or_default();
    let f = |text: &str, group, field| mib_field(text, group, field).unwrap_or(0);
    Ok(TcpCounters {
        retransmitted_segments: f(&snmp, "Tcp", "RetransSegs"),
        syn_retransmits: f(&netstat, "TcpExt", "TCPSynRetrans"),
        resets_sent: f(&snmp, "Tcp", "OutRsts"),
        failed_attempts: f(&snmp, "Tcp", "AttemptFails"),
    })
}

fn tcp_socket(ipv4: bool) -> io::Result<OwnedFd> {
    let family = if ipv4 { AddressFamily::INET } else { AddressFamily::INET6 };
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    socket_with(family, SocketType::STREAM, flags, Some(ipproto::TCP)).map_err(io::Error::from)
}

/// The worker: enters the namespace, says so, then serves requests until
/// every sender is gone.
fn worker(netns_path: String, ready: mpsc::SyncSender<io::Result<()>>, requests: mpsc::Receiver<Request>) {
    let entered = File::open(&netns_path)
        .and_then(|f| move_into_link_name_space(f.as_fd(), Some(LinkNameSpaceType::Network)).map_err(io::Error::from));
    let failed = entered.is_err();
    let _ = ready.send(entered);
    if failed {
        return;
    }
    for r in requests {
        match r {
            Request::Socket { ipv4, reply } => {
                let _ = reply.send(tcp_socket(ipv4));
            }
            Request::Counters { reply } => {
                let _ = reply.send(read_counters());
            }
            Request::Sysctl { path, value, reply } => {
                // /proc/sys/net is the opening thread's namespace's.
                let _ = reply.send(std::fs::write(path, &value));
            }
        }
    }
}

/// A test host of a [`crate::Lab`].
#[derive(Debug)]
pub struct Host {
    name: String,
    netns: String,
    address: Ipv4Addr,
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Host {
    /// Starts the worker thread of a host whose namespace `netns` exists.
    pub(crate) fn enter(name: &str, netns: &str, address: Ipv4Addr) -> Result<Host, Error> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let path = format!("/run/netns/{netns}");
        let thread = std::thread::Builder::new()
            .name(format!("netns {name}"))
            .spawn(move || worker(path, ready_tx, rx))
            .map_err(|source| Error::Host { host: name.to_owned(), what: "cannot start its thread", source })?;
        let entered = ready_rx.recv().unwrap_or_else(|_| Err(io::Error::other("the thread ended at once")));
        if let Err(source) = entered {
            let _ = thread.join();
            return Err(Error::Host { host: name.to_owned(), what: "cannot enter its namespace (setns)", source });
        }
        Ok(Host {
            name: name.to_owned(),
            netns: netns.to_owned(),
            address,
            requests: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The server name it was made for.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its namespace (`ip netns exec NAME …` reaches it).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// Its address on the lab's bridge (in 198.18.0.0/15).
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The `ip` lines that configure it (its side of the veth is `eth0`).
    ///
    /// `gso_max_segs 1`: the host sends one MTU-sized segment per packet, as
    /// onto a wire, so a rule (a loss, a rate) sees the packets a firewall on
    /// a real link sees; a veth would otherwise carry up to 64 KB of TCP
    /// segments as one packet, and 20% loss would hit a handful of them.
    pub(crate) fn setup_lines(&self) -> Vec<String> {
        vec![
            "link set lo up".into(),
            format!("addr add {}/{CIDR_PREFIX} dev eth0", self.address),
            "link set eth0 gso_max_segs 1".into(),
            "link set eth0 up".into(),
        ]
    }

    fn ask<T>(&self, make: impl FnOnce(mpsc::SyncSender<io::Result<T>>) -> Request) -> io::Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        let sent = match &*self.requests.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(tx) => tx.send(make(reply)).is_ok(),
            None => false,
        };
        if !sent {
            return Err(io::Error::new(io::ErrorKind::NotConnected, format!("test host {} is shut down", self.name)));
        }
        answer.recv().unwrap_or_else(|_| Err(io::Error::other(format!("test host {}: its thread ended", self.name))))
    }

    /// A new TCP socket (non-blocking, close-on-exec, not bound) inside this
    /// host: one round trip to its thread.
    pub fn tcp_socket(&self, ipv4: bool) -> io::Result<OwnedFd> {
        self.ask(|reply| Request::Socket { ipv4, reply })
    }

    /// Sets one of its `/proc/sys/net` settings.
    pub fn sysctl(&self, path: &'static str, value: &str) -> io::Result<()> {
        if !path.starts_with("/proc/sys/net/") {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{path} is not a network setting")));
        }
        self.ask(|reply| Request::Sysctl { path, value: value.to_owned(), reply })
    }

    /// Its TCP counters now.
    pub fn tcp_counters(&self) -> io::Result<TcpCounters> {
        self.ask(|reply| Request::Counters { reply })
    }

    /// Installs `rules` as the base chain `chain` of its table (replacing one of that name).
    pub fn install(&self, chain: &str, rules: &[Rule]) -> Result<(), Error> {
        cmd::nft_in(&self.netns, &rules::install_script(chain, rules)?).map(|_| ())
    }

    /// Removes the chain `chain` and its rules.
    pub fn remove(&self, chain: &str) -> Result<(), Error> {
        cmd::nft_in(&self.netns, &rules::remove_script(chain)?).map(|_| ())
    }

    /// Its whole ruleset as `nft list ruleset` prints it.
    pub fn ruleset(&self) -> Result<String, Error> {
        cmd::run("ip", &["netns", "exec", &self.netns, "nft", "list", "ruleset"], "", cmd::TIMEOUT)
    }

    /// Ends its thread (sockets already made stay valid).
    pub(crate) fn stop(&self) {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mib_fields_are_found_by_name() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RetransSegs OutRsts\nTcp: 1 17 4\n";
        assert_eq!(mib_field(snmp, "Tcp", "RetransSegs"), Some(17));
        assert_eq!(mib_field(snmp, "Tcp", "OutRsts"), Some(4));
        assert_eq!(mib_field(snmp, "Ip", "DefaultTTL"), Some(64));
        assert_eq!(mib_field(snmp, "Tcp", "Nope"), None);
        assert_eq!(mib_field("", "Tcp", "RetransSegs"), None);
    }

    #[test]
    fn the_kernels_own_files_carry_the_fields_read() {
        // The root namespace's, read the way a host's thread reads its own.
        let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").expect("snmp");
        for field in ["RetransSegs", "OutRsts", "AttemptFails"] {
            assert!(mib_field(&snmp, "Tcp", field).is_some(), "Tcp: {field}");
        }
        let netstat = std::fs::read_to_string("/proc/thread-self/net/netstat").expect("netstat");
        assert!(mib_field(&netstat, "TcpExt", "TCPSynRetrans").is_some());
        assert!(read_counters().is_ok());
    }
}
