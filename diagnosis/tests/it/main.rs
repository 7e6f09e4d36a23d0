//! Integration tests of the diagnosis engine on hand-written case folders.

mod ds;
mod r389;
mod support;
