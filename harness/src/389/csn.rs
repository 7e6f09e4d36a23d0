//! Change sequence numbers, the CSN generator and the replica update vector
//! (RUV), with the text forms 389-DS prints (`slapd/csn.c`, `repl5_ruv.c`).
//!
//! A CSN is 20 lower-case hex digits: 8 of seconds since 1970, 4 of
//! sequence, 4 of replica id, 4 of sub-sequence (`6b025b4c000000010000`).
//! An RUV is a generation (`{replicageneration} 6b025b4a000000010000`) and
//! one element per replica id (`{replica 1 ldap://a.example.com:389} MIN MAX`).

use std::fmt;

/// The largest clock adjustment a CSN generator accepts from a peer (one day).
pub const MAX_TIME_ADJUST: i64 = 86_400;

/// The replica id every read-only consumer has.
pub const CONSUMER_RID: u16 = 65_535;

/// One change sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Csn {
    pub time: u32,
    pub seq: u16,
    pub rid: u16,
    pub subseq: u16,
}

impl Csn {
    /// Reads 20 hex digits; `None` for anything else.
    pub fn parse(text: &str) -> Option<Csn> {
        let t = text.trim();
        if t.len() != 20 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let n = |a: usize, b: usize| u32::from_str_radix(&t[a..b], 16).ok();
        Some(Csn {
            time: n(0, 8)?,
            seq: u16::try_from(n(8, 12)?).ok()?,
            rid: u16::try_from(n(12, 16)?).ok()?,
            subseq: u16::try_from(n(16, 20)?).ok()?,
        })
    }
}

impl fmt::Display for Csn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}{:04x}{:04x}{:04x}", self.time, self.seq, self.rid, self.subseq)
    }
}

/// The adjustment a peer's CSN asked for exceeds [`MAX_TIME_ADJUST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkewExceeded {
    /// Seconds the peer is ahead of this generator.
    pub offset: i64,
}

/// A replica's CSN generator (`slapd/csngen.c`): local time plus the
/// offset learnt from peers that are ahead, a sequence within one second.
#[derive(Debug, Clone)]
pub struct CsnGen {
    rid: u16,
    remote_offset: i64,
    last: Option<Csn>,
}

impl CsnGen {
    pub fn new(rid: u16) -> Self {
        Self { rid, remote_offset: 0, last: None }
    }

    fn stamp(&self, now: i64) -> u32 {
        u32::try_from((now + self.remote_offset).max(0)).unwrap_or(u32::MAX)
    }

    /// The next CSN at local time `now` (seconds since 1970).
    pub fn next(&mut self, now: i64) -> Csn {
        let time = self.stamp(now);
        let seq = match self.last {
            Some(l) if l.time >= time => l.seq.saturating_add(1),
            _ => 0,
        };
        let time = self.last.map_or(time, |l| l.time.max(time));
        let csn = Csn { time, seq, rid: self.rid, subseq: 0 };
        self.last = Some(csn);
        csn
    }

    /// The CSN a session would carry now, without using it up.
    pub fn current(&self, now: i64) -> Csn {
        let time = self.last.map_or(self.stamp(now), |l| l.time.max(self.stamp(now)));
        Csn { time, seq: 0, rid: self.rid, subseq: 0 }
    }

    /// Learns a peer's newest CSN (`csngen_adjust_time`): a peer ahead moves
    /// this generator's time forward, by at most a day in all.
    pub fn adjust(&mut self, now: i64, remote: &Csn) -> Result<(), SkewExceeded> {
        let offset = i64::from(remote.time) - i64::from(self.stamp(now));
        if offset > 0 {
            if self.remote_offset + offset > MAX_TIME_ADJUST {
                return Err(SkewExceeded { offset });
            }
            self.remote_offset += offset;
        }
        if let Some(l) = self.last {
            if remote.time == l.time && remote.seq >= l.seq {
                self.last = Some(Csn { seq: remote.seq, ..l });
            }
        }
        Ok(())
    }
}

/// One RUV element: a replica id, its URL, the oldest and newest CSN seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuvElement {
    pub rid: u16,
    /// `ldap://host:port` of that replica.
    pub purl: Option<String>,
    pub min: Option<Csn>,
    pub max: Option<Csn>,
    /// When the element last changed (seconds since 1970), for `nsruvReplicaLastModified`.
    pub modified: u32,
}

/// A replica update vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruv {
    /// The database generation, a CSN string.
    pub generation: String,
    pub elements: Vec<RuvElement>,
}

impl Ruv {
    pub fn new(generation: impl Into<String>) -> Self {
        Self { generation: generation.into(), elements: Vec::new() }
    }

    /// Makes sure an element for `rid` exists (a supplier's own, without CSNs).
    pub fn ensure(&mut self, rid: u16, purl: &str) {
        if !self.elements.iter().any(|e| e.rid == rid) {
            self.elements.push(RuvElement { rid, purl: Some(purl.to_owned()), min: None, max: None, modified: 0 });
        }
    }

    /// Records `csn` (from the replica at `purl`) as seen.
    pub fn update(&mut self, csn: Csn, purl: Option<&str>, _now: i64) {
        // The server stamps the element with the CSN's own time.
        let modified = csn.time;
        match self.elements.iter_mut().find(|e| e.rid == csn.rid) {
            Some(e) => {
                if e.max.is_none_or(|m| csn > m) {
                    e.max = Some(csn);
                }
                if e.min.is_none() {
                    e.min = Some(csn);
                }
                e.modified = modified;
            }
            None => self.elements.push(RuvElement {
                rid: csn.rid,
                purl: purl.map(str::to_owned),
                min: Some(csn),
                max: Some(csn),
                modified,
            }),
        }
    }

