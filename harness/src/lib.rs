//! Mock replication endpoints on real TCP, writing the logs the real products write.
//!
//! Code map (shared by every family):
//! - [`wire`]: replication messages and their pure encode/decode (byte diagram inside).
//! - [`codec`]: the `tokio_util` codec around [`wire`], with a maximum frame length.
//!   (These two speak the DS replication protocol; a family with another
//!   protocol adds its codec in its own folder, on the same check-then-parse model.)
//! - `transport` (crate-private): a connection's byte stream, TCP or TLS; dials and listeners,
//!   loopback only or the server's own test network.
//! - [`testnet`]: test hosts (the kernel network's namespaces): where their sockets are made,
//!   and the dial policy (loopback, or a test host of the same network; nothing else).
//! - `node` (crate-private): what a running server's tasks share: span, cancel, tracker, RNG.
//! - [`topology`]: the environment (clock, host map, change notices, PKI), a
//!   topology of one family's servers, the loopback address plan.
//! - [`logbook`]: a server's log files: records in memory and on disk, waits on them.
//! - [`casefile`]: writes the case folder (`topology.toml`, each server's files).
//! - [`clock`]: the virtual clock (`time_scale`).
//! - [`hostmap`]: the harness's name service and per-link routes.
//! - [`pki`]: the test PKI and TLS contexts (rcgen, rustls with `ring`).
//! - [`error`]: the crate's error types.
//!
//! Families, one folder each, depending on the shared modules and never on
//! each other:
//! - [`ds`]: ForgeRock DS / OpenDJ (replication servers, directory servers, meshes);
//!   its [`catalog`], [`config`], [`server`] and [`mesh`] are re-exported here.
//! - [`exchange`]: Exchange 5.5 (bridgeheads, connectors and their schedules,
//!   the event log, a day in compressed time); its own framing in `exchange::wire`.
//!
//! A new family (`389/`, mounted with `#[path = "389/mod.rs"] mod ds389;`,
//! or `exchange/`) plugs in here:
//! - its server type implements [`topology::Member`] (name, case entry and
//!   files, clean stop), and its topology handle wraps a
//!   [`topology::Topology`] of them, built on one [`topology::Env`];
//! - each running instance holds a `node::NodeCore` and spawns its tasks
//!   through it (`node{name}` and `conn{id,peer}` spans, one cancel token for
//!   stop and kill, `killed()` to close with `Transport::reset_on_close`
//!   after a kill, the seeded RNG);
//! - its logs are a [`logbook::LogStore`] of its own file names, lines
//!   rendered by the family and matched through [`logbook::Keyed`];
//! - its case folder is [`casefile::Case`]: [`casefile::ServerEntry`] per
//!   server, files under `servers/NAME/`, top-level tables in `Case::extra`;
//! - listeners are made with `transport::listen` and connections dial through
//!   `transport::dial` (both through [`testnet`], so a server can live on a test
//!   host of the kernel network), and the
//!   [`hostmap::HostMap`], so scenarios route them through the fault proxy.

pub mod casefile;
pub mod clock;
pub mod codec;
pub mod ds;
#[path = "389/mod.rs"]
pub mod ds389;
pub mod error;
pub mod exchange;
pub mod hostmap;
pub mod logbook;
mod node;
pub mod pki;
pub mod testnet;
pub mod topology;
mod transport;
pub mod wire;

pub use clock::VirtualClock;
pub use ds::config::{domains_for, DomainConfig, ServerConfig, Timings, Version};
pub use ds::mesh::{Mesh, MeshSpec};
pub use ds::server::Server;
pub use ds::{catalog, config, mesh, server};
pub use ds::{readable_address, LinkView};
pub use error::{HarnessError, WireError};
