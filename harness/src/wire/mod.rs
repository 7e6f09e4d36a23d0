//! The replication wire protocol: messages and their pure encode/decode.
//!
//! Modelled on the real replication protocol (OpenDJ `protocol/Session.java`,
//! `protocol/*Msg.java`): every message travels in one frame, an 8-digit ASCII
//! hex length followed by that many payload bytes. The payload's first byte is
//! the message type; start messages then carry the protocol version byte, the
//! generation id as NUL-terminated decimal text and the group id byte; all other
//! fields are NUL-terminated decimal or text.
//!
//! ```text
//!  0        8        9        10
//!  +--------+--------+--------+------------------------------------------+
//!  | length | type   | fields ...                                        |
//!  | 8 hex  | 1 byte | "text\0" "123\0" raw bytes, per message below     |
//!  +--------+--------+---------------------------------------------------+
//!   length = payload bytes (type byte included), e.g. "0000001c"
//!
//!  start messages (20 server start, 21 RS start, 34 RS start to a DS):
//!  +------+---------+----------------+---------+---------------------------+
//!  | type | version | generation id  | group   | baseDN\0 serverId\0 ...   |
//!  | 1 B  | 1 B     | decimal text\0 | 1 B     | per message               |
//!  +------+---------+----------------+---------+---------------------------+
//! ```
//!
//! Field order per message (as `getBytes` writes it in the real product):
//! - 20 `ServerStart` (DS→RS): header, baseDN, serverId, serverURL, maxReceiveDelay,
//!   maxReceiveQueue, maxSendDelay, maxSendQueue, windowSize, heartbeatInterval (ms),
//!   sslEncryption (`true`/`false`), then the server state (CSNs, one field each, to the end).
//! - 21 `ReplServerStart` (RS↔RS): header, baseDN, serverId, serverURL, windowSize,
//!   sslEncryption, degradedStatusThreshold, server state.
//! - 34 `ReplServerStartDs` (RS→DS): header, baseDN, serverId, serverURL, windowSize,
//!   sslEncryption, degradedStatusThreshold, weight, connectedDSNumber, server state.
//! - 27 `StartSession` (DS→RS): status, assured flag, assured mode, safe-data level (one byte
//!   each), then referral URLs (text fields to the end). The real message ends with ASN.1
//!   sequences; text fields are a documented simplification.
//! - 26 `Topology`: DS count, then per DS id, RS id, generation id, status; RS count, then per
//!   RS id, generation id, server URL (all decimal or text fields).
//! - 9 `Heartbeat`, 35 `Stop`: the type byte alone.
//! - 33 `CtHeartbeat`: the CSN. 8 `Window`: numAck.
//! - 22 `Update` (a MODIFY): CSN, DN, entry UUID, changes (text).
//!
//! Server ids are text on the wire (`1234` up to DS 6.x, `ds-1` from DS 7 on).
//!
//! Code map: this module holds the frame (length prefix, type byte, the
//! message enum and its dispatch); `fields` the field encoding and the
//! reading cursor; `start` the four start messages; `topology` `TopologyMsg`
//! with its bounded counts.

use bytes::{BufMut, BytesMut};

use crate::error::WireError;

mod fields;
mod start;
mod topology;

use fields::{put_num, put_text, Fields};
pub use start::{ReplServerStart, ReplServerStartDs, ServerStart, StartHeader, StartSession};
pub use topology::{DsInfo, RsInfo, Topology};

/// Protocol version this implementation speaks (the real product's current V8).
pub const PROTOCOL_VERSION: u8 = 8;
/// Length of the hex length prefix.
pub const HEADER_LEN: usize = 8;
/// Default maximum payload length accepted by a decoder.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1 << 20;

/// Message type bytes (`protocol/ReplicationMsg.java`).
pub mod msg_type {
    pub const WINDOW: u8 = 8;
    pub const HEARTBEAT: u8 = 9;
    pub const SERVER_START: u8 = 20;
    pub const REPL_SERVER_START: u8 = 21;
    pub const MODIFY: u8 = 22;
    pub const TOPOLOGY: u8 = 26;
    pub const START_SESSION: u8 = 27;
    pub const CT_HEARTBEAT: u8 = 33;
    pub const REPL_SERVER_START_DS: u8 = 34;
    pub const STOP: u8 = 35;
}

/// A change carried between servers (the real MODIFY message, reduced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub csn: String,
    pub dn: String,
    pub entry_uuid: String,
    pub changes: String,
}

