//! One scenario's link proxies on an external server: created (one per
//! directed link, listening on 127.0.0.1, port chosen by the server),
//! faulted and cleared as the timeline says, and deleted at the end. The
//! names on the server are `rh-PID-N-LINK` (`rh-4242-1-ds-1_to_ds-2`), so
//! runs that share a server never collide and leftovers of a killed run are
//! easy to find (`curl -s URL/proxies`). Deleting a proxy removes its
//! toxics. If the scenario is abandoned before [`ExternalLinks::remove_all`]
//! (a hung shutdown), dropping the value still sends the deletes, on the
//! runtime, without waiting for them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fault_proxy::toxic::Toxic;
use hyper::Method;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::client::Client;
use super::translate::{translate, Translated};
use super::{detect, ApiError, ApiUrl, Server, Settings};

/// A number per use of a server in this process.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// `rh-PID-N`: a prefix no other live run shares.
fn unique_prefix() -> String {
    format!("rh-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A link name as a proxy name: letters, digits, `.`, `_`, `-` (`->` is `_to_`).
fn api_name(prefix: &str, link: &str) -> String {
    let link = link.replace("->", "_to_");
    let safe: String =
        link.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    format!("{prefix}-{safe}")
}

/// One proxy on the server.
#[derive(Debug, Default)]
struct Remote {
    api_name: String,
    /// Fault name → the toxic names it added on the server.
    toxics: BTreeMap<String, Vec<String>>,
    /// Faults that hold the proxy disabled (`reject` on Toxiproxy).
    disabled_by: BTreeSet<String>,
}

/// The link proxies of one scenario on an external server.
#[derive(Debug)]
pub struct ExternalLinks {
    client: Client,
    server: Server,
    prefix: String,
    /// Link name (`A->B`) → its proxy.
    remotes: Arc<Mutex<BTreeMap<String, Remote>>>,
    /// Every proxy created and not yet deleted (for the drop guard).
    created: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ExternalLinks {
    /// Checks the loopback policy, then finds out which server answers.
    pub async fn connect(url: &ApiUrl, settings: &Settings) -> Result<ExternalLinks, ApiError> {
        url.check_policy(settings.allow_remote)?;
        let client = Client::new(url.clone(), settings.timeout);
        let prefix = unique_prefix();
        let server = detect::detect(&client, &format!("{prefix}-probe")).await?;
        Ok(ExternalLinks { client, server, prefix, remotes: Arc::default(), created: Arc::default() })
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    fn url(&self) -> String {
        self.client.url().to_string()
    }

    /// Checks that the server can do `toxic` (before anything is created).
    pub fn check(&self, toxic: &Toxic, before_start: bool) -> Result<(), ApiError> {
        translate(&self.server, toxic, before_start).map(|_| ())
    }

    /// Creates the proxy of `link` to `upstream`; its listen address.
    pub async fn create(&self, link: &str, upstream: SocketAddr) -> Result<SocketAddr, ApiError> {
        let name = api_name(&self.prefix, link);
        let body = json!({"name": name, "listen": "127.0.0.1:0", "upstream": upstream.to_string(), "enabled": true});
        let a = self.client.expect_ok(Method::POST, "/proxies", Some(&body)).await?;
        if let Ok(mut c) = self.created.lock() {
            c.push(name.clone());
        }
        let listen = a.json().get("listen").and_then(Value::as_str).unwrap_or_default().to_owned();
        let addr = listen
            .parse::<SocketAddr>()
            .ok()
            .filter(|a| a.ip().is_loopback() && a.port() != 0)
            .ok_or_else(|| ApiError::BadListen { url: self.url(), proxy: name.clone(), listen })?;
        self.remotes.lock().await.insert(link.to_owned(), Remote { api_name: name, ..Remote::default() });
        Ok(addr)
    }

    /// Adds a fault to the proxy of `link`, as the server can do it.
    pub async fn add_fault(&self, link: &str, toxic: &Toxic, before_start: bool) -> Result<(), ApiError> {
        let translated = translate(&self.server, toxic, before_start)?;
        let mut remotes = self.remotes.lock().await;
        let r = remotes.get_mut(link).ok_or_else(|| self.no_proxy(link))?;
        let path = format!("/proxies/{}", r.api_name);
        match translated {
            Translated::Disable => {
                if r.disabled_by.is_empty() {
                    self.client.expect_ok(Method::POST, &path, Some(&json!({"enabled": false}))).await?;
                }
                r.disabled_by.insert(toxic.name.clone());
            }
            Translated::Toxics(bodies) => {
                let mut added = Vec::new();
                for b in &bodies {
                    self.client.expect_ok(Method::POST, &format!("{path}/toxics"), Some(b)).await?;
                    added.push(b["name"].as_str().unwrap_or(&toxic.name).to_owned());
                }
                r.toxics.insert(toxic.name.clone(), added);
            }
        }
        Ok(())
    }

    /// Clears the fault named `name` from the proxy of `link`.
    pub async fn remove_fault(&self, link: &str, name: &str) -> Result<(), ApiError> {
        let mut remotes = self.remotes.lock().await;
        let r = remotes.get_mut(link).ok_or_else(|| self.no_proxy(link))?;
        let path = format!("/proxies/{}", r.api_name);
        if r.disabled_by.remove(name) {
            if r.disabled_by.is_empty() {
                self.client.expect_ok(Method::POST, &path, Some(&json!({"enabled": true}))).await?;
            }
            return Ok(());
        }
        let toxics = r.toxics.remove(name).ok_or_else(|| ApiError::NoSuchFault {
            url: self.url(),
            proxy: r.api_name.clone(),
            fault: name.to_owned(),
        })?;
        for t in toxics {
            self.client.expect_ok(Method::DELETE, &format!("{path}/toxics/{t}"), None).await?;
        }
        Ok(())
    }

    fn no_proxy(&self, link: &str) -> ApiError {
        ApiError::NoSuchFault { url: self.url(), proxy: api_name(&self.prefix, link), fault: "(no such proxy)".into() }
    }

    /// Deletes every proxy this scenario created (their toxics go with
    /// them); the errors, if any (each proxy is tried).
    pub async fn remove_all(&self) -> Vec<ApiError> {
        let names: Vec<String> = self.created.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        let mut errors = Vec::new();
        for n in names {
            match self.client.request(Method::DELETE, &format!("/proxies/{n}"), None).await {
                Ok(a) if a.ok() || a.status == 404 => {}
                Ok(a) => errors.push(ApiError::Status {
                    url: self.url(),
                    request: format!("DELETE /proxies/{n}"),
                    status: a.status,
                    body: a.error_text(),
                }),
                Err(e) => errors.push(e),
            }
        }
        self.remotes.lock().await.clear();
        errors
    }
}

impl Drop for ExternalLinks {
    fn drop(&mut self) {
        let names: Vec<String> = self.created.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        if names.is_empty() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(proxies = ?names, url = %self.client.url(), "link proxies left on the proxy API");
            return;
        };
        let client = self.client.clone();
        rt.spawn(async move {
            for n in names {
                if let Err(e) = client.request(Method::DELETE, &format!("/proxies/{n}"), None).await {
                    tracing::warn!(proxy = %n, "cannot remove a link proxy: {e}");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_become_safe_unique_proxy_names() {
        assert_eq!(api_name("rh-1-2", "ds-1->ds-2"), "rh-1-2-ds-1_to_ds-2");
        assert_eq!(api_name("rh-1-2", "ds-1->ds-2:admin"), "rh-1-2-ds-1_to_ds-2_admin");
        assert_eq!(api_name("p", "a b/c->d"), "p-a_b_c_to_d");
        assert_ne!(unique_prefix(), unique_prefix());
    }
}
