//! `--junit`: JUnit XML through `quick-junit` (nextest's writer): one
//! `<testsuites>`, one `<testsuite name="scenarios">`, one `<testcase>` per
//! scenario; a failure carries its first line as the message and expected
//! vs got in full as the text.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::runner::Outcome;

/// The JUnit XML of a run.
pub fn junit(outcomes: &[Outcome], seconds: f64) -> String {
    let mut suite = TestSuite::new("scenarios");
    suite.set_time(Duration::from_secs_f64(seconds.max(0.0)));
    for o in outcomes {
        let status = if o.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = o.failures.first().and_then(|f| f.lines().next()).unwrap_or("failed");
            s.set_message(first);
            s.set_description(o.failures.join("\n"));
            s
        };
        let mut case = TestCase::new(o.name.as_str(), status);
        case.set_classname("replharness.scenarios");
        case.set_time(Duration::from_secs_f64(o.seconds.max(0.0)));
        case.extra.insert("file".into(), o.file.as_str().into());
        suite.add_test_case(case);
    }
    let mut report = Report::new("replharness");
    report.set_time(Duration::from_secs_f64(seconds.max(0.0)));
    report.add_test_suite(suite);
    // quick-junit only fails on a failing writer, and a String never fails.
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, failures: &[&str]) -> Outcome {
        Outcome {
            name: name.into(),
            file: "library/x.toml".into(),
            tags: vec![],
            seed: 1,
            passed: failures.is_empty(),
            failures: failures.iter().map(|f| (*f).to_owned()).collect(),
            verdicts: vec![],
            seconds: 0.5,
            case_dir: None,
        }
    }

    #[test]
    fn one_testcase_per_scenario_failures_with_expected_and_got() {
        let x = junit(
            &[outcome("ok & fine", &[]), outcome("broken <one>", &["expected a\n      got:      b\u{1b}[1m"])],
            1.0,
        );
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 2, "{x}");
        assert!(x.contains("name=\"ok &amp; fine\""), "{x}");
        assert!(x.contains("name=\"broken &lt;one&gt;\""), "{x}");
        assert!(x.contains("<failure message=\"expected a\">"), "{x}");
        assert!(x.contains("got:      b</failure>") || x.contains("got:      b\n"), "{x}");
        assert!(x.contains("file=\"library/x.toml\""), "{x}");
        assert!(x.contains("tests=\"2\"") && x.contains("failures=\"1\""), "{x}");
        assert!(!x.contains('\u{1b}'), "escape codes are stripped: {x}");
    }
}
