//! Which certificate authorities a device trusts for `https://` and `wss://`: the public web PKI
//! (Mozilla's roots, the default), or only the organisation's own CA for a relay that a user
//! organisation runs with a private certificate.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::NetError;

/// The device's TLS trust.
#[derive(Debug, Clone, Default)]
pub enum Trust {
    /// The public web roots (`webpki-roots`), for relays with a certificate from a public CA.
    #[default]
    PublicRoots,
    /// Only these CA certificates (DER), for an organisation's own CA. Public roots are then
    /// not trusted, which also pins the relay to that CA.
    OwnCa(Arc<Vec<CertificateDer<'static>>>),
}

impl Trust {
    /// Trust only the CA certificates in `pem` (one or more `CERTIFICATE` blocks).
    pub fn own_ca_pem(pem: &[u8]) -> Result<Self, NetError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| NetError::BadCertificate)?;
        let mut check = RootCertStore::empty();
        for cert in &certs {
            check
                .add(cert.clone())
                .map_err(|_| NetError::BadCertificate)?;
        }
        if certs.is_empty() {
            return Err(NetError::BadCertificate);
        }
        Ok(Self::OwnCa(Arc::new(certs)))
    }

    /// The rustls client configuration (ring provider) for the WebSocket.
    pub(super) fn rustls_config(&self) -> Result<rustls::ClientConfig, NetError> {
        let mut roots = RootCertStore::empty();
        match self {
            Self::PublicRoots => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Self::OwnCa(certs) => {
                for cert in certs.iter() {
                    roots
                        .add(cert.clone())
                        .map_err(|_| NetError::BadCertificate)?;
                }
            }
        }
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|_| NetError::BadCertificate)?
        .with_root_certificates(roots)
        .with_no_client_auth())
    }

    /// The same trust for the HTTP client (enrolment, tokens).
    pub(super) fn ureq_roots(&self) -> ureq::tls::RootCerts {
        match self {
            Self::PublicRoots => ureq::tls::RootCerts::WebPki,
            Self::OwnCa(certs) => ureq::tls::RootCerts::new_with_certs(
                &certs
                    .iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_or_with_garbage_is_refused() {
        assert!(matches!(
            Trust::own_ca_pem(b""),
            Err(NetError::BadCertificate)
        ));
        assert!(matches!(
            Trust::own_ca_pem(
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
            ),
            Err(NetError::BadCertificate)
        ));
        assert!(Trust::PublicRoots.rustls_config().is_ok());
    }
}
