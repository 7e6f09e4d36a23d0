//! The running topology of one scenario: the mesh, bound but not started,
//! and one fault-proxy listener per planned directed link, each peer's host
//! map routing that link through its listener. The listeners are the
//! in-process proxy's, or proxies on an external API ([`crate::proxy_api`]:
//! `--proxy-api`, `[topology.proxy] api`), checked for every fault of the
//! timeline before anything is created there, and deleted at shutdown.

use std::collections::BTreeMap;

use fault_proxy::{Proxy, ProxyServer, ProxySpec};
use harness::{Mesh, MeshSpec};

use crate::error::Error;
use crate::format::Port;
use crate::network::fault::KernelFault;
use crate::network::kernel::{KernelNet, Link};
use crate::network::{Network, NetworkError};
use crate::plan::{Action, LinkRef, Plan};
use crate::proxy_api::{self, ExternalLinks};

pub(crate) struct World {
    pub mesh: Mesh,
    proxies: ProxyServer,
    links: BTreeMap<LinkRef, Proxy>,
    /// The test hosts and their rules, on the netns network (then no proxy runs).
    kernel: Option<Box<KernelNet>>,
    /// The link proxies on an external API, when the run or the file names one.
    external: Option<ExternalLinks>,
}

fn spec(plan: &Plan, seed: u64) -> MeshSpec {
    MeshSpec {
        servers: plan.servers.clone(),
        timings: plan.timings.clone(),
        time_scale: plan.time_scale,
        start: None,
        log_dir: None,
        max_frame_len: harness::wire::DEFAULT_MAX_FRAME_LEN,
        seed,
    }
}

impl World {
    /// Binds every server's ports and puts the proxies on the planned links.
    pub async fn up(plan: &Plan, seed: u64) -> Result<World, Error> {
        Self::up_with(plan, seed, &proxy_api::Settings::default()).await
    }

