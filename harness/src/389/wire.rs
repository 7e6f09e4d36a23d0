//! The 389 flavor's wire protocol: an **emulation** of the LDAP operations
//! and 389-DS's replication extended operations, not the LDAP wire (no
//! BER). The exchange has the real one's steps and meanings: a bind with the
//! agreement's credentials, the start-replication extended request and its
//! response (the replication code and the consumer's RUV), the replicated
//! updates with their CSNs, the end-replication request; the OIDs are the
//! real ones.
//!
//! ```text
//!  0          4        5          9
//!  +----------+--------+----------+-------------------------------------+
//!  | length   | op     | msgid    | fields, per op (below)              |
//!  | u32 BE   | 1 byte | u32 BE   |                                     |
//!  +----------+--------+----------+-------------------------------------+
//!   length = bytes after the length field (op + msgid + fields)
//!
//!  field kinds:
//!   str   : u16 BE byte count, UTF-8 bytes
//!   bytes : u32 BE byte count, bytes          (an extended operation's value)
//!   int   : i32 BE                            (an LDAP result code)
//!   list  : u16 BE count, that many str
//! ```
//!
//! | op | message (LDAP protocol op it stands for) | fields |
//! |---|---|---|
//! | 0x60 | BindRequest | dn str, mechanism str, credentials str |
//! | 0x61 | BindResponse | result int, matchedDN str, diagnostic str |
//! | 0x42 | UnbindRequest | none |
//! | 0x66 | a replicated update (Add, Modify, Delete) with the replication update-info control | kind u8 (0 add, 1 modify, 2 delete), dn str, nsuniqueid str, CSN str, changes str |
//! | 0x67 | the update's response | result int, diagnostic str, flags u8 (1: the abort-session control, `REPL_ABORT_SESSION_OID`) |
//! | 0x77 | ExtendedRequest | OID str, value bytes |
//! | 0x78 | ExtendedResponse | result int, OID str, value bytes |
//!
//! The extended operations' values are decoded separately ([`super::extop`]),
//! as the real server decodes their BER: a frame that reads fine can still
//! carry a value the other side cannot decode.
//!
//! The decoder checks the length against the maximum before it buffers a
//! frame, bounds every count by the bytes left, and never panics on junk.

use bytes::{BufMut, BytesMut};

use crate::error::WireError;

/// Bytes of the length field.
pub const HEADER_LEN: usize = 4;
/// Default largest frame (everything after the length field).
pub const DEFAULT_MAX_FRAME_LEN: usize = 1 << 20;

/// Op bytes (the LDAP protocol-op tags they stand for).
pub mod op {
    pub const BIND_REQUEST: u8 = 0x60;
    pub const BIND_RESPONSE: u8 = 0x61;
    pub const UNBIND_REQUEST: u8 = 0x42;
    pub const UPDATE: u8 = 0x66;
    pub const UPDATE_RESPONSE: u8 = 0x67;
    pub const EXTENDED_REQUEST: u8 = 0x77;
    pub const EXTENDED_RESPONSE: u8 = 0x78;
}

/// What a replicated update does to its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Add,
    Modify,
    Delete,
}

impl UpdateKind {
    fn byte(self) -> u8 {
        match self {
            UpdateKind::Add => 0,
            UpdateKind::Modify => 1,
            UpdateKind::Delete => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(UpdateKind::Add),
            1 => Some(UpdateKind::Modify),
            2 => Some(UpdateKind::Delete),
            _ => None,
        }
    }
}

