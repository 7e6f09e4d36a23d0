//! Shard reports read back and merged: whole reports merge into the run's;
//! cut, missing, doubled or foreign ones are errors that name them.

use super::*;
use crate::partition::Partition;
use crate::report::fixture::outcome;
use crate::report::json_lines;

/// The reports of `names` split over `total` shards of `kind`, as `run` writes them.
fn shard_texts(kind: &str, total: u32, names: &[&str], failing: &[&str]) -> Vec<(String, String)> {
    (1..=total)
        .map(|k| {
            let p: Partition = format!("{kind}:{k}/{total}").parse().expect("partition");
            let scenarios = names
                .iter()
                .enumerate()
                .filter(|(i, n)| p.takes(*i, n))
                .map(|(i, n)| {
                    let fails: &[&str] = if failing.contains(n) { &["expected x"] } else { &[] };
                    Scored { outcome: outcome(n, fails), index: i, shard: Some(p), proxy_api: None }
                })
                .collect();
            let r = RunReport {
                seed: 7,
                analyzer: None,
                seconds: 1.0,
                partition: Some(p),
                total: names.len(),
                proxy_api: None,
                shards: vec![],
                scenarios,
            };
            (format!("shard-{k}.jsonl"), json_lines(&r))
        })
        .collect()
}

fn parsed(texts: &[(String, String)]) -> Result<Vec<ShardReport>, Error> {
    texts.iter().map(|(f, t)| parse(f, t)).collect()
}

const NAMES: &[&str] = &["a", "b", "c", "d", "e", "f", "g"];

#[test]
fn shards_merge_into_the_whole_run_in_its_order() {
    for kind in ["count", "hash"] {
        let m = merge(parsed(&shard_texts(kind, 3, NAMES, &["e"])).expect("whole")).expect("merges");
        let names: Vec<&str> = m.report.scenarios.iter().map(|s| s.outcome.name.as_str()).collect();
        assert_eq!(names, NAMES, "{kind}: the run's order");
        assert_eq!((m.report.passed(), m.report.failed(), m.report.exit_code()), (6, 1, 1));
        assert_eq!(m.report.shards.len(), 3);
        assert_eq!(m.report.seconds, 3.0);
        assert!(m.notes.is_empty());
        // Each scenario keeps the shard that ran it.
        for s in &m.report.scenarios {
            let p = s.shard.expect("a shard");
            assert!(p.takes(s.index, &s.outcome.name));
        }
        let all_pass = merge(parsed(&shard_texts(kind, 3, NAMES, &[])).expect("whole")).expect("merges");
        assert_eq!(all_pass.report.exit_code(), 0);
    }
}

