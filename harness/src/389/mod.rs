//! The 389 Directory Server family: suppliers and consumers on loopback
//! TCP, each agreement running the real server's session state machine,
//! writing 389-DS's own files (`errors`, `agreements.ldif`, `replica.ldif`).
//!
//! The wire is an emulation of 389's extended operations over a framed
//! protocol ([`wire`], [`extop`]), not LDAP's BER: a bind with the
//! agreement's credentials, the start-replication request and its response
//! (code and the consumer's RUV), the replicated updates, the
//! end-replication request. Network faults act on it exactly as on the real
//! one, because they act on the TCP connection.
//!
//! Code map (each module uses only modules below it):
//! - [`lab`]: a topology brought up together; agreement tables and waits.
//! - [`server`]: one instance: start, stop, kill; writes, `dsconf` changes, knobs; its case files.
//! - `protocol`: an agreement's incremental protocol (`repl5_inc_run`) and acquiring the replica.
//! - `send`: sending updates, the end of a session, the total update.
//! - `connection`: the supplier's connection: connect, bind, linger, last error.
//! - `consumer`: the consumer side: binds, start-replication answers, replay, release.
//! - [`entries`]: `agreements.ldif` and `replica.ldif` as `ldapsearch -LLL` prints them.
//! - `node`: what a running server's tasks share (data, events): the leaf.
//! - [`replica`]: entries, changelog, RUV, CSN generator, exclusive access.
//! - [`status`]: the agreement status values, per version, and the JSON twin.
//! - [`errlog`], [`catalog`]: the errors log and every line the mock writes.
//! - [`codec`], [`wire`], [`extop`]: the framed protocol and the extended operations' values.
//! - [`config`], [`version`], [`backoff`], [`csn`], [`ldif`], [`ldaprc`]: configuration,
//!   version features, the backoff timer, CSNs and RUVs, LDIF printing, LDAP result texts.

pub mod backoff;
pub mod catalog;
pub mod codec;
pub mod config;
mod connection;
mod consumer;
pub mod csn;
pub mod entries;
pub mod errlog;
pub mod extop;
pub mod lab;
pub mod ldaprc;
pub mod ldif;
mod node;
mod protocol;
pub mod replica;
mod send;
pub mod server;
pub mod status;
pub mod version;
pub mod wire;

pub use config::{AgreementConfig, Answer, ConsumerKnobs, ReplicaConfig, Role, ServerConfig389, SupplierFault};
pub use lab::{Lab389, Lab389Spec};
pub use node::long_name;
pub use server::{AgreementView, Server389};
pub use version::Version389;
