//! What an organization is made of: sites, one bridgehead each, the
//! directory replication connector of each site (its inbound sites, its
//! schedule), the bridgehead's capacity, its directory's size and change
//! rate; and the organization-wide settings (name, clock, timings).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use time::{OffsetDateTime, UtcOffset};

use super::directory::ContextConfig;
use super::schedule::Schedule;
use super::wire;
use crate::error::HarnessError;
use crate::topology::loopback_for;

/// The product version every bridgehead reports.
pub const VERSION: &str = "5.5";

/// Site names for generated organizations (`exchange-day`, `mesh`), in order.
pub const SITE_NAMES: [&str; 50] = [
    "LONDON",
    "PARIS",
    "NEWYORK",
    "TOKYO",
    "BERLIN",
    "MADRID",
    "ROME",
    "SYDNEY",
    "TORONTO",
    "CHICAGO",
    "DUBLIN",
    "OSLO",
    "VIENNA",
    "PRAGUE",
    "WARSAW",
    "LISBON",
    "ATHENS",
    "CAIRO",
    "MUMBAI",
    "DELHI",
    "SEOUL",
    "BEIJING",
    "SHANGHAI",
    "SINGAPORE",
    "JAKARTA",
    "MANILA",
    "BANGKOK",
    "HANOI",
    "DUBAI",
    "RIYADH",
    "ISTANBUL",
    "MOSCOW",
    "KYIV",
    "HELSINKI",
    "STOCKHOLM",
    "COPENHAGEN",
    "AMSTERDAM",
    "BRUSSELS",
    "ZURICH",
    "MILAN",
    "BARCELONA",
    "LIMA",
    "BOGOTA",
    "SANTIAGO",
    "MEXICO",
    "DENVER",
    "SEATTLE",
    "BOSTON",
    "MIAMI",
    "AUCKLAND",
];

/// How fast a bridgehead's directory service works through its inbox, one
/// message at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capacity {
    /// As fast as the machine goes.
    #[default]
    Unlimited,
    /// Every message takes an hour divided by this (virtual time).
    MessagesPerHour(u32),
    /// A message takes (its objects, at least 1) × an hour divided by this.
    ObjectsPerHour(u32),
}

impl Capacity {
    /// `unlimited`, `200/h` (or `200 messages/h`), `600 objects/h`.
    pub fn parse(text: &str) -> Result<Capacity, HarnessError> {
        let t = text.trim().to_ascii_lowercase();
        if t == "unlimited" {
            return Ok(Capacity::Unlimited);
        }
        let bad = || {
            HarnessError::Config(format!(
                "capacity {text:?}: write unlimited, N/h (messages an hour) or N objects/h, N from 1 to {}",
                u32::MAX
            ))
        };
        let rate = t.strip_suffix("/h").ok_or_else(bad)?.trim();
        let (n, unit) = rate.split_once(' ').map_or((rate, "messages"), |(n, u)| (n, u.trim()));
        let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        match unit {
            "messages" | "message" => Ok(Capacity::MessagesPerHour(n)),
            "objects" | "object" => Ok(Capacity::ObjectsPerHour(n)),
            _ => Err(bad()),
        }
    }

    /// Virtual time one message with `objects` objects takes.
    pub fn service(self, objects: usize) -> Duration {
        let hour = Duration::from_secs(3600);
        match self {
            Capacity::Unlimited => Duration::ZERO,
            Capacity::MessagesPerHour(r) => hour / r.max(1),
            Capacity::ObjectsPerHour(r) => hour.mul_f64(objects.max(1) as f64 / f64::from(r.max(1))),
        }
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Unlimited => write!(f, "unlimited"),
            Capacity::MessagesPerHour(r) => write!(f, "{r} messages an hour"),
            Capacity::ObjectsPerHour(r) => write!(f, "{r} objects an hour"),
        }
    }
}

/// Diagnostic logging of the `Replication` category on the bridgehead's
/// Directory Service object: at `Maximum` every event of the seed's flow is
/// written; at `None` nothing is (the product's default), and messages are
/// only counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Logging {
    None,
    #[default]
    Maximum,
}

/// One site: its bridgehead and its directory replication connector.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// `LONDON`.
    pub site: String,
    /// The bridgehead's computer name, `BH-LONDON`.
    pub bridgehead: String,
    /// `bh-london.contoso.example`.
    pub host: String,
    /// Its own loopback address.
    pub address: IpAddr,
    /// The port its message transfer agent accepts messages on (0: any, kept across restarts).
    pub port: u16,
    /// The connector's inbound sites (its Sites tab): the requester asks each
    /// one's bridgehead for that site's contexts.
    pub inbound_sites: Vec<String>,
    pub schedule: Schedule,
    pub capacity: Capacity,
    pub site_context: ContextConfig,
    pub config_context: ContextConfig,
    pub utc_offset: UtcOffset,
    pub logging: Logging,
}

impl SiteConfig {
    /// Site `name`, the `i`-th of the organization (from 1): `BH-NAME`,
    /// `bh-name.{org}.example`, 127.0.0.i, no inbound site yet.
    pub fn new(name: &str, i: usize, org: &str) -> Self {
        Self {
            site: name.to_owned(),
            bridgehead: format!("BH-{name}"),
            host: format!("bh-{}.{}.example", name.to_ascii_lowercase(), org.to_ascii_lowercase()),
            address: loopback_for(i),
            port: 0,
            inbound_sites: Vec::new(),
            schedule: Schedule::default(),
            capacity: Capacity::Unlimited,
            site_context: ContextConfig { objects: 400, changes_per_hour: 4 },
            config_context: ContextConfig { objects: 120, changes_per_hour: 1 },
            utc_offset: UtcOffset::UTC,
            logging: Logging::Maximum,
        }
    }
}

