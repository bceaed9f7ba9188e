//! Resource limits against compiled Snow servers (ws.md "Resource limits"):
//! no single client can grow the server's memory past its limits, hold
//! registry locks for long, or take more connections than the cap. Each
//! test drives real clients over loopback, measures the server through
//! /proc, and checks that another connection carries on. Every wait is
//! bounded.

mod common;

use common::wsproc::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const LIMITS: &str = "tests/ws/limits.snow";
const CHAT: &str = "examples/chat.snow";
const MIB: u64 = 1024;

/// These tests load the machine (floods, hundreds of sockets) and some
/// bound latencies: they run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A masked client frame (mask 0x01020304).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n < 65536 {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    let mask = [1u8, 2, 3, 4];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// The next `closed ID CODE REASON` announcement about `id`: (code, reason).
fn observed_close_with_reason(observer: &mut Client, id: i64) -> (i64, String) {
    let prefix = format!("closed {id} ");
    loop {
        let m = recv_text(observer);
        if let Some(rest) = m.strip_prefix(&prefix) {
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            return (code.parse().unwrap(), reason.to_string());
        }
    }
}

/// A client that sends pings as fast as it can and never reads used to
/// grow the server by the size of the flood (one queued pong per ping).
/// Now pongs are coalesced and count against the queue, and the socket
/// that accepts nothing hits the write timeout: memory stays bounded, the
/// flooder is closed, everyone else is served.
#[test]
fn a_ping_flood_from_a_client_that_never_reads_leaves_memory_bounded() {
    let _serial = serial();
    let p = start_server(LIMITS, &[("SNOW_WS_WRITE_TIMEOUT_MS", "1000")]);
    let (_, _, mut bystander, mut obs) = trio(&p);
    let mut flooder = connect_small_window(p.port, "/");
    let id = conn_id(&mut flooder);
    let before = p.rss_kib();
    let tcp: &mut TcpStream = flooder.get_mut();
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ping = client_frame(0x9, &[b'p'; 125]);
    let batch: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 512)
        .collect();
    let started = Instant::now();
    let mut sent: u64 = 0;
    // Up to 256 MiB of pings, until the server gives up on us.
    while sent < 256 << 20 && started.elapsed() < Duration::from_secs(60) {
        if tcp.write_all(&batch).is_err() {
            break;
        }
        sent += batch.len() as u64;
    }
    let (code, reason) = observed_close_with_reason(&mut obs, id);
    assert_eq!(
        (code, reason.as_str()),
        (1008, "write timeout"),
        "after {sent} bytes of pings"
    );
    let grown = p.hwm_kib().saturating_sub(before);
    assert!(
        grown < 16 * MIB,
        "the server grew by {grown} KiB during a flood of {} MiB",
        sent >> 20
    );
    carries_on(&mut bystander);
}

/// One 15 MiB message relayed by examples/chat.snow (with its `userN: `
/// prefix) to a room of 20 members that do not read: the frame is shared
/// between their queues, so the server holds about one copy of it, not 20,
/// and a member that reads gets it whole, without a 1008.
#[test]
fn a_large_relay_to_members_that_do_not_read_costs_about_one_copy() {
    let _serial = serial();
    let p = start_server(CHAT, &[("SNOW_WS_WRITE_TIMEOUT_MS", "60000")]);
    let idle: Vec<Client> = (0..20).map(|_| p.connect("/big")).collect();
    let mut reader = p.connect("/big");
    let mut sender = p.connect("/big");
    // Wait until everyone is in (each join is announced to the reader).
    loop {
        send_text(&mut reader, "/who");
        let m = recv_text(&mut reader);
        if m == "* 22 in big" {
            break;
        }
    }
    let before = p.rss_kib();
    let msg = "m".repeat(15 << 20);
    send_text(&mut sender, &msg);
    let got = loop {
        let m = recv_text(&mut reader);
        if m.len() > 1000 {
            break m;
        }
    };
    assert!(got.ends_with(&msg), "the reader gets the message whole");
    assert!(got.starts_with("user"), "with chat's prefix");
    // The 20 idle members still hold the frame in their queues.
    send_text(&mut reader, "/who");
    assert_eq!(
        recv_text(&mut reader),
        "* 22 in big",
        "nobody was closed (1008)"
    );
    let grown = p.rss_kib().saturating_sub(before);
    // One copy is 15 MiB. Besides the shared frame, the sender's read buffer
    // (tungstenite keeps its capacity) still holds one.
    assert!(
        grown < 40 * MIB,
        "holding the relay for 20 idle members grew the server by {grown} KiB"
    );
    drop(idle);
}

