//! The field encoding every message uses: NUL-terminated text and decimal
//! numbers, `true`/`false`, raw bytes; a reader that names the message and
//! field of whatever is wrong, and never reads past the payload.

use crate::error::WireError;

// ---------------------------------------------------------------- writing

pub(super) fn put_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

pub(super) fn put_num(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    put_text(out, &n.to_string());
}

pub(super) fn put_bool(out: &mut Vec<u8>, b: bool) {
    put_text(out, if b { "true" } else { "false" });
}

pub(super) fn put_list(out: &mut Vec<u8>, items: &[String]) {
    for item in items {
        put_text(out, item);
    }
}

// ---------------------------------------------------------------- reading

/// A cursor over a payload's fields.
pub(super) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    msg: &'static str,
}

impl<'a> Fields<'a> {
    /// A cursor over `payload` after its type byte; `msg` names the message in errors.
    pub fn new(payload: &'a [u8], msg: &'static str) -> Self {
        Self { buf: payload, pos: 1, msg }
    }

    /// The message's name, for errors.
    pub fn msg(&self) -> &'static str {
        self.msg
    }

    /// The whole payload's length (type byte included).
    pub fn payload_len(&self) -> usize {
        self.buf.len()
    }

    pub fn byte(&mut self, field: &'static str) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(WireError::MissingField { msg: self.msg, field })?;
        self.pos += 1;
        Ok(b)
    }

    pub fn text(&mut self, field: &'static str) -> Result<String, WireError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let nul = rest.iter().position(|&b| b == 0).ok_or(WireError::MissingField { msg: self.msg, field })?;
        let text = std::str::from_utf8(&rest[..nul]).map_err(|_| WireError::BadText { msg: self.msg, field })?;
        self.pos += nul + 1;
        Ok(text.to_owned())
    }

    pub fn num<T: std::str::FromStr>(&mut self, field: &'static str) -> Result<T, WireError> {
        let text = self.text(field)?;
        text.parse().map_err(|_| WireError::BadNumber { msg: self.msg, field, text })
    }

    pub fn boolean(&mut self, field: &'static str) -> Result<bool, WireError> {
        match self.text(field)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(WireError::BadNumber { msg: self.msg, field, text: other.to_owned() }),
        }
    }

    pub fn rest_list(&mut self, field: &'static str) -> Result<Vec<String>, WireError> {
        let mut items = Vec::new();
        while self.pos < self.buf.len() {
            items.push(self.text(field)?);
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
