//! The log messages the mock writes, as the real product defines them.
//!
//! Templates are the OpenDJ catalog's, verbatim (`replication.properties`,
//! `core.properties`). Each message knows its ordinal, category and the
//! severity each dialect writes it with:
//!
//! - **2.x dialect** (OpenDS, OpenDJ 2.x): `msgID` is composed,
//!   `ordinal | category mask | severity mask` (SYNC 181 SEVERE_ERROR = 14942389),
//!   severities such as `SEVERE_ERROR`, `MILD_WARNING`.
//! - **3.x+ dialect** (OpenDJ 3+, ForgeRock DS 5 to 7.x): `msgID` is the ordinal,
//!   severities `ERROR`, `WARNING`, `NOTICE`, `INFORMATION` as the logger call decides.
//!
//! Which file a line lands in follows each dialect's default `config.ldif`:
//! the errors log takes (2.x) severe-warning, severe-error, fatal-error and
//! notice, (3+) warning, error and notice; the replication log takes SYNC only,
//! at (2.x) INFO, MILD_ERROR, MILD_WARNING, NOTICE or (3+) INFO, ERROR,
//! WARNING, NOTICE.

use std::fmt::Display;

/// How a server version writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenDS / OpenDJ 2.x: composed msgIDs, 2.x severities.
    Legacy,
    /// OpenDJ 3+ / ForgeRock DS 5+: ordinal msgIDs, five severities.
    Modern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Core,
    Sync,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Core => "CORE",
            Category::Sync => "SYNC",
        }
    }

    fn mask(self) -> u32 {
        match self {
            Category::Core => 0x000000,
            Category::Sync => 0xE00000,
        }
    }
}

/// Severity as the 3.x+ dialect prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sev {
    Information,
    Notice,
    Warning,
    Error,
}

/// Severity as the 2.x dialect prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sev2 {
    Information,
    MildWarning,
    SevereWarning,
    MildError,
    SevereError,
    Notice,
}

impl Sev {
    pub fn name(self) -> &'static str {
        match self {
            Sev::Information => "INFORMATION",
            Sev::Notice => "NOTICE",
            Sev::Warning => "WARNING",
            Sev::Error => "ERROR",
        }
    }
}

impl Sev2 {
    pub fn name(self) -> &'static str {
        match self {
            Sev2::Information => "INFORMATION",
            Sev2::MildWarning => "MILD_WARNING",
            Sev2::SevereWarning => "SEVERE_WARNING",
            Sev2::MildError => "MILD_ERROR",
            Sev2::SevereError => "SEVERE_ERROR",
            Sev2::Notice => "NOTICE",
        }
    }

    fn mask(self) -> u32 {
        match self {
            Sev2::Information => 0x00000,
            Sev2::MildWarning => 0x10000,
            Sev2::SevereWarning => 0x20000,
            Sev2::MildError => 0x30000,
            Sev2::SevereError => 0x40000,
            Sev2::Notice => 0x70000,
        }
    }
}

/// One catalog message.
#[derive(Debug)]
pub struct MsgDef {
    pub ordinal: u32,
    /// The OpenDJ 3+ property key, without the ordinal suffix.
    pub key: &'static str,
    pub category: Category,
    pub sev: Sev,
    /// `None`: the message does not exist in the 2.x catalog.
    pub sev2: Option<Sev2>,
    pub template: &'static str,
}

/// A rendered message ready for a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub category: &'static str,
    pub severity: &'static str,
    pub msg_id: u32,
    pub text: String,
    pub to_errors: bool,
    pub to_replication: bool,
}

impl MsgDef {
    /// The msgID this dialect prints.
    pub fn msg_id(&self, dialect: Dialect) -> u32 {
        match (dialect, self.sev2) {
            (Dialect::Legacy, Some(sev2)) => self.ordinal | self.category.mask() | sev2.mask(),
            _ => self.ordinal,
        }
    }

