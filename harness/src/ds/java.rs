//! What the product's Java would have thrown, as its log lines print it.
//!
//! Several messages carry an exception: 86 and 300 its
//! `getLocalizedMessage()`, 53 and 119 `stackTraceToSingleLineString(e)`.
//! That is, outside debug builds (`isDebugBuild=false`):
//!
//! - 2.x (`org.opends.server.util.StaticUtils`): `message (File:line File:line …)`,
//!   the simple class name instead of an empty message;
//! - 3.0 on (`com.forgerock.opendj.util.StaticUtils`):
//!   `SimpleName: message (File:line File:line …)`;
//!
//! with at most 21 frames. The frames are the OpenDJ source's own, per tag,
//! for the paths the mock plays ([`Site`]): the reader thread
//! (`ServerReader.run` → `Session.receive`) and the DS's reconnect path
//! (`ReplicationDomain` listener → `ReplicationBroker.receive` → `reStart`
//! → `connectAsDataServer` → phase 1 or 2). Where the JDK throws (a reset,
//! a TLS alert), its own frames come first in a real trace; the mock leaves
//! them out and starts at the first OpenDJ frame, except the few it knows
//! (`NumberFormatException.java:65`, `Integer.java:580`/`652`, `Thread.java`).

use super::catalog::Dialect;
use crate::error::WireError;

/// The Java a version runs on: it words a few texts and the last frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jdk {
    /// Java 8 before 8u141 (`Thread.java:745`): OpenDJ 3.0's time.
    EightEarly,
    /// Java 8 (`Thread.java:748`).
    Eight,
    /// Java 11 (`Thread.java:834`): ForgeRock DS 6.5 and 7.x.
    Eleven,
}

impl Jdk {
    fn thread_frame(self) -> &'static str {
        match self {
            Jdk::EightEarly => "Thread.java:745",
            Jdk::Eight => "Thread.java:748",
            Jdk::Eleven => "Thread.java:834",
        }
    }

    fn parse_int_frame(self) -> &'static str {
        match self {
            Jdk::Eleven => "Integer.java:652",
            _ => "Integer.java:580",
        }
    }
}

/// Where in the product the exception is thrown and caught: it picks the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `ServerReader.run` reading a message of an established link.
    Reader,
    /// `ReplicationBroker.performPhaseOneHandshake` (the DS's start message exchange).
    Phase1,
    /// `ReplicationBroker.performPhaseTwoHandshake` (StartSessionMsg, TopologyMsg).
    Phase2,
}

/// Where inside `Session.receive` (or the TLS handshake) it went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// EOF while reading the 8-byte length.
    LengthEof,
    /// EOF while reading the payload.
    BodyEof,
    /// `Integer.parseInt(length, 16)`.
    ParseLength,
    /// `ReplicationMsg.generateMsg`.
    Generate,
    /// Inside `InputStream.read` (a reset, a timeout): JDK frames first.
    Read,
    /// The reply was not a start message (`ReplicationServerInfo.newInstance`).
    NotStart,
    /// The reply was not a TopologyMsg (the cast in phase 2).
    NotTopology,
    /// `SSLSocket.startHandshake` (client side).
    Tls,
    /// `Session.publish`.
    Write,
    /// `Socket.connect` (JDK frames first).
    Connect,
}

/// One exception as the product would have thrown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    /// The simple class name: `IOException`, `SocketException` …
    pub class: &'static str,
    /// `getLocalizedMessage()`.
    pub message: String,
    point: Point,
}

impl JavaException {
    fn new(class: &'static str, message: impl Into<String>, point: Point) -> Self {
        Self { class, message: message.into(), point }
    }

    /// `IOException: no more data` (the peer closed, in the length or the payload).
    pub fn no_more_data(in_payload: bool) -> Self {
        Self::new("IOException", "no more data", if in_payload { Point::BodyEof } else { Point::LengthEof })
    }

    /// `SocketTimeoutException: Read timed out`.
    pub fn read_timed_out() -> Self {
        Self::new("SocketTimeoutException", "Read timed out", Point::Read)
    }

    /// `UnknownHostException: host` (`Socket.connect` of an unresolved address).
    pub fn unknown_host(host: &str) -> Self {
        Self::new("UnknownHostException", host, Point::Connect)
    }

    /// A reset during the client's TLS handshake.
    pub fn reset_in_tls() -> Self {
        Self::new("SocketException", "Connection reset", Point::Tls)
    }

    /// `SocketException: Connection reset`.
    pub fn connection_reset() -> Self {
        Self::new("SocketException", "Connection reset", Point::Read)
    }

    /// A failed TLS handshake on the client side, with JSSE's text.
    pub fn tls(message: String) -> Self {
        Self::new("SSLHandshakeException", message, Point::Tls)
    }

