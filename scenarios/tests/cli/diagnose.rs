//! `replharness diagnose` and `verdicts`.

use crate::common::replharness;

/// `replharness diagnose --json` on every fixture of the diagnosis crate says
/// what the library says, and exits 0; an unreadable case exits 2 with its path.
#[test]
fn diagnose_prints_the_libraries_verdicts_for_every_fixture() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../diagnosis/tests/fixtures");
    let mut n = 0;
    for family in std::fs::read_dir(&root).expect("fixtures") {
        for case in std::fs::read_dir(family.expect("family").path()).expect("cases") {
            let case = case.expect("case").path();
            if !case.is_dir() {
                continue;
            }
            let arg = case.to_str().expect("utf-8");
            let out = replharness(&["diagnose", "--json", arg]);
            assert!(out.status.success(), "{arg}: {}", out.stderr);
            let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
            let want = serde_json::to_value(diagnosis::diagnose(&case, &diagnosis::Options::default()).expect("lib"))
                .expect("json");
            assert_eq!(got, want, "{arg}");
            let human = replharness(&["diagnose", arg]);
            let first = want["verdicts"][0]["id"].as_str().expect("a verdict");
            assert!(human.stdout.contains(first), "{arg}: human report lacks {first}");
            n += 1;
        }
    }
    assert!(n >= 50);
    let out = replharness(&["diagnose", "/no/such/case"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("cannot read case /no/such/case"), "{}", out.stderr);
    let out = replharness(&["verdicts", "--json"]);
    let cat: serde_json::Value = serde_json::from_str(&out.stdout).expect("catalog JSON");
    assert_eq!(cat.as_array().map(Vec::len), Some(diagnosis::catalog::CATALOG.len()));
}