/// Product timings (virtual time), shrunk by the time scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
    /// Wait before a failed connection is tried again.
    pub connect_retry: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(60), connect_retry: Duration::from_secs(60) }
    }
}

/// A Monday midnight, where organizations start unless told otherwise: the
/// weekly grid then reads the same on every run.
pub const DEFAULT_START: OffsetDateTime = time::macros::datetime!(2026-11-23 00:00:00 UTC);

/// What to bring up.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    /// The organization, `Contoso` (`/o=Contoso/…`).
    pub organization: String,
    pub sites: Vec<SiteConfig>,
    pub timings: Timings,
    pub time_scale: f64,
    pub start: OffsetDateTime,
    /// Connectors activate only before this much virtual time has passed
    /// (`exchange-day`: one day); `None`: as long as the organization runs.
    pub activations_until: Option<Duration>,
    /// Also append each bridgehead's log live under `DIR/NAME/`.
    pub log_dir: Option<PathBuf>,
    pub max_frame_len: usize,
    /// Messages an inbox holds before its connections stop being read.
    pub inbox_limit: usize,
    pub seed: u64,
}

impl OrgSpec {
    /// `n` sites named from [`SITE_NAMES`] (then `SITE51` …), every site
    /// inbound to every other (the seed's assumption), one schedule for all.
    pub fn full(n: usize, schedule: &Schedule) -> Self {
        let org = "Contoso";
        let names: Vec<String> = (0..n)
            .map(|i| SITE_NAMES.get(i).map(|s| (*s).to_owned()).unwrap_or_else(|| format!("SITE{}", i + 1)))
            .collect();
        let sites = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut s = SiteConfig::new(name, i + 1, org);
                s.inbound_sites = names.iter().filter(|x| *x != name).cloned().collect();
                s.schedule = schedule.clone();
                s
            })
            .collect();
        Self {
            organization: org.to_owned(),
            sites,
            timings: Timings::default(),
            time_scale: 1.0,
            start: DEFAULT_START,
            activations_until: None,
            log_dir: None,
            max_frame_len: wire::DEFAULT_MAX_FRAME_LEN,
            inbox_limit: 100_000,
            seed: 0,
        }
    }

    /// Names unique, inbound sites known and not the site itself.
    pub fn validate(&self) -> Result<(), HarnessError> {
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.sites {
            if !seen.insert(s.site.as_str()) {
                return Err(HarnessError::Config(format!("two sites are named {:?}", s.site)));
            }
            if !s.address.is_loopback() && crate::testnet::network_of(s.address).is_none() {
                return Err(HarnessError::Config(format!(
                    "site {}: {} is not a loopback address or a test host (the harness only listens on those)",
                    s.site, s.address
                )));
            }
        }
        for s in &self.sites {
            for inbound in &s.inbound_sites {
                if inbound == &s.site {
                    return Err(HarnessError::Config(format!("site {}: a site is not inbound to itself", s.site)));
                }
                if !seen.contains(inbound.as_str()) {
                    return Err(HarnessError::Config(format!(
                        "site {}: inbound site {inbound:?} is not a site of the organization",
                        s.site
                    )));
                }
            }
        }
        if self.inbox_limit == 0 {
            return Err(HarnessError::Config("inbox_limit must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_organization_has_every_site_inbound_to_every_other() {
        let spec = OrgSpec::full(3, &Schedule::default());
        spec.validate().expect("valid");
        assert_eq!(spec.sites[0].bridgehead, "BH-LONDON");
        assert_eq!(spec.sites[0].host, "bh-london.contoso.example");
        assert_eq!(spec.sites[1].inbound_sites, ["LONDON", "NEWYORK"]);
        assert_eq!(OrgSpec::full(52, &Schedule::default()).sites[51].site, "SITE52");
    }

    #[test]
    fn unknown_inbound_sites_and_duplicates_are_refused() {
        let mut spec = OrgSpec::full(2, &Schedule::default());
        spec.sites[0].inbound_sites.push("ATLANTIS".into());
        assert!(spec.validate().expect_err("unknown").to_string().contains("ATLANTIS"));
        let mut spec = OrgSpec::full(2, &Schedule::default());
        spec.sites[1].site = "LONDON".into();
        assert!(spec.validate().expect_err("twice").to_string().contains("two sites"));
    }

    #[test]
    fn capacities_parse_and_refuse_nonsense() {
        assert_eq!(Capacity::parse("200/h").expect("200"), Capacity::MessagesPerHour(200));
        assert_eq!(Capacity::parse("200 messages/h").expect("200"), Capacity::MessagesPerHour(200));
        assert_eq!(Capacity::parse("600 objects/h").expect("600"), Capacity::ObjectsPerHour(600));
        assert_eq!(Capacity::parse("Unlimited").expect("unlimited"), Capacity::Unlimited);
        for bad in ["0/h", "-5/h", "200", "200 bananas/h", "lots/h", "99999999999/h"] {
            assert!(Capacity::parse(bad).expect_err(bad).to_string().contains(bad), "{bad}");
        }
    }

    #[test]
    fn service_times_follow_the_capacity() {
        assert_eq!(Capacity::MessagesPerHour(200).service(512), Duration::from_secs(18));
        assert_eq!(Capacity::ObjectsPerHour(3600).service(512), Duration::from_secs(512));
        assert_eq!(Capacity::ObjectsPerHour(3600).service(0), Duration::from_secs(1));
        assert_eq!(Capacity::Unlimited.service(512), Duration::ZERO);
    }
}