/// Every message the mock servers exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplMsg {
    ServerStart(ServerStart),
    ReplServerStart(ReplServerStart),
    ReplServerStartDs(ReplServerStartDs),
    StartSession(StartSession),
    Topology(Topology),
    Heartbeat,
    CtHeartbeat { csn: String },
    Stop,
    Window { num_ack: u64 },
    Update(Update),
}

impl ReplMsg {
    /// The message's type byte.
    pub fn type_byte(&self) -> u8 {
        use msg_type::*;
        match self {
            ReplMsg::ServerStart(_) => SERVER_START,
            ReplMsg::ReplServerStart(_) => REPL_SERVER_START,
            ReplMsg::ReplServerStartDs(_) => REPL_SERVER_START_DS,
            ReplMsg::StartSession(_) => START_SESSION,
            ReplMsg::Topology(_) => TOPOLOGY,
            ReplMsg::Heartbeat => HEARTBEAT,
            ReplMsg::CtHeartbeat { .. } => CT_HEARTBEAT,
            ReplMsg::Stop => STOP,
            ReplMsg::Window { .. } => WINDOW,
            ReplMsg::Update(_) => MODIFY,
        }
    }

    /// The real product's class name, as its log lines name messages.
    pub fn name(&self) -> &'static str {
        match self {
            ReplMsg::ServerStart(_) => "ServerStartMsg",
            ReplMsg::ReplServerStart(_) => "ReplServerStartMsg",
            ReplMsg::ReplServerStartDs(_) => "ReplServerStartDSMsg",
            ReplMsg::StartSession(_) => "StartSessionMsg",
            ReplMsg::Topology(_) => "TopologyMsg",
            ReplMsg::Heartbeat => "HeartbeatMsg",
            ReplMsg::CtHeartbeat { .. } => "ChangeTimeHeartbeatMsg",
            ReplMsg::Stop => "StopMsg",
            ReplMsg::Window { .. } => "WindowMsg",
            ReplMsg::Update(_) => "ModifyMsg",
        }
    }
}

/// The version both sides use: the lower of the two.
pub fn negotiate_version(ours: u8, theirs: u8) -> u8 {
    ours.min(theirs)
}

// ---------------------------------------------------------------- encoding

/// Encodes a message's payload (type byte included, no length prefix).
pub fn encode_payload(msg: &ReplMsg) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(msg.type_byte());
    match msg {
        ReplMsg::ServerStart(m) => start::encode_server_start(&mut out, m),
        ReplMsg::ReplServerStart(m) => start::encode_repl_server_start(&mut out, m),
        ReplMsg::ReplServerStartDs(m) => start::encode_repl_server_start_ds(&mut out, m),
        ReplMsg::StartSession(m) => start::encode_start_session(&mut out, m),
        ReplMsg::Topology(t) => topology::encode(&mut out, t),
        ReplMsg::Heartbeat | ReplMsg::Stop => {}
        ReplMsg::CtHeartbeat { csn } => put_text(&mut out, csn),
        ReplMsg::Window { num_ack } => put_num(&mut out, num_ack),
        ReplMsg::Update(u) => {
            put_text(&mut out, &u.csn);
            put_text(&mut out, &u.dn);
            put_text(&mut out, &u.entry_uuid);
            put_text(&mut out, &u.changes);
        }
    }
    out
}

/// Appends one whole frame (length prefix and payload) to `dst`.
///
/// Fails when the payload is longer than `max_frame_len`, so a sender never
/// writes what a peer with the same limit would reject.
pub fn encode_frame(msg: &ReplMsg, dst: &mut BytesMut, max_frame_len: usize) -> Result<(), WireError> {
    let payload = encode_payload(msg);
    if payload.len() > max_frame_len {
        return Err(WireError::FrameTooLarge { len: payload.len(), max: max_frame_len });
    }
    dst.reserve(HEADER_LEN + payload.len());
    dst.put_slice(format!("{:08x}", payload.len()).as_bytes());
    dst.put_slice(&payload);
    Ok(())
}

// ---------------------------------------------------------------- decoding

/// Reads the payload length from a frame's first 8 bytes.
pub fn parse_length(header: &[u8]) -> Result<usize, WireError> {
    let mut len: usize = 0;
    for &b in header.iter().take(HEADER_LEN) {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => {
                return Err(WireError::BadLengthPrefix {
                    prefix: String::from_utf8_lossy(&header[..HEADER_LEN.min(header.len())]).into_owned(),
                })
            }
        };
        len = (len << 4) | usize::from(digit);
    }
    Ok(len)
}

