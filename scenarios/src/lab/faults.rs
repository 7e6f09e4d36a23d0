//! Faults on links: `POST /api/faults` and `DELETE /api/faults/ID`, and the
//! scenario's own fault steps, all installed on the link's proxies by the
//! fault proxy's library (so the API refuses exactly what the proxy refuses).
//!
//! `A <-> B` means both directed links (the connections A opens to B and
//! those B opens to A; for a 389 supplier and its consumer, the one
//! agreement's path), `A -> B` only the connections A opens to B, as in
//! scenario files.

use serde::Deserialize;
use serde_json::{json, Value};

use fault_proxy::{ProxyError, Toxic};

use super::error::LabError;
use super::state::{Lab, Registered};
use super::view::FaultView;
use crate::format::Port;
use crate::plan::{parse_link, LinkRef};

/// `POST /api/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// `A <-> B` (both ways, names in either order) or `A -> B`.
    pub link: String,
    /// Any fault-proxy fault: `{"type": "drop"}`, `{"type": "latency", "attributes": {"latency": 300}}` …
    pub fault: Value,
    /// The target's replication port (default) or its admin port, when the
    /// scenario proxies admin ports.
    #[serde(default)]
    pub port: Port,
}

/// `A <-> B` when the links are one pair both ways, else `A -> B` (each).
pub(super) fn link_text(on: &[LinkRef]) -> String {
    let suffix = |l: &LinkRef| if l.port == Port::Admin { " (admin)" } else { "" };
    match on {
        [x, y] if x.from == y.to && x.to == y.from && x.port == y.port => {
            format!("{} <-> {}{}", x.from, x.to, suffix(x))
        }
        _ => on.iter().map(|l| format!("{} -> {}{}", l.from, l.to, suffix(l))).collect::<Vec<_>>().join(", "),
    }
}

/// A fault in a few words, for the timeline: `drop`, `latency 300 ms (downstream)`.
pub(super) fn describe(fault: &Value) -> String {
    let kind = fault.get("type").and_then(Value::as_str).unwrap_or("fault");
    let mut out = kind.to_owned();
    if let Some(attrs) = fault.get("attributes").and_then(Value::as_object) {
        let parts: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !parts.is_empty() {
            out.push_str(&format!(" {}", parts.join(" ")));
        }
    }
    match fault.get("stream").and_then(Value::as_str) {
        Some("both") | None => {}
        Some(s) => out.push_str(&format!(" ({s})")),
    }
    if let Some(flap) = fault.pointer("/schedule/flap").filter(|v| v.is_object()) {
        let ms = |k: &str| flap.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.push_str(&format!(", flapping: on {} ms, off {} ms (real)", ms("on_ms"), ms("off_ms")));
    }
    out
}

/// A refusal of the fault proxy as the API says it.
fn refused(e: ProxyError) -> LabError {
    match e {
        ProxyError::InvalidToxicType => LabError::BadRequest(format!(
            "fault.type: invalid toxic type (expected one of {})",
            fault_proxy::toxic::TYPES.join(", ")
        )),
        e if e.status() == 400 => LabError::BadRequest(format!("fault: {e}")),
        e if e.status() == 409 => LabError::Conflict(format!("fault: {e}")),
        e => LabError::Failed(format!("fault: {e}")),
    }
}

impl Lab {
    pub(super) fn next_fault_id(&self) -> u64 {
        let mut inner = self.inner();
        let id = inner.next_id;
        inner.next_id += 1;
        id
    }

