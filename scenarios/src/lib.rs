//! Scenario files, the runner and the `replharness` command line.
//!
//! Code map:
//! - [`cli`]: the command line (clap types), parsed into validated settings.
//! - [`duration`]: `10s`, `500ms`, `2m` durations for flags and files.
//! - [`mesh_cmd`]: `replharness mesh`: brings up a mesh, reports its links, writes the case.
//! - [`format`]: the scenario file, strictly checked (errors name file, line and column).
//! - [`suite`]: files, folders, or the bundled library embedded in the binary.
//! - [`runner`]: one scenario: topology, proxies, timeline, probes, case folder, verdicts.
//! - [`probe`]: connectivity probes along the servers' own paths.
//! - [`expect`]: expectations matched against verdicts (expected vs got).
//! - [`analyzer`]: external analyzers (shell-split command, timeout, JSON).
//! - [`report`]: progress lines, summary table, JSON Lines, JUnit XML.
//! - [`run_cmd`]: `replharness run`.

pub mod analyzer;
pub mod cli;
pub mod duration;
pub mod expect;
pub mod format;
pub mod mesh_cmd;
pub mod probe;
pub mod report;
pub mod run_cmd;
pub mod runner;
pub mod suite;
