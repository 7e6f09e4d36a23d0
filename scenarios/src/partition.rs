//! `--partition count:K/N` and `hash:K/N`: one shard of a run, with
//! cargo-nextest's semantics, so a CI matrix of N jobs runs every scenario
//! exactly once.
//!
//! - `count:K/N` deals the scenarios the run takes (after `--filter`, in
//!   their order) like cards: the i-th (from 0) goes to shard `i % N + 1`.
//!   Shards differ in size by one at most; adding a scenario moves every one
//!   after it.
//! - `hash:K/N` puts a scenario in shard `h % N + 1`, `h` the 64-bit FNV-1a
//!   hash of its name's UTF-8 bytes (offset basis 0xcbf29ce484222325, prime
//!   0x100000001b3; the `fnv` crate). A scenario's shard depends on its name
//!   alone: adding one moves no other, and the same name lands in the same
//!   shard on every machine and version.
//!
//! K counts from 1 and is at most N. A shard that gets no scenario (a matrix
//! larger than the suite) runs nothing and passes.

use std::fmt;
use std::hash::Hasher as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How scenarios are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Count,
    Hash,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Count => "count",
            Kind::Hash => "hash",
        }
    }
}

/// One shard: `shard` of `total`, dealt by `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    pub kind: Kind,
    /// 1-based.
    pub shard: u32,
    pub total: u32,
}

/// Why a `--partition` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("partition {given:?}: {reason}")]
pub struct PartitionError {
    pub given: String,
    pub reason: String,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Partition, PartitionError> {
        let bad = |reason: &str| PartitionError { given: s.to_owned(), reason: reason.to_owned() };
        let shape = "expected count:K/N or hash:K/N, shard K of N, 1 <= K <= N (such as hash:2/3)";
        let (kind, rest) = s.split_once(':').ok_or_else(|| bad(shape))?;
        let kind = match kind {
            "count" => Kind::Count,
            "hash" => Kind::Hash,
            other => return Err(bad(&format!("unknown kind {other:?}: {shape}"))),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| bad(shape))?;
        let number = |t: &str, what: &str| -> Result<u32, PartitionError> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("{what} {t:?} is not a whole number: {shape}")));
            }
            t.parse::<u32>().map_err(|_| bad(&format!("{what} {t} is too large (at most {})", u32::MAX)))
        };
        let (shard, total) = (number(k, "shard")?, number(n, "shard count")?);
        if total == 0 {
            return Err(bad("the shard count must be 1 or more"));
        }
        if shard == 0 {
            return Err(bad("shards count from 1: the first is 1, not 0"));
        }
        if shard > total {
            return Err(bad(&format!("shard {shard} is past the last one, {total}")));
        }
        Ok(Partition { kind, shard, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind.name(), self.shard, self.total)
    }
}

/// In reports, as the command line writes it: `"hash:2/3"`.
impl Serialize for Partition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Partition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Partition, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The 64-bit FNV-1a hash of a scenario name (the `hash:` key).
pub fn name_hash(name: &str) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

impl Partition {
    /// The 1-based shard the `index`-th scenario (from 0), named `name`, belongs to.
    pub fn shard_of(kind: Kind, total: u32, index: usize, name: &str) -> u32 {
        let total = u64::from(total.max(1));
        let slot = match kind {
            Kind::Count => (index as u64) % total,
            Kind::Hash => name_hash(name) % total,
        };
        // slot < total <= u32::MAX.
        u32::try_from(slot).unwrap_or(0) + 1
    }

    /// Does this shard take the `index`-th scenario, named `name`?
    pub fn takes(&self, index: usize, name: &str) -> bool {
        Self::shard_of(self.kind, self.total, index, name) == self.shard
    }

