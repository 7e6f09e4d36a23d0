//! A 389 server's `errors` log, written as 389-DS writes it: the title block
//! each time the log is opened (every start), then one line per message,
//! `[22/Nov/2026:03:02:51.563286875 +0000] - WARN - NSMMReplicationPlugin - …`,
//! stamped on the virtual clock in the server's zone with nanoseconds
//! (`nsslapd-logging-hr-timestamps-enabled`, on by default).
//!
//! Before 3.1.0 the zone's minute field prints the seconds left over after
//! the hours (`tz % 3600`): whole-hour zones come out right, +05:30 prints
//! `+051800`, as the real servers do.

use std::fmt::Display;
use std::ops::Deref;

use time::{OffsetDateTime, UtcOffset};

use super::catalog::LogMsg;
use super::version::Version389;
use crate::clock::VirtualClock;
use crate::logbook::{Entry, LogStore};

/// The 389 server's log files in the case folder.
pub const FILES: &[&str] = &["errors"];

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `[22/Nov/2026:03:02:51.563286875 +0000]` (with the brackets).
pub fn stamp(at: OffsetDateTime, minutes_bug: bool) -> String {
    let secs = at.offset().whole_seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let tail = if minutes_bug { abs % 3600 } else { (abs % 3600) / 60 };
    format!(
        "[{:02}/{}/{}:{:02}:{:02}:{:02}.{:09} {sign}{:02}{:02}]",
        at.day(),
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.year(),
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond(),
        abs / 3600,
        tail
    )
}

/// The errors log of one 389 server.
#[derive(Debug)]
pub struct ErrorsLog {
    store: LogStore,
    version: Version389,
}

impl Deref for ErrorsLog {
    type Target = LogStore;

    fn deref(&self) -> &LogStore {
        &self.store
    }
}

impl ErrorsLog {
    pub fn new(version: Version389, clock: VirtualClock, offset: UtcOffset) -> Self {
        Self { store: LogStore::new(clock, offset, FILES), version }
    }

    pub fn version(&self) -> &Version389 {
        &self.version
    }

    /// The message as this version names its function.
    fn shaped(&self, msg: &LogMsg) -> LogMsg {
        if self.version.multisupplier_names() {
            *msg
        } else {
            LogMsg { func: super::catalog::multimaster_name(msg.func), ..*msg }
        }
    }

    /// Writes one message; returns the line.
    pub fn emit(&self, msg: &LogMsg, args: &[&dyn Display]) -> String {
        let bug = self.version.offset_minutes_bug();
        let rest = self.shaped(msg).render(self.version.log_severities(), args);
        let entry = Entry { ordinal: 0, key: msg.key, args, files: FILES };
        self.store.append(entry, |at| format!("{} {rest}", stamp(at, bug)))
    }

    /// Writes `first`, and `then` glued onto the same line, as a message
    /// without its trailing newline makes the real server write them.
    pub fn emit_glued(&self, first: &LogMsg, first_args: &[&dyn Display], then: &LogMsg, then_args: &[&dyn Display]) {
        let bug = self.version.offset_minutes_bug();
        let sev = self.version.log_severities();
        let a = self.shaped(first).render(sev, first_args);
        let b = self.shaped(then).render(sev, then_args);
        let entry = Entry { ordinal: 0, key: first.key, args: first_args, files: FILES };
        self.store.append(entry, |at| {
            let s = stamp(at, bug);
            format!("{s} {a}{s} {b}")
        });
        let entry = Entry { ordinal: 0, key: then.key, args: then_args, files: &[] };
        self.store.append(entry, |_| String::new());
    }

    /// The title block written when the log is opened: product and build,
    /// then `HOST:PORT (CONFIG DIR)`, then an empty line.
    pub fn title(&self, host: &str, port: u16, instance: &str) {
        let line = format!(
            "\t{} {}\n\t{host}:{port} (/etc/dirsrv/{instance})\n",
            self.version.product(),
            self.version.build()
        );
        let entry = Entry { ordinal: 0, key: "TITLE", args: &[], files: FILES };
        self.store.append(entry, |_| line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ds389::catalog;

    #[test]
    fn stamps_have_nanoseconds_and_the_2_3_1_offset() {
        let at = time::macros::datetime!(2026-11-22 03:02:51.563286875 UTC);
        assert_eq!(stamp(at, true), "[22/Nov/2026:03:02:51.563286875 +0000]");
        let ist = at.to_offset(time::macros::offset!(+5:30));
        assert_eq!(stamp(ist, true), "[22/Nov/2026:08:32:51.563286875 +051800]");
        assert_eq!(stamp(ist, false), "[22/Nov/2026:08:32:51.563286875 +0530]");
        let ny = at.to_offset(time::macros::offset!(-5));
        assert_eq!(stamp(ny, true), "[21/Nov/2026:22:02:51.563286875 -0500]");
    }

    #[test]
    fn the_log_opens_with_its_title_and_writes_each_shape() {
        let clock = VirtualClock::new(time::macros::datetime!(2026-11-22 03:00:00 UTC), 1.0);
        let log = ErrorsLog::new(Version389::default(), clock.clone(), UtcOffset::UTC);
        log.title("localhost", 3891, "slapd-a");
        log.emit(&catalog::SLAPD_STARTED, &[&"All Interfaces", &3891]);
        let text = log.text("errors");
        assert!(
            text.starts_with(
                "\t389-Directory/2.3.1 B2025.016.1616\n\tlocalhost:3891 (/etc/dirsrv/slapd-a)\n\n[22/Nov/2026:03:00:0"
            ),
            "{text}"
        );
        assert!(text.ends_with(" +0000] - INFO - slapd_daemon - slapd started.  Listening on All Interfaces port 3891 for LDAP requests\n"), "{text}");
        let old = ErrorsLog::new(Version389::parse("1.3.5.10").expect("v"), clock, UtcOffset::UTC);
        old.emit(&catalog::INC_FATAL, &[&"agmt=\"cn=a-to-b\" (b:389)"]);
        assert!(old
            .text("errors")
            .contains("] NSMMReplicationPlugin - agmt=\"cn=a-to-b\" (b:389): Incremental update failed"));
    }
}
