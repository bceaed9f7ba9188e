//! In-process test servers with callbacks written in Rust following the ABI
//! (closure objects `{ code, ctx }` whose code calls the exported
//! `snow_ws_*` functions exactly as generated Snow code would), and blocking
//! `tungstenite` clients.

use super::super::*;
use crate::rt::{bytes_ref, new_bytes, new_str, str_ref};
use parking_lot::{Condvar, Mutex};
use std::net::TcpStream;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::WebSocket;

/// What a test server's callbacks observed.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Connect {
        conn: i64,
        path: String,
        header: Option<String>,
    },
    Msg {
        conn: i64,
        text: String,
    },
    Bin {
        conn: i64,
        len: usize,
    },
    Close {
        conn: i64,
        code: i64,
        reason: String,
        rooms_left: i64,
        send: i64,
        in_room: bool,
    },
}

impl Ev {
    pub fn conn(&self) -> i64 {
        match self {
            Ev::Connect { conn, .. }
            | Ev::Msg { conn, .. }
            | Ev::Bin { conn, .. }
            | Ev::Close { conn, .. } => *conn,
        }
    }
}

/// Per-server test context, reached from the callbacks through capture 0.
pub struct Ctx {
    /// The room `on_connect` joins and the commands use.
    pub room: String,
    pub events: Mutex<Vec<Ev>>,
    cv: Condvar,
    /// Results of the last "flood"/"bflood" command.
    pub flood_failures: AtomicI64,
    pub flood_first_fail: AtomicI64,
    pub closes: AtomicUsize,
}

static ROOM_SEQ: AtomicUsize = AtomicUsize::new(0);

impl Ctx {
    fn new(tag: &str) -> &'static Ctx {
        let n = ROOM_SEQ.fetch_add(1, Ordering::Relaxed);
        Box::leak(Box::new(Ctx {
            room: format!("{tag}-{n}"),
            events: Mutex::new(Vec::new()),
            cv: Condvar::new(),
            flood_failures: AtomicI64::new(0),
            flood_first_fail: AtomicI64::new(-1),
            closes: AtomicUsize::new(0),
        }))
    }

    fn push(&self, e: Ev) {
        self.events.lock().push(e);
        self.cv.notify_all();
    }

    /// Waits (up to 10 s) until `pred` holds for the events; panics otherwise.
    pub fn wait<T>(&self, what: &str, mut pred: impl FnMut(&[Ev]) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut evs = self.events.lock();
        loop {
            if let Some(t) = pred(&evs) {
                return t;
            }
            if self.cv.wait_until(&mut evs, deadline).timed_out() {
                if let Some(t) = pred(&evs) {
                    return t;
                }
                panic!("timed out waiting for {what}; events: {:?}", &*evs);
            }
        }
    }

    /// The id of the connection whose upgrade path was `path`.
    pub fn conn_of(&self, path: &str) -> i64 {
        self.wait(&format!("connect {path}"), |evs| {
            evs.iter().find_map(|e| match e {
                Ev::Connect { conn, path: p, .. } if p == path => Some(*conn),
                _ => None,
            })
        })
    }

    /// The `on_close` event of `conn` (waits for it).
    pub fn close_of(&self, conn: i64) -> Ev {
        self.wait(&format!("on_close of {conn}"), |evs| {
            evs.iter()
                .find(|e| matches!(e, Ev::Close { conn: c, .. } if *c == conn))
                .cloned()
        })
    }

    pub fn events_of(&self, conn: i64) -> Vec<Ev> {
        self.events
            .lock()
            .iter()
            .filter(|e| e.conn() == conn)
            .cloned()
            .collect()
    }
}

fn ctx_of(this: *const u8) -> &'static Ctx {
    // SAFETY: capture 0 of every test closure is a leaked `Ctx`.
    unsafe { &*(*(this as *const i64).add(1) as *const Ctx) }
}

/// A closure object `{ code, ctx }`, leaked (lives as long as the process,
/// like closures in Snow's root region).
fn closure(code: *const u8, ctx: &'static Ctx) -> i64 {
    Box::leak(Box::new([code as i64, ctx as *const Ctx as i64])).as_ptr() as i64
}

fn s(text: &str) -> i64 {
    new_str(text)
}

extern "C-unwind" fn on_connect(this: *const u8, conn: i64, path: i64, headers: i64) -> i64 {
    let ctx = ctx_of(this);
    // SAFETY: String and Map<String, String> words from the runtime.
    let path = unsafe { str_ref(path) }.to_string();
    // SAFETY: words the runtime passes to a callback, of the types of its signature.
    let header = unsafe { crate::stdlib::map::entries(headers) }
        .into_iter()
        // SAFETY: words the runtime passes to a callback, of the types of its signature.
        .find(|(k, _)| unsafe { str_ref(*k) } == "x-test")
        // SAFETY: words the runtime passes to a callback, of the types of its signature.
        .map(|(_, v)| unsafe { str_ref(v) }.to_string());
    let ev = Ev::Connect {
        conn,
        path: path.clone(),
        header,
    };
    if path.starts_with("/reject") {
        ctx.push(ev);
        // Both must be undone by the rejection.
        assert_eq!(snow_ws_join(conn, s(&ctx.room)), 0);
        assert_eq!(snow_ws_send(conn, s("secret")), 0);
        return 0;
    }
    if path.starts_with("/panic") {
        ctx.push(ev);
        panic!("on_connect panics on purpose");
    }
    if !path.starts_with("/noroom") {
        assert_eq!(snow_ws_join(conn, s(&ctx.room)), 0);
    }
    if path.starts_with("/welcome") {
        snow_ws_send(conn, s("welcome"));
    }
    // Recorded last, so a test that saw the event knows the joins happened.
    ctx.push(ev);
    1
}