/// One message of the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Bind {
        id: u32,
        dn: String,
        mechanism: String,
        credentials: String,
    },
    BindResult {
        id: u32,
        rc: i32,
        matched: String,
        diagnostic: String,
    },
    Unbind {
        id: u32,
    },
    Update {
        id: u32,
        kind: UpdateKind,
        dn: String,
        uniqueid: String,
        csn: String,
        changes: String,
    },
    /// `abort_session`: the consumer asks the supplier to end its session
    /// (the abort-session control a consumer with a release timeout sends).
    UpdateResult {
        id: u32,
        rc: i32,
        diagnostic: String,
        abort_session: bool,
    },
    Extended {
        id: u32,
        oid: String,
        value: Vec<u8>,
    },
    ExtendedResult {
        id: u32,
        rc: i32,
        oid: String,
        value: Vec<u8>,
    },
}

impl Msg {
    pub fn id(&self) -> u32 {
        match self {
            Msg::Bind { id, .. }
            | Msg::BindResult { id, .. }
            | Msg::Unbind { id }
            | Msg::Update { id, .. }
            | Msg::UpdateResult { id, .. }
            | Msg::Extended { id, .. }
            | Msg::ExtendedResult { id, .. } => *id,
        }
    }

    fn op(&self) -> u8 {
        match self {
            Msg::Bind { .. } => op::BIND_REQUEST,
            Msg::BindResult { .. } => op::BIND_RESPONSE,
            Msg::Unbind { .. } => op::UNBIND_REQUEST,
            Msg::Update { .. } => op::UPDATE,
            Msg::UpdateResult { .. } => op::UPDATE_RESPONSE,
            Msg::Extended { .. } => op::EXTENDED_REQUEST,
            Msg::ExtendedResult { .. } => op::EXTENDED_RESPONSE,
        }
    }

    /// The message's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        name(self.op()).unwrap_or("unknown")
    }
}

fn name(op: u8) -> Option<&'static str> {
    Some(match op {
        op::BIND_REQUEST => "BindRequest",
        op::BIND_RESPONSE => "BindResponse",
        op::UNBIND_REQUEST => "UnbindRequest",
        op::UPDATE => "UpdateRequest",
        op::UPDATE_RESPONSE => "UpdateResponse",
        op::EXTENDED_REQUEST => "ExtendedRequest",
        op::EXTENDED_RESPONSE => "ExtendedResponse",
        _ => return None,
    })
}

// ---------------------------------------------------------------- fields

/// Field writers, shared with [`super::extop`].
pub(crate) mod put {
    pub fn str(out: &mut Vec<u8>, s: &str) {
        let bytes = s.as_bytes();
        let n = bytes.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&bytes[..n]);
    }

    pub fn bytes(out: &mut Vec<u8>, b: &[u8]) {
        let n = u32::try_from(b.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&b[..n as usize]);
    }

    pub fn int(out: &mut Vec<u8>, v: i32) {
        out.extend_from_slice(&v.to_be_bytes());
    }

    pub fn list(out: &mut Vec<u8>, items: &[String]) {
        let n = items.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(n as u16).to_be_bytes());
        for s in &items[..n] {
            str(out, s);
        }
    }
}

/// A cursor over fields that names the message and field of whatever is
/// wrong and never reads past its buffer (shared with [`super::extop`]).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    msg: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], msg: &'static str) -> Self {
        Self { buf, pos: 0, msg }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or(WireError::MissingField { msg: self.msg, field })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<usize, WireError> {
        let b = self.take(2, field)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn int(&mut self, field: &'static str) -> Result<i32, WireError> {
        let b = self.take(4, field)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn str(&mut self, field: &'static str) -> Result<String, WireError> {
        let n = self.u16(field)?;
        let b = self.take(n, field)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| WireError::BadText { msg: self.msg, field })
    }

    pub fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, WireError> {
        let n = self.u32(field)? as usize;
        Ok(self.take(n, field)?.to_vec())
    }

    pub fn list(&mut self, field: &'static str) -> Result<Vec<String>, WireError> {
        let n = self.u16(field)?;
        // Each item takes at least its 2-byte count: bound before allocating.
        let room = (self.buf.len() - self.pos) / 2;
        if n > room {
            return Err(WireError::MissingField { msg: self.msg, field });
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.str(field)?);
        }
        Ok(items)
    }

    pub fn finish(self) -> Result<(), WireError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes { msg: self.msg, extra: self.buf.len() - self.pos })
        }
    }
}

