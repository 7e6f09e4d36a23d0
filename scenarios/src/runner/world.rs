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
use crate::plan::{Action, LinkRef, Plan};
use crate::proxy_api::{self, ExternalLinks};

pub(crate) struct World {
    pub mesh: Mesh,
    proxies: ProxyServer,
    links: BTreeMap<LinkRef, Proxy>,
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
        let mesh = Mesh::bind(spec(plan, seed)).await?;
        let proxies = ProxyServer::new(fault_proxy::Options {
            seed,
            dial_timeout: mesh.clock().real(mesh.timings().handshake_timeout),
            allow_remote: false,
        });
        let mut world = World { mesh, proxies, links: BTreeMap::new(), external: None };
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
        if let Some(x) = &self.external {
            return Ok(x.add_fault(&link.proxy_name(), toxic, before_start).await?);
        }
        let p = self.proxy(link)?;
        p.add_fault(toxic.clone()).await.map(drop).map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    /// Clears the fault named `name` from a planned link.
    pub async fn remove_fault(&self, link: &LinkRef, name: &str) -> Result<(), Error> {
        if let Some(x) = &self.external {
            return Ok(x.remove_fault(&link.proxy_name(), name).await?);
        }
        let p = self.proxy(link)?;
        p.remove_fault(name).await.map_err(|source| Error::Proxy { link: link.proxy_name(), source })
    }

    /// Stops every server cleanly, then every proxy (an external API's are deleted).
    pub async fn shutdown(&self) {
        self.mesh.shutdown().await;
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
