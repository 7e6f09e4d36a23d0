//! What the `ds` rules know of every server, by name: its topology entry
//! (or what its own lines tell), its log, the ids it goes by, the probes.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::messages::Kind;
use super::server_log::ServerLog;
use crate::case::{Case, Flavor, TopoServer};
use crate::probes::Probe;

#[derive(Debug)]
pub struct World<'a> {
    pub srv: BTreeMap<String, TopoServer>,
    pub logs: BTreeMap<String, &'a ServerLog>,
    /// Server id (RS or DS) → server name.
    pub by_id: BTreeMap<String, String>,
    pub probes: &'a [Probe],
}

impl<'a> World<'a> {
    pub fn new(case: &Case, logs: &'a [ServerLog], probes: &'a [Probe]) -> World<'a> {
        let mut w = World { srv: BTreeMap::new(), logs: BTreeMap::new(), by_id: BTreeMap::new(), probes };
        if let Some(t) = &case.topology {
            for s in
                t.servers.iter().filter(|s| s.flavor.as_deref().and_then(Flavor::parse).is_none_or(|f| f == Flavor::Ds))
            {
                w.srv.insert(s.name.clone(), s.clone());
            }
        }
        for l in logs.iter().filter(|l| l.has_logs()) {
            w.logs.insert(l.name.clone(), l);
            let entry = w
                .srv
                .entry(l.name.clone())
                .or_insert_with(|| TopoServer { name: l.name.clone(), ..TopoServer::default() });
            if entry.server_id.is_none() {
                entry.server_id = l.own_rs_id().or_else(|| l.own_ds_id());
            }
            for e in &l.events {
                if let Kind::Listening { port, .. } = &e.kind {
                    if entry.replication_port.is_none() {
                        entry.replication_port = port.parse().ok();
                    }
                }
            }
        }
        // An id two servers share (a duplicate server id) names the one that
        // runs an RS: RS ids are what most lines carry.
        for rs_first in [true, false] {
            for (name, s) in &w.srv {
                let runs_rs =
                    s.replication_port.is_some() || w.logs.get(name.as_str()).is_some_and(|l| l.has_rs_lines());
                if let (Some(id), true) = (&s.server_id, runs_rs == rs_first) {
                    w.by_id.entry(id.clone()).or_insert_with(|| name.clone());
                }
            }
        }
        // A DS id that differs from its RS id maps to the same server.
        for l in logs {
            if let Some(ds) = l.own_ds_id() {
                w.by_id.entry(ds).or_insert_with(|| l.name.clone());
            }
        }
        w
    }

    /// The server an RS id names, or `RS(id)` when no server goes by it.
    pub fn name_of(&self, id: &str) -> String {
        self.by_id.get(id).cloned().unwrap_or_else(|| format!("RS({id})"))
    }

    /// The DS server an RS's line about DS `id` means (207, 211, 53): where
    /// two servers share the id, the one whose own log says it connected to
    /// that RS (`rs`, the RS's id).
    pub fn ds_name_at(&self, id: &str, rs: &str) -> String {
        let mut same: Vec<&String> =
            self.logs.iter().filter(|(_, l)| l.own_ds_id().as_deref() == Some(id)).map(|(n, _)| n).collect();
        if same.len() > 1 {
            same.retain(|n| {
                self.logs[n.as_str()]
                    .events
                    .iter()
                    .any(|e| matches!(&e.kind, Kind::DsConnected { rs: r, .. } if r == rs))
            });
            if let [only] = same.as_slice() {
                return (*only).clone();
            }
        }
        self.ds_name_of(id)
    }

    /// The server a DS id names, or `DS(id)`.
    pub fn ds_name_of(&self, id: &str) -> String {
        self.by_id.get(id).cloned().unwrap_or_else(|| format!("DS({id})"))
    }

    /// What is known of `name`; for a server known only from the ids in
    /// others' lines (`RS(5678)`), that id is its server id.
    pub fn srv(&self, name: &str) -> TopoServer {
        self.srv.get(name).cloned().unwrap_or_else(|| {
            let id = name.strip_prefix("RS(").or_else(|| name.strip_prefix("DS(")).and_then(|r| r.strip_suffix(')'));
            TopoServer { name: name.to_owned(), server_id: id.map(str::to_owned), ..TopoServer::default() }
        })
    }

    /// Does the probe aim at `name` (its name, host or one of its addresses)?
    pub fn targets(&self, p: &Probe, name: &str) -> bool {
        let s = self.srv(name);
        p.target == name || s.host.as_deref() == Some(p.target.as_str()) || s.addresses.contains(&p.target)
    }

    /// Some TCP or TLS probe reached a port of `name`.
    pub fn reached(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.reached() && self.targets(p, name))
    }

    /// Is `name` running, judged at `since` (a failure time) or at the end?
    pub fn alive(&self, name: &str, since: Option<OffsetDateTime>) -> bool {
        if self.reached(name).is_some() {
            return true;
        }
        match self.logs.get(name) {
            None => false,
            Some(l) if l.stopped_at_end() => false,
            Some(l) => match since {
                Some(t) => l.events.iter().any(|e| e.at >= t),
                None => l
                    .events
                    .iter()
                    .any(|e| matches!(e.kind, Kind::Listening { .. } | Kind::AcceptedDs { .. } | Kind::Started)),
            },
        }
    }

    /// Is `addr` (`/127.0.0.2:39134`, `host/127.0.0.2:8989`, `127.0.0.2`)
    /// one of `name`'s own addresses?
    pub fn is_address_of(&self, addr: &str, name: &str) -> bool {
        let ip = addr.trim_start_matches('/').rsplit_once(':').map_or(addr, |(ip, _)| ip);
        let ip = ip.rsplit('/').next().unwrap_or(ip);
        !ip.is_empty() && self.srv(name).addresses.iter().any(|x| x == ip)
    }
}
