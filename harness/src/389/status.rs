//! An agreement's computed status attributes, set as 389-DS's
//! `agmt_set_last_update_status(ra, ldaprc, replrc, message)` sets them
//! (`repl5_agmt.c`), in the shape of the server's version:
//!
//! - 1.3.5.14 on: `Error (N) …` (below); 1.4.1.4 on with the JSON twin.
//! - up to 1.3.5.13: `N …`, e.g. `-1 Unable to acquire replicaLDAP error: Can't contact LDAP server`.
//!
//! | case | value (2.3.1) | JSON state |
//! |---|---|---|
//! | replrc 13 (up to date) | unchanged | – |
//! | ldaprc ≠ 0 | `Error (L) MSG - LDAP error: TEXT (REPL NAME)` (name left out when unknown) | red |
//! | replrc 1 | `Error (1) Can't acquire busy replica (MSG)` | amber |
//! | replrc 18, 14 | `Error (N) Can't acquire replica (MSG)` | amber |
//! | replrc 9 | `Error (0) Replication session successful` | green |
//! | replrc 12 | `Error (12) Incremental update aborted: …` (two raw newlines) | red |
//! | other replrc | `Error (N) Replication error acquiring replica: MSG (NAME)` | red |
//! | 0, MSG | `Error (0) Replica acquired successfully: MSG` | green |
//! | 0, none | reset: the search shows `Error (0) No replication sessions started since server startup` | – |
//!
//! The JSON twin's `message` is the status, not escaped (the status-12 text
//! makes it invalid JSON, as on the real server); its numbers are strings.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::extop::{code, response_name_for};
use super::ldaprc;
use super::version::Version389;

/// The text shown while an agreement has no status.
pub const NO_SESSION: &str = "No replication sessions started since server startup";

/// The computed attributes of one agreement entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgmtStatus {
    /// `nsds5replicaLastUpdateStatus` as set (empty: none since startup).
    pub status: String,
    /// Its JSON twin as set (1.4.1.4 on).
    pub json: String,
    /// Unix seconds; 0 prints `19700101000000Z`.
    pub update_start: i64,
    pub update_end: i64,
    pub init_start: i64,
    pub init_end: i64,
    pub init_status: String,
    pub init_json: String,
    pub in_progress: bool,
    /// Replica id → (replayed, skipped) since startup.
    pub changes_sent: BTreeMap<u16, (u32, u32)>,
}

