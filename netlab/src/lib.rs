//! Kernel test hosts for the harness: each mock server on a network
//! namespace of its own, on one bridge, with its own address in
//! 198.18.0.0/15 (RFC 2544's range for network tests: never a documentation,
//! private or public range), sockets made inside it, and faults as nftables
//! rules on its input hook. No dependency on the other workspace crates: the
//! scenario runner ties these hosts to the harness's socket plug point
//! (`harness::testnet`) and turns faults into [`Rule`]s.
//!
//! Code map:
//! - [`lab`]: a lab (switch namespace with a bridge, one namespace per host,
//!   veth pairs, addresses), its removal on every path, leftovers of dead runs.
//! - [`host`]: a test host and the worker thread that entered its namespace
//!   (`setns`): sockets made there, its TCP counters.
//! - [`rules`]: packet rules as data and the `nft` scripts that install and remove them.
//! - [`names`]: namespace names carrying their owner (pid and start time).
//! - [`cmd`]: `ip` and `nft` run as processes, with a script, captured errors and a bound.
//! - [`preflight`]: whether this machine can make test hosts, and why not.
//! - [`error`]: the crate's error type.
//!
//! Everything here is synchronous (a few milliseconds a call): async callers
//! run it on their blocking pool.

pub mod cmd;
pub mod error;
pub mod host;
pub mod lab;
pub mod names;
pub mod preflight;
pub mod rules;

pub use error::Error;
pub use host::{Host, TcpCounters};
pub use lab::{namespaces, remove_all_mine, sweep, Lab};
pub use rules::{Packets, Ports, Rule, Verdict};

/// The prefix length of every host's address: the whole test range is one
/// link, so every host of a lab reaches every other directly.
pub const CIDR_PREFIX: u8 = 15;

/// Whether `ip` is in 198.18.0.0/15, the only range test hosts get.
pub fn in_test_range(ip: std::net::Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 198 && (o[1] & 0xfe) == 18
}
