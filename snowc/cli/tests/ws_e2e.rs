//! End to end for `Ws`: compile real `.snow` servers with `snowc`, run them,
//! and drive them with real WebSocket clients (tungstenite) over loopback.
//! Every wait is bounded; servers are killed when a test ends.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

use common::wsproc::{built as exe, free_port, spawn_server, Proc as Server};

fn start(source: &str, env: &[(&str, &str)]) -> Server {
    spawn_server(source, env, Stdio::piped())
}

fn connect(port: u16, path: &str) -> Ws {
    let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}{path}")).unwrap();
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    ws
}

/// Connect to the rooms server and read its welcome line.
fn client(port: u16, path: &str) -> (Ws, i64) {
    let mut ws = connect(port, path);
    let welcome = recv(&mut ws);
    let id = welcome
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad welcome {welcome:?}"));
    (ws, id)
}

fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).unwrap();
}

fn recv(ws: &mut Ws) -> String {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Send a command and return its reply (the first message that starts with `prefix`).
fn ask(ws: &mut Ws, cmd: &str, prefix: &str) -> String {
    send(ws, cmd);
    loop {
        let m = recv(ws);
        if m.starts_with(prefix) {
            return m;
        }
    }
}

/// The close code the server sends (reading until the close frame arrives).
fn close_code(ws: &mut Ws) -> (u16, String) {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => {
                return (u16::from(f.code), f.reason.as_str().to_string())
            }
            Ok(Message::Close(None)) => return (1005, String::new()),
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed) | Err(tungstenite::Error::AlreadyClosed) => {
                return (1006, String::new())
            }
            Err(e) => panic!("reading the close frame: {e}"),
        }
    }
}

/// Nothing arrives on `ws` before the reply to a round trip: proves the absence of a message.
fn assert_nothing_pending(ws: &mut Ws) {
    let m = ask(ws, "id", "");
    assert!(
        m.starts_with("id "),
        "unexpected message {m:?} (expected nothing before the id reply)"
    );
}

const ROOMS: &str = "tests/ws/rooms.snow";

#[test]
fn broadcast_reaches_exactly_the_members() {
    let s = start(ROOMS, &[]);
    let (mut a, _) = client(s.port, "/room/r1");
    let (mut b, _) = client(s.port, "/");
    let (mut c, _) = client(s.port, "/");
    assert_eq!(ask(&mut b, "join r1", "joined"), "joined r1 0");
    assert_eq!(
        ask(&mut b, "join r1", "joined"),
        "joined r1 0",
        "joining twice is a no-op"
    );
    assert_eq!(ask(&mut c, "join r2", "joined"), "joined r2 0");
    assert_eq!(ask(&mut a, "count r1", "count"), "count r1 2");
    send(&mut a, "say r1 hello there");
    assert_eq!(recv(&mut a), "hello there");
    assert_eq!(recv(&mut a), "said 0");
    assert_eq!(recv(&mut b), "hello there");
    assert_nothing_pending(&mut c);
    // broadcast_except and the Snow-written broadcast_from skip the sender
    assert_eq!(ask(&mut a, "except r1 not for a", "said"), "said 0");
    assert_eq!(recv(&mut b), "not for a");
    assert_eq!(ask(&mut b, "from r1 from b", "said"), "said 0");
    assert_eq!(recv(&mut a), "from b");
    assert_nothing_pending(&mut a);
    assert_nothing_pending(&mut b);
    assert_nothing_pending(&mut c);
    // leave, then broadcasts no longer reach b; the room disappears with its last member
    assert_eq!(ask(&mut b, "leave r1", "left"), "left r1 0");
    assert_eq!(
        ask(&mut b, "leave r1", "left"),
        "left r1 0",
        "leaving when not a member answers 0"
    );
    assert_eq!(ask(&mut a, "say r1 only a", "only"), "only a");
    assert_eq!(recv(&mut a), "said 0");
    assert_nothing_pending(&mut b);
    assert_eq!(ask(&mut a, "leave r1", "left"), "left r1 0");
    assert_eq!(ask(&mut a, "count r1", "count"), "count r1 0");
    assert_eq!(ask(&mut a, "members r1", "members"), "members r1 ");
}

