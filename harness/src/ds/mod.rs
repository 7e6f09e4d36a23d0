//! The ForgeRock DS / OpenDJ family: replication servers (RS), directory
//! servers (DS) and their meshes, writing the product's own log lines.
//!
//! Code map (each module uses only modules below it in this list):
//! - [`mesh`]: a DS topology brought up together; link tables and waits.
//! - [`server`]: one server instance: start, stop, kill, restart; its case files.
//! - `listener`: the RS's listener; the first message picks the handler.
//! - `connect_loop`: the RS dials every peer RS not linked yet, every period.
//! - `rs_handshake`: the RS↔RS handshake, both sides (205, 206, 77).
//! - `rs_link`: an established RS↔RS link (181, 53).
//! - `ds_handler`: the RS side of a directory server's session (207, 146, 211).
//! - `broker`: the DS side: its domains and their sessions (`ReplicationBroker`; 62, 96, 97, 208).
//! - `link_end`: how an established link ends and is closed (shared by the two above).
//! - `unacked`: unacknowledged-write bookkeeping standing for TCP's timeouts.
//! - `session`: one framed connection: receive, send, clean or abortive close.
//! - `node`: what a running server's tasks share (domain locks, links): the leaf.
//! - [`config`]: versions, server configuration, product timings.
//! - [`log`]: the `errors` and `replication` logs in the product's dialects.
//! - [`catalog`]: the log messages (ordinals, severities, templates) in both dialects.

mod broker;
pub mod catalog;
pub mod config;
mod connect_loop;
mod ds_handler;
mod link_end;
mod listener;
pub mod log;
pub mod mesh;
mod node;
mod rs_handshake;
mod rs_link;
pub mod server;
mod session;
mod unacked;

pub use node::LinkView;
pub use session::readable_address;
