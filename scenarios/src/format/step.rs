//! `[[steps]]`: one enum tagged by `action`, each action with exactly its
//! own fields (an unknown one is an error). Durations stay text here; the
//! plan reads them ([`crate::plan`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One timeline step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum Step {
    /// Adds a fault to the proxies of a link (one per direction).
    Fault(FaultStep),
    /// Removes a fault by name.
    Clear(ClearStep),
    /// A clean stop: CORE shutdown lines, StopMsg on every link.
    Stop(ServerStep),
    /// A kill: nothing more logged, connections reset.
    Kill(ServerStep),
    /// A (re)start on the same ports.
    Start(ServerStep),
    /// A name stops resolving, or resolves to another (loopback) address.
    Dns(DnsStep),
    /// The server's data changes generation (a restore or an import).
    Generation(GenerationStep),
    /// Waits for a condition.
    Wait(WaitStep),
    /// 389: changes made on a supplier.
    Write(crate::r389::format::WriteStep),
    /// 389: `dsconf repl-agmt set|enable|disable`.
    Agreement(crate::r389::format::AgreementStep),
    /// 389: `dsconf repl-agmt init` (a total update).
    Init(crate::r389::format::AgreementRef),
    /// 389: `dsconf repl-agmt poke` (replicate now).
    Poke(crate::r389::format::AgreementRef),
    /// 389: a change on a server's replica or its knobs.
    Replica(crate::r389::format::ReplicaStep),
}

impl Step {
    /// The `action` as written.
    pub fn action(&self) -> &'static str {
        match self {
            Step::Fault(_) => "fault",
            Step::Clear(_) => "clear",
            Step::Stop(_) => "stop",
            Step::Kill(_) => "kill",
            Step::Start(_) => "start",
            Step::Dns(_) => "dns",
            Step::Generation(_) => "generation",
            Step::Wait(_) => "wait",
            Step::Write(_) => "write",
            Step::Agreement(_) => "agreement",
            Step::Init(_) => "init",
            Step::Poke(_) => "poke",
            Step::Replica(_) => "replica",
        }
    }

    /// `at`, as written.
    pub fn at(&self) -> Option<&str> {
        match self {
            Step::Fault(s) => s.at.as_deref(),
            Step::Clear(s) => s.at.as_deref(),
            Step::Stop(s) | Step::Kill(s) | Step::Start(s) => s.at.as_deref(),
            Step::Dns(s) => s.at.as_deref(),
            Step::Generation(s) => s.at.as_deref(),
            Step::Wait(s) => s.at.as_deref(),
            Step::Write(s) => s.at.as_deref(),
            Step::Agreement(s) => s.at.as_deref(),
            Step::Init(s) | Step::Poke(s) => s.at.as_deref(),
            Step::Replica(s) => s.at.as_deref(),
        }
    }
}

/// Which port of the target a link step means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Port {
    #[default]
    Replication,
    /// Needs `[topology.proxy] admin_ports = true`.
    Admin,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `action = "fault"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// `"A -> B"` (the connections A opens to B) or `"A <-> B"` (both).
    pub link: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub port: Port,
    /// The fault's name (default the proxy's `TYPE_STREAM`), for `clear`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub fault: FaultSpec,
    /// Switches it on and off on the virtual clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap: Option<FlapSpec>,
}

/// A fault-proxy toxic as the file writes it (`docs/fault-proxy.md`). The
/// keys are the proxy's; what they hold is checked by the proxy's own
/// parser and bounds ([`fault_proxy::bounds`]), so the file and the API
/// refuse the same values. Attribute times are real milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toxicity: Option<f64>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// Which connections it touches (the proxy's `target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Value>,
    /// The proxy's own timeline, in real milliseconds (`flap` is the
    /// virtual-time way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Value>,
}

/// `flap = { on = "20s", off = "60s", count = 4 }` (virtual durations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlapSpec {
    pub on: String,
    pub off: String,
    /// How many times (default: until cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// `action = "clear"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub link: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub port: Port,
    pub name: String,
}

/// `action = "stop" | "kill" | "start"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub server: String,
}

/// `action = "dns"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub host: String,
    /// Whose view changes (default: every server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolvable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `action = "generation"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub server: String,
    pub domain: String,
    pub generation_id: i64,
}

/// `action = "wait"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub until: Until,
    /// Wall clock (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// What a `wait` waits for: one of `logged` (with `server`, `count`),
/// `link_up`, `link_down`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Until {
    /// A message ordinal (181, 205 …) logged on `server`, `count` times (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `A <-> B`: the RS link is up (for every shared domain) / down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_up: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_down: Option<String>,
    /// 389: an agreement's status contains this (`agreement`: that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// 389: a line of `server`'s errors log contains this, `count` times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// 389: every enabled agreement's last session succeeded and its consumer holds the newest change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_sync: Option<bool>,
}