#[test]
fn count_members_rooms_and_snow_written_helpers() {
    let s = start(ROOMS, &[]);
    let (mut a, ida) = client(s.port, "/");
    let (mut b, idb) = client(s.port, "/");
    assert_eq!(
        ask(&mut a, "join_all zeta alpha mid", "join_all"),
        "join_all 0"
    );
    assert_eq!(
        ask(&mut a, "rooms", "rooms"),
        "rooms alpha,mid,zeta",
        "rooms are sorted by name"
    );
    assert_eq!(ask(&mut b, "join mid", "joined"), "joined mid 0");
    let members = ask(&mut a, "members mid", "members");
    let mut got: Vec<i64> = members
        .trim_start_matches("members mid ")
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    got.sort();
    let mut want = vec![ida, idb];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        ask(&mut a, "send_all mid to everyone", "to everyone"),
        "to everyone"
    );
    assert_eq!(recv(&mut a), "sent 0");
    assert_eq!(recv(&mut b), "to everyone");
    assert_eq!(ask(&mut a, "leave_all", "leave_all"), "leave_all 3");
    assert_eq!(ask(&mut a, "rooms", "rooms"), "rooms ");
    assert_eq!(ask(&mut a, "count mid", "count"), "count mid 1");
    assert_eq!(ask(&mut a, "get nick", "get"), "get none");
    assert_eq!(ask(&mut a, "set nick ann", "set"), "set 0");
    assert_eq!(ask(&mut a, "get nick", "get"), "get ann");
    assert_eq!(
        ask(&mut b, "get nick", "get"),
        "get none",
        "assigns are per connection"
    );
    assert_ne!(ida, idb);
}

#[test]
fn headers_reach_on_connect_lowercased() {
    let s = start(ROOMS, &[]);
    let mut req = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://127.0.0.1:{}/",
        s.port
    ))
    .unwrap();
    req.headers_mut()
        .insert("X-Snow-Test", "tagged".parse().unwrap());
    let (mut ws, _) = tungstenite::connect(req).unwrap();
    let welcome = recv(&mut ws);
    assert!(welcome.ends_with(" tagged"), "{welcome}");
}

#[test]
fn disconnect_and_abrupt_drop_leave_all_rooms_and_run_on_close_once() {
    let s = start(ROOMS, &[]);
    let (mut obs, _) = client(s.port, "/room/observers");
    let (mut a, ida) = client(s.port, "/room/r");
    let (b, idb) = client(s.port, "/room/r");
    assert_eq!(ask(&mut obs, "count r", "count"), "count r 2");
    // a closes cleanly
    a.close(None).unwrap();
    let _ = close_code(&mut a);
    assert_eq!(recv(&mut obs), format!("closed {ida} 1005"));
    // b's TCP connection just drops
    match b.into_inner() {
        MaybeTlsStream::Plain(tcp) => tcp.shutdown(std::net::Shutdown::Both).unwrap(),
        _ => unreachable!(),
    }
    let m = recv(&mut obs);
    assert!(m.starts_with(&format!("closed {idb} ")), "{m}");
    assert_eq!(ask(&mut obs, "count r", "count"), "count r 0");
    assert_nothing_pending(&mut obs);
}

#[test]
fn on_connect_false_rejects_without_rooms_messages_or_on_close() {
    let s = start(ROOMS, &[]);
    let (mut obs, _) = client(s.port, "/room/observers");
    for path in ["/reject", "/reject-after-join"] {
        match tungstenite::connect(format!("ws://127.0.0.1:{}{path}", s.port)) {
            Ok((mut ws, _)) => {
                // rejected after the upgrade: nothing but close 1008
                match ws.read() {
                    Ok(Message::Close(Some(f))) => assert_eq!(u16::from(f.code), 1008),
                    other => panic!("{path}: expected close 1008, got {other:?}"),
                }
            }
            Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 403),
            Err(e) => panic!("{path}: {e}"),
        }
    }
    assert_eq!(ask(&mut obs, "count lobby", "count"), "count lobby 0");
    assert_nothing_pending(&mut obs);
}

