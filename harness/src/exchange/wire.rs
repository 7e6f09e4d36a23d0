//! The messages bridgeheads exchange, and their pure encode/decode.
//!
//! Exchange 5.5 sends intersite directory replication as mail: the requesting
//! bridgehead's directory service submits an update request to the message
//! transfer agent, which delivers it to the remote site; the reply travels
//! back the same way. The harness stands each such message for one frame on
//! a plain loopback TCP connection (one connection per directed pair of
//! bridgeheads, opened by the sender, as an MTA association is), so that the
//! fault proxy can sit on every directed link and a message that really
//! crossed a socket can be counted. The framing is the harness's own (the
//! product's X.400 and RPC transports are not emulated):
//!
//! ```text
//!  0        4        5
//!  +--------+--------+---------------------------------------------------+
//!  | length | kind   | fields, per kind                                  |
//!  | u32 BE | 1 byte |                                                   |
//!  +--------+--------+---------------------------------------------------+
//!   length = bytes after the length field (the kind byte included)
//!
//!  text = u16 BE byte count, then that many bytes of UTF-8
//!
//!  kind 1, update request (requester -> responder):
//!  +------+------+------+----------------+
//!  | from | to   | nc   | from_usn       |
//!  | text | text | text | u64 BE         |
//!  +------+------+------+----------------+
//!
//!  kind 2, reply (responder -> requester):
//!  +------+------+------+-----------+------+---------+------------------------+
//!  | from | to   | nc   | up_to_usn | more | count   | count x (usn, dn)      |
//!  | text | text | text | u64 BE    | 0|1  | u16 BE  | u64 BE, text           |
//!  +------+------+------+-----------+------+---------+------------------------+
//! ```
//!
//! `from` and `to` are bridgehead names (`BH-LONDON`), `nc` a naming-context
//! DN (`/o=Contoso/ou=PARIS/cn=Configuration`). A reply carries at most
//! [`MAX_OBJECTS`] objects (the product's 512) and `more = 1` when the
//! responder holds further objects past `up_to_usn`. The decoder checks the
//! length against the maximum before anything is allocated, bounds the
//! object count before reserving room for it, and refuses trailing bytes.

use bytes::{BufMut, BytesMut};

use crate::error::WireError;

/// Length of the length prefix.
pub const HEADER_LEN: usize = 4;
/// Default maximum frame length (after the prefix) a decoder accepts.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1 << 20;
/// The most objects one reply carries (the seed's 512).
pub const MAX_OBJECTS: usize = 512;

/// Kind bytes.
pub mod kind {
    pub const REQUEST: u8 = 1;
    pub const REPLY: u8 = 2;
}

/// An update request: "send me what changed in `nc` after `from_usn`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub from: String,
    pub to: String,
    pub nc: String,
    pub from_usn: u64,
}

/// One directory object in a reply: its USN and DN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub usn: u64,
    pub dn: String,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub from: String,
    pub to: String,
    pub nc: String,
    /// The requester is up to date to this USN once it applies the objects.
    pub up_to_usn: u64,
    /// More objects remain past `up_to_usn`: ask again from there.
    pub more: bool,
    pub objects: Vec<Object>,
}

/// Every message bridgeheads exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Reply(Reply),
}

impl Message {
    /// The sending bridgehead.
    pub fn from(&self) -> &str {
        match self {
            Message::Request(r) => &r.from,
            Message::Reply(r) => &r.from,
        }
    }

    /// The bridgehead it is addressed to.
    pub fn to(&self) -> &str {
        match self {
            Message::Request(r) => &r.to,
            Message::Reply(r) => &r.to,
        }
    }

    pub fn kind(&self) -> u8 {
        match self {
            Message::Request(_) => kind::REQUEST,
            Message::Reply(_) => kind::REPLY,
        }
    }

    /// Objects it carries (0 for a request).
    pub fn objects(&self) -> usize {
        match self {
            Message::Request(_) => 0,
            Message::Reply(r) => r.objects.len(),
        }
    }
}

