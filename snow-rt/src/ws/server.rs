//! The server: runtime, accept loop, handshake, per-connection reader task
//! (which runs the connection's callbacks) and shutdown.

use super::callbacks::{self, Callbacks};
use super::config::ServerConfig;
use super::conn::{self, CloseHow, ConnState};
use super::counters::{self, Refused};
use super::frame::{close_bytes, close_frame};
use super::handshake::{self, Head, Kind};
use super::limits::{self, IpSlot, PerIp};
use super::{deflate, out_queue, session, static_files};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};

/// How often (in task polls) a worker takes a task from the shared queue
/// instead of its own (tokio's default is 61). With thousands of
/// connections a worker's local queue (256 tasks) overflows into the shared
/// queue, and tasks parked there wait 61 polls per turn: a few connections
/// then see second-long latencies while the rest are fast. A short interval
/// keeps the service order close to FIFO (bench/RESULTS.md: fan-out at 256
/// clients, p99 133 ms with 61, 50 ms with 8, 29 ms with 2). `SNOW_WS_GLOBAL_QUEUE_INTERVAL`
/// overrides it (benchmarking).
fn global_queue_interval() -> u32 {
    crate::rt::settings().ws_global_queue_interval.unwrap_or(2)
}

/// How many task polls a worker makes between two looks at the sockets
/// (tokio's `event_interval`, default 61); `SNOW_WS_EVENT_INTERVAL`
/// overrides it (benchmarking).
fn event_interval() -> u32 {
    crate::rt::settings().ws_event_interval.unwrap_or(61)
}

/// How a server stops: what its shutdown future answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGINT (and tests): every connection is closed with 1001, and the
    /// server waits up to the close timeout plus a second for them.
    Shutdown,
    /// SIGTERM, a draining restart: every connection is closed with 1012
    /// (the client should reconnect, possibly to another node), and
    /// everything, `on_close` included, is over by `deadline`.
    Drain { deadline: std::time::Instant },
}

impl Stop {
    /// The close code and reason every connection gets.
    fn close(self) -> (u16, &'static str) {
        let code = match self {
            Stop::Shutdown => 1001,
            Stop::Drain { .. } => 1012,
        };
        (code, Stop::reason_of(code))
    }

    fn reason_of(code: u16) -> &'static str {
        if code == 1012 {
            "server restarting"
        } else {
            "server shutting down"
        }
    }
}

/// State shared by the accept loop and every connection task of a server.
struct Shared {
    cfg: ServerConfig,
    cbs: Callbacks,
    /// (shutting down, the accepted connections of this server). The flag
    /// and the set change under one lock so no connection escapes shutdown.
    live: Mutex<(bool, FxHashMap<u64, Arc<ConnState>>)>,
    /// Upgraded connections still open and file responses in progress
    /// (for `SNOW_WS_MAX_CONNECTIONS`).
    open: AtomicUsize,
    /// Open connections per address (`SNOW_WS_MAX_CONNECTIONS_PER_IP`).
    per_ip: PerIp,
    /// The close code of the shutdown under way (set before `live.0`).
    stop_code: AtomicU16,
}

impl Shared {
    fn forget(&self, id: u64) {
        self.live.lock().1.remove(&id);
    }
}

/// The remote address of an accepted socket (for
/// `SNOW_WS_MAX_CONNECTIONS_PER_IP`), `None` once it is gone.
pub(crate) trait PeerIp {
    fn peer_ip(&self) -> Option<IpAddr>;
}

impl PeerIp for tokio::net::TcpStream {
    fn peer_ip(&self) -> Option<IpAddr> {
        self.peer_addr().ok().map(|a| a.ip())
    }
}

impl<S: PeerIp> PeerIp for tokio_rustls::server::TlsStream<S> {
    fn peer_ip(&self) -> Option<IpAddr> {
        self.get_ref().0.peer_ip()
    }
}

/// Takes one of the server's connection slots for as long as it lives.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    /// A slot, unless `max` are taken.
    fn take(open: &'a AtomicUsize, max: usize) -> Option<Slot<'a>> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(open))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs a server until `shutdown()` completes, then closes every connection
