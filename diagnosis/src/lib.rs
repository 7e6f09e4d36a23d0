//! The reference analyzer: case folder in, verdicts out, per the verdict
//! catalog (`spec/verdicts.md`).
//!
//! It depends on no other workspace crate, opens no network connection and
//! reads case folders exactly as it would read files copied off real servers:
//! line by line, never a whole log at once.
//!
//! Code map. Shared by every family:
//! - [`model`]: the verdict object (`diagnose --json`), evidence.
//! - [`input`]: what the readers could not use, and what they recognised.
//! - [`catalog`]: every verdict id, its family, severity and meaning.
//! - [`case`]: the case folder and which family each server folder is.
//! - [`topology`]: the `topology.toml` file.
//! - [`lines`]: the streaming line reader (lines cut at 1 MiB).
//! - [`textmatch`]: message text against catalog templates.
//! - [`ldif`]: LDIF as `ldapsearch` prints it (folded lines, base64 values).
//! - [`probes`]: connectivity probes (`probes.jsonl`).
//! - [`guidance`]: how fix steps name servers; the connectivity test.
//! - [`family`]: the family interface and the list of families.
//! - [`report`]: the human report.
//! - [`error`]: what makes a case unreadable.
//!
//! Families, one folder each (see [`family`]):
//! - [`ds`]: ForgeRock DS / OpenDJ (`src/ds/`).
//! - [`r389`]: 389 Directory Server (`src/389/`).
//! - [`exchange`]: Exchange 5.5 (`src/exchange/`).

pub mod case;
pub mod catalog;
pub mod error;
pub mod family;
pub mod guidance;
pub mod input;
pub mod ldif;
pub mod lines;
pub mod model;
pub mod probes;
pub mod report;
pub mod textmatch;
pub mod topology;

pub mod ds;
pub mod exchange;
#[path = "389/mod.rs"]
pub mod r389;

use std::path::Path;

use time::OffsetDateTime;

pub use error::DiagnosisError;
pub use model::{Evidence, Report, Severity, Verdict};

/// Thresholds of every family.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub ds: ds::DsOptions,
    pub r389: r389::Options389,
}

/// Diagnoses a case folder. Each family present in the case (it holds that
/// family's files) gives its verdicts; [`Report::recognised_nothing`] tells
/// a case in which nothing was recognised.
pub fn diagnose(root: &Path, opts: &Options) -> Result<Report, DiagnosisError> {
    let mut input = family::Input::default();
    let case = case::Case::open(root, &mut input.stats)?;
    input.probes = probes::read(&case, &mut input.stats);
    let mut verdicts = Vec::new();
    for f in family::FAMILIES {
        if (f.present)(&case) {
            verdicts.extend((f.diagnose)(&case, &mut input, opts));
        }
    }
    let mut stats = input.stats;
    stats.not_read = case
        .files
        .iter()
        .filter(|f| !stats.read.contains_key(*f) && !stats.unreadable.contains_key(*f))
        .cloned()
        .collect();
    let mut report = Report { verdicts, input: stats };
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
