//! Faults in the kernel network's terms: what each fault of the proxy's
//! vocabulary becomes as nftables rules, the two the kernel alone can play
//! (`loss`, and `reject` answered with ICMP), and a clear refusal, naming
//! the network, for what the kernel cannot do without `tc netem`.
//!
//! A directed link is the connections a client C opens to a server S's port
//! P. Its **upstream** packets (C → S:P) are filtered on S's input hook, its
//! **downstream** packets (S:P → C) on C's input hook: each host filters
//! what it receives, as a host firewall does, and a reject's answer goes
//! back to the packet's sender.
//!
//! | fault | rules |
//! |---|---|
//! | `drop` | every packet of each covered direction dropped; new connections: the SYN dropped whatever the stream; `new_connections = false`: the handshake passes, then nothing |
//! | `reject` | the SYN answered with RST (or ICMP port unreachable, `reject_with`); `reset_existing`: every later packet of a covered direction answered with RST too (RSTs pass, so each side's answer reaches the other) |
//! | `reset_peer` (`timeout = 0`) | every packet of a covered direction but SYNs and RSTs answered with RST |
//! | `bandwidth` | a policer: past `rate` KB/s (100 ms of burst) packets are dropped and TCP backs off |
//! | `loss` (kernel only) | each packet of a covered direction dropped with `probability` (`numgen random`) |
//! | `noop` | nothing |
//!
//! `latency`, `slow_close`, `slicer`, `limit_data`, `timeout`, `hold` and
//! `reset_peer` with a delay need a packet scheduler or a byte stream: the
//! kernel network refuses them, and so it does toxicity below 1 (drawn per
//! connection by the proxy) and targets by address or connection id.

use std::net::Ipv4Addr;

use fault_proxy::schedule::Schedule;
use fault_proxy::{Kind, Stream, Toxic};
use netlab::{Packets, Ports, Rule, Verdict};

/// How a reject answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectWith {
    /// A TCP RST: `connect()` gets "connection refused", a live connection "reset".
    TcpReset,
    /// ICMP port unreachable: `connect()` gets "connection refused"; a live
    /// connection takes it as a soft error and retransmits until it gives up.
    IcmpPortUnreachable,
}

impl RejectWith {
    /// The names a scenario file gives (`reject_with`), iptables' own.
    pub const NAMES: &'static [&'static str] = &["tcp-reset", "icmp-port-unreachable"];

    pub fn parse(text: &str) -> Option<RejectWith> {
        match text {
            "tcp-reset" => Some(RejectWith::TcpReset),
            "icmp-port-unreachable" => Some(RejectWith::IcmpPortUnreachable),
            _ => None,
        }
    }

    fn verdict(self) -> Verdict {
        match self {
            RejectWith::TcpReset => Verdict::RejectTcpReset,
            RejectWith::IcmpPortUnreachable => Verdict::RejectIcmpPortUnreachable,
        }
    }
}

/// What a kernel fault does to the packets it covers.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelKind {
    Drop {
        new_connections: bool,
    },
    Reject {
        with: RejectWith,
        reset_existing: bool,
    },
    /// Resets every connection at its next packet.
    ResetPeer,
    /// KB/s (1 KB = 1000 bytes); 0 = unlimited.
    Bandwidth {
        rate: u64,
    },
    /// Per-packet drop probability, 0 to 1.
    Loss {
        probability: f64,
    },
    Noop,
}

/// A fault as the kernel network plays it.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelFault {
    pub name: String,
    pub kind: KernelKind,
    pub stream: Stream,
    /// When it is on, counted from when it was added (the proxy's schedule, same rules).
    pub schedule: Option<Schedule>,
    /// Only connections from these client ports.
    pub client_ports: Option<[u16; 2]>,
}

/// The host a rule goes on: the link's server (upstream packets) or its client (downstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Server,
    Client,
}

const NETWORK: &str = "the netns network (kernel nftables rules, no tc netem)";

