//! Packet filter rules as plain data, and the `nft` scripts that install
//! and remove them.
//!
//! Every rule of a test host lives in the table `inet replharness` of that
//! host's namespace. One fault on one host is one base chain of its own on
//! the `input` hook (`policy accept`), so adding and removing a fault is one
//! `nft -f` transaction that never touches another fault's rules, and
//! removing the chain removes every rule in it. Several chains on one hook
//! are all traversed: a packet any of them drops or rejects is gone.
//!
//! A rule matches one direction of one link: TCP from one address (and
//! ports) to another address (and ports), optionally only the packets that
//! open a connection (SYN without ACK) or only the others (no SYN flag).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::error::Error;

/// The table every rule of this crate lives in.
pub const TABLE: &str = "replharness";

/// Inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub from: u16,
    pub to: u16,
}

impl Ports {
    pub fn one(port: u16) -> Ports {
        Ports { from: port, to: port }
    }

    fn nft(self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}-{}", self.from, self.to)
        }
    }
}

/// Which packets of the flow a rule takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packets {
    All,
    /// A connection's first packet: SYN without ACK.
    Opening,
    /// Everything but the handshake's SYN and SYN-ACK.
    NotOpening,
    /// Everything but SYNs and RSTs: a rule that answers with RST must let
    /// the other direction's RSTs through (its own answers among them).
    NotOpeningNorReset,
}

/// What happens to a matching packet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Gone without an answer (the sender retransmits).
    Drop,
    /// Answered with a TCP RST (the sender sees "connection refused" or
    /// "connection reset").
    RejectTcpReset,
    /// Answered with ICMP port unreachable (the sender of a SYN sees
    /// "connection refused"; a live connection takes it as a soft error).
    RejectIcmpPortUnreachable,
    /// Dropped past a rate: a policer (a token bucket that drops, not a
    /// shaper that queues).
    DropOverRate { bytes_per_second: u64, burst_bytes: u64 },
    /// Dropped with this probability, in parts per ten thousand (the
    /// kernel's own random numbers).
    DropRandomly { per_10000: u16 },
}

/// One rule: a direction of a link and what happens to its packets.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub from: Ipv4Addr,
    pub from_ports: Option<Ports>,
    pub to: Ipv4Addr,
    pub to_ports: Option<Ports>,
    pub packets: Packets,
    pub verdict: Verdict,
}

impl Rule {
    /// The rule's body in nft syntax (after `add rule inet replharness CHAIN`).
    pub fn nft(&self) -> String {
        let mut s = format!("meta l4proto tcp ip saddr {} ip daddr {}", self.from, self.to);
        if let Some(p) = self.from_ports {
            let _ = write!(s, " tcp sport {}", p.nft());
        }
        if let Some(p) = self.to_ports {
            let _ = write!(s, " tcp dport {}", p.nft());
        }
        match self.packets {
            Packets::All => {}
            Packets::Opening => s.push_str(" tcp flags & (syn | ack) == syn"),
            Packets::NotOpening => s.push_str(" tcp flags & syn == 0"),
            Packets::NotOpeningNorReset => s.push_str(" tcp flags & (syn | rst) == 0"),
        }
        match self.verdict {
            Verdict::Drop => s.push_str(" drop"),
            Verdict::RejectTcpReset => s.push_str(" reject with tcp reset"),
            Verdict::RejectIcmpPortUnreachable => s.push_str(" reject with icmpx type port-unreachable"),
            Verdict::DropOverRate { bytes_per_second, burst_bytes } => {
                let _ = write!(s, " limit rate over {bytes_per_second} bytes/second burst {burst_bytes} bytes drop");
            }
            Verdict::DropRandomly { per_10000 } => {
                let _ = write!(s, " numgen random mod 10000 < {} drop", per_10000.min(10_000));
            }
        }
        s
    }
}

/// A chain name this crate accepts: 1 to 31 of `a-z`, `0-9`, `_`, starting with a letter.
pub fn check_chain(chain: &str) -> Result<(), Error> {
    let ok = chain.len() <= 31
        && chain.starts_with(|c: char| c.is_ascii_lowercase())
        && chain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{chain:?} is not a chain name (a-z, 0-9, _; a letter first; at most 31)")))
    }
}

/// The script that installs `rules` as the base chain `chain` (replacing a
/// chain of that name: one transaction, so no packet sees half of it).
pub fn install_script(chain: &str, rules: &[Rule]) -> Result<String, Error> {
    check_chain(chain)?;
    let mut s = format!("add table inet {TABLE}\n");
    let _ = writeln!(s, "add chain inet {TABLE} {chain} {{ type filter hook input priority filter; policy accept; }}");
    let _ = writeln!(s, "flush chain inet {TABLE} {chain}");
    for r in rules {
        let _ = writeln!(s, "add rule inet {TABLE} {chain} {}", r.nft());
    }
    Ok(s)
}

/// The script that removes the chain `chain` and its rules.
pub fn remove_script(chain: &str) -> Result<String, Error> {
    check_chain(chain)?;
    Ok(format!("add table inet {TABLE}\ndelete chain inet {TABLE} {chain}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(packets: Packets, verdict: Verdict) -> Rule {
        Rule {
            from: Ipv4Addr::new(198, 18, 0, 1),
            from_ports: None,
            to: Ipv4Addr::new(198, 18, 0, 2),
            to_ports: Some(Ports::one(8989)),
            packets,
            verdict,
        }
    }

    #[test]
    fn rules_read_as_nft_writes_them() {
        assert_eq!(
            rule(Packets::All, Verdict::Drop).nft(),
            "meta l4proto tcp ip saddr 198.18.0.1 ip daddr 198.18.0.2 tcp dport 8989 drop"
        );
        assert_eq!(
            rule(Packets::Opening, Verdict::RejectTcpReset).nft(),
            "meta l4proto tcp ip saddr 198.18.0.1 ip daddr 198.18.0.2 tcp dport 8989 tcp flags & (syn | ack) == syn reject with tcp reset"
        );
        let mut r = rule(Packets::NotOpening, Verdict::DropRandomly { per_10000: 20_000 });
        r.from_ports = Some(Ports { from: 40000, to: 49999 });
        assert!(r.nft().ends_with(
            "tcp sport 40000-49999 tcp dport 8989 tcp flags & syn == 0 numgen random mod 10000 < 10000 drop"
        ));
        assert!(rule(Packets::All, Verdict::DropOverRate { bytes_per_second: 100_000, burst_bytes: 10_000 })
            .nft()
            .ends_with("limit rate over 100000 bytes/second burst 10000 bytes drop"));
        assert!(rule(Packets::NotOpeningNorReset, Verdict::RejectTcpReset)
            .nft()
            .ends_with("tcp dport 8989 tcp flags & (syn | rst) == 0 reject with tcp reset"));
        assert!(rule(Packets::All, Verdict::RejectIcmpPortUnreachable)
            .nft()
            .ends_with("reject with icmpx type port-unreachable"));
    }

    #[test]
    fn a_chain_is_replaced_in_one_script_and_removed_in_another() {
        let s = install_script("f1", &[rule(Packets::All, Verdict::Drop)]).expect("script");
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].contains("hook input"), "{s}");
        assert!(lines[2].starts_with("flush chain inet replharness f1"));
        assert_eq!(remove_script("f1").expect("script").lines().last(), Some("delete chain inet replharness f1"));
        for bad in ["", "F1", "1f", "f-1", "f;drop", &"f".repeat(32)] {
            assert!(install_script(bad, &[]).is_err(), "{bad:?}");
        }
    }
}
