//! Integration tests of the diagnosis engine on hand-written case folders.

mod ds;
mod exchange;
mod r389;
mod support;
