//! The scenario file (TOML): topology, a timeline of steps at virtual offsets,
//! probes, and the verdicts to expect. Strict: an unknown key, a bad duration,
//! an unknown verdict id or a server name that names no server is an error
//! naming the file, line and column. The format is documented in
//! `docs/scenarios.md`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::duration::parse_duration;

fn yes() -> bool {
    true
}

fn default_scale() -> f64 {
    100.0
}

fn default_version() -> String {
    "7.1".into()
}

fn default_backends() -> Vec<String> {
    vec!["dc=example,dc=com".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Divides every product interval; log time runs this much faster.
    #[serde(default = "default_scale")]
    pub time_scale: f64,
    /// Overrides the run's seed for this scenario.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Wall-clock limit for the whole scenario (default 60s).
    #[serde(default)]
    pub deadline: Option<Spanned<String>>,
    pub topology: Topology,
    #[serde(default)]
    pub timings: TimingsSpec,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default)]
    pub expect: Vec<Expect>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Default version of every server.
    #[serde(default = "default_version")]
    pub version: String,
    /// Replicated backends (cn=schema, and cn=admin data before 7, are added).
    #[serde(default = "default_backends")]
    pub backends: Vec<String>,
    pub servers: Vec<ServerSpec>,
    #[serde(default)]
    pub proxy: ProxyLinks,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub name: Spanned<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// Default `NAME.example.com`.
    #[serde(default)]
    pub host: Option<String>,
    /// Default 127.0.0.N for the N-th server (loopback only).
    #[serde(default)]
    pub addresses: Option<Vec<Spanned<String>>>,
    /// Default the name (7+) or N (before 7).
    #[serde(default)]
    pub server_id: Option<String>,
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// Fixed ports (default: any free port, kept across restarts).
    #[serde(default)]
    pub replication_port: Option<u16>,
    #[serde(default)]
    pub admin_port: Option<u16>,
    #[serde(default = "yes")]
    pub rs: bool,
    #[serde(default = "yes")]
    pub ds: bool,
    /// The RS servers this server's DS uses, in order (default: its own).
    #[serde(default)]
    pub replicates_through: Option<Vec<Spanned<String>>>,
    /// Mutual TLS on its replication connections.
    #[serde(default)]
    pub tls: bool,
    /// With TLS: stay encrypted after the start messages (default); false
    /// drops to clear text once they are exchanged, as the product does.
    #[serde(default = "yes")]
    pub ssl_encryption: bool,
    /// A defect of its certificate: expired, not-yet-valid, foreign-ca, missing-name.
    #[serde(default)]
    pub cert: Option<Spanned<String>>,
}

/// Which connections go through the fault proxy, one listener per directed link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyLinks {
    #[serde(default = "yes")]
    pub rs_links: bool,
    #[serde(default)]
    pub ds_links: bool,
    #[serde(default)]
    pub admin_ports: bool,
}

impl Default for ProxyLinks {
    fn default() -> Self {
        Self { rs_links: true, ds_links: false, admin_ports: false }
    }
}

/// Product timings (virtual time); absent ones keep the product's defaults,
/// except `link_timeout`, which defaults to 120s so outages show in seconds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingsSpec {
    pub connect_retry: Option<Spanned<String>>,
    pub handshake_timeout: Option<Spanned<String>>,
    pub heartbeat: Option<Spanned<String>>,
    pub changetime_heartbeat: Option<Spanned<String>>,
    pub link_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Real time a TCP probe waits for an answer (default 500ms).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}

impl Default for ProbesSpec {
    fn default() -> Self {
        Self { enabled: true, timeout: None }
    }
}

/// On for `on`, off for `off`, `count` times (virtual durations).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlapSpec {
    pub on: Spanned<String>,
    pub off: Spanned<String>,
    #[serde(default)]
    pub count: Option<u64>,
}

/// What a `wait` step waits for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitUntil {
    /// A message ordinal (181, 205 …) logged on `server`, `count` times (default 1).
    pub logged: Option<u32>,
    pub server: Option<Spanned<String>>,
    pub count: Option<usize>,
    /// `A <-> B`: the RS link is up (for every shared domain) / down.
    pub link_up: Option<Spanned<String>>,
    pub link_down: Option<Spanned<String>>,
}

/// One timeline step; which fields it takes depends on `action`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Virtual offset from the start of the run (default 0s).
    pub at: Option<Spanned<String>>,
    pub action: Spanned<String>,
    // fault, clear
    pub link: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
    pub fault: Option<toml::Value>,
    pub flap: Option<FlapSpec>,
    pub name: Option<String>,
    // stop, kill, start, generation
    pub server: Option<Spanned<String>>,
    // dns
    pub host: Option<Spanned<String>>,
    pub from: Option<Spanned<String>>,
    pub unresolvable: Option<bool>,
    pub address: Option<Spanned<String>>,
    // generation
    pub domain: Option<String>,
    pub generation_id: Option<i64>,
    // wait
    pub until: Option<WaitUntil>,
    pub timeout: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub subject: BTreeMap<String, String>,
    /// Substrings the verdict's guidance must contain.
    #[serde(default)]
    pub guidance: Vec<String>,
    /// A verdict id that must not appear.
    pub absent: Option<Spanned<String>>,
}

