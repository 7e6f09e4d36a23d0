//! Integration tests of the fault proxy, on real loopback sockets.

mod api;
mod bad_input;
mod budget;
mod bytes_exact;
mod client;
mod descriptors;
mod docs;
mod schedules;
mod semantics;
mod spans;
mod support;
