//! The catalog table: every message the mock writes, by its OpenDJ name.
//! Templates are verbatim from `replication.properties` and
//! `core.properties`; `docs/ds-versions.md` gives each one's catalog line
//! per tag, and which event writes it.

use super::{Category, Dialect, MsgDef, Sev, Sev2};
use Category::{Core, Sync};

const fn m(
    ordinal: u32,
    key: &'static str,
    category: Category,
    sev: Sev,
    sev2: Sev2,
    template: &'static str,
) -> MsgDef {
    MsgDef {
        ordinal,
        key,
        category,
        sev,
        sev2: Some(sev2),
        template,
        template2: None,
        since: Dialect::Legacy,
        raw: false,
    }
}

impl MsgDef {
    /// 2.x words it otherwise.
    const fn legacy(self, template2: &'static str) -> MsgDef {
        MsgDef { template2: Some(template2), ..self }
    }
}

// ---------------------------------------------------------------- the RS listener and links

pub static REPLICATION_SERVER_LISTENING: MsgDef = m(
    204,
    "NOTE_REPLICATION_SERVER_LISTENING",
    Sync,
    Sev::Notice,
    Sev2::Notice,
    "Replication server RS(%d) started listening for new connections on address %s port %d",
);
pub static CONNECTION_TO_RS: MsgDef = m(
    205,
    "INFO_REPLICATION_SERVER_CONNECTION_TO_RS",
    Sync,
    Sev::Information,
    Sev2::Information,
    "Replication server RS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s",
);
pub static CONNECTION_FROM_RS: MsgDef = m(
    206,
    "INFO_REPLICATION_SERVER_CONNECTION_FROM_RS",
    Sync,
    Sev::Information,
    Sev2::Information,
    "Replication server RS(%d) has accepted a connection from replication server RS(%d) for domain \"%s\" at %s",
);
pub static CONNECTION_FROM_DS: MsgDef = m(
    207,
    "INFO_REPLICATION_SERVER_CONNECTION_FROM_DS",
    Sync,
    Sev::Information,
    Sev2::Information,
    "Replication server RS(%d) has accepted a connection from directory server DS(%d) for domain \"%s\" at %s",
);
pub static RS_BADLY_DISCONNECTED: MsgDef = m(181, "ERR_RS_BADLY_DISCONNECTED", Sync, Sev::Error, Sev2::SevereError,
    "The connection from this replication server RS(%d) to replication server RS(%d) at %s for domain \"%s\" has failed");
pub static DS_BADLY_DISCONNECTED: MsgDef = m(
    211,
    "ERR_DS_BADLY_DISCONNECTED",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "The connection from this replication server RS(%d) to directory server DS(%d) at %s for domain \"%s\" has failed",
);
pub static READER_EXCEPTION: MsgDef =
    m(53, "NOTE_READER_EXCEPTION", Sync, Sev::Notice, Sev2::Notice, "Exception when reading messages from %s: %s")
        .legacy("Exception when reading messages from %s");
pub static DS_DISCONNECTED_DURING_HANDSHAKE: MsgDef = m(
    178,
    "ERR_DS_DISCONNECTED_DURING_HANDSHAKE",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "Directory server %s was attempting to connect to replication server %s but has disconnected in handshake phase",
);
pub static RS_DISCONNECTED_DURING_HANDSHAKE: MsgDef = m(
    179,
    "ERR_RS_DISCONNECTED_DURING_HANDSHAKE",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "Replication server %s was attempting to connect to replication server %s but has disconnected in handshake phase",
);
pub static REPLICATION_PROTOCOL_MESSAGE_TYPE: MsgDef = m(
    157,
    "ERR_REPLICATION_PROTOCOL_MESSAGE_TYPE",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "Replication protocol error. Bad message type. %s received, %s required",
);
pub static TIMEOUT_WHEN_CROSS_CONNECTION: MsgDef = m(145, "WARN_TIMEOUT_WHEN_CROSS_CONNECTION", Sync, Sev::Error, Sev2::SevereWarning,
    "Timed out while trying to acquire the domain lock for domain \"%s\". The connection attempt from replication server RS(%d) at %s to this replication server RS(%d) will be aborted. This is probably benign and a result of a simultaneous cross connection attempt");