impl KernelFault {
    /// The kernel form of a fault of the proxy's vocabulary, or why the
    /// kernel network cannot play it.
    pub fn from_toxic(t: &Toxic) -> Result<KernelFault, String> {
        let refuse = |what: &str| Err(format!("{NETWORK} cannot {what}: run it with --network proxy"));
        let kind = match &t.kind {
            Kind::Drop { new_connections } => KernelKind::Drop { new_connections: *new_connections },
            Kind::Reject { reset_existing } => {
                KernelKind::Reject { with: RejectWith::TcpReset, reset_existing: *reset_existing }
            }
            Kind::ResetPeer { timeout: 0 } => KernelKind::ResetPeer,
            Kind::ResetPeer { .. } => {
                return refuse("reset a connection a delay after its first packet (reset_peer with a timeout)")
            }
            Kind::Bandwidth { rate } => KernelKind::Bandwidth { rate: *rate },
            Kind::Noop {} => KernelKind::Noop,
            Kind::Latency { .. } => return refuse("delay packets (latency and jitter need tc netem)"),
            Kind::SlowClose { .. } => return refuse("delay a FIN (slow_close)"),
            Kind::Slicer { .. } => return refuse("cut a byte stream into slices (slicer)"),
            Kind::LimitData { .. } => return refuse("count a connection's bytes and close it (limit_data)"),
            Kind::Timeout { .. } => return refuse("black-hole bytes and close after a delay (timeout): use drop"),
            Kind::Hold {} => {
                return refuse("hold bytes back without losing them (hold: a packet filter can only drop them)")
            }
        };
        if t.toxicity < 1.0 {
            return refuse("draw a toxicity per connection (toxicity below 1)");
        }
        if t.target.client.is_some() || t.target.connection.is_some() {
            return refuse("target a client address or a connection id (each link has its own rules already)");
        }
        Ok(KernelFault {
            name: t.name.clone(),
            kind,
            stream: t.stream,
            schedule: t.schedule.clone(),
            client_ports: t.target.client_ports,
        })
    }

    fn covers(&self, side: Side) -> bool {
        match side {
            Side::Server => matches!(self.stream, Stream::Upstream | Stream::Both),
            Side::Client => matches!(self.stream, Stream::Downstream | Stream::Both),
        }
    }

