//! Runs one Exchange plan: the organization bound on loopback, one
//! fault-proxy listener per planned directed link (each bridgehead's host
//! map routing that link through it), or on the netns network one test
//! host per bridgehead and the faults as kernel rules ([`crate::network`]), the timeline on the virtual clock, the
//! case folder (`topology.toml` with its `[[connectors]]`, every
//! `events.log`), the verdicts of the engine or an external analyzer, and
//! the expectations. The organization and the proxies are shut down however
//! the scenario ends.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fault_proxy::{Proxy, ProxyServer, ProxySpec};
use harness::exchange::Organization;

use super::plan::{ExAction, ExPlanned, ExUntil, ExchangePlan};
use crate::error::Error;
use crate::network::fault::KernelFault;
use crate::network::kernel::{KernelNet, Link};
use crate::network::{Network, NetworkError};
use crate::plan::Plan;
use crate::runner::case::CaseDir;
use crate::runner::{RunOptions, Stage};
use crate::{analyzer, expect};

/// Verdicts, unmet expectations, the kept case folder.
pub(crate) type Judged = (Vec<diagnosis::Verdict>, Vec<String>, Option<PathBuf>);

pub(crate) struct World {
    pub(crate) org: Organization,
    proxies: ProxyServer,
    links: BTreeMap<(String, String), Proxy>,
    /// One test host per bridgehead, on the netns network (then no proxy runs).
    kernel: Option<Box<KernelNet>>,
}

impl World {
    pub(crate) async fn up(ex: &ExchangePlan, seed: u64) -> Result<World, Error> {
        Self::up_on(ex, seed, Network::Proxy).await
    }

    /// [`up`](Self::up) on `network`: on the netns network, one test host per
    /// bridgehead and no proxy.
    pub(crate) async fn up_on(ex: &ExchangePlan, seed: u64, network: Network) -> Result<World, Error> {
        let mut spec = ex.org.clone();
        spec.seed = seed;
        let kernel = match network {
            Network::Proxy => None,
            Network::Netns => {
                let names: Vec<String> = spec.sites.iter().map(|s| s.bridgehead.clone()).collect();
                let k = KernelNet::create(&names).await?;
                for s in &mut spec.sites {
                    let a = k
                        .address(&s.bridgehead)
                        .ok_or_else(|| NetworkError::Lab(format!("no test host for {}", s.bridgehead)))?;
                    s.address = std::net::IpAddr::V4(a);
                }
                Some(Box::new(k))
            }
        };
        let org = match Organization::bind(spec).await {
            Ok(o) => o,
            Err(e) => {
                if let Some(k) = &kernel {
                    let _ = k.shutdown().await;
                }
                return Err(e.into());
            }
        };
        let proxies = ProxyServer::new(fault_proxy::Options {
            seed,
            dial_timeout: org.clock().real(ex.org.timings.connect_timeout),
            allow_remote: false,
        });
        let mut world = World { org, proxies, links: BTreeMap::new(), kernel };
        if let Err(e) = world.wire(ex).await {
            world.shutdown().await;
            return Err(e);
        }
        Ok(world)
    }

    async fn wire(&mut self, ex: &ExchangePlan) -> Result<(), Error> {
        if self.kernel.is_some() {
            // No proxy: every bridgehead dials its peers' test hosts directly.
            return Ok(());
        }
        for (from, to) in &ex.proxied {
            let target = self.org.server(to)?;
            let upstream = target.listen_addr();
            let name = format!("{from}->{to}");
            let proxy = self
                .proxies
                .create(ProxySpec::new(&name, "127.0.0.1:0", &upstream.to_string()))
                .await
                .map_err(|source| Error::Proxy { link: name.clone(), source })?;
            let at = proxy.listen_addr().ok_or_else(|| Error::Proxy {
                link: name.clone(),
                source: fault_proxy::ProxyError::BadRequest("the listener has no address".into()),
            })?;
            self.org.hosts().route(from, &target.config().host, upstream.port(), at);
            self.links.insert((from.clone(), to.clone()), proxy);
        }
        Ok(())
    }

    pub(crate) fn proxy(&self, link: &(String, String)) -> Result<&Proxy, Error> {
        self.links.get(link).ok_or_else(|| Error::Proxy {
            link: format!("{}->{}", link.0, link.1),
            source: fault_proxy::ProxyError::ProxyNotFound,
        })
    }

    /// A link between bridgeheads as the kernel network sees it.
    fn kernel_link(&self, link: &(String, String)) -> Result<Link, Error> {
        let port = self.org.server(&link.1)?.listen_addr().port();
        Ok(Link { from: link.0.clone(), to: link.1.clone(), port })
    }

    pub(crate) async fn shutdown(&self) {
        self.org.shutdown().await;
        self.proxies.shutdown().await;
        if let Some(k) = &self.kernel {
            if let Err(e) = k.shutdown().await {
                tracing::warn!("removing the test hosts: {e}");
            }
        }
    }

