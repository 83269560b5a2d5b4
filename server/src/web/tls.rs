//! Direct HTTPS/WSS: turns a PEM certificate chain and private key into a rustls server
//! configuration on the ring provider (the same crypto as everything else; no aws-lc).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate or key could not be used. Paths are the operator's own configuration,
/// so they are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the TLS certificate chain {path}: {problem}")]
    Certificate { path: String, problem: String },
    #[error("reading the TLS private key {path}: {problem}")]
    Key { path: String, problem: String },
    #[error("the TLS certificate and key do not make a usable configuration: {0}")]
    Config(#[source] rustls::Error),
}

/// Loads `cert` (PEM chain, leaf first) and `key` (PEM PKCS#8, PKCS#1 or SEC1) into a server
/// configuration speaking HTTP/1.1 (WebSocket upgrades need it).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_problem = |problem: String| TlsError::Certificate {
        path: cert.display().to_string(),
        problem,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_problem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_problem(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_problem("no CERTIFICATE block found".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        problem: e.to_string(),
    })?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn self_signed() -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (cert.cert.pem(), cert.signing_key.serialize_pem())
    }

    #[test]
    fn loads_a_matching_certificate_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let config = server_config(
            &write(dir.path(), "cert.pem", &cert),
            &write(dir.path(), "key.pem", &key),
        )
        .unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn refuses_missing_empty_swapped_and_mismatched_files() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let (_, other_key) = self_signed();
        let cert_path = write(dir.path(), "cert.pem", &cert);
        let key_path = write(dir.path(), "key.pem", &key);
        let empty = write(dir.path(), "empty.pem", "");

        let missing = server_config(&dir.path().join("nope.pem"), &key_path).unwrap_err();
        assert!(matches!(missing, TlsError::Certificate { .. }), "{missing}");
        let no_cert = server_config(&empty, &key_path).unwrap_err();
        assert!(matches!(no_cert, TlsError::Certificate { .. }), "{no_cert}");
        let no_key = server_config(&cert_path, &empty).unwrap_err();
        assert!(matches!(no_key, TlsError::Key { .. }), "{no_key}");
        let swapped = server_config(&key_path, &cert_path).unwrap_err();
        assert!(matches!(swapped, TlsError::Certificate { .. }), "{swapped}");
        let mismatched =
            server_config(&cert_path, &write(dir.path(), "other.pem", &other_key)).unwrap_err();
        assert!(matches!(mismatched, TlsError::Config(_)), "{mismatched}");
    }
}
