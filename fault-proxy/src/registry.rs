//! The registry of proxies one fault-proxy runs ([`ProxyServer`]): create,
//! update, delete, populate, reset; and the library handle for one proxy
//! ([`Proxy`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::bounds::check_buffer;
use crate::error::ProxyError;
use crate::fault_set::DEFAULT_BUFFER;
use crate::fds::Admission;
use crate::proxy::{ProxyInner, Shared};
use crate::stats::{ConnView, Counters};
use crate::toxic::Toxic;

/// How the proxies of a server behave.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seeds every random choice (toxicity draws, jitter, slice sizes).
    pub seed: u64,
    /// How long an upstream dial may take before the client is reset.
    pub dial_timeout: Duration,
    /// Allow proxies to listen on non-loopback addresses.
    pub allow_remote: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { seed: 0, dial_timeout: Duration::from_secs(10), allow_remote: false }
    }
}

/// What a proxy is: Toxiproxy's `{name, listen, upstream, enabled}`, plus
/// the toxics to install (the config file and `/populate` honour them).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySpec {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    pub toxics: Option<Vec<Toxic>>,
    /// The most bytes one direction of a connection holds while faults
    /// delay them ([`DEFAULT_BUFFER`], 1 MiB, unless given).
    pub buffer_bytes: usize,
}

impl ProxySpec {
    pub fn new(name: &str, listen: &str, upstream: &str) -> Self {
        Self {
            name: name.into(),
            listen: listen.into(),
            upstream: upstream.into(),
            enabled: true,
            toxics: None,
            buffer_bytes: DEFAULT_BUFFER,
        }
    }

    /// Reads what a client sent; unknown keys are ignored.
    pub fn from_json(v: &Value) -> Result<ProxySpec, ProxyError> {
        let obj =
            v.as_object().ok_or_else(|| ProxyError::BadRequest("bad request body: expected a JSON object".into()))?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let name = text("name").ok_or(ProxyError::MissingField("name"))?;
        let upstream = text("upstream").ok_or(ProxyError::MissingField("upstream"))?;
        let listen = text("listen").unwrap_or_else(|| "127.0.0.1:0".into());
        let enabled = match obj.get("enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(ProxyError::BadRequest("bad request body: enabled must be true or false".into())),
        };
        let toxics = match obj.get("toxics") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(list.iter().map(Toxic::from_json).collect::<Result<Vec<_>, _>>()?),
            Some(_) => return Err(ProxyError::BadRequest("bad request body: toxics must be an array".into())),
        };
        let buffer_bytes = match obj.get("buffer_bytes") {
            None | Some(Value::Null) => DEFAULT_BUFFER,
            Some(v) => check_buffer(v)?,
        };
        Ok(ProxySpec { name, listen, upstream, enabled, toxics, buffer_bytes })
    }
}

/// A handle on one proxy, for library users.
#[derive(Debug, Clone)]
pub struct Proxy(pub(crate) Arc<ProxyInner>);

impl Proxy {
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Where the proxy listens (the real port once bound).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.0.listen().parse().ok()
    }

    pub fn upstream(&self) -> String {
        self.0.upstream()
    }

    pub fn enabled(&self) -> bool {
        self.0.enabled()
    }

    /// Adds a fault. It applies to live connections at their next chunk; it
    /// returns once the listener has it in force (a reject refuses, a drop
    /// answers no SYN).
    pub async fn add_fault(&self, toxic: Toxic) -> Result<Toxic, ProxyError> {
        let t = self.0.add_toxic(toxic)?;
        self.0.settled().await;
        Ok(t)
    }

    /// Updates a fault from a partial JSON body, as `PATCH` does.
    pub async fn update_fault(&self, name: &str, patch: &Value) -> Result<Toxic, ProxyError> {
        let merged = self.0.get_toxic(name)?.merged(patch)?;
        let t = self.0.replace_toxic(merged)?;
        self.0.settled().await;
        Ok(t)
    }

    pub async fn remove_fault(&self, name: &str) -> Result<(), ProxyError> {
        self.0.remove_toxic(name)?;
        self.0.settled().await;
        Ok(())
    }

    pub fn faults(&self) -> Vec<Toxic> {
        self.0.toxic_list()
    }

    pub fn fault(&self, name: &str) -> Result<Toxic, ProxyError> {
        self.0.get_toxic(name)
    }

    pub fn connections(&self) -> Vec<ConnView> {
        self.0.connections()
    }

    /// Live connections and running tasks.
    pub fn counters(&self) -> Counters {
        self.0.counters()
    }

    /// The held-bytes budget of one direction of each connection (`buffer_bytes`).
    pub fn buffer_bytes(&self) -> usize {
        self.0.buffer()
    }

    /// Toxiproxy's JSON view: `{name, listen, upstream, enabled, toxics}`,
    /// and `buffer_bytes`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.0.name,
            "listen": self.0.listen(),
            "upstream": self.0.upstream(),
            "enabled": self.0.enabled(),
            "toxics": self.0.toxic_list().iter().map(Toxic::to_json).collect::<Vec<_>>(),
            "buffer_bytes": self.0.buffer(),
        })
    }

    /// Stops listening and closes every connection; returns when its tasks are gone.
    pub async fn shutdown(&self) {
        self.0.stop().await;
    }
}

/// All the proxies of one fault-proxy.
#[derive(Debug, Clone)]
pub struct ProxyServer {
    proxies: Arc<Mutex<BTreeMap<String, Arc<ProxyInner>>>>,
    options: Options,
    /// Options, pipes for the zero-copy path and the count of connections
    /// against the descriptor limit, shared by every proxy.
    shared: Shared,
}

