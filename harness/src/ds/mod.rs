//! The ForgeRock DS / OpenDJ family: replication servers (RS), directory
//! servers (DS) and their meshes, writing the product's own log lines.
//!
//! Code map:
//! - [`catalog`]: the log messages (ordinals, severities, templates) in both dialects.
//! - [`config`]: versions, server configuration, product timings.
//! - `session`: one framed connection: dial, receive, clean or abortive close.
//! - `node`: what a running server's tasks share (domain locks, links).
//! - `unacked`: unacknowledged-write bookkeeping standing for TCP's timeouts.
//! - `rs`: the replication server's listener, connect loop and RS↔RS handshake.
//! - `rs_link`: an established RS↔RS link.
//! - `ds_handler`: the RS side of a directory server's session.
//! - `broker`: the directory server's domains and their sessions (`ReplicationBroker`).
//! - [`server`]: one server instance: start, stop, kill, restart.
//! - [`mesh`]: a topology brought up together; link tables and waits.

mod broker;
pub mod catalog;
pub mod config;
mod ds_handler;
pub mod mesh;
mod node;
mod rs;
mod rs_link;
pub mod server;
mod session;
mod unacked;

pub use node::LinkView;
pub use session::readable_address;
