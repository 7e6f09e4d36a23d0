//! Which scenarios a run takes: files and folders given, or the bundled
//! library (embedded in the binary, so `replharness run` works from
//! anywhere), each read into its [`Plan`]; and `--filter`.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::plan::{self, Plan};

/// The bundled library, `scenarios/library/*.toml`.
pub const LIBRARY: &[(&str, &str)] = &[
    ("library/healthy-mesh.toml", include_str!("../library/healthy-mesh.toml")),
    ("library/firewall-drop.toml", include_str!("../library/firewall-drop.toml")),
    ("library/firewall-reject.toml", include_str!("../library/firewall-reject.toml")),
    ("library/remote-killed.toml", include_str!("../library/remote-killed.toml")),
    ("library/dns-unresolvable.toml", include_str!("../library/dns-unresolvable.toml")),
    ("library/dns-wrong-address.toml", include_str!("../library/dns-wrong-address.toml")),
    ("library/admin-port-blocked.toml", include_str!("../library/admin-port-blocked.toml")),
    ("library/connection-flapping.toml", include_str!("../library/connection-flapping.toml")),
    ("library/generation-id-restore.toml", include_str!("../library/generation-id-restore.toml")),
    ("library/ds-cannot-reach-local-rs.toml", include_str!("../library/ds-cannot-reach-local-rs.toml")),
    ("library/tls-untrusted-issuer.toml", include_str!("../library/tls-untrusted-issuer.toml")),
    ("library/tls-expired-certificate.toml", include_str!("../library/tls-expired-certificate.toml")),
    ("library/tls-name-mismatch.toml", include_str!("../library/tls-name-mismatch.toml")),
    ("library/tls-firewall-drop.toml", include_str!("../library/tls-firewall-drop.toml")),
    ("library/duplicate-server-id.toml", include_str!("../library/duplicate-server-id.toml")),
    ("library/generation-id-bad-status.toml", include_str!("../library/generation-id-bad-status.toml")),
    ("library/exchange-healthy.toml", include_str!("../library/exchange-healthy.toml")),
    ("library/exchange-overloaded.toml", include_str!("../library/exchange-overloaded.toml")),
    ("library/exchange-no-reply.toml", include_str!("../library/exchange-no-reply.toml")),
    ("library/exchange-paging-stalled.toml", include_str!("../library/exchange-paging-stalled.toml")),
    ("library/exchange-schedule-quadrupled.toml", include_str!("../library/exchange-schedule-quadrupled.toml")),
    // 389 (docs/389.md): one or more per 389.* verdict, and each recovery.
    ("library/389-acquire-failed.toml", include_str!("../library/389-acquire-failed.toml")),
    ("library/389-agreement-corrupted.toml", include_str!("../library/389-agreement-corrupted.toml")),
    ("library/389-agreement-disabled.toml", include_str!("../library/389-agreement-disabled.toml")),
    ("library/389-backoff.toml", include_str!("../library/389-backoff.toml")),
    ("library/389-bind-failed.toml", include_str!("../library/389-bind-failed.toml")),
    ("library/389-bind-fixed.toml", include_str!("../library/389-bind-fixed.toml")),
    ("library/389-changelog-error.toml", include_str!("../library/389-changelog-error.toml")),
    ("library/389-changelog-missing.toml", include_str!("../library/389-changelog-missing.toml")),
    ("library/389-changelog-purged.toml", include_str!("../library/389-changelog-purged.toml")),
    ("library/389-connection-error.toml", include_str!("../library/389-connection-error.toml")),
    ("library/389-consumer-not-initialized.toml", include_str!("../library/389-consumer-not-initialized.toml")),
    ("library/389-consumer-restarted.toml", include_str!("../library/389-consumer-restarted.toml")),
    ("library/389-csn-generator-error.toml", include_str!("../library/389-csn-generator-error.toml")),
    ("library/389-csn-unavailable.toml", include_str!("../library/389-csn-unavailable.toml")),
    ("library/389-decode-error.toml", include_str!("../library/389-decode-error.toml")),
    ("library/389-duplicate-replica-id.toml", include_str!("../library/389-duplicate-replica-id.toml")),
    ("library/389-firewall-drop.toml", include_str!("../library/389-firewall-drop.toml")),
    ("library/389-firewall-reject-lifted.toml", include_str!("../library/389-firewall-reject-lifted.toml")),
    ("library/389-firewall-drop-lifted.toml", include_str!("../library/389-firewall-drop-lifted.toml")),
    ("library/389-firewall-reject.toml", include_str!("../library/389-firewall-reject.toml")),
    ("library/389-generation-id-mismatch.toml", include_str!("../library/389-generation-id-mismatch.toml")),
    ("library/389-generation-reinit.toml", include_str!("../library/389-generation-reinit.toml")),
    ("library/389-healthy.toml", include_str!("../library/389-healthy.toml")),
    ("library/389-legacy-supplier.toml", include_str!("../library/389-legacy-supplier.toml")),
    ("library/389-no-replicated-area.toml", include_str!("../library/389-no-replicated-area.toml")),
    ("library/389-no-session-yet.toml", include_str!("../library/389-no-session-yet.toml")),
    ("library/389-permission-denied.toml", include_str!("../library/389-permission-denied.toml")),
    ("library/389-pre-1.3.6.toml", include_str!("../library/389-pre-1.3.6.toml")),
    ("library/389-protocol-stopped.toml", include_str!("../library/389-protocol-stopped.toml")),
    ("library/389-reinit-needed.toml", include_str!("../library/389-reinit-needed.toml")),
    ("library/389-remote-internal-error.toml", include_str!("../library/389-remote-internal-error.toml")),
    ("library/389-replica-busy.toml", include_str!("../library/389-replica-busy.toml")),
    ("library/389-replica-disabled.toml", include_str!("../library/389-replica-disabled.toml")),
    ("library/389-rights-restored.toml", include_str!("../library/389-rights-restored.toml")),
    ("library/389-send-failed.toml", include_str!("../library/389-send-failed.toml")),
    ("library/389-ssl-not-enabled.toml", include_str!("../library/389-ssl-not-enabled.toml")),
    ("library/389-stall-released.toml", include_str!("../library/389-stall-released.toml")),
    ("library/389-stalled.toml", include_str!("../library/389-stalled.toml")),
    ("library/389-time-skew.toml", include_str!("../library/389-time-skew.toml")),
    ("library/389-timeout.toml", include_str!("../library/389-timeout.toml")),
    ("library/389-transient-error.toml", include_str!("../library/389-transient-error.toml")),
    ("library/389-yielded.toml", include_str!("../library/389-yielded.toml")),
];

