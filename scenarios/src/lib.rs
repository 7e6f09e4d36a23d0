//! Scenario files, the runner and the `replharness` command line.
//!
//! Code map:
//! - [`cli`]: the command line (clap types), parsed into validated settings.
//! - [`duration`]: `10s`, `500ms`, `2m` durations for flags and files.
//! - [`mesh_cmd`]: `replharness mesh`: brings up a mesh, reports its links, writes the case.
//!
//! The scenario format, the runner and the reports come with the scenarios issue.

pub mod cli;
pub mod duration;
pub mod mesh_cmd;
