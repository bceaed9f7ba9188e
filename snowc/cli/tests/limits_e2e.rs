//! Limits and bad input against a compiled Snow server (tests/ws/limits.snow,
//! a text-only `Ws.serve`) whose limits are set small through the SNOW_WS_*
//! environment variables: each test checks the close code the offending
//! client gets, the code `on_close` saw (announced to an observer), and that
//! another connection carries on. Also `Ws.serve_tls` end to end with a
//! self-signed certificate made by the test, and its certificate errors.

mod common;

use common::wsproc::*;
use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message;

const LIMITS: &str = "tests/ws/limits.snow";

#[test]
fn oversized_message_closes_1009_and_others_continue() {
    let p = start_server(LIMITS, &[("SNOW_WS_MAX_MESSAGE_BYTES", "1024")]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    let fits = "y".repeat(1000);
    assert_eq!(ask_for(&mut a, &fits, "y"), fits);
    send_text(&mut a, &"z".repeat(2000));
    assert_eq!(read_close(&mut a).0, 1009);
    assert_eq!(observed_close(&mut obs, ida), 1009);
    carries_on(&mut b);
}

#[test]
fn invalid_utf8_closes_1007_and_others_continue() {
    let p = start_server(LIMITS, &[]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    // Fragmented: the first fragment is valid, the second is not.
    let f1 = Frame::message(b"ok ".to_vec(), OpCode::Data(Data::Text), false);
    let f2 = Frame::message(vec![0xce, 0xba, 0xff], OpCode::Data(Data::Continue), true);
    a.send(Message::Frame(f1)).unwrap();
    a.send(Message::Frame(f2)).unwrap();
    assert_eq!(read_close(&mut a).0, 1007);
    assert_eq!(observed_close(&mut obs, ida), 1007);
    carries_on(&mut b);
}

#[test]
fn protocol_violation_closes_1002_and_others_continue() {
    let p = start_server(LIMITS, &[]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    let mut frame = Frame::message(b"hi".to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true; // no extension was negotiated
    a.send(Message::Frame(frame)).unwrap();
    assert_eq!(read_close(&mut a).0, 1002);
    assert_eq!(observed_close(&mut obs, ida), 1002);
    carries_on(&mut b);
}

#[test]
fn binary_to_a_text_only_serve_closes_1003_and_others_continue() {
    let p = start_server(LIMITS, &[]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    a.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(read_close(&mut a).0, 1003);
    assert_eq!(observed_close(&mut obs, ida), 1003);
    carries_on(&mut b);
}

#[test]
fn slow_consumer_is_closed_1008_counted_and_others_continue() {
    let p = start_server(LIMITS, &[("SNOW_WS_MAX_QUEUE_BYTES", "262144")]);
    let mut obs = p.connect("/room/observers");
    assert_eq!(ask_for(&mut obs, "hi", "hi"), "hi");
    // `slow` is in room "flood" and never reads.
    let mut slow = p.connect("/room/flood");
    let ids = conn_id(&mut slow);
    let mut driver = p.connect("/");
    // 4000 broadcasts of 16 KiB (64 MiB) overflow socket buffers and the
    // 256 KiB queue: exactly one broadcast fails (then `slow` has left).
    assert_eq!(
        ask_for(&mut driver, "flood flood 4000 16384", "flooded"),
        "flooded 1"
    );
    assert_eq!(observed_close(&mut obs, ids), 1008);
    carries_on(&mut driver);
    assert_eq!(
        ask_for(&mut driver, "count flood", "count"),
        "count flood 0"
    );
}

#[test]
fn missing_pong_closes_1001_and_a_live_client_stays() {
    let p = start_server(
        LIMITS,
        &[
            ("SNOW_WS_PING_INTERVAL_MS", "200"),
            ("SNOW_WS_PONG_TIMEOUT_MS", "600"),
            ("SNOW_WS_CLOSE_TIMEOUT_MS", "300"),
        ],
    );
    let mut obs = p.connect("/room/observers");
    let mut mute = p.connect("/");
    let idm = conn_id(&mut mute); // then never reads again: no pongs
    let mut live = p.connect("/");
    let started = Instant::now();
    let live_thread = std::thread::spawn(move || {
        // Reading answers the pings; 2.5 s = many ping intervals.
        for i in 0..25 {
            std::thread::sleep(Duration::from_millis(100));
            assert_eq!(ask_for(&mut live, &format!("n{i}"), "n"), format!("n{i}"));
        }
        live
    });
    assert_eq!(observed_close(&mut obs, idm), 1001);
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut live = live_thread.join().unwrap();
    carries_on(&mut live);
    drop(mute);
}

#[test]
fn silent_clients_are_dropped_after_the_handshake_timeout() {
    let p = start_server(LIMITS, &[("SNOW_WS_HANDSHAKE_TIMEOUT_MS", "300")]);
    let mut ok = p.connect("/");
    let t = Instant::now();
    // Connects and never sends a request.
    let got = raw_exchange(p.port, b"", Duration::from_secs(5));
    assert!(got.is_empty());
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // Sends half a request and stalls.
    let t = Instant::now();
    let got = raw_exchange(
        p.port,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",
        Duration::from_secs(5),
    );
    assert!(!String::from_utf8_lossy(&got).contains(" 101 "));
    assert!(t.elapsed() < Duration::from_secs(3));
    carries_on(&mut ok);
}

fn upgrade_request(pad: usize) -> String {
    format!(
        "GET /room/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         X-Pad: {}\r\n\r\n",
        "p".repeat(pad)
    )
}

#[test]
fn request_head_over_the_limit_is_refused_and_others_continue() {
    let p = start_server(LIMITS, &[("SNOW_WS_MAX_REQUEST_BYTES", "2048")]);
    let mut ok = p.connect("/");
    // 1 KiB of headers: upgraded.
    let small = raw_upgrade_status(p.port, &upgrade_request(1024));
    assert!(small.starts_with("HTTP/1.1 101"), "{small}");
    // 4 KiB: refused, the socket is closed.
    let big = raw_exchange(
        p.port,
        upgrade_request(4096).as_bytes(),
        Duration::from_secs(5),
    );
    assert!(!String::from_utf8_lossy(&big).contains(" 101 "));
    carries_on(&mut ok);
    assert_eq!(ask_for(&mut ok, "count x", "count"), "count x 1");
}

/// Sends an upgrade request and answers the response head.
fn raw_upgrade_status(port: u16, req: &str) -> String {
    use std::io::Write;
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    // Keep the connection open until the caller has checked the room.
    std::mem::forget(tcp);
    String::from_utf8_lossy(&got).into_owned()
}

// ---------------------------------------------------------------- TLS

const TLS: &str = "tests/ws/tls.snow";

type TlsClient = tungstenite::WebSocket<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>;

fn tls_connect(port: u16, cert: &rustls::pki_types::CertificateDer<'static>) -> TlsClient {
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
        format!("wss://localhost:{port}/"),
        rustls::StreamOwned::new(conn, tcp),
    )
    .expect("TLS websocket handshake");
    assert_eq!(resp.status(), 101);
    ws
}

fn tls_text(ws: &mut TlsClient) -> String {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[test]
fn serve_tls_end_to_end_with_a_self_signed_certificate() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let p = start_server(
        TLS,
        &[
            ("TLS_CERT", cert.to_str().unwrap()),
            ("TLS_KEY", key.to_str().unwrap()),
            ("SNOW_WS_HANDSHAKE_TIMEOUT_MS", "500"),
        ],
    );
    let der = ck.cert.der().clone();
    let mut a = tls_connect(p.port, &der);
    let mut b = tls_connect(p.port, &der);
    a.send(Message::text("over tls")).unwrap();
    assert_eq!(tls_text(&mut a), "tls over tls");
    // A plain-text WebSocket client cannot talk to it, and does not disturb it.
    let plain = tungstenite::client(
        format!("ws://127.0.0.1:{}/", p.port),
        TcpStream::connect(("127.0.0.1", p.port)).unwrap(),
    );
    assert!(plain.is_err());
    // A TCP client that never starts TLS is dropped at the handshake timeout.
    let t = Instant::now();
    assert!(raw_exchange(p.port, b"", Duration::from_secs(5)).is_empty());
    assert!(t.elapsed() < Duration::from_secs(3));
    b.send(Message::text("still fine")).unwrap();
    assert_eq!(tls_text(&mut b), "tls still fine");
    a.close(None).unwrap();
}

/// Runs the TLS server with these files; answers (exit status, stderr).
fn tls_failure(cert: &str, key: &str) -> (Option<i32>, String) {
    let mut child = Command::new(built(TLS))
        .env("PORT", free_port().to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env("TLS_CERT", cert)
        .env("TLS_KEY", key)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server kept running with bad TLS files {cert} {key}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

#[test]
fn missing_or_bad_certificate_files_exit_1_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let missing = missing.to_str().unwrap();
    let (status, err) = tls_failure(missing, missing);
    assert_eq!(status, Some(1), "{err}");
    assert!(
        err.contains("nope.pem") && err.starts_with("snow: "),
        "{err}"
    );

    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let bogus = bogus.to_str().unwrap();
    let (status, err) = tls_failure(bogus, bogus);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("bogus.pem"), "{err}");

    // A valid certificate with a key that does not belong to it.
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let other = rcgen::KeyPair::generate().unwrap();
    let (cert, key) = (
        dir.path().join("cert.pem"),
        dir.path().join("other-key.pem"),
    );
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, other.serialize_pem()).unwrap();
    let (status, err) = tls_failure(cert.to_str().unwrap(), key.to_str().unwrap());
    assert_eq!(status, Some(1), "{err}");
    assert!(err.starts_with("snow: ") && err.contains("key"), "{err}");
}

/// The slow consumer itself sees a clean close 1008 once it reads again:
/// every frame before the close frame is whole (a close cut into a
/// half-written frame would read as a protocol error or garbage).
#[test]
fn slow_consumer_reads_whole_frames_then_close_1008() {
    let p = start_server(LIMITS, &[("SNOW_WS_MAX_QUEUE_BYTES", "262144")]);
    let mut slow = p.connect("/room/flood");
    let _ = conn_id(&mut slow);
    let mut driver = p.connect("/");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        // Stop reading until the flood is over, then read everything.
        rx.recv().unwrap();
        let mut texts = 0usize;
        loop {
            match slow.read() {
                Ok(Message::Text(t)) => {
                    assert!(
                        t.len() == 16384 || t.starts_with("id"),
                        "a cut frame: {} bytes",
                        t.len()
                    );
                    texts += 1;
                }
                Ok(Message::Close(Some(f))) => return (u16::from(f.code), texts),
                Ok(_) => {}
                Err(e) => panic!("after {texts} whole messages the stream broke: {e}"),
            }
        }
    });
    assert_eq!(
        ask_for(&mut driver, "flood flood 4000 16384", "flooded"),
        "flooded 1"
    );
    tx.send(()).unwrap();
    let (code, texts) = reader.join().unwrap();
    assert_eq!(code, 1008, "after {texts} messages");
    carries_on(&mut driver);
}
