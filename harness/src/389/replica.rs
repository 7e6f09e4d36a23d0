//! A server's replica of its suffix: the entries (reduced to DN, unique id
//! and CSN), the changelog, the RUV, the CSN generator, and the exclusive
//! access a consumer gives one supplier session at a time. Pure state:
//! the connection tasks lock it briefly, never across an await.

use std::collections::BTreeMap;

use super::config::{ReplicaConfig, Role};
use super::csn::{Csn, CsnGen, Ruv, SkewExceeded};
use super::wire::UpdateKind;

/// One changelog record (what a replicated update carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub csn: Csn,
    pub kind: UpdateKind,
    pub dn: String,
    pub uniqueid: String,
    pub changes: String,
}

/// One entry of the database, reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryData {
    pub uniqueid: String,
    /// The CSN of its last change (`None`: loaded without replication data).
    pub csn: Option<Csn>,
}

/// Why the changelog cannot position a consumer (`cl5CreateReplayIterator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// `CL5_PURGED_DATA`: trimmed past what the consumer has.
    Purged,
    /// `CL5_MISSING_DATA`: the consumer's CSN is not in the changelog.
    Missing,
}

/// An nsuniqueid-shaped id (`8 hex-8 hex-8 hex-8 hex`), stable per DN.
pub fn uniqueid_for(dn: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = [0u32; 4];
    for (i, w) in words.iter_mut().enumerate() {
        for b in dn.to_ascii_lowercase().bytes().chain([i as u8]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        *w = (h >> 16) as u32;
    }
    format!("{:08x}-{:08x}-{:08x}-{:08x}", words[0], words[1], words[2], words[3])
}

/// The replica state of one server.
#[derive(Debug, Clone)]
pub struct Replica {
    pub cfg: ReplicaConfig,
    /// `ldap://HOST:PORT` of this server (its RUV element's URL).
    pub purl: String,
    /// `None`: never initialized (no RUV).
    pub ruv: Option<Ruv>,
    pub gen: CsnGen,
    pub changelog: Vec<Change>,
    /// The newest CSN trimmed from the changelog, per replica id.
    pub purged: BTreeMap<u16, Csn>,
    pub entries: BTreeMap<String, EntryData>,
    /// The session holding exclusive access: (connection id, operation id).
    pub holder: Option<(u64, u32)>,
    /// The keep-alive entry exists (created on a supplier's first start).
    pub keepalive_exists: bool,
    /// Replayed changes per replica id since startup, for counters.
    pub enabled: bool,
}

impl Replica {
    /// A replica holding `generation` (if initialized) and `entries` entries.
    pub fn new(cfg: ReplicaConfig, purl: String, generation: &str, entries: usize) -> Self {
        let rid = cfg.role.rid();
        let mut r = Self {
            purl,
            ruv: None,
            gen: CsnGen::new(rid),
            changelog: Vec::new(),
            purged: BTreeMap::new(),
            entries: BTreeMap::new(),
            holder: None,
            keepalive_exists: false,
            enabled: true,
            cfg,
        };
        if r.cfg.initialized {
            let mut ruv = Ruv::new(generation);
            if let Role::Supplier { rid } = r.cfg.role {
                ruv.ensure(rid, &r.purl);
            }
            r.ruv = Some(ruv);
            r.load_entries(entries);
        }
        r
    }

    fn load_entries(&mut self, n: usize) {
        let suffix = self.cfg.suffix.clone();
        for dn in std::iter::once(suffix.clone())
            .chain(std::iter::once(format!("ou=people,{suffix}")))
            .chain((1..=n).map(|i| format!("uid=user{i},ou=people,{suffix}")))
        {
            self.entries.insert(dn.clone(), EntryData { uniqueid: uniqueid_for(&dn), csn: None });
        }
    }

    pub fn rid(&self) -> u16 {
        self.cfg.role.rid()
    }

    pub fn is_supplier(&self) -> bool {
        matches!(self.cfg.role, Role::Supplier { .. })
    }

    /// A change made on this server (an LDAP write, the keep-alive update).
    pub fn local_change(&mut self, now: i64, kind: UpdateKind, dn: &str, changes: &str) -> Csn {
        let csn = self.gen.next(now);
        let uniqueid = self.entries.get(dn).map_or_else(|| uniqueid_for(dn), |e| e.uniqueid.clone());
        self.record(Change { csn, kind, dn: dn.to_owned(), uniqueid, changes: changes.to_owned() }, None, now);
        csn
    }

    /// A change received from a supplier (`purl`: its URL, for a new RUV element).
    pub fn apply_replicated(&mut self, change: Change, purl: Option<&str>, now: i64) {
        self.record(change, purl, now);
    }

    fn record(&mut self, change: Change, purl: Option<&str>, now: i64) {
        match change.kind {
            UpdateKind::Delete => {
                self.entries.remove(&change.dn);
            }
            UpdateKind::Add | UpdateKind::Modify => {
                self.entries
                    .insert(change.dn.clone(), EntryData { uniqueid: change.uniqueid.clone(), csn: Some(change.csn) });
            }
        }
        let own = if change.csn.rid == self.rid() { Some(self.purl.clone()) } else { purl.map(str::to_owned) };
        if let Some(ruv) = self.ruv.as_mut() {
            ruv.update(change.csn, own.as_deref(), now);
        }
        let at = self.changelog.partition_point(|c| c.csn < change.csn);
        if self.changelog.get(at).map(|c| c.csn) != Some(change.csn) {
            self.changelog.insert(at, change);
        }
        if let Some(max) = self.cfg.changelog_max_entries {
            while self.changelog.len() > max {
                let gone = self.changelog.remove(0);
                let p = self.purged.entry(gone.csn.rid).or_insert(gone.csn);
                *p = (*p).max(gone.csn);
            }
        }
    }

    /// The changes a consumer with `consumer` RUV lacks, in CSN order, or why
    /// the changelog cannot say (`cl5CreateReplayIterator`).
    pub fn replay_for(&self, consumer: &Ruv) -> Result<Vec<Change>, ReplayError> {
        let Some(own) = &self.ruv else { return Ok(Vec::new()) };
        let mut starts: BTreeMap<u16, Option<Csn>> = BTreeMap::new();
        for e in own.elements.iter().filter(|e| e.max.is_some()) {
            let from = consumer.element(e.rid).and_then(|c| c.max);
            if let Some(from) = from {
                let in_log = self.changelog.iter().any(|c| c.csn == from);
                let purged = self.purged.get(&e.rid).is_some_and(|p| from <= *p);
                if !in_log && purged {
                    return Err(ReplayError::Purged);
                }
                if !in_log {
                    return Err(ReplayError::Missing);
                }
            } else if self.purged.contains_key(&e.rid) {
                // The consumer has nothing of this replica and the first changes are gone.
                return Err(ReplayError::Purged);
            }
            starts.insert(e.rid, from);
        }
        Ok(self
            .changelog
            .iter()
            .filter(|c| match starts.get(&c.csn.rid) {
                Some(Some(from)) => c.csn > *from,
                Some(None) => true,
                None => false,
            })
            .cloned()
            .collect())
    }

    /// Learns the consumer's newest CSN (`replica_update_csngen_state`).
    pub fn adjust_gen(&mut self, now: i64, remote: &Ruv) -> Result<(), SkewExceeded> {
        match remote.max_csn() {
            Some(max) => self.gen.adjust(now, &max),
            None => Ok(()),
        }
    }

    /// A total update from this replica: its entries and RUV.
    pub fn snapshot(&self) -> (Vec<(String, EntryData)>, Option<Ruv>) {
        (self.entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), self.ruv.clone())
    }

    /// Installs a total update: the supplier's data and RUV (plus this
    /// server's own element when it is a supplier).
    pub fn install(&mut self, entries: Vec<(String, EntryData)>, supplier_ruv: Ruv) {
        self.entries = entries.into_iter().collect();
        let mut ruv = supplier_ruv;
        if let Role::Supplier { rid } = self.cfg.role {
            ruv.ensure(rid, &self.purl);
        }
        self.ruv = Some(ruv);
        self.changelog.clear();
        self.purged.clear();
    }

    /// `ldif2db` of an export made without replication data: the database
    /// gets a new generation (replica id ffff), the RUV starts over.
    pub fn import_without_replication(&mut self, now: i64) {
        let t = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
        let generation = Csn { time: t, seq: 0, rid: 0xffff, subseq: 0 }.to_string();
        let mut ruv = Ruv::new(generation);
        if let Role::Supplier { rid } = self.cfg.role {
            ruv.ensure(rid, &self.purl);
        }
        self.ruv = Some(ruv);
        for e in self.entries.values_mut() {
            e.csn = None;
        }
        self.changelog.clear();
        self.purged.clear();
    }

    /// The newest CSN of this replica's own replica id.
    pub fn own_max(&self) -> Option<Csn> {
        self.ruv.as_ref().and_then(|r| r.element(self.rid())).and_then(|e| e.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supplier() -> Replica {
        let mut cfg = ReplicaConfig::new("dc=example,dc=com", Role::Supplier { rid: 1 });
        cfg.changelog_max_entries = Some(3);
        Replica::new(cfg, "ldap://a.example.com:389".into(), "6b025b4a000000010000", 2)
    }

    #[test]
    fn changes_replay_from_the_consumers_ruv() {
        let mut s = supplier();
        let c = s.ruv.clone().expect("ruv");
        assert_eq!(s.entries.len(), 4, "suffix, ou=people and two users");
        let a =
            s.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "replace: description");
        let b =
            s.local_change(1000, UpdateKind::Modify, "uid=user2,ou=people,dc=example,dc=com", "replace: description");
        let all = s.replay_for(&c).expect("positions");
        assert_eq!(all.iter().map(|x| x.csn).collect::<Vec<_>>(), [a, b]);
        let mut seen = c.clone();
        seen.update(a, None, 1000);
        assert_eq!(s.replay_for(&seen).expect("positions").len(), 1);
        assert_eq!(s.own_max(), Some(b));
    }

    #[test]
    fn a_trimmed_changelog_says_purged_and_a_consumer_ahead_says_missing() {
        let mut s = supplier();
        let mut c = s.ruv.clone().expect("ruv");
        let first = s.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        c.update(first, None, 1000);
        for i in 0..4 {
            s.local_change(1001 + i, UpdateKind::Modify, "uid=user2,ou=people,dc=example,dc=com", "x");
        }
        assert_eq!(s.replay_for(&c), Err(ReplayError::Purged));
        let mut ahead = s.ruv.clone().expect("ruv");
        ahead.update(Csn { time: 9999, seq: 0, rid: 1, subseq: 0 }, None, 9999);
        let mut s2 = supplier();
        s2.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        assert_eq!(s2.replay_for(&ahead), Err(ReplayError::Missing));
    }

    #[test]
    fn an_import_without_replication_data_starts_a_new_generation() {
        let mut s = supplier();
        s.import_without_replication(0x6b026239);
        assert_eq!(s.ruv.as_ref().map(|r| r.generation.as_str()), Some("6b0262390000ffff0000"));
        assert!(uniqueid_for("dc=x").len() == 35);
    }
}
