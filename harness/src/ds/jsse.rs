//! TLS the way the product's Java does it: the texts JSSE gives a failed
//! handshake (105's last argument, 119's exception), and a client that
//! checks the peer's certificate chain but not its name.
//!
//! The product's replication sockets are JSSE `SSLSocket`s over the JDK's
//! default PKIX trust manager (`ReplSessionSecurity`,
//! `TrustStoreBackend`); no server code sets an endpoint identification
//! algorithm, so a certificate that does not name its host is accepted.
//! The mock's TLS is rustls: this module words what rustls found as JSSE
//! would have worded it on the same side of the same handshake.

use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

use super::java::Jdk;
use crate::error::HarnessError;
use crate::pki::{CertDefect, Pki, TlsContexts};

const PKIX_BUILD: &str = "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target";
const PKIX_VALIDITY: &str =
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed";
const PKIX_SIGNATURE: &str =
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: signature check failed";

/// JSSE's text for a certificate its trust manager refused (Java 8's
/// `Alerts.getSSLException` puts the cause's class name first).
fn pkix(text: &str, jdk: Jdk) -> String {
    match jdk {
        Jdk::Eleven => text.to_owned(),
        _ => format!("sun.security.validator.ValidatorException: {text}"),
    }
}

fn rejected_certificate(c: &CertificateError, jdk: Jdk) -> String {
    match c {
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => pkix(PKIX_VALIDITY, jdk),
        CertificateError::BadSignature => pkix(PKIX_SIGNATURE, jdk),
        _ => pkix(PKIX_BUILD, jdk),
    }
}

/// The alert a JDK client sends when it refuses a server certificate with
/// `defect` (jdk11u `CertificateMessage.getCertificateAlert`; Java 8 sends
/// `certificate_unknown` for every refusal).
fn java_client_alert(defect: CertDefect, jdk: Jdk) -> &'static str {
    match (jdk, defect) {
        (Jdk::Eleven, CertDefect::Expired) => "certificate_expired",
        (Jdk::Eleven, CertDefect::NotYetValid) => "bad_certificate",
        _ => "certificate_unknown",
    }
}

/// `HandshakeFailure` → `handshake_failure`, as JSSE names alerts.
fn snake(alert: &rustls::AlertDescription) -> String {
    let mut out = String::new();
    for (i, ch) in format!("{alert:?}").chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn closed_during_handshake(jdk: Jdk) -> String {
    match jdk {
        Jdk::Eleven => "Remote host terminated the handshake".to_owned(),
        _ => "Remote host closed connection during handshake".to_owned(),
    }
}

fn not_tls(jdk: Jdk) -> String {
    match jdk {
        Jdk::Eleven => "Unsupported or unrecognized SSL message".to_owned(),
        _ => "Unrecognized SSL message, plaintext connection?".to_owned(),
    }
}

fn rustls_error(e: &std::io::Error) -> Option<&Error> {
    e.get_ref().and_then(|x| x.downcast_ref::<Error>())
}

/// What the accepting side's 105 says for a failed server-side handshake,
/// or `None` when JSSE would not have thrown an `SSLException` (a reset, a
/// timeout: the product logs nothing then). `own` is the acceptor's own
/// certificate's defect: a refused server certificate comes back as the
/// alert the JDK client would have sent for it.
pub fn server_side(e: &std::io::Error, own: CertDefect, jdk: Jdk) -> Option<String> {
    use std::io::ErrorKind as K;
    let Some(tls) = rustls_error(e) else {
        return match e.kind() {
            K::UnexpectedEof => Some(closed_during_handshake(jdk)),
            _ => None,
        };
    };
    Some(match tls {
        Error::InvalidCertificate(c) => rejected_certificate(c, jdk),
        Error::NoCertificatesPresented => match jdk {
            Jdk::Eleven => "Empty client certificate chain".to_owned(),
            _ => "null cert chain".to_owned(),
        },
        Error::AlertReceived(a) if is_certificate_alert(a) => {
            format!("Received fatal alert: {}", java_client_alert(own, jdk))
        }
        Error::AlertReceived(a) => format!("Received fatal alert: {}", snake(a)),
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            not_tls(jdk)
        }
        other => other.to_string(),
    })
}

fn is_certificate_alert(a: &rustls::AlertDescription) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        a,
        A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
    )
}

/// How the initiating side's handshake failed, in Java's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFailure {
    /// `SocketTimeoutException` (212 on a DS's final connection).
    Timeout,
    /// An `SSLHandshakeException` with JSSE's text.
    Handshake(String),
    /// A `SocketException` (a reset during the handshake).
    Reset,
}

