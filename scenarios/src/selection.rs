//! The scenarios a run takes, as `run` and `list` agree on them: the files
//! and folders given (or the bundled library), kept by `--filter`, checked
//! for names that two scenarios share (shards, reports and JUnit key on
//! names), then dealt to the `--partition` shard.

use std::path::PathBuf;

use crate::error::Error;
use crate::partition::Partition;
use crate::plan::Plan;
use crate::suite;

/// This run's scenarios.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The shard's scenarios, in the run's order.
    pub plans: Vec<Plan>,
    /// Each one's place (from 0) in the whole run, every shard together.
    pub indices: Vec<usize>,
    /// How many the whole run takes (every shard together).
    pub total: usize,
    pub partition: Option<Partition>,
}

impl Selection {
    /// `14 scenarios`, or `5 of 14 scenarios, shard hash:1/3`.
    pub fn describe(&self) -> String {
        match self.partition {
            None => format!("{} scenarios", self.plans.len()),
            Some(p) => format!("{} of {} scenarios, shard {p}", self.plans.len(), self.total),
        }
    }
}

/// Loads, filters, checks names, takes the shard.
pub fn select(paths: &[PathBuf], filters: &[String], partition: Option<Partition>) -> Result<Selection, Error> {
    let plans = suite::filter(suite::load(paths)?, filters)?;
    unique_names(&plans)?;
    let total = plans.len();
    let (indices, plans) =
        plans.into_iter().enumerate().filter(|(i, plan)| partition.is_none_or(|p| p.takes(*i, &plan.name))).unzip();
    Ok(Selection { plans, indices, total, partition })
}

/// Two scenarios of one run may not share a name.
pub fn unique_names(plans: &[Plan]) -> Result<(), Error> {
    let mut seen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for p in plans {
        if let Some(first) = seen.insert(&p.name, &p.file) {
            return Err(Error::DuplicateName { name: p.name.clone(), first: first.to_owned(), second: p.file.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_of_the_library_cover_it_once() {
        let all = select(&[], &[], None).expect("library");
        assert_eq!(all.total, all.plans.len());
        for total in [1u32, 2, 3, 5, 20] {
            for kind in ["count", "hash"] {
                let mut names: Vec<String> = (1..=total)
                    .flat_map(|k| {
                        let part = format!("{kind}:{k}/{total}").parse().expect("partition");
                        let s = select(&[], &[], Some(part)).expect("shard");
                        assert_eq!(s.total, all.plans.len());
                        s.plans.into_iter().map(|p| p.name)
                    })
                    .collect();
                names.sort();
                let mut want: Vec<String> = all.plans.iter().map(|p| p.name.clone()).collect();
                want.sort();
                assert_eq!(names, want, "{kind} over {total}");
            }
        }
    }

    #[test]
    fn the_same_name_twice_names_both_files() {
        let mut plans = select(&[], &["healthy mesh".into()], None).expect("one").plans;
        let mut twin = plans[0].clone();
        twin.file = "mine/copy.toml".into();
        plans.push(twin);
        let e = unique_names(&plans).expect_err("a duplicate");
        assert!(e.is_bad_input());
        let text = e.to_string();
        assert!(text.contains("\"healthy mesh\""), "{text}");
        assert!(text.contains("library/healthy-mesh.toml") && text.contains("mine/copy.toml"), "{text}");
    }
}
