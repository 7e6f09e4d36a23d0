//! Which server answers at the API's address, found out the way a client
//! can without trusting names: `/version` looks the same on both (fault-proxy
//! copies Toxiproxy's `{"version": "…"}`; Toxiproxy before 2.6 answers plain
//! text), so it only proves the address speaks the API. Then a capability
//! probe: a throwaway proxy is created **disabled** (nothing listens, nothing
//! is dialed), and given a `drop` toxic on `stream: both` with a `schedule`
//! and a `target`. A server that takes it and echoes all three back has the
//! firewall faults, schedules and targets (fault-proxy); one that answers
//! 400 `invalid toxic type` (or `stream was invalid`) is a Toxiproxy, which
//! ignores unknown keys and knows its own toxics only. The probe proxy is
//! deleted whatever happens.

use std::fmt;

use hyper::Method;
use serde_json::{json, Value};

use super::client::{Answer, Client};
use super::{ApiError, ApiUrl};

/// What kind of server it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Our fault-proxy (or any server with its firewall faults, schedules and targets).
    FaultProxy,
    /// Toxiproxy: its own toxics only.
    Toxiproxy,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::FaultProxy => "fault-proxy",
            Flavor::Toxiproxy => "Toxiproxy",
        }
    }
}

/// The server found at an API address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub url: ApiUrl,
    pub flavor: Flavor,
    /// What `/version` said.
    pub version: String,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} at {}", self.flavor.name(), self.version, self.url)
    }
}

impl Server {
    /// What it does with the runner's faults, for the run's first lines.
    pub fn abilities(&self) -> &'static str {
        match self.flavor {
            Flavor::FaultProxy => "every fault as the in-process proxy",
            Flavor::Toxiproxy => {
                "its own toxics; a reject before any server starts as enabled: false; drop, hold, later rejects, \
                 flap, schedule and target refused"
            }
        }
    }
}

/// The version from a `/version` body: `{"version": "2.9.0"}` or `2.1.4`.
fn version_of(a: &Answer) -> Option<String> {
    if let Some(v) = a.json().get("version").and_then(Value::as_str) {
        return Some(v.to_owned());
    }
    let t = std::str::from_utf8(&a.body).ok()?.trim();
    let plain = !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_graphic());
    plain.then(|| t.to_owned())
}

/// Finds out which server answers; `probe_name` names the throwaway proxy.
pub async fn detect(client: &Client, probe_name: &str) -> Result<Server, ApiError> {
    let url = client.url().clone();
    let a = client.request(Method::GET, "/version", None).await?;
    let version = match version_of(&a) {
        Some(v) if a.ok() => v,
        _ => {
            let detail = format!("GET /version answered {}: {:?}", a.status, a.text());
            return Err(ApiError::NotAnApi { url: url.to_string(), detail });
        }
    };
    let proxy = json!({"name": probe_name, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "enabled": false});
    let created = client.request(Method::POST, "/proxies", Some(&proxy)).await?;
    if created.status != 201 {
        let detail = format!("creating a disabled probe proxy answered {}: {}", created.status, created.error_text());
        return Err(ApiError::NotAnApi { url: url.to_string(), detail });
    }
    let flavor = probe(client, probe_name).await;
    let removed = client.expect_ok(Method::DELETE, &format!("/proxies/{probe_name}"), None).await;
    let flavor = flavor?;
    removed?;
    Ok(Server { url, flavor, version })
}

async fn probe(client: &Client, proxy: &str) -> Result<Flavor, ApiError> {
    let toxic = json!({
        "name": "replharness_probe", "type": "drop", "stream": "both",
        "schedule": {"start_after_ms": 86_400_000}, "target": {"client": "127.0.0.1"}
    });
    let a = client.request(Method::POST, &format!("/proxies/{proxy}/toxics"), Some(&toxic)).await?;
    let echo = a.json();
    let error = a.error_text();
    if a.ok() && echo["type"] == "drop" && echo.get("schedule").is_some() && echo.get("target").is_some() {
        Ok(Flavor::FaultProxy)
    } else if a.status == 400 && (error.contains("invalid toxic type") || error.contains("stream was invalid")) {
        Ok(Flavor::Toxiproxy)
    } else {
        let detail = format!("the capability probe (a drop toxic) answered {}: {}", a.status, a.text());
        Err(ApiError::NotAnApi { url: client.url().to_string(), detail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: bytes::Bytes::from(body.to_owned()) }
    }

    #[test]
    fn versions_in_both_shapes() {
        assert_eq!(version_of(&answer(200, "{\"version\": \"2.9.0\"}\n")).as_deref(), Some("2.9.0"));
        assert_eq!(version_of(&answer(200, "2.1.4")).as_deref(), Some("2.1.4"));
        assert_eq!(version_of(&answer(200, "<html><body>hello</body></html> and more")), None);
        assert_eq!(version_of(&answer(200, "")), None);
    }
}
