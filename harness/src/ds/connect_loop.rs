//! The replication server's connect loop: every `connect_retry`, for each
//! domain, it dials every peer RS not linked yet.
//!
//! Both sides of a pair dial, as in the real product, but not at once: the
//! server with the smaller URL dials first, the other only once no link has
//! formed for [`DEFER_PERIODS`] periods (a one-way block still lets it
//! through). The real product leaves this to a race; here which side logs 205
//! does not depend on thread timing, so a run is reproducible.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::node::{Node, PeerSlot, SlotState};
use super::rs_handshake;

/// Connect periods a server waits, after a link to a peer with a smaller URL
/// is gone, before it dials that peer itself.
const DEFER_PERIODS: u32 = 3;

/// Runs until the node stops; each attempt runs in its own `conn{id,peer}` span.
pub(crate) async fn run(node: Arc<Node>) {
    // (domain, peer URL) → connect periods without a link.
    let mut missing: BTreeMap<(String, String), u32> = BTreeMap::new();
    loop {
        for base_dn in node.domains.keys() {
            for peer_url in &node.cfg.peers {
                if *peer_url == node.url {
                    continue;
                }
                let Some(mut links) = node.domain(base_dn) else {
                    continue;
                };
                let key = (base_dn.clone(), peer_url.clone());
                if links.peers.contains_key(peer_url) {
                    missing.remove(&key);
                    continue;
                }
                let periods = missing.entry(key).or_insert(0);
                *periods += 1;
                if *peer_url < node.url && *periods <= DEFER_PERIODS {
                    continue;
                }
                let token = links.token();
                links.peers.insert(peer_url.clone(), PeerSlot { token, state: SlotState::Connecting });
                drop(links);
                let attempt = rs_handshake::connect(node.clone(), base_dn.clone(), peer_url.clone(), token);
                node.core.spawn_in(node.core.conn_span(peer_url), attempt);
            }
        }
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            _ = tokio::time::sleep(node.connect_retry_jittered()) => {}
        }
    }
}
