//! A server's `errors` and `replication` logs, written as the product writes them.
//!
//! Every line is kept in memory (for the case folder and for waits on "a line
//! was logged") and, when a log directory is given, appended to
//! `DIR/errors` and `DIR/replication` as it happens, so a trainer can tail them.

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use time::format_description::FormatItem;
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::watch;

use crate::clock::VirtualClock;
use crate::ds::catalog::{Dialect, MsgDef};

const STAMP: &[FormatItem<'static>] = time::macros::format_description!(
    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// `[25/Aug/2017:10:27:23 +0000]` without the brackets.
pub fn format_stamp(at: OffsetDateTime) -> String {
    at.format(STAMP).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// One logged event, structured and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub at: OffsetDateTime,
    pub ordinal: u32,
    pub key: &'static str,
    pub args: Vec<String>,
    pub line: String,
    pub to_errors: bool,
    pub to_replication: bool,
}

impl LogRecord {
    /// True when the record is `def` with these leading arguments (`*` matches any).
    pub fn is(&self, def: &MsgDef, args: &[&str]) -> bool {
        self.key == def.key
            && self.args.len() >= args.len()
            && self.args.iter().zip(args).all(|(a, b)| *b == "*" || a == b)
    }
}

#[derive(Debug)]
struct Inner {
    records: Vec<LogRecord>,
    files: Option<(File, File)>,
}

/// The logs of one server.
#[derive(Debug)]
pub struct LogBook {
    dialect: Dialect,
    clock: VirtualClock,
    offset: UtcOffset,
    inner: Mutex<Inner>,
    changed: watch::Sender<usize>,
}

impl LogBook {
    pub fn new(dialect: Dialect, clock: VirtualClock, offset: UtcOffset) -> Self {
        Self {
            dialect,
            clock,
            offset,
            inner: Mutex::new(Inner { records: Vec::new(), files: None }),
            changed: watch::channel(0).0,
        }
    }

    /// Also appends every line to `dir/errors` and `dir/replication`.
    pub fn tee_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| OpenOptions::new().create(true).append(true).open(dir.join(name));
        let files = (open("errors")?, open("replication")?);
        self.lock().files = Some(files);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Writes `def` with `args`; a message the dialect lacks writes nothing.
    pub fn emit(&self, def: &MsgDef, args: &[&dyn Display]) {
        let Some(r) = def.render(self.dialect, args) else {
            tracing::debug!(key = def.key, "not in this version's catalog; nothing logged");
            return;
        };
        let mut inner = self.lock();
        // Stamped under the lock, so lines are in time order in both files.
        let at = self.clock.now().to_offset(self.offset);
        let line = format!(
            "[{}] category={} severity={} msgID={} msg={}",
            format_stamp(at),
            r.category,
            r.severity,
            r.msg_id,
            r.text
        );
        tracing::debug!(target: "harness::log", "{line}");
        if let Some((errors, replication)) = inner.files.as_mut() {
            let write = |f: &mut File| {
                if let Err(e) = writeln!(f, "{line}") {
                    tracing::warn!("cannot append to a live log file: {e}");
                }
            };
            if r.to_errors {
                write(errors);
            }
            if r.to_replication {
                write(replication);
            }
        }
        inner.records.push(LogRecord {
            at,
            ordinal: def.ordinal,
            key: def.key,
            args: args.iter().map(|a| a.to_string()).collect(),
            line,
            to_errors: r.to_errors,
            to_replication: r.to_replication,
        });
        let n = inner.records.len();
        drop(inner);
        self.changed.send_replace(n);
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<LogRecord> {
        self.lock().records.clone()
    }

    /// The `errors` file's lines.
    pub fn errors_lines(&self) -> Vec<String> {
        self.lock().records.iter().filter(|r| r.to_errors).map(|r| r.line.clone()).collect()
    }

    /// The `replication` file's lines.
    pub fn replication_lines(&self) -> Vec<String> {
        self.lock().records.iter().filter(|r| r.to_replication).map(|r| r.line.clone()).collect()
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
    use crate::ds::catalog;

    #[test]
    fn lines_have_the_product_format_and_zone() {
        let clock = VirtualClock::new(time::macros::datetime!(2017-08-25 14:27:23 UTC), 1.0);
        let log = LogBook::new(Dialect::Legacy, clock, time::macros::offset!(-4));
        log.emit(&catalog::RS_BADLY_DISCONNECTED, &[&1234, &5678, &"/127.0.0.2:8989", &"dc=example,dc=com"]);
        let lines = log.errors_lines();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("[25/Aug/2017:10:27:2"), "local time in the server's zone: {}", lines[0]);
        assert!(lines[0].contains(" -0400] category=SYNC severity=SEVERE_ERROR msgID=14942389 msg=The connection from"));
        assert!(log.replication_lines().is_empty(), "2.x SEVERE_ERROR is not in the replication log");
    }
}
