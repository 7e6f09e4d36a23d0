//! Mock replication endpoints on real TCP, writing the logs the real products write.
//!
//! Code map:
//! - [`wire`]: replication messages and their pure encode/decode (byte diagram inside).
//! - [`codec`]: the `tokio_util` codec around [`wire`], with a maximum frame length.
//! - [`catalog`]: the log messages (ordinals, severities, templates) in both dialects.
//! - [`logbook`]: a server's `errors` and `replication` logs, in memory and on disk.
//! - [`clock`]: the virtual clock (`time_scale`).
//! - [`config`]: versions, server configuration, product timings.
//! - [`hostmap`]: the harness's name service and per-link routes.
//! - `session`: one framed connection: dial, receive, clean or abortive close.
//! - `node`: what a running server's tasks share (domain locks, links).
//! - `ack`: unacknowledged-write bookkeeping standing for TCP's timeouts.
//! - `rs`: the replication server's listener, connect loop and RS↔RS handshake.
//! - `link`: an established RS↔RS link.
//! - `rs_ds`: the RS side of a directory server's session.
//! - `ds`: the directory server's domains and their sessions.
//! - [`server`]: one server instance: start, stop, kill, restart.
//! - [`mesh`]: a topology brought up together; link tables and waits.
//! - [`casefile`]: writes the case folder (`topology.toml`, logs).
//! - [`pki`]: the test PKI and TLS contexts (rcgen, rustls with `ring`).

mod ack;
pub mod casefile;
pub mod catalog;
pub mod clock;
pub mod codec;
pub mod config;
mod ds;
pub mod error;
pub mod hostmap;
mod link;
pub mod logbook;
pub mod mesh;
mod node;
pub mod pki;
mod rs;
mod rs_ds;
pub mod server;
mod session;
pub mod wire;

pub use clock::VirtualClock;
pub use config::{domains_for, DomainConfig, ServerConfig, Timings, Version};
pub use error::{HarnessError, WireError};
pub use mesh::{Mesh, MeshSpec};
pub use node::LinkView;
pub use server::Server;
pub use session::readable_address;
