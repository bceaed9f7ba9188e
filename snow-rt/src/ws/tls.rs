//! TLS for `Ws.serve_tls`: rustls (ring provider) from PEM files.

use std::io::BufReader;
use std::sync::Arc;
use tokio_rustls::rustls;

/// A TLS acceptor from a PEM certificate chain and a PEM private key (PKCS#8,
/// PKCS#1 or SEC1). `Err` is the message for stderr.
pub(crate) fn acceptor(
    cert_path: &str,
    key_path: &str,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    let cert_file = std::fs::File::open(cert_path)
        .map_err(|e| format!("cannot read TLS certificate file {cert_path}: {e}"))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(cert_file))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("invalid TLS certificate file {cert_path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "invalid TLS certificate file {cert_path}: no PEM certificate found"
        ));
    }
    let key_file = std::fs::File::open(key_path)
        .map_err(|e| format!("cannot read TLS key file {key_path}: {e}"))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(key_file))
        .map_err(|e| format!("invalid TLS key file {key_path}: {e}"))?
        .ok_or_else(|| format!("invalid TLS key file {key_path}: no PEM private key found"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!("cannot use the TLS certificate and key ({cert_path}, {key_path}): {e}")
        })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