/// Decodes one frame from the front of `buf`.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((msg, used)))`: a message and
/// the number of bytes it took. The length is checked against
/// `max_frame_len` before anything else is read.
pub fn decode_frame(buf: &[u8], max_frame_len: usize) -> Result<Option<(ReplMsg, usize)>, WireError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = parse_length(&buf[..HEADER_LEN])?;
    if len > max_frame_len {
        return Err(WireError::FrameTooLarge { len, max: max_frame_len });
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    let msg = decode_payload(&buf[HEADER_LEN..HEADER_LEN + len])?;
    Ok(Some((msg, HEADER_LEN + len)))
}

/// Decodes a payload (type byte first, no length prefix).
pub fn decode_payload(payload: &[u8]) -> Result<ReplMsg, WireError> {
    use msg_type::*;
    let (&ty, _) = payload.split_first().ok_or(WireError::EmptyPayload)?;
    let name = match ty {
        SERVER_START => "ServerStartMsg",
        REPL_SERVER_START => "ReplServerStartMsg",
        REPL_SERVER_START_DS => "ReplServerStartDSMsg",
        START_SESSION => "StartSessionMsg",
        TOPOLOGY => "TopologyMsg",
        HEARTBEAT => "HeartbeatMsg",
        CT_HEARTBEAT => "ChangeTimeHeartbeatMsg",
        STOP => "StopMsg",
        WINDOW => "WindowMsg",
        MODIFY => "ModifyMsg",
        other => return Err(WireError::UnknownType(other)),
    };
    let mut f = Fields::new(payload, name);
    let msg = match ty {
        SERVER_START => ReplMsg::ServerStart(start::decode_server_start(&mut f)?),
        REPL_SERVER_START => ReplMsg::ReplServerStart(start::decode_repl_server_start(&mut f)?),
        REPL_SERVER_START_DS => ReplMsg::ReplServerStartDs(start::decode_repl_server_start_ds(&mut f)?),
        START_SESSION => ReplMsg::StartSession(start::decode_start_session(&mut f)?),
        TOPOLOGY => ReplMsg::Topology(topology::decode(&mut f)?),
        HEARTBEAT => ReplMsg::Heartbeat,
        STOP => ReplMsg::Stop,
        CT_HEARTBEAT => ReplMsg::CtHeartbeat { csn: f.text("CSN")? },
        WINDOW => ReplMsg::Window { num_ack: f.num("numAck")? },
        MODIFY => ReplMsg::Update(Update {
            csn: f.text("CSN")?,
            dn: f.text("DN")?,
            entry_uuid: f.text("entryUUID")?,
            changes: f.text("changes")?,
        }),
        _ => return Err(WireError::UnknownType(ty)),
    };
    f.finish()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_frame_is_length_then_type() {
        let mut buf = BytesMut::new();
        encode_frame(&ReplMsg::Heartbeat, &mut buf, DEFAULT_MAX_FRAME_LEN).expect("encode");
        assert_eq!(&buf[..], b"00000001\x09");
    }

    #[test]
    fn window_carries_decimal_num_ack() {
        let mut buf = BytesMut::new();
        encode_frame(&ReplMsg::Window { num_ack: 50 }, &mut buf, DEFAULT_MAX_FRAME_LEN).expect("encode");
        assert_eq!(&buf[..], b"00000004\x0850\0");
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let err = decode_frame(b"7fffffff", 1024).expect_err("too large");
        assert!(matches!(err, WireError::FrameTooLarge { len: 0x7fff_ffff, max: 1024 }));
    }

    #[test]
    fn non_hex_prefix_is_named_in_the_error() {
        let err = decode_frame(b"GET / HTTP/1.1\r\n", 1024).expect_err("not hex");
        assert_eq!(err.to_string(), "frame length prefix is not 8 hex digits: \"GET / HT\"");
    }

    #[test]
    fn partial_frames_need_more_bytes() {
        assert_eq!(decode_frame(b"0000", 1024).expect("ok"), None);
        assert_eq!(decode_frame(b"00000004\x0850", 1024).expect("ok"), None);
    }

    #[test]
    fn trailing_bytes_after_a_bare_message_are_an_error() {
        let err = decode_frame(b"00000002\x09x", 1024).expect_err("trailing");
        assert!(matches!(err, WireError::TrailingBytes { extra: 1, .. }));
    }

    #[test]
    fn version_negotiates_down() {
        assert_eq!(negotiate_version(8, 4), 4);
        assert_eq!(negotiate_version(3, 8), 3);
    }
}
