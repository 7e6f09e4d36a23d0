//! `[[steps]]` → planned steps: a virtual time, the step's place, and a
//! typed action with its servers and links checked.

use std::fmt;
use std::time::Duration;

use fault_proxy::Toxic;
use harness::hostmap::HostEntry;

use super::topology::{loopback, why_not_proxied, LinkRef};
use super::{fault, Ctx};
use crate::error::{Error, Place, Problem};
use crate::format::{Port, Scenario, Seg, Step, Until as UntilSpec};
use crate::path;

/// How long a `wait` waits unless it says otherwise (wall clock).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// One step of the plan.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// Virtual offset from the start; zero: before any server starts.
    pub at: Duration,
    /// Where the step is written, for errors while it runs.
    pub place: Place,
    pub action: Action,
}

/// What a step does, typed.
#[derive(Debug, Clone)]
pub enum Action {
    /// Adds `toxic` to the proxy of every link.
    Fault {
        links: Vec<LinkRef>,
        toxic: Toxic,
    },
    /// Adds a fault only the kernel network plays (`loss`, a reject
    /// answered with ICMP) to every link.
    KernelFault {
        links: Vec<LinkRef>,
        fault: crate::network::fault::KernelFault,
    },
    /// Removes the fault named `name` from every link.
    Clear {
        links: Vec<LinkRef>,
        name: String,
    },
    Stop {
        server: String,
    },
    Kill {
        server: String,
    },
    Start {
        server: String,
    },
    /// `from` (or every server) now sees `entry` for `host`.
    Dns {
        host: String,
        from: Option<String>,
        entry: HostEntry,
    },
    Generation {
        server: String,
        domain: String,
        generation_id: i64,
    },
    /// Waits for `until`, at most `timeout` (wall clock).
    Wait {
        until: Until,
        timeout: Duration,
    },
    /// A 389 topology's own steps (`write`, `agreement`, `init`, `poke`, `replica`).
    R389(super::r389::Action389),
}

impl Action {
    /// The `action` it was written as.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Fault { .. } | Action::KernelFault { .. } => "fault",
            Action::Clear { .. } => "clear",
            Action::Stop { .. } => "stop",
            Action::Kill { .. } => "kill",
            Action::Start { .. } => "start",
            Action::Dns { .. } => "dns",
            Action::Generation { .. } => "generation",
            Action::Wait { .. } => "wait",
            Action::R389(a) => match a {
                super::r389::Action389::Write { .. } => "write",
                super::r389::Action389::Agreement { .. } => "agreement",
                super::r389::Action389::Init { .. } => "init",
                super::r389::Action389::Poke { .. } => "poke",
                super::r389::Action389::Replica { .. } => "replica",
            },
        }
    }
}

/// A condition a `wait` step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until {
    /// Message `ordinal` logged on `server` at least `count` times.
    Logged { server: String, ordinal: u32, count: usize },
    /// Every RS link between the two (for each shared domain) is up.
    LinkUp { a: String, b: String },
    /// No RS link between the two is up.
    LinkDown { a: String, b: String },
    /// A 389 agreement's status, or a line of a 389 errors log.
    R389(super::r389::Until389),
}

impl fmt::Display for Until {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Until::Logged { server, ordinal, count } => write!(f, "message {ordinal} ×{count} on {server}"),
            Until::LinkUp { a, b } => write!(f, "{a} <-> {b} to be up"),
            Until::LinkDown { a, b } => write!(f, "{a} <-> {b} to be down"),
            Until::R389(u) => write!(f, "{u}"),
        }
    }
}

/// `A -> B` (one direction) or `A <-> B` (both): the two names and whether both.
pub fn parse_link(s: &str) -> Option<(String, String, bool)> {
    let (a, b, both) = match s.split_once("<->") {
        Some((a, b)) => (a, b, true),
        None => s.split_once("->").map(|(a, b)| (a, b, false))?,
    };
    let (a, b) = (a.trim(), b.trim());
    (!a.is_empty() && !b.is_empty()).then(|| (a.to_owned(), b.to_owned(), both))
}

fn pair(ctx: &Ctx<'_>, text: &str, at: &[Seg<'_>]) -> Result<(String, String, bool), Error> {
    let (a, b, both) = parse_link(text).ok_or_else(|| ctx.err(at, Problem::BadLink(text.to_owned())))?;
    Ok((ctx.server(&a, at)?, ctx.server(&b, at)?, both))
}

