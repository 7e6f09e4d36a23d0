//! A server's log files, family-neutral: every record kept in memory (for the
//! case folder and for waits on "a line was logged") and, when a log
//! directory is given, appended to `DIR/FILE` as it happens, so a trainer can
//! tail them.
//!
//! A family renders its own lines (DS: [`crate::ds::log::LogBook`], with the
//! product's dialects) and hands each to [`LogStore::append`] with the files it
//! lands in; the store stamps it under its lock, so every file is in time order.

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use time::{OffsetDateTime, UtcOffset};
use tokio::sync::watch;

use crate::clock::VirtualClock;

/// A message definition a record can be matched against (DS: `catalog::MsgDef`).
pub trait Keyed {
    /// The message's stable key (the DS property key, a 389 message name, an event id).
    fn key(&self) -> &'static str;
}

/// One logged event, structured and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub at: OffsetDateTime,
    /// The number the product prints for it (DS ordinal, Exchange event id).
    pub ordinal: u32,
    pub key: &'static str,
    pub args: Vec<String>,
    pub line: String,
    /// The files it was written to.
    pub files: &'static [&'static str],
}

impl LogRecord {
    /// True when the record is `def` with these leading arguments (`*` matches any).
    pub fn is(&self, def: &impl Keyed, args: &[&str]) -> bool {
        self.key == def.key()
            && self.args.len() >= args.len()
            && self.args.iter().zip(args).all(|(a, b)| *b == "*" || a == b)
    }

    /// True when the record was written to `file`.
    pub fn in_file(&self, file: &str) -> bool {
        self.files.contains(&file)
    }
}

/// What a family hands the store for one record; the line is rendered from
/// the stamp the store takes.
pub struct Entry<'a> {
    pub ordinal: u32,
    pub key: &'static str,
    pub args: &'a [&'a dyn Display],
    /// A subset of the store's files; empty writes nothing.
    pub files: &'static [&'static str],
}

impl std::fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self.args.iter().map(|a| a.to_string()).collect();
        f.debug_struct("Entry").field("key", &self.key).field("args", &args).field("files", &self.files).finish()
    }
}

#[derive(Debug)]
struct Inner {
    records: Vec<LogRecord>,
    /// Open live files, one per name of [`LogStore::files`], once teed.
    open: Vec<(&'static str, File)>,
}

/// The log files of one server.
#[derive(Debug)]
pub struct LogStore {
    clock: VirtualClock,
    offset: UtcOffset,
    files: &'static [&'static str],
    inner: Mutex<Inner>,
    changed: watch::Sender<usize>,
}

impl LogStore {
    /// A store for the named files, stamping in the server's zone.
    pub fn new(clock: VirtualClock, offset: UtcOffset, files: &'static [&'static str]) -> Self {
        Self {
            clock,
            offset,
            files,
            inner: Mutex::new(Inner { records: Vec::new(), open: Vec::new() }),
            changed: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The names of its files, in case-folder order.
    pub fn files(&self) -> &'static [&'static str] {
        self.files
    }

    /// Also appends every line to `dir/FILE`, for each of its files.
    pub fn tee_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut open = Vec::with_capacity(self.files.len());
        for name in self.files {
            open.push((*name, OpenOptions::new().create(true).append(true).open(dir.join(name))?));
        }
        self.lock().open = open;
        Ok(())
    }

    /// Stamps, renders and keeps one record; returns the line.
    pub fn append(&self, entry: Entry<'_>, render: impl FnOnce(OffsetDateTime) -> String) -> String {
        let mut inner = self.lock();
        // Stamped under the lock, so lines are in time order in every file.
        let at = self.clock.now().to_offset(self.offset);
        let line = render(at);
        tracing::debug!(target: "harness::log", "{line}");
        for (name, file) in inner.open.iter_mut() {
            if entry.files.contains(name) {
                if let Err(e) = writeln!(file, "{line}") {
                    tracing::warn!("cannot append to the live log file {name}: {e}");
                }
            }
        }
        inner.records.push(LogRecord {
            at,
            ordinal: entry.ordinal,
            key: entry.key,
            args: entry.args.iter().map(|a| a.to_string()).collect(),
            line: line.clone(),
            files: entry.files,
        });
        let n = inner.records.len();
        drop(inner);
        self.changed.send_replace(n);
        line
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<LogRecord> {
        self.lock().records.clone()
    }

    /// The lines of one file.
    pub fn lines(&self, file: &str) -> Vec<String> {
        self.lock().records.iter().filter(|r| r.in_file(file)).map(|r| r.line.clone()).collect()
    }

    /// One file's text as the server wrote it: a line each, newline-terminated.
    pub fn text(&self, file: &str) -> String {
        let mut out = String::new();
        for r in self.lock().records.iter().filter(|r| r.in_file(file)) {
            out.push_str(&r.line);
            out.push('\n');
        }
        out
    }

    /// How many records match.
    pub fn count(&self, pred: impl Fn(&LogRecord) -> bool) -> usize {
        self.lock().records.iter().filter(|r| pred(r)).count()
    }

    /// Waits until `pred` holds for the records, or `timeout` passes.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&[LogRecord]) -> bool) -> bool {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if pred(&self.lock().records) {
                return true;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return pred(&self.lock().records),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[&str] = &["errors", "agreements"];

    #[test]
    fn records_land_in_their_files_only_and_in_order() {
        let clock = VirtualClock::new(time::macros::datetime!(2026-11-22 03:00:00 UTC), 1.0);
        let store = LogStore::new(clock, UtcOffset::UTC, FILES);
        let dir = tempfile::tempdir().expect("dir");
        store.tee_to(dir.path()).expect("tee");
        store.append(Entry { ordinal: 1, key: "a", args: &[&"x"], files: &["errors"] }, |_| "one".into());
        store.append(Entry { ordinal: 2, key: "b", args: &[], files: FILES }, |at| format!("two {}", at.year()));
        assert_eq!(store.lines("errors"), ["one", "two 2026"]);
        assert_eq!(store.text("agreements"), "two 2026\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("errors")).expect("live"), "one\ntwo 2026\n");
        assert_eq!(store.records()[0].args, ["x"]);
        assert_eq!(store.text("nowhere"), "");
    }
}
