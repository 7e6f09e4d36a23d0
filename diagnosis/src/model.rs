//! The verdict object of `spec/cli.md`: what `diagnose --json` prints and what
//! an external analyzer must print. Readers ignore keys they do not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::input::ReadStats;

/// How bad a verdict is; ordered from worst to best for sorting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Ok,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Ok => "ok",
        }
    }
}

/// A line (or value) that proves a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Path inside the case folder, `servers/ds-1/errors`.
    pub file: String,
    /// 1-based line number (the entry's first line for LDIF values).
    pub line: u64,
    /// The verbatim line or value.
    pub text: String,
}

/// One diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub id: String,
    pub severity: Severity,
    /// What it is about: `server`, `peer`, `domain` (ds); `server`, `agreement`,
    /// `consumer`, `suffix` (389); `server`, `site`, `peer` (exchange).
    #[serde(default)]
    pub subject: BTreeMap<String, String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub guidance: Vec<String>,
}

/// What `diagnose --json` prints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Report {
    pub verdicts: Vec<Verdict>,
    /// What the readers could not use, per file (`spec/cli.md`; external
    /// analyzers may omit it).
    #[serde(default, skip_serializing_if = "ReadStats::is_clean")]
    pub input: ReadStats,
}

impl Verdict {
    pub fn new(id: &str, severity: Severity) -> Self {
        Verdict {
            id: id.to_owned(),
            severity,
            subject: BTreeMap::new(),
            cause: None,
            evidence: Vec::new(),
            guidance: Vec::new(),
        }
    }

    pub fn with_subject(mut self, pairs: &[(&str, &str)]) -> Self {
        for (k, v) in pairs {
            self.subject.insert((*k).to_owned(), (*v).to_owned());
        }
        self
    }
}

impl Report {
    /// Orders verdicts by severity, then subject, then id.
    pub fn sort(&mut self) {
        self.verdicts.sort_by(|a, b| {
            a.severity.cmp(&b.severity).then_with(|| a.subject.cmp(&b.subject)).then_with(|| a.id.cmp(&b.id))
        });
    }

    /// No verdict, and no file of the case held anything the engine
    /// recognises: `replharness diagnose` exits 2 and lists the files
    /// ([`crate::report::nothing_recognised`]). Meaningful for the engine's
    /// own reports (a report read back from JSON has no read counts).
    pub fn recognised_nothing(&self) -> bool {
        self.verdicts.is_empty() && self.input.recognised_nothing()
    }
}
