//! The family interface: what every family folder (`ds/`, `389/`,
//! `exchange/`) offers the engine, and what the engine hands it.
//!
//! A family is a [`Family`] value: its name (the prefix of its verdict ids),
//! a test of whether the case holds any of its files, and its `diagnose`.
//! The engine calls `diagnose` only when `present` says yes, so a family
//! never emits a verdict for a case without its files. New readers and
//! rules of a family are files inside its folder, called from its
//! `diagnose`; a new family is a folder and one line in [`FAMILIES`].

use crate::case::Case;
use crate::input::ReadStats;
use crate::model::Verdict;
use crate::probes::Probe;
use crate::Options;

/// What every family reads from and reports into.
#[derive(Debug, Default)]
pub struct Input {
    /// Where a family counts what it could not use, and what it recognised
    /// (`ReadStats::recognised`: a healthy verdict needs evidence).
    pub stats: ReadStats,
    /// `probes.jsonl`, read once for every family.
    pub probes: Vec<Probe>,
}

/// One family of `spec/verdicts.md`.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// `ds`, `389`, `exchange`: every verdict it emits starts with `NAME.`.
    pub name: &'static str,
    /// Does the case hold any file this family reads?
    pub present: fn(&Case) -> bool,
    /// Its verdicts, healthy included, each with its evidence.
    pub diagnose: fn(&Case, &mut Input, &Options) -> Vec<Verdict>,
}

/// Every family, in the catalog's order.
pub static FAMILIES: &[Family] = &[crate::ds::FAMILY, crate::r389::FAMILY, crate::exchange::FAMILY];
