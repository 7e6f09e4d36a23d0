//! The `replharness` binary as a user runs it: one integration-test binary,
//! a module per job. Every run of the binary is bounded by a timeout
//! ([`common::replharness`]); no test asserts on elapsed time.

mod analyzer;
mod common;
mod diagnose;
mod exchange;
mod external_proxy;
mod files;
mod lab;
mod mesh;
mod network;
mod pipes;
mod shards;
mod suite;