    /// The directed links a request names, each checked to go through a proxy.
    fn directed(&self, text: &str, port: Port) -> Result<Vec<LinkRef>, LabError> {
        let (a, b, both) = parse_link(text)
            .ok_or_else(|| LabError::BadRequest(format!("link {text:?} is not \"A <-> B\" or \"A -> B\"")))?;
        let (a, b) = (self.server(&a)?, self.server(&b)?);
        let mut on = vec![LinkRef { from: a.clone(), to: b.clone(), port }];
        if both && a != b {
            on.push(LinkRef { from: b, to: a, port });
        }
        let proxied = &self.proxied;
        // A 389 supplier and its consumer have one agreement between them:
        // `A <-> B` is every proxied path of the pair, one at least.
        if both && on.len() == 2 && on.iter().any(|l| proxied.contains(l)) {
            on.retain(|l| proxied.contains(l));
        }
        if let Some(missing) = on.iter().find(|l| !proxied.contains(l)) {
            let known = proxied.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
            return Err(LabError::UnknownLink { link: missing.to_string(), known });
        }
        // Topology order for the pair, so `ds-2 <-> ds-1` reads `ds-1 <-> ds-2`.
        let names = self.net.names();
        let order = |n: &str| names.iter().position(|s| s == n);
        if on.len() == 2 && order(&on[0].from) > order(&on[0].to) {
            on.swap(0, 1);
        }
        Ok(on)
    }

    /// `POST /api/faults`: the fault on the link's proxies, under the name `lab-ID`.
    pub async fn add_fault(&self, req: FaultRequest) -> Result<FaultView, LabError> {
        let on = self.directed(&req.link, req.port)?;
        let mut body = match req.fault {
            Value::Object(o) => o,
            other => {
                return Err(LabError::BadRequest(format!(
                    "fault must be an object such as {{\"type\": \"drop\"}}, not {other}"
                )))
            }
        };
        let id = self.next_fault_id();
        // The timeline says it as it was asked (`drop`), not with every default filled in.
        let asked = describe(&Value::Object(body.clone()));
        body.insert("name".into(), json!(format!("lab-{id}")));
        let toxic = Toxic::from_json(&Value::Object(body)).map_err(refused)?;
        self.install(id, on, toxic, "trainer", asked).await
    }

    /// Installs `toxic` on every link of `on` (all or none) and registers it
    /// as fault `id`; `said` is how the timeline tells it.
    pub(super) async fn install(
        &self,
        id: u64,
        on: Vec<LinkRef>,
        toxic: Toxic,
        by: &'static str,
        said: String,
    ) -> Result<FaultView, LabError> {
        let link = link_text(&on);
        let fault = toxic.to_json();
        let view = FaultView { id, link: link.clone(), on: on.iter().map(|l| l.to_string()).collect(), by, fault };
        // Registered (as pending) before it is on any proxy, so no reader
        // takes it for a toxic nobody installed.
        let reg = Registered {
            link: link.clone(),
            on: on.clone(),
            toxic: toxic.name.clone(),
            by,
            fault: view.fault.clone(),
            said: said.clone(),
            pending: true,
        };
        self.inner().faults.insert(id, reg);
        let mut done = Vec::new();
        for l in &on {
            let added = match self.net.proxy(l) {
                Ok(proxy) => proxy.add_fault(toxic.clone()).await.map(|_| proxy).map_err(refused),
                Err(e) => Err(LabError::Failed(e.to_string())),
            };
            match added {
                Ok(proxy) => done.push(proxy),
                Err(e) => {
                    for p in done {
                        let _ = p.remove_fault(&toxic.name).await;
                    }
                    self.inner().faults.remove(&id);
                    return Err(e);
                }
            }
        }
        if let Some(r) = self.inner().faults.get_mut(&id) {
            r.pending = false;
        }
        self.emit("fault-added", &view);
        self.note(by, format!("{said} on {link} (fault {id})"));
        self.acted();
        Ok(view)
    }

    /// `DELETE /api/faults/ID`: the fault off every proxy it was on.
    pub async fn remove_fault(&self, id: &str) -> Result<FaultView, LabError> {
        let unknown = || LabError::UnknownFault(id.to_owned());
        let n: u64 = id.trim().parse().map_err(|_| unknown())?;
        // Taken off the proxies first, then out of the register: no reader
        // sees the toxic without its registration in between.
        let reg = self.inner().faults.get(&n).cloned().ok_or_else(unknown)?;
        for l in &reg.on {
            let Ok(proxy) = self.net.proxy(l) else { continue };
            match proxy.remove_fault(&reg.toxic).await {
                Ok(()) | Err(ProxyError::ToxicNotFound) => {}
                Err(e) => tracing::warn!("lab: removing fault {n} from {l}: {e}"),
            }
        }
        self.inner().faults.remove(&n);
        let view = FaultView {
            id: n,
            link: reg.link.clone(),
            on: reg.on.iter().map(|l| l.to_string()).collect(),
            by: reg.by,
            fault: reg.fault.clone(),
        };
        self.emit("fault-removed", &view);
        self.note("trainer", format!("healed {}: removed {} (fault {n})", reg.link, reg.said));
        self.acted();
        Ok(view)
    }

