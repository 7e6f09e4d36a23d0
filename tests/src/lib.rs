//! End-to-end tests across the replharness crates live in `tests/tests/`.
