//! `replharness list [PATHS] [--filter X] [--partition P] [--json]`: the
//! scenarios a run with the same arguments would take, in its order, so a
//! CI matrix can size itself (`replharness list --json | jq length`) and a
//! person can see what a shard holds. `--json` prints an array of
//! `{"name", "file", "family", "tags"}`; `family` is the scenario's family
//! tag (`ds`, `389`, `exchange`), or null when it carries none.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::ListArgs;
use crate::plan::Plan;
use crate::selection::{self, Selection};
use crate::suite::FAMILIES;

/// One entry of `list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub file: &'a str,
    pub family: Option<&'a str>,
    pub tags: &'a [String],
}

/// The family a scenario's tags name.
pub fn family(plan: &Plan) -> Option<&str> {
    plan.tags.iter().map(String::as_str).find(|t| FAMILIES.contains(t))
}

pub fn entries(s: &Selection) -> Vec<Entry<'_>> {
    s.plans.iter().map(|p| Entry { name: &p.name, file: &p.file, family: family(p), tags: &p.tags }).collect()
}

/// The JSON array.
pub fn json(s: &Selection) -> String {
    // Strings only: serializing cannot fail.
    serde_json::to_string_pretty(&entries(s)).unwrap_or_default()
}

/// The human table: a count line, then one row per scenario.
pub fn table(s: &Selection) -> String {
    let rows = entries(s);
    let wn = rows.iter().map(|e| e.name.chars().count()).max().unwrap_or(0).max(4);
    let wf = rows.iter().map(|e| e.file.chars().count()).max().unwrap_or(0).max(4);
    let mut out = format!("{}\n", s.describe());
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{:wn$}  {:wf$}  family  tags", "name", "file");
    for e in rows {
        let _ = writeln!(out, "{:wn$}  {:wf$}  {:6}  {}", e.name, e.file, e.family.unwrap_or("-"), e.tags.join(", "));
    }
    out
}

/// Runs `list`.
pub fn run(args: &ListArgs) -> anyhow::Result<()> {
    let s = selection::select(&args.paths, &args.filter, args.partition)?;
    if args.json {
        crate::out::line(&json(&s))?;
    } else {
        crate::out::print(&table(&s))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_lists_with_families_in_the_runs_order() {
        let s = selection::select(&[], &[], None).expect("library");
        let v: serde_json::Value = serde_json::from_str(&json(&s)).expect("json");
        let arr = v.as_array().expect("an array");
        assert_eq!(arr.len(), s.plans.len());
        assert_eq!(arr[0]["name"], "healthy mesh");
        assert_eq!(arr[0]["file"], "library/healthy-mesh.toml");
        assert_eq!(arr[0]["family"], "ds");
        assert_eq!(arr[0]["tags"], serde_json::json!(["ds", "healthy"]));
        for e in arr {
            let keys: Vec<&String> = e.as_object().expect("object").keys().collect();
            assert_eq!(keys, ["family", "file", "name", "tags"], "exactly these keys");
        }
        let text = json(&s);
        let at = |k: &str| text.find(&format!("\"{k}\":")).expect(k);
        assert!(at("name") < at("file") && at("file") < at("family") && at("family") < at("tags"), "{text}");
        // docs/ci-matrix.md shows the first entry.
        let md = include_str!("../../docs/ci-matrix.md");
        let start = md.find("```json\n[{\"name\"").expect("the example") + "```json\n".len();
        let shown: serde_json::Value =
            serde_json::from_str(&md[start..start + md[start..].find("```").expect("end")]).expect("JSON");
        assert_eq!(shown[0], arr[0]);
        let t = table(&s);
        assert!(t.starts_with(&format!("{} scenarios\nname ", s.plans.len())), "{t}");
        assert!(t.contains("library/tls-expired-certificate.toml"), "{t}");
    }

    #[test]
    fn a_shard_lists_its_part_and_an_empty_one_lists_nothing() {
        let part = "count:2/3".parse().ok();
        let s = selection::select(&[], &["tls".into()], part).expect("shard");
        assert_eq!(s.plans.len(), 1, "4 tls scenarios dealt over 3: the second shard takes the second");
        assert!(table(&s).starts_with("1 of 4 scenarios, shard count:2/3\n"), "{}", table(&s));
        let empty = selection::select(&[], &["tls".into()], "count:7/9".parse().ok()).expect("shard");
        assert_eq!(json(&empty), "[]");
        assert_eq!(table(&empty), "0 of 4 scenarios, shard count:7/9\n");
    }
}
