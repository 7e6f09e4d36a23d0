//! Expectations matched as `spec/cli.md` says: each expected verdict must be
//! present with its id, and cause and subject keys where given; its guidance
//! must contain each listed substring; `absent` ids must not appear; other
//! verdicts are allowed.

use std::collections::BTreeMap;

use diagnosis::Verdict;

use crate::plan::Expectation;

fn show(v: &Verdict) -> String {
    let subject: Vec<String> = v.subject.iter().map(|(k, x)| format!("{k}={x}")).collect();
    let cause = v.cause.as_deref().map(|c| format!(" cause={c}")).unwrap_or_default();
    format!("{} [{}]{cause}", v.id, subject.join(" "))
}

fn wanted(id: &str, cause: Option<&String>, subject: &BTreeMap<String, String>, guidance: &[String]) -> String {
    let mut s = id.to_owned();
    let subject: Vec<String> = subject.iter().map(|(k, x)| format!("{k}={x}")).collect();
    if !subject.is_empty() {
        s.push_str(&format!(" [{}]", subject.join(" ")));
    }
    if let Some(c) = cause {
        s.push_str(&format!(" cause={c}"));
    }
    if !guidance.is_empty() {
        s.push_str(&format!(" guidance ∋ {guidance:?}"));
    }
    s
}

/// Every unmet expectation, as "expected … / got …".
pub fn check(expect: &[Expectation], verdicts: &[Verdict]) -> Vec<String> {
    let got = || {
        if verdicts.is_empty() {
            "no verdict".to_owned()
        } else {
            verdicts.iter().map(show).collect::<Vec<_>>().join("; ")
        }
    };
    let mut failures = Vec::new();
    for e in expect {
        let (id, cause, subject, guidance) = match e {
            Expectation::Absent(id) => {
                if let Some(v) = verdicts.iter().find(|v| v.id == *id) {
                    failures.push(format!("expected no {id}\n      got:      {}", show(v)));
                }
                continue;
            }
            Expectation::Present { id, cause, subject, guidance } => (id, cause, subject, guidance),
        };
        let shape_ok = |v: &&Verdict| {
            v.id == *id
                && cause.as_ref().is_none_or(|c| v.cause.as_deref() == Some(c))
                && subject.iter().all(|(k, x)| v.subject.get(k) == Some(x))
        };
        let candidates: Vec<&Verdict> = verdicts.iter().filter(shape_ok).collect();
        let wanted = || wanted(id, cause.as_ref(), subject, guidance);
        let Some(first) = candidates.first() else {
            failures.push(format!("expected {}\n      got:      {}", wanted(), got()));
            continue;
        };
        let with_guidance =
            candidates.iter().any(|v| guidance.iter().all(|g| v.guidance.iter().any(|x| x.contains(g))));
        if !with_guidance {
            let missing: Vec<&String> =
                guidance.iter().filter(|g| !first.guidance.iter().any(|x| x.contains(*g))).collect();
            failures.push(format!(
                "expected {}\n      got:      {} whose guidance lacks {missing:?}:\n        {}",
                wanted(),
                show(first),
                first.guidance.join("\n        ")
            ));
        }
    }
    failures
}