impl ProxyServer {
    pub fn new(options: Options) -> Self {
        let shared = Shared {
            seed: options.seed,
            dial_timeout: options.dial_timeout,
            allow_remote: options.allow_remote,
            pools: Arc::default(),
            admission: Arc::new(Admission::from_limit()),
        };
        Self { proxies: Arc::new(Mutex::new(BTreeMap::new())), options, shared }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<ProxyInner>>> {
        self.proxies.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, name: &str) -> Result<Proxy, ProxyError> {
        self.map().get(name).cloned().map(Proxy).ok_or(ProxyError::ProxyNotFound)
    }

    pub fn list(&self) -> Vec<Proxy> {
        self.map().values().cloned().map(Proxy).collect()
    }

    /// Creates and starts a proxy (and installs its toxics, if given).
    pub async fn create(&self, spec: ProxySpec) -> Result<Proxy, ProxyError> {
        if self.map().contains_key(&spec.name) {
            return Err(ProxyError::ProxyExists);
        }
        let o = &self.options;
        let inner = ProxyInner::new(&spec.name, &spec.listen, &spec.upstream, &self.shared);
        inner.set_buffer(spec.buffer_bytes);
        for t in spec.toxics.iter().flatten() {
            inner.add_toxic(t.clone())?;
        }
        if spec.enabled {
            inner.start().await?;
            inner.settled().await;
        } else {
            // Check the address now, as an enabled create would.
            let listen = inner.listen();
            if let Ok(a) = listen.parse::<SocketAddr>() {
                if !a.ip().is_loopback() && !o.allow_remote {
                    return Err(ProxyError::NotLoopback { addr: a });
                }
            }
        }
        let inserted = {
            let mut map = self.map();
            let free = !map.contains_key(&spec.name);
            if free {
                map.insert(spec.name.clone(), inner.clone());
            }
            free
        };
        if !inserted {
            inner.stop().await;
            return Err(ProxyError::ProxyExists);
        }
        Ok(Proxy(inner))
    }

    /// Applies a partial update: missing fields keep their values. A new
    /// listen or upstream restarts the proxy (its connections close).
    pub async fn update(&self, name: &str, patch: &Value) -> Result<Proxy, ProxyError> {
        let proxy = self.get(name)?;
        let obj = patch
            .as_object()
            .ok_or_else(|| ProxyError::BadRequest("bad request body: expected a JSON object".into()))?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let enabled = match obj.get("enabled") {
            None | Some(Value::Null) => proxy.enabled(),
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(ProxyError::BadRequest("bad request body: enabled must be true or false".into())),
        };
        let buffer = match obj.get("buffer_bytes") {
            None | Some(Value::Null) => None,
            Some(v) => Some(check_buffer(v)?),
        };
        let inner = &proxy.0;
        if let Some(b) = buffer {
            inner.set_buffer(b);
        }
        let (new_listen, new_upstream) = (text("listen"), text("upstream"));
        let listen_changed = new_listen.as_ref().is_some_and(|l| *l != inner.listen());
        let upstream_changed = new_upstream.as_ref().is_some_and(|u| *u != inner.upstream());
        if listen_changed || upstream_changed || (!enabled && inner.enabled()) {
            inner.stop().await;
        }
        {
            let mut s = inner.settings.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(l) = new_listen {
                s.listen = l;
            }
            if let Some(u) = new_upstream {
                s.upstream = u;
            }
        }
        if enabled && !inner.enabled() {
            inner.start().await?;
        }
        Ok(proxy)
    }

    pub async fn delete(&self, name: &str) -> Result<(), ProxyError> {
        let inner = self.map().remove(name).ok_or(ProxyError::ProxyNotFound)?;
        inner.stop().await;
        Ok(())
    }

    /// Toxiproxy's populate: proxies whose listen and upstream are unchanged
    /// are left alone (their connections survive); others are (re)created.
    /// When an entry lists `toxics`, the proxy's toxics become exactly those.
    pub async fn populate(&self, specs: Vec<ProxySpec>) -> Result<Vec<Proxy>, (ProxyError, Vec<Proxy>)> {
        let mut done = Vec::new();
        for spec in specs {
            let step = async {
                if let Ok(existing) = self.get(&spec.name) {
                    let same = existing.upstream() == spec.upstream
                        && (existing.0.listen() == spec.listen || spec.listen.ends_with(":0"));
                    if same {
                        existing.0.set_buffer(spec.buffer_bytes);
                        if let Some(toxics) = &spec.toxics {
                            existing.0.clear_toxics();
                            for t in toxics {
                                existing.0.add_toxic(t.clone())?;
                            }
                            existing.0.settled().await;
                        }
                        if spec.enabled != existing.enabled() {
                            self.update(&spec.name, &json!({"enabled": spec.enabled})).await?;
                        }
                        return Ok(existing);
                    }
                    self.delete(&spec.name).await?;
                }
                self.create(spec).await
            };
            match step.await {
                Ok(p) => done.push(p),
                Err(e) => return Err((e, done)),
            }
        }
        Ok(done)
    }

    /// Re-enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<(), ProxyError> {
        for p in self.list() {
            p.0.clear_toxics();
            if !p.enabled() {
                p.0.start().await?;
            }
            p.0.settled().await;
        }
        Ok(())
    }

    /// Stops every proxy and waits for their tasks.
    pub async fn shutdown(&self) {
        for p in self.list() {
            p.shutdown().await;
        }
    }
}