/// The families a bundled scenario's tags name (one each).
pub const FAMILIES: &[&str] = &["ds", "389", "exchange"];

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })
}

/// Loads the given files and folders (`*.toml` inside, sorted), or the library.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Plan>, Error> {
    if paths.is_empty() {
        return LIBRARY.iter().map(|(f, t)| plan::load(f, t)).collect();
    }
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Read { path: p.clone(), source })?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|source| Error::Read { path: p.clone(), source })?;
            let mut inside = Vec::new();
            for e in entries {
                let e = e.map_err(|source| Error::Read { path: p.clone(), source })?;
                if e.path().extension().is_some_and(|x| x == "toml") {
                    inside.push(e.path());
                }
            }
            inside.sort();
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    files.iter().map(|f| plan::load(&f.display().to_string(), &read(f)?)).collect()
}

/// The plans `--filter` keeps (all of them without a filter): a plan is kept
/// when any filter matches its name, its file name or one of its tags.
pub fn filter(plans: Vec<Plan>, filters: &[String]) -> Result<Vec<Plan>, Error> {
    if filters.is_empty() {
        return Ok(plans);
    }
    let kept: Vec<Plan> = plans.into_iter().filter(|p| filters.iter().any(|f| p.matches(f))).collect();
    if kept.is_empty() {
        let quoted: Vec<String> = filters.iter().map(|f| format!("{f:?}")).collect();
        return Err(Error::NoMatch(quoted.join(" or ")));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_lists_every_bundled_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("library")
            .map(|e| format!("library/{}", e.expect("entry").file_name().to_string_lossy()))
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = LIBRARY.iter().map(|(f, _)| (*f).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }

    /// Every bundled scenario names its family and what it shows.
    #[test]
    fn bundled_scenarios_carry_their_family_and_what_they_show() {
        for p in load(&[]).expect("the library is valid") {
            let families: Vec<&String> = p.tags.iter().filter(|t| FAMILIES.contains(&t.as_str())).collect();
            assert_eq!(families.len(), 1, "{}: one family tag in {:?}", p.file, p.tags);
            assert!(p.tags.len() >= 2, "{}: a tag for what it shows in {:?}", p.file, p.tags);
        }
    }

    /// docs/scenarios.md's table of the bundled suite names every scenario
    /// with its tags.
    #[test]
    fn the_docs_table_lists_every_bundled_scenario_with_its_tags() {
        let md = include_str!("../../docs/scenarios.md");
        let table = &md[md.find("| scenario | version | expects | cause | tags |").expect("the table")..];
        let rows: Vec<(String, String)> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                (cells[0].to_owned(), cells[4].replace('`', ""))
            })
            .collect();
        let plans = load(&[]).expect("library");
        assert_eq!(rows.len(), plans.len());
        for p in plans {
            let tags = p.tags.join(", ");
            assert!(rows.contains(&(p.name.clone(), tags.clone())), "{}: {tags} not in the docs table", p.name);
        }
    }

    #[test]
    fn filters_match_the_name_the_file_name_or_a_tag() {
        let all = load(&[]).expect("library");
        let names = |f: &[&str]| -> Vec<String> {
            let f: Vec<String> = f.iter().map(|s| (*s).to_owned()).collect();
            filter(all.clone(), &f).map(|ps| ps.into_iter().map(|p| p.name).collect()).unwrap_or_default()
        };
        assert_eq!(names(&["tls"]).len(), 4);
        assert_eq!(names(&["healthy mesh"]), ["healthy mesh"]);
        assert_eq!(names(&["remote-killed"]), ["remote server killed"], "file name");
        assert_eq!(names(&["flapping"]), ["a link reset again and again"], "tag");
        assert_eq!(names(&["dns"]).len(), 2);
        let ds = names(&["ds"]);
        assert!(!ds.is_empty() && ds.len() < all.len(), "the family tag: {ds:?}");
        assert!(all.iter().filter(|p| ds.contains(&p.name)).all(|p| p.tags.iter().any(|t| t == "ds")));
        assert_eq!(names(&["exchange"]).len(), 5, "the exchange family");
        assert_eq!(names(&["flapping", "healthy mesh"]).len(), 2, "any filter");
        assert!(matches!(filter(all.clone(), &["no such".into()]), Err(Error::NoMatch(_))));
        assert_eq!(filter(all.clone(), &[]).map(|p| p.len()).ok(), Some(all.len()));
    }
}