    /// An `SSLException` on a read of an established TLS session.
    pub fn ssl(message: String) -> Self {
        Self::new("SSLException", message, Point::Read)
    }

    /// `ReplicationServerInfo.newInstance` got something else than a start message.
    pub fn not_a_start_message(java_class: &str) -> Self {
        // The real text goes on with "\n" + msg.toString(): one line here.
        Self::new("IllegalArgumentException", format!("Unexpected PDU type: {java_class}:"), Point::NotStart)
    }

    /// Phase 2's `(TopologyMsg) session.receive()` cast failed.
    pub fn not_a_topology(java_class: &str, jdk: Jdk) -> Self {
        let target = "org.opends.server.replication.protocol.TopologyMsg";
        let message = match jdk {
            Jdk::Eleven => format!(
                "class {java_class} cannot be cast to class {target} ({java_class} and {target} are in unnamed module of loader 'app')"
            ),
            _ => format!("{java_class} cannot be cast to {target}"),
        };
        Self::new("ClassCastException", message, Point::NotTopology)
    }

    /// What `Session.receive` throws for bytes the mock's decoder refused,
    /// or for a failed read.
    pub fn from_wire(e: &WireError, jdk: Jdk) -> Self {
        match e {
            WireError::BadLengthPrefix { prefix } => {
                Self::new("NumberFormatException", format!("For input string: \"{prefix}\""), Point::ParseLength)
            }
            // The product allocates whatever the length says; the mock refuses
            // above its maximum, with the text an allocation failure gives.
            WireError::FrameTooLarge { len, .. } => {
                Self::new("IOException", format!("Packet too large, can't allocate {len} bytes."), Point::BodyEof)
            }
            WireError::EmptyPayload => {
                let message = match jdk {
                    Jdk::Eleven => "Index 0 out of bounds for length 0",
                    _ => "0",
                };
                Self::new("ArrayIndexOutOfBoundsException", message, Point::Generate)
            }
            WireError::UnknownType(_) => {
                Self::new("DataFormatException", "received message with unknown type", Point::Generate)
            }
            WireError::Io(io) => Self::from_io(io),
            // A malformed field: the product's message constructors word it
            // per message; the mock's decoder says what it found.
            other => Self::new("DataFormatException", other.to_string(), Point::Generate),
        }
    }

    /// A failed read or write on the socket.
    pub fn from_io(e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::UnexpectedEof => Self::no_more_data(false),
            K::TimedOut | K::WouldBlock => Self::read_timed_out(),
            K::BrokenPipe => Self::new("SocketException", "Broken pipe", Point::Write),
            K::ConnectionAborted => Self::new("SocketException", "Software caused connection abort", Point::Read),
            _ => Self::connection_reset(),
        }
    }

    /// The same exception, thrown from a write (`Session.publish`).
    pub fn on_write(mut self) -> Self {
        self.point = Point::Write;
        self
    }

    /// An `IOException` (2.x's reader writes 181/211 for every one).
    pub fn is_io(&self) -> bool {
        matches!(
            self.class,
            "IOException" | "SocketException" | "SocketTimeoutException" | "SSLException" | "SSLHandshakeException"
        )
    }

    /// A `SocketException` (3.0 on, the reader writes 181/211 for these only).
    pub fn is_socket(&self) -> bool {
        self.class == "SocketException"
    }

    /// `e.getLocalizedMessage()`, as 86 and 2.x print it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `stackTraceToSingleLineString(e)` as `dialect`'s product prints it.
    pub fn single_line(&self, dialect: Dialect, site: Site, jdk: Jdk) -> String {
        let frames = frames(self.point, site, dialect, jdk).join(" ");
        match dialect {
            Dialect::Legacy if self.message.is_empty() => format!("{} ({frames})", self.class),
            Dialect::Legacy => format!("{} ({frames})", self.message),
            _ if self.message.is_empty() => format!("{} ({frames})", self.class),
            _ => format!("{}: {} ({frames})", self.class, self.message),
        }
    }
}

/// Line numbers per tag: 2.6.0, 3.0.0, 4.0.1 (4.0.1 and HEAD agree).
struct Lines {
    eof_length: &'static str,
    eof_body: &'static str,
    receive_length: &'static str,
    receive_body: &'static str,
    parse_length: &'static str,
    generate_call: &'static str,
    generate_throw: &'static str,
    read_call: &'static str,
    publish: &'static str,
    reader_run: &'static str,
    phase1_receive: &'static str,
    phase1_connect: &'static str,
    phase1_publish: &'static str,
    phase1_tls: &'static str,
    tls_handshake: &'static str,
    phase1_new_instance: &'static str,
    new_instance_inner: &'static [&'static str],
    phase1_call: &'static str,
    phase2_receive: &'static str,
    phase2_publish: &'static str,
    phase2_call: &'static str,
    /// From `connectAsDataServer`'s caller to the thread's run.
    reconnect_tail: &'static [&'static str],
    /// The JDK's `Thread.run` ends the trace (2.x's ListenerThread overrides run).
    ends_in_thread: bool,
}