/// What a client-side handshake failure was for the product's Java.
pub fn client_side(e: &std::io::Error, jdk: Jdk) -> ClientFailure {
    use std::io::ErrorKind as K;
    let Some(tls) = rustls_error(e) else {
        return match e.kind() {
            K::TimedOut => ClientFailure::Timeout,
            K::UnexpectedEof => ClientFailure::Handshake(closed_during_handshake(jdk)),
            _ => ClientFailure::Reset,
        };
    };
    ClientFailure::Handshake(match tls {
        Error::InvalidCertificate(c) => rejected_certificate(c, jdk),
        // A JDK server that refuses the client's certificate sends certificate_unknown.
        Error::AlertReceived(a) if is_certificate_alert(a) => "Received fatal alert: certificate_unknown".to_owned(),
        Error::AlertReceived(a) => format!("Received fatal alert: {}", snake(a)),
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            not_tls(jdk)
        }
        other => other.to_string(),
    })
}

/// A read that failed on a TLS session because the peer sent an alert (in
/// TLS 1.3 a client's handshake can end before the server has checked the
/// client's certificate: the refusal comes with the first read).
pub fn read_failure(e: &std::io::Error) -> Option<super::java::JavaException> {
    match rustls_error(e)? {
        Error::AlertReceived(a) if is_certificate_alert(a) => {
            Some(super::java::JavaException::ssl("Received fatal alert: certificate_unknown".into()))
        }
        Error::AlertReceived(a) => Some(super::java::JavaException::ssl(format!("Received fatal alert: {}", snake(a)))),
        _ => None,
    }
}

/// Checks the server's chain (issuer, dates, signatures) as the JDK's PKIX
/// trust manager does, and not its name, as the product's replication
/// client does not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // webpki checks the chain first, the name last: a name error means the chain is good.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The server's TLS contexts with a client that does not check host names.
pub fn java_like(ctx: TlsContexts, pki: &Pki) -> Result<TlsContexts, HarnessError> {
    let err = |e: String| HarnessError::Config(format!("test PKI: {e}"));
    let ca = CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).map_err(|e| err(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(|e| err(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut client = ctx.connector.config().as_ref().clone();
    client.dangerous().set_certificate_verifier(Arc::new(ChainOnly(inner)));
    Ok(TlsContexts { acceptor: ctx.acceptor, connector: TlsConnector::from(Arc::new(client)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_err(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn an_untrusted_client_certificate_is_pkix_text_and_java_8_names_the_validator() {
        let e = tls_err(Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(server_side(&e, CertDefect::None, Jdk::Eleven).as_deref(), Some(PKIX_BUILD));
        let j8 = server_side(&e, CertDefect::None, Jdk::Eight).expect("text");
        assert!(j8.starts_with("sun.security.validator.ValidatorException: PKIX path building failed"), "{j8}");
    }

    #[test]
    fn a_refused_server_certificate_comes_back_as_the_jdk_clients_alert() {
        let e = tls_err(Error::AlertReceived(rustls::AlertDescription::CertificateExpired));
        assert_eq!(
            server_side(&e, CertDefect::Expired, Jdk::Eleven).as_deref(),
            Some("Received fatal alert: certificate_expired")
        );
        assert_eq!(
            server_side(&e, CertDefect::NotYetValid, Jdk::Eleven).as_deref(),
            Some("Received fatal alert: bad_certificate")
        );
        assert_eq!(
            server_side(&e, CertDefect::Expired, Jdk::Eight).as_deref(),
            Some("Received fatal alert: certificate_unknown")
        );
        let e = tls_err(Error::AlertReceived(rustls::AlertDescription::HandshakeFailure));
        assert_eq!(
            server_side(&e, CertDefect::None, Jdk::Eleven).as_deref(),
            Some("Received fatal alert: handshake_failure")
        );
    }

    #[test]
    fn resets_and_timeouts_are_silent_and_a_closed_probe_is_an_ssl_exception() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(server_side(&reset, CertDefect::None, Jdk::Eleven), None);
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "Read timed out");
        assert_eq!(server_side(&timeout, CertDefect::None, Jdk::Eleven), None);
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(
            server_side(&eof, CertDefect::None, Jdk::Eleven).as_deref(),
            Some("Remote host terminated the handshake")
        );
        assert_eq!(client_side(&timeout, Jdk::Eleven), ClientFailure::Timeout);
    }
}
