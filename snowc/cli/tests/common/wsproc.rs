//! Compiled Snow servers as child processes, for the limits, TLS and soak
//! tests: build once per test binary, start on a free loopback port with
//! extra environment variables, connect plain clients, read the server's RSS.

use super::build;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

pub type Client = WebSocket<TcpStream>;

/// `source` built once per test binary with -O2 (tests run in parallel).
pub fn built(source: &str) -> PathBuf {
    built_opt(source, "-O2")
}

/// `source` built once per test binary with optimisation level `opt`.
pub fn built_opt(source: &str, opt: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let name = std::path::Path::new(source)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let sub = dir.path().join(opt.trim_start_matches('-'));
    std::fs::create_dir_all(&sub).unwrap();
    let path = sub.join(&name);
    if !path.exists() {
        build(source, &sub, &[opt]);
    }
    path
}

/// Whether a server listens on loopback `port`. A connection whose local
/// address equals its peer's is a TCP self-connect (the kernel picked
/// `port` itself as the ephemeral source port while nothing listened
/// there), not a server: it is dropped and counts as "not listening".
pub fn listening(port: u16) -> bool {
    match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s.local_addr().ok() != s.peer_addr().ok(),
        Err(_) => false,
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server, killed when dropped.
pub struct Proc {
    pub child: Child,
    pub port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// The server's resident set size in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("reading the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// A field of /proc/PID/status in KiB (or a count), e.g. `VmHWM`, `Threads`.
    pub fn status_field(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("reading the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }

    /// The server's peak resident set size in KiB (`VmHWM`).
    pub fn hwm_kib(&self) -> u64 {
        self.status_field("VmHWM")
    }

    /// Stops the server and answers what it wrote to stderr.
    pub fn kill_and_stderr(mut self) -> String {
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }

    pub fn connect(&self, path: &str) -> Client {
        connect(self.port, path)
    }
}

/// An offender, a bystander and an observer of closes (tests/ws/limits.snow
/// announces every close to room "observers").
pub fn trio(p: &Proc) -> (Client, i64, Client, Client) {
    let mut observer = p.connect("/room/observers");
    assert_eq!(ask_for(&mut observer, "hi", "hi"), "hi");
    let mut offender = p.connect("/");
    let id = conn_id(&mut offender);
    let bystander = p.connect("/");
    (offender, id, bystander, observer)
}

/// The bystander is still served.
pub fn carries_on(bystander: &mut Client) {
    assert_eq!(ask_for(bystander, "still here", "still"), "still here");
}

/// Starts the executable built from `source` on a free loopback port with
/// `env` added, and waits (at most 10 s) until it listens.
pub fn start_server(source: &str, env: &[(&str, &str)]) -> Proc {
    spawn_server(source, env, Stdio::null())
}

/// [`start_server`] with the server's standard output going to `stdout`
/// (e.g. `Stdio::piped()` to read what `on_close` printed).
pub fn spawn_server(source: &str, env: &[(&str, &str)], stdout: Stdio) -> Proc {
    spawn_built(built(source), source, env, stdout)
}

/// [`start_server`] with the server built at optimisation level `opt`.
pub fn start_server_opt(source: &str, opt: &str, env: &[(&str, &str)]) -> Proc {
    spawn_built(built_opt(source, opt), source, env, Stdio::null())
}

fn spawn_built(exe: PathBuf, source: &str, env: &[(&str, &str)], stdout: Stdio) -> Proc {
    let port = free_port();
    let mut cmd = Command::new(exe);
    cmd.env("PORT", port.to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .stdout(stdout)
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !listening(port) {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("{source} exited with {st}: {err}");
        }
        assert!(
            Instant::now() < deadline,
            "{source} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Proc { child, port }
}

/// A loopback TCP connection whose receive buffer is limited to `rcvbuf`
/// bytes (set before `connect`, so the window the server sees stays small).
/// This machine lets a socket buffer up to 32 MiB by default, which hides
/// a slow consumer from the server for a long time; tests of queue limits
/// use this to make "a client that does not read" visible quickly.
pub fn tcp_with_small_window(port: u16, rcvbuf: i32) -> TcpStream {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2)/setsockopt(2)/connect(2) on a descriptor we
    // own; it is handed to TcpStream, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket");
        let size = rcvbuf;
        let r = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "SO_RCVBUF");
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
            },
            sin_zero: [0; 8],
        };
        let r = libc::connect(
            fd,
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(r, 0, "connect");
        TcpStream::from_raw_fd(fd)
    }
}

/// [`connect`] over a socket with a small receive window (see
/// [`tcp_with_small_window`]): for clients that stop reading.
pub fn connect_small_window(port: u16, path: &str) -> Client {
    let tcp = tcp_with_small_window(port, 16 << 10);
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_nodelay(true).unwrap();
    let (ws, resp) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), tcp)
        .expect("websocket handshake");
    assert_eq!(resp.status(), 101);
    ws
}

pub fn connect(port: u16, path: &str) -> Client {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_nodelay(true).unwrap();
    let (ws, resp) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), tcp)
        .expect("websocket handshake");
    assert_eq!(resp.status(), 101);
    ws
}

pub fn send_text(ws: &mut Client, text: &str) {
    ws.send(Message::text(text)).unwrap();
}

/// The next text message (pings and pongs skipped).
pub fn recv_text(ws: &mut Client) -> String {
    loop {
        match ws.read().expect("reading a text message") {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Sends `text` and answers the first reply that starts with `prefix`.
pub fn ask_for(ws: &mut Client, text: &str, prefix: &str) -> String {
    send_text(ws, text);
    loop {
        let m = recv_text(ws);
        if m.starts_with(prefix) {
            return m;
        }
    }
}

/// The connection's id, asked with the `id` command of tests/ws/limits.snow.
pub fn conn_id(ws: &mut Client) -> i64 {
    let m = ask_for(ws, "id", "id ");
    m[3..].parse().unwrap()
}

/// The close code and reason the server sends (1006 when the socket ends
/// without a close frame).
pub fn read_close(ws: &mut Client) -> (u16, String) {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => {
                return (u16::from(f.code), f.reason.as_str().to_string())
            }
            Ok(Message::Close(None)) => return (u16::from(CloseCode::Status), String::new()),
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed)
            | Err(tungstenite::Error::AlreadyClosed)
            | Err(tungstenite::Error::Io(_))
            | Err(tungstenite::Error::Protocol(_)) => return (1006, String::new()),
            Err(e) => panic!("reading the close frame: {e}"),
        }
    }
}

/// An observer joined to room "observers": waits for the server's
/// `closed ID CODE REASON` announcement about `id` and answers the code.
pub fn observed_close(observer: &mut Client, id: i64) -> i64 {
    let prefix = format!("closed {id} ");
    let m = loop {
        let m = recv_text(observer);
        if m.starts_with(&prefix) {
            break m;
        }
    };
    m[prefix.len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Writes raw bytes on a fresh TCP connection and reads until EOF (at most
/// `limit`); answers what the server sent.
pub fn raw_exchange(port: u16, bytes: &[u8], limit: Duration) -> Vec<u8> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(limit)).unwrap();
    let _ = tcp.write_all(bytes);
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    out
}
