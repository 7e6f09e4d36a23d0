//! A test PKI per topology (rcgen): a CA, and one certificate per server with
//! its host name and addresses as subject alternative names, usable for
//! server and client authentication; or, on request, a defective one: expired,
//! not yet valid, issued by a foreign CA, or missing the server's name.
//!
//! TLS contexts are rustls with the `ring` provider passed explicitly; every
//! replication connection authenticates both sides, as the real product's
//! `setNeedClientAuth(true)` does.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::error::HarnessError;

/// What is wrong with a server's certificate, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertDefect {
    #[default]
    None,
    Expired,
    NotYetValid,
    /// Issued by a CA the other servers do not trust.
    ForeignCa,
    /// Its names are not the server's host name or addresses.
    MissingName,
}

impl CertDefect {
    pub fn parse(text: &str) -> Option<CertDefect> {
        Some(match text {
            "none" => CertDefect::None,
            "expired" => CertDefect::Expired,
            "not-yet-valid" => CertDefect::NotYetValid,
            "foreign-ca" => CertDefect::ForeignCa,
            "missing-name" => CertDefect::MissingName,
            _ => return None,
        })
    }
}

/// Who a certificate is for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub host: String,
    pub addresses: Vec<IpAddr>,
    pub defect: CertDefect,
}

#[derive(Debug)]
struct Issued {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pem: String,
}

/// The CA and every server's certificate.
#[derive(Debug)]
pub struct Pki {
    ca: CertificateDer<'static>,
    ca_pem: String,
    certs: BTreeMap<String, Issued>,
}

fn err(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Config(format!("test PKI: {e}"))
}

fn ca(name: &str) -> Result<(CertificateParams, KeyPair, CertificateDer<'static>, String), HarnessError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(3650);
    p.not_after = now + Duration::days(3650);
    let key = KeyPair::generate().map_err(err)?;
    let cert = p.self_signed(&key).map_err(err)?;
    Ok((p, key, cert.der().clone(), cert.pem()))
}

impl Pki {
    /// A CA, and a certificate for every identity (defective where asked).
    pub fn new(ids: &[Identity]) -> Result<Pki, HarnessError> {
        let (ca_params, ca_key, ca_der, ca_pem) = ca("replharness test CA")?;
        let issuer = Issuer::new(ca_params, ca_key);
        let (foreign_params, foreign_key, _, _) = ca("Foreign CA")?;
        let foreign = Issuer::new(foreign_params, foreign_key);
        let now = OffsetDateTime::now_utc();
        let mut certs = BTreeMap::new();
        for id in ids {
            let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
            p.distinguished_name.push(DnType::CommonName, id.host.as_str());
            if id.defect == CertDefect::MissingName {
                p.subject_alt_names.push(SanType::DnsName("wrong-name.example.com".try_into().map_err(err)?));
            } else {
                p.subject_alt_names.push(SanType::DnsName(id.host.as_str().try_into().map_err(err)?));
                p.subject_alt_names.extend(id.addresses.iter().map(|a| SanType::IpAddress(*a)));
            }
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
            (p.not_before, p.not_after) = match id.defect {
                CertDefect::Expired => (now - Duration::days(400), now - Duration::days(35)),
                CertDefect::NotYetValid => (now + Duration::days(30), now + Duration::days(400)),
                _ => (now - Duration::days(1), now + Duration::days(365)),
            };
            let key = KeyPair::generate().map_err(err)?;
            let by = if id.defect == CertDefect::ForeignCa { &foreign } else { &issuer };
            let cert = p.signed_by(&key, by).map_err(err)?;
            certs.insert(
                id.name.clone(),
                Issued {
                    cert: cert.der().clone(),
                    key: PrivatePkcs8KeyDer::from(key.serialize_der()),
                    pem: cert.pem(),
                },
            );
        }
        Ok(Pki { ca: ca_der, ca_pem, certs })
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A server's certificate, PEM (public: it goes into case folders).
    pub fn cert_pem(&self, name: &str) -> Option<&str> {
        self.certs.get(name).map(|c| c.pem.as_str())
    }

    fn issued(&self, name: &str) -> Result<&Issued, HarnessError> {
        self.certs.get(name).ok_or_else(|| err(format!("no certificate for {name}")))
    }

    fn roots(&self) -> Result<RootCertStore, HarnessError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).map_err(err)?;
        Ok(roots)
    }

    /// The server's TLS contexts: accept with client authentication, connect with its certificate.
    pub fn contexts(&self, name: &str) -> Result<TlsContexts, HarnessError> {
        let own = self.issued(name)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = vec![own.cert.clone()];
        let key = || PrivateKeyDer::Pkcs8(own.key.clone_key());
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(self.roots()?), provider.clone())
            .build()
            .map_err(err)?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key())
            .map_err(err)?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_root_certificates(self.roots()?)
            .with_client_auth_cert(chain, key())
            .map_err(err)?;
        Ok(TlsContexts {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        })
    }
}

/// What a server needs to run TLS.
#[derive(Clone)]
pub struct TlsContexts {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

impl std::fmt::Debug for TlsContexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsContexts")
    }
}

/// The name a client checks the server's certificate against.
pub fn server_name(host: &str) -> Result<ServerName<'static>, HarnessError> {
    ServerName::try_from(host.to_owned()).map_err(err)
}

fn date(t: tokio_rustls::rustls::pki_types::UnixTime) -> String {
    OffsetDateTime::from_unix_timestamp(t.as_secs() as i64)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|_| "?".into())
}

/// A handshake error as a person reads it: the certificate's defect when the
/// error names one.
pub fn describe(e: &std::io::Error) -> String {
    use tokio_rustls::rustls::{CertificateError, Error};
    let Some(tls) = e.get_ref().and_then(|x| x.downcast_ref::<Error>()) else { return e.to_string() };
    match tls {
        Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => "certificate issuer not trusted".into(),
            CertificateError::Expired => "certificate expired".into(),
            CertificateError::ExpiredContext { not_after, .. } => {
                format!("certificate expired on {}", date(*not_after))
            }
            CertificateError::NotValidYet => "certificate not yet valid".into(),
            CertificateError::NotValidYetContext { not_before, .. } => {
                format!("certificate not valid before {}", date(*not_before))
            }
            CertificateError::NotValidForName => "certificate name mismatch".into(),
            CertificateError::NotValidForNameContext { expected, presented } => {
                format!("certificate name mismatch: {} not in [{}]", expected.to_str(), presented.join(", "))
            }
            other => format!("invalid certificate: {other:?}"),
        },
        Error::AlertReceived(a) => format!("the peer refused the handshake ({a:?} alert)"),
        other => other.to_string(),
    }
}
