//! A scenario's fault as the external server can do it.
//!
//! - **fault-proxy**: every fault as it is, one toxic (the same JSON the
//!   in-process proxy takes).
//! - **Toxiproxy**: its own toxics (`latency`, `bandwidth`, `slow_close`,
//!   `timeout`, `reset_peer`, `slicer`, `limit_data`, `noop`) as they are;
//!   the firewall faults where Toxiproxy has an equivalent:
//!   - `reject` becomes `enabled: false` on the link's proxy (its listener
//!     closes: connect is refused, as with nothing listening), and
//!     `enabled: true` when it is cleared, for a fault that starts before
//!     any server does (a step at 0), when no connection is live. Later,
//!     disabling would close the live connections with a FIN, where a
//!     reject spares them (or, with `reset_existing`, resets them: an RST,
//!     which the servers log differently), so it is refused; so is a
//!     toxicity below 1.
//!   - `drop` with `new_connections = false` becomes a `timeout` toxic with
//!     timeout 0 on each stream it covers (no byte passes). Toxiproxy
//!     accepts every connection, so a drop of new connections is refused.
//!   - `hold`, a `schedule` (and so `flap`) and a `target` are refused: it
//!     has none of them.
//!
//! A refusal is [`ApiError::Unsupported`], naming the server, the fault and
//! what to do instead.

use fault_proxy::toxic::{Kind, Stream, Toxic};
use serde_json::{json, Value};

use super::{ApiError, Flavor, Server};

/// What a fault becomes on the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Translated {
    /// Toxics to add (`POST /proxies/P/toxics`), removed by name when the fault is cleared.
    Toxics(Vec<Value>),
    /// `enabled: false` on the proxy until the fault is cleared.
    Disable,
}

/// `toxic` on `server`; `before_start`: no server has started yet, so no
/// connection is live.
pub fn translate(server: &Server, toxic: &Toxic, before_start: bool) -> Result<Translated, ApiError> {
    match server.flavor {
        Flavor::FaultProxy => Ok(Translated::Toxics(vec![toxic.to_json()])),
        Flavor::Toxiproxy => toxiproxy(server, toxic, before_start),
    }
}

