//! `--junit`: JUnit XML through `quick-junit` (nextest's writer): one
//! `<testsuites>`, one `<testsuite name="scenarios">`, one `<testcase>` per
//! scenario; a failure carries its first line as the message and expected
//! vs got in full as the text. A shard's run says which shard it was (a
//! `partition` property on the suite, a `shard` property on each case); a
//! merged report lists its shards on the suite and keeps each case's shard.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;

/// The JUnit XML of a run.
pub fn junit(r: &RunReport) -> String {
    let mut suite = TestSuite::new("scenarios");
    suite.set_time(Duration::from_secs_f64(r.seconds.max(0.0)));
    if let Some(p) = r.partition {
        suite.add_property(Property::new("partition", p.to_string()));
        suite.add_property(Property::new("total_scenarios", r.total.to_string()));
    }
    if !r.shards.is_empty() {
        let shards: Vec<String> = r
            .shards
            .iter()
            .map(|s| s.partition.map_or_else(|| s.file.clone(), |p| format!("{p} ({})", s.file)))
            .collect();
        suite.add_property(Property::new("shards", shards.join(", ")));
    }
    for s in &r.scenarios {
        let o = &s.outcome;
        let status = if o.passed {
            TestCaseStatus::success()
        } else {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = o.failures.first().and_then(|f| f.lines().next()).unwrap_or("failed");
            st.set_message(first);
            st.set_description(o.failures.join("\n"));
            st
        };
        let mut case = TestCase::new(o.name.as_str(), status);
        case.set_classname("replharness.scenarios");
        case.set_time(Duration::from_secs_f64(o.seconds.max(0.0)));
        case.extra.insert("file".into(), o.file.as_str().into());
        if let Some(p) = s.shard {
            case.add_property(Property::new("shard", p.to_string()));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("replharness");
    report.set_time(Duration::from_secs_f64(r.seconds.max(0.0)));
    report.add_test_suite(suite);
    // quick-junit only fails on a failing writer, and a String never fails.
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::outcome;
    use crate::report::Scored;

    fn run(scenarios: Vec<Scored>, partition: Option<crate::partition::Partition>) -> RunReport {
        RunReport {
            seed: 1,
            analyzer: None,
            seconds: 1.0,
            partition,
            total: 9,
            proxy_api: None,
            shards: vec![],
            scenarios,
        }
    }

    fn scored(o: crate::runner::Outcome, shard: Option<crate::partition::Partition>) -> Scored {
        Scored { outcome: o, index: 0, shard, proxy_api: None }
    }

    #[test]
    fn one_testcase_per_scenario_failures_with_expected_and_got() {
        let mut ok = outcome("ok & fine", &[]);
        ok.file = "library/x.toml".into();
        let x = junit(&run(
            vec![scored(ok, None), scored(outcome("broken <one>", &["expected a\n      got:      b\u{1b}[1m"]), None)],
            None,
        ));
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 2, "{x}");
        assert!(x.contains("name=\"ok &amp; fine\""), "{x}");
        assert!(x.contains("name=\"broken &lt;one&gt;\""), "{x}");
        assert!(x.contains("<failure message=\"expected a\">"), "{x}");
        assert!(x.contains("got:      b</failure>") || x.contains("got:      b\n"), "{x}");
        assert!(x.contains("file=\"library/x.toml\""), "{x}");
        assert!(x.contains("tests=\"2\"") && x.contains("failures=\"1\""), "{x}");
        assert!(!x.contains('\u{1b}'), "escape codes are stripped: {x}");
        assert!(!x.contains("<property"), "no shard, no property: {x}");
    }

    #[test]
    fn a_shard_says_which_it_is() {
        let p = "count:2/4".parse().ok();
        let x = junit(&run(vec![scored(outcome("a", &[]), p)], p));
        assert!(x.contains("<property name=\"partition\" value=\"count:2/4\"/>"), "{x}");
        assert!(x.contains("<property name=\"total_scenarios\" value=\"9\"/>"), "{x}");
        assert!(x.contains("<property name=\"shard\" value=\"count:2/4\"/>"), "{x}");
    }
}