pub static DUPLICATE_SERVER_ID: MsgDef = m(
    54,
    "ERR_DUPLICATE_SERVER_ID",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "In Replication server %s: servers %s and %s have the same ServerId : %d",
);
pub static SSL_SERVER_CON_ATTEMPT_ERROR: MsgDef = m(105, "INFO_SSL_SERVER_CON_ATTEMPT_ERROR", Sync, Sev::Information, Sev2::Information,
    "Replication server accepted a connection from %s to local address %s but the SSL handshake failed. This is probably benign, but may indicate a transient network outage or a misconfigured client application connecting to this replication server. The error was: %s");
pub static EXCEPTION_LISTENING: MsgDef = m(
    86,
    "ERR_EXCEPTION_LISTENING",
    Sync,
    Sev::Error,
    Sev2::SevereError,
    "Replication server caught exception while listening for client connections %s",
);
pub static UNEXPECTED_MESSAGE: MsgDef = MsgDef {
    since: Dialect::Modern,
    sev2: None,
    ..m(
        300,
        "ERR_REPLICATION_UNEXPECTED_MESSAGE",
        Sync,
        Sev::Error,
        Sev2::SevereError,
        "New replication connection from %s started with unexpected message %s and is being closed",
    )
};
pub static COULD_NOT_BIND_CHANGELOG: MsgDef = m(
    6,
    "ERR_COULD_NOT_BIND_CHANGELOG",
    Sync,
    Sev::Error,
    Sev2::MildError,
    "Replication Server failed to start : could not bind to the listen port : %d. Error : %s",
);
/// `logger.error(LocalizableMessage.raw(text))`: the text is the only argument.
pub static RAW_ERROR: MsgDef = MsgDef {
    raw: true,
    since: Dialect::Dotted,
    sev2: None,
    ..m(0, "RAW_ERROR", Sync, Sev::Error, Sev2::Information, "%s")
};

// ---------------------------------------------------------------- generation ids and status

pub static BAD_GENERATION_ID_FROM_RS: MsgDef = m(77, "WARN_BAD_GENERATION_ID_FROM_RS", Sync, Sev::Warning, Sev2::SevereWarning,
    "Replication server RS(%d) at %s presented generation ID %d for domain \"%s\", but the generation ID of this replication server RS(%d) is %d. This usually indicates that one or more directory servers in the replication topology have not been initialized with the same data, and re-initialization is required");
pub static ERROR_MSG_RECEIVED: MsgDef =
    m(79, "ERR_ERROR_MSG_RECEIVED", Sync, Sev::Error, Sev2::MildError, "The following error has been received : %s");
pub static BAD_GENERATION_ID_FROM_DS: MsgDef = m(146, "WARN_BAD_GENERATION_ID_FROM_DS", Sync, Sev::Warning, Sev2::MildWarning,
    "Directory server DS(%d) at %s presented generation ID %d for domain \"%s\", but the generation ID of this replication server RS(%d) is %d. This usually indicates that one or more directory servers in the replication topology have not been initialized with the same data, and re-initialization is required");
pub static IGNORING_UPDATE_FROM_RS: MsgDef = m(80, "WARN_IGNORING_UPDATE_FROM_RS", Sync, Sev::Error, Sev2::SevereWarning,
    "Replication server RS(%d) ignoring update %s for domain \"%s\" from replication server RS(%d) at %s because its generation ID %d is different to the local generation ID %d");
pub static IGNORING_UPDATE_TO_RS: MsgDef = m(81, "WARN_IGNORING_UPDATE_TO_RS", Sync, Sev::Error, Sev2::SevereWarning,
    "Replication server RS(%d) not sending update %s for domain \"%s\" to replication server RS(%d) at %s because its generation ID %d is different to the local generation ID %d");
pub static IGNORING_UPDATE_FROM_DS_BADGENID: MsgDef = m(135, "WARN_IGNORING_UPDATE_FROM_DS_BADGENID", Sync, Sev::Warning, Sev2::SevereWarning,
    "Replication server RS(%d) ignoring update %s for domain \"%s\" from directory server DS(%d) at %s because its generation ID %d is different to the local generation ID %d");
pub static IGNORING_UPDATE_TO_DS_BADGENID: MsgDef = m(136, "WARN_IGNORING_UPDATE_TO_DS_BADGENID", Sync, Sev::Warning, Sev2::SevereWarning,
    "Replication server RS(%d) not sending update %s for domain \"%s\" to directory server DS(%d) at %s because its generation ID %d is different to the local generation ID %d");