    /// The items of this shard, in their order; `name` gives each one's name.
    pub fn select<T>(&self, items: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
        items.into_iter().enumerate().filter(|(i, t)| self.takes(*i, name(t))).map(|(_, t)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Partition {
        s.parse().expect(s)
    }

    #[test]
    fn values_parse_and_print_back() {
        assert_eq!(p("count:1/3"), Partition { kind: Kind::Count, shard: 1, total: 3 });
        assert_eq!(p("hash:3/3").to_string(), "hash:3/3");
        assert_eq!(p("hash:1/1").to_string(), "hash:1/1");
        assert_eq!(serde_json::to_string(&p("count:2/5")).expect("json"), "\"count:2/5\"");
        assert_eq!(serde_json::from_str::<Partition>("\"hash:2/4\"").expect("json"), p("hash:2/4"));
        assert!(serde_json::from_str::<Partition>("\"hash:5/4\"").is_err());
    }

    #[test]
    fn bad_values_are_refused_naming_them() {
        for (given, says) in [
            ("hash:0/3", "count from 1"),
            ("4/3", "expected count:K/N or hash:K/N"),
            ("x:1/2", "unknown kind \"x\""),
            ("count:4/3", "shard 4 is past the last one, 3"),
            ("hash:1/0", "1 or more"),
            ("hash:-1/3", "not a whole number"),
            ("hash:+1/3", "not a whole number"),
            ("hash:1/", "not a whole number"),
            ("hash:1/3/4", "not a whole number"),
            ("hash: 1/3", "not a whole number"),
            ("hash:1/99999999999", "too large"),
            ("", "expected count:K/N"),
        ] {
            let e = given.parse::<Partition>().expect_err(given);
            let text = e.to_string();
            assert!(text.starts_with(&format!("partition {given:?}: ")), "{text}");
            assert!(text.contains(says), "{given}: {text}");
        }
    }

    /// The hash is FNV-1a 64 as published (test vectors of the FNV authors).
    #[test]
    fn the_hash_is_fnv1a_64() {
        assert_eq!(name_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(name_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("scenario number {i}")).collect()
    }

    #[test]
    fn every_item_lands_in_exactly_one_shard() {
        for kind in ["count", "hash"] {
            for total in 1..=7u32 {
                for n in [0, 1, 5, 14, 40] {
                    let all = names(n);
                    let mut seen: Vec<String> = Vec::new();
                    for k in 1..=total {
                        let part = p(&format!("{kind}:{k}/{total}"));
                        seen.extend(part.select(all.clone(), |s| s.as_str()));
                    }
                    seen.sort();
                    let mut want = all.clone();
                    want.sort();
                    assert_eq!(seen, want, "{kind} over {total} shards, {n} items");
                }
            }
        }
    }

    #[test]
    fn count_deals_in_order() {
        let all = names(7);
        let first = p("count:1/3").select(all.clone(), |s| s.as_str());
        assert_eq!(first, [all[0].clone(), all[3].clone(), all[6].clone()]);
        let third = p("count:3/3").select(all.clone(), |s| s.as_str());
        assert_eq!(third, [all[2].clone(), all[5].clone()]);
        assert!(p("count:5/5").select(names(3), |s| s.as_str()).is_empty(), "a shard past the suite is empty");
    }

    /// Adding a scenario moves no other one under hash (it moves every later
    /// one under count).
    #[test]
    fn hash_shards_do_not_move_when_a_scenario_is_added() {
        let before = names(30);
        let mut after = before.clone();
        after.insert(4, "a brand new scenario".into());
        for k in 1..=4 {
            let part = p(&format!("hash:{k}/4"));
            let mut was = part.select(before.clone(), |s| s.as_str());
            let now: Vec<String> = part
                .select(after.clone(), |s| s.as_str())
                .into_iter()
                .filter(|s| s != "a brand new scenario")
                .collect();
            was.sort();
            let mut now = now;
            now.sort();
            assert_eq!(was, now, "shard {k}");
        }
        let moved = (1..=4)
            .map(|k| {
                let part = p(&format!("count:{k}/4"));
                let was = part.select(before.clone(), |s| s.as_str());
                let now = part.select(after.clone(), |s| s.as_str());
                was.iter().filter(|s| !now.contains(s)).count()
            })
            .sum::<usize>();
        assert!(moved > 10, "count moves later scenarios: {moved}");
    }
}
