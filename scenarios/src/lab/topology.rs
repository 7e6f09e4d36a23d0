//! What a lab brings up, as a scenario [`Plan`] so that the runner's own
//! world for the family (servers bound, one fault-proxy listener per
//! directed link, host routes through them) is reused unchanged: a scenario
//! file, read as `run` reads it (with `--time-scale` put in before it is
//! checked, so flap steps shrink by the lab's scale), or `--flavor F
//! --servers N`, written as the scenario file a person would write for it
//! and read the same way. Servers are named as `replharness mesh` names
//! them: `ds-1` … `ds-N` (host `ds-N.example.com`, address 127.0.0.N),
//! 389 suppliers `slapd-s1` … `slapd-sN` (host `sN.example.com`, replica
//! id N, an agreement `sI-to-sJ` to every other supplier), or one
//! bridgehead per site for Exchange (`BH-LONDON`, `BH-PARIS` …).

use crate::error::{BadInput, Error};
use crate::plan::Plan;

/// A product family the lab can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Ds,
    R389,
    Exchange,
}

impl Flavor {
    /// `--flavor`'s value.
    pub fn parse(text: &str) -> Result<Flavor, BadInput> {
        match text {
            "ds" => Ok(Flavor::Ds),
            "389" => Ok(Flavor::R389),
            "exchange" => Ok(Flavor::Exchange),
            other => Err(BadInput(format!("--flavor {other:?}: expected ds, 389 or exchange"))),
        }
    }

    /// The name `--flavor` and case folders use.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Ds => "ds",
            Flavor::R389 => "389",
            Flavor::Exchange => "exchange",
        }
    }
}

/// Activations a day of a lab's Exchange connectors (`schedule = 96`: every 15 minutes).
pub const EXCHANGE_SCHEDULE: i64 = 96;

/// How often each supplier of a `--flavor 389` lab writes a change, in
/// product time: a 389 agreement opens a session only when there is
/// something to send, so without changes a fault on its path shows nothing.
/// At 150 s, 300 s … : a minute past the 60 s a released connection
/// lingers after the start-up session and after the keep-alive's (30 s
/// after start, then hourly), so each write's session connects anew and a
/// drop is a connect that times out, as in `library/389-firewall-drop.toml`.
pub const R389_WRITE_EVERY: std::time::Duration = std::time::Duration::from_secs(150);

/// `--flavor F --servers N` and the flags that shape it.
#[derive(Debug, Clone)]
pub struct FlavorSpec {
    pub flavor: Flavor,
    pub servers: usize,
    /// 389: read-only consumers beside the `servers` suppliers.
    pub consumers: usize,
    pub version: String,
    pub backends: Vec<String>,
    pub tls: bool,
    pub time_scale: f64,
}

/// The scenario file a person would write for `spec`: N servers (DS: every
/// RS↔RS link through the proxy, probes on; Exchange: N sites, every site
/// inbound to every other, every directed link through the proxy), no steps.
pub fn scenario_text(spec: &FlavorSpec) -> String {
    use toml::Value;
    if spec.flavor == Flavor::Exchange {
        let mut topology = toml::Table::new();
        topology.insert("flavor".into(), Value::String("exchange".into()));
        topology.insert("sites".into(), Value::Integer(i64::try_from(spec.servers).unwrap_or(i64::MAX)));
        // Every 15 minutes rather than the product's 8 a day: a request left
        // without a reply for a schedule interval is a verdict, and a room
        // should not wait three hours of product time (108 s at ×100) for it.
        topology.insert("schedule".into(), Value::Integer(EXCHANGE_SCHEDULE));
        let mut doc = toml::Table::new();
        doc.insert("name".into(), Value::String(format!("lab: {} exchange sites", spec.servers)));
        doc.insert("tags".into(), Value::Array(vec![Value::String("exchange".into())]));
        doc.insert("time_scale".into(), Value::Float(spec.time_scale));
        doc.insert("topology".into(), Value::Table(topology));
        return toml::to_string(&doc).unwrap_or_default();
    }
    if spec.flavor == Flavor::R389 {
        return r389_text(spec);
    }
    let mut servers = Vec::with_capacity(spec.servers);
    for i in 1..=spec.servers {
        let mut s = toml::Table::new();
        s.insert("name".into(), Value::String(format!("ds-{i}")));
        if spec.tls {
            s.insert("tls".into(), Value::Boolean(true));
        }
        servers.push(Value::Table(s));
    }
    let mut topology = toml::Table::new();
    topology.insert("version".into(), Value::String(spec.version.clone()));
    topology.insert("backends".into(), Value::Array(spec.backends.iter().cloned().map(Value::String).collect()));
    topology.insert("servers".into(), Value::Array(servers));
    let mut doc = toml::Table::new();
    doc.insert("name".into(), Value::String(format!("lab: {} {} servers", spec.servers, spec.flavor.name())));
    doc.insert("tags".into(), Value::Array(vec![Value::String(spec.flavor.name().into())]));
    doc.insert("time_scale".into(), Value::Float(spec.time_scale));
    doc.insert("topology".into(), Value::Table(topology));
    // A table of strings, numbers and booleans always serializes.
    toml::to_string(&doc).unwrap_or_default()
}