/// The proxied links a `fault` or `clear` names.
fn links(
    sc: &Scenario,
    ctx: &Ctx<'_>,
    proxied: &[LinkRef],
    text: &str,
    port: Port,
    at: &[Seg<'_>],
) -> Result<Vec<LinkRef>, Error> {
    let (a, b, both) = pair(ctx, text, at)?;
    let mut out = vec![LinkRef { from: a.clone(), to: b.clone(), port }];
    if both {
        out.push(LinkRef { from: b, to: a, port });
    }
    for l in &out {
        if !proxied.contains(l) {
            let why = why_not_proxied(sc, l);
            return Err(ctx.err(at, Problem::NotProxied { link: l.to_string(), why }));
        }
    }
    Ok(out)
}

pub(super) fn plan(
    sc: &Scenario,
    ctx: &Ctx<'_>,
    proxied: &[LinkRef],
    p389: Option<&super::r389::Plan389>,
) -> Result<Vec<PlannedStep>, Error> {
    let mut out = Vec::new();
    for (i, step) in sc.steps.iter().enumerate() {
        let at = ctx.duration_or(step.at(), &path!["steps", i, "at"], Duration::ZERO)?;
        let action = action(sc, ctx, proxied, p389, i, step)?;
        out.push(PlannedStep { at, place: ctx.place(&path!["steps", i]), action });
    }
    // A stable sort: steps at the same time keep the file's order.
    out.sort_by_key(|s| s.at);
    Ok(out)
}

fn action(
    sc: &Scenario,
    ctx: &Ctx<'_>,
    proxied: &[LinkRef],
    p389: Option<&super::r389::Plan389>,
    i: usize,
    step: &Step,
) -> Result<Action, Error> {
    let server = |name: &str| ctx.server(name, &path!["steps", i, "server"]);
    match p389 {
        Some(p) => {
            if let Some(a) = super::r389::action(ctx, p, i, step)? {
                return Ok(Action::R389(a));
            }
        }
        None => {
            if let Some(e) = super::r389::misplaced(ctx, i, step) {
                return Err(e);
            }
        }
    }
    Ok(match step {
        Step::Fault(f) => {
            let links = links(sc, ctx, proxied, &f.link, f.port, &path!["steps", i, "link"])?;
            match super::network::kernel_only(ctx, i, f)? {
                Some(fault) => Action::KernelFault { links, fault },
                None => Action::Fault { links, toxic: fault::toxic(ctx, i, &super::network::proxy_form(f))? },
            }
        }
        Step::Clear(c) => Action::Clear {
            links: links(sc, ctx, proxied, &c.link, c.port, &path!["steps", i, "link"])?,
            name: c.name.clone(),
        },
        Step::Stop(s) => Action::Stop { server: server(&s.server)? },
        Step::Kill(s) => Action::Kill { server: server(&s.server)? },
        Step::Start(s) => Action::Start { server: server(&s.server)? },
        Step::Dns(d) => {
            let entry = match (d.unresolvable, &d.address) {
                (Some(true), None) => HostEntry::Unresolvable,
                (None | Some(false), Some(a)) => {
                    HostEntry::Addresses(vec![loopback(ctx, a, &path!["steps", i, "address"])?])
                }
                _ => return Err(ctx.err(&path!["steps", i], Problem::DnsShape)),
            };
            let from = d.from.as_deref().map(|f| ctx.server(f, &path!["steps", i, "from"])).transpose()?;
            Action::Dns { host: d.host.clone(), from, entry }
        }
        Step::Generation(g) => {
            if g.generation_id < 0 {
                return Err(ctx.err(
                    &path!["steps", i, "generation_id"],
                    Problem::Negative { field: "generation_id", value: g.generation_id },
                ));
            }
            Action::Generation { server: server(&g.server)?, domain: g.domain.clone(), generation_id: g.generation_id }
        }
        Step::Wait(w) => Action::Wait {
            until: until(ctx, p389, i, &w.until)?,
            timeout: ctx.duration_or(w.timeout.as_deref(), &path!["steps", i, "timeout"], DEFAULT_WAIT)?,
        },
        // Taken above for a 389 topology; refused for any other.
        Step::Write(_) | Step::Agreement(_) | Step::Init(_) | Step::Poke(_) | Step::Replica(_) => {
            return Err(super::r389::misplaced(ctx, i, step)
                .unwrap_or_else(|| ctx.err(&path!["steps", i], Problem::Shape("a 389 step".into()))));
        }
    })
}

fn until(ctx: &Ctx<'_>, p389: Option<&super::r389::Plan389>, i: usize, u: &UntilSpec) -> Result<Until, Error> {
    if let Some(u) = super::r389::until(ctx, p389, i, u)? {
        return Ok(Until::R389(u));
    }
    let at = |field| path!["steps", i, "until", field];
    match (u.logged, &u.link_up, &u.link_down) {
        (Some(ordinal), None, None) => {
            let name = u
                .server
                .as_deref()
                .ok_or_else(|| ctx.err(&path!["steps", i, "until"], Problem::LoggedWithoutServer))?;
            let count = u.count.unwrap_or(1);
            Ok(Until::Logged {
                server: ctx.server(name, &at("server"))?,
                ordinal,
                count: usize::try_from(count).unwrap_or(usize::MAX),
            })
        }
        (None, Some(link), None) | (None, None, Some(link)) => {
            for (field, given) in [("server", u.server.is_some()), ("count", u.count.is_some())] {
                if given {
                    return Err(ctx.key_err(&at(field), Problem::UntilStray(field)));
                }
            }
            let field = if u.link_up.is_some() { "link_up" } else { "link_down" };
            let (a, b, _) = pair(ctx, link, &at(field))?;
            Ok(if u.link_up.is_some() { Until::LinkUp { a, b } } else { Until::LinkDown { a, b } })
        }
        _ => Err(ctx.err(&path!["steps", i, "until"], Problem::UntilShape)),
    }
}
