//! Before a run with external link proxies starts anything: the loopback
//! policy for `--proxy-api` and every file's `[topology.proxy] api`, which
//! server answers at each address, and whether it can do every fault of
//! every scenario that will use it (the exchange flavor, whose runner keeps
//! its links on an in-process proxy, cannot use one at all). Any of these is bad input (exit 2),
//! with every refused step named by its place; nothing has run yet.
//! (`--proxy-api` with `--network netns` is refused with the network's
//! choice, before this.)

use std::collections::BTreeMap;

use crate::error::BadInput;
use crate::plan::{Action, Plan};
use crate::proxy_api::{ApiUrl, ExternalLinks, Server, Settings};

/// The API a plan's link proxies go to: the command line's, else the file's.
pub fn effective<'a>(settings: &'a Settings, plan: &'a Plan) -> Option<&'a ApiUrl> {
    settings.url.as_ref().or(plan.proxy_api.as_ref().map(|(u, _)| u))
}

/// Checks the policy, finds each server, checks every fault; the servers found.
pub async fn preflight(settings: &Settings, plans: &[Plan]) -> Result<BTreeMap<ApiUrl, Server>, BadInput> {
    if let Some(url) = &settings.url {
        url.check_policy(settings.allow_remote).map_err(|e| BadInput(e.to_string()))?;
    }
    for p in plans {
        if let (None, Some((url, place))) = (&settings.url, &p.proxy_api) {
            url.check_policy(settings.allow_remote).map_err(|e| BadInput(format!("{place}: {e}")))?;
        }
    }
    let mut servers = BTreeMap::new();
    let mut refused = Vec::new();
    for p in plans {
        let Some(url) = effective(settings, p) else { continue };
        // The 389 runner puts its agreements' links on the API as the DS one does.
        let own_proxy = p.exchange.is_some().then_some("exchange");
        if let Some(flavor) = own_proxy {
            refused.push(format!(
                "{}: {:?}: the {flavor} flavor's links run on the in-process proxy only (--filter ds runs the DS \
                 scenarios alone)",
                p.file, p.name
            ));
            continue;
        }
        if servers.contains_key(url) {
            // Checked below with the server found first.
        } else {
            let x = ExternalLinks::connect(url, settings).await.map_err(|e| BadInput(e.to_string()))?;
            servers.insert(url.clone(), x);
        }
        let x = &servers[url];
        for s in &p.steps {
            if let Action::Fault { toxic, .. } = &s.action {
                if let Err(e) = x.check(toxic, s.at.is_zero()) {
                    refused.push(format!("{}: step {}: {e}", s.place, s.action.verb()));
                }
            }
        }
    }
    if !refused.is_empty() {
        return Err(BadInput(format!("cannot run on the proxy API ({}):\n  {}", refused.len(), refused.join("\n  "))));
    }
    Ok(servers.into_iter().map(|(u, x)| (u, x.server().clone())).collect())
}
