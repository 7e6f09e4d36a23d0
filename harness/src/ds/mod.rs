//! The ForgeRock DS / OpenDJ family: replication servers (RS), directory
//! servers (DS) and their meshes, writing the product's own log lines.
//!
//! Code map (each module uses only modules below it in this list):
//! - [`mesh`]: a DS topology brought up together; link tables and waits.
//! - [`server`]: one server instance: start, stop, kill, restart; its case files.
//! - `listener`: the RS's listener; the first message picks the handler.
//! - `connect_loop`: the RS dials every peer RS not linked yet, every period.
//! - `rs_handshake`: the RS↔RS handshake, both sides (205, 206, 77, 79, 145, 157, 179, raw lines).
//! - `rs_link`: an established RS↔RS link (181, 53, 80).
//! - `ds_handler`: the RS side of a directory server's session (207, 146, 54, 178, 135, 211).
//! - `broker`: the DS side: its domains and their sessions (`ReplicationBroker`; 63, 97, 180).
//! - `ds_connect`: how a DS finds its RS (phase 1, election, phase 2; 62, 96, 17, 212, 119, 23, 208).
//! - `link_end`: how an established link ends, its line per version, its close.
//! - `unacked`: unacknowledged-write bookkeeping standing for TCP's timeouts.
//! - `session`: one framed connection: receive, send, clean, killed or abortive close.
//! - `node`: what a running server's tasks share (domain locks, links): the leaf.
//! - [`lifecycle`]: the CORE start and stop lines (134, 135, 139, 203) per version.
//! - `jsse`: JSSE's texts for failed handshakes; a client that checks chains, not names.
//! - [`java`]: the exceptions the product would have thrown, as its lines print them.
//! - [`config`]: versions, server configuration, product timings.
//! - [`log`]: the `errors` and `replication` logs in the product's dialects.
//! - [`catalog`]: the log messages (ordinals, severities, templates) in the three dialects.

mod broker;
pub mod catalog;
pub mod config;
mod connect_loop;
mod ds_connect;
mod ds_handler;
pub mod java;
mod jsse;
pub mod lifecycle;
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