const V2_6: Lines = Lines {
    eof_length: "Session.java:422",
    eof_body: "Session.java:444",
    receive_length: "",
    receive_body: "",
    parse_length: "Session.java:430",
    generate_call: "Session.java:457",
    generate_throw: "ReplicationMsg.java:215",
    read_call: "Session.java:418",
    publish: "Session.java:370",
    reader_run: "ServerReader.java:106",
    phase1_receive: "ReplicationBroker.java:1275",
    phase1_connect: "ReplicationBroker.java:1250",
    phase1_publish: "ReplicationBroker.java:1271",
    phase1_tls: "ReplicationBroker.java:1251",
    tls_handshake: "ReplSessionSecurity.java:198",
    phase1_new_instance: "ReplicationBroker.java:1285",
    new_instance_inner: &["ReplicationBroker.java:542"],
    phase1_call: "ReplicationBroker.java:941",
    phase2_receive: "ReplicationBroker.java:1483",
    phase2_publish: "ReplicationBroker.java:1478",
    phase2_call: "ReplicationBroker.java:963",
    reconnect_tail: &[
        "ReplicationBroker.java:806",
        "ReplicationBroker.java:2212",
        "ReplicationBroker.java:2463",
        "ReplicationDomain.java:741",
        "ListenerThread.java:97",
    ],
    ends_in_thread: false,
};

const V3_0: Lines = Lines {
    eof_length: "Session.java:452",
    eof_body: "Session.java:452",
    receive_length: "Session.java:414",
    receive_body: "Session.java:420",
    parse_length: "Session.java:415",
    generate_call: "Session.java:427",
    generate_throw: "ReplicationMsg.java:213",
    read_call: "Session.java:448",
    publish: "Session.java:370",
    reader_run: "ServerReader.java:96",
    phase1_receive: "ReplicationBroker.java:1094",
    phase1_connect: "ReplicationBroker.java:1079",
    phase1_publish: "ReplicationBroker.java:1090",
    phase1_tls: "ReplicationBroker.java:1080",
    tls_handshake: "ReplSessionSecurity.java:196",
    phase1_new_instance: "ReplicationBroker.java:1103",
    new_instance_inner: &["ReplicationBroker.java:433", "ReplicationBroker.java:405"],
    phase1_call: "ReplicationBroker.java:792",
    phase2_receive: "ReplicationBroker.java:1206",
    phase2_publish: "ReplicationBroker.java:1203",
    phase2_call: "ReplicationBroker.java:812",
    reconnect_tail: &[
        "ReplicationBroker.java:2174",
        "ReplicationBroker.java:2434",
        "ReplicationDomain.java:744",
        "ReplicationDomain.java:2965",
    ],
    ends_in_thread: true,
};

const V4_0: Lines = Lines {
    eof_length: "Session.java:441",
    eof_body: "Session.java:441",
    receive_length: "Session.java:403",
    receive_body: "Session.java:409",
    parse_length: "Session.java:404",
    generate_call: "Session.java:416",
    generate_throw: "ReplicationMsg.java:206",
    read_call: "Session.java:437",
    publish: "Session.java:359",
    reader_run: "ServerReader.java:86",
    phase1_receive: "ReplicationBroker.java:1097",
    phase1_connect: "ReplicationBroker.java:1082",
    phase1_publish: "ReplicationBroker.java:1093",
    phase1_tls: "ReplicationBroker.java:1083",
    tls_handshake: "ReplSessionSecurity.java:185",
    phase1_new_instance: "ReplicationBroker.java:1106",
    new_instance_inner: &["ReplicationBroker.java:441", "ReplicationBroker.java:413"],
    phase1_call: "ReplicationBroker.java:797",
    phase2_receive: "ReplicationBroker.java:1209",
    phase2_publish: "ReplicationBroker.java:1206",
    phase2_call: "ReplicationBroker.java:817",
    reconnect_tail: &[
        "ReplicationBroker.java:2168",
        "ReplicationBroker.java:2430",
        "ReplicationDomain.java:755",
        "ReplicationDomain.java:2967",
    ],
    ends_in_thread: true,
};

