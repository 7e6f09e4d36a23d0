//! Integration tests of the diagnosis engine on hand-written case folders.

mod ds;
mod exchange;
mod junk;
mod r389;
mod r389_log;
mod real389;
mod regressions;
mod schema;
mod support;
