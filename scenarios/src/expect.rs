//! Expectations matched as `spec/cli.md` says: each expected verdict must be
//! present with its id, and cause and subject keys where given; its guidance
//! must contain each listed substring; `absent` ids must not appear; other
//! verdicts are allowed.

use diagnosis::Verdict;

use crate::format::Expect;

fn show(v: &Verdict) -> String {
    let subject: Vec<String> = v.subject.iter().map(|(k, x)| format!("{k}={x}")).collect();
    let cause = v.cause.as_deref().map(|c| format!(" cause={c}")).unwrap_or_default();
    format!("{} [{}]{cause}", v.id, subject.join(" "))
}

fn wanted(e: &Expect, id: &str) -> String {
    let mut s = id.to_owned();
    let subject: Vec<String> = e.subject.iter().map(|(k, x)| format!("{k}={x}")).collect();
    if !subject.is_empty() {
        s.push_str(&format!(" [{}]", subject.join(" ")));
    }
    if let Some(c) = &e.cause {
        s.push_str(&format!(" cause={c}"));
    }
    if !e.guidance.is_empty() {
        s.push_str(&format!(" guidance ∋ {:?}", e.guidance));
    }
    s
}

/// Every unmet expectation, as "expected … / got …".
pub fn check(expect: &[Expect], verdicts: &[Verdict]) -> Vec<String> {
    let got = || {
        if verdicts.is_empty() {
            "no verdict".to_owned()
        } else {
            verdicts.iter().map(show).collect::<Vec<_>>().join("; ")
        }
    };
    let mut failures = Vec::new();
    for e in expect {
        if let Some(id) = &e.absent {
            let id = id.get_ref();
            if let Some(v) = verdicts.iter().find(|v| v.id == *id) {
                failures.push(format!("expected no {id}\n      got:      {}", show(v)));
            }
            continue;
        }
        let Some(id) = &e.id else { continue };
        let id = id.get_ref();
        let shape_ok = |v: &&Verdict| {
            v.id == *id
                && e.cause.as_ref().is_none_or(|c| v.cause.as_deref() == Some(c))
                && e.subject.iter().all(|(k, x)| v.subject.get(k) == Some(x))
        };
        let candidates: Vec<&Verdict> = verdicts.iter().filter(shape_ok).collect();
        if candidates.is_empty() {
            failures.push(format!("expected {}\n      got:      {}", wanted(e, id), got()));
            continue;
        }
        let with_guidance =
            candidates.iter().any(|v| e.guidance.iter().all(|g| v.guidance.iter().any(|x| x.contains(g))));
        if !with_guidance {
            let v = candidates[0];
            let missing: Vec<&String> =
                e.guidance.iter().filter(|g| !v.guidance.iter().any(|x| x.contains(*g))).collect();
            failures.push(format!(
                "expected {}\n      got:      {} whose guidance lacks {missing:?}:\n        {}",
                wanted(e, id),
                show(v),
                v.guidance.join("\n        ")
            ));
        }
    }
    failures
}