fn put_text(dst: &mut BytesMut, msg: &'static str, field: &'static str, s: &str) -> Result<(), WireError> {
    let len = u16::try_from(s.len()).map_err(|_| WireError::BadNumber {
        msg,
        field,
        text: format!("{} bytes of text (the most is 65535)", s.len()),
    })?;
    dst.put_u16(len);
    dst.put_slice(s.as_bytes());
    Ok(())
}

/// Appends one whole frame; refuses a message longer than `max` or a reply
/// with more than [`MAX_OBJECTS`] objects.
pub fn encode_frame(msg: &Message, dst: &mut BytesMut, max: usize) -> Result<(), WireError> {
    let mut body = BytesMut::new();
    body.put_u8(msg.kind());
    match msg {
        Message::Request(r) => {
            put_text(&mut body, "request", "from", &r.from)?;
            put_text(&mut body, "request", "to", &r.to)?;
            put_text(&mut body, "request", "nc", &r.nc)?;
            body.put_u64(r.from_usn);
        }
        Message::Reply(r) => {
            if r.objects.len() > MAX_OBJECTS {
                return Err(WireError::BadNumber {
                    msg: "reply",
                    field: "count",
                    text: format!("{} objects (the most is {MAX_OBJECTS})", r.objects.len()),
                });
            }
            put_text(&mut body, "reply", "from", &r.from)?;
            put_text(&mut body, "reply", "to", &r.to)?;
            put_text(&mut body, "reply", "nc", &r.nc)?;
            body.put_u64(r.up_to_usn);
            body.put_u8(u8::from(r.more));
            // At most MAX_OBJECTS, checked above.
            body.put_u16(r.objects.len() as u16);
            for o in &r.objects {
                body.put_u64(o.usn);
                put_text(&mut body, "reply", "dn", &o.dn)?;
            }
        }
    }
    if body.len() > max {
        return Err(WireError::FrameTooLarge { len: body.len(), max });
    }
    let len = u32::try_from(body.len()).map_err(|_| WireError::FrameTooLarge { len: body.len(), max })?;
    dst.reserve(HEADER_LEN + body.len());
    dst.put_u32(len);
    dst.put_slice(&body);
    Ok(())
}

/// The frame length a 4-byte prefix announces.
pub fn parse_length(prefix: &[u8]) -> Option<usize> {
    let b: [u8; HEADER_LEN] = prefix.get(..HEADER_LEN)?.try_into().ok()?;
    usize::try_from(u32::from_be_bytes(b)).ok()
}

/// A reading cursor over one frame's fields.
struct Fields<'a> {
    rest: &'a [u8],
    msg: &'static str,
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::MissingField { msg: self.msg, field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn text(&mut self, field: &'static str) -> Result<String, WireError> {
        let n = usize::from(self.u16(field)?);
        let b = self.take(n, field)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| WireError::BadText { msg: self.msg, field })
    }

    fn end(self) -> Result<(), WireError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes { msg: self.msg, extra: self.rest.len() })
        }
    }
}

