//! `replharness lab`: the trainers' web page. One command brings a topology
//! up in-process, on loopback, with the fault proxy on every link (the
//! runner's own world), and serves a page on which a trainer breaks links
//! and servers with a click while the built-in engine's verdicts follow
//! the live case folder. `docs/lab.md` documents the command and the API.
//!
//! Code map:
//! - [`args`]: the command line (clap) and the checked [`LabSettings`].
//! - [`topology`]: what to bring up, as a scenario plan (a file, or `--flavor ds --servers N`).
//! - [`net`] (crate-private): the topology of each family over the runner's own world for it.
//! - [`state`]: the running [`Lab`]: its topology, live case folder, registered faults, timeline, events.
//! - [`faults`]: faults on links (the API's and the scenario's), installed on the link's proxies.
//! - [`servers`]: stop, kill, start, DNS records; server views and logs.
//! - [`watch`]: background tasks: log tails, the link watcher, the engine on fresh snapshots,
//!   the scenario's later steps.
//! - [`view`]: the JSON the API answers with; a link's colour.
//! - [`error`]: what a request can get wrong, with its status.
//! - [`api`]: `app(lab) -> Router`: the JSON API, server-sent events, the page.
//! - [`assets`]: the page (HTML, CSS, JS embedded with `include_str!`).
//! - [`serve`]: the program: bind, print the URL, serve until Ctrl-C or SIGTERM, shut down.

pub mod api;
pub mod args;
pub mod assets;
pub mod error;
pub mod faults;
mod net;
pub mod serve;
pub mod servers;
pub mod state;
pub mod topology;
pub mod view;
mod watch;

#[cfg(test)]
mod tests;

pub use api::app;
pub use args::{LabArgs, LabSettings};
pub use error::LabError;
pub use faults::FaultRequest;
pub use servers::ServerAction;
pub use state::{Lab, LabEvent};
