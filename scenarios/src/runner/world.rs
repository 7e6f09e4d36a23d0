//! The running topology of one scenario: the mesh, bound but not started,
//! and one fault-proxy listener per planned directed link, each peer's host
//! map routing that link through its listener.

use std::collections::BTreeMap;

use fault_proxy::{Proxy, ProxyServer, ProxySpec};
use harness::{Mesh, MeshSpec};

use crate::error::Error;
use crate::format::Port;
use crate::plan::{LinkRef, Plan};

pub(crate) struct World {
    pub mesh: Mesh,
    proxies: ProxyServer,
    links: BTreeMap<LinkRef, Proxy>,
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
        let mesh = Mesh::bind(spec(plan, seed)).await?;
        let proxies = ProxyServer::new(fault_proxy::Options {
            seed,
            dial_timeout: mesh.clock().real(mesh.timings().handshake_timeout),
            allow_remote: false,
        });
        let mut world = World { mesh, proxies, links: BTreeMap::new() };
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

    /// Stops every server cleanly, then every proxy.
    pub async fn shutdown(&self) {
        self.mesh.shutdown().await;
        self.proxies.shutdown().await;
    }
}