/// as its [`Stop`] says (running `on_close` for each) and returns. The port actually
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
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = Stop>,
{
    let workers = cfg.workers.max(1);
    let body = move || async move {
        let listener = TcpListener::bind((cfg.bind.as_str(), cfg.port))
            .await
            .map_err(|e| format!("cannot listen on port {}: {e}", cfg.port))?;
        if let Some(tx) = bound {
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(cfg.port);
            let _ = tx.send(port);
        }
        conn::set_total_cap(cfg.max_queue_total);
        out_queue::set_compression_threshold(cfg.compression_threshold);
        deflate::set_level(cfg.compression_level);
        let shared = Arc::new(Shared {
            cfg,
            cbs,
            live: Mutex::new((false, FxHashMap::default())),
            open: AtomicUsize::new(0),
            per_ip: PerIp::default(),
            stop_code: AtomicU16::new(1001),
        });
        accept_loop(&shared, listener, tls, shutdown()).await;
        Ok(())
    };
    if workers == 1 && !crate::rt::settings().ws_multi_thread_runtime {
        // One worker: a current-thread runtime on a thread of its own (with
        // the callback stack). Its run queue is one FIFO without the
        // multi-thread scheduler's LIFO slot and 256-task local queue that
        // overflows into a shared one, so with thousands of connections
        // every connection is served in turn (bench/analysis.md, "many
        // rooms"), and the accept loop shares the thread (no second thread
        // to wake).
        return std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("snow-ws".into())
                .stack_size(crate::rt::CALLBACK_STACK_SIZE)
                .spawn_scoped(s, move || {
                    // (Its shared queue only takes wake-ups from other
                    // threads, timers and the cluster: tokio's default
                    // interval unless SNOW_WS_GLOBAL_QUEUE_INTERVAL is set.)
                    let mut b = tokio::runtime::Builder::new_current_thread();
                    if let Some(n) = crate::rt::settings().ws_global_queue_interval {
                        b.global_queue_interval(n);
                    }
                    run_to_end(&mut b, body())
                })
                .map_err(|e| format!("cannot start the server thread: {e}"))?
                .join()
                .unwrap_or_else(|_| Err("the server thread panicked".into()))
        });
    }
    run_to_end(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("snow-ws")
            // Callbacks run on the workers: room for deep recursion (docs/ABI.md "Stack").
            .thread_stack_size(crate::rt::CALLBACK_STACK_SIZE)
            .global_queue_interval(global_queue_interval()),
        body(),
    )
}

