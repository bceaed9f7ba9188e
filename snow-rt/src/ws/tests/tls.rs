//! `serve_tls`: a real TLS handshake with a generated self-signed
//! certificate, and a plain client that cannot disturb the server.

use super::super::*;
use super::harness::*;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls;

type TlsClient = tungstenite::WebSocket<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>;

fn tls_connect(
    port: u16,
    path: &str,
    cert: &rustls::pki_types::CertificateDer<'static>,
) -> TlsClient {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (ws, resp) = tungstenite::client(
        format!("ws://localhost:{port}{path}"),
        rustls::StreamOwned::new(conn, tcp),
    )
    .expect("TLS websocket handshake");
    assert_eq!(resp.status(), 101);
    ws
}

fn text(ws: &mut TlsClient) -> String {
    loop {
        match ws.read().expect("read") {
            tungstenite::Message::Text(t) => return t.as_str().to_string(),
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[test]
fn serve_tls_speaks_websocket_over_tls() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, ck.cert.pem()).unwrap();
    std::fs::write(&key_path, ck.key_pair.serialize_pem()).unwrap();
    let acceptor = tls::acceptor(cert_path.to_str().unwrap(), key_path.to_str().unwrap()).unwrap();
    let srv = TestServer::start_full("tls", false, test_config(), Some(acceptor));

    let mut a = tls_connect(srv.port, "/welcome/a", ck.cert.der());
    let mut b = tls_connect(srv.port, "/welcome/b", ck.cert.der());
    assert_eq!(text(&mut a), "welcome");
    assert_eq!(text(&mut b), "welcome");
    // A plain-text client on the TLS port fails its handshake, harmlessly.
    let tcp = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(tungstenite::client(format!("ws://127.0.0.1:{}/", srv.port), tcp).is_err());

    a.send(tungstenite::Message::text("except:over tls"))
        .unwrap();
    assert_eq!(text(&mut b), "over tls");
    a.send(tungstenite::Message::text("echo:mine")).unwrap();
    assert_eq!(text(&mut a), "mine", "broadcast_except skipped the sender");
    a.send(tungstenite::Message::text("close:4000:tls bye"))
        .unwrap();
    loop {
        match a.read() {
            Ok(tungstenite::Message::Close(Some(f))) => {
                assert_eq!((u16::from(f.code), f.reason.as_str()), (4000, "tls bye"));
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("expected a close frame: {e}"),
        }
    }
    let ia = srv.ctx.conn_of("/welcome/a");
    match srv.ctx.close_of(ia) {
        Ev::Close { code, .. } => assert_eq!(code, 4000),
        _ => unreachable!(),
    }
}

#[test]
fn tls_key_that_does_not_match_is_an_error() {
    let one = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let two = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, one.cert.pem()).unwrap();
    std::fs::write(&key_path, two.key_pair.serialize_pem()).unwrap();
    let err = tls::acceptor(cert_path.to_str().unwrap(), key_path.to_str().unwrap())
        .err()
        .expect("a mismatched key must be refused");
    assert!(
        err.contains("cannot use the TLS certificate and key"),
        "{err}"
    );
    let missing_key = tls::acceptor(cert_path.to_str().unwrap(), "/nonexistent/key.pem")
        .err()
        .unwrap();
    assert!(
        missing_key.contains("cannot read TLS key file /nonexistent/key.pem"),
        "{missing_key}"
    );
}