/// A scenario file that is not valid, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct FormatError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, col)
}

/// Where errors are reported.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn err(&self, span: Range<usize>, message: impl Into<String>) -> FormatError {
        let (line, col) = line_col(self.text, span.start);
        FormatError { file: self.file.to_owned(), line, col, message: message.into() }
    }

    pub fn duration(&self, s: &Spanned<String>) -> Result<Duration, FormatError> {
        parse_duration(s.get_ref()).map_err(|e| self.err(s.span(), e))
    }
}

/// Parses and checks a scenario file.
pub fn parse(file: &str, text: &str) -> Result<Scenario, FormatError> {
    let src = Source { file, text };
    let sc: Scenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.err(span, e.message().to_owned())
    })?;
    check(&src, &sc)?;
    Ok(sc)
}

fn check(src: &Source, sc: &Scenario) -> Result<(), FormatError> {
    if !(sc.time_scale.is_finite() && sc.time_scale >= 1.0) {
        return Err(src.err(0..0, format!("time_scale must be a number ≥ 1, not {}", sc.time_scale)));
    }
    if let Some(d) = &sc.deadline {
        src.duration(d)?;
    }
    let names: Vec<&str> = sc.topology.servers.iter().map(|s| s.name.get_ref().as_str()).collect();
    if names.is_empty() {
        return Err(src.err(0..0, "topology.servers is empty: a scenario needs at least one server"));
    }
    let known = |n: &Spanned<String>| -> Result<(), FormatError> {
        if names.contains(&n.get_ref().as_str()) {
            Ok(())
        } else {
            Err(src.err(n.span(), format!("no server named {:?} (servers: {})", n.get_ref(), names.join(", "))))
        }
    };
    for (i, s) in sc.topology.servers.iter().enumerate() {
        if names[..i].contains(&s.name.get_ref().as_str()) {
            return Err(src.err(s.name.span(), format!("two servers are named {:?}", s.name.get_ref())));
        }
        harness::Version::parse(s.version.as_deref().unwrap_or(&sc.topology.version))
            .map_err(|e| src.err(s.name.span(), e.to_string()))?;
        for a in s.addresses.iter().flatten() {
            match a.get_ref().parse::<std::net::IpAddr>() {
                Ok(ip) if ip.is_loopback() => {}
                _ => {
                    return Err(src.err(
                        a.span(),
                        format!("{:?} is not a loopback address: the harness runs on loopback only", a.get_ref()),
                    ))
                }
            }
        }
        for n in s.replicates_through.iter().flatten() {
            known(n)?;
        }
        if let Some(c) = &s.cert {
            if harness::pki::CertDefect::parse(c.get_ref()).is_none() {
                return Err(src.err(
                    c.span(),
                    format!(
                        "cert {:?}: expected none, expired, not-yet-valid, foreign-ca or missing-name",
                        c.get_ref()
                    ),
                ));
            }
            if !s.tls {
                return Err(src.err(c.span(), "cert needs tls = true"));
            }
        }
    }
    let t = &sc.timings;
    for d in [&t.connect_retry, &t.handshake_timeout, &t.heartbeat, &t.changetime_heartbeat, &t.link_timeout]
        .into_iter()
        .flatten()
    {
        src.duration(d)?;
    }
    if let Some(d) = &sc.probes.timeout {
        src.duration(d)?;
    }
    for step in &sc.steps {
        check_step(src, step, &known)?;
    }
    for e in &sc.expect {
        match (&e.id, &e.absent) {
            (Some(id), None) | (None, Some(id)) => {
                if diagnosis::catalog::def(id.get_ref()).is_none() {
                    return Err(src.err(
                        id.span(),
                        format!("unknown verdict id {:?} (see `replharness verdicts`)", id.get_ref()),
                    ));
                }
            }
            _ => return Err(src.err(0..0, "each [[expect]] takes exactly one of id or absent")),
        }
    }
    Ok(())
}

/// `A -> B` or `A <-> B`.
pub fn parse_link(s: &str) -> Option<(String, String, bool)> {
    if let Some((a, b)) = s.split_once("<->") {
        return Some((a.trim().to_owned(), b.trim().to_owned(), true));
    }
    let (a, b) = s.split_once("->")?;
    Some((a.trim().to_owned(), b.trim().to_owned(), false))
}

