//! The reference analyzer: case folder in, verdicts out, per the verdict
//! catalog (`spec/verdicts.md`).
//!
//! It depends on no other workspace crate, opens no network connection and
//! reads case folders exactly as it would read files copied off real servers:
//! line by line, never a whole log at once.
//!
//! Code map:
//! - [`model`]: the verdict object (`diagnose --json`), evidence, read statistics.
//! - [`catalog`]: every verdict id, its family, severity and meaning.
//! - [`case`]: the case folder, `topology.toml`, the streaming line reader.
//! - [`textmatch`]: message text against catalog templates.
//! - [`dslog`]: DS `errors`/`replication` logs in every dialect.
//! - [`probes`]: connectivity probes (`probes.jsonl`).
//! - [`rules_ds`]: family `ds`.
//! - [`ldif`]: LDIF as `ldapsearch` prints it (folded lines, base64 values).
//! - [`status389`]: 389 agreement status strings → verdicts.
//! - [`rules_389`]: family `389`.
//! - [`rules_exchange`]: family `exchange` (event records, connector schedules).
//! - [`guidance`]: fix steps and commands filled from the case.
//! - [`report`]: the human report.
//! - [`error`]: what makes a case unreadable.

pub mod case;
pub mod catalog;
pub mod dslog;
pub mod error;
pub mod guidance;
pub mod ldif;
pub mod model;
pub mod probes;
pub mod report;
pub mod rules_389;
pub mod rules_ds;
pub mod rules_exchange;
pub mod status389;
pub mod textmatch;

use std::path::Path;

use time::OffsetDateTime;

pub use error::DiagnosisError;
pub use model::{Evidence, Report, Severity, Verdict};

/// Thresholds of every family.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub ds: rules_ds::DsOptions,
    pub r389: rules_389::Options389,
}

/// Diagnoses a case folder.
pub fn diagnose(root: &Path, opts: &Options) -> Result<Report, DiagnosisError> {
    let mut report = Report::default();
    let case = case::Case::open(root, &mut report.input)?;
    let probes = probes::read(&case, &mut report.input);
    let logs: Vec<dslog::ServerLog> =
        case.servers.iter().map(|s| dslog::read_server(&case, s, &mut report.input)).collect();
    let ds_case = logs.iter().any(|l| l.has_logs())
        || case.topology.as_ref().is_some_and(|t| t.servers.iter().any(|s| s.flavor.as_deref() == Some("ds")));
    if ds_case {
        report.verdicts.extend(rules_ds::diagnose(&case, &logs, &probes, &opts.ds));
    }
    report.verdicts.extend(rules_389::diagnose(&case, &mut report.input, &opts.r389));
    report.verdicts.extend(rules_exchange::diagnose(&case, &mut report.input));
    report.sort();
    Ok(report)
}

/// `2026-11-22 09:45:00 UTC`.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