/// Join and leave stay fast while large broadcasts go to a big room: a
/// broadcast never copies a large frame under the room's lock (it queues a
/// reference per member, microseconds for 200 members, where copying 8 MiB
/// into each of 200 queues is 1.6 GB of copying per broadcast). On this
/// 2-core machine the round trips measured 100-400 ms at worst, all of it
/// the 200 writers copying the frames into their sockets' kernel buffers
/// on the same two workers; the bound leaves room for that.
#[test]
fn join_and_leave_stay_fast_during_large_broadcasts_to_a_big_room() {
    let _serial = serial();
    let p = start_server(LIMITS, &[("SNOW_WS_WRITE_TIMEOUT_MS", "60000")]);
    let members: Vec<Client> = (0..200)
        .map(|_| connect_small_window(p.port, "/room/big"))
        .collect();
    let mut driver = p.connect("/");
    assert_eq!(ask_for(&mut driver, "count big", "count"), "count big 200");
    let mut mover = p.connect("/");
    let port = p.port;
    let flood = std::thread::spawn(move || {
        // 4 broadcasts of 8 MiB to 200 members that do not read.
        let r = ask_for(&mut driver, "flood big 4 8388608", "flooded");
        (driver, r, port)
    });
    let mut worst = Duration::ZERO;
    let started = Instant::now();
    let mut rounds = 0;
    while !flood.is_finished() || rounds < 20 {
        let t = Instant::now();
        assert_eq!(ask_for(&mut mover, "join big", "joined"), "joined big 0");
        assert_eq!(ask_for(&mut mover, "leave big", "left"), "left big 0");
        worst = worst.max(t.elapsed());
        rounds += 1;
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    let (_driver, flooded, _) = flood.join().unwrap();
    assert_eq!(flooded, "flooded 0", "every member took every broadcast");
    assert!(
        worst < Duration::from_millis(1000),
        "a join + leave round trip took {worst:?} during the broadcasts"
    );
    drop(members);
}

/// Raw upgrade request on a fresh socket; answers the status line.
fn upgrade_status(port: u16) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.lines().next().unwrap_or("").to_string()
}

#[test]
fn upgrades_past_the_connection_cap_get_503_until_others_close() {
    let _serial = serial();
    let p = start_server(LIMITS, &[("SNOW_WS_MAX_CONNECTIONS", "50")]);
    let mut open: Vec<Client> = (0..50).map(|_| p.connect("/")).collect();
    assert_eq!(ask_for(&mut open[0], "hi", "hi"), "hi");
    assert_eq!(upgrade_status(p.port), "HTTP/1.1 503 Service Unavailable");
    assert_eq!(upgrade_status(p.port), "HTTP/1.1 503 Service Unavailable");
    // Five leave; five newcomers get in (once the server has seen the closes).
    for mut c in open.drain(..5) {
        c.close(None).unwrap();
        let _ = read_close(&mut c);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut admitted = 0;
    while admitted < 5 {
        assert!(Instant::now() < deadline, "only {admitted} admitted");
        if upgrade_status(p.port) == "HTTP/1.1 101 Switching Protocols" {
            admitted += 1;
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // The cap holds again: 45 + 5 (the raw sockets above were dropped, so
    // their slots free up as the server notices; wait for the 503).
    assert_eq!(ask_for(&mut open[0], "still", "still"), "still");
}

/// Over `SNOW_WS_MAX_QUEUE_TOTAL_BYTES` (all queues together) the
/// connection with the largest queue is closed first (1008); a member with
/// a small queue stays.
#[test]
fn the_total_outbound_cap_closes_the_largest_queue_first() {
    let _serial = serial();
    let p = start_server(
        LIMITS,
        &[
            ("SNOW_WS_MAX_QUEUE_TOTAL_BYTES", "33554432"),
            ("SNOW_WS_WRITE_TIMEOUT_MS", "60000"),
        ],
    );
    let mut obs = p.connect("/room/observers");
    assert_eq!(ask_for(&mut obs, "hi", "hi"), "hi");
    let mut big = connect_small_window(p.port, "/room/a");
    let id_big = conn_id(&mut big);
    let mut small = connect_small_window(p.port, "/room/b");
    let id_small = conn_id(&mut small);
    let mut driver = p.connect("/");
    // `small` gets 1 MiB, `big` up to 48 MiB (under its own 33 MiB limit
    // until the total cap of 32 MiB strikes); neither reads.
    assert_eq!(
        ask_for(&mut driver, "flood b 1 1048576", "flooded"),
        "flooded 0"
    );
    // (Once `big` is closed it has left `a`, so no broadcast counts it.)
    assert_eq!(
        ask_for(&mut driver, "flood a 48 1048576", "flooded"),
        "flooded 0"
    );
    let (code, reason) = observed_close_with_reason(&mut obs, id_big);
    assert_eq!(
        (code, reason.as_str()),
        (1008, "server outbound memory limit exceeded")
    );
    assert_eq!(
        ask_for(&mut driver, "count b", "count"),
        "count b 1",
        "small stays"
    );
    assert_eq!(ask_for(&mut driver, "count a", "count"), "count a 0");
    // `small` reads its megabyte whole.
    assert_eq!(recv_text(&mut small).len(), 1 << 20);
    assert_eq!(conn_id(&mut small), id_small);
    carries_on(&mut driver);
}

/// Pongs the server did not ask for prove nothing: a client that never
/// reads (so never sees the server's ping) but sends pongs is still closed
/// by the heartbeat (1001), while a reading client stays.
#[test]
fn unsolicited_pongs_do_not_keep_a_silent_client_alive() {
    let _serial = serial();
    let p = start_server(
        LIMITS,
        &[
            ("SNOW_WS_PING_INTERVAL_MS", "200"),
            ("SNOW_WS_PONG_TIMEOUT_MS", "600"),
            ("SNOW_WS_CLOSE_TIMEOUT_MS", "500"),
        ],
    );
    let (mut mute, id, _, mut obs) = trio(&p);
    let pong = client_frame(0xA, b"not yours");
    let mute_thread = std::thread::spawn(move || {
        let tcp: &mut TcpStream = mute.get_mut();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if tcp.write_all(&pong).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let t = Instant::now();
    let (code, reason) = observed_close_with_reason(&mut obs, id);
    assert_eq!((code, reason.as_str()), (1001, "heartbeat timeout"));
    assert!(t.elapsed() < Duration::from_secs(5));
    // The observer reads (so tungstenite answers the pings) and stays.
    carries_on(&mut obs);
    mute_thread.join().unwrap();
}