fn check_link(
    src: &Source,
    link: &Spanned<String>,
    known: &dyn Fn(&Spanned<String>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let (a, b, _) = parse_link(link.get_ref())
        .ok_or_else(|| src.err(link.span(), format!("link {:?} is not \"A -> B\" or \"A <-> B\"", link.get_ref())))?;
    for n in [a, b] {
        known(&Spanned::new(link.span(), n))?;
    }
    Ok(())
}

fn check_step(
    src: &Source,
    st: &Step,
    known: &dyn Fn(&Spanned<String>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    if let Some(at) = &st.at {
        src.duration(at)?;
    }
    let span = st.action.span();
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(src.err(span.clone(), format!("action {:?} needs {what}", st.action.get_ref())))
        }
    };
    match st.action.get_ref().as_str() {
        "fault" | "clear" => {
            let link = st.link.as_ref().ok_or_else(|| src.err(span.clone(), "this action needs link = \"A -> B\""))?;
            check_link(src, link, known)?;
            if let Some(p) = &st.port {
                if !matches!(p.get_ref().as_str(), "replication" | "admin") {
                    return Err(
                        src.err(p.span(), format!("port {:?}: expected \"replication\" or \"admin\"", p.get_ref()))
                    );
                }
            }
            if st.action.get_ref() == "fault" {
                let fault = st
                    .fault
                    .as_ref()
                    .ok_or_else(|| src.err(span.clone(), "action \"fault\" needs fault = { type = ... }"))?;
                let json = serde_json::to_value(fault).map_err(|e| src.err(span.clone(), e.to_string()))?;
                fault_proxy::Toxic::from_json(&json).map_err(|e| src.err(span.clone(), format!("fault: {e}")))?;
                if let Some(f) = &st.flap {
                    src.duration(&f.on)?;
                    src.duration(&f.off)?;
                }
            } else {
                need(st.name.is_some(), "name = the fault's name")?;
            }
        }
        "stop" | "kill" | "start" => {
            let s = st.server.as_ref().ok_or_else(|| src.err(span.clone(), "this action needs server = NAME"))?;
            known(s)?;
        }
        "dns" => {
            let h = st.host.as_ref().ok_or_else(|| src.err(span.clone(), "action \"dns\" needs host = NAME"))?;
            let _ = h;
            if let Some(f) = &st.from {
                known(f)?;
            }
            need(
                st.unresolvable == Some(true) || st.address.is_some(),
                "unresolvable = true or address = \"127.0.0.N\"",
            )?;
            if let Some(a) = &st.address {
                match a.get_ref().parse::<std::net::IpAddr>() {
                    Ok(ip) if ip.is_loopback() => {}
                    _ => return Err(src.err(a.span(), format!("{:?} is not a loopback address", a.get_ref()))),
                }
            }
        }
        "generation" => {
            let s =
                st.server.as_ref().ok_or_else(|| src.err(span.clone(), "action \"generation\" needs server = NAME"))?;
            known(s)?;
            need(st.domain.is_some() && st.generation_id.is_some(), "domain and generation_id")?;
        }
        "wait" => {
            let u = st.until.as_ref().ok_or_else(|| src.err(span.clone(), "action \"wait\" needs until = { ... }"))?;
            if let Some(t) = &st.timeout {
                src.duration(t)?;
            }
            match (u.logged, &u.link_up, &u.link_down) {
                (Some(_), None, None) => {
                    let s =
                        u.server.as_ref().ok_or_else(|| src.err(span.clone(), "until.logged needs until.server"))?;
                    known(s)?;
                }
                (None, Some(l), None) | (None, None, Some(l)) => check_link(src, l, known)?,
                _ => return Err(src.err(span, "until takes one of logged, link_up, link_down")),
            }
        }
        other => {
            return Err(src.err(
                span,
                format!("unknown action {other:?}: expected fault, clear, stop, kill, start, dns, generation or wait"),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n";

    #[test]
    fn a_minimal_file_parses() {
        let s = parse("x.toml", MIN).expect("valid");
        assert_eq!(s.time_scale, 100.0);
        assert!(s.topology.proxy.rs_links);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("x.toml", &format!("{MIN}colour = \"red\"\n")).expect_err("unknown key");
        assert_eq!((e.file.as_str(), e.line), ("x.toml", 5), "{e}");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        let e = parse("x.toml", &format!("{MIN}[[steps]]\nat = \"soon\"\naction = \"kill\"\nserver = \"ds-1\"\n"))
            .expect_err("bad duration");
        assert_eq!((e.line, e.col), (6, 6), "{e}");
        let e =
            parse("x.toml", &format!("{MIN}[[steps]]\naction = \"kill\"\nserver = \"ds-9\"\n")).expect_err("dangling");
        assert!(e.to_string().starts_with("x.toml:7:10: no server named \"ds-9\""), "{e}");
        let e = parse("x.toml", &format!("{MIN}[[expect]]\nid = \"ds.everything-fine\"\n")).expect_err("unknown id");
        assert!(e.to_string().contains("unknown verdict id \"ds.everything-fine\""), "{e}");
    }

    #[test]
    fn links_read_both_ways() {
        assert_eq!(parse_link("a -> b"), Some(("a".into(), "b".into(), false)));
        assert_eq!(parse_link("a <-> b"), Some(("a".into(), "b".into(), true)));
        assert_eq!(parse_link("a b"), None);
    }
}
