//! LDIF exactly as `ldapsearch -LLL` (OpenLDAP 2.5, `ldif_sput_wrap`) prints it.
//!
//! - A value is plain (`name: value`) when its first byte is a graphic
//!   character other than `:` and `<`, its last byte is graphic, every byte
//!   is printable ASCII (0x20–0x7e), and the attribute is not binary;
//!   otherwise it is base64 (`name:: …`). An empty value prints `name:`.
//! - Folding: a counter holds the current line's length, `name: ` included;
//!   before each value character, once the counter is 78 or more, `\n ` is
//!   written and the counter restarts at 1. No line exceeds 78 columns; a
//!   fold can fall before or after a space, so readers delete exactly `\n `.
//! - Entries are separated by one blank line, with one after the last
//!   (every response, the search result included, is preceded by a newline
//!   except the first). No `version:` line, no comments.

use base64::Engine;

/// OpenLDAP's `LDIF_LINE_WIDTH` (2.5 and 2.6).
pub const LINE_WIDTH: usize = 78;

/// True when ldapsearch would print the value as is.
pub fn is_plain(name: &str, value: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.contains(";binary") || lower == "userpassword" || lower == "2.5.4.35" {
        return value.is_empty();
    }
    let graphic = |b: u8| b.is_ascii_graphic();
    match (value.first(), value.last()) {
        (None, _) | (_, None) => true,
        (Some(&first), Some(&last)) => {
            graphic(first)
                && first != b':'
                && first != b'<'
                && graphic(last)
                && value.iter().all(|b| (0x20..=0x7e).contains(b))
        }
    }
}

/// One `name: value` line (or lines, folded), with its newline.
pub fn line(name: &str, value: &[u8]) -> String {
    if value.is_empty() {
        return format!("{name}:\n");
    }
    let (sep, text) = if is_plain(name, value) {
        (": ", String::from_utf8_lossy(value).into_owned())
    } else {
        (":: ", base64::engine::general_purpose::STANDARD.encode(value))
    };
    let mut out = String::with_capacity(name.len() + sep.len() + text.len() + text.len() / LINE_WIDTH * 2 + 1);
    out.push_str(name);
    out.push_str(sep);
    let mut col = name.len() + sep.len();
    for c in text.chars() {
        if col >= LINE_WIDTH {
            out.push_str("\n ");
            col = 1;
        }
        out.push(c);
        col += 1;
    }
    out.push('\n');
    out
}

/// Builds an LDIF document, entry by entry.
#[derive(Debug, Default, Clone)]
pub struct Ldif {
    out: String,
    open: bool,
}

impl Ldif {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts an entry (closing the previous one).
    pub fn entry(&mut self, dn: &str) -> &mut Self {
        self.close();
        self.out.push_str(&line("dn", dn.as_bytes()));
        self.open = true;
        self
    }

    /// One value of the current entry.
    pub fn attr(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Self {
        self.out.push_str(&line(name, value.as_ref()));
        self
    }

    /// Every value of a multi-valued attribute.
    pub fn attrs<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(&mut self, name: &str, values: I) -> &mut Self {
        for v in values {
            self.attr(name, v);
        }
        self
    }

    fn close(&mut self) {
        if self.open {
            self.out.push('\n');
            self.open = false;
        }
    }

    /// The document: every entry followed by one blank line; empty when no entry.
    pub fn finish(mut self) -> String {
        self.close();
        self.out
    }
}

/// The RDN value of a suffix in the mapping tree, as ldapsearch shows the
/// entry's DN: `dc=example,dc=com` → `dc\3Dexample\2Cdc\3Dcom`.
pub fn escape_rdn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        match c {
            '=' => out.push_str("\\3D"),
            ',' => out.push_str("\\2C"),
            '+' => out.push_str("\\2B"),
            '"' => out.push_str("\\22"),
            '\\' => out.push_str("\\5C"),
            '<' => out.push_str("\\3C"),
            '>' => out.push_str("\\3E"),
            ';' => out.push_str("\\3B"),
            _ => out.push(c),
        }
    }
    out
}

/// `cn=replica,cn=SUFFIX,cn=mapping tree,cn=config`.
pub fn replica_dn(suffix: &str) -> String {
    format!("cn=replica,cn={},cn=mapping tree,cn=config", escape_rdn_value(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_as_openldap_does_at_78_columns() {
        let got = line(
            "nsds5replicaLastUpdateStatus",
            b"Error (0) Replica acquired successfully: Incremental update succeeded",
        );
        assert_eq!(
            got,
            "nsds5replicaLastUpdateStatus: Error (0) Replica acquired successfully: Increme\n ntal update succeeded\n"
        );
        let json = r#"{"state": "green", "ldap_rc": "0", "ldap_rc_text": "Success", "repl_rc": "0", "repl_rc_text": "replica acquired", "date": "2026-11-22T03:02:33Z", "message": "Error (0) Replica acquired successfully: Incremental update succeeded"}"#;
        let want = "nsds5replicaLastUpdateStatusJSON: {\"state\": \"green\", \"ldap_rc\": \"0\", \"ldap_rc_\n text\": \"Success\", \"repl_rc\": \"0\", \"repl_rc_text\": \"replica acquired\", \"date\":\n  \"2026-11-22T03:02:33Z\", \"message\": \"Error (0) Replica acquired successfully:\n  Incremental update succeeded\"}\n";
        assert_eq!(line("nsds5replicaLastUpdateStatusJSON", json.as_bytes()), want);
        assert!(want.lines().all(|l| l.len() <= LINE_WIDTH));
        let ruv = "{replica 1 ldap://localhost:3891} 6b025b4c000000010000 6b026011000000010000";
        assert_eq!(
            line("nsds50ruv", ruv.as_bytes()),
            "nsds50ruv: {replica 1 ldap://localhost:3891} 6b025b4c000000010000 6b0260110000\n 00010000\n"
        );
    }

    #[test]
    fn base64_where_ldapsearch_uses_it() {
        assert_eq!(
            line("nsds5replicaChangesSentSinceStartup", b"1:3/0 "),
            "nsds5replicaChangesSentSinceStartup:: MTozLzAg\n"
        );
        assert_eq!(line("nsds5replicaChangesSentSinceStartup", b""), "nsds5replicaChangesSentSinceStartup:\n");
        assert!(!is_plain("a", b" lead"));
        assert!(!is_plain("a", b":colon"));
        assert!(!is_plain("a", b"<url"));
        assert!(!is_plain("a", b"two\nlines"));
        assert!(!is_plain("a", "caf\u{e9}".as_bytes()), "valid UTF-8 is still base64");
        assert!(!is_plain("userPassword", b"secret"));
        assert!(is_plain("a", b"plain text: yes"));
        let l = line("nsds5replicaLastUpdateStatus", b"Error (12) Incremental update aborted: x\n y");
        assert_eq!(
            l,
            "nsds5replicaLastUpdateStatus:: RXJyb3IgKDEyKSBJbmNyZW1lbnRhbCB1cGRhdGUgYWJvcnR\n lZDogeAogeQ==\n"
        );
    }

    #[test]
    fn entries_end_with_one_blank_line_each() {
        let mut l = Ldif::new();
        l.entry("cn=a").attr("cn", "a").entry("cn=b").attrs("objectClass", ["top", "x"]);
        assert_eq!(l.finish(), "dn: cn=a\ncn: a\n\ndn: cn=b\nobjectClass: top\nobjectClass: x\n\n");
        assert_eq!(Ldif::new().finish(), "");
        assert_eq!(
            replica_dn("dc=example,dc=com"),
            "cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config"
        );
    }
}
