//! The Exchange 5.5 family: intersite directory replication between the
//! bridgehead servers of an organization's sites, over real loopback TCP,
//! writing the directory service's event log (`events.log`).
//!
//! One bridgehead per site. Each site's directory replication connector has
//! its inbound sites (the Sites tab), a schedule and its detail view. On each
//! activation the requesting bridgehead sends, for every inbound site and
//! each naming context (configuration, site), an update request from its last
//! USN to that site's bridgehead; the responder answers every request, with
//! at most 512 objects a reply and "more" announced when more remain, and the
//! requester asks for the next set once it has applied the reply. A message
//! stands for the mail the real product sends through its messaging
//! infrastructure (MTA, site connectors): here one frame on the sender's own
//! connection to the receiver, dialled through the host map, so a scenario
//! can put the fault proxy on every directed link.
//!
//! Code map (each module uses only modules below it in this list):
//! - [`day`]: one day in compressed time, messages counted beside the seed's formula.
//! - [`org`]: an organization brought up together; links, counts, waits, its case folder.
//! - [`bridgehead`]: one bridgehead: start, stop, kill, restart; schedule changes, Request Now.
//! - `activation`: the connector's schedule at work; Request Now.
//! - `inbox`: the directory service working through its inbox at its capacity (the seed's flow).
//! - `listener`: accepted connections read into the inbox.
//! - `link`: one outbound link: its queue, connection, retries.
//! - `node`: what a running bridgehead's tasks share (the leaf), and the organization's shared state.
//! - [`config`]: sites, connectors, capacity, timings, the organization spec.
//! - [`schedule`]: schedules: activations a day, the weekly grid, the detail views.
//! - [`directory`]: naming contexts, USNs, objects, replicas; reads of at most 512.
//! - [`events`]: the event records and their descriptions.
//! - [`counts`]: message counters and the messages-a-day formula.
//! - [`codec`], [`wire`]: the messages and their framing (byte diagram in [`wire`]).

mod activation;
pub mod bridgehead;
pub mod codec;
pub mod config;
pub mod counts;
pub mod day;
pub mod directory;
pub mod events;
mod inbox;
mod link;
mod listener;
mod node;
pub mod org;
pub mod schedule;
pub mod wire;

pub use bridgehead::{Bridgehead, LinkView};
pub use config::{Capacity, Logging, OrgSpec, SiteConfig};
pub use counts::{messages_a_day, Count};
pub use day::{DayReport, DaySpec};
pub use directory::Context;
pub use node::Peer;
pub use org::{LinkRow, Organization};
pub use schedule::{DetailView, Schedule};