    pub fn element(&self, rid: u16) -> Option<&RuvElement> {
        self.elements.iter().find(|e| e.rid == rid)
    }

    /// The newest CSN of any element.
    pub fn max_csn(&self) -> Option<Csn> {
        self.elements.iter().filter_map(|e| e.max).max()
    }

    /// The `nsds50ruv` values, generation first.
    pub fn values(&self) -> Vec<String> {
        let mut out = vec![format!("{{replicageneration}} {}", self.generation)];
        for e in &self.elements {
            let mut v = format!("{{replica {}", e.rid);
            if let Some(p) = &e.purl {
                v.push(' ');
                v.push_str(p);
            }
            v.push('}');
            for c in [e.min, e.max].into_iter().flatten() {
                v.push(' ');
                v.push_str(&c.to_string());
            }
            out.push(v);
        }
        out
    }

    /// The `nsruvReplicaLastModified` values.
    pub fn last_modified_values(&self) -> Vec<String> {
        self.elements
            .iter()
            .map(|e| format!("{{replica {} {}}} {:08x}", e.rid, e.purl.as_deref().unwrap_or(""), e.modified))
            .collect()
    }

    /// Reads `nsds50ruv` values back (the start-replication response carries them).
    pub fn parse(values: &[String]) -> Option<Ruv> {
        let (first, rest) = values.split_first()?;
        let generation = first.strip_prefix("{replicageneration} ")?.trim().to_owned();
        let mut ruv = Ruv::new(generation);
        for v in rest {
            let inner = v.strip_prefix("{replica ")?;
            let (head, csns) = inner.split_once('}')?;
            let mut head = head.splitn(2, ' ');
            let rid = head.next()?.parse().ok()?;
            let purl = head.next().map(str::to_owned);
            let mut csns = csns.split_whitespace().map(Csn::parse);
            let min = csns.next().flatten();
            let max = csns.next().flatten();
            ruv.elements.push(RuvElement { rid, purl, min, max, modified: 0 });
        }
        Some(ruv)
    }

    /// `ruv_is_newer`: does the supplier hold a CSN the consumer lacks?
    /// A consumer without an RUV is always behind.
    pub fn is_newer(supplier: &Ruv, consumer: Option<&Ruv>) -> bool {
        let Some(c) = consumer else { return true };
        supplier.elements.iter().filter_map(|s| s.max.map(|m| (s.rid, m))).any(|(rid, max)| {
            match c.element(rid).and_then(|e| e.max) {
                Some(cm) => max > cm,
                None => true,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csn_text_round_trips_in_lower_case() {
        let c = Csn { time: 0x6b025b4c, seq: 0, rid: 1, subseq: 0 };
        assert_eq!(c.to_string(), "6b025b4c000000010000");
        assert_eq!(Csn::parse("6B025B4C000000010000"), Some(c));
        assert_eq!(Csn::parse("6b025b4c00000001000"), None);
        assert_eq!(Csn::parse("6b025b4c00000001000g"), None);
    }

    #[test]
    fn the_generator_counts_within_a_second_and_limits_adjustments_to_a_day() {
        let mut g = CsnGen::new(1);
        let a = g.next(1000);
        let b = g.next(1000);
        assert_eq!((a.seq, b.seq, b.time), (0, 1, 1000));
        assert_eq!(g.next(1001).seq, 0);
        let ahead = Csn { time: 1001 + 3600, seq: 0, rid: 2, subseq: 0 };
        assert!(g.adjust(1001, &ahead).is_ok());
        assert!(g.next(1001).time >= 1001 + 3600, "the generator moved forward");
        let far = Csn { time: 1001 + 2 * 86_400, seq: 0, rid: 2, subseq: 0 };
        assert!(matches!(g.adjust(1001, &far), Err(SkewExceeded { offset }) if offset > 86_400 - 3600));
    }

    #[test]
    fn ruv_values_match_the_servers_text_and_read_back() {
        let mut r = Ruv::new("6b025b4a000000010000");
        r.ensure(1, "ldap://a.example.com:389");
        assert_eq!(r.values(), ["{replicageneration} 6b025b4a000000010000", "{replica 1 ldap://a.example.com:389}"]);
        r.update(Csn { time: 0x6b025b4c, seq: 0, rid: 1, subseq: 0 }, None, 0x6b025b4c);
        r.update(Csn { time: 0x6b026011, seq: 0, rid: 1, subseq: 0 }, None, 0x6b026011);
        let vals = r.values();
        assert_eq!(vals[1], "{replica 1 ldap://a.example.com:389} 6b025b4c000000010000 6b026011000000010000");
        assert_eq!(r.last_modified_values(), ["{replica 1 ldap://a.example.com:389} 6b026011"]);
        let back = Ruv::parse(&vals).expect("parses");
        assert_eq!(back.max_csn(), r.max_csn());
        assert_eq!(Ruv::parse(&["junk".to_owned()]), None);
    }

    #[test]
    fn newer_means_a_csn_the_consumer_lacks() {
        let mut s = Ruv::new("g");
        s.ensure(1, "ldap://a:389");
        let c = s.clone();
        assert!(!Ruv::is_newer(&s, Some(&c)), "no CSN at all: nothing to send");
        s.update(Csn { time: 10, seq: 0, rid: 1, subseq: 0 }, None, 10);
        assert!(Ruv::is_newer(&s, Some(&c)));
        assert!(Ruv::is_newer(&s, None));
        let mut c2 = c.clone();
        c2.update(Csn { time: 10, seq: 0, rid: 1, subseq: 0 }, None, 10);
        assert!(!Ruv::is_newer(&s, Some(&c2)));
    }
}
