//! A DS server's `errors` and `replication` logs, written as the product
//! writes them: `[25/Aug/2017:10:27:23 +0000] category=SYNC severity=…
//! msgID=… msg=…` in the dialect of the server's version, each line in the
//! file(s) the version's default configuration puts it (see [`super::catalog`]).

use std::fmt::Display;
use std::ops::Deref;

use time::format_description::FormatItem;
use time::{OffsetDateTime, UtcOffset};

use super::catalog::{Dialect, MsgDef};
use crate::clock::VirtualClock;
use crate::logbook::{Entry, Keyed, LogStore};

/// The DS log files, in case-folder order.
pub const FILES: &[&str] = &["errors", "replication"];

const STAMP: &[FormatItem<'static>] = time::macros::format_description!(
    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// `[25/Aug/2017:10:27:23 +0000]` without the brackets.
pub fn format_stamp(at: OffsetDateTime) -> String {
    at.format(STAMP).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

impl Keyed for MsgDef {
    fn key(&self) -> &'static str {
        self.key
    }
}

/// The logs of one DS server: a [`LogStore`] of [`FILES`] that renders catalog messages.
#[derive(Debug)]
pub struct LogBook {
    store: LogStore,
    dialect: Dialect,
}

impl Deref for LogBook {
    type Target = LogStore;

    fn deref(&self) -> &LogStore {
        &self.store
    }
}

fn files(to_errors: bool, to_replication: bool) -> &'static [&'static str] {
    match (to_errors, to_replication) {
        (true, true) => FILES,
        (true, false) => &FILES[..1],
        (false, true) => &FILES[1..],
        (false, false) => &[],
    }
}

impl LogBook {
    pub fn new(dialect: Dialect, clock: VirtualClock, offset: UtcOffset) -> Self {
        Self { store: LogStore::new(clock, offset, FILES), dialect }
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
        let entry = Entry { ordinal: def.ordinal, key: def.key, args, files: files(r.to_errors, r.to_replication) };
        self.store.append(entry, |at| {
            format!(
                "[{}] category={} severity={} msgID={} msg={}",
                format_stamp(at),
                r.category,
                r.severity,
                r.msg_id,
                r.text
            )
        });
    }

    /// The `errors` file's lines.
    pub fn errors_lines(&self) -> Vec<String> {
        self.store.lines(FILES[0])
    }

    /// The `replication` file's lines.
    pub fn replication_lines(&self) -> Vec<String> {
        self.store.lines(FILES[1])
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

    #[test]
    fn a_modern_sync_error_lands_in_both_files() {
        let clock = VirtualClock::new(time::macros::datetime!(2026-11-22 03:00:00 UTC), 1.0);
        let log = LogBook::new(Dialect::Modern, clock, UtcOffset::UTC);
        log.emit(&catalog::RS_BADLY_DISCONNECTED, &[&"ds-1", &"ds-2", &"/127.0.0.2:8989", &"dc=example,dc=com"]);
        assert_eq!(log.errors_lines(), log.replication_lines());
        assert_eq!(log.errors_lines().len(), 1);
        assert!(log.records()[0].is(&catalog::RS_BADLY_DISCONNECTED, &["ds-1", "*", "/127.0.0.2:8989"]));
    }
}