pub static DIRECTORY_SERVER_CHANGED_STATUS: MsgDef = m(
    131,
    "NOTE_DIRECTORY_SERVER_CHANGED_STATUS",
    Sync,
    Sev::Notice,
    Sev2::Notice,
    "Directory server DS(%d) for domain \"%s\" has changed its status to %s",
);

// ---------------------------------------------------------------- the DS side (ReplicationBroker)

pub static NOW_FOUND_SAME_GENERATION: MsgDef = m(
    62,
    "NOTE_NOW_FOUND_SAME_GENERATION_CHANGELOG",
    Sync,
    Sev::Notice,
    Sev2::Notice,
    "Directory server DS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s with generation ID %d",
);
pub static NOW_FOUND_BAD_GENERATION: MsgDef = m(96, "WARN_NOW_FOUND_BAD_GENERATION_CHANGELOG", Sync, Sev::Warning, Sev2::SevereWarning,
    "Directory server DS(%d) has connected to replication server RS(%d) for domain \"%s\" at %s, but the generation IDs do not match, indicating that a full re-initialization is required. The local (DS) generation ID is %d and the remote (RS) generation ID is %d");
pub static NO_CHANGELOG_SERVER_LISTENING: MsgDef = m(17, "WARN_NO_CHANGELOG_SERVER_LISTENING", Sync, Sev::Error, Sev2::SevereWarning,
    "Directory server DS(%d) was unable to connect to replication server %s for domain \"%s\". Please check that there is a replication server listening at this address");
pub static TIMEOUT_CONNECTING_TO_RS: MsgDef = m(
    212,
    "WARN_TIMEOUT_CONNECTING_TO_RS",
    Sync,
    Sev::Error,
    Sev2::SevereWarning,
    "Directory server DS(%d) timed out while connecting to replication server %s for domain \"%s\"",
);
pub static EXCEPTION_STARTING_SESSION_PHASE: MsgDef = m(119, "WARN_EXCEPTION_STARTING_SESSION_PHASE", Sync, Sev::Error, Sev2::SevereWarning,
    "Directory server DS(%d) encountered an unexpected error while connecting to replication server %s for domain \"%s\": %s");
pub static COULD_NOT_FIND_CHANGELOG: MsgDef = m(
    23,
    "WARN_COULD_NOT_FIND_CHANGELOG",
    Sync,
    Sev::Warning,
    Sev2::SevereWarning,
    "Directory server DS(%d) was unable to connect to any of the following replication servers for domain \"%s\": %s",
);
pub static NO_AVAILABLE_CHANGELOGS: MsgDef = m(
    208,
    "WARN_NO_AVAILABLE_CHANGELOGS",
    Sync,
    Sev::Warning,
    Sev2::SevereWarning,
    "Directory server DS(%d) was unable to connect to any replication servers for domain \"%s\"",
);
pub static REPLICATION_SERVER_PROPERLY_DISCONNECTED: MsgDef = m(63, "WARN_REPLICATION_SERVER_PROPERLY_DISCONNECTED", Sync, Sev::Warning, Sev2::MildWarning,
    "Replication server RS(%d) at %s has closed the connection to this directory server DS(%d). This directory server will now try to connect to another replication server in order to receive changes for the domain \"%s\"");
pub static REPLICATION_SERVER_BADLY_DISCONNECTED: MsgDef = m(180, "WARN_REPLICATION_SERVER_BADLY_DISCONNECTED", Sync, Sev::Error, Sev2::SevereWarning,
    "Directory server DS(%d) encountered an error while receiving changes for domain \"%s\" from replication server RS(%d) at %s. The connection will be closed, and this directory server will now try to connect to another replication server");
pub static HEARTBEAT_FAILURE: MsgDef = m(97, "WARN_HEARTBEAT_FAILURE", Sync, Sev::Warning, Sev2::SevereWarning,
    "Directory server DS(%d) is closing its connection to replication server RS(%d) at %s for domain \"%s\" because it could not detect a heart beat");

// ---------------------------------------------------------------- CORE: start and stop

