//! The request-head path on every kind of server: static files and the
//! Origin check on `serve_frames` and `serve_tls` (the compiled-program
//! tests in snowc/cli/tests/web_e2e.rs cover `serve` in depth).

use super::super::*;
use super::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls;

const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Writes `request` on `stream` and reads until the server closes (or,
/// after a `101`, until the end of its head: the connection stays open).
fn exchange<S: Read + Write>(mut stream: S, request: &str) -> String {
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        if out.starts_with(b"HTTP/1.1 101 ") && out.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn tcp(port: u16) -> TcpStream {
    let t = TcpStream::connect(("127.0.0.1", port)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    t
}

fn www() -> (tempfile::TempDir, Arc<std::path::Path>) {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<p>tls home</p>").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "TOP SECRET").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), www.join("out.txt")).unwrap();
    let root = static_files::readable_dir(&www).unwrap();
    (tmp, root)
}

fn no_connect_events(srv: &TestServer) -> bool {
    srv.ctx
        .events
        .lock()
        .iter()
        .all(|e| !matches!(e, Ev::Connect { .. }))
}

#[test]
fn serve_frames_refuses_a_foreign_origin_and_serves_files() {
    let (_tmp, root) = www();
    let mut cfg = test_config();
    cfg.static_dir = Some(root);
    let srv = TestServer::start_with("web-frames", true, cfg);
    let r = exchange(
        tcp(srv.port),
        &format!(
            "GET /x HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: http://evil.example\r\n{UPGRADE}\r\n",
            srv.port
        ),
    );
    assert!(r.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\norigin not allowed\n"), "{r}");
    let r = exchange(tcp(srv.port), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("<p>tls home</p>"),
        "{r}"
    );
    assert!(no_connect_events(&srv));
    // The server's own origin upgrades.
    let r = exchange(
        tcp(srv.port),
        &format!(
            "GET /own HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\nOrigin: http://127.0.0.1:{0}\r\n{UPGRADE}\r\n",
            srv.port
        ),
    );
    assert!(r.starts_with("HTTP/1.1 101 "), "{r}");
    srv.ctx.conn_of("/own");
}

fn tls_stream(
    port: u16,
    cert: &rustls::pki_types::CertificateDer<'static>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
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
    rustls::StreamOwned::new(conn, tcp(port))
}

#[test]
fn serve_tls_serves_files_and_refuses_a_foreign_origin() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (tmp, root) = www();
    let (cert_path, key_path) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_path, ck.cert.pem()).unwrap();
    std::fs::write(&key_path, ck.key_pair.serialize_pem()).unwrap();
    let acceptor = tls::acceptor(cert_path.to_str().unwrap(), key_path.to_str().unwrap()).unwrap();
    let mut cfg = test_config();
    cfg.static_dir = Some(root);
    let srv = TestServer::start_full("web-tls", false, cfg, Some(acceptor));
    let der = ck.cert.der();

    let r = exchange(
        tls_stream(srv.port, der),
        "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("\r\nContent-Length: 15\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\n<p>tls home</p>"), "{r}");
    let r = exchange(
        tls_stream(srv.port, der),
        "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert!(
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("\r\n\r\n"),
        "{r}"
    );
    for target in ["/out.txt", "/../secret.txt", "/%2e%2e/secret.txt"] {
        let r = exchange(
            tls_stream(srv.port, der),
            &format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        );
        assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{target}: {r}");
    }
    let r = exchange(
        tls_stream(srv.port, der),
        &format!("GET /x HTTP/1.1\r\nHost: localhost:{}\r\nOrigin: https://evil.example\r\n{UPGRADE}\r\n", srv.port),
    );
    assert!(r.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{r}");
    assert!(no_connect_events(&srv));
    // What a browser on a page of this server sends.
    let r = exchange(
        tls_stream(srv.port, der),
        &format!(
            "GET /own HTTP/1.1\r\nHost: localhost:{0}\r\nOrigin: https://localhost:{0}\r\n{UPGRADE}\r\n",
            srv.port
        ),
    );
    assert!(r.starts_with("HTTP/1.1 101 "), "{r}");
    srv.ctx.conn_of("/own");
}

#[test]
fn allowed_origins_from_the_config_and_star() {
    let mut cfg = test_config();
    let mut w = Vec::new();
    cfg.origins = origin::Policy::parse("http://localhost:3000", &mut w);
    let srv = TestServer::start_with("web-allowed", false, cfg);
    let up = |origin: &str, path: &str| {
        exchange(
            tcp(srv.port),
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\n{UPGRADE}\r\n"),
        )
    };
    assert!(up("http://localhost:3000", "/listed").starts_with("HTTP/1.1 101 "));
    assert!(up("http://localhost:3001", "/other").starts_with("HTTP/1.1 403 "));
    srv.ctx.conn_of("/listed");
    let mut cfg = test_config();
    cfg.origins = origin::Policy::Any;
    let any = TestServer::start_with("web-any", false, cfg);
    let r = exchange(
        tcp(any.port),
        &format!("GET /any HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null\r\n{UPGRADE}\r\n"),
    );
    assert!(r.starts_with("HTTP/1.1 101 "), "{r}");
    any.ctx.conn_of("/any");
}