    /// [`up`](Self::up), with the link proxies on the external API that
    /// `api.url` (the command line) or the file names, if any.
    pub async fn up_with(plan: &Plan, seed: u64, api: &proxy_api::Settings) -> Result<World, Error> {
        let mut spec = spec(plan, seed);
        let kernel = match plan.network {
            Network::Proxy => None,
            Network::Netns => Some(Box::new(kernel_hosts(&mut spec).await?)),
        };
        let mesh = match Mesh::bind(spec).await {
            Ok(m) => m,
            Err(e) => {
                if let Some(k) = &kernel {
                    let _ = k.shutdown().await;
                }
                return Err(e.into());
            }
        };
        let proxies = ProxyServer::new(fault_proxy::Options {
            seed,
            dial_timeout: mesh.clock().real(mesh.timings().handshake_timeout),
            allow_remote: false,
        });
        let mut world = World { mesh, proxies, links: BTreeMap::new(), kernel, external: None };
        if world.kernel.is_some() && api.url.is_some() {
            world.shutdown().await;
            return Err(NetworkError::Refused(
                "--proxy-api goes with the proxy network: the netns network has no link proxies".into(),
            )
            .into());
        }
        if let Some(url) = api.url.as_ref().or(plan.proxy_api.as_ref().map(|(u, _)| u)) {
            match external(plan, url, api).await {
                Ok(x) => world.external = Some(x),
                Err(e) => {
                    world.shutdown().await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = world.wire(plan).await {
            world.shutdown().await;
            return Err(e);
        }
        Ok(world)
    }

    async fn wire(&mut self, plan: &Plan) -> Result<(), Error> {
        if self.kernel.is_some() {
            // No proxy: every server dials its peers' test hosts directly.
            return Ok(());
        }
        for link in &plan.proxied {
            let (from, to) = (self.mesh.server(&link.from)?, self.mesh.server(&link.to)?);
            let to_cfg = to.config();
            let (upstream, port) = match link.port {
                Port::Replication => (to.replication_addr(), to_cfg.replication_port),
                Port::Admin => (to.admin_addr(), to_cfg.admin_port),
            };
            let name = link.proxy_name();
            if let Some(x) = &self.external {
                let at = x.create(&name, upstream).await?;
                self.mesh.hosts().route(&from.name(), &to_cfg.host, port, at);
                continue;
            }
            let proxy = self
                .proxies
                .create(ProxySpec::new(&name, "127.0.0.1:0", &upstream.to_string()))
                .await
                .map_err(|source| Error::Proxy { link: name.clone(), source })?;
            let at = proxy.listen_addr().ok_or_else(|| Error::Proxy {
                link: name.clone(),
                source: fault_proxy::ProxyError::BadRequest("the listener has no address".into()),
            })?;
            self.mesh.hosts().route(&from.name(), &to_cfg.host, port, at);
            self.links.insert(link.clone(), proxy);
        }
        Ok(())
    }

    /// The proxy of a planned link.
    pub fn proxy(&self, link: &LinkRef) -> Result<&Proxy, Error> {
        self.links
            .get(link)
            .ok_or_else(|| Error::Proxy { link: link.proxy_name(), source: fault_proxy::ProxyError::ProxyNotFound })
    }

    /// Adds a fault to the proxies of a planned link; `before_start`: no
    /// server has started yet.
    pub async fn add_fault(&self, link: &LinkRef, toxic: &fault_proxy::Toxic, before_start: bool) -> Result<(), Error> {
        if let Some(k) = &self.kernel {
            let fault =
                KernelFault::from_toxic(toxic).map_err(|why| NetworkError::Rule(format!("link {link}: {why}")))?;
            return Ok(k.add(&self.kernel_link(link)?, &fault).await?);
        }
        if let Some(x) = &self.external {
            return Ok(x.add_fault(&link.proxy_name(), toxic, before_start).await?);
        }
        let p = self.proxy(link)?;
        p.add_fault(toxic.clone()).await.map(drop).map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    /// Clears the fault named `name` from a planned link.
    pub async fn remove_fault(&self, link: &LinkRef, name: &str) -> Result<(), Error> {
        if let Some(k) = &self.kernel {
            return Ok(k.remove(&self.kernel_link(link)?, name).await?);
        }
        if let Some(x) = &self.external {
            return Ok(x.remove_fault(&link.proxy_name(), name).await?);
        }
        let p = self.proxy(link)?;
        p.remove_fault(name).await.map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    /// A planned link as the kernel network sees it: its ends and the server's port.
    fn kernel_link(&self, link: &LinkRef) -> Result<Link, Error> {
        let to = self.mesh.server(&link.to)?.config();
        let port = match link.port {
            Port::Replication => to.replication_port,
            Port::Admin => to.admin_port,
        };
        Ok(Link { from: link.from.clone(), to: link.to.clone(), port })
    }

    /// Adds a fault only the kernel network plays (the plan refuses it on the proxy network).
    pub async fn add_kernel_fault(&self, link: &LinkRef, fault: &KernelFault) -> Result<(), Error> {
        let k = self.kernel.as_ref().ok_or_else(|| {
            NetworkError::Rule(format!("link {link}: fault {:?} needs the netns network", fault.name))
        })?;
        Ok(k.add(&self.kernel_link(link)?, fault).await?)
    }

    /// What the case folder notes of the network (`[network]` of `topology.toml`).
    pub async fn network_note(&self) -> toml::Table {
        match &self.kernel {
            Some(k) => k.note().await,
            None => {
                let mut t = toml::Table::new();
                t.insert("kind".into(), "proxy".into());
                t.insert("proxied_links".into(), toml::Value::Integer(self.links.len() as i64));
                t
            }
        }
    }

    /// The kernel network, when the scenario runs on it.
    pub fn kernel(&self) -> Option<&KernelNet> {
        self.kernel.as_deref()
    }

    /// Stops every server cleanly, then every proxy (an external API's are deleted).
    pub async fn shutdown(&self) {
        self.mesh.shutdown().await;
        if let Some(k) = &self.kernel {
            if let Err(e) = k.shutdown().await {
                tracing::warn!("removing the test hosts: {e}");
            }
        }
        self.proxies.shutdown().await;
        if let Some(x) = &self.external {
            for e in x.remove_all().await {
                tracing::warn!("removing the link proxies: {e}");
            }
        }
    }
}

/// The external API's server, checked for every fault of the timeline (a
/// refusal names the step) before any proxy is made there.
async fn external(plan: &Plan, url: &proxy_api::ApiUrl, api: &proxy_api::Settings) -> Result<ExternalLinks, Error> {
    let x = ExternalLinks::connect(url, api).await?;
    for s in &plan.steps {
        if let Action::Fault { toxic, .. } = &s.action {
            x.check(toxic, s.at.is_zero()).map_err(|e| Error::Step {
                place: s.place.clone(),
                action: s.action.verb(),
                source: Box::new(e.into()),
            })?;
        }
    }
    Ok(x)
}

/// One test host per server, each server's address its host's.
async fn kernel_hosts(spec: &mut MeshSpec) -> Result<KernelNet, Error> {
    let names: Vec<String> = spec.servers.iter().map(|s| s.name.clone()).collect();
    let k = KernelNet::create(&names).await?;
    for s in &mut spec.servers {
        let a = k.address(&s.name).ok_or_else(|| NetworkError::Lab(format!("no test host for {}", s.name)))?;
        s.addresses = vec![std::net::IpAddr::V4(a)];
    }
    Ok(k)
}