fn frames(point: Point, site: Site, dialect: Dialect, jdk: Jdk) -> Vec<&'static str> {
    let l = match dialect {
        Dialect::Legacy => &V2_6,
        Dialect::Dotted => &V3_0,
        Dialect::Modern => &V4_0,
    };
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |f: &'static str| {
        if !f.is_empty() {
            out.push(f);
        }
    };
    // Inside Session.receive (or the handshake, or the reply check).
    match point {
        Point::LengthEof => {
            push(l.eof_length);
            push(l.receive_length);
        }
        Point::BodyEof => {
            push(l.eof_body);
            push(l.receive_body);
        }
        Point::ParseLength => {
            push("NumberFormatException.java:65");
            push(jdk.parse_int_frame());
            push(l.parse_length);
        }
        Point::Generate => {
            push(l.generate_throw);
            push(l.generate_call);
        }
        Point::Read => {
            push(l.read_call);
            push(l.receive_length);
        }
        Point::Write => push(l.publish),
        Point::Tls => push(l.tls_handshake),
        Point::Connect => {}
        Point::NotStart => l.new_instance_inner.iter().for_each(|f| push(f)),
        Point::NotTopology => {}
    }
    // The caller.
    match site {
        Site::Reader => push(l.reader_run),
        Site::Phase1 | Site::Phase2 => {
            let (own, call) = match (site, point) {
                (Site::Phase1, Point::Tls) => (l.phase1_tls, l.phase1_call),
                (Site::Phase1, Point::NotStart) => (l.phase1_new_instance, l.phase1_call),
                (Site::Phase1, Point::Write) => (l.phase1_publish, l.phase1_call),
                (Site::Phase1, Point::Connect) => (l.phase1_connect, l.phase1_call),
                (Site::Phase1, _) => (l.phase1_receive, l.phase1_call),
                (_, Point::Write) => (l.phase2_publish, l.phase2_call),
                (_, _) => (l.phase2_receive, l.phase2_call),
            };
            push(own);
            push(call);
            l.reconnect_tail.iter().for_each(|f| push(f));
            if l.ends_in_thread {
                push(jdk.thread_frame());
            }
        }
    }
    out.truncate(21);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_end_of_stream_in_each_version() {
        let e = JavaException::no_more_data(false);
        assert_eq!(
            e.single_line(Dialect::Modern, Site::Reader, Jdk::Eight),
            "IOException: no more data (Session.java:441 Session.java:403 ServerReader.java:86)"
        );
        assert_eq!(
            JavaException::no_more_data(true).single_line(Dialect::Modern, Site::Reader, Jdk::Eight),
            "IOException: no more data (Session.java:441 Session.java:409 ServerReader.java:86)",
            "mid-frame"
        );
        assert_eq!(
            e.single_line(Dialect::Dotted, Site::Reader, Jdk::EightEarly),
            "IOException: no more data (Session.java:452 Session.java:414 ServerReader.java:96)"
        );
    }

    #[test]
    fn a_bad_type_after_the_handshake() {
        let e = JavaException::from_wire(&WireError::UnknownType(99), Jdk::Eight);
        assert_eq!(e.message(), "received message with unknown type");
        assert_eq!(
            e.single_line(Dialect::Modern, Site::Reader, Jdk::Eight),
            "DataFormatException: received message with unknown type (ReplicationMsg.java:206 Session.java:416 ServerReader.java:86)"
        );
        assert!(!e.is_io() && !e.is_socket(), "53 in every version");
    }

    #[test]
    fn a_length_that_is_not_hex_is_javas_number_format_text() {
        let e = JavaException::from_wire(&WireError::BadLengthPrefix { prefix: "GET / HT".into() }, Jdk::Eleven);
        assert_eq!(e.message(), "For input string: \"GET / HT\"");
        assert!(e
            .single_line(Dialect::Modern, Site::Reader, Jdk::Eleven)
            .contains("(NumberFormatException.java:65 Integer.java:652 Session.java:404"));
    }

    #[test]
    fn the_ds_reconnect_path_ends_in_the_listener_thread() {
        let e = JavaException::no_more_data(false);
        assert_eq!(
            e.single_line(Dialect::Modern, Site::Phase2, Jdk::Eleven),
            "IOException: no more data (Session.java:441 Session.java:403 ReplicationBroker.java:1209 ReplicationBroker.java:817 ReplicationBroker.java:2168 ReplicationBroker.java:2430 ReplicationDomain.java:755 ReplicationDomain.java:2967 Thread.java:834)"
        );
        assert_eq!(
            e.single_line(Dialect::Legacy, Site::Phase1, Jdk::Eight),
            "no more data (Session.java:422 ReplicationBroker.java:1275 ReplicationBroker.java:941 ReplicationBroker.java:806 ReplicationBroker.java:2212 ReplicationBroker.java:2463 ReplicationDomain.java:741 ListenerThread.java:97)",
            "2.x: the message, no class name; its listener thread overrides run"
        );
    }

    #[test]
    fn io_families_decide_181_or_53() {
        assert!(JavaException::connection_reset().is_socket());
        assert!(JavaException::read_timed_out().is_io() && !JavaException::read_timed_out().is_socket());
        assert!(JavaException::no_more_data(false).is_io() && !JavaException::no_more_data(false).is_socket());
    }
}