#[test]
fn an_empty_shard_merges() {
    let texts = shard_texts("count", 5, &["a", "b"], &[]);
    assert!(texts[4].1.contains(r#""scenarios":0"#), "{}", texts[4].1);
    let m = merge(parsed(&texts).expect("whole")).expect("merges");
    assert_eq!(m.report.scenarios.len(), 2);
}

fn problem(r: Result<impl std::fmt::Debug, Error>) -> String {
    let e = r.expect_err("an error");
    assert!(e.is_bad_input(), "{e}");
    e.to_string()
}

#[test]
fn a_report_cut_short_is_named_with_its_line() {
    let (file, text) = shard_texts("hash", 2, NAMES, &[]).remove(0);
    let lines: Vec<&str> = text.lines().collect();
    // Without the summary line.
    let cut = lines[..lines.len() - 1].join("\n");
    let e = problem(parse(&file, &cut));
    assert!(e.starts_with(&format!("{file}:{}: truncated: no summary record", lines.len() - 1)), "{e}");
    // In the middle of a line.
    let cut = &text[..text.len() - 20];
    let e = problem(parse(&file, cut));
    assert!(e.starts_with(&format!("{file}:{}: truncated: the last line is cut short", lines.len())), "{e}");
    // A scenario record lost from the middle.
    let mut holed = lines.clone();
    holed.remove(1);
    let e = problem(parse(&file, &holed.join("\n")));
    assert!(e.contains("incomplete") && e.starts_with(&format!("{file}: ")), "{e}");
    // Empty, or not a report at all.
    assert!(problem(parse("empty.jsonl", "")).starts_with("empty.jsonl: empty"));
    let e = problem(parse("other.jsonl", "{\"type\":\"summary\",\"data\":{\"passed\":0,\"failed\":0,\"seconds\":0}}"));
    assert!(e.contains("not a run record"), "{e}");
    let e = problem(parse("junk.jsonl", "hello\n{}\n"));
    assert!(e.starts_with("junk.jsonl:1: not a report record"), "{e}");
    // Two reports glued together.
    let e = problem(parse(&file, &format!("{text}{text}")));
    assert!(e.contains("after the summary"), "{e}");
}

#[test]
fn a_missing_file_is_named() {
    let e = problem(merge_files(&["/nonexistent/shard-2.jsonl"]));
    assert!(e.contains("/nonexistent/shard-2.jsonl"), "{e}");
}

#[test]
fn a_missing_or_doubled_shard_is_named() {
    let mut texts = shard_texts("hash", 3, NAMES, &[]);
    let second = texts.remove(1);
    let e = problem(merge(parsed(&texts).expect("whole")));
    assert!(e.contains("shard hash:2/3 missing"), "{e}");
    assert!(e.contains("hash:1/3 (shard-1.jsonl)") && e.contains("hash:3/3 (shard-3.jsonl)"), "{e}");
    texts.push(texts[0].clone());
    texts[2].0 = "again.jsonl".into();
    let e = problem(merge(parsed(&texts).expect("whole")));
    assert!(e.contains("shard-1.jsonl and again.jsonl are both shard hash:1/3"), "{e}");
    texts.pop();
    texts.push(second);
    assert!(merge(parsed(&texts).expect("whole")).is_ok());
}

#[test]
fn shards_of_other_runs_do_not_merge() {
    let mut texts = shard_texts("hash", 2, NAMES, &[]);
    texts[1] = shard_texts("count", 2, NAMES, &[]).remove(1);
    assert!(problem(merge(parsed(&texts).expect("whole"))).contains("different partitions"));
    let mut texts = shard_texts("hash", 2, NAMES, &[]);
    texts[1] = shard_texts("hash", 2, &NAMES[..5], &[]).remove(1);
    let e = problem(merge(parsed(&texts).expect("whole")));
    assert!(e.contains("the run takes 7 scenarios"), "{e}");
    let mut texts = shard_texts("hash", 2, NAMES, &[]);
    texts[1].1 = texts[1].1.replace(r#""analyzer":null"#, r#""analyzer":"python3 mine.py""#);
    let e = problem(merge(parsed(&texts).expect("whole")));
    assert!(e.contains("the built-in engine") && e.contains("\"python3 mine.py\""), "{e}");
}

#[test]
fn a_scenario_in_two_reports_is_refused_and_differing_seeds_are_noted() {
    let one = |names: &[&str]| {
        let r = RunReport {
            seed: 3,
            analyzer: None,
            seconds: 1.0,
            partition: None,
            total: names.len(),
            proxy_api: None,
            shards: vec![],
            scenarios: names
                .iter()
                .enumerate()
                .map(|(i, n)| Scored { outcome: outcome(n, &[]), index: i, shard: None, proxy_api: None })
                .collect(),
        };
        json_lines(&r)
    };
    let e = problem(merge(vec![
        parse("x.jsonl", &one(&["a", "b"])).expect("x"),
        parse("y.jsonl", &one(&["b"])).expect("y"),
    ]));
    assert!(e.contains("scenario \"b\" is in x.jsonl and in y.jsonl"), "{e}");
    let m = merge(vec![
        parse("x.jsonl", &one(&["a", "b"])).expect("x"),
        parse("y.jsonl", &one(&["c"]).replace(r#""seed":3,"analyzer""#, r#""seed":4,"analyzer""#)).expect("y"),
    ])
    .expect("whole runs merge");
    let names: Vec<&str> = m.report.scenarios.iter().map(|s| s.outcome.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    assert!(m.notes[0].contains("x.jsonl seed 3") && m.notes[0].contains("y.jsonl seed 4"), "{:?}", m.notes);
    let e = problem(merge(vec![
        parse("x.jsonl", &one(&["a"])).expect("x"),
        parse(&shard_texts("hash", 1, &["q"], &[])[0].0, &shard_texts("hash", 1, &["q"], &[])[0].1).expect("s"),
    ]));
    assert!(e.contains("x.jsonl is a whole run"), "{e}");
}

/// The merged report reads back as a report (it can be merged again, with
/// other whole runs).
#[test]
fn the_merged_report_is_itself_a_whole_report() {
    let m = merge(parsed(&shard_texts("hash", 3, NAMES, &["c"])).expect("whole")).expect("merges");
    let text = json_lines(&m.report);
    let back = parse("merged.jsonl", &text).expect("whole");
    assert_eq!(back.scenarios.len(), NAMES.len());
    assert_eq!(back.run.partition, None);
    assert_eq!(back.run.total_scenarios, Some(NAMES.len()));
    assert_eq!(back.run.shards.len(), 3);
    assert_eq!(back.scenarios[2].shard.map(|p| p.total), Some(3));
    assert!(text.contains(r#""shards":[{"partition":"hash:1/3","file":"shard-1.jsonl","seed":7"#), "{text}");
}

/// docs/ci-matrix.md: the shard report shown is whole and reads back.
#[test]
fn the_documented_shard_report_is_whole() {
    let md = include_str!("../../../../docs/ci-matrix.md");
    let start = md.find("```jsonl shard\n").expect("the example") + "```jsonl shard\n".len();
    let text = &md[start..start + md[start..].find("```").expect("its end")];
    let r = parse("docs/ci-matrix.md", text).expect("a whole report");
    assert_eq!(r.run.partition.map(|p| p.to_string()).as_deref(), Some("hash:2/3"));
    assert_eq!((r.run.total_scenarios, r.scenarios.len()), (Some(14), 1));
    assert_eq!(r.scenarios[0].index, Some(3));
    assert!(r.scenarios[0].shard.is_some_and(|p| p.takes(3, &r.scenarios[0].name)), "the name hashes to shard 2");
}
