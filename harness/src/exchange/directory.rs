//! A bridgehead's directory: its own site's naming contexts (site and
//! configuration), each with its own USN sequence and objects, and what it
//! has replicated of every other site's contexts (the last USN it holds).
//!
//! Objects change at a steady rate per context (`changes_per_hour`, virtual
//! time); the changes due by a given time are made when the context is next
//! read, so nothing ticks while nothing asks. A change gives an existing
//! object the next USN (objects are modified in turn); a bulk add
//! ([`NamingContext::add`]) creates new ones. A read from a USN returns the
//! objects changed after it in USN order, at most [`MAX_OBJECTS`], and says
//! whether more remain.

use std::collections::BTreeMap;
use std::time::Duration;

use super::wire::{Object, MAX_OBJECTS};

/// Which of a site's naming contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    Configuration,
    Site,
}

impl Context {
    /// Both, in the order a connector asks for them.
    pub const BOTH: [Context; 2] = [Context::Configuration, Context::Site];

    /// The context's DN for `site` of `org`: `/o=Contoso/ou=PARIS`,
    /// `/o=Contoso/ou=PARIS/cn=Configuration`.
    pub fn dn(self, org: &str, site: &str) -> String {
        match self {
            Context::Site => format!("/o={org}/ou={site}"),
            Context::Configuration => format!("/o={org}/ou={site}/cn=Configuration"),
        }
    }

    /// The container of its objects, under the context's DN.
    fn container(self) -> &'static str {
        match self {
            Context::Site => "cn=Recipients/cn=user",
            Context::Configuration => "cn=Servers/cn=item",
        }
    }
}

/// How a context starts and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextConfig {
    /// Objects at the start (USNs 1 to this).
    pub objects: u32,
    /// Objects changed per hour of virtual time.
    pub changes_per_hour: u32,
}

/// What a read gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieved {
    pub objects: Vec<Object>,
    /// Entries up to this USN: the last object sent when more remain, else
    /// the context's highest USN.
    pub up_to_usn: u64,
    pub more: bool,
}

/// One naming context this bridgehead holds the master copy of.
#[derive(Debug, Clone)]
pub struct NamingContext {
    pub dn: String,
    context: Context,
    usn: u64,
    /// USN → object number.
    by_usn: BTreeMap<u64, u32>,
    /// Object number → its USN.
    usn_of: Vec<u64>,
    changes_per_hour: u32,
    changes_made: u64,
}

impl NamingContext {
    pub fn new(org: &str, site: &str, context: Context, cfg: ContextConfig) -> Self {
        let mut nc = Self {
            dn: context.dn(org, site),
            context,
            usn: 0,
            by_usn: BTreeMap::new(),
            usn_of: Vec::new(),
            changes_per_hour: cfg.changes_per_hour,
            changes_made: 0,
        };
        nc.add(cfg.objects);
        nc
    }

    pub fn usn(&self) -> u64 {
        self.usn
    }

    pub fn objects(&self) -> usize {
        self.usn_of.len()
    }

    fn dn_of(&self, n: u32) -> String {
        format!("{}/{}{:04}", self.dn, self.context.container(), n + 1)
    }

    /// Creates `count` new objects, each with the next USN.
    pub fn add(&mut self, count: u32) {
        for _ in 0..count {
            let n = self.usn_of.len() as u32;
            self.usn += 1;
            self.usn_of.push(self.usn);
            self.by_usn.insert(self.usn, n);
        }
    }

    /// Gives object `n` the next USN.
    fn touch(&mut self, n: u32) {
        let Some(old) = self.usn_of.get(n as usize).copied() else { return };
        self.by_usn.remove(&old);
        self.usn += 1;
        self.usn_of[n as usize] = self.usn;
        self.by_usn.insert(self.usn, n);
    }

    /// Makes the changes due `elapsed` (virtual) after the start.
    pub fn advance(&mut self, elapsed: Duration) {
        let due = (elapsed.as_secs_f64() * f64::from(self.changes_per_hour) / 3600.0) as u64;
        while self.changes_made < due {
            if self.usn_of.is_empty() {
                self.add(1);
            } else {
                let n = (self.changes_made % self.usn_of.len() as u64) as u32;
                self.touch(n);
            }
            self.changes_made += 1;
        }
    }

    /// The objects changed after `from_usn`, at most [`MAX_OBJECTS`].
    pub fn read_from(&self, from_usn: u64) -> Retrieved {
        let mut objects = Vec::new();
        let mut more = false;
        for (usn, n) in self.by_usn.range(from_usn.saturating_add(1)..) {
            if objects.len() == MAX_OBJECTS {
                more = true;
                break;
            }
            objects.push(Object { usn: *usn, dn: self.dn_of(*n) });
        }
        let up_to_usn = match (more, objects.last()) {
            (true, Some(last)) => last.usn,
            _ => self.usn.max(from_usn),
        };
        Retrieved { objects, up_to_usn, more }
    }
}

/// What a bridgehead holds of another site's context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replica {
    /// Up to date to this USN (the next request asks from it).
    pub usn: u64,
    /// Objects applied so far.
    pub applied: u64,
}

