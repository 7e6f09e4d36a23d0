//! The TCP fault injector: a Toxiproxy-compatible proxy that also blocks ports
//! like a real firewall.
//!
//! It depends on no other workspace crate and never learns the replication
//! protocol: it moves opaque bytes.
//!
//! Words: a *toxic* is a fault as data, Toxiproxy's word, kept for what
//! users write (the API, config and scenario files, [`Toxic`]); a *fault* is
//! what a toxic does once installed on a proxy (`Proxy::add_fault`, the
//! [`fault_set`] the pumps and listener read).
//!
//! Code map, data first, then the running proxy from the bottom up:
//! - [`toxic`]: toxics as plain data (the API's, the config file's and the library's types).
//! - [`bounds`]: the bounds of every number a toxic takes, checked before parsing.
//! - [`target`]: which connections a toxic touches (client CIDR, ports, one connection).
//! - [`schedule`]: toxics on a timeline (offset, duration, flap).
//! - [`error`]: the error types, with Toxiproxy's statuses and messages; [`FieldError`] names a refused field.
//! - [`draw`]: seeded draws (toxicity, jitter, slice sizes).
//! - [`fault_set`]: a proxy's installed toxics as one snapshot, and what they mean for a
//!   listener, a new connection and a direction.
//! - [`stats`]: byte counters, the connection listing, task counts (a leaf).
//! - [`fds`]: descriptors: the limit raised at start, connections admitted against it,
//!   clients refused cleanly when they run out.
//! - [`io`]: socket primitives: readiness I/O, half-close, reset, splice pipes and their pool.
//! - `pump`: one direction of one connection as a state struct, applying the faults per chunk.
//! - `conn`: one client connection: upstream dial, the two pumps, how it ends.
//! - `listener`: the accept loop (accept, reject, drop with backlog fillers).
//! - `proxy`: one proxy's state: settings, toxics, counters; starts and stops its listener.
//! - [`registry`]: the registry of proxies: create, update, populate, reset; the library handle.
//! - [`metrics`]: Prometheus text of the registry's counters (prometheus-client).
//! - [`api`]: the Toxiproxy-compatible HTTP API (`app(server) -> Router`).
//! - [`config`]: the config file.
//!
//! Spans: `proxy{name}` on each listener task, `conn{id,peer}` on each
//! connection task under it.
//!
//! Checks: [`Toxic::from_json`] (which deserializing a [`Toxic`] runs) and
//! [`Toxic::validate`] hold every field to [`bounds`]; a refusal is
//! [`ProxyError::Invalid`] with a [`FieldError`] naming the field, and
//! [`ProxyError::field`] names it for any refusal of a toxic.
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
mod conn;
pub mod draw;
pub mod error;
pub mod fault_set;
pub mod fds;
pub mod io;
mod listener;
pub mod metrics;
mod proxy;
mod pump;
pub mod registry;
pub mod schedule;
pub mod stats;
pub mod target;
pub mod toxic;

pub use error::{FieldError, ProxyError};
pub use registry::{Options, Proxy, ProxyServer, ProxySpec};
pub use stats::{ConnView, Counters};
pub use target::Target;
pub use toxic::{Direction, Kind, Stream, Toxic};
