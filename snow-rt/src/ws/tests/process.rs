//! The exported `snow_ws_serve` in a child process (the test binary re-run
//! with an environment variable): signals, exit status, port in use.

use super::super::*;
use super::harness::recv_close;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VAR: &str = "SNOW_WS_TEST_CHILD";
const PORT_VAR: &str = "SNOW_WS_TEST_PORT";

extern "C-unwind" fn child_on_connect(_this: *const u8, conn: i64, _path: i64, _h: i64) -> i64 {
    assert_eq!(snow_ws_join(conn, crate::rt::new_str("child-room")), 0);
    snow_ws_send(conn, crate::rt::new_str("hi"));
    1
}

extern "C-unwind" fn child_on_message(_this: *const u8, conn: i64, text: i64) -> i64 {
    snow_ws_send(conn, text)
}

extern "C-unwind" fn child_on_close(_this: *const u8, conn: i64, code: i64, reason: i64) -> i64 {
    // SAFETY: a String word.
    let reason = unsafe { crate::rt::str_ref(reason) };
    let rooms = snow_ws_count(crate::rt::new_str("child-room"));
    println!("on_close {conn} {code} {reason} rooms={rooms}");
    0
}

fn closure(code: *const u8) -> i64 {
    Box::leak(Box::new([code as i64])).as_ptr() as i64
}

/// Runs only in the child: serves until SIGTERM (never returns).
#[test]
fn child_serve() {
    if std::env::var(VAR).as_deref() != Ok("serve") {
        return;
    }
    let port: i64 = std::env::var(PORT_VAR).unwrap().parse().unwrap();
    crate::rt::install_hook();
    snow_ws_serve(
        4,
        5,
        closure(child_on_connect as *const u8),
        closure(child_on_message as *const u8),
        closure(child_on_close as *const u8),
        port,
    );
    unreachable!("snow_ws_serve returned");
}

fn spawn_child(port: u16) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ws::tests::process::child_serve",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(VAR, "serve")
        .env(PORT_VAR, port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn sigterm_drains_with_1012_runs_on_close_and_exits_0() {
    let port = free_port();
    let mut child = spawn_child(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ws = loop {
        // (A self-connect, local address = peer address, is not the server.)
        if let Ok(tcp) = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|t| {
            if t.local_addr()? == t.peer_addr()? {
                Err(std::io::ErrorKind::AddrInUse.into())
            } else {
                Ok(t)
            }
        }) {
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            if let Ok((ws, _)) = tungstenite::client(format!("ws://127.0.0.1:{port}/"), tcp) {
                break ws;
            }
        }
        assert!(Instant::now() < deadline, "child server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(super::harness::recv_text(&mut ws), "hi");
    assert_eq!(super::harness::ask(&mut ws, "echo"), "echo");
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let (code, _, _) = recv_close(&mut ws);
    assert_eq!(code, 1012);
    drop(ws);
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "child did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(" 1012 server restarting rooms=0"),
        "on_close did not run after leaving the room: {stdout}"
    );
}

#[test]
fn port_in_use_exits_1_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let child = spawn_child(port);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("snow: cannot listen on port {port}: ")),
        "stderr: {stderr}"
    );
    drop(taken);
}
