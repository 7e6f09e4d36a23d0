//! Test hosts: the only addresses besides loopback that the harness listens
//! on or dials, and where their sockets are made.
//!
//! With the kernel network (`replharness run --network netns`) every server
//! lives on a test host of its own: a network namespace with one address in
//! 198.18.0.0/15, the range set aside for network tests (RFC 2544), never a
//! documentation, private or public range. A socket belongs to the
//! namespace of the thread that made it, so the network layer (which makes
//! the namespaces; the harness knows no netlink) registers each host's
//! address here with a [`SocketMaker`] that makes sockets inside it. Every
//! listener and every dial of every family goes through [`socket`]:
//!
//! - an address that is not registered gets a socket of this process's own
//!   namespace, as before (loopback);
//! - a registered address gets one made inside its host.
//!
//! [`may_dial`] is the dial policy: loopback, or a test host of the same
//! network as the dialling address (one lab: a run never reaches another
//! run's hosts), and nothing else, ever. A registration lasts as long as
//! its [`Registration`]; addresses are unique in the process (the network
//! layer hands them out), which is why one process-wide map can say which
//! host an address belongs to without every call site carrying it.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, RwLock};

use tokio::net::TcpSocket;

use crate::error::HarnessError;

/// The test range, 198.18.0.0/15.
pub const RANGE: (Ipv4Addr, u8) = (Ipv4Addr::new(198, 18, 0, 0), 15);

/// Makes sockets inside one test host.
pub trait SocketMaker: Send + Sync + fmt::Debug + 'static {
    /// A new TCP socket, non-blocking and close-on-exec, not bound yet.
    fn tcp_socket(&self, ipv4: bool) -> io::Result<OwnedFd>;
}

#[derive(Debug, Clone)]
struct Entry {
    network: u64,
    maker: Arc<dyn SocketMaker>,
}

static HOSTS: RwLock<BTreeMap<IpAddr, Entry>> = RwLock::new(BTreeMap::new());

fn entry(ip: IpAddr) -> Option<Entry> {
    HOSTS.read().unwrap_or_else(|e| e.into_inner()).get(&ip).cloned()
}

/// Whether `ip` is in 198.18.0.0/15.
pub fn in_range(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => (u32::from(a) >> (32 - RANGE.1)) == (u32::from(RANGE.0) >> (32 - RANGE.1)),
        IpAddr::V6(_) => false,
    }
}

/// A test host's address, registered until this is dropped.
#[derive(Debug)]
#[must_use = "the address is unregistered when this is dropped"]
pub struct Registration {
    ip: IpAddr,
}

impl Registration {
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        HOSTS.write().unwrap_or_else(|e| e.into_inner()).remove(&self.ip);
    }
}

/// Registers the test host at `ip` (in 198.18.0.0/15 only) as part of
/// `network`, its sockets made by `maker`.
pub fn register(ip: IpAddr, network: u64, maker: Arc<dyn SocketMaker>) -> Result<Registration, HarnessError> {
    if !in_range(ip) {
        return Err(HarnessError::Config(format!(
            "{ip} cannot be a test host: test hosts get addresses in 198.18.0.0/15 only"
        )));
    }
    let mut hosts = HOSTS.write().unwrap_or_else(|e| e.into_inner());
    if hosts.contains_key(&ip) {
        return Err(HarnessError::Config(format!("{ip} is already a test host of this process")));
    }
    hosts.insert(ip, Entry { network, maker });
    Ok(Registration { ip })
}

/// The network a registered test host belongs to.
pub fn network_of(ip: IpAddr) -> Option<u64> {
    entry(ip).map(|e| e.network)
}

/// Whether a socket of `from` may connect to `to`: loopback (inside a test
/// host, its own loopback), or a test host of `from`'s own network.
pub fn may_dial(from: IpAddr, to: IpAddr) -> bool {
    if to.is_loopback() {
        return true;
    }
    match (network_of(to), network_of(from)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether a socket should be bound to `local` before it connects (so the
/// peer sees the server's own address): a loopback or test-host address.
pub fn bindable(local: IpAddr) -> bool {
    local.is_loopback() || entry(local).is_some()
}

/// A TCP socket for a listener on, or a connection from, `local`: made
/// inside its test host when `local` is one, else here.
pub fn socket(local: IpAddr, ipv4: bool) -> io::Result<TcpSocket> {
    match entry(local) {
        Some(e) => {
            let fd = e.maker.tcp_socket(ipv4)?;
            Ok(TcpSocket::from_std_stream(std::net::TcpStream::from(fd)))
        }
        None if ipv4 => TcpSocket::new_v4(),
        None => TcpSocket::new_v6(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes sockets here, counting them (stands for a namespace's thread).
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl SocketMaker for Counting {
        fn tcp_socket(&self, ipv4: bool) -> io::Result<OwnedFd> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if !ipv4 {
                return Err(io::Error::other("v4 only"));
            }
            // Any TCP socket's descriptor will do for counting.
            Ok(OwnedFd::from(std::net::TcpListener::bind("127.0.0.1:0")?))
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_the_test_range_registers() {
        assert!(in_range(ip("198.18.0.1")) && in_range(ip("198.19.255.254")));
        for other in ["198.17.255.255", "198.20.0.0", "192.0.2.10", "10.0.0.1", "127.0.0.1", "::1"] {
            assert!(!in_range(ip(other)), "{other}");
            assert!(register(ip(other), 1, Arc::new(Counting::default())).is_err(), "{other}");
        }
    }

    #[tokio::test]
    async fn a_test_hosts_sockets_come_from_its_maker_and_it_dials_only_its_own_network() {
        let maker = Arc::new(Counting::default());
        let (a, b, c) = (ip("198.19.7.1"), ip("198.19.7.2"), ip("198.19.7.3"));
        let _ra = register(a, 70, maker.clone()).expect("a");
        let _rb = register(b, 70, maker.clone()).expect("b");
        let rc = register(c, 71, maker.clone()).expect("c");
        assert!(register(a, 70, maker.clone()).is_err(), "an address is one host's");
        assert!(may_dial(a, b) && may_dial(b, a), "same network");
        assert!(!may_dial(a, c), "another network (another run)");
        assert!(may_dial(a, ip("127.0.0.99")), "its own loopback");
        assert!(!may_dial(ip("127.0.0.1"), a), "never from outside the network");
        assert!(!may_dial(a, ip("192.0.2.10")) && !may_dial(a, ip("198.19.7.200")), "nothing unregistered");
        assert!(bindable(a) && bindable(ip("127.0.0.2")) && !bindable(ip("198.19.7.200")));
        let _s = socket(a, true).expect("socket");
        assert_eq!(maker.0.load(std::sync::atomic::Ordering::SeqCst), 1, "made by the host's maker");
        let _s = socket(ip("127.0.0.1"), true).expect("socket");
        assert_eq!(maker.0.load(std::sync::atomic::Ordering::SeqCst), 1, "loopback sockets are made here");
        drop(rc);
        assert_eq!(network_of(c), None, "unregistered when dropped");
        assert!(!may_dial(a, c));
    }
}
