//! The TCP fault injector: a Toxiproxy-compatible proxy that also blocks ports
//! like a real firewall.
//!
//! It depends on no other workspace crate and never learns the replication
//! protocol: it moves opaque bytes.
//!
//! Code map:
//! - [`toxic`]: faults as plain data (the API's, the config file's and the library's types).
//! - [`bounds`]: the bounds of every number a toxic takes, checked before parsing.
//! - [`target`]: which connections a toxic touches (client CIDR, ports, one connection).
//! - [`schedule`]: faults on a timeline (offset, duration, flap).
//! - [`faults`]: a proxy's faults as one snapshot; what they mean for a listener,
//!   a new connection and a direction; seeded draws.
//! - [`io`]: socket primitives: readiness I/O, half-close, reset, splice.
//! - `pump`: one direction of one connection, applying the faults per chunk.
//! - [`conn`]: one client connection: upstream dial, the two pumps, how it ends.
//! - [`proxy`]: one proxy: listener (accept, reject, drop), toxics, counters.
//! - [`server`]: the set of proxies: create, update, populate, reset; the library handle.
//! - [`api`]: the Toxiproxy-compatible HTTP API (`app(server) -> Router`).
//! - [`config`]: the config file.
//! - [`error`]: the error type, with Toxiproxy's statuses and messages.
//!
//! Library use, without HTTP:
//! ```no_run
//! # async fn demo() -> Result<(), fault_proxy::ProxyError> {
//! use fault_proxy::{Options, ProxyServer, ProxySpec, Toxic};
//! let server = ProxyServer::new(Options::default());
//! let proxy = server.create(ProxySpec::new("ds1-to-ds2", "127.0.0.1:0", "127.0.0.2:8989")).await?;
//! let drop = Toxic::from_json(&serde_json::json!({"type": "drop"}))?;
//! proxy.add_fault(drop).await?;
//! proxy.remove_fault("drop_both").await?;
//! assert_eq!(proxy.counters().live_connections, 0);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod bounds;
pub mod config;
pub mod conn;
pub mod error;
pub mod faults;
pub mod io;
pub mod proxy;
mod pump;
pub mod schedule;
pub mod server;
pub mod target;
pub mod toxic;

pub use error::{FieldError, ProxyError};
pub use proxy::Counters;
pub use server::{Options, Proxy, ProxyServer, ProxySpec};
pub use target::Target;
pub use toxic::{Direction, Kind, Stream, Toxic};