/// N suppliers and M consumers as `replharness mesh --flavor 389` brings
/// them up ([`harness::ds389::Lab389Spec::new`]): `slapd-s1` … (replica
/// ids 1 …), `slapd-c1` …, every supplier with an agreement to every other
/// server; one suffix (the first backend).
fn r389_text(spec: &FlavorSpec) -> String {
    use toml::Value;
    let names: Vec<(String, &str)> = (1..=spec.servers)
        .map(|i| (format!("slapd-s{i}"), "supplier"))
        .chain((1..=spec.consumers).map(|i| (format!("slapd-c{i}"), "consumer")))
        .collect();
    let mut servers = Vec::with_capacity(names.len());
    let mut agreements = Vec::new();
    for (name, role) in &names {
        let mut replica = toml::Table::new();
        replica.insert("role".into(), Value::String((*role).into()));
        let mut s = toml::Table::new();
        s.insert("name".into(), Value::String(name.clone()));
        s.insert("replica".into(), Value::Table(replica));
        servers.push(Value::Table(s));
        if *role != "supplier" {
            continue;
        }
        for (other, _) in names.iter().filter(|(n, _)| n != name) {
            let mut a = toml::Table::new();
            a.insert("from".into(), Value::String(name.clone()));
            a.insert("to".into(), Value::String(other.clone()));
            agreements.push(Value::Table(a));
        }
    }
    let mut topology = toml::Table::new();
    topology.insert("flavor".into(), Value::String("389".into()));
    // "7.1" is the DS default: the 389 plan reads it as "not given" (2.3.1).
    topology.insert("version".into(), Value::String(spec.version.clone()));
    topology
        .insert("backends".into(), Value::Array(spec.backends.iter().take(1).cloned().map(Value::String).collect()));
    topology.insert("servers".into(), Value::Array(servers));
    topology.insert("agreements".into(), Value::Array(agreements));
    let mut doc = toml::Table::new();
    doc.insert(
        "name".into(),
        Value::String(format!("lab: {} 389 suppliers, {} consumers", spec.servers, spec.consumers)),
    );
    doc.insert("tags".into(), Value::Array(vec![Value::String("389".into())]));
    doc.insert("time_scale".into(), Value::Float(spec.time_scale));
    doc.insert("topology".into(), Value::Table(topology));
    toml::to_string(&doc).unwrap_or_default()
}

/// The plan of `--flavor F --servers N`.
pub fn flavor(spec: &FlavorSpec) -> Result<Plan, Error> {
    let mut file = format!("lab --flavor {} --servers {}", spec.flavor.name(), spec.servers);
    if spec.flavor == Flavor::R389 {
        file.push_str(&format!(" --consumers {}", spec.consumers));
    }
    crate::plan::load(&file, &scenario_text(spec))
}