/// Decodes one frame's payload (the bytes after the length prefix).
pub fn decode_payload(payload: &[u8]) -> Result<Message, WireError> {
    let (&k, body) = payload.split_first().ok_or(WireError::EmptyPayload)?;
    match k {
        kind::REQUEST => {
            let mut f = Fields { rest: body, msg: "request" };
            let r =
                Request { from: f.text("from")?, to: f.text("to")?, nc: f.text("nc")?, from_usn: f.u64("from_usn")? };
            f.end()?;
            Ok(Message::Request(r))
        }
        kind::REPLY => {
            let mut f = Fields { rest: body, msg: "reply" };
            let (from, to, nc) = (f.text("from")?, f.text("to")?, f.text("nc")?);
            let up_to_usn = f.u64("up_to_usn")?;
            let more = match f.u8("more")? {
                0 => false,
                1 => true,
                other => return Err(WireError::BadNumber { msg: "reply", field: "more", text: other.to_string() }),
            };
            let count = usize::from(f.u16("count")?);
            if count > MAX_OBJECTS {
                return Err(WireError::BadNumber {
                    msg: "reply",
                    field: "count",
                    text: format!("{count} objects (the most is {MAX_OBJECTS})"),
                });
            }
            // Bounded above, and each object needs at least 10 bytes.
            let mut objects = Vec::with_capacity(count.min(f.rest.len() / 10));
            for _ in 0..count {
                objects.push(Object { usn: f.u64("usn")?, dn: f.text("dn")? });
            }
            f.end()?;
            Ok(Message::Reply(Reply { from, to, nc, up_to_usn, more, objects }))
        }
        other => Err(WireError::UnknownType(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(n: usize) -> Message {
        Message::Reply(Reply {
            from: "BH-PARIS".into(),
            to: "BH-LONDON".into(),
            nc: "/o=Contoso/ou=PARIS".into(),
            up_to_usn: 5223,
            more: n == MAX_OBJECTS,
            objects: (0..n)
                .map(|i| Object { usn: 4712 + i as u64, dn: format!("/o=Contoso/ou=PARIS/cn={i}") })
                .collect(),
        })
    }

    #[test]
    fn frames_have_the_documented_layout() {
        let msg = Message::Request(Request { from: "A".into(), to: "B".into(), nc: "N".into(), from_usn: 258 });
        let mut buf = BytesMut::new();
        encode_frame(&msg, &mut buf, DEFAULT_MAX_FRAME_LEN).expect("encodes");
        assert_eq!(&buf[..], &[0, 0, 0, 18, 1, 0, 1, b'A', 0, 1, b'B', 0, 1, b'N', 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(parse_length(&buf), Some(18));
        assert_eq!(decode_payload(&buf[HEADER_LEN..]).expect("decodes"), msg);
    }

    #[test]
    fn a_full_reply_round_trips_and_more_than_512_is_refused_both_ways() {
        let msg = reply(MAX_OBJECTS);
        let mut buf = BytesMut::new();
        encode_frame(&msg, &mut buf, DEFAULT_MAX_FRAME_LEN).expect("encodes");
        assert_eq!(decode_payload(&buf[HEADER_LEN..]).expect("decodes"), msg);
        let err = encode_frame(&reply(MAX_OBJECTS + 1), &mut BytesMut::new(), DEFAULT_MAX_FRAME_LEN).expect_err("513");
        assert!(err.to_string().contains("513 objects"), "{err}");
        // A count field of 513 written by someone else.
        let mut payload = buf[HEADER_LEN..].to_vec();
        let at = 1 + 2 + 8 + 2 + 9 + 2 + 19 + 8 + 1;
        payload[at..at + 2].copy_from_slice(&513u16.to_be_bytes());
        assert!(matches!(decode_payload(&payload), Err(WireError::BadNumber { field: "count", .. })));
    }

    #[test]
    fn a_frame_over_the_maximum_is_refused_when_encoding() {
        let err = encode_frame(&reply(100), &mut BytesMut::new(), 64).expect_err("too large");
        assert!(matches!(err, WireError::FrameTooLarge { max: 64, .. }), "{err}");
    }

    #[test]
    fn bad_payloads_are_errors_naming_the_field() {
        assert!(matches!(decode_payload(&[]), Err(WireError::EmptyPayload)));
        assert!(matches!(decode_payload(&[9]), Err(WireError::UnknownType(9))));
        assert!(matches!(decode_payload(&[1, 0, 5, b'a']), Err(WireError::MissingField { field: "from", .. })));
        assert!(matches!(decode_payload(&[1, 0, 1, 0xff]), Err(WireError::BadText { field: "from", .. })));
        let mut buf = BytesMut::new();
        let msg = Message::Request(Request { from: "A".into(), to: "B".into(), nc: "N".into(), from_usn: 1 });
        encode_frame(&msg, &mut buf, 100).expect("encodes");
        let mut long = buf[HEADER_LEN..].to_vec();
        long.push(0);
        assert!(matches!(decode_payload(&long), Err(WireError::TrailingBytes { extra: 1, .. })));
    }
}
