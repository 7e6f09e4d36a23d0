//! Running the engine on a fixture and asserting on its verdicts.

use std::path::PathBuf;

use diagnosis::{Options, Report, Verdict};

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

pub fn run(rel: &str) -> Report {
    diagnosis::diagnose(&fixture(rel), &Options::default()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn ids(r: &Report) -> Vec<&str> {
    r.verdicts.iter().map(|v| v.id.as_str()).collect()
}

/// The one verdict with this id and these subject values.
pub fn one<'a>(r: &'a Report, id: &str, subject: &[(&str, &str)]) -> &'a Verdict {
    let hits: Vec<&Verdict> = r
        .verdicts
        .iter()
        .filter(|v| v.id == id && subject.iter().all(|(k, val)| v.subject.get(*k).map(String::as_str) == Some(*val)))
        .collect();
    assert_eq!(hits.len(), 1, "expected one {id} {subject:?}, got:\n{}", diagnosis::report::human(r));
    hits[0]
}

pub fn guidance_has(v: &Verdict, needle: &str) {
    assert!(v.guidance.iter().any(|g| g.contains(needle)), "guidance of {} lacks {needle:?}:\n{:#?}", v.id, v.guidance);
}

pub fn guidance_lacks(v: &Verdict, needle: &str) {
    assert!(!v.guidance.iter().any(|g| g.contains(needle)), "guidance of {} has {needle:?}:\n{:#?}", v.id, v.guidance);
}
