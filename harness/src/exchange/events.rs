//! A bridgehead's directory-service event log, `events.log`, as the Windows
//! NT Event Viewer saves it as tab-delimited text: Date, Time, Source, Type,
//! Category, Event, User, Computer, Description, one record a line
//! (`spec/cli.md`). Every record is what the `Replication` category writes
//! at diagnostic logging "Maximum" for the flow of seed 002:
//!
//! | where | per | event ids |
//! |---|---|---|
//! | requester | request (each context of each inbound site, and each follow-up) | 1068, 1100, 1058 |
//! | responder | request received | 1099, 1070, 1071, 1101 |
//! | requester | reply received | 1099 |
//!
//! The descriptions are the ones `spec/cli.md` gives (the real ones are long
//! and localized; analyzers key on the id, the computer, and the partner and
//! naming context in the text).

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};

use time::format_description::FormatItem;
use time::{OffsetDateTime, UtcOffset};

use super::config::Logging;
use crate::clock::VirtualClock;
use crate::logbook::{Entry, Keyed, LogStore};

/// The file of a bridgehead's case folder.
pub const FILE: &str = "events.log";
const FILES: &[&str] = &[FILE];

/// One event of the catalog: its id and a key telling the two 1099s apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDef {
    pub id: u32,
    pub key: &'static str,
}

impl Keyed for EventDef {
    fn key(&self) -> &'static str {
        self.key
    }
}

/// 1068 on the requester: `Ask for updates for naming context NC from BH-PARTNER (options 4041).`
pub const ASK: EventDef = EventDef { id: 1068, key: "ASK_FOR_UPDATES" };
/// 1100 on the requester: `-> Message submitted to BH-PARTNER requesting updates for NC.`
pub const SUBMITTED: EventDef = EventDef { id: 1100, key: "REQUEST_SUBMITTED" };
/// 1058 on the requester: `Completed successfully: updates for NC from BH-PARTNER applied.`
pub const COMPLETED: EventDef = EventDef { id: 1058, key: "COMPLETED" };
/// 1099 on the responder: `<- Message received from requesting directory BH-REQUESTER for NC.`
pub const REQUEST_RECEIVED: EventDef = EventDef { id: 1099, key: "REQUEST_RECEIVED" };
/// 1070 on the responder: `The context to get is NC, from starting USN N.`
pub const CONTEXT: EventDef = EventDef { id: 1070, key: "CONTEXT_TO_GET" };
/// 1071 on the responder: `Retrieved N objects, entries up to USN N.` (+ ` More objects remain.`)
pub const RETRIEVED: EventDef = EventDef { id: 1071, key: "OBJECTS_RETRIEVED" };
/// 1101 on the responder: `-> Message submitted back to the requesting connector BH-REQUESTER.`
pub const ANSWERED: EventDef = EventDef { id: 1101, key: "REPLY_SUBMITTED" };
/// 1099 on the requester: `<- Message received back from the remote directory BH-PARTNER for NC.`
pub const REPLY_RECEIVED: EventDef = EventDef { id: 1099, key: "REPLY_RECEIVED" };

/// Every event the mock writes.
pub const CATALOG: &[EventDef] =
    &[ASK, SUBMITTED, COMPLETED, REQUEST_RECEIVED, CONTEXT, RETRIEVED, ANSWERED, REPLY_RECEIVED];

/// The text of an event's description; `args` as [`EventLog`]'s methods pass them.
pub fn describe(def: &EventDef, args: &[&str]) -> String {
    let a = |i: usize| args.get(i).copied().unwrap_or("");
    match def.key {
        "ASK_FOR_UPDATES" => format!("Ask for updates for naming context {} from {} (options 4041).", a(0), a(1)),
        "REQUEST_SUBMITTED" => format!("-> Message submitted to {} requesting updates for {}.", a(0), a(1)),
        "COMPLETED" => format!("Completed successfully: updates for {} from {} applied.", a(0), a(1)),
        "REQUEST_RECEIVED" => format!("<- Message received from requesting directory {} for {}.", a(0), a(1)),
        "CONTEXT_TO_GET" => format!("The context to get is {}, from starting USN {}.", a(0), a(1)),
        "OBJECTS_RETRIEVED" => {
            let more = if a(2) == "more" { " More objects remain." } else { "" };
            format!("Retrieved {} objects, entries up to USN {}.{more}", a(0), a(1))
        }
        "REPLY_SUBMITTED" => format!("-> Message submitted back to the requesting connector {}.", a(0)),
        "REPLY_RECEIVED" => format!("<- Message received back from the remote directory {} for {}.", a(0), a(1)),
        other => format!("event {other}"),
    }
}