    /// What the case folder notes of the network.
    async fn network_note(&self) -> toml::Table {
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
}

/// Plays `plan` (an Exchange one) and judges it.
pub(crate) async fn play(
    plan: &Plan,
    ex: &ExchangePlan,
    seed: u64,
    opts: &RunOptions,
    stage: &Stage,
    until: tokio::time::Instant,
) -> Result<Judged, Error> {
    stage.set("binding the organization");
    let world = World::up_on(ex, seed, plan.network).await?;
    let body = async {
        stage.set("start");
        world.org.start_all().await?;
        for s in &ex.steps {
            stage.set(format!("step {} at {}s", s.action.verb(), s.at.as_secs()));
            tokio::time::sleep_until(world.org.clock().instant_at(s.at).into()).await;
            step(s, &world).await?;
        }
        if let Some(run_for) = ex.run_for {
            stage.set(format!("running until {}s", run_for.as_secs()));
            tokio::time::sleep_until(world.org.clock().instant_at(run_for).into()).await;
        }
        stage.set("writing the case folder");
        let case = CaseDir::new(opts.keep.as_deref(), &plan.name)?;
        harness::casefile::write_case(&world.org, case.path())?;
        case.note_network(&world.network_note().await)?;
        stage.set("diagnosis");
        let verdicts = match &opts.analyzer {
            None => diagnosis::diagnose(case.path(), &diagnosis::Options::default())?.verdicts,
            Some(words) => analyzer::run(words, case.path(), opts.analyzer_timeout).await?,
        };
        let failures = expect::check(&plan.expect, &verdicts);
        Ok((verdicts, failures, case.kept()))
    };
    let result = match tokio::time::timeout_at(until, body).await {
        Ok(r) => r,
        Err(_) => Err(Error::Deadline(stage.get())),
    };
    stage.set("shutdown");
    world.shutdown().await;
    result
}

pub(crate) async fn step(s: &ExPlanned, world: &World) -> Result<(), Error> {
    apply(s, world).await.map_err(|e| Error::Step {
        place: s.place.clone(),
        action: s.action.verb(),
        source: Box::new(e),
    })
}

async fn apply(s: &ExPlanned, world: &World) -> Result<(), Error> {
    let org = &world.org;
    match &s.action {
        ExAction::Fault { links, toxic } if world.kernel.is_some() => {
            let fault = KernelFault::from_toxic(toxic).map_err(NetworkError::Rule)?;
            for link in links {
                if let Some(k) = &world.kernel {
                    k.add(&world.kernel_link(link)?, &fault).await?;
                }
            }
        }
        ExAction::Clear { links, name } if world.kernel.is_some() => {
            for link in links {
                if let Some(k) = &world.kernel {
                    k.remove(&world.kernel_link(link)?, name).await?;
                }
            }
        }
        ExAction::Fault { links, toxic } => {
            for link in links {
                let p = world.proxy(link)?;
                p.add_fault(toxic.clone())
                    .await
                    .map_err(|source| Error::Proxy { link: p.name().to_owned(), source })?;
            }
        }
        ExAction::Clear { links, name } => {
            for link in links {
                let p = world.proxy(link)?;
                p.remove_fault(name).await.map_err(|source| Error::Proxy { link: p.name().to_owned(), source })?;
            }
        }
        ExAction::Stop { server } => org.server(server)?.stop().await,
        ExAction::Kill { server } => org.server(server)?.kill().await,
        ExAction::Start { server } => org.server(server)?.start().await?,
        ExAction::Schedule { servers, schedule } => {
            for b in servers {
                org.server(b)?.set_schedule(schedule.clone());
            }
        }
        ExAction::RequestNow { server, site, refresh } => org.server(server)?.request_now(site, *refresh).await?,
        ExAction::Import { server, context, objects } => org.server(server)?.add_objects(*context, *objects),
        ExAction::Wait { until, timeout } => {
            if !wait(org, until, *timeout).await? {
                return Err(Error::WaitTimedOut { waited: *timeout, what: until.to_string() });
            }
        }
    }
    Ok(())
}

/// True once `until` holds, false when `limit` passed first.
async fn wait(org: &Organization, until: &ExUntil, limit: std::time::Duration) -> Result<bool, Error> {
    match until {
        ExUntil::Logged { server, event, count } => {
            let b = org.server(server)?;
            let (event, count) = (*event, *count);
            Ok(b.log().wait_for(limit, |rs| rs.iter().filter(|r| r.ordinal == event).count() >= count).await)
        }
        ExUntil::LinkUp { a, b } | ExUntil::LinkDown { a, b } => {
            let want_up = matches!(until, ExUntil::LinkUp { .. });
            let holds = || {
                let rows = org.link_table();
                let mut pair =
                    rows.iter().filter(|r| (r.from == *a && r.to == *b) || (r.from == *b && r.to == *a)).peekable();
                if want_up {
                    pair.peek().is_some() && pair.all(|r| r.up)
                } else {
                    pair.all(|r| !r.up)
                }
            };
            let outcome = org
                .env()
                .changes
                .wait_until(limit, || async {
                    if holds() {
                        Ok(())
                    } else {
                        Err(())
                    }
                })
                .await;
            Ok(outcome.is_ok())
        }
    }
}
