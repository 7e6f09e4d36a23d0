//! Scenario files, the runner and the `replharness` command line.
//!
//! Code map:
//! - [`error`]: the crate's error type; places in files (`FILE:LINE:COL`).
//! - [`duration`]: `10s`, `500ms`, `2m` durations (humantime) for flags and files, at most 24 h.
//! - [`format`]: the scenario file's shape as strict serde types (steps: one enum tagged by `action`),
//!   and [`format::locate`], the span index that gives every error its place.
//! - [`plan`]: Scenario → Plan: every check, typed durations, server configs, proxied links, toxics.
//! - [`suite`]: files, folders, or the bundled library embedded in the binary; `--filter`.
//! - [`partition`]: `--partition count:K/N|hash:K/N`, nextest's shards.
//! - [`selection`]: the scenarios a run (or `list`) takes: loaded, filtered, names unique, one shard.
//! - [`runner`]: one plan: topology and proxies, timeline, probes, case folder, verdicts.
//! - [`probe`]: connectivity probes along the servers' own paths.
//! - [`network`]: `--network proxy|netns`: the kernel network (test hosts, nftables faults).
//! - [`proxy_api`]: link proxies on an external Toxiproxy-compatible API (`--proxy-api`).
//! - [`external`]: before a run on an external proxy API: policy, which server, every fault checked.
//! - [`expect`]: expectations matched against verdicts (expected vs got).
//! - [`analyzer`]: external analyzers (shell-split command, timeout, capped output, serde).
//! - [`report`]: progress lines, summary table, JSON Lines, JUnit XML.
//! - [`out`]: standard output that a closed pipe ends quietly.
//! - [`cli`]: the command line (clap types), parsed into validated settings.
//! - [`run_cmd`], [`mesh_cmd`]: `replharness run` and `replharness mesh`.
//! - [`exchange`]: the Exchange 5.5 flavor: its scenario files, plan and run, `exchange-day`, `mesh --flavor exchange`.
//! - [`list_cmd`], [`merge_cmd`]: `replharness list` and `replharness report merge`.
//! - [`lab`]: `replharness lab`, the trainers' web page over a live topology.
//! - [`r389`]: the 389 flavor's file types and `replharness mesh --flavor 389` (its plan and
//!   runner are `plan::r389` and `runner::r389`).

pub mod analyzer;
pub mod cli;
pub mod duration;
pub mod error;
pub mod exchange;
pub mod expect;
pub mod external;
pub mod format;
pub mod lab;
pub mod list_cmd;
pub mod merge_cmd;
pub mod mesh_cmd;
pub mod network;
pub mod out;
pub mod partition;
pub mod plan;
pub mod probe;
pub mod proxy_api;
pub mod r389;
pub mod report;
pub mod run_cmd;
pub mod runner;
pub mod selection;
pub mod suite;

pub use error::{Error, Place, Problem};
pub use plan::Plan;