const DATE: &[FormatItem<'static>] = time::macros::format_description!("[month]/[day]/[year]");
const TIME: &[FormatItem<'static>] = time::macros::format_description!("[hour]:[minute]:[second]");

/// One record as Event Viewer's tab-delimited text writes it.
pub fn render(at: OffsetDateTime, computer: &str, def: &EventDef, description: &str) -> String {
    let date = at.format(DATE).unwrap_or_default();
    let time = at.format(TIME).unwrap_or_default();
    format!("{date}\t{time}\tMSExchangeDS\tInformation\tReplication\t{}\tN/A\t{computer}\t{description}", def.id)
}

/// A bridgehead's event log: a [`LogStore`] of `events.log`.
#[derive(Debug)]
pub struct EventLog {
    store: LogStore,
    computer: String,
    /// Diagnostic logging at Maximum (else nothing is written).
    maximum: AtomicBool,
}

impl Deref for EventLog {
    type Target = LogStore;

    fn deref(&self) -> &LogStore {
        &self.store
    }
}

impl EventLog {
    /// The log of the bridgehead `computer`, stamped in its zone.
    pub fn new(computer: &str, clock: VirtualClock, offset: UtcOffset) -> Self {
        Self {
            store: LogStore::new(clock, offset, FILES),
            computer: computer.to_owned(),
            maximum: AtomicBool::new(true),
        }
    }

    /// Sets the diagnostic logging level (Maximum when made).
    pub fn set_logging(&self, level: Logging) {
        self.maximum.store(level == Logging::Maximum, Ordering::SeqCst);
    }

    fn emit(&self, def: &EventDef, args: &[&str]) {
        if !self.maximum.load(Ordering::Relaxed) {
            return;
        }
        let shown: Vec<&dyn std::fmt::Display> = args.iter().map(|a| a as &dyn std::fmt::Display).collect();
        let description = describe(def, args);
        let entry = Entry { ordinal: def.id, key: def.key, args: &shown, files: FILES };
        self.store.append(entry, |at| render(at, &self.computer, def, &description));
    }

    /// The log of a bridgehead whose zone is UTC.
    pub fn utc(computer: &str, clock: VirtualClock) -> Self {
        Self::new(computer, clock, UtcOffset::UTC)
    }

    /// 1068: the requester asks `partner` for updates of `nc`.
    pub fn asking(&self, nc: &str, partner: &str) {
        self.emit(&ASK, &[nc, partner]);
    }

    /// 1100, 1058: the request is handed to the messaging system.
    pub fn submitted(&self, partner: &str, nc: &str) {
        self.emit(&SUBMITTED, &[partner, nc]);
        self.emit(&COMPLETED, &[nc, partner]);
    }

    /// 1099, 1070: the responder takes a request from its queue.
    pub fn request_received(&self, requester: &str, nc: &str, from_usn: u64) {
        self.emit(&REQUEST_RECEIVED, &[requester, nc]);
        self.emit(&CONTEXT, &[nc, &from_usn.to_string()]);
    }

    /// 1071, 1101: the responder retrieved the objects and submitted its reply.
    pub fn reply_sent(&self, requester: &str, objects: usize, up_to_usn: u64, more: bool) {
        let more = if more { "more" } else { "" };
        self.emit(&RETRIEVED, &[&objects.to_string(), &up_to_usn.to_string(), more]);
        self.emit(&ANSWERED, &[requester]);
    }

    /// 1099: the requester takes a reply from its queue.
    pub fn reply_received(&self, partner: &str, nc: &str) {
        self.emit(&REPLY_RECEIVED, &[partner, nc]);
    }

    /// The file's text, one record a line.
    pub fn text(&self) -> String {
        self.store.text(FILE)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NC: &str = "/o=Contoso/ou=PARIS/cn=Configuration";

    #[test]
    fn records_are_tab_delimited_with_the_specs_descriptions() {
        let clock = VirtualClock::new(datetime!(2026-11-22 03:00:00 UTC), 1.0);
        let log = EventLog::new("BH-LONDON", clock, UtcOffset::UTC);
        log.asking(NC, "BH-PARIS");
        log.submitted("BH-PARIS", NC);
        log.request_received("BH-PARIS", NC, 4711);
        log.reply_sent("BH-PARIS", 512, 5223, true);
        log.reply_received("BH-PARIS", NC);
        let lines: Vec<String> = log.text().lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 8);
        let f: Vec<&str> = lines[0].split('\t').collect();
        assert_eq!(
            &f[..8],
            ["11/22/2026", "03:00:00", "MSExchangeDS", "Information", "Replication", "1068", "N/A", "BH-LONDON"]
        );
        let texts: Vec<&str> = lines.iter().map(|l| l.rsplit('\t').next().unwrap_or_default()).collect();
        assert_eq!(
            texts,
            [
                "Ask for updates for naming context /o=Contoso/ou=PARIS/cn=Configuration from BH-PARIS (options 4041).",
                "-> Message submitted to BH-PARIS requesting updates for /o=Contoso/ou=PARIS/cn=Configuration.",
                "Completed successfully: updates for /o=Contoso/ou=PARIS/cn=Configuration from BH-PARIS applied.",
                "<- Message received from requesting directory BH-PARIS for /o=Contoso/ou=PARIS/cn=Configuration.",
                "The context to get is /o=Contoso/ou=PARIS/cn=Configuration, from starting USN 4711.",
                "Retrieved 512 objects, entries up to USN 5223. More objects remain.",
                "-> Message submitted back to the requesting connector BH-PARIS.",
                "<- Message received back from the remote directory BH-PARIS for /o=Contoso/ou=PARIS/cn=Configuration.",
            ]
        );
        let ids: Vec<u32> = log.records().iter().map(|r| r.ordinal).collect();
        assert_eq!(ids, [1068, 1100, 1058, 1099, 1070, 1071, 1101, 1099]);
        assert!(log.records()[7].is(&REPLY_RECEIVED, &["BH-PARIS"]));
        assert!(!log.records()[3].is(&REPLY_RECEIVED, &["*"]), "the two 1099s are told apart by key");
    }

    #[test]
    fn at_logging_none_nothing_is_written() {
        let log = EventLog::utc("BH-LONDON", VirtualClock::starting_now(1.0));
        log.set_logging(Logging::None);
        log.asking(NC, "BH-PARIS");
        assert_eq!(log.text(), "");
        log.set_logging(Logging::Maximum);
        log.asking(NC, "BH-PARIS");
        assert_eq!(log.text().lines().count(), 1);
    }

    #[test]
    fn a_reply_that_is_not_full_says_nothing_of_more() {
        assert_eq!(describe(&RETRIEVED, &["12", "4723", ""]), "Retrieved 12 objects, entries up to USN 4723.");
    }
}
