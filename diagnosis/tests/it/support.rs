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

/// A case folder written from (path, content) pairs.
pub fn case(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    dir
}

pub fn run_dir(dir: &std::path::Path) -> Report {
    diagnosis::diagnose(dir, &Options::default()).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// The one guidance step that states every fact (a host, a port, a word).
pub fn step_with<'a>(v: &'a Verdict, facts: &[&str]) -> &'a str {
    let hits: Vec<&String> = v.guidance.iter().filter(|g| facts.iter().all(|f| g.contains(f))).collect();
    assert_eq!(hits.len(), 1, "one step of {} with {facts:?}, got {}:\n{:#?}", v.id, hits.len(), v.guidance);
    hits[0]
}

/// The flags of `command` in the one step that runs it.
pub fn command<'a>(v: &'a Verdict, command: &str) -> Vec<(&'a str, &'a str)> {
    let step = step_with(v, &[command]);
    diagnosis::guidance::command_flags(step, command).expect("the step runs it")
}

/// A flag's value (`""` for a flag without one); panics naming it when absent.
pub fn flag<'a>(flags: &[(&str, &'a str)], name: &str) -> &'a str {
    flags.iter().find(|(f, _)| *f == name).map(|(_, v)| *v).unwrap_or_else(|| panic!("no {name} in {flags:?}"))
}