/// Builds the server's runtime from `builder` (either kind), runs `body`
/// to its end on it, then drops connection tasks that outlived the
/// shutdown grace period.
fn run_to_end(
    builder: &mut tokio::runtime::Builder,
    body: impl Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let rt = builder
        .event_interval(event_interval())
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server runtime: {e}"))?;
    let result = rt.block_on(body);
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// Whether an accept error means the process ran out of descriptors or
/// memory (waiting helps) rather than a failed connection (it does not).
fn is_resource_error(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

async fn accept_loop<Fut: Future<Output = Stop>>(
    shared: &Arc<Shared>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: Fut,
) {
    let mut tasks = JoinSet::new();
    let sweeper = tokio::spawn(sweep_loop(shared.clone()));
    // At most `max_handshakes` sockets between accept and the end of their
    // handshake; the rest wait in the kernel's accept queue.
    let handshakes = Arc::new(Semaphore::new(shared.cfg.max_handshakes.max(1)));
    // Backoff while out of descriptors (logged once per episode).
    let mut backoff: Option<Duration> = None;
    tokio::pin!(shutdown);
    let stop = loop {
        tokio::select! {
            stop = &mut shutdown => break stop,
            acc = async {
                let permit = handshakes.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => match acc {
                (Ok(permit), Ok((tcp, _peer))) => {
                    if backoff.take().is_some() {
                        eprintln!("snow: accepting connections again");
                    }
                    let _ = tcp.set_nodelay(true);
                    let shared = shared.clone();
                    let tls = tls.clone();
                    let deadline = Instant::now() + shared.cfg.handshake_timeout;
                    match tls {
                        None => {
                            tasks.spawn(handle(shared, tcp, deadline, permit));
                        }
                        // Boxed: a TLS connection's future (rustls state,
                        // the TLS stream's handle) is several times a plain
                        // one's, and would make every task that large.
                        Some(acceptor) => {
                            tasks.spawn(Box::pin(async move {
                                if let Ok(Ok(s)) = timeout_at(deadline, acceptor.accept(tcp)).await {
                                    handle(shared, s, deadline, permit).await;
                                }
                            }));
                        }
                    }
                }
                (_, Err(e)) if is_resource_error(&e) => {
                    // Out of file descriptors (or memory): the pending
                    // connection stays in the accept queue; wait for
                    // connections to close instead of spinning.
                    let wait = match backoff {
                        None => {
                            eprintln!(
                                "snow: cannot accept connections: {e}; waiting for connections to close \
                                 (raise the open-file limit or lower SNOW_WS_MAX_CONNECTIONS)"
                            );
                            Duration::from_millis(10)
                        }
                        Some(d) => (d * 2).min(Duration::from_secs(1)),
                    };
                    backoff = Some(wait);
                    tokio::time::sleep(wait).await;
                }
                // A connection that failed before we took it: go on.
                _ => {}
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    };
    // Stop accepting: new connections are refused by the kernel.
    drop(listener);
    // Close every accepted connection (1001, or 1012 for a drain); each
    // connection's task then runs on_close. Connections still in their
    // handshake see the flag.
    let (code, reason) = stop.close();
    shared.stop_code.store(code, Ordering::Relaxed);
    let live = || -> Vec<Arc<ConnState>> {
        let mut live = shared.live.lock();
        live.0 = true;
        live.1.values().cloned().collect()
    };
    for c in live() {
        c.begin_close(code, reason, CloseHow::Queue);
    }
    match stop {
        Stop::Shutdown => {
            let grace = shared.cfg.close_timeout + Duration::from_secs(1);
            let _ = timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        }
        Stop::Drain { deadline } => {
            // Three quarters of the time for close handshakes; then the
            // connections still closing are ended at once (their on_close
            // runs, with 1012); a fifth of the time (at most 500 ms) is
            // left for the process to exit.
            let now = std::time::Instant::now();
            let budget = deadline.saturating_duration_since(now);
            let usable = budget - (budget / 5).min(Duration::from_millis(500));
            let handshakes_end = Instant::from_std(now + usable * 3 / 4);
            let end = Instant::from_std(now + usable);
            let _ = timeout_at(handshakes_end, async {
                while tasks.join_next().await.is_some() {}
            })
            .await;
            for c in live() {
                c.deadlines.expired.store(true, Ordering::Release);
                c.out.wake();
            }
            let _ = timeout_at(end, async { while tasks.join_next().await.is_some() {} }).await;
        }
    }
    tasks.abort_all();
    sweeper.abort();
}

/// How often a server checks its connections' deadlines: a quarter of its
/// shortest timeout, between 5 ms and 1 s (so with the defaults, once a
/// second; a deadline is met within one tick).
fn sweep_tick(cfg: &ServerConfig) -> Duration {
    let shortest = [
        cfg.ping_interval,
        cfg.pong_timeout,
        cfg.close_timeout,
        cfg.write_timeout,
    ]
    .into_iter()
    .min()
    .unwrap_or(Duration::from_secs(1));
    (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

/// The server's one timer: every tick it looks at each live connection's
/// deadlines (`conn::Deadlines`) and acts on those that passed. A
/// connection needs no timer of its own, and a tick costs a few atomic
/// loads per connection.
async fn sweep_loop(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(sweep_tick(&shared.cfg));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        sweep(&shared, conn::now_ms());
    }
}

/// What a deadline that passed asks for.
enum Due {
    /// The socket took nothing for the write timeout (or an urgent close
    /// could not get its frame out): give it up.
    Write,
    /// The close handshake took too long: end the connection's task.
    Close,
    /// No pong to the last ping in time: close 1001.
    Pong,
    /// Time for the next heartbeat ping.
    Ping,
}

fn due(c: &ConnState, now: u64) -> Option<Due> {
    let d = &c.deadlines;
    let passed = |a: &std::sync::atomic::AtomicU64| {
        let t = a.load(Ordering::Relaxed);
        t != 0 && now >= t
    };
    if passed(&d.write_due) {
        Some(Due::Write)
    } else if c.is_closed() {
        passed(&d.close_due).then_some(Due::Close)
    } else if passed(&d.pong_due) {
        Some(Due::Pong)
    } else {
        passed(&d.next_ping).then_some(Due::Ping)
    }
}

/// One tick of [`sweep_loop`]: finds the connections with a deadline that
/// passed (under the live set's lock: loads only), then acts on them
/// outside it (closing takes registry locks).
fn sweep(shared: &Shared, now: u64) {
    let cfg = &shared.cfg;
    let work: Vec<(Arc<ConnState>, Due)> = {
        let live = shared.live.lock();
        live.1
            .values()
            .filter_map(|c| due(c, now).map(|d| (c.clone(), d)))
            .collect()
    };
    for (c, what) in work {
        let d = &c.deadlines;
        match what {
            Due::Write => {
                if !c.begin_close(1008, "write timeout", CloseHow::Dead) {
                    c.kill();
                }
            }
            Due::Close => {
                d.expired.store(true, Ordering::Release);
                c.out.wake();
            }
            Due::Pong => {
                d.pong_due.store(0, Ordering::Relaxed);
                c.begin_close(1001, "heartbeat timeout", CloseHow::Queue);
            }
            Due::Ping => {
                let seq = d.ping_seq.fetch_add(1, Ordering::AcqRel) + 1;
                c.send_ping(&seq.to_be_bytes());
                if d.pong_due.load(Ordering::Relaxed) == 0 {
                    let due = now + cfg.pong_timeout.as_millis() as u64;
                    d.pong_due.store(due, Ordering::Relaxed);
                }
                d.next_ping.store(
                    now + cfg.ping_interval.as_millis() as u64,
                    Ordering::Relaxed,
                );
            }
        }
    }
}

/// Writes `bytes` (an HTTP response to a request that is not upgraded)
/// and closes the socket, within `deadline`.
async fn respond_and_close<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8], deadline: Instant) {
    let _ = timeout_at(deadline, async {
        if wr.write_all(bytes).await.is_ok() {
            let _ = wr.shutdown().await;
        }
    })
    .await;
}

/// One connection: its request head, then (for an upgrade) the WebSocket
/// connection to the end. `permit` is its handshake slot, given back once
/// the upgrade is done.
async fn handle<S>(
    shared: Arc<Shared>,
    io: S,
    deadline: Instant,
    permit: tokio::sync::OwnedSemaphorePermit,
) where
    S: AsyncRead + AsyncWrite + PeerIp + Unpin + Send + 'static,
{
    // Boxed: the handshake's state (request head, file responses) lives only
    // until the upgrade; for the rest of its life the connection's task
    // holds the session's state alone (docs/WS.md "Threading").
    let Some(up) = Box::pin(upgrade(&shared, io, deadline, permit)).await else {
        return;
    };
    let Upgraded {
        state,
        rd,
        wr,
        rest,
        deflate,
        slot,
        ip_slot,
    } = up;
    let cbs = shared.cbs;
    let id = state.id;
    let (code, reason) = session::start(&shared.cfg, cbs, &state, rd, wr, rest, deflate).await;
    state.begin_close(code, reason, CloseHow::NoFrame);
    let (code, reason) = state
        .close_info()
        .unwrap_or_else(|| (code, reason.to_string()));
    // Another thread may have won begin_close and still be removing the
    // connection from its rooms: removal is idempotent and takes the
    // connection's membership lock, so this waits for it to finish.
    conn::ROOMS.remove_conn(id);
    counters::closed(code);
    // The connection has left all its rooms; now on_close.
    callbacks::on_close(cbs, id, code, &reason);
    conn::unregister(id);
    shared.forget(id);
    drop(ip_slot);
    drop(slot);
}

/// An accepted WebSocket connection, right after `on_connect` accepted it.
struct Upgraded<'s, S> {
    state: Arc<ConnState>,
    rd: tokio::io::ReadHalf<S>,
    wr: tokio::io::WriteHalf<S>,
    /// Bytes the client sent right after its request head.
    rest: Vec<u8>,
    /// permessage-deflate was negotiated.
    deflate: bool,
    /// Its connection slot (`SNOW_WS_MAX_CONNECTIONS`).
    slot: Slot<'s>,
    /// Its place in its address's count (`SNOW_WS_MAX_CONNECTIONS_PER_IP`;
    /// boxed: an idle connection's task stays small without the limit).
    ip_slot: Option<Box<IpSlot<'s>>>,
}

/// The request head and what it asks for: an HTTP answer (then `None`), or
/// the upgrade, `on_connect`, and the accepted connection. A rejected
/// connection is closed here.
async fn upgrade<'s, S>(
    shared: &'s Shared,
    io: S,
    deadline: Instant,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Option<Upgraded<'s, S>>
where
    S: AsyncRead + AsyncWrite + PeerIp + Unpin + Send + 'static,
{
    let cfg = &shared.cfg;
    // (Asked of the socket here rather than carried in every connection's
    // task from the accept.)
    let peer = io.peer_ip();
    let (mut rd, mut wr) = tokio::io::split(io);
    let (head, rest) =
        match timeout_at(deadline, handshake::read_head(&mut rd, cfg.max_request)).await {
            Ok(Head::Complete(head, rest)) => (head, rest),
            Ok(Head::TooLarge) => {
                counters::refused(Refused::BadRequest);
                let r = handshake::error_response(431, &[], "request head too large\n");
                {
                    respond_and_close(&mut wr, &r, deadline).await;
                    return None;
                }
            }
            Ok(Head::Malformed) => {
                counters::refused(Refused::BadRequest);
                let r = handshake::error_response(400, &[], "malformed request\n");
                {
                    respond_and_close(&mut wr, &r, deadline).await;
                    return None;
                }
            }
            Ok(Head::Gone) | Err(_) => return None,
        };
    let key = match handshake::kind(&head) {
        Kind::Upgrade { key } => key,
        Kind::Plain => {
            let Some(root) = cfg.static_dir.clone() else {
                let r = handshake::error_response(
                    426,
                    &[("Upgrade", "websocket")],
                    "this is a WebSocket endpoint\n",
                );
                {
                    respond_and_close(&mut wr, &r, deadline).await;
                    return None;
                }
            };
            // A file download may last long: it takes a connection slot
            // (like a WebSocket) and gives its handshake slot back.
            let Some(_file_slot) = Slot::take(&shared.open, cfg.max_connections) else {
                let r = handshake::error_response(
                    503,
                    &[("Retry-After", "1")],
                    "too many connections\n",
                );
                {
                    respond_and_close(&mut wr, &r, deadline).await;
                    return None;
                }
            };
            drop(permit);
            // Boxed: a file response's future is large, and inline it
            // would make every connection's task that large.
            Box::pin(static_files::respond(
                root,
                &head,
                &mut rd,
                &mut wr,
                cfg.write_timeout,
            ))
            .await;
            return None;
        }
        Kind::WrongVersion => {
            counters::refused(Refused::BadRequest);
            let r = handshake::error_response(
                426,
                &[("Sec-WebSocket-Version", "13")],
                "unsupported WebSocket version\n",
            );
            {
                respond_and_close(&mut wr, &r, deadline).await;
                return None;
            }
        }
        Kind::BadUpgrade(why) => {
            counters::refused(Refused::BadRequest);
            let r = handshake::error_response(400, &[], &format!("{why}\n"));
            {
                respond_and_close(&mut wr, &r, deadline).await;
                return None;
            }
        }
    };
    // Cross-site WebSocket hijacking: nothing of a foreign page's upgrade
    // reaches Snow code (origin.rs).
    if !cfg.origins.allows(&head) {
        counters::refused(Refused::Origin);
        let r = handshake::error_response(403, &[], "origin not allowed\n");
        {
            respond_and_close(&mut wr, &r, deadline).await;
            return None;
        }
    }
    if shared.live.lock().0 {
        counters::refused(Refused::Draining);
        let r = handshake::error_response(503, &[], "server shutting down\n");
        {
            respond_and_close(&mut wr, &r, deadline).await;
            return None;
        }
    }
    // One address past its share (SNOW_WS_MAX_CONNECTIONS_PER_IP): 429.
    let ip_slot = match cfg.max_connections_per_ip {
        None => None,
        Some(max) => {
            let ip = limits::client_ip(peer?, &head, cfg.trust_proxy);
            let Some(s) = shared.per_ip.take(ip, max) else {
                counters::refused(Refused::PerIp);
                let r = handshake::error_response(
                    429,
                    &[("Retry-After", "1")],
                    "too many connections from this address\n",
                );
                respond_and_close(&mut wr, &r, deadline).await;
                return None;
            };
            Some(Box::new(s))
        }
    };
    let Some(slot) = Slot::take(&shared.open, cfg.max_connections) else {
        counters::refused(Refused::Cap);
        let r = handshake::error_response(503, &[("Retry-After", "1")], "too many connections\n");
        {
            respond_and_close(&mut wr, &r, deadline).await;
            return None;
        }
    };
    // permessage-deflate, when enabled and offered (deflate.rs).
    let negotiated = if cfg.compression {
        head.header("sec-websocket-extensions")
            .and_then(deflate::negotiate)
    } else {
        None
    };
    let accept = handshake::switching_protocols(&key, negotiated.as_ref().map(|(_, r)| r.as_str()));
    if !matches!(
        timeout_at(deadline, wr.write_all(&accept)).await,
        Ok(Ok(()))
    ) {
        return None;
    }
    drop(permit);
    let handshake::RequestHead {
        target: path,
        headers,
        ..
    } = head;
    let cbs = shared.cbs;
    let id = conn::next_id();
    let window = negotiated.as_ref().map_or(0, |(n, _)| n.compress_window());
    let state = Arc::new(
        ConnState::new(id, cfg.max_queue)
            .compressing(window)
            .close_timeout(cfg.close_timeout.as_millis() as u64),
    );
    state.deadlines.next_ping.store(
        conn::now_ms() + cfg.ping_interval.as_millis() as u64,
        Ordering::Relaxed,
    );
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
        counters::refused(Refused::Draining);
        let code = shared.stop_code.load(Ordering::Relaxed);
        let frame = close_bytes(&close_frame(code, Stop::reason_of(code)));
        let _ = timeout(cfg.close_timeout, wr.write_all(&frame)).await;
        return None;
    }
    conn::register(&state);

    // The request's path and headers are dropped with this call: an open
    // connection keeps none of its request.
    let verdict = callbacks::on_connect(cbs, id, path, headers);
    if !matches!(verdict, Ok(true)) {
        // Rejected (or on_connect panicked): never accepted, so no on_close.
        let (code, reason) = match verdict {
            Ok(_) => (1008, "rejected"),
            Err(_) => (1011, "internal error"),
        };
        // Queued messages are dropped and the queue takes nothing more:
        // the close frame is written here.
        state.begin_close(code, reason, CloseHow::Dead);
        conn::unregister(id);
        shared.forget(id);
        counters::add(counters::Counter::Rejected, 1);
        session::reject(cfg, rd, wr, &close_frame(code, reason)).await;
        return None;
    }
    counters::accepted();

    Some(Upgraded {
        state,
        rd,
        wr,
        rest,
        deflate: negotiated.is_some(),
        slot,
        ip_slot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An idle connection's memory is mostly its task: the future `handle`
    /// returns. The handshake (request head, file responses) is boxed and
    /// gone once the connection is upgraded, so what stays is the session's
    /// state; a large future creeping back in (an unboxed file response
    /// made every task 5 KB) fails this.
    #[test]
    fn an_idle_connections_task_is_small() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let _c = tokio::net::TcpStream::connect(l.local_addr().unwrap())
                .await
                .unwrap();
            let (s, _) = l.accept().await.unwrap();
            let shared = Arc::new(Shared {
                cfg: ServerConfig::defaults(0),
                cbs: Callbacks {
                    on_connect: 0,
                    on_message: 0,
                    on_close: 0,
                    frames: false,
                },
                live: Mutex::new((false, FxHashMap::default())),
                open: AtomicUsize::new(0),
                per_ip: PerIp::default(),
                stop_code: AtomicU16::new(1001),
            });
            let permit = Arc::new(Semaphore::new(1)).acquire_owned().await.unwrap();
            let task = handle(shared, s, Instant::now(), permit);
            let size = std::mem::size_of_val(&task);
            eprintln!(
                "a connection's task: {size} bytes, its state {} bytes",
                std::mem::size_of::<ConnState>()
            );
            assert!(size <= 640, "a connection's task is {size} bytes");
            assert!(std::mem::size_of::<ConnState>() <= 400);
        });
    }
}