/// `strftime("%FT%TZ", gmtime(now))`.
pub fn json_date(now: OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `format_genTime`: `%Y%m%d%H%M%SZ` in UTC.
pub fn gen_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{:04}{:02}{:02}{:02}{:02}{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

fn json(state: &str, ldaprc: i32, replrc: i32, v: &Version389, date: &str, message: &str) -> String {
    format!(
        "{{\"state\": \"{state}\", \"ldap_rc\": \"{ldaprc}\", \"ldap_rc_text\": \"{}\", \"repl_rc\": \"{replrc}\", \"repl_rc_text\": \"{}\", \"date\": \"{date}\", \"message\": \"{message}\"}}",
        ldaprc::text(ldaprc),
        response_name_for(replrc, v)
    )
}

/// The status value and the JSON state for one report, or `None` when it
/// leaves the status as it is (up to date). `("", "")` resets it.
pub fn format(
    v: &Version389,
    long_name: &str,
    ldaprc: i32,
    replrc: i32,
    message: Option<&str>,
) -> Option<(String, &'static str)> {
    if replrc == code::UPTODATE {
        return None;
    }
    let msg = message.unwrap_or("");
    let name = response_name_for(replrc, v);
    let disabled = |prefix: String| {
        format!(
            "{prefix}Incremental update aborted: Replication agreement for {long_name}\n can not be updated while the replica is disabled.\n(If the suffix is disabled you must enable it then restart the server for replication to take place)."
        )
    };
    if !v.error_shape() {
        // 1.3.5.13 and before.
        let text = if ldaprc != 0 {
            let repl = if replrc != 0 && name != "unknown error" { format!(" - {name}") } else { String::new() };
            let sep = if message.is_some() { "" } else { " - " };
            format!("{ldaprc} {msg}{sep}LDAP error: {}{repl}", ldaprc::text(ldaprc))
        } else if replrc == code::BUSY {
            format!("{replrc} Can't acquire busy replica")
        } else if replrc == code::RELEASE_SUCCEEDED {
            format!("{ldaprc} Replication session successful")
        } else if replrc == code::DISABLED {
            disabled(format!("{replrc} "))
        } else if replrc != 0 {
            let sep = if message.is_some() { " - " } else { "" };
            format!("{replrc} Replication error acquiring replica: {name}{sep}{msg}")
        } else if message.is_some() {
            format!("{ldaprc} Replica acquired successfully: {msg}")
        } else {
            return Some((String::new(), ""));
        };
        return Some((text, ""));
    }
    let amber = v.json_and_amber();
    Some(if ldaprc != 0 {
        let repl = if replrc != 0 && name != "unknown error" { format!(" ({name})") } else { String::new() };
        let sep = if message.is_some() { "" } else { " - " };
        (format!("Error ({ldaprc}) {msg}{sep} - LDAP error: {}{repl}", ldaprc::text(ldaprc)), "red")
    } else if replrc == code::BUSY && amber {
        (format!("Error ({replrc}) Can't acquire busy replica ({msg})"), "amber")
    } else if replrc == code::BUSY {
        (format!("Error ({replrc}) Can't acquire busy replica"), "amber")
    } else if (replrc == code::TRANSIENT_ERROR || replrc == code::BACKOFF) && amber {
        (format!("Error ({replrc}) Can't acquire replica ({msg})"), "amber")
    } else if replrc == code::RELEASE_SUCCEEDED {
        ("Error (0) Replication session successful".to_owned(), "green")
    } else if replrc == code::DISABLED {
        (disabled(format!("Error ({replrc}) ")), "red")
    } else if replrc != 0 {
        let sep = if message.is_some() { " " } else { "" };
        (format!("Error ({replrc}) Replication error acquiring replica: {msg}{sep}({name})"), "red")
    } else if message.is_some() {
        (format!("Error (0) Replica acquired successfully: {msg}"), "green")
    } else {
        (String::new(), "")
    })
}

impl AgmtStatus {
    /// `agmt_set_last_update_status` at virtual time `now`.
    pub fn set(
        &mut self,
        v: &Version389,
        now: OffsetDateTime,
        long_name: &str,
        ldaprc: i32,
        replrc: i32,
        msg: Option<&str>,
    ) {
        let Some((text, state)) = format(v, long_name, ldaprc, replrc, msg) else { return };
        self.json = if text.is_empty() || !v.json_and_amber() {
            String::new()
        } else {
            json(state, ldaprc, replrc, v, &json_date(now), &text)
        };
        self.status = text;
    }

    /// The value a search shows now.
    pub fn shown(&self, v: &Version389) -> String {
        if !self.status.is_empty() {
            self.status.clone()
        } else if v.error_shape() {
            format!("Error (0) {NO_SESSION}")
        } else {
            format!("0 {NO_SESSION}")
        }
    }

    /// The JSON twin a search shows at `now` (none before 1.4.1.4). With no
    /// status yet, `ldap_rc_text` is lower-case `success` and `date` is the
    /// search's time, as the server writes it.
    pub fn shown_json(&self, v: &Version389, now: OffsetDateTime) -> Option<String> {
        if !v.json_and_amber() {
            return None;
        }
        if self.status.is_empty() {
            return Some(format!(
                "{{\"state\": \"green\", \"ldap_rc\": \"0\", \"ldap_rc_text\": \"success\", \"repl_rc\": \"0\", \"repl_rc_text\": \"replica acquired\", \"date\": \"{}\", \"message\": \"Error (0) {NO_SESSION}\"}}",
                json_date(now)
            ));
        }
        Some(self.json.clone())
    }

    /// `nsds5replicaChangesSentSinceStartup`: `RID:REPLAYED/SKIPPED ` per
    /// replica id, each with its trailing space.
    pub fn changes_sent_text(&self) -> String {
        self.changes_sent.iter().map(|(rid, (r, s))| format!("{rid}:{r}/{s} ")).collect()
    }

    /// A total update ended well: the init status is set and the update
    /// status reset (the search then shows "No replication sessions …").
    pub fn total_succeeded(&mut self, v: &Version389, now: OffsetDateTime) {
        self.init_status =
            if v.error_shape() { "Error (0) Total update succeeded".into() } else { "0 Total update succeeded".into() };
        self.init_json = if v.json_and_amber() {
            format!(
                "{{\"state\": \"green\", \"ldap_rc\": \"0\", \"ldap_rc_text\": \"Success\", \"repl_rc\": \"0\", \"repl_rc_text\": \"replica acquired\", \"conn_rc\": \"0\", \"conn_rc_text\": \"operation success\", \"date\": \"{}\", \"message\": \"{}\"}}",
                json_date(now),
                self.init_status
            )
        } else {
            String::new()
        };
        self.status.clear();
        self.json.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "agmt=\"cn=a-to-b\" (127:3892)";

    fn v231() -> Version389 {
        Version389::default()
    }

    fn f(v: &Version389, l: i32, r: i32, m: Option<&str>) -> (String, &'static str) {
        format(v, TAG, l, r, m).expect("a status")
    }

    #[test]
    fn the_measured_2_3_1_values() {
        let v = v231();
        assert_eq!(
            f(&v, -1, 16, Some("Problem connecting to replica")).0,
            "Error (-1) Problem connecting to replica - LDAP error: Can't contact LDAP server (connection error)"
        );
        assert_eq!(
            f(&v, -5, 16, Some("Problem connecting to replica")).0,
            "Error (-5) Problem connecting to replica - LDAP error: Timed out (connection error)"
        );
        assert_eq!(
            f(&v, 49, 16, Some("Problem connecting to replica")).0,
            "Error (49) Problem connecting to replica - LDAP error: Invalid credentials (connection error)"
        );
        assert_eq!(
            f(&v, -1, 16, Some("Unable to receive the response for a startReplication extended operation to consumer. Will retry later.")).0,
            "Error (-1) Unable to receive the response for a startReplication extended operation to consumer. Will retry later. - LDAP error: Can't contact LDAP server (connection error)"
        );
        assert_eq!(
            f(&v, 0, 19, Some("Replica has different database generation ID, remote replica may need to be initialized")),
            ("Error (19) Replication error acquiring replica: Replica has different database generation ID, remote replica may need to be initialized (RUV error)".to_owned(), "red")
        );
        assert_eq!(
            f(&v, 0, 18, Some("Incremental update transient warning.  Backing off, will retry update later.")),
            ("Error (18) Can't acquire replica (Incremental update transient warning.  Backing off, will retry update later.)".to_owned(), "amber")
        );
        assert_eq!(
            f(&v, 0, 0, Some("Incremental update succeeded")).0,
            "Error (0) Replica acquired successfully: Incremental update succeeded"
        );
        assert_eq!(format(&v, TAG, 0, 13, None), None, "up to date: nothing changes");
        let (t, s) = f(&v, 0, 12, None);
        assert!(t.starts_with("Error (12) Incremental update aborted: Replication agreement for agmt=\"cn=a-to-b\" (127:3892)\n can not"), "{t}");
        assert_eq!(s, "red");
    }

    #[test]
    fn the_json_twin_is_printf_not_serde() {
        let v = v231();
        let mut st = AgmtStatus::default();
        let at = time::macros::datetime!(2026-11-22 03:02:33 UTC);
        st.set(&v, at, TAG, 0, 0, Some("Incremental update succeeded"));
        assert_eq!(st.json, "{\"state\": \"green\", \"ldap_rc\": \"0\", \"ldap_rc_text\": \"Success\", \"repl_rc\": \"0\", \"repl_rc_text\": \"replica acquired\", \"date\": \"2026-11-22T03:02:33Z\", \"message\": \"Error (0) Replica acquired successfully: Incremental update succeeded\"}");
        st.set(&v, at, TAG, 0, 12, None);
        assert!(
            st.json.contains(
                "\"message\": \"Error (12) Incremental update aborted: Replication agreement for agmt=\"cn=a-to-b\""
            ),
            "raw quotes, as the server writes"
        );
        let fresh = AgmtStatus::default();
        assert_eq!(fresh.shown(&v), "Error (0) No replication sessions started since server startup");
        assert!(fresh.shown_json(&v, at).expect("twin").contains("\"ldap_rc_text\": \"success\""));
    }

    #[test]
    fn older_versions_write_older_shapes() {
        let old = Version389::parse("1.3.5.10").expect("v");
        assert_eq!(
            f(&old, -1, 255, Some("Unable to acquire replica")).0,
            "-1 Unable to acquire replicaLDAP error: Can't contact LDAP server"
        );
        assert_eq!(
            f(&old, 0, 3, Some("Unable to acquire replica")).0,
            "3 Replication error acquiring replica: permission denied - Unable to acquire replica"
        );
        assert_eq!(f(&old, 0, 1, Some("x")).0, "1 Can't acquire busy replica");
        assert_eq!(f(&old, 0, 402, Some("Replica has different database generation ID, remote replica may need to be initialized")).0,
            "402 Replication error acquiring replica: unknown error - Replica has different database generation ID, remote replica may need to be initialized");
        let mid = Version389::parse("1.4.0.25").expect("v");
        assert_eq!(
            f(
                &mid,
                0,
                1,
                Some("Unable to acquire replica: the replica is currently being updated by another supplier.")
            )
            .0,
            "Error (1) Can't acquire busy replica"
        );
        assert_eq!(
            f(&mid, 0, 18, Some("Incremental update transient warning.  Backing off, will retry update later.")).0,
            "Error (18) Replication error acquiring replica: Incremental update transient warning.  Backing off, will retry update later. (transient warning)"
        );
        let mut st = AgmtStatus::default();
        st.set(&mid, OffsetDateTime::UNIX_EPOCH, TAG, 0, 0, Some("Incremental update succeeded"));
        assert_eq!(st.json, "", "no twin before 1.4.1.4");
        assert_eq!(AgmtStatus::default().shown(&old), "0 No replication sessions started since server startup");
    }

    #[test]
    fn counters_and_times_print_as_the_server_does() {
        let mut st = AgmtStatus::default();
        st.changes_sent.insert(1, (3, 0));
        assert_eq!(st.changes_sent_text(), "1:3/0 ");
        assert_eq!(gen_time(0), "19700101000000Z");
        assert_eq!(gen_time(time::macros::datetime!(2026-11-22 03:02:33 UTC).unix_timestamp()), "20261122030233Z");
    }
}