    /// Fills the template's `%s`/`%d` placeholders in order.
    pub fn fill(&self, args: &[&dyn Display]) -> String {
        let mut out = String::with_capacity(self.template.len() + 32);
        let mut args = args.iter();
        let mut rest = self.template;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let spec = rest[at + 1..].chars().next();
            match spec {
                Some('s') | Some('d') => {
                    if let Some(arg) = args.next() {
                        out.push_str(&arg.to_string());
                    }
                    rest = &rest[at + 2..];
                }
                _ => {
                    out.push('%');
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Renders the message in a dialect, with the files it lands in.
    ///
    /// Returns `None` when the dialect's catalog does not have the message.
    pub fn render(&self, dialect: Dialect, args: &[&dyn Display]) -> Option<Rendered> {
        let (severity, to_errors, to_replication) = match dialect {
            Dialect::Modern => {
                let to_errors = matches!(self.sev, Sev::Warning | Sev::Error | Sev::Notice);
                (self.sev.name(), to_errors, self.category == Category::Sync)
            }
            Dialect::Legacy => {
                let sev2 = self.sev2?;
                let to_errors = matches!(sev2, Sev2::SevereWarning | Sev2::SevereError | Sev2::Notice);
                let to_repl = self.category == Category::Sync
                    && matches!(sev2, Sev2::Information | Sev2::MildError | Sev2::MildWarning | Sev2::Notice);
                (sev2.name(), to_errors, to_repl)
            }
        };
        Some(Rendered {
            category: self.category.name(),
            severity,
            msg_id: self.msg_id(dialect),
            text: self.fill(args),
            to_errors,
            to_replication,
        })
    }
}

macro_rules! msgs {
    ($($name:ident = $ord:literal $key:literal $cat:ident $sev:ident $sev2:expr, $tpl:literal;)*) => {
        $(pub static $name: MsgDef = MsgDef {
            ordinal: $ord, key: $key, category: Category::$cat, sev: Sev::$sev, sev2: $sev2, template: $tpl,
        };)*
        /// Every message the mock can write.
        pub static ALL: &[&MsgDef] = &[$(&$name),*];
    };
}

use Sev2::*;

msgs! {
    REPLICATION_SERVER_LISTENING = 204 "NOTE_REPLICATION_SERVER_LISTENING" Sync Notice Some(Notice),
        "Replication server RS(%d) started listening for new connections on address %s port %d";
    CONNECTION_TO_RS = 205 "INFO_REPLICATION_SERVER_CONNECTION_TO_RS" Sync Information Some(Information),
        "Replication server RS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s";
    CONNECTION_FROM_RS = 206 "INFO_REPLICATION_SERVER_CONNECTION_FROM_RS" Sync Information Some(Information),
        "Replication server RS(%d) has accepted a connection from replication server RS(%d) for domain \"%s\" at %s";
    CONNECTION_FROM_DS = 207 "INFO_REPLICATION_SERVER_CONNECTION_FROM_DS" Sync Information Some(Information),
        "Replication server RS(%d) has accepted a connection from directory server DS(%d) for domain \"%s\" at %s";
    NOW_FOUND_SAME_GENERATION = 62 "NOTE_NOW_FOUND_SAME_GENERATION_CHANGELOG" Sync Notice Some(Notice),
        "Directory server DS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s with generation ID %d";
    NOW_FOUND_BAD_GENERATION = 96 "WARN_NOW_FOUND_BAD_GENERATION_CHANGELOG" Sync Warning Some(SevereWarning),
        "Directory server DS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s, but the generation IDs do not match, indicating that a full re-initialization is required. The local (DS) generation ID is %d and the remote (RS) generation ID is %d";
    NO_AVAILABLE_CHANGELOGS = 208 "WARN_NO_AVAILABLE_CHANGELOGS" Sync Warning Some(SevereWarning),
        "Directory server DS(%d) was unable to connect to any replication servers for domain \"%s\"";
    REPLICATION_SERVER_PROPERLY_DISCONNECTED = 63 "WARN_REPLICATION_SERVER_PROPERLY_DISCONNECTED" Sync Warning Some(MildWarning),
        "Replication server RS(%d) at %s has closed the connection to this directory server DS(%d). This directory server will now try to connect to another replication server in order to receive changes for the domain \"%s\"";
    REPLICATION_SERVER_BADLY_DISCONNECTED = 180 "WARN_REPLICATION_SERVER_BADLY_DISCONNECTED" Sync Error Some(SevereWarning),
        "Directory server DS(%d) encountered an error while receiving changes for domain \"%s\" from replication server RS(%d) at %s. The connection will be closed, and this directory server will now try to connect to another replication server";
    HEARTBEAT_FAILURE = 97 "WARN_HEARTBEAT_FAILURE" Sync Warning Some(SevereWarning),
        "Directory server DS(%d) is closing its connection to replication server RS(%d) at %s for domain \"%s\" because it could not detect a heart beat";
    RS_BADLY_DISCONNECTED = 181 "ERR_RS_BADLY_DISCONNECTED" Sync Error Some(SevereError),
        "The connection from this replication server RS(%d) to replication server RS(%d) at %s for domain \"%s\" has failed";
    DS_BADLY_DISCONNECTED = 211 "ERR_DS_BADLY_DISCONNECTED" Sync Error Some(SevereError),
        "The connection from this replication server RS(%d) to directory server DS(%d) at %s for domain \"%s\" has failed";
    DS_DISCONNECTED_DURING_HANDSHAKE = 178 "ERR_DS_DISCONNECTED_DURING_HANDSHAKE" Sync Error Some(SevereError),
        "Directory server %s was attempting to connect to replication server %s but has disconnected in handshake phase";
    RS_DISCONNECTED_DURING_HANDSHAKE = 179 "ERR_RS_DISCONNECTED_DURING_HANDSHAKE" Sync Error Some(SevereError),
        "Replication server %s was attempting to connect to replication server %s but has disconnected in handshake phase";
    BAD_GENERATION_ID_FROM_RS = 77 "WARN_BAD_GENERATION_ID_FROM_RS" Sync Warning Some(SevereWarning),
        "Replication server RS(%d) at %s presented generation ID %d for domain \"%s\", but the generation ID of this replication server RS(%d) is %d. This usually indicates that one or more directory servers in the replication topology have not been initialized with the same data, and re-initialization is required";
    BAD_GENERATION_ID_FROM_DS = 146 "WARN_BAD_GENERATION_ID_FROM_DS" Sync Warning Some(MildWarning),
        "Directory server DS(%d) at %s presented generation ID %d for domain \"%s\", but the generation ID of this replication server RS(%d) is %d. This usually indicates that one or more directory servers in the replication topology have not been initialized with the same data, and re-initialization is required";
    IGNORING_UPDATE_FROM_DS_BADGENID = 135 "WARN_IGNORING_UPDATE_FROM_DS_BADGENID" Sync Warning Some(SevereWarning),
        "Replication server RS(%d) ignoring update %s for domain \"%s\" from directory server DS(%d) at %s because its generation ID %d is different to the local generation ID %d";
    SSL_SERVER_CON_ATTEMPT_ERROR = 105 "INFO_SSL_SERVER_CON_ATTEMPT_ERROR" Sync Information Some(Information),
        "Replication server accepted a connection from %s to local address %s but the SSL handshake failed. This is probably benign, but may indicate a transient network outage or a misconfigured client application connecting to this replication server. The error was: %s";
    EXCEPTION_LISTENING = 86 "ERR_EXCEPTION_LISTENING" Sync Error Some(SevereError),
        "Replication server caught exception while listening for client connections %s";
    READER_EXCEPTION = 53 "NOTE_READER_EXCEPTION" Sync Notice Some(Notice),
        "Exception when reading messages from %s: %s";
    UNEXPECTED_MESSAGE = 300 "ERR_REPLICATION_UNEXPECTED_MESSAGE" Sync Error None,
        "New replication connection from %s started with unexpected message %s and is being closed";
    COULD_NOT_BIND_CHANGELOG = 6 "ERR_COULD_NOT_BIND_CHANGELOG" Sync Error Some(MildError),
        "Replication Server failed to start : could not bind to the listen port : %d. Error : %s";
    DIRECTORY_SERVER_STARTED = 135 "NOTE_DIRECTORY_SERVER_STARTED" Core Notice Some(Notice),
        "The Directory Server has started successfully";
    SERVER_SHUTDOWN = 141 "NOTE_SERVER_SHUTDOWN" Core Notice Some(Notice),
        "The Directory Server has started the shutdown process. The shutdown was initiated by an instance of class %s and the reason provided for the shutdown was %s";
    SERVER_STOPPED = 203 "NOTE_SERVER_STOPPED" Core Notice Some(Notice),
        "The Directory Server is now stopped";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2.x msgIDs the reference lists, computed from ordinal and masks.
    #[test]
    fn legacy_msg_ids_match_the_reference_table() {
        let expected = [
            (&REPLICATION_SERVER_LISTENING, 15139020),
            (&CONNECTION_TO_RS, 14680269),
            (&CONNECTION_FROM_RS, 14680270),
            (&CONNECTION_FROM_DS, 14680271),
            (&NOW_FOUND_SAME_GENERATION, 15138878),
            (&NOW_FOUND_BAD_GENERATION, 14811232),
            (&NO_AVAILABLE_CHANGELOGS, 14811344),
            (&REPLICATION_SERVER_PROPERLY_DISCONNECTED, 14745663),
            (&REPLICATION_SERVER_BADLY_DISCONNECTED, 14811316),
            (&HEARTBEAT_FAILURE, 14811233),
            (&RS_BADLY_DISCONNECTED, 14942389),
            (&DS_BADLY_DISCONNECTED, 14942419),
            (&DS_DISCONNECTED_DURING_HANDSHAKE, 14942386),
            (&RS_DISCONNECTED_DURING_HANDSHAKE, 14942387),
            (&BAD_GENERATION_ID_FROM_RS, 14811213),
            (&BAD_GENERATION_ID_FROM_DS, 14745746),
            (&IGNORING_UPDATE_FROM_DS_BADGENID, 14811271),
            (&EXCEPTION_LISTENING, 14942294),
            (&SSL_SERVER_CON_ATTEMPT_ERROR, 14680169),
            (&READER_EXCEPTION, 15138869),
            (&COULD_NOT_BIND_CHANGELOG, 14876678),
            (&DIRECTORY_SERVER_STARTED, 458887),
            (&SERVER_STOPPED, 458955),
        ];
        for (def, id) in expected {
            assert_eq!(def.msg_id(Dialect::Legacy), id, "{}", def.key);
            assert_eq!(def.msg_id(Dialect::Modern), def.ordinal, "{}", def.key);
        }
    }

    #[test]
    fn seed_line_renders_verbatim() {
        let r = RS_BADLY_DISCONNECTED
            .render(Dialect::Legacy, &[&1234, &5678, &"", &"dc=example,dc=com"])
            .expect("2.x has 181");
        assert_eq!(r.severity, "SEVERE_ERROR");
        assert_eq!(r.msg_id, 14942389);
        // The seed article redacted the address; an empty one leaves "at  for".
        assert_eq!(
            r.text,
            "The connection from this replication server RS(1234) to replication server RS(5678) at  for domain \"dc=example,dc=com\" has failed"
        );
    }

    #[test]
    fn files_follow_each_dialects_config() {
        // INFORMATION connect lines: replication log only, both dialects.
        for d in [Dialect::Legacy, Dialect::Modern] {
            let r = CONNECTION_TO_RS.render(d, &[&1, &2, &"x", &"y"]).expect("render");
            assert!(!r.to_errors && r.to_replication);
        }
        // 181: 3+ writes ERROR to both; 2.x SEVERE_ERROR to errors only.
        let m = RS_BADLY_DISCONNECTED.render(Dialect::Modern, &[]).expect("render");
        assert!(m.to_errors && m.to_replication);
        let l = RS_BADLY_DISCONNECTED.render(Dialect::Legacy, &[]).expect("render");
        assert!(l.to_errors && !l.to_replication);
        // 63: 2.x MILD_WARNING lands in the replication log only.
        let l = REPLICATION_SERVER_PROPERLY_DISCONNECTED.render(Dialect::Legacy, &[]).expect("render");
        assert!(!l.to_errors && l.to_replication);
        // CORE notices: errors log only.
        let c = DIRECTORY_SERVER_STARTED.render(Dialect::Modern, &[]).expect("render");
        assert!(c.to_errors && !c.to_replication);
    }

    #[test]
    fn messages_missing_from_the_old_catalog_do_not_render() {
        assert!(UNEXPECTED_MESSAGE.render(Dialect::Legacy, &[]).is_none());
        assert!(UNEXPECTED_MESSAGE.render(Dialect::Modern, &[&"a", &"b"]).is_some());
    }
}
