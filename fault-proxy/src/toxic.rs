//! Faults ("toxics") as plain data: one set of serde types for the HTTP API,
//! the config file and the library.
//!
//! A toxic is Toxiproxy's shape, `{"name","type","stream","toxicity","attributes"}`,
//! plus two optional additions Toxiproxy clients never send: `schedule` (when it
//! is on) and `target` (which connections it touches). Our own types `reject`,
//! `drop` and `hold` also accept `"stream": "both"`, their default.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bounds;
use crate::error::{FieldError, ProxyError};
use crate::schedule::Schedule;
use crate::target::Target;

/// Which way bytes flow: upstream = client → server, downstream = server → client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    Downstream,
    /// Both directions (our firewall faults only).
    Both,
}

impl Stream {
    pub fn covers(self, dir: Direction) -> bool {
        matches!(
            (self, dir),
            (Stream::Both, _) | (Stream::Upstream, Direction::Upstream) | (Stream::Downstream, Direction::Downstream)
        )
    }
}

/// One direction of a proxied connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Upstream,
    Downstream,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        }
    }
}

/// What a toxic does, with its attributes (Toxiproxy's names and units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
pub enum Kind {
    /// Delay each chunk by `latency` ms ± `jitter` ms, measured from its arrival.
    Latency {
        #[serde(default)]
        latency: u64,
        #[serde(default)]
        jitter: u64,
    },
    /// Limit to `rate` KB/s (1 KB = 1000 bytes), a token bucket.
    Bandwidth {
        #[serde(default)]
        rate: u64,
    },
    /// Delay the close (FIN) by `delay` ms.
    SlowClose {
        #[serde(default)]
        delay: u64,
    },
    /// Drop every byte; close the connection after `timeout` ms (0: never).
    Timeout {
        #[serde(default)]
        timeout: u64,
    },
    /// On the first chunk, wait `timeout` ms, then reset the connection (RST).
    ResetPeer {
        #[serde(default)]
        timeout: u64,
    },
    /// Cut chunks into slices of `average_size` ± `size_variation` bytes, `delay` µs apart.
    Slicer {
        #[serde(default)]
        average_size: u64,
        #[serde(default)]
        size_variation: u64,
        #[serde(default)]
        delay: u64,
    },
    /// Close the connection after `bytes` bytes.
    LimitData {
        #[serde(default)]
        bytes: u64,
    },
    /// Does nothing (Toxiproxy has it).
    Noop {},
    /// Firewall REJECT: new connections are refused; with `reset_existing`,
    /// live ones get an RST.
    Reject {
        #[serde(default)]
        reset_existing: bool,
    },
    /// Firewall DROP: no byte and no FIN passes; new connections get no answer
    /// (unless `new_connections` is false).
    Drop {
        #[serde(default = "yes")]
        new_connections: bool,
    },
    /// Stop reading (backpressure holds the sender) until released.
    Hold {},
}

fn yes() -> bool {
    true
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Latency { .. } => "latency",
            Kind::Bandwidth { .. } => "bandwidth",
            Kind::SlowClose { .. } => "slow_close",
            Kind::Timeout { .. } => "timeout",
            Kind::ResetPeer { .. } => "reset_peer",
            Kind::Slicer { .. } => "slicer",
            Kind::LimitData { .. } => "limit_data",
            Kind::Noop {} => "noop",
            Kind::Reject { .. } => "reject",
            Kind::Drop { .. } => "drop",
            Kind::Hold {} => "hold",
        }
    }

    /// Our additions, which take `"stream": "both"` and default to it.
    pub fn is_firewall(&self) -> bool {
        matches!(self, Kind::Reject { .. } | Kind::Drop { .. } | Kind::Hold {})
    }
}

/// The toxic types this proxy knows.
pub const TYPES: &[&str] = &[
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "noop",
    "reject",
    "drop",
    "hold",
];

/// A toxic as stored and shown. Deserializing one (from JSON, TOML …) runs
/// [`Toxic::from_json`]: Toxiproxy's defaults, then every check of
/// [`crate::bounds`], so a bad value is an error naming its field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Toxic {
    pub name: String,
    #[serde(flatten)]
    pub kind: Kind,
    pub stream: Stream,
    pub toxicity: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    #[serde(default, skip_serializing_if = "Target::is_empty")]
    pub target: Target,
}