fn toxiproxy(server: &Server, toxic: &Toxic, before_start: bool) -> Result<Translated, ApiError> {
    let refuse = |why: &str| ApiError::Unsupported {
        server: server.to_string(),
        fault: toxic.name.clone(),
        kind: toxic.kind.type_name(),
        why: why.to_owned(),
    };
    if toxic.schedule.is_some() {
        return Err(refuse(
            "Toxiproxy has no schedules, and flap is one: run this scenario on fault-proxy, or as steps that add and \
             clear the fault",
        ));
    }
    if !toxic.target.is_empty() {
        return Err(refuse("Toxiproxy has no targets: its toxics touch every connection of the proxy"));
    }
    match &toxic.kind {
        Kind::Reject { reset_existing } => {
            if toxic.toxicity < 1.0 {
                return Err(refuse(
                    "Toxiproxy refuses connections only with enabled: false, which refuses every one: a toxicity \
                     below 1 cannot be kept",
                ));
            }
            if !before_start {
                return Err(refuse(if *reset_existing {
                    "enabled: false, Toxiproxy's way to refuse connections, closes the live ones with a FIN where \
                     this reject resets them (an RST): the servers would log a clean close, not a reset. Start the \
                     fault at 0 (before any server starts), or run on fault-proxy"
                } else {
                    "enabled: false, Toxiproxy's way to refuse connections, also closes the live ones, which this \
                     reject must spare. Start the fault at 0 (before any server starts), or run on fault-proxy"
                }));
            }
            Ok(Translated::Disable)
        }
        Kind::Drop { new_connections: true } => Err(refuse(
            "Toxiproxy accepts every connection, so new connections cannot go unanswered: with \
             attributes.new_connections = false the live connections' part runs (timeout toxics that pass no byte)",
        )),
        Kind::Drop { new_connections: false } => {
            let streams: &[&str] = match toxic.stream {
                Stream::Upstream => &["upstream"],
                Stream::Downstream => &["downstream"],
                Stream::Both => &["upstream", "downstream"],
            };
            let one = streams.len() == 1;
            Ok(Translated::Toxics(
                streams
                    .iter()
                    .map(|s| {
                        let name = if one { toxic.name.clone() } else { format!("{}_{s}", toxic.name) };
                        json!({"name": name, "type": "timeout", "stream": s, "toxicity": toxic.toxicity,
                               "attributes": {"timeout": 0}})
                    })
                    .collect(),
            ))
        }
        Kind::Hold {} => Err(refuse("Toxiproxy has no toxic that stops reading without losing bytes")),
        _ => Ok(Translated::Toxics(vec![toxic.to_json()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(flavor: Flavor) -> Server {
        Server {
            url: super::super::ApiUrl::parse("http://127.0.0.1:8474").expect("url"),
            flavor,
            version: "2.9.0".into(),
        }
    }

    fn toxic(v: Value) -> Toxic {
        Toxic::from_json(&v).expect("a valid toxic")
    }

    fn refusal(t: Value, before_start: bool) -> String {
        translate(&server(Flavor::Toxiproxy), &toxic(t), before_start).expect_err("refused").to_string()
    }

    #[test]
    fn fault_proxy_takes_every_fault_as_it_is() {
        for t in [
            json!({"type": "drop", "name": "fw"}),
            json!({"type": "hold", "stream": "upstream"}),
            json!({"type": "reject", "schedule": {"flap": {"on_ms": 200, "off_ms": 600, "count": 4}}}),
            json!({"type": "latency", "attributes": {"latency": 5}, "target": {"client": "127.0.0.2"}}),
        ] {
            let tx = toxic(t);
            assert_eq!(
                translate(&server(Flavor::FaultProxy), &tx, false).expect("taken"),
                Translated::Toxics(vec![tx.to_json()])
            );
        }
    }

    #[test]
    fn toxiproxy_takes_its_own_toxics_as_they_are() {
        let t = toxic(json!({"type": "reset_peer", "name": "rst", "stream": "upstream", "attributes": {"timeout": 0}}));
        let Translated::Toxics(v) = translate(&server(Flavor::Toxiproxy), &t, false).expect("taken") else {
            panic!("toxics")
        };
        assert_eq!(v[0]["type"], "reset_peer");
        assert_eq!(v[0]["stream"], "upstream");
        assert_eq!(v[0]["name"], "rst");
    }

    #[test]
    fn reject_becomes_a_disabled_proxy_where_that_is_the_same() {
        let s = server(Flavor::Toxiproxy);
        for t in [json!({"type": "reject"}), json!({"type": "reject", "attributes": {"reset_existing": true}})] {
            assert_eq!(translate(&s, &toxic(t), true).expect("before any connection"), Translated::Disable);
        }
        let e = refusal(json!({"type": "reject", "name": "fw"}), false);
        assert!(e.starts_with("Toxiproxy 2.9.0 at http://127.0.0.1:8474 cannot do fault \"fw\" (reject)"), "{e}");
        assert!(e.contains("must spare") && e.contains("Start the fault at 0"), "{e}");
        let e = refusal(json!({"type": "reject", "attributes": {"reset_existing": true}}), false);
        assert!(e.contains("with a FIN where this reject resets them (an RST)"), "{e}");
        let e = refusal(json!({"type": "reject", "toxicity": 0.5}), true);
        assert!(e.contains("toxicity below 1"), "{e}");
    }

    #[test]
    fn drop_of_live_connections_becomes_timeout_toxics_per_stream() {
        let s = server(Flavor::Toxiproxy);
        let t = toxic(json!({"type": "drop", "name": "bh", "attributes": {"new_connections": false}}));
        let Translated::Toxics(v) = translate(&s, &t, false).expect("taken") else { panic!("toxics") };
        let got: Vec<(String, String)> = v
            .iter()
            .map(|x| (x["name"].as_str().unwrap_or("").into(), x["stream"].as_str().unwrap_or("").into()))
            .collect();
        assert_eq!(got, [("bh_upstream".into(), "upstream".into()), ("bh_downstream".into(), "downstream".into())]);
        assert!(v.iter().all(|x| x["type"] == "timeout" && x["attributes"]["timeout"] == 0));
        let one_way = toxic(json!({"type": "drop", "name": "ow", "stream": "downstream",
                                   "attributes": {"new_connections": false}}));
        let Translated::Toxics(v) = translate(&s, &one_way, false).expect("taken") else { panic!("toxics") };
        assert_eq!((v.len(), v[0]["name"].as_str()), (1, Some("ow")));
    }

    #[test]
    fn what_toxiproxy_has_no_equivalent_for_is_refused_naming_it() {
        assert!(refusal(json!({"type": "drop"}), false).contains("cannot go unanswered"));
        assert!(refusal(json!({"type": "drop"}), true).contains("cannot go unanswered"));
        assert!(refusal(json!({"type": "hold"}), false).contains("without losing bytes"));
        let e = refusal(json!({"type": "reset_peer", "schedule": {"flap": {"on_ms": 2, "off_ms": 6}}}), false);
        assert!(e.contains("no schedules, and flap is one"), "{e}");
        let e = refusal(json!({"type": "latency", "target": {"client": "127.0.0.2"}}), false);
        assert!(e.contains("no targets"), "{e}");
    }
}