#[test]
fn ws_close_sends_code_and_reason() {
    let s = start(ROOMS, &[]);
    let (mut a, _) = client(s.port, "/");
    send(&mut a, "close 4001 going away now");
    assert_eq!(close_code(&mut a), (4001, "going away now".to_string()));
}

#[test]
fn panic_in_callback_closes_only_that_connection() {
    let s = start(ROOMS, &[]);
    let (mut obs, _) = client(s.port, "/room/observers");
    let (mut a, ida) = client(s.port, "/room/r");
    let (mut b, _) = client(s.port, "/room/r");
    send(&mut a, "panic");
    assert_eq!(close_code(&mut a).0, 1011);
    assert_eq!(recv(&mut obs), format!("closed {ida} 1011"));
    assert_eq!(ask(&mut b, "say r still here", "still"), "still here");
    assert_eq!(recv(&mut b), "said 0");
    let (mut c, _) = client(s.port, "/room/r");
    assert_eq!(ask(&mut c, "count r", "count"), "count r 2");
}

#[test]
fn binary_frame_to_a_text_server_closes_1003() {
    let s = start(ROOMS, &[]);
    let (mut a, _) = client(s.port, "/");
    let (mut b, _) = client(s.port, "/");
    a.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(close_code(&mut a).0, 1003);
    assert_eq!(ask(&mut b, "hi", "echo"), "echo hi");
}

#[test]
fn callbacks_of_one_connection_run_in_arrival_order() {
    let s = start(ROOMS, &[]);
    let (mut a, _) = client(s.port, "/");
    for i in 0..500 {
        send(&mut a, &format!("seq-{i}"));
    }
    for i in 0..500 {
        assert_eq!(recv(&mut a), format!("echo seq-{i}"));
    }
}

#[test]
fn hundreds_of_clients_broadcasting_at_once_lose_and_misdeliver_nothing() {
    const CLIENTS: usize = 200;
    const EACH: usize = 5;
    let s = start(ROOMS, &[]);
    let port = s.port;
    // Everyone joins "big"; an outsider in room "other" must see none of
    // the traffic.
    let mut clients: Vec<Ws> = (0..CLIENTS).map(|_| client(port, "/room/big").0).collect();
    let (mut outsider, _) = client(port, "/room/other");
    let count = ask(&mut clients[0], "count big", "count");
    assert_eq!(count, format!("count big {CLIENTS}"));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS));
    let handles: Vec<_> = clients
        .drain(..)
        .enumerate()
        .map(|(i, mut ws)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for j in 0..EACH {
                    send(&mut ws, &format!("say big m-{i}-{j}"));
                }
                let mut seen = std::collections::HashSet::new();
                let mut replies = 0;
                while seen.len() < CLIENTS * EACH || replies < EACH {
                    let m = recv(&mut ws);
                    if m.starts_with("said ") {
                        replies += 1;
                    } else {
                        assert!(m.starts_with("m-"), "unexpected {m}");
                        assert!(seen.insert(m.clone()), "{m} delivered twice");
                    }
                }
                seen.len()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), CLIENTS * EACH);
    }
    assert_nothing_pending(&mut outsider);
}

#[test]
fn sigterm_drains_everyone_with_1012_runs_on_close_and_exits_0() {
    let mut s = start(ROOMS, &[]);
    let (mut a, ida) = client(s.port, "/room/r");
    let (mut b, idb) = client(s.port, "/");
    unsafe_kill(s.child.id(), "TERM");
    assert_eq!(close_code(&mut a).0, 1012);
    assert_eq!(close_code(&mut b).0, 1012);
    let status = wait_timeout(&mut s.child, Duration::from_secs(10));
    assert_eq!(status, Some(0));
    let mut out = String::new();
    s.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains(&format!("closed {ida} 1012")), "{out}");
    assert!(out.contains(&format!("closed {idb} 1012")), "{out}");
}

#[test]
fn port_in_use_is_a_clear_error_with_status_1() {
    let s = start(ROOMS, &[]);
    let out = Command::new(exe(ROOMS))
        .env("PORT", s.port.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&s.port.to_string()) && err.to_lowercase().contains("in use"),
        "{err}"
    );
}

