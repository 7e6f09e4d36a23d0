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
    ///
    /// As `_cl5PositionCursorForReplay` does through the changelog cache
    /// (`cl5_clcache.c`): for each replica id of this supplier's RUV with a
    /// newest CSN (`clcache_refresh_local_maxcsn`), a consumer at or past it
    /// is up to date for that id and gets nothing of it; one with nothing of
    /// it starts at the id's oldest CSN, one behind at its own newest CSN
    /// (`clcache_initial_anchorcsn`). The session starts at the oldest of
    /// those anchors; only that CSN has to be in the changelog. When it is
    /// not, `_cl5CheckMissingCSN` decides: below the purge point, purged;
    /// at most this supplier's newest CSN for that id, missing; newer, nothing
    /// to send. Changes of an id already covered by the consumer's RUV are
    /// skipped (`clcache_skip_change`).
    pub fn replay_for(&self, consumer: &Ruv) -> Result<Vec<Change>, ReplayError> {
        let Some(own) = &self.ruv else { return Ok(Vec::new()) };
        // Per replica id with something to send: (the consumer's newest CSN, ours).
        let mut send: BTreeMap<u16, (Option<Csn>, Csn)> = BTreeMap::new();
        let mut anchor: Option<Csn> = None;
        for e in &own.elements {
            // `ruv_enumerate_elements` without all elements: only those with CSNs.
            let (Some(local_min), Some(local_max)) = (e.min, e.max) else { continue };
            let consumer_max = consumer.element(e.rid).and_then(|c| c.max);
            let rid_anchor = match consumer_max {
                None => local_min,
                Some(c) if local_max > c => c,
                // Up to date, or ahead of this supplier: nothing for this id.
                Some(_) => continue,
            };
            send.insert(e.rid, (consumer_max, local_max));
            anchor = Some(anchor.map_or(rid_anchor, |a| a.min(rid_anchor)));
        }
        let Some(anchor) = anchor else { return Ok(Vec::new()) };
        if !self.changelog.iter().any(|c| c.csn == anchor) {
            return self.check_missing(anchor, own).map(|()| Vec::new());
        }
        Ok(self
            .changelog
            .iter()
            .filter(|c| match send.get(&c.csn.rid) {
                Some((from, local_max)) => from.is_none_or(|f| c.csn > f) && c.csn <= *local_max,
                None => false,
            })
            .cloned()
            .collect())
    }

    /// `_cl5CheckMissingCSN`: a start CSN the changelog lacks. At or below
    /// what was trimmed for its replica id: purged; no newer than this
    /// supplier's newest CSN for that id: missing (the change should be
    /// here); newer: not seen yet, nothing to send.
    ///
    /// One difference: the server answers purged when its purge RUV has no
    /// CSN for the id (changes imported at initialization, never logged);
    /// the mock has no purge point there only for a changelog lost and
    /// recreated empty, which it reports as missing.
    fn check_missing(&self, csn: Csn, own: &Ruv) -> Result<(), ReplayError> {
        let Some(supplier_max) = own.element(csn.rid).and_then(|e| e.max) else { return Ok(()) };
        if self.purged.get(&csn.rid).is_some_and(|p| csn <= *p) {
            return Err(ReplayError::Purged);
        }
        if csn <= supplier_max {
            return Err(ReplayError::Missing);
        }
        Ok(())
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

    /// `_cl5PositionCursorForReplay` through `clcache_initial_anchorcsn` and
    /// `_cl5CheckMissingCSN`: a start CSN below the purge point is purged; a
    /// consumer ahead of this supplier for a replica id is up to date for it
    /// (`clcache_refresh_local_maxcsn`) and gets nothing, not missing data.
    #[test]
    fn a_trimmed_changelog_says_purged_and_a_consumer_ahead_gets_nothing() {
        let mut s = supplier();
        let mut c = s.ruv.clone().expect("ruv");
        let first = s.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        c.update(first, None, 1000);
        for i in 0..4 {
            s.local_change(1001 + i, UpdateKind::Modify, "uid=user2,ou=people,dc=example,dc=com", "x");
        }
        assert_eq!(s.replay_for(&c), Err(ReplayError::Purged));
        let fresh = Ruv::new("6b025b4a000000010000");
        assert_eq!(s.replay_for(&fresh), Err(ReplayError::Purged), "the oldest change of replica 1 is gone");
        let mut ahead = s.ruv.clone().expect("ruv");
        ahead.update(Csn { time: 9999, seq: 0, rid: 1, subseq: 0 }, None, 9999);
        let mut s2 = supplier();
        s2.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        assert_eq!(s2.replay_for(&ahead), Ok(Vec::new()));
    }

    /// `_cl5CheckMissingCSN`: the consumer's CSN is older than this
    /// supplier's newest for its replica id, past the purge point, and not in
    /// the changelog: missing.
    #[test]
    fn a_consumer_csn_the_changelog_should_hold_is_missing() {
        let mut s = supplier();
        let mut c = s.ruv.clone().expect("ruv");
        let first = s.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        c.update(first, None, 1000);
        s.changelog.clear();
        s.local_change(1001, UpdateKind::Modify, "uid=user2,ou=people,dc=example,dc=com", "x");
        assert_eq!(s.replay_for(&c), Err(ReplayError::Missing));
    }

    /// Two suppliers' replica ids: the consumer ahead for one gets nothing of
    /// it and everything it lacks of the other; a replica id it has nothing
    /// of is sent from its first change; an element without CSNs (a supplier
    /// that changed nothing yet, `ruv_add_replica`) asks for nothing.
    #[test]
    fn each_replica_id_replays_from_where_the_consumer_is() {
        let mut s = supplier();
        let a = s.local_change(1000, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        let b1 = Csn { time: 1001, seq: 0, rid: 2, subseq: 0 };
        let change = |csn| Change {
            csn,
            kind: UpdateKind::Modify,
            dn: "uid=user2,ou=people,dc=example,dc=com".into(),
            uniqueid: uniqueid_for("uid=user2,ou=people,dc=example,dc=com"),
            changes: "x".into(),
        };
        s.apply_replicated(change(b1), Some("ldap://b.example.com:389"), 1001);
        let a2 = s.local_change(1002, UpdateKind::Modify, "uid=user1,ou=people,dc=example,dc=com", "x");
        // The other supplier: its own replica id ahead of this one, replica 1 behind.
        let mut peer = Ruv::new("6b025b4a000000010000");
        peer.ensure(2, "ldap://b.example.com:389");
        peer.update(b1, None, 1001);
        peer.update(Csn { time: 1003, seq: 0, rid: 2, subseq: 0 }, None, 1003);
        peer.update(a, None, 1000);
        let got = s.replay_for(&peer).expect("positions");
        assert_eq!(got.iter().map(|c| c.csn).collect::<Vec<_>>(), [a2]);
        // A peer that has nothing of replica 1 and only its own placeholder element.
        let mut placeholder = Ruv::new("6b025b4a000000010000");
        placeholder.ensure(2, "ldap://b.example.com:389");
        let got = s.replay_for(&placeholder).expect("positions");
        assert_eq!(got.iter().map(|c| c.csn).collect::<Vec<_>>(), [a, b1, a2]);
        let mut fresh = supplier();
        fresh.ruv.as_mut().expect("ruv").ensure(2, "ldap://b.example.com:389");
        assert_eq!(fresh.replay_for(&placeholder), Ok(Vec::new()));
    }

    #[test]
    fn an_import_without_replication_data_starts_a_new_generation() {
        let mut s = supplier();
        s.import_without_replication(0x6b026239);
        assert_eq!(s.ruv.as_ref().map(|r| r.generation.as_str()), Some("6b0262390000ffff0000"));
        assert!(uniqueid_for("dc=x").len() == 35);
    }
}