impl TryFrom<Value> for Toxic {
    type Error = ProxyError;

    fn try_from(v: Value) -> Result<Toxic, ProxyError> {
        Toxic::from_json(&v)
    }
}

fn not_an_object(field: &str, got: &Value) -> FieldError {
    FieldError::WrongType { field: field.to_owned(), expected: "an object", got: got.to_string() }
}

fn bad_body(e: impl std::fmt::Display) -> ProxyError {
    ProxyError::BadRequest(format!("bad request body: {e}"))
}

impl Toxic {
    /// Builds a toxic from what a client sent, with Toxiproxy's defaults:
    /// stream `downstream` (`both` for our firewall types), toxicity 1,
    /// name `TYPE_STREAM`, missing attributes 0. Unknown keys at the top are
    /// ignored, as Toxiproxy ignores them; inside `attributes`, `schedule`
    /// and `target` they are refused. Every number is checked against its
    /// bound ([`crate::bounds`]): a refusal is [`ProxyError::Invalid`] with
    /// the [`FieldError`] naming the field.
    pub fn from_json(body: &Value) -> Result<Toxic, ProxyError> {
        let obj = body.as_object().ok_or_else(|| bad_body("expected a JSON object"))?;
        let type_name = obj.get("type").and_then(Value::as_str).unwrap_or_default();
        if !TYPES.contains(&type_name) {
            return Err(ProxyError::InvalidToxicType);
        }
        let empty = Map::new();
        let attributes = match obj.get("attributes") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(a)) => a,
            Some(other) => return Err(not_an_object("attributes", other).into()),
        };
        bounds::check_attributes(type_name, attributes)?;
        let kind: Kind = serde_json::from_value(serde_json::json!({"type": type_name, "attributes": attributes}))
            .map_err(bad_body)?;
        let stream = match obj.get("stream") {
            None | Some(Value::Null) => {
                if kind.is_firewall() {
                    Stream::Both
                } else {
                    Stream::Downstream
                }
            }
            Some(Value::String(s)) => match (s.to_ascii_lowercase().as_str(), kind.is_firewall()) {
                ("upstream", _) => Stream::Upstream,
                ("downstream", _) => Stream::Downstream,
                ("both", true) => Stream::Both,
                _ => return Err(ProxyError::InvalidStream),
            },
            Some(_) => return Err(ProxyError::InvalidStream),
        };
        let toxicity = match obj.get("toxicity") {
            None | Some(Value::Null) => 1.0,
            Some(v) => bounds::check_toxicity(v)?,
        };
        let name = match obj.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => format!("{}_{}", type_name, stream_name(stream)),
        };
        let schedule = match obj.get("schedule") {
            None | Some(Value::Null) => None,
            Some(s) => {
                bounds::check_schedule(s)?;
                Some(serde_json::from_value::<Schedule>(s.clone()).map_err(|e| bad_body(format!("schedule: {e}")))?)
            }
        };
        if let Some(s) = &schedule {
            s.validate()?;
        }
        let target = match obj.get("target") {
            None | Some(Value::Null) => Target::default(),
            Some(t) => {
                bounds::check_target(t)?;
                serde_json::from_value::<Target>(t.clone()).map_err(|e| bad_body(format!("target: {e}")))?
            }
        };
        target.compile()?;
        Ok(Toxic { name, kind, stream, toxicity, schedule, target })
    }

    /// Checks a toxic built in code (not parsed) against the same bounds as
    /// [`Toxic::from_json`]: the library refuses what the API refuses.
    pub fn validate(&self) -> Result<(), FieldError> {
        let v = self.to_json();
        let empty = Map::new();
        bounds::check_attributes(self.kind.type_name(), v["attributes"].as_object().unwrap_or(&empty))?;
        if !self.kind.is_firewall() && self.stream == Stream::Both {
            return Err(FieldError::invalid("stream", "\"both\" is only for reject, drop and hold"));
        }
        bounds::check_toxicity(&v["toxicity"])?;
        if let Some(s) = &self.schedule {
            bounds::check_schedule(&v["schedule"])?;
            s.validate()?;
        }
        self.target.compile()?;
        Ok(())
    }

    /// Applies a partial update: attributes merged key by key, other given
    /// fields replaced, the type and name kept.
    pub fn merged(&self, patch: &Value) -> Result<Toxic, ProxyError> {
        let patch = patch.as_object().ok_or_else(|| bad_body("expected a JSON object"))?;
        let mut current = self.to_json();
        let cur = current.as_object_mut().ok_or_else(|| bad_body("internal"))?;
        for (k, v) in patch {
            match k.as_str() {
                "attributes" => {
                    let attrs = v.as_object().ok_or_else(|| not_an_object("attributes", v))?;
                    let slot = cur.entry("attributes").or_insert_with(|| Value::Object(Map::new()));
                    if let Some(existing) = slot.as_object_mut() {
                        for (ak, av) in attrs {
                            existing.insert(ak.clone(), av.clone());
                        }
                    }
                }
                "name" | "type" => {}
                "stream" | "toxicity" | "schedule" | "target" => {
                    cur.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
        Toxic::from_json(&current)
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn stream_name(s: Stream) -> &'static str {
    match s {
        Stream::Upstream => "upstream",
        Stream::Downstream => "downstream",
        Stream::Both => "both",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn toxiproxy_defaults_apply() {
        let t = Toxic::from_json(&json!({"type": "latency", "attributes": {"latency": 100}})).expect("toxic");
        assert_eq!(t.name, "latency_downstream");
        assert_eq!(t.stream, Stream::Downstream);
        assert_eq!(t.toxicity, 1.0);
        assert_eq!(t.kind, Kind::Latency { latency: 100, jitter: 0 });
        let j = t.to_json();
        assert_eq!(j["type"], "latency");
        assert_eq!(j["attributes"]["latency"], 100);
        assert_eq!(j["stream"], "downstream");
        assert!(j.get("schedule").is_none() && j.get("target").is_none());
    }

    #[test]
    fn firewall_types_default_to_both_streams() {
        let t = Toxic::from_json(&json!({"type": "drop"})).expect("toxic");
        assert_eq!((t.name.as_str(), t.stream), ("drop_both", Stream::Both));
        assert_eq!(t.kind, Kind::Drop { new_connections: true });
        assert!(Toxic::from_json(&json!({"type": "latency", "stream": "both"})).is_err());
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let err = |v| Toxic::from_json(&v).expect_err("invalid").to_string();
        assert_eq!(err(json!({"type": "lag"})), "invalid toxic type");
        assert_eq!(
            err(json!({"type": "latency", "stream": "sideways"})),
            "stream was invalid, can be either upstream or downstream"
        );
        assert_eq!(
            err(json!({"type": "latency", "attributes": {"latency": "slow"}})),
            "attributes.latency: expected a whole number, got \"slow\""
        );
        assert!(err(json!({"type": "latency", "toxicity": 2})).contains("between 0 and 1"));
        assert!(err(json!({"type": "drop", "target": {"client": "nope"}})).contains("not an address"));
        assert!(err(json!({"type": "drop", "target": {"client_ports": [9, 1]}})).contains("not a range"));
    }

    #[test]
    fn errors_name_their_field() {
        let field = |v| Toxic::from_json(&v).expect_err("invalid").field().map(str::to_owned);
        assert_eq!(field(json!({"type": "lag"})).as_deref(), Some("type"));
        assert_eq!(field(json!({"type": "latency", "stream": 3})).as_deref(), Some("stream"));
        assert_eq!(field(json!({"type": "latency", "attributes": [1]})).as_deref(), Some("attributes"));
        assert_eq!(field(json!({"type": "latency", "toxicity": "x"})).as_deref(), Some("toxicity"));
        assert_eq!(field(json!({"type": "drop", "schedule": {"flap": 5}})).as_deref(), Some("schedule.flap"));
        assert_eq!(field(json!([])), None, "not a toxic at all");
    }

    #[test]
    fn partial_updates_merge_attributes() {
        let t = Toxic::from_json(&json!({"type": "latency", "attributes": {"latency": 100, "jitter": 5}})).expect("t");
        let u = t.merged(&json!({"attributes": {"latency": 300}, "toxicity": 0.5, "unknown": 1})).expect("merged");
        assert_eq!(u.kind, Kind::Latency { latency: 300, jitter: 5 });
        assert_eq!(u.toxicity, 0.5);
        assert_eq!(u.name, t.name);
    }
}