/// Runs one text command (see the match) for `conn`.
fn command(ctx: &Ctx, conn: i64, text: &str) -> i64 {
    let room = s(&ctx.room);
    let (cmd, arg) = text.split_once(':').unwrap_or((text, ""));
    match cmd {
        "echo" => snow_ws_send(conn, s(arg)),
        "bcast" => snow_ws_broadcast(room, s(arg)),
        "except" => snow_ws_broadcast_except(room, s(arg), conn),
        "bbin" => snow_ws_broadcast_binary(room, new_bytes(arg.as_bytes())),
        "join" => snow_ws_send(conn, s(&snow_ws_join(conn, s(arg)).to_string())),
        "leave" => snow_ws_send(conn, s(&snow_ws_leave(conn, s(arg)).to_string())),
        "count" => snow_ws_send(conn, s(&snow_ws_count(s(arg)).to_string())),
        "id" => snow_ws_send(conn, s(&snow_ws_id(conn).to_string())),
        "members" => {
            // SAFETY: words the runtime passes to a callback, of the types of its signature.
            let ids: Vec<String> = unsafe { crate::rt::list_to_vec(snow_ws_members(s(arg))) }
                .iter()
                .map(|c| c.to_string())
                .collect();
            snow_ws_send(conn, s(&ids.join(",")))
        }
        "rooms" => {
            // SAFETY: words the runtime passes to a callback, of the types of its signature.
            let names: Vec<String> = unsafe { crate::rt::list_to_vec(snow_ws_rooms(conn)) }
                .iter()
                // SAFETY: words the runtime passes to a callback, of the types of its signature.
                .map(|w| unsafe { str_ref(*w) }.to_string())
                .collect();
            snow_ws_send(conn, s(&names.join(",")))
        }
        "close" => {
            let (code, reason) = arg.split_once(':').unwrap_or((arg, ""));
            snow_ws_close(conn, code.parse().unwrap(), s(reason))
        }
        "panic" => panic!("on_message panics on purpose"),
        // flood:N:SIZE — queue N messages of SIZE bytes to this connection.
        // bflood:N:SIZE — broadcast them to the room instead.
        "flood" | "bflood" => {
            let (n, size) = arg.split_once(':').unwrap();
            let (n, size): (usize, usize) = (n.parse().unwrap(), size.parse().unwrap());
            let payload = s(&"x".repeat(size));
            let mut failures = 0;
            for i in 0..n {
                let r = if cmd == "flood" {
                    -snow_ws_send(conn, payload)
                } else {
                    snow_ws_broadcast(room, payload)
                };
                if r != 0 {
                    failures += r;
                    let _ = ctx.flood_first_fail.compare_exchange(
                        -1,
                        i as i64,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                }
            }
            ctx.flood_failures.store(failures, Ordering::SeqCst);
            0
        }
        _ => 0,
    }
}

extern "C-unwind" fn on_message(this: *const u8, conn: i64, text: i64) -> i64 {
    let ctx = ctx_of(this);
    // SAFETY: a String word.
    let text = unsafe { str_ref(text) }.to_string();
    ctx.push(Ev::Msg {
        conn,
        text: text.clone(),
    });
    command(ctx, conn, &text)
}

extern "C-unwind" fn on_frame(this: *const u8, conn: i64, frame: i64) -> i64 {
    let ctx = ctx_of(this);
    // SAFETY: a Frame word (tag 0 Text(String), 1 Binary(Bytes)).
    let (tag, payload) = unsafe { (crate::rt::tag(frame), crate::rt::field(frame, 0)) };
    if tag == crate::rt::TAG_TEXT {
        // SAFETY: words the runtime passes to a callback, of the types of its signature.
        let text = unsafe { str_ref(payload) }.to_string();
        ctx.push(Ev::Msg {
            conn,
            text: text.clone(),
        });
        command(ctx, conn, &text)
    } else {
        assert_eq!(tag, crate::rt::TAG_BINARY);
        // SAFETY: words the runtime passes to a callback, of the types of its signature.
        let b = unsafe { bytes_ref(payload) };
        ctx.push(Ev::Bin { conn, len: b.len() });
        // Echo the bytes reversed.
        let rev: Vec<u8> = b.iter().rev().copied().collect();
        snow_ws_send_binary(conn, new_bytes(&rev))
    }
}

extern "C-unwind" fn on_close(this: *const u8, conn: i64, code: i64, reason: i64) -> i64 {
    let ctx = ctx_of(this);
    // SAFETY: a String word.
    let reason = unsafe { str_ref(reason) }.to_string();
    // SAFETY: words the runtime passes to a callback, of the types of its signature.
    let rooms_left = unsafe { crate::rt::list_to_vec(snow_ws_rooms(conn)) }.len() as i64;
    // SAFETY: words the runtime passes to a callback, of the types of its signature.
    let in_room = unsafe { crate::rt::list_to_vec(snow_ws_members(s(&ctx.room))) }.contains(&conn);
    let send = snow_ws_send(conn, s("too late"));
    ctx.closes.fetch_add(1, Ordering::SeqCst);
    ctx.push(Ev::Close {
        conn,
        code,
        reason,
        rooms_left,
        send,
        in_room,
    });
    0
}

/// A server running on a background thread until dropped or stopped.
pub struct TestServer {
    pub port: u16,
    pub ctx: &'static Ctx,
    stop: Option<tokio::sync::oneshot::Sender<Stop>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

/// Test defaults: loopback, 2 workers (the multi-thread scheduler), short
/// close timeout. `SNOW_WS_TEST_WORKERS=1` runs every test on the
/// one-worker server (a current-thread runtime; scripts/test.sh runs the
/// suite both ways).
pub fn test_config() -> ServerConfig {
    let mut cfg = ServerConfig::defaults(0);
    cfg.bind = "127.0.0.1".to_string();
    cfg.workers = std::env::var("SNOW_WS_TEST_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    cfg.close_timeout = Duration::from_millis(1500);
    cfg
}

impl TestServer {
    pub fn start(tag: &str, frames: bool) -> TestServer {
        Self::start_with(tag, frames, test_config())
    }

    pub fn start_with(tag: &str, frames: bool, cfg: ServerConfig) -> TestServer {
        Self::start_full(tag, frames, cfg, None)
    }

    pub fn start_full(
        tag: &str,
        frames: bool,
        cfg: ServerConfig,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> TestServer {
        crate::rt::install_hook();
        let ctx = Ctx::new(tag);
        let msg_code = if frames {
            on_frame as *const u8
        } else {
            on_message as *const u8
        };
        let cbs = Callbacks {
            on_connect: closure(on_connect as *const u8, ctx),
            on_message: closure(msg_code, ctx),
            on_close: closure(on_close as *const u8, ctx),
            frames,
        };
        let (ptx, prx) = std::sync::mpsc::channel();
        let (stx, srx) = tokio::sync::oneshot::channel::<Stop>();
        let thread = std::thread::spawn(move || {
            serve_inner(
                cfg,
                cbs,
                tls,
                move || async move { srx.await.unwrap_or(Stop::Shutdown) },
                Some(ptx),
            )
        });
        let port = prx
            .recv_timeout(Duration::from_secs(10))
            .expect("server did not start");
        TestServer {
            port,
            ctx,
            stop: Some(stx),
            thread: Some(thread),
        }
    }

    /// Triggers the shutdown and waits for `serve_inner` to return.
    pub fn stop(self) -> Result<(), String> {
        self.stop_as(Stop::Shutdown)
    }

    /// Stops the server as `how` says (a shutdown or a drain) and waits for
    /// `serve_inner` to return.
    pub fn stop_as(mut self, how: Stop) -> Result<(), String> {
        let _ = self.stop.take().unwrap().send(how);
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("server thread panicked")
    }

    pub fn connect(&self, path: &str) -> Client {
        connect(self.port, path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(Stop::Shutdown);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub type Client = WebSocket<TcpStream>;

pub fn connect(port: u16, path: &str) -> Client {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("X-Test", "hello".parse().unwrap());
    let (ws, resp) = tungstenite::client(req, tcp).expect("websocket handshake");
    assert_eq!(resp.status(), 101);
    ws
}

/// The next text message (pings and pongs skipped).
pub fn recv_text(ws: &mut Client) -> String {
    loop {
        match ws.read().expect("read") {
            tungstenite::Message::Text(t) => return t.as_str().to_string(),
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Sends `text` and answers the text reply.
pub fn ask(ws: &mut Client, text: &str) -> String {
    ws.send(tungstenite::Message::text(text)).unwrap();
    recv_text(ws)
}

/// Reads until the close frame; answers its code and reason. Data messages
/// before it are returned too.
pub fn recv_close(ws: &mut Client) -> (u16, String, Vec<String>) {
    let mut before = Vec::new();
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(Some(f))) => {
                return (u16::from(f.code), f.reason.as_str().to_string(), before)
            }
            Ok(tungstenite::Message::Close(None)) => return (1005, String::new(), before),
            Ok(tungstenite::Message::Text(t)) => before.push(t.as_str().to_string()),
            Ok(tungstenite::Message::Binary(b)) => before.push(format!("<{} bytes>", b.len())),
            Ok(_) => {}
            Err(e) => panic!("expected a close frame, got error {e}"),
        }
    }
}