// ---------------------------------------------------------------- frames

/// The frame body (op, msgid, fields), without the length field.
pub fn encode_body(msg: &Msg) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(msg.op());
    out.extend_from_slice(&msg.id().to_be_bytes());
    match msg {
        Msg::Bind { dn, mechanism, credentials, .. } => {
            put::str(&mut out, dn);
            put::str(&mut out, mechanism);
            put::str(&mut out, credentials);
        }
        Msg::BindResult { rc, matched, diagnostic, .. } => {
            put::int(&mut out, *rc);
            put::str(&mut out, matched);
            put::str(&mut out, diagnostic);
        }
        Msg::Unbind { .. } => {}
        Msg::Update { kind, dn, uniqueid, csn, changes, .. } => {
            out.push(kind.byte());
            put::str(&mut out, dn);
            put::str(&mut out, uniqueid);
            put::str(&mut out, csn);
            put::str(&mut out, changes);
        }
        Msg::UpdateResult { rc, diagnostic, abort_session, .. } => {
            put::int(&mut out, *rc);
            put::str(&mut out, diagnostic);
            out.push(u8::from(*abort_session));
        }
        Msg::Extended { oid, value, .. } => {
            put::str(&mut out, oid);
            put::bytes(&mut out, value);
        }
        Msg::ExtendedResult { rc, oid, value, .. } => {
            put::int(&mut out, *rc);
            put::str(&mut out, oid);
            put::bytes(&mut out, value);
        }
    }
    out
}

/// Appends one whole frame to `dst`; a body over `max` is refused, so a
/// sender never writes what a peer with the same limit would reject.
pub fn encode_frame(msg: &Msg, dst: &mut BytesMut, max: usize) -> Result<(), WireError> {
    let body = encode_body(msg);
    if body.len() > max {
        return Err(WireError::FrameTooLarge { len: body.len(), max });
    }
    dst.reserve(HEADER_LEN + body.len());
    dst.put_u32(body.len() as u32);
    dst.put_slice(&body);
    Ok(())
}

/// The body length announced by a frame's first 4 bytes.
pub fn parse_length(header: &[u8]) -> usize {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(header) {
        *d = *s;
    }
    u32::from_be_bytes(b) as usize
}

/// Decodes one frame from the front of `buf`: `Ok(None)` when more bytes
/// are needed, else the message and the bytes it took. The length is
/// checked against `max` before anything else.
pub fn decode_frame(buf: &[u8], max: usize) -> Result<Option<(Msg, usize)>, WireError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = parse_length(&buf[..HEADER_LEN]);
    if len > max {
        return Err(WireError::FrameTooLarge { len, max });
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    Ok(Some((decode_body(&buf[HEADER_LEN..HEADER_LEN + len])?, HEADER_LEN + len)))
}