    /// The rules of this fault on the directed link `client` → `server:port`,
    /// each with the host it goes on.
    pub fn rules(&self, client: Ipv4Addr, server: Ipv4Addr, port: u16) -> Vec<(Side, Rule)> {
        let client_ports = self.client_ports.map(|[from, to]| Ports { from, to });
        let rule = |side: Side, packets: Packets, verdict: Verdict| {
            let r = match side {
                Side::Server => Rule {
                    from: client,
                    from_ports: client_ports,
                    to: server,
                    to_ports: Some(Ports::one(port)),
                    packets,
                    verdict,
                },
                Side::Client => Rule {
                    from: server,
                    from_ports: Some(Ports::one(port)),
                    to: client,
                    to_ports: client_ports,
                    packets,
                    verdict,
                },
            };
            (side, r)
        };
        let covered = |packets: Packets, verdict: Verdict| -> Vec<(Side, Rule)> {
            [Side::Server, Side::Client]
                .into_iter()
                .filter(|s| self.covers(*s))
                .map(|s| rule(s, packets, verdict))
                .collect()
        };
        match &self.kind {
            KernelKind::Noop | KernelKind::Bandwidth { rate: 0 } => Vec::new(),
            KernelKind::Drop { new_connections: true } => {
                let mut out = covered(Packets::All, Verdict::Drop);
                if !self.covers(Side::Server) {
                    // New connections get no answer whichever way the drop points.
                    out.insert(0, rule(Side::Server, Packets::Opening, Verdict::Drop));
                }
                out
            }
            KernelKind::Drop { new_connections: false } => covered(Packets::NotOpening, Verdict::Drop),
            KernelKind::Reject { with, reset_existing } => {
                let mut out = vec![rule(Side::Server, Packets::Opening, with.verdict())];
                if *reset_existing {
                    // RSTs pass: the other side's answer must reach its peer.
                    out.extend(covered(Packets::NotOpeningNorReset, with.verdict()));
                }
                out
            }
            KernelKind::ResetPeer => covered(Packets::NotOpeningNorReset, Verdict::RejectTcpReset),
            KernelKind::Bandwidth { rate } => {
                let bytes_per_second = rate.saturating_mul(1000);
                // 100 ms of burst, as the proxy's token bucket, and at least one full segment.
                let burst_bytes = (bytes_per_second / 10).max(1500);
                covered(Packets::All, Verdict::DropOverRate { bytes_per_second, burst_bytes })
            }
            KernelKind::Loss { probability } => {
                let per_10000 = (probability.clamp(0.0, 1.0) * 10_000.0).round() as u16;
                covered(Packets::All, Verdict::DropRandomly { per_10000 })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const C: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const S: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn kernel(body: serde_json::Value) -> Result<KernelFault, String> {
        KernelFault::from_toxic(&Toxic::from_json(&body).expect("a valid toxic"))
    }

    fn rules(body: serde_json::Value) -> Vec<(Side, String)> {
        kernel(body).expect("kernel").rules(C, S, 8989).into_iter().map(|(s, r)| (s, r.nft())).collect()
    }

    #[test]
    fn drop_both_ways_takes_every_packet_on_each_receiving_host() {
        let r = rules(json!({"type": "drop"}));
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            (Side::Server, "meta l4proto tcp ip saddr 198.18.0.1 ip daddr 198.18.0.2 tcp dport 8989 drop".into())
        );
        assert_eq!(
            r[1],
            (Side::Client, "meta l4proto tcp ip saddr 198.18.0.2 ip daddr 198.18.0.1 tcp sport 8989 drop".into())
        );
    }

    #[test]
    fn a_one_way_drop_still_silences_new_connections_as_the_proxy_does() {
        let r = rules(json!({"type": "drop", "stream": "downstream"}));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, Side::Server);
        assert!(r[0].1.contains("tcp flags & (syn | ack) == syn drop"), "{r:?}");
        assert!(r[1].1.ends_with("tcp sport 8989 drop"));
        let r = rules(json!({"type": "drop", "stream": "downstream", "attributes": {"new_connections": false}}));
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].0, Side::Client);
        assert!(r[0].1.ends_with("tcp flags & syn == 0 drop"), "the handshake passes");
    }

    #[test]
    fn reject_refuses_syns_and_resets_live_connections_only_when_asked() {
        let r = rules(json!({"type": "reject"}));
        assert_eq!(r.len(), 1);
        assert!(r[0].1.ends_with("tcp flags & (syn | ack) == syn reject with tcp reset"));
        let r = rules(json!({"type": "reject", "attributes": {"reset_existing": true}}));
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [Side::Server, Side::Server, Side::Client]);
        assert!(r[2].1.ends_with("tcp flags & (syn | rst) == 0 reject with tcp reset"), "the SYN's RST passes back");
        let mut icmp = kernel(json!({"type": "reject"})).expect("k");
        icmp.kind = KernelKind::Reject { with: RejectWith::IcmpPortUnreachable, reset_existing: false };
        assert!(icmp.rules(C, S, 1)[0].1.nft().ends_with("reject with icmpx type port-unreachable"));
    }

    #[test]
    fn reset_peer_bandwidth_loss_and_ports() {
        let r = rules(json!({"type": "reset_peer", "attributes": {"timeout": 0}}));
        assert_eq!(r.len(), 1, "downstream by default, as Toxiproxy");
        assert_eq!(r[0].0, Side::Client);
        let r = rules(json!({"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 100}}));
        assert!(r[0].1.ends_with("limit rate over 100000 bytes/second burst 10000 bytes drop"), "{r:?}");
        assert!(rules(json!({"type": "bandwidth", "attributes": {"rate": 0}})).is_empty(), "0 is unlimited");
        let mut loss = kernel(json!({"type": "drop"})).expect("k");
        loss.kind = KernelKind::Loss { probability: 0.05 };
        let r = loss.rules(C, S, 8989);
        assert_eq!(r.len(), 2);
        assert!(r[0].1.nft().ends_with("numgen random mod 10000 < 500 drop"));
        let r = rules(json!({"type": "drop", "target": {"client_ports": [40000, 40010]}}));
        assert!(r[0].1.contains("tcp sport 40000-40010 tcp dport 8989"), "{r:?}");
        assert!(r[1].1.contains("tcp sport 8989 tcp dport 40000-40010"), "{r:?}");
    }

    #[test]
    fn what_the_kernel_cannot_do_is_refused_naming_the_network() {
        for body in [
            json!({"type": "latency", "attributes": {"latency": 100}}),
            json!({"type": "latency", "attributes": {"jitter": 10}}),
            json!({"type": "slow_close"}),
            json!({"type": "slicer"}),
            json!({"type": "limit_data"}),
            json!({"type": "timeout"}),
            json!({"type": "hold"}),
            json!({"type": "reset_peer", "attributes": {"timeout": 100}}),
            json!({"type": "drop", "toxicity": 0.5}),
            json!({"type": "reject", "target": {"client": "127.0.0.2"}}),
        ] {
            let e = kernel(body.clone()).expect_err("refused");
            assert!(e.contains("the netns network") && e.contains("--network proxy"), "{body}: {e}");
        }
        assert!(kernel(json!({"type": "latency"})).expect_err("refused").contains("netem"));
    }

    #[test]
    fn schedules_and_names_carry_over() {
        let k = kernel(json!({"type": "reset_peer", "name": "resets", "schedule": {"flap": {"on_ms": 200, "off_ms": 600, "count": 4}}}))
            .expect("k");
        assert_eq!(k.name, "resets");
        let s = k.schedule.expect("schedule");
        assert!(s.active(std::time::Duration::from_millis(100)) && !s.active(std::time::Duration::from_millis(300)));
    }
}