pub static DIRECTORY_SERVER_STARTING: MsgDef = m(
    134,
    "NOTE_DIRECTORY_SERVER_STARTING",
    Core,
    Sev::Notice,
    Sev2::Notice,
    "%s (build %s, revision number %s) starting up",
)
.legacy("%s (build %s, R%d) starting up");
pub static DIRECTORY_SERVER_STARTED: MsgDef = m(
    135,
    "NOTE_DIRECTORY_SERVER_STARTED",
    Core,
    Sev::Notice,
    Sev2::Notice,
    "The Directory Server has started successfully",
);
pub static SENT_ALERT_NOTIFICATION: MsgDef = m(
    139,
    "NOTE_SENT_ALERT_NOTIFICATION",
    Core,
    Sev::Notice,
    Sev2::Notice,
    "The Directory Server has sent an alert notification generated by class %s (alert type %s, alert ID %s): %s",
)
.legacy("The Directory Server has sent an alert notification generated by class %s (alert type %s, alert ID %s):  %s");
/// Written on its own only when `server.lock` cannot be released; on a
/// clean stop it is the text 139 carries.
pub static SERVER_SHUTDOWN: MsgDef = m(141, "NOTE_SERVER_SHUTDOWN", Core, Sev::Notice, Sev2::Notice,
    "The Directory Server has started the shutdown process. The shutdown was initiated by an instance of class %s and the reason provided for the shutdown was %s")
    .legacy("The Directory Server has started the shutdown process.  The shutdown was initiated by an instance of class %s and the reason provided for the shutdown was %s");
/// Only ever an argument (141's reason), never a line of its own.
pub static SHUTDOWN_DUE_TO_SHUTDOWN_HOOK: MsgDef = MsgDef {
    sev2: None,
    ..m(142, "ERR_SHUTDOWN_DUE_TO_SHUTDOWN_HOOK", Core, Sev::Error, Sev2::SevereError,
        "The Directory Server shutdown hook detected that the JVM is shutting down. This generally indicates that JVM received an external request to stop (e.g., through a kill signal)")
}
.legacy("The Directory Server shutdown hook detected that the JVM is shutting down.  This generally indicates that JVM received an external request to stop (e.g., through a kill signal)");
pub static SERVER_STOPPED: MsgDef =
    m(203, "NOTE_SERVER_STOPPED", Core, Sev::Notice, Sev2::Notice, "The Directory Server is now stopped");

/// Every message the mock can write as a line (142 is only ever 141's
/// argument, so it is not here).
pub static ALL: &[&MsgDef] = &[
    &REPLICATION_SERVER_LISTENING,
    &CONNECTION_TO_RS,
    &CONNECTION_FROM_RS,
    &CONNECTION_FROM_DS,
    &RS_BADLY_DISCONNECTED,
    &DS_BADLY_DISCONNECTED,
    &READER_EXCEPTION,
    &DS_DISCONNECTED_DURING_HANDSHAKE,
    &RS_DISCONNECTED_DURING_HANDSHAKE,
    &REPLICATION_PROTOCOL_MESSAGE_TYPE,
    &TIMEOUT_WHEN_CROSS_CONNECTION,
    &DUPLICATE_SERVER_ID,
    &SSL_SERVER_CON_ATTEMPT_ERROR,
    &EXCEPTION_LISTENING,
    &UNEXPECTED_MESSAGE,
    &COULD_NOT_BIND_CHANGELOG,
    &RAW_ERROR,
    &BAD_GENERATION_ID_FROM_RS,
    &ERROR_MSG_RECEIVED,
    &BAD_GENERATION_ID_FROM_DS,
    &IGNORING_UPDATE_FROM_RS,
    &IGNORING_UPDATE_TO_RS,
    &IGNORING_UPDATE_FROM_DS_BADGENID,
    &IGNORING_UPDATE_TO_DS_BADGENID,
    &DIRECTORY_SERVER_CHANGED_STATUS,
    &NOW_FOUND_SAME_GENERATION,
    &NOW_FOUND_BAD_GENERATION,
    &NO_CHANGELOG_SERVER_LISTENING,
    &TIMEOUT_CONNECTING_TO_RS,
    &EXCEPTION_STARTING_SESSION_PHASE,
    &COULD_NOT_FIND_CHANGELOG,
    &NO_AVAILABLE_CHANGELOGS,
    &REPLICATION_SERVER_PROPERLY_DISCONNECTED,
    &REPLICATION_SERVER_BADLY_DISCONNECTED,
    &HEARTBEAT_FAILURE,
    &DIRECTORY_SERVER_STARTING,
    &DIRECTORY_SERVER_STARTED,
    &SENT_ALERT_NOTIFICATION,
    &SERVER_SHUTDOWN,
    &SERVER_STOPPED,
];
