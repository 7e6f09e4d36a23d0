//! What a 105 line's error says. The product writes JSSE's own text there
//! (`e.getLocalizedMessage()` of the server side's `SSLException`), so the
//! reading keys on JSSE's wordings, Java 8's and 11's:
//!
//! - the logger refused the other's certificate: `PKIX path building
//!   failed: …` (no trusted issuer), `PKIX path validation failed: …
//!   validity check failed` (expired or not yet valid), Java 8 prefixing
//!   `sun.security.validator.ValidatorException: `;
//! - the other refused the logger's: `Received fatal alert: certificate_expired`,
//!   `bad_certificate`, `certificate_unknown` …;
//! - no client certificate: `Empty client certificate chain` (Java 11),
//!   `null cert chain` (Java 8);
//! - no TLS at all from the other side: `Unsupported or unrecognized SSL
//!   message` (11), `Unrecognized SSL message, plaintext connection?` (8);
//! - a client that hung up during the handshake (a port probe):
//!   `Remote host terminated the handshake` (11), `Remote host closed
//!   connection during handshake` (8): benign, not a TLS problem.

/// What a 105 says went wrong, from the logging (accepting) side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The logger does not trust the issuer of the other's certificate.
    Untrusted,
    /// The other's certificate is outside its validity dates.
    OutOfDates,
    /// The other sent no certificate.
    NoCertificate,
    /// The other refused the logger's certificate with this alert.
    Refused(String),
    /// The other does not speak TLS on that connection.
    NotTls,
    /// The other hung up during the handshake: benign (a probe, a retry).
    HungUp,
    /// Another text.
    Other,
}

/// Reads JSSE's text.
pub fn reason(error: &str) -> Reason {
    let e = error.trim();
    let e = e.strip_prefix("sun.security.validator.ValidatorException: ").unwrap_or(e);
    if e.starts_with("PKIX path building failed") {
        Reason::Untrusted
    } else if e.starts_with("PKIX path validation failed") {
        if e.contains("validity check failed") {
            Reason::OutOfDates
        } else {
            Reason::Untrusted
        }
    } else if e == "Empty client certificate chain" || e == "null cert chain" {
        Reason::NoCertificate
    } else if let Some(alert) = e.strip_prefix("Received fatal alert: ") {
        Reason::Refused(alert.trim().to_owned())
    } else if e.starts_with("Unsupported or unrecognized SSL message") || e.starts_with("Unrecognized SSL message") {
        Reason::NotTls
    } else if e == "Remote host terminated the handshake" || e == "Remote host closed connection during handshake" {
        Reason::HungUp
    } else {
        Reason::Other
    }
}

impl Reason {
    /// How strongly it names what to fix (lower first); `None`: not a TLS
    /// problem at all.
    pub fn rank(&self) -> Option<u8> {
        match self {
            Reason::Untrusted | Reason::OutOfDates | Reason::NoCertificate => Some(0),
            Reason::Refused(_) => Some(1),
            Reason::NotTls => Some(2),
            Reason::Other => Some(3),
            Reason::HungUp => None,
        }
    }

    /// What it means, for the guidance: `logger` accepted the connection
    /// from `other`.
    pub fn describe(&self, logger: &str, other: &str) -> String {
        match self {
            Reason::Untrusted => {
                format!("{logger} does not trust the certificate {other} presents: no CA in {logger}'s truststore issued it")
            }
            Reason::OutOfDates => {
                format!("{logger} refuses the certificate {other} presents: it is expired or not yet valid")
            }
            Reason::NoCertificate => format!("{other} presents no client certificate to {logger}"),
            Reason::Refused(alert) => {
                let what = match alert.as_str() {
                    "certificate_expired" => "it is expired".to_owned(),
                    // jdk11u sends bad_certificate for a certificate not yet valid.
                    "bad_certificate" => "bad_certificate: on Java 11, not yet valid, or a bad signature".to_owned(),
                    "certificate_unknown" => "certificate_unknown: not trusted, or outside its dates".to_owned(),
                    other_alert => other_alert.to_owned(),
                };
                format!("{other} refuses the certificate {logger} presents ({what})")
            }
            Reason::NotTls => format!("{other} does not speak TLS to {logger}: is TLS off on one side?"),
            Reason::HungUp => format!("{other} hung up during the TLS handshake with {logger}"),
            Reason::Other => format!("the TLS handshake from {other} to {logger} fails"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsse_texts_of_java_8_and_11() {
        let build = "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target";
        assert_eq!(reason(build), Reason::Untrusted);
        assert_eq!(reason(&format!("sun.security.validator.ValidatorException: {build}")), Reason::Untrusted);
        assert_eq!(
            reason("PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed"),
            Reason::OutOfDates
        );
        assert_eq!(reason("Received fatal alert: certificate_expired"), Reason::Refused("certificate_expired".into()));
        assert_eq!(reason("null cert chain"), Reason::NoCertificate);
        assert_eq!(reason("Unrecognized SSL message, plaintext connection?"), Reason::NotTls);
        assert_eq!(reason("Remote host terminated the handshake").rank(), None, "a probe that hung up");
    }

    /// A prefix no real log has (the harness's wording before issue 12) is
    /// not a certificate reason.
    #[test]
    fn invented_wordings_are_not_ranked_as_certificate_reasons() {
        assert_eq!(reason("certificate expired on 2026-10-18"), Reason::Other);
        assert!(reason("certificate expired on 2026-10-18").rank() > Reason::Refused("x".into()).rank());
    }
}
