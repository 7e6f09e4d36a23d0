//! The connector's schedule at work: at every selected 15-minute cell
//! (virtual time, the bridgehead's zone) the requester asks, for every
//! inbound site and each naming context (configuration, site), that site's
//! bridgehead for updates from its last USN. A late wake-up still fires each
//! cell once, in order, so a day always has its activations. A schedule
//! changed while it runs applies from the next cell.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::directory::Context;
use super::inbox::request;
use super::node::{lock, ExNode};
use super::schedule::Schedule;

/// Runs the schedule from `from` on (the organization's start at a first
/// start, so its first cell fires even if starting took a moment; now at a
/// restart, so cells missed while stopped do not fire).
pub(super) async fn schedule_loop(node: Arc<ExNode>, mut schedule: watch::Receiver<Schedule>, from: OffsetDateTime) {
    let clock = node.core.clock.clone();
    let first = from.to_offset(node.utc_offset);
    let mut last: Option<OffsetDateTime> = None;
    loop {
        let current = schedule.borrow_and_update().clone();
        let from = last.map_or(first, |l| l + time::Duration::NANOSECOND);
        let next = current.next_at_or_after(from).filter(|n| {
            let offset = Duration::try_from(*n - clock.start()).unwrap_or_default();
            node.org.activations_until.is_none_or(|until| offset < until)
        });
        let Some(next) = next else {
            // Nothing more to do unless the schedule changes.
            tokio::select! {
                _ = node.core.cancel.cancelled() => return,
                changed = schedule.changed() => if changed.is_err() { return } else { continue },
            }
        };
        let offset = Duration::try_from(next - clock.start()).unwrap_or_default();
        let at = tokio::time::Instant::from_std(clock.instant_at(offset));
        tokio::select! {
            _ = node.core.cancel.cancelled() => return,
            changed = schedule.changed() => {
                if changed.is_err() {
                    return;
                }
                // Recompute from now; a cell already fired stays fired.
                last = last.max(Some(clock.now().to_offset(node.utc_offset) - time::Duration::NANOSECOND));
            }
            _ = tokio::time::sleep_until(at) => {
                activate(&node, None);
                last = Some(next);
            }
        }
    }
}

/// One activation: requests for every inbound site (or only `site`).
pub(super) fn activate(node: &ExNode, site: Option<&str>) {
    for inbound in node.inbound.iter().filter(|s| site.is_none_or(|x| x == *s)) {
        let Some(peer) = node.org.peer_of_site(inbound) else {
            tracing::warn!(site = inbound, "inbound site has no bridgehead: nothing asked");
            continue;
        };
        for ctx in Context::BOTH {
            request(node, &peer.bridgehead, &ctx.dn(&node.org.org, inbound));
        }
    }
}

/// Administrator's "Request Now" for one inbound site; with `refresh`, every
/// item again (from USN 0).
pub(super) fn request_now(node: &ExNode, site: &str, refresh: bool) {
    if refresh {
        let mut dir = lock(&node.dir);
        for ctx in Context::BOTH {
            dir.forget(&ctx.dn(&node.org.org, site));
        }
    }
    activate(node, Some(site));
}
