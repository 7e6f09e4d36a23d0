//! Pieces shared by the harness's integration tests.

use harness::wire::{ServerStart, StartHeader};

/// The start message of a DS of our own ("probe") for dc=example,dc=com.
pub fn probe_start(protocol_version: u8, ssl_encryption: bool) -> ServerStart {
    ServerStart {
        header: StartHeader { protocol_version, generation_id: -1, group_id: 1 },
        base_dn: "dc=example,dc=com".into(),
        server_id: "probe".into(),
        server_url: "probe.example.com:4444".into(),
        max_receive_delay: 0,
        max_receive_queue: 0,
        max_send_delay: 0,
        max_send_queue: 0,
        window_size: 100,
        heartbeat_interval_ms: 10_000,
        ssl_encryption,
        server_state: vec![],
    }
}