/// The plan of a scenario file, with the lab's time scale when given.
pub fn scenario(file: &str, text: &str, time_scale: Option<f64>) -> Result<Plan, Error> {
    if let Some(plan) = crate::exchange::plan::load(file, text)? {
        let Some(t) = time_scale else { return Ok(plan) };
        // Checked as written first (its places are the file's), then with the lab's scale.
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::invalid(crate::format::Locator::new(file, text).at_offset(0), crate::Problem::Shape(e.to_string()))
        })?;
        doc["time_scale"] = toml_edit::value(t);
        return crate::exchange::plan::load(file, &doc.to_string())?.map_or(Ok(plan), Ok);
    }
    let (mut sc, loc) = crate::format::parse(file, text)?;
    if let Some(t) = time_scale {
        sc.time_scale = t;
    }
    let mut plan = Plan::from_scenario(&sc, &loc)?;
    // The page drives the proxies in this process (it lists and heals what
    // they hold): a file's external proxy API is not used.
    if let Some((url, place)) = plan.proxy_api.take() {
        tracing::warn!("{place}: the lab puts its own proxies on the links; {url} is not used");
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n: usize) -> FlavorSpec {
        FlavorSpec {
            flavor: Flavor::Ds,
            servers: n,
            consumers: 0,
            version: "7.1".into(),
            backends: vec!["dc=example,dc=com".into()],
            tls: false,
            time_scale: 100.0,
        }
    }

    #[test]
    fn servers_are_named_as_mesh_names_them_and_every_rs_link_is_proxied() {
        let plan = flavor(&spec(3)).expect("plan");
        let mesh = harness::MeshSpec::full_mesh(3, &harness::Version::parse("7.1").expect("v"), &["dc=example,dc=com"]);
        let names: Vec<&str> = plan.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ds-1", "ds-2", "ds-3"]);
        for (p, m) in plan.servers.iter().zip(&mesh.servers) {
            assert_eq!((&p.name, &p.host, &p.addresses, &p.server_id), (&m.name, &m.host, &m.addresses, &m.server_id));
            assert_eq!(p.domains, m.domains);
        }
        // Six directed RS links for three servers, nothing else.
        assert_eq!(plan.proxied.len(), 6, "{:?}", plan.proxied);
        assert_eq!(plan.time_scale, 100.0);
        assert!(plan.steps.is_empty() && plan.expect.is_empty());
        assert!(plan.probe_timeout.is_some(), "probes give the engine its causes");
    }

    #[test]
    fn a_version_that_is_not_one_is_an_error_naming_it() {
        let mut s = spec(2);
        s.version = "seven".into();
        let e = flavor(&s).expect_err("bad version").to_string();
        assert!(e.contains("\"seven\""), "{e}");
    }

    #[test]
    fn the_lab_time_scale_replaces_the_files_before_it_is_checked() {
        let text = "name = \"x\"\ntime_scale = 10\n[topology]\n[[topology.servers]]\nname = \"a\"\n";
        assert_eq!(scenario("x.toml", text, None).expect("plan").time_scale, 10.0);
        assert_eq!(scenario("x.toml", text, Some(250.0)).expect("plan").time_scale, 250.0);
        let e = scenario("x.toml", "name = 1\n", None).expect_err("invalid").to_string();
        assert!(e.starts_with("x.toml:1:8: "), "{e}");
    }

    #[test]
    fn a_files_external_proxy_api_gives_way_to_the_labs_own_proxies() {
        let text = "name = \"x\"\n[topology]\nproxy = { api = \"http://127.0.0.1:8474\" }\n[[topology.servers]]\nname = \"a\"\n[[topology.servers]]\nname = \"b\"\n";
        assert!(crate::plan::load("x.toml", text).expect("plan").proxy_api.is_some(), "run would use it");
        let plan = scenario("x.toml", text, None).expect("plan");
        assert!(plan.proxy_api.is_none());
        assert_eq!(plan.proxied.len(), 2, "every link still through a proxy, the lab's");
    }

    #[test]
    fn every_family_parses_and_others_are_refused() {
        assert_eq!(Flavor::parse("ds").expect("ds"), Flavor::Ds);
        assert_eq!(Flavor::parse("389").expect("389"), Flavor::R389);
        assert_eq!(Flavor::parse("exchange").expect("exchange"), Flavor::Exchange);
        let e = Flavor::parse("ad").expect_err("no such family").to_string();
        assert!(e.contains("expected ds, 389 or exchange"), "{e}");
    }

    #[test]
    fn a_389_lab_is_the_topology_mesh_brings_up() {
        let mut s = spec(3);
        s.flavor = Flavor::R389;
        s.consumers = 2;
        let plan = flavor(&s).expect("plan");
        let p = plan.r389.as_ref().expect("a 389 plan");
        let mesh = harness::ds389::Lab389Spec::new(3, 2, "dc=example,dc=com");
        let names: Vec<&str> = p.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["slapd-s1", "slapd-s2", "slapd-s3", "slapd-c1", "slapd-c2"]);
        for (got, want) in p.servers.iter().zip(&mesh.servers) {
            assert_eq!((&got.name, &got.host, &got.addresses), (&want.name, &want.host, &want.addresses));
            assert_eq!(got.replica, want.replica, "{}", got.name);
            let names = |c: &harness::ds389::ServerConfig389| {
                c.agreements.iter().map(|a| (a.name.clone(), a.consumer.clone())).collect::<Vec<_>>()
            };
            assert_eq!(names(got), names(want));
            assert_eq!(got.version.to_string(), crate::plan::r389::DEFAULT_VERSION);
        }
        // One proxied path per agreement: four for each of three suppliers.
        assert_eq!(p.links.len(), 12, "{:?}", p.links);
        assert!(p.expect_in_sync && plan.steps.is_empty());
        assert_eq!(plan.time_scale, 100.0);
        assert!(plan.probe_timeout.is_some());
        s.version = "1.4.4.9".into();
        let p = flavor(&s).expect("plan").r389.expect("389");
        assert_eq!(p.servers[0].version.to_string(), "1.4.4.9");
    }

    #[test]
    fn a_389_scenario_file_is_read_as_389_not_as_ds() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/library/389-firewall-drop.toml"))
            .expect("bundled scenario");
        let plan = scenario("389-firewall-drop.toml", &text, None).expect("plan");
        let p = plan.r389.as_ref().expect("read as a 389 topology");
        let names: Vec<&str> = p.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["slapd-a", "slapd-b"]);
        assert_eq!(p.links.len(), 1, "one agreement, one proxied path: {:?}", p.links);
    }

    #[test]
    fn an_exchange_lab_is_the_organization_mesh_brings_up() {
        let mut s = spec(3);
        s.flavor = Flavor::Exchange;
        let plan = flavor(&s).expect("plan");
        let ex = plan.exchange.as_ref().expect("an Exchange plan");
        let mesh = harness::exchange::OrgSpec::full(3, &harness::exchange::Schedule::default());
        let names: Vec<&str> = ex.org.sites.iter().map(|x| x.bridgehead.as_str()).collect();
        let want: Vec<&str> = mesh.sites.iter().map(|x| x.bridgehead.as_str()).collect();
        assert_eq!(names, want);
        assert_eq!(ex.proxied.len(), 6, "every directed link through the proxy: {:?}", ex.proxied);
        assert_eq!(plan.proxied.len(), 6);
        assert_eq!((plan.time_scale, ex.org.time_scale), (100.0, 100.0));
        let every_15_minutes = harness::exchange::Schedule::per_day(96, harness::exchange::DetailView::FifteenMinutes);
        assert_eq!(Some(&ex.org.sites[0].schedule), every_15_minutes.as_ref().ok());
        let file = "name = \"x\"\ntime_scale = 10\n[topology]\nflavor = \"exchange\"\nsites = 2\n";
        let p = scenario("x.toml", file, Some(500.0)).expect("plan");
        assert_eq!(p.exchange.as_ref().map(|e| e.org.time_scale), Some(500.0), "the lab's scale wins");
        assert_eq!(scenario("x.toml", file, None).expect("plan").time_scale, 10.0);
    }
}