    /// Every fault installed on some proxy, as the proxy holds it, with its
    /// directed links. A toxic the lab did not install (a step of the file
    /// that the family's runner played) is registered here, one fault per
    /// pair and name; a fault the scenario has cleared is dropped.
    pub(super) fn faults_on(&self) -> Vec<(Vec<LinkRef>, FaultView)> {
        let mut held: Vec<(LinkRef, fault_proxy::Toxic)> = Vec::new();
        for l in &self.proxied {
            if let Ok(p) = self.net.proxy(l) {
                held.extend(p.faults().into_iter().map(|t| (l.clone(), t)));
            }
        }
        let mut inner = self.inner();
        inner
            .faults
            .retain(|_, reg| reg.pending || held.iter().any(|(l, t)| t.name == reg.toxic && reg.on.contains(l)));
        let mut found: Vec<(Vec<LinkRef>, fault_proxy::Toxic)> = Vec::new();
        for (l, t) in &held {
            if inner.faults.values().any(|r| r.toxic == t.name && r.on.contains(l)) {
                continue;
            }
            let pair = |x: &LinkRef| (x.from == l.from && x.to == l.to) || (x.from == l.to && x.to == l.from);
            match found.iter_mut().find(|(on, f)| f.name == t.name && on.iter().any(pair)) {
                Some((on, _)) => on.push(l.clone()),
                None => found.push((vec![l.clone()], t.clone())),
            }
        }
        for (on, t) in found {
            let id = inner.next_id;
            inner.next_id += 1;
            let fault = t.to_json();
            let said = describe(&fault);
            let reg = Registered {
                link: link_text(&on),
                on,
                toxic: t.name.clone(),
                by: "scenario",
                fault,
                said,
                pending: false,
            };
            inner.faults.insert(id, reg);
        }
        inner
            .faults
            .iter()
            .filter(|(_, reg)| !reg.pending)
            .map(|(id, reg)| {
                let fault = held
                    .iter()
                    .find(|(l, t)| t.name == reg.toxic && reg.on.contains(l))
                    .map_or_else(|| reg.fault.clone(), |(_, t)| t.to_json());
                (
                    reg.on.clone(),
                    FaultView {
                        id: *id,
                        link: reg.link.clone(),
                        on: reg.on.iter().map(|l| l.to_string()).collect(),
                        by: reg.by,
                        fault,
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(from: &str, to: &str, port: Port) -> LinkRef {
        LinkRef { from: from.into(), to: to.into(), port }
    }

    #[test]
    fn links_read_as_they_were_asked() {
        let r = Port::Replication;
        assert_eq!(link_text(&[l("a", "b", r), l("b", "a", r)]), "a <-> b");
        assert_eq!(link_text(&[l("a", "b", r)]), "a -> b");
        assert_eq!(link_text(&[l("a", "b", Port::Admin), l("b", "a", Port::Admin)]), "a <-> b (admin)");
    }

    #[test]
    fn faults_read_in_a_few_words() {
        assert_eq!(describe(&json!({"type": "drop", "stream": "both", "attributes": {}})), "drop");
        assert_eq!(
            describe(&json!({"type": "latency", "stream": "downstream", "attributes": {"latency": 300, "jitter": 0}})),
            "latency jitter=0 latency=300 (downstream)"
        );
        assert_eq!(
            describe(&json!({"type": "reset_peer", "attributes": {"timeout": 0},
                             "schedule": {"flap": {"on_ms": 200, "off_ms": 600}}})),
            "reset_peer timeout=0, flapping: on 200 ms, off 600 ms (real)"
        );
    }
}
