//! The reference analyzer: case folder in, verdicts out, per the verdict
//! catalog (`spec/verdicts.md`).
//!
//! This crate is a skeleton: readers, rules and guidance are the work of the
//! diagnosis issue. It depends on no other workspace crate, opens no network
//! connection and reads case folders exactly as it would read files copied off
//! real servers.