#[test]
fn echo_example_echoes_text_and_binary() {
    let s = start("examples/echo.snow", &[]);
    let mut ws = connect(s.port, "/");
    send(&mut ws, "héllo");
    assert_eq!(recv(&mut ws), "héllo");
    ws.send(Message::binary(vec![0u8, 255, 7])).unwrap();
    match ws.read().unwrap() {
        Message::Binary(b) => assert_eq!(&b[..], &[0u8, 255, 7]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn chat_example_rooms_and_nicks() {
    let s = start("examples/chat.snow", &[]);
    let mut a = connect(s.port, "/");
    assert!(recv(&mut a).starts_with("* you are in lobby (1 here)"));
    let mut b = connect(s.port, "/");
    assert!(recv(&mut b).starts_with("* you are in lobby (2 here)"));
    assert!(recv(&mut a).contains("joined lobby"));
    send(&mut a, "/nick ann");
    assert!(recv(&mut b).contains("is now ann"));
    assert!(recv(&mut a).contains("is now ann"));
    send(&mut a, "hi all");
    assert_eq!(recv(&mut b), "ann: hi all");
    assert_eq!(recv(&mut a), "ann: hi all");
    send(&mut b, "/join kitchen");
    assert!(recv(&mut a).contains("left lobby"));
    assert!(recv(&mut b).starts_with("* you are in kitchen (1 here)"));
    send(&mut a, "/who");
    assert_eq!(recv(&mut a), "* 1 in lobby");
    send(&mut a, "only lobby");
    assert_eq!(recv(&mut a), "ann: only lobby");
    send(&mut b, "/who");
    assert_eq!(recv(&mut b), "* 1 in kitchen");
}

/// examples/chat.snow keeps each room's last 50 messages in a service
/// (state shared by every connection, on whichever worker it runs) and
/// sends them, oldest first, to whoever enters the room.
#[test]
fn chat_example_replays_the_last_50_messages_of_a_room() {
    let s = start("examples/chat.snow", &[]);
    let mut a = connect(s.port, "/hall");
    assert!(recv(&mut a).starts_with("* you are in hall (1 here)"));
    send(&mut a, "m0");
    let first = recv(&mut a);
    let prefix = first.strip_suffix("m0").expect("userN: m0").to_string();
    for i in 1..60 {
        send(&mut a, &format!("m{i}"));
        assert_eq!(recv(&mut a), format!("{prefix}m{i}"));
    }
    let mut b = connect(s.port, "/hall");
    assert!(recv(&mut b).starts_with("* you are in hall (2 here)"));
    for i in 10..60 {
        assert_eq!(
            recv(&mut b),
            format!("{prefix}m{i}"),
            "replayed message {i}"
        );
    }
    assert!(recv(&mut a).contains("joined hall"));
    // Then the live ones, nothing twice.
    send(&mut a, "live");
    assert_eq!(recv(&mut b), format!("{prefix}live"));
    // Another room has a history of its own: empty.
    let mut c = connect(s.port, "/other");
    assert!(recv(&mut c).starts_with("* you are in other (1 here)"));
    send(&mut c, "/who");
    assert_eq!(recv(&mut c), "* 1 in other");
}

#[test]
fn ticker_example_broadcasts_from_a_timer() {
    let s = start("examples/ticker.snow", &[("TICK_MS", "50")]);
    let mut a = connect(s.port, "/");
    for _ in 0..3 {
        assert_eq!(recv(&mut a), "tick: 1 listening");
    }
}

fn unsafe_kill(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[allow(dead_code)]
fn read_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn snowc_run_forwards_sigterm_to_the_server() {
    ensure_runtime();
    let port = free_port();
    let mut child = Command::new(snowc())
        .args(["run", ROOMS])
        .current_dir(repo_root())
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !common::wsproc::listening(port) {
        assert!(
            Instant::now() < deadline,
            "snowc run did not start the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (mut a, _) = client(port, "/");
    unsafe_kill(child.id(), "TERM");
    assert_eq!(
        close_code(&mut a).0,
        1012,
        "the server saw the signal and drained"
    );
    assert_eq!(wait_timeout(&mut child, Duration::from_secs(10)), Some(0));
}
