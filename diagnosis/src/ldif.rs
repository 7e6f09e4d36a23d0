//! LDIF as `ldapsearch -LLL` prints it: entries separated by blank lines,
//! lines folded at 76 columns (a continuation starts with one space), values
//! base64-encoded after `::`. Read line by line. Shared: the 389 family's
//! `agreements.ldif` and `replica.ldif` go through it.

use crate::case::{for_each_line, Case};
use crate::input::ReadStats;

/// One attribute value with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Attribute name, lower case.
    pub attr: String,
    pub value: String,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub line: u64,
    pub values: Vec<Value>,
}

impl Entry {
    /// The first value of an attribute (names are case-insensitive).
    pub fn get(&self, attr: &str) -> Option<&Value> {
        let attr = attr.to_ascii_lowercase();
        self.values.iter().find(|v| v.attr == attr)
    }

    pub fn all(&self, attr: &str) -> impl Iterator<Item = &Value> {
        let attr = attr.to_ascii_lowercase();
        self.values.iter().filter(move |v| v.attr == attr)
    }
}

/// Decodes a `::` value: standard base64, padding optional (the `base64`
/// crate; whitespace a wrapped value may carry is dropped first).
pub fn base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;
    const LDIF: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    LDIF.decode(compact).ok()
}

/// Reads the entries of an LDIF file; lines that are not `attr: value` are counted.
pub fn read(case: &Case, rel: &str, stats: &mut ReadStats) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut cur = Entry::default();
    // The logical line being unfolded: (first line number, text).
    let mut pending: Option<(u64, String)> = None;
    let mut bad = 0u64;
    let finish_line = |p: Option<(u64, String)>, cur: &mut Entry, bad: &mut u64| {
        let Some((n, text)) = p else { return };
        if text.starts_with('#') {
            return;
        }
        let Some((attr, rest)) = text.split_once(':') else {
            *bad += 1;
            return;
        };
        let value = if let Some(b64) = rest.strip_prefix(':') {
            match base64(b64.trim()) {
                Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                None => {
                    *bad += 1;
                    return;
                }
            }
        } else if rest.starts_with('<') {
            return;
        } else {
            rest.strip_prefix(' ').unwrap_or(rest).to_owned()
        };
        if cur.values.is_empty() {
            cur.line = n;
        }
        cur.values.push(Value { attr: attr.trim().to_ascii_lowercase(), value, line: n });
    };
    let present = for_each_line(case, rel, stats, |n, line, _| {
        if let Some(cont) = line.strip_prefix(' ') {
            match &mut pending {
                Some((_, text)) => text.push_str(cont),
                None => bad += 1,
            }
            return;
        }
        finish_line(pending.take(), &mut cur, &mut bad);
        if line.trim().is_empty() {
            if !cur.values.is_empty() {
                entries.push(std::mem::take(&mut cur));
            }
            return;
        }
        pending = Some((n, line.to_owned()));
    });
    if !present {
        return None;
    }
    finish_line(pending.take(), &mut cur, &mut bad);
    if !cur.values.is_empty() {
        entries.push(cur);
    }
    for _ in 0..bad {
        stats.unknown(rel);
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("RXJyb3IgKDAp").as_deref(), Some(&b"Error (0)"[..]));
        assert_eq!(base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64("YQ").as_deref(), Some(&b"a"[..]), "padding optional");
        assert_eq!(base64("RXJy b3Ig\nKDAp").as_deref(), Some(&b"Error (0)"[..]));
        assert_eq!(base64("!!"), None);
    }
}
