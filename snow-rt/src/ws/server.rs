//! The server: runtime, accept loop, handshake, per-connection reader task
//! (which runs the connection's callbacks) and shutdown.

use super::config::ServerConfig;
use super::conn::{self, close_frame, CloseHow, ConnState};
use super::headlimit::HeadLimit;
use super::wire::{close_bytes, writer_task, WsIo};
use futures_util::{Stream, StreamExt};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The three Snow closures of a server (closure object words, see
/// docs/ABI.md) and which kind of message callback `on_message` is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Callbacks {
    pub on_connect: i64,
    /// `on_message(conn, String)` or, with `frames`, `on_frame(conn, Frame)`.
    pub on_message: i64,
    pub on_close: i64,
    pub frames: bool,
}

/// How often (in task polls) a worker takes a task from the shared queue
/// instead of its own (tokio's default is 61). With thousands of
/// connections a worker's local queue (256 tasks) overflows into the shared
/// queue, and tasks parked there wait 61 polls per turn: a few connections
/// then see second-long latencies while the rest are fast. A short interval
/// keeps the service order close to FIFO (bench/RESULTS.md: fan-out at 256
/// clients, p99 133 ms with 61, 50 ms with 8, 29 ms with 2). `SNOW_WS_GLOBAL_QUEUE_INTERVAL`
/// overrides it (benchmarking).
fn global_queue_interval() -> u32 {
    std::env::var("SNOW_WS_GLOBAL_QUEUE_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// tungstenite's read buffer per connection (see `serve_inner`).
const READ_BUFFER: usize = 4 << 10;

/// State shared by the accept loop and every connection task of a server.
struct Shared {
    cfg: ServerConfig,
    cbs: Callbacks,
    ws_config: WebSocketConfig,
    /// (shutting down, the accepted connections of this server). The flag
    /// and the set change under one lock so no connection escapes shutdown.
    live: Mutex<(bool, FxHashMap<u64, Arc<ConnState>>)>,
}

impl Shared {
    fn forget(&self, id: u64) {
        self.live.lock().1.remove(&id);
    }
}

/// Runs a server until `shutdown()` completes, then closes every connection
/// with 1001 (running `on_close` for each) and returns. The port actually
/// bound (useful with port 0) is sent on `bound`. `Err` carries the message
/// for stderr (`cannot listen on port N: ...`).
pub(crate) fn serve_inner<F, Fut>(
    cfg: ServerConfig,
    cbs: Callbacks,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: F,
    bound: Option<std::sync::mpsc::Sender<u16>>,
) -> Result<(), String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.workers.max(1))
        .thread_name("snow-ws")
        // Callbacks run on the workers: room for deep recursion (docs/ABI.md "Stack").
        .thread_stack_size(crate::stack::CALLBACK_STACK_SIZE)
        .global_queue_interval(global_queue_interval())
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server runtime: {e}"))?;
    let result = rt.block_on(async move {
        let listener = TcpListener::bind((cfg.bind.as_str(), cfg.port))
            .await
            .map_err(|e| format!("cannot listen on port {}: {e}", cfg.port))?;
        if let Some(tx) = bound {
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(cfg.port);
            let _ = tx.send(port);
        }
        // tungstenite zero-fills its whole read buffer before every read
        // (128 KiB by default: a 128 KiB memset per small message, and 128
        // KiB of RSS per connection); 4 KiB reads are plenty, larger
        // messages still grow the buffer as needed.
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(cfg.max_message))
            .max_frame_size(Some(cfg.max_message))
            .read_buffer_size(READ_BUFFER);
        let shared = Arc::new(Shared {
            cfg,
            cbs,
            ws_config,
            live: Mutex::new((false, FxHashMap::default())),
        });
        accept_loop(&shared, listener, tls, shutdown()).await;
        Ok(())
    });
    // Connection tasks that outlived the shutdown grace period are dropped.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