/// Decodes a frame body (op, msgid, fields).
pub fn decode_body(body: &[u8]) -> Result<Msg, WireError> {
    let (&op, _) = body.split_first().ok_or(WireError::EmptyPayload)?;
    let msg_name = name(op).ok_or(WireError::UnknownType(op))?;
    let mut r = Reader::new(&body[1..], msg_name);
    let id = r.u32("messageID")?;
    let msg = match op {
        op::BIND_REQUEST => {
            Msg::Bind { id, dn: r.str("dn")?, mechanism: r.str("mechanism")?, credentials: r.str("credentials")? }
        }
        op::BIND_RESPONSE => Msg::BindResult {
            id,
            rc: r.int("resultCode")?,
            matched: r.str("matchedDN")?,
            diagnostic: r.str("diagnosticMessage")?,
        },
        op::UNBIND_REQUEST => Msg::Unbind { id },
        op::UPDATE => {
            let kind_byte = r.u8("kind")?;
            let kind = UpdateKind::from_byte(kind_byte).ok_or_else(|| WireError::BadNumber {
                msg: msg_name,
                field: "kind",
                text: kind_byte.to_string(),
            })?;
            Msg::Update {
                id,
                kind,
                dn: r.str("dn")?,
                uniqueid: r.str("nsuniqueid")?,
                csn: r.str("CSN")?,
                changes: r.str("changes")?,
            }
        }
        op::UPDATE_RESPONSE => Msg::UpdateResult {
            id,
            rc: r.int("resultCode")?,
            diagnostic: r.str("diagnosticMessage")?,
            abort_session: r.u8("flags")? & 1 == 1,
        },
        op::EXTENDED_REQUEST => Msg::Extended { id, oid: r.str("requestName")?, value: r.bytes("requestValue")? },
        op::EXTENDED_RESPONSE => Msg::ExtendedResult {
            id,
            rc: r.int("resultCode")?,
            oid: r.str("responseName")?,
            value: r.bytes("responseValue")?,
        },
        other => return Err(WireError::UnknownType(other)),
    };
    r.finish()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(m: &Msg) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_frame(m, &mut b, DEFAULT_MAX_FRAME_LEN).expect("encode");
        b.to_vec()
    }

    #[test]
    fn an_unbind_is_length_op_and_msgid() {
        assert_eq!(frame(&Msg::Unbind { id: 7 }), [0, 0, 0, 5, 0x42, 0, 0, 0, 7]);
    }

    #[test]
    fn every_message_round_trips() {
        let all = [
            Msg::Bind {
                id: 1,
                dn: "cn=replication manager,cn=config".into(),
                mechanism: "SIMPLE".into(),
                credentials: "pw".into(),
            },
            Msg::BindResult { id: 1, rc: 49, matched: String::new(), diagnostic: String::new() },
            Msg::Unbind { id: 9 },
            Msg::Update {
                id: 3,
                kind: UpdateKind::Modify,
                dn: "uid=a,dc=x".into(),
                uniqueid: "u".into(),
                csn: "6b025b4c000000010000".into(),
                changes: "replace: description".into(),
            },
            Msg::UpdateResult { id: 3, rc: 0, diagnostic: String::new(), abort_session: true },
            Msg::Extended { id: 2, oid: "2.16.840.1.113730.3.5.12".into(), value: vec![0, 1, 2] },
            Msg::ExtendedResult { id: 2, rc: 0, oid: "2.16.840.1.113730.3.5.4".into(), value: vec![] },
        ];
        for m in all {
            let f = frame(&m);
            assert_eq!(decode_frame(&f, DEFAULT_MAX_FRAME_LEN).expect("decodes"), Some((m.clone(), f.len())));
        }
    }

    #[test]
    fn bad_frames_are_errors_never_panics() {
        assert!(matches!(decode_frame(&[0xff, 0xff, 0xff, 0xff], 1024), Err(WireError::FrameTooLarge { .. })));
        assert_eq!(decode_frame(&[0, 0, 0, 9, 0x42], 1024).expect("partial"), None);
        assert!(matches!(decode_frame(&[0, 0, 0, 5, 0x13, 0, 0, 0, 1], 1024), Err(WireError::UnknownType(0x13))));
        assert!(matches!(
            decode_frame(&[0, 0, 0, 6, 0x42, 0, 0, 0, 1, 0], 1024),
            Err(WireError::TrailingBytes { extra: 1, .. })
        ));
        assert!(matches!(
            decode_frame(&[0, 0, 0, 7, 0x60, 0, 0, 0, 1, 0xff, 0xff], 1024),
            Err(WireError::MissingField { field: "dn", .. })
        ));
        assert!(matches!(decode_frame(&[0, 0, 0, 0], 1024), Err(WireError::EmptyPayload)));
    }
}
