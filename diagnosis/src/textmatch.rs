//! Matching a message text against a catalog template (`%s` placeholders),
//! with the captures. Keys on text, never on numeric msgIDs.
//!
//! Tolerant of what people do to lines: an address removed after `at`
//! (the seed article's `…RS(5678) at for domain …` and `… at` at the end).

/// The captures of `text` against `template`, or `None`.
pub fn captures<'t>(template: &str, text: &'t str) -> Option<Vec<&'t str>> {
    let mut lits = Literals { rest: Some(template) }.peekable();
    // Most templates fail on their first literal: nothing is allocated for them.
    let mut rest = text.strip_prefix(lits.next()?)?;
    let mut caps = Vec::with_capacity(8);
    while let Some(lit) = lits.next() {
        let last = lits.peek().is_none();
        if last {
            if lit.is_empty() {
                caps.push(rest);
                return Some(caps);
            }
            // The last literal ends the text.
            if let Some(cap) = rest.strip_suffix(lit) {
                caps.push(cap);
                return Some(caps);
            }
            // A redacted capture before it: "… at for" lost one space.
            if let Some(shorter) = lit.strip_prefix(' ') {
                if let Some(cap) = rest.strip_suffix(shorter).filter(|c| c.is_empty()) {
                    caps.push(cap);
                    return Some(caps);
                }
            }
            return None;
        }
        if lit.is_empty() {
            return None;
        }
        match rest.find(lit) {
            Some(at) => {
                caps.push(&rest[..at]);
                rest = &rest[at + lit.len()..];
            }
            None => {
                // "at %s for" with the address removed reads "at for": an empty capture.
                let shorter = lit.strip_prefix(' ')?;
                let r = rest.strip_prefix(shorter)?;
                caps.push("");
                rest = r;
            }
        }
    }
    Some(caps)
}

/// The literal pieces between `%s` placeholders (a byte scan: no searcher to build).
struct Literals<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Literals<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let b = s.as_bytes();
        for i in 0..b.len().saturating_sub(1) {
            if b[i] == b'%' && b[i + 1] == b's' {
                self.rest = Some(&s[i + 2..]);
                return Some(&s[..i]);
            }
        }
        self.rest = None;
        Some(s)
    }
}

/// Like [`captures`], also accepting a text that ends where a trailing
/// `" at %s"` was cut off entirely (`… for domain "x" at`).
pub fn captures_loose<'t>(template: &str, text: &'t str) -> Option<Vec<&'t str>> {
    if let Some(c) = captures(template, text) {
        return Some(c);
    }
    if let Some(stem) = template.strip_suffix(" at %s") {
        if let Some(t) = text.strip_suffix(" at").or_else(|| text.strip_suffix(" at ")) {
            let mut c = captures(stem, t)?;
            c.push("");
            return Some(c);
        }
    }
    None
}

/// The id inside `RS(…)` or `DS(…)` at the start of `text`.
pub fn server_id(text: &str) -> Option<&str> {
    let open = text.find('(')?;
    let close = text[open..].find(')')? + open;
    Some(text[open + 1..close].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RS181: &str = "The connection from this replication server RS(%s) to replication server RS(%s) at %s for domain \"%s\" has failed";

    #[test]
    fn full_and_redacted_addresses() {
        let full = "The connection from this replication server RS(ds-1) to replication server RS(ds-2) at ds-2.example.com/127.0.0.2:8989 for domain \"dc=example,dc=com\" has failed";
        assert_eq!(
            captures(RS181, full),
            Some(vec!["ds-1", "ds-2", "ds-2.example.com/127.0.0.2:8989", "dc=example,dc=com"])
        );
        let seed = "The connection from this replication server RS(1234) to replication server RS(5678) at for domain \"dc=example,dc=com\" has failed";
        assert_eq!(captures(RS181, seed), Some(vec!["1234", "5678", "", "dc=example,dc=com"]));
        let tpl =
            "Replication server RS(%s) has accepted a connection from directory server DS(%s) for domain \"%s\" at %s";
        let seed = "Replication server RS(1234) has accepted a connection from directory server DS(5678) for domain \"dc=example,dc=com\" at";
        assert_eq!(captures_loose(tpl, seed), Some(vec!["1234", "5678", "dc=example,dc=com", ""]));
        assert_eq!(captures(tpl, "something else"), None);
    }

    #[test]
    fn ids_in_parentheses() {
        assert_eq!(server_id("RS(ds-2) for domain"), Some("ds-2"));
        assert_eq!(server_id("no id"), None);
    }
}
