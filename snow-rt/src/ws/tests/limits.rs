//! Bad input, limits, heartbeats, slow consumers, frames and TLS setup.

use super::super::*;
use super::harness::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message as M;

fn close_code_of(srv: &TestServer, id: i64) -> i64 {
    match srv.ctx.close_of(id) {
        Ev::Close { code, .. } => code,
        _ => unreachable!(),
    }
}

#[test]
fn binary_to_a_text_server_closes_1003() {
    let srv = TestServer::start("bin1003", false);
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let ia = srv.ctx.conn_of("/a");
    a.send(M::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(recv_close(&mut a).0, 1003);
    assert_eq!(close_code_of(&srv, ia), 1003);
    assert_eq!(ask(&mut b, "echo:ok"), "ok");
}

#[test]
fn serve_frames_delivers_text_and_binary_frames() {
    let srv = TestServer::start("frames", true);
    let mut a = srv.connect("/a");
    let ia = srv.ctx.conn_of("/a");
    a.send(M::binary(vec![1u8, 2, 3, 4])).unwrap();
    match a.read().unwrap() {
        M::Binary(b) => assert_eq!(&b[..], &[4u8, 3, 2, 1]),
        other => panic!("expected binary, got {other:?}"),
    }
    assert_eq!(ask(&mut a, "echo:text too"), "text too");
    let evs = srv.ctx.events_of(ia);
    assert_eq!(evs[1], Ev::Bin { conn: ia, len: 4 });
    assert_eq!(
        evs[2],
        Ev::Msg {
            conn: ia,
            text: "echo:text too".into()
        }
    );
}

#[test]
fn oversized_message_closes_1009_and_others_continue() {
    let mut cfg = test_config();
    cfg.max_message = 1024;
    let srv = TestServer::start_with("big", false, cfg);
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let ia = srv.ctx.conn_of("/a");
    assert_eq!(
        ask(&mut a, &format!("echo:{}", "y".repeat(1000))).len(),
        1000
    );
    a.send(M::text("z".repeat(2000))).unwrap();
    assert_eq!(recv_close(&mut a).0, 1009);
    assert_eq!(close_code_of(&srv, ia), 1009);
    // The big message never reached on_message.
    assert!(!srv
        .ctx
        .events_of(ia)
        .iter()
        .any(|e| matches!(e, Ev::Msg { text, .. } if text.len() == 2000)));
    assert_eq!(ask(&mut b, "echo:fine"), "fine");
}

#[test]
fn invalid_utf8_closes_1007() {
    let srv = TestServer::start("utf8", false);
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let ia = srv.ctx.conn_of("/a");
    let frame = Frame::message(vec![b'o', b'k', 0xff, 0xfe], OpCode::Data(Data::Text), true);
    a.send(M::Frame(frame)).unwrap();
    assert_eq!(recv_close(&mut a).0, 1007);
    assert_eq!(close_code_of(&srv, ia), 1007);
    assert_eq!(ask(&mut b, "echo:fine"), "fine");
}

#[test]
fn protocol_violation_closes_1002() {
    let srv = TestServer::start("proto", false);
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let ia = srv.ctx.conn_of("/a");
    let mut frame = Frame::message(b"hi".to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true; // no extension negotiated
    a.send(M::Frame(frame)).unwrap();
    assert_eq!(recv_close(&mut a).0, 1002);
    assert_eq!(close_code_of(&srv, ia), 1002);
    assert_eq!(ask(&mut b, "echo:fine"), "fine");
}

#[test]
fn request_head_over_the_limit_is_dropped_and_others_continue() {
    let mut cfg = test_config();
    cfg.max_request = 2048;
    let srv = TestServer::start_with("head", false, cfg);
    let mut ok = srv.connect("/ok");
    // A complete, valid upgrade request whose head is 4 KiB: refused.
    let mut big = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "GET /big HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         X-Pad: {}\r\n\r\n",
        "p".repeat(4096)
    );
    let _ = big.write_all(req.as_bytes());
    let mut resp = Vec::new();
    let _ = big.read_to_end(&mut resp);
    assert!(
        !String::from_utf8_lossy(&resp).contains(" 101 "),
        "upgrade must not succeed"
    );
    // A request under the limit (1 KiB of headers) is accepted.
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://127.0.0.1:{}/padded",
        srv.port
    ))
    .unwrap();
    req.headers_mut()
        .insert("x-pad", "p".repeat(1024).parse().unwrap());
    let tcp = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut padded, _) = tungstenite::client(req, tcp).unwrap();
    assert_eq!(ask(&mut padded, "echo:accepted"), "accepted");
    assert_eq!(ask(&mut ok, "echo:unharmed"), "unharmed");
    assert!(!srv
        .ctx
        .events
        .lock()
        .iter()
        .any(|e| matches!(e, Ev::Connect { path, .. } if path == "/big")));
}

