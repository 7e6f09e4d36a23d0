//! The TCP fault injector: a Toxiproxy-compatible proxy that also blocks ports
//! like a real firewall.
//!
//! This crate is a skeleton: the proxy, its faults and its control API are the
//! work of the fault-proxy issue. It depends on no other workspace crate and
//! never learns the replication protocol: it moves opaque bytes.