async fn accept_loop<Fut: Future<Output = ()>>(
    shared: &Arc<Shared>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: Fut,
) {
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            acc = listener.accept() => match acc {
                Ok((tcp, _peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let shared = shared.clone();
                    let tls = tls.clone();
                    tasks.spawn(async move {
                        let deadline = Instant::now() + shared.cfg.handshake_timeout;
                        match tls {
                            None => handle(shared, tcp, deadline).await,
                            Some(acceptor) => {
                                if let Ok(Ok(s)) = timeout_at(deadline, acceptor.accept(tcp)).await {
                                    handle(shared, s, deadline).await;
                                }
                            }
                        }
                    });
                }
                // Out of file descriptors and the like: back off a little.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    // Shutdown: close every accepted connection with 1001; each reader task
    // then runs on_close. Connections still in their handshake see the flag.
    let conns: Vec<Arc<ConnState>> = {
        let mut live = shared.live.lock();
        live.0 = true;
        live.1.values().cloned().collect()
    };
    for c in conns {
        c.begin_close(1001, "server shutting down", CloseHow::Queue);
    }
    let grace = shared.cfg.close_timeout + std::time::Duration::from_secs(1);
    let _ = timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

/// The request target (path and query) and the headers of an upgrade
/// request; header names are lower-case (http's `HeaderName`), repeated
/// headers are joined with ", ", non-UTF-8 bytes are replaced.
fn request_info(req: &Request) -> (String, Vec<(String, String)>) {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.to_string());
    // Names are lower-case already (`http::HeaderName`); a repeated header's
    // values are joined with ", " (RFC 9110 field-line combination).
    let h = req.headers();
    let headers = h
        .keys()
        .map(|name| {
            let values: Vec<_> = h
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .collect();
            (name.as_str().to_owned(), values.join(", "))
        })
        .collect();
    (target, headers)
}

/// One connection, from the WebSocket handshake to the end.
async fn handle<S>(shared: Arc<Shared>, io: S, deadline: Instant)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut info: Option<(String, Vec<(String, String)>)> = None;
    let (io, link) = WsIo::new(io);
    let io = HeadLimit::new(io, shared.cfg.max_request);
    let mut ws = {
        // The callback's signature is tungstenite's.
        #[allow(clippy::result_large_err)]
        let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            info = Some(request_info(req));
            Ok(resp)
        };
        let hs = tokio_tungstenite::accept_hdr_async_with_config(io, cb, Some(shared.ws_config));
        match timeout_at(deadline, hs).await {
            Ok(Ok(ws)) => ws,
            _ => return,
        }
    };
    ws.get_mut().lift();
    let Some((path, headers)) = info else { return };
    let cfg = &shared.cfg;
    let cbs = shared.cbs;
    let id = conn::next_id();
    let state = Arc::new(ConnState::new(id, cfg.max_queue));
    // From now on the writer task owns the socket's write half.
    let Some(mut wr) = link.detach(state.clone()) else {
        return;
    };
    let mut stream = ws;
    let refused = {
        let mut live = shared.live.lock();
        if live.0 {
            true
        } else {
            live.1.insert(id, state.clone());
            false
        }
    };
    if refused {
        let frame = close_bytes(&close_frame(1001, "server shutting down"));
        let _ = timeout(cfg.close_timeout, wr.write_all(&frame)).await;
        return;
    }
    conn::register(&state);

    let verdict = crate::region::run_callback(|| {
        let p = crate::value::new_str(&path);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let h = crate::map::from_string_pairs(&pairs);
        // SAFETY: on_connect is a Snow closure of three parameters.
        unsafe { crate::closure::call3(cbs.on_connect, id as i64, p, h) }
    });
    if !matches!(verdict, Ok(v) if v != 0) {
        // Rejected (or on_connect panicked): never accepted, so no on_close.
        let (code, reason) = match verdict {
            Ok(_) => (1008, "rejected"),
            Err(_) => (1011, "internal error"),
        };
        state.begin_close(code, reason, CloseHow::NoFrame);
        conn::unregister(id);
        shared.forget(id);
        // Queued messages are dropped: no writer ever runs.
        let _ = timeout(cfg.close_timeout, async {
            if wr
                .write_all(&close_bytes(&close_frame(code, reason)))
                .await
                .is_ok()
            {
                while let Some(Ok(_)) = stream.next().await {}
            }
        })
        .await;
        return;
    }

    let mut writer = tokio::spawn(writer_task(state.clone(), wr));
    let (code, reason) = reader_loop(&shared, &state, &mut stream).await;
    state.begin_close(code, &reason, CloseHow::NoFrame);
    let (code, reason) = state.close_info().unwrap_or((code, reason));
    // Another thread may have won begin_close and still be removing the
    // connection from its rooms: removal is idempotent and takes the
    // connection's membership lock, so this waits for it to finish.
    conn::ROOMS.remove_conn(id);
    // The connection has left all its rooms; now on_close.
    let _ = crate::region::run_callback(|| {
        let r = crate::value::new_str(&reason);
        // SAFETY: on_close is a Snow closure of three parameters.
        unsafe { crate::closure::call3(cbs.on_close, id as i64, code as i64, r) }
    });
    conn::unregister(id);
    shared.forget(id);
    state.stop_writer();
    if timeout(cfg.close_timeout, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Close code, reason and how to close for a read error.
pub(super) fn classify(e: &WsError) -> (u16, &'static str, CloseHow) {
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match e {
        WsError::Capacity(_) => (1009, "message too big", CloseHow::Queue),
        WsError::Utf8(_) => (1007, "invalid UTF-8", CloseHow::Queue),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            (1006, "connection lost", CloseHow::NoFrame)
        }
        WsError::Protocol(_) | WsError::AttackAttempt => (1002, "protocol error", CloseHow::Queue),
        WsError::Io(_) | WsError::ConnectionClosed | WsError::AlreadyClosed => {
            (1006, "connection lost", CloseHow::NoFrame)
        }
        _ => (1011, "internal error", CloseHow::Queue),
    }
}

/// Reads the connection until it ends, running its callbacks one at a time
/// in arrival order, sending heartbeat pings and enforcing the close and
/// pong timeouts. Answers the close code and reason to use if the
/// connection did not record one already.
async fn reader_loop<St>(shared: &Shared, state: &Arc<ConnState>, stream: &mut St) -> (u16, String)
where
    St: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let cfg = &shared.cfg;
    let cbs = shared.cbs;
    let id = state.id as i64;
    let mut next_ping = Instant::now() + cfg.ping_interval;
    let mut pong_deadline: Option<Instant> = None;
    let mut close_deadline: Option<Instant> = None;
    loop {
        if close_deadline.is_none() && state.is_closed() {
            close_deadline = Some(Instant::now() + cfg.close_timeout);
        }
        let wake = match close_deadline {
            Some(d) => d,
            None => pong_deadline.map_or(next_ping, |p| p.min(next_ping)),
        };
        tokio::select! {
            biased;
            _ = state.wake_reader.notified() => continue,
            _ = sleep_until(wake) => {
                let now = Instant::now();
                if let Some(d) = close_deadline {
                    if now >= d {
                        return (1006, "close timeout".to_string());
                    }
                    continue;
                }
                if pong_deadline.is_some_and(|d| now >= d) {
                    pong_deadline = None;
                    state.begin_close(1001, "heartbeat timeout", CloseHow::Queue);
                    continue;
                }
                if now >= next_ping {
                    state.send_ping();
                    if pong_deadline.is_none() {
                        pong_deadline = Some(now + cfg.pong_timeout);
                    }
                    next_ping = now + cfg.ping_interval;
                }
            }
            m = stream.next() => match m {
                None => return (1006, "connection lost".to_string()),
                Some(Ok(msg)) => match msg {
                    Message::Text(t) => {
                        if !state.is_closed() {
                            let r = crate::region::run_callback(|| {
                                let s = crate::value::new_str(t.as_str());
                                let arg = if cbs.frames {
                                    crate::value::new_ctor(crate::value::TAG_TEXT, &[s])
                                } else {
                                    s
                                };
                                // SAFETY: a Snow closure of two parameters.
                                unsafe { crate::closure::call2(cbs.on_message, id, arg) }
                            });
                            if r.is_err() {
                                state.begin_close(1011, "internal error", CloseHow::Queue);
                            }
                        }
                    }
                    Message::Binary(b) => {
                        if state.is_closed() {
                        } else if !cbs.frames {
                            state.begin_close(1003, "binary messages are not supported", CloseHow::Queue);
                        } else {
                            let r = crate::region::run_callback(|| {
                                let bytes = crate::value::new_bytes(&b);
                                let arg = crate::value::new_ctor(crate::value::TAG_BINARY, &[bytes]);
                                // SAFETY: a Snow closure of two parameters.
                                unsafe { crate::closure::call2(cbs.on_message, id, arg) }
                            });
                            if r.is_err() {
                                state.begin_close(1011, "internal error", CloseHow::Queue);
                            }
                        }
                    }
                    Message::Pong(_) => pong_deadline = None,
                    Message::Ping(_) | Message::Frame(_) => {}
                    Message::Close(f) => {
                        let (code, reason) = match f {
                            Some(f) => (u16::from(f.code), f.reason.as_str().to_string()),
                            None => (1005, String::new()),
                        };
                        state.begin_close(code, &reason, CloseHow::NoFrame);
                    }
                },
                Some(Err(e)) => {
                    let (code, reason, how) = classify(&e);
                    state.begin_close(code, reason, how);
                    return (code, reason.to_string());
                }
            }
        }
    }
}
