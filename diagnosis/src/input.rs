//! What the readers met in a case's files: lines they could not use, files
//! they could not open or that no reader takes, and how much of each file
//! they recognised. `diagnose --json` prints it as `input` (`spec/cli.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Per file, what could not be used; keys are paths inside the case folder.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReadStats {
    /// Lines with bytes that are not UTF-8 (read with replacement characters).
    #[serde(default)]
    pub non_utf8_lines: BTreeMap<String, u64>,
    /// Lines whose shape is not the file's format (truncated, foreign).
    #[serde(default)]
    pub unknown_lines: BTreeMap<String, u64>,
    /// Lines longer than [`crate::lines::MAX_LINE`] bytes: their first MiB
    /// was read, the rest skipped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub long_lines: BTreeMap<String, u64>,
    /// Files that could not be read at all, with the reason.
    #[serde(default)]
    pub unreadable: BTreeMap<String, String>,
    /// Files in the case that no reader takes (`servers/ds-1/access`, or a
    /// file of a family whose reader does not exist yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
    /// Every file read, with its line counts. Not printed: it feeds
    /// [`ReadStats::recognised_nothing`] and its message.
    #[serde(skip)]
    pub read: BTreeMap<String, FileRead>,
}

/// The count of `file`, allocating its key only the first time (these are
/// called per line).
fn counter<'m>(m: &'m mut BTreeMap<String, u64>, file: &str) -> &'m mut u64 {
    if !m.contains_key(file) {
        m.insert(file.to_owned(), 0);
    }
    m.get_mut(file).expect("inserted above")
}

fn file_read<'m>(m: &'m mut BTreeMap<String, FileRead>, file: &str) -> &'m mut FileRead {
    if !m.contains_key(file) {
        m.insert(file.to_owned(), FileRead::default());
    }
    m.get_mut(file).expect("inserted above")
}

/// How much of one file the readers used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileRead {
    pub lines: u64,
    /// Lines (or LDIF values, event records) a rule can use.
    pub recognised: u64,
}

impl ReadStats {
    /// Nothing unusable met (files merely read count as clean).
    pub fn is_clean(&self) -> bool {
        self.non_utf8_lines.is_empty()
            && self.unknown_lines.is_empty()
            && self.long_lines.is_empty()
            && self.unreadable.is_empty()
            && self.not_read.is_empty()
    }

    pub fn unknown(&mut self, file: &str) {
        *counter(&mut self.unknown_lines, file) += 1;
    }

    pub fn non_utf8(&mut self, file: &str) {
        *counter(&mut self.non_utf8_lines, file) += 1;
    }

    pub fn long_line(&mut self, file: &str) {
        *counter(&mut self.long_lines, file) += 1;
    }

    /// `n` more lines read from `file`.
    pub fn lines_read(&mut self, file: &str, n: u64) {
        file_read(&mut self.read, file).lines += n;
    }

    /// A line (value, record) of `file` that a rule can use.
    pub fn recognised(&mut self, file: &str) {
        file_read(&mut self.read, file).recognised += 1;
    }

    /// No file held anything a rule can use.
    pub fn recognised_nothing(&self) -> bool {
        self.read.values().all(|f| f.recognised == 0)
    }
}