/// A bridgehead's directory: its own contexts and its replicas of others'.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    own: BTreeMap<String, NamingContext>,
    replicas: BTreeMap<String, Replica>,
}

impl Directory {
    pub fn new(own: Vec<NamingContext>) -> Self {
        Self { own: own.into_iter().map(|nc| (nc.dn.clone(), nc)).collect(), replicas: BTreeMap::new() }
    }

    /// Starts a replica of `dn` as up to date to `usn` (an organization in sync).
    pub fn seed_replica(&mut self, dn: &str, usn: u64) {
        self.replicas.insert(dn.to_owned(), Replica { usn, applied: 0 });
    }

    pub fn own(&self, dn: &str) -> Option<&NamingContext> {
        self.own.get(dn)
    }

    pub fn own_mut(&mut self, dn: &str) -> Option<&mut NamingContext> {
        self.own.get_mut(dn)
    }

    pub fn own_contexts(&self) -> impl Iterator<Item = &NamingContext> {
        self.own.values()
    }

    /// Reads one of its own contexts (changes made up to `elapsed` first);
    /// a context it does not hold gives nothing, up to the asked USN.
    pub fn read(&mut self, dn: &str, from_usn: u64, elapsed: Duration) -> Retrieved {
        match self.own.get_mut(dn) {
            Some(nc) => {
                nc.advance(elapsed);
                nc.read_from(from_usn)
            }
            None => Retrieved { objects: Vec::new(), up_to_usn: from_usn, more: false },
        }
    }

    /// The USN the next request for `dn` asks from.
    pub fn last_usn(&self, dn: &str) -> u64 {
        self.replicas.get(dn).map_or(0, |r| r.usn)
    }

    /// Applies a reply's objects; a reply never moves a replica backwards.
    pub fn apply(&mut self, dn: &str, up_to_usn: u64, objects: usize) {
        let r = self.replicas.entry(dn.to_owned()).or_default();
        r.usn = r.usn.max(up_to_usn);
        r.applied += objects as u64;
    }

    /// Forgets what it holds of `dn`: the next request asks from USN 0
    /// (Administrator's "Refresh all items in the directory").
    pub fn forget(&mut self, dn: &str) {
        self.replicas.entry(dn.to_owned()).or_default().usn = 0;
    }

    pub fn replica(&self, dn: &str) -> Option<Replica> {
        self.replicas.get(dn).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nc(objects: u32, changes_per_hour: u32) -> NamingContext {
        NamingContext::new("Contoso", "PARIS", Context::Site, ContextConfig { objects, changes_per_hour })
    }

    #[test]
    fn reads_page_at_512_and_say_when_more_remain() {
        let nc = nc(1300, 0);
        assert_eq!(nc.dn, "/o=Contoso/ou=PARIS");
        let first = nc.read_from(0);
        assert_eq!((first.objects.len(), first.up_to_usn, first.more), (512, 512, true));
        assert_eq!(first.objects[0].dn, "/o=Contoso/ou=PARIS/cn=Recipients/cn=user0001");
        let second = nc.read_from(first.up_to_usn);
        assert_eq!((second.objects.len(), second.up_to_usn, second.more), (512, 1024, true));
        let last = nc.read_from(second.up_to_usn);
        assert_eq!((last.objects.len(), last.up_to_usn, last.more), (276, 1300, false));
        let none = nc.read_from(1300);
        assert_eq!((none.objects.len(), none.up_to_usn, none.more), (0, 1300, false));
        // Exactly 512 left is one full reply, not one more.
        assert!(!nc.read_from(1300 - 512).more);
    }

    #[test]
    fn changes_due_by_a_time_advance_the_usn_and_are_read_once_each() {
        let mut n = nc(10, 12);
        n.advance(Duration::from_secs(3600));
        assert_eq!(n.usn(), 22);
        let r = n.read_from(10);
        assert_eq!(r.objects.len(), 10, "12 changes touch 10 objects, two of them twice");
        assert_eq!(r.up_to_usn, 22);
        n.advance(Duration::from_secs(3600));
        assert_eq!(n.usn(), 22, "nothing more is due at the same time");
        assert_eq!(n.objects(), 10);
    }

    #[test]
    fn replicas_move_forward_only_and_a_refresh_starts_over() {
        let mut d = Directory::new(vec![nc(5, 0)]);
        d.seed_replica("/o=Contoso/ou=LONDON", 40);
        d.apply("/o=Contoso/ou=LONDON", 30, 0);
        assert_eq!(d.last_usn("/o=Contoso/ou=LONDON"), 40);
        d.forget("/o=Contoso/ou=LONDON");
        assert_eq!(d.last_usn("/o=Contoso/ou=LONDON"), 0);
        assert_eq!(d.read("/o=Contoso/ou=NOWHERE", 7, Duration::ZERO).up_to_usn, 7);
        assert_eq!(d.read("/o=Contoso/ou=PARIS", 0, Duration::ZERO).objects.len(), 5);
    }
}
