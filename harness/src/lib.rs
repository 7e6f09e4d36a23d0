//! Mock replication endpoints on real TCP, writing the logs the real products write.
//!
//! Code map (shared by every family):
//! - [`wire`]: replication messages and their pure encode/decode (byte diagram inside).
//! - [`codec`]: the `tokio_util` codec around [`wire`], with a maximum frame length.
//! - [`logbook`]: a server's `errors` and `replication` logs, in memory and on disk.
//! - [`clock`]: the virtual clock (`time_scale`).
//! - [`hostmap`]: the harness's name service and per-link routes.
//! - [`casefile`]: writes the case folder (`topology.toml`, logs).
//! - [`pki`]: the test PKI and TLS contexts (rcgen, rustls with `ring`).
//! - [`error`]: the crate's error types.
//!
//! Families, one folder each:
//! - [`ds`]: ForgeRock DS / OpenDJ (replication servers, directory servers, meshes);
//!   its [`catalog`], [`config`], [`server`] and [`mesh`] are re-exported here.

pub mod casefile;
pub mod clock;
pub mod codec;
pub mod ds;
pub mod error;
pub mod hostmap;
pub mod logbook;
pub mod pki;
pub mod wire;

pub use clock::VirtualClock;
pub use ds::config::{domains_for, DomainConfig, ServerConfig, Timings, Version};
pub use ds::mesh::{Mesh, MeshSpec};
pub use ds::server::Server;
pub use ds::{catalog, config, mesh, server};
pub use ds::{readable_address, LinkView};
pub use error::{HarnessError, WireError};
