//! The scenario file (TOML) as serde types: the file's exact shape, strict
//! (`deny_unknown_fields` everywhere, steps as one enum tagged by `action`).
//! These types only say what was written; [`crate::plan`] checks what it
//! means (server names, links, durations, bounds) and turns it into the
//! typed plan the runner plays. The format is documented in
//! `docs/scenarios.md`; every error names the file, line and column.

pub mod locate;
pub mod step;
pub mod topology;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use locate::{Locator, Seg};
pub use step::{
    ClearStep, DnsStep, FaultSpec, FaultStep, FlapSpec, GenerationStep, Port, ServerStep, Step, Until, WaitStep,
};
pub use topology::{Flavor, ProbesSpec, ProxyLinks, ServerSpec, TimingsSpec, Topology};

use crate::error::{Error, Problem};

fn default_scale() -> f64 {
    100.0
}

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Family (`ds`, `389`, `exchange`) and what it shows (`firewall`, `dns` …);
    /// `--filter` matches them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Divides every product interval; log time runs this much faster.
    #[serde(default = "default_scale")]
    pub time_scale: f64,
    /// Overrides the run's seed for this scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Wall-clock limit for the whole scenario (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub topology: Topology,
    #[serde(default)]
    pub timings: TimingsSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub probes: ProbesSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expect>,
}

/// One `[[expect]]`: a verdict that must be there (`id` …) or must not (`absent`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subject: BTreeMap<String, String>,
    /// Substrings the verdict's guidance must contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guidance: Vec<String>,
    /// A verdict id that must not appear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
}

/// Reads a scenario file's shape; the [`Locator`] gives places for later checks.
pub fn parse(file: &str, text: &str) -> Result<(Scenario, Locator), Error> {
    let loc = Locator::new(file, text);
    let sc = toml::from_str::<Scenario>(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        // Inside a step (one tagged enum, whose content serde buffers) toml
        // can only point at the step; an unknown key is found by name.
        let place = unknown_key(e.message())
            .and_then(|k| loc.find_key(span.clone(), k))
            .unwrap_or_else(|| loc.at_offset(span.start));
        let mut message = e.message().to_owned();
        if message == "number too large to fit in target type" {
            message.push_str(" (integers in a scenario file are at most 9223372036854775807, i64::MAX)");
        }
        Error::invalid(place, Problem::Shape(message))
    })?;
    Ok((sc, loc))
}

/// The key of serde's "unknown field `x`, expected …" message.
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n";

    fn err(text: &str) -> (String, Problem) {
        let e = parse("x.toml", text).expect_err("invalid");
        let (place, problem) = e.problem().expect("an invalid file");
        (place.to_string(), problem.clone())
    }

    #[test]
    fn a_minimal_file_parses_with_its_defaults() {
        let (s, _) = parse("x.toml", MIN).expect("valid");
        assert_eq!(s.time_scale, 100.0);
        assert!(s.topology.proxy.rs_links && !s.topology.proxy.ds_links);
        assert!(s.probes.enabled);
        assert_eq!(s.topology.version, "7.1");
    }

    #[test]
    fn unknown_keys_are_placed_at_the_key_even_inside_a_step() {
        let (at, p) = err(&format!("{MIN}colour = \"red\"\n"));
        assert_eq!(at, "x.toml:5:1");
        assert!(matches!(&p, Problem::Shape(m) if m.starts_with("unknown field `colour`")), "{p}");
        let (at, p) = err(&format!("{MIN}[[steps]]\naction = \"kill\"\nserver = \"ds-1\"\ncolour = 1\n"));
        assert_eq!(at, "x.toml:8:1", "{p}");
        let (at, _) = err(&format!("{MIN}[[steps]]\naction = \"wait\"\nuntil = {{ logged = 1, servr = \"a\" }}\n"));
        assert_eq!(at, "x.toml:7:23");
    }

    #[test]
    fn a_step_takes_only_its_actions_fields() {
        let (at, p) = err(&format!("{MIN}[[steps]]\naction = \"kill\"\nlink = \"a -> b\"\n"));
        assert_eq!(at, "x.toml:7:1");
        assert!(p.to_string().contains("unknown field `link`, expected `at` or `server`"), "{p}");
        let (at, p) = err(&format!("{MIN}[[steps]]\naction = \"explode\"\n"));
        assert_eq!(at, "x.toml:6:10");
        assert!(p.to_string().contains("unknown variant `explode`"), "{p}");
        let (_, p) = err(&format!("{MIN}[[steps]]\naction = \"generation\"\nserver = \"ds-1\"\n"));
        assert!(p.to_string().contains("missing field"), "{p}");
    }

    #[test]
    fn the_shape_serializes_back() {
        let text = format!(
            "{MIN}[[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"ds-1 -> ds-1\"\nfault = {{ type = \"latency\", attributes = {{ latency = 5 }} }}\n"
        );
        let (s, _) = parse("x.toml", &text).expect("valid");
        let back = toml::to_string(&s).expect("serializes");
        let (again, _) = parse("y.toml", &back).expect("re-reads");
        assert_eq!(s, again);
    }
}
