//! The JSON the API answers with (`docs/lab.md` shows each), and how a
//! link's colour is decided from what really runs: the harness's link table
//! and the toxics installed on the link's proxies.

use serde::Serialize;
use serde_json::Value;

/// `GET /api/state`.
#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    /// What the lab was made from (`3 ds servers`, a scenario's name).
    pub title: String,
    pub time_scale: f64,
    /// The virtual clock now (RFC 3339), as the logs stamp it.
    pub now: String,
    /// Real seconds since the lab started.
    pub elapsed_s: f64,
    /// The live case folder the engine reads.
    pub case_folder: String,
    pub servers: Vec<ServerView>,
    pub links: Vec<LinkView>,
    /// Every installed fault, on RS links or not.
    pub faults: Vec<FaultView>,
    /// The verdict objects of `spec/cli.md` from the latest snapshot.
    pub verdicts: Vec<diagnosis::Verdict>,
    pub engine: EngineView,
    pub timeline: Vec<TimelineEntry>,
}

/// One server.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerView {
    pub name: String,
    pub flavor: &'static str,
    pub version: String,
    pub host: String,
    pub address: String,
    /// The port its replication partners connect to (an Exchange bridgehead's message port).
    pub replication_port: Option<u16>,
    pub admin_port: Option<u16>,
    /// Exchange bridgeheads: their site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// `running`, `stopped` (a clean stop) or `killed`.
    pub state: &'static str,
    /// `ok`, or `broken` when its host name does not resolve (for some peer, or for all).
    pub dns: &'static str,
    /// Who cannot resolve it, when `dns` is `broken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_detail: Option<String>,
    /// Its log files, in case-folder order.
    pub log_files: Vec<&'static str>,
}

/// One replication link between two servers (every domain they share).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkView {
    /// `A <-> B`, in topology order; the API takes either order.
    pub name: String,
    pub a: String,
    pub b: String,
    /// `up`, `down`, `faulted` (a fault installed, replication still up) or `flapping`.
    pub state: &'static str,
    /// Everything between the two is up (every domain, every direction).
    pub up: bool,
    /// DS: one per shared domain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<DomainLink>,
    /// Exchange: each direction's link (`A -> B`); 389: each agreement of the pair (supplier -> consumer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<Direction>,
    pub faults: Vec<FaultView>,
}

/// One domain's link of a pair.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DomainLink {
    pub domain: String,
    pub up: bool,
    /// The server that opened the connection, when up.
    pub initiator: Option<String>,
}

/// One direction of an Exchange pair.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Direction {
    pub link: String,
    pub up: bool,
    /// 389: the agreement this direction is (`s1-to-s2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
}

/// A fault installed on one or two directed links.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultView {
    /// What `DELETE /api/faults/ID` takes.
    pub id: u64,
    /// As asked, names in topology order: `A <-> B` or `A -> B`.
    pub link: String,
    /// The directed links (one proxy listener each) it is installed on: `A->B`, `B->A:admin`.
    pub on: Vec<String>,
    /// Who installed it: `trainer` (the API) or `scenario` (a step of the file).
    pub by: &'static str,
    /// The fault as the fault proxy holds it (Toxiproxy's toxic JSON).
    pub fault: Value,
}

/// The engine's last run.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct EngineView {
    /// Snapshots diagnosed so far.
    pub snapshots: u64,
    /// `collected_at` of the snapshot the verdicts come from.
    pub at: Option<String>,
    /// Why the last snapshot gave no verdicts, if it failed.
    pub error: Option<String>,
}

/// One line of the timeline: what the trainer did, what the scenario did,
/// what the engine saw appear or go.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimelineEntry {
    /// Virtual time (RFC 3339), on the logs' clock.
    pub at: String,
    pub elapsed_s: f64,
    /// `trainer`, `scenario` or `engine`.
    pub by: &'static str,
    pub what: String,
}

/// `GET /api/servers/NAME/logs`: the newest records, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogsView {
    pub server: String,
    /// Records the server has written in all.
    pub total: usize,
    pub lines: Vec<LogLine>,
}

/// One record: its line and the files it landed in (a SYNC error lands in
/// both `errors` and `replication`; it is shown once).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogLine {
    /// The record's number on its server, from 1 (events carry it too, so a
    /// page that read the tail and then hears events shows each record once).
    pub n: usize,
    pub files: &'static [&'static str],
    pub line: String,
}

/// A link's colour: a flap schedule wins (the link comes and goes), then a
/// link that is not up, then any installed fault; else `up`.
pub fn link_state(up: bool, faults: &[FaultView]) -> &'static str {
    let flapping = faults.iter().any(|f| f.fault.pointer("/schedule/flap").is_some_and(|v| !v.is_null()));
    if flapping {
        "flapping"
    } else if !up {
        "down"
    } else if !faults.is_empty() {
        "faulted"
    } else {
        "up"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fault(v: Value) -> FaultView {
        FaultView { id: 1, link: "a <-> b".into(), on: vec![], by: "trainer", fault: v }
    }

    #[test]
    fn the_colour_follows_flap_then_down_then_faults() {
        assert_eq!(link_state(true, &[]), "up");
        assert_eq!(link_state(false, &[]), "down");
        let drop = fault(json!({"type": "drop"}));
        assert_eq!(link_state(true, std::slice::from_ref(&drop)), "faulted");
        assert_eq!(link_state(false, &[drop]), "down");
        let flap = fault(json!({"type": "reset_peer", "schedule": {"flap": {"on_ms": 200, "off_ms": 600}}}));
        assert_eq!(link_state(true, std::slice::from_ref(&flap)), "flapping");
        assert_eq!(link_state(false, &[flap]), "flapping", "a flap wins: the link comes and goes");
    }
}