#[test]
fn missing_pong_closes_1001_and_a_live_client_stays() {
    let mut cfg = test_config();
    cfg.ping_interval = Duration::from_millis(200);
    cfg.pong_timeout = Duration::from_millis(1000);
    cfg.close_timeout = Duration::from_millis(300);
    let srv = TestServer::start_with("heartbeat", false, cfg);
    // `mute` never reads, so it never answers the server's pings.
    let _mute = srv.connect("/mute");
    let im = srv.ctx.conn_of("/mute");
    // `live` keeps reading (tungstenite answers pings while reading) and
    // survives many ping intervals.
    let mut live = srv.connect("/live");
    let il = srv.ctx.conn_of("/live");
    let port = srv.port;
    let live_thread = std::thread::spawn(move || {
        for i in 0..40 {
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                ask(&mut live, &format!("echo:{i}")),
                i.to_string(),
                "port {port}"
            );
        }
        live // kept open
    });
    let started = Instant::now();
    match srv.ctx.close_of(im) {
        Ev::Close { code, reason, .. } => {
            assert_eq!(code, 1001);
            assert_eq!(reason, "heartbeat timeout");
        }
        _ => unreachable!(),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut live = live_thread.join().unwrap();
    assert_eq!(ask(&mut live, "echo:still open"), "still open");
    let evs = srv.ctx.events_of(il);
    assert!(
        evs.iter().all(|e| !matches!(e, Ev::Close { .. })),
        "{evs:?}"
    );
}

#[test]
fn silent_and_garbage_handshakes_are_dropped() {
    let mut cfg = test_config();
    cfg.handshake_timeout = Duration::from_millis(300);
    let srv = TestServer::start_with("handshake", false, cfg);
    let mut ok = srv.connect("/ok");
    // A client that never sends its request.
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = silent.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "expected EOF");
    assert!(t.elapsed() < Duration::from_secs(3));
    // A request whose headers never end: refused (431) as soon as it
    // passes the request-size limit, long before the handshake timeout.
    let mut cfg = test_config();
    cfg.handshake_timeout = Duration::from_secs(30);
    cfg.max_request = 8192;
    let patient = TestServer::start_with("endless", false, cfg);
    let mut endless = std::net::TcpStream::connect(("127.0.0.1", patient.port)).unwrap();
    endless
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let t = Instant::now();
    let _ = endless.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n");
    let line = format!("X-Pad: {}\r\n", "p".repeat(1000));
    for _ in 0..80 {
        if endless.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    let _ = endless.read_to_end(&mut rest);
    assert!(
        String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "refused at the limit, not at the timeout"
    );
    drop(patient);
    // Not a WebSocket request at all: 426 Upgrade Required (no static
    // files are served by this server), and the connection is closed.
    let mut http = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    http.read_to_end(&mut resp)
        .expect("the server closes the connection");
    let resp = String::from_utf8_lossy(&resp);
    assert!(
        resp.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{resp}"
    );
    assert!(resp.contains("\r\nUpgrade: websocket\r\n"), "{resp}");
    // None of this reached a callback or disturbed the good client.
    assert_eq!(ask(&mut ok, "echo:unharmed"), "unharmed");
    assert_eq!(
        srv.ctx
            .events
            .lock()
            .iter()
            .filter(|e| matches!(e, Ev::Connect { .. }))
            .count(),
        1
    );
}

#[test]
fn slow_consumer_is_closed_1008_and_counted_by_broadcast() {
    let mut cfg = test_config();
    cfg.max_queue = 256 * 1024;
    let srv = TestServer::start_with("slow", false, cfg);
    // `slow` never reads; `driver` is outside the room and floods it.
    let _slow = srv.connect("/slow");
    let mut driver = srv.connect("/noroom/driver");
    let is = srv.ctx.conn_of("/slow");
    // 4000 broadcasts of 16 KiB = 64 MiB: more than the socket buffers and
    // the 256 KiB queue limit can hold. The broadcast that overflows the
    // queue counts one failure and closes `slow`, which leaves the room, so
    // later broadcasts have nobody to fail for.
    driver.send(M::text("bflood:4000:16384")).unwrap();
    assert_eq!(ask(&mut driver, "echo:done"), "done");
    assert_eq!(
        srv.ctx
            .flood_failures
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(close_code_of(&srv, is), 1008);
    // A connection flooding itself: send answers -1 past the limit.
    let mut selfish = srv.connect("/noroom/selfish");
    let isf = srv.ctx.conn_of("/noroom/selfish");
    selfish.send(M::text("flood:4000:16384")).unwrap();
    assert_eq!(close_code_of(&srv, isf), 1008);
    assert!(
        srv.ctx
            .flood_failures
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    assert_eq!(ask(&mut driver, "echo:unaffected"), "unaffected");
}

#[test]
fn tls_setup_errors_name_the_file() {
    let err = tls::acceptor("/nonexistent/cert.pem", "/nonexistent/key.pem")
        .err()
        .unwrap();
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bogus = dir.join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let p = bogus.to_str().unwrap();
    let err = tls::acceptor(p, p).err().unwrap();
    assert!(err.contains("no PEM certificate"), "{err}");
}
