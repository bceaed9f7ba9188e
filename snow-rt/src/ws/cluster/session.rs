//! The Redis side of a node, on its own thread (`snow-cluster`, a
//! current-thread tokio runtime): connecting, the publish queue, the
//! subscriber, heartbeats and expiry, and reconnecting after an outage.
//!
//! A *session* is one pair of Redis connections ([`super::resp`]): a
//! publisher (queued commands written in queue order, runs of PUBLISH in
//! one write, replies counted as they come back) and a subscriber. Anything
//! wrong with either (an I/O error, a reply missing for 3 s, a connection
//! ending) ends the session: the node marks itself disconnected (publishes are dropped from
//! then on, local clients are served as before), logs the outage once, and
//! opens a new session with exponential backoff (100 ms doubling to 1 s).
//! A new session first drops what the queue still holds, then, under the
//! node's `local` lock, marks itself connected and takes the list of rooms
//! with local members, subscribes to all their channels in one `SUBSCRIBE`,
//! and publishes its snapshot and a query for everyone else's: the
//! subscriptions and the node's share of the view are restored by
//! construction, whatever happened while Redis was away.

use super::node::{Cmd, Deliver, Node, Reply, Timing};
use super::proto::{self, Direct, ViewMsg};
use super::resp::{self, Push};
use super::streams;
use super::view::Then;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::sync::watch;
use tokio::time::timeout;

/// Connecting (TCP, TLS, AUTH) may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A command (a write, a reply, a SUBSCRIBE) may take this long.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most this many commands (or bytes) per write.
const BATCH_COMMANDS: usize = 4096;
const BATCH_BYTES: usize = 4 << 20;

/// Keeps the node counter at least `ARGV[1]`: Redis restarted without
/// persistence forgets the counter, and a node starting afterwards must
/// not get the number of a node that is still alive.
const KEEP_COUNTER_UP: &str = "local c = tonumber(redis.call('GET', KEYS[1]) or '0') \
     if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 0";

/// `redis://host:port` (or `rediss://`), without credentials.
fn describe(client: &redis::Client) -> String {
    let info = client.get_connection_info();
    match info.addr() {
        redis::ConnectionAddr::TcpTls { .. } => format!("rediss://{}", info.addr()),
        redis::ConnectionAddr::Tcp(..) => format!("redis://{}", info.addr()),
        other => format!("{other}"),
    }
}

/// Connects to Redis and takes a node number; on success leaves a thread
/// running the node's Redis side. `Err`: the message for stderr (names the
/// address, never the password).
/// The caller stores the node in the process-wide `NODE` and sends the
/// thread that reference.
pub(super) type Go = std::sync::mpsc::Sender<&'static Node>;

pub(super) fn start(url: &str, timing: Timing, deliver: Deliver) -> Result<(Node, Go), String> {
    let client = redis::Client::open(url)
        .map_err(|e| format!("cluster: SNOW_WS_REDIS_URL is not a valid Redis URL: {e}"))?;
    let addr = describe(&client);
    let (tx, rx) = unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<u64, String>>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<&'static Node>();
    let thread_addr = addr.clone();
    std::thread::Builder::new()
        .name("snow-cluster".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cluster: cannot start a runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                let me = match first_connect(&client).await {
                    Ok(me) => me,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!(
                            "cannot connect to Redis at {thread_addr} (SNOW_WS_REDIS_URL): {e}"
                        )));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(me));
                let Ok(node) = go_rx.recv() else { return };
                run(client, node, rx).await;
            });
        })
        .map_err(|e| format!("cluster: cannot start its thread: {e}"))?;
    let me = ready_rx
        .recv()
        .unwrap_or_else(|_| Err("cluster: its thread ended".into()))?;
    Ok((Node::new(me, addr, timing, deliver, tx), go_tx))
}

/// The first connection: proves Redis is reachable and takes a node number.
async fn first_connect(client: &redis::Client) -> Result<u64, String> {
    let incr = async {
        let (mut r, mut w) = resp::connect(client.get_connection_info()).await?;
        match resp::call(&mut r, &mut w, &[b"INCR", proto::NODE_COUNTER.as_bytes()]).await? {
            Push::Integer(n) if n > 0 => Ok(n as u64),
            other => Err(format!("unexpected answer to INCR: {other:?}")),
        }
    };
    timeout(CONNECT_TIMEOUT + RESPONSE_TIMEOUT, incr)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// Sessions forever, with backoff in between; plus the heartbeat task.
async fn run(client: redis::Client, node: &'static Node, mut rx: UnboundedReceiver<Cmd>) {
    tokio::spawn(housekeeping(node));
    let mut backoff = BACKOFF_FIRST;
    // When the current outage began (None: no outage).
    let mut down_since: Option<Instant> = None;
    loop {
        let started = Instant::now();
        // A bug must not silently end the cluster side: a panic ends the
        // session like a Redis error does, and the node reconnects.
        let err = CatchUnwind(Box::pin(session(&client, node, &mut rx, &mut down_since)))
            .await
            .unwrap_or_else(|()| "internal error (panic) in the cluster session".into());
        node.connected.store(false, Ordering::Relaxed);
        if down_since.is_none() {
            down_since = Some(Instant::now());
            eprintln!(
                "snow: cluster: lost Redis at {} ({err}); serving local clients, reconnecting",
                node.addr
            );
        }
        if started.elapsed() > Duration::from_secs(5) {
            backoff = BACKOFF_FIRST;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Polls a future and turns a panic inside it into `Err` (what
/// `futures::FutureExt::catch_unwind` does).
struct CatchUnwind<F>(F);

impl<F: std::future::Future + Unpin> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::pin::Pin::new(inner).poll(cx)
        })) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}

/// Drops what the queue holds (publishes of an earlier session or from
/// before an outage; the subscriptions are rebuilt from `local`).
fn drain(node: &Node, rx: &mut UnboundedReceiver<Cmd>) {
    while let Ok(cmd) = rx.try_recv() {
        match cmd {
            Cmd::Publish { channel, payload } => {
                node.queued_bytes
                    .fetch_sub(channel.len() + payload.len(), Ordering::Relaxed);
                node.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Cmd::Flush(done) => {
                let _ = done.send(());
            }
            // A waiting caller gets -1 (its reply channel is dropped).
            Cmd::Call { .. } | Cmd::Subscribe(_) | Cmd::Unsubscribe(_) => {}
        }
    }
}

/// One session; answers why it ended.
async fn session(
    client: &redis::Client,
    node: &'static Node,
    rx: &mut UnboundedReceiver<Cmd>,
    down_since: &mut Option<Instant>,
) -> String {
    let connect = || timeout(CONNECT_TIMEOUT, resp::connect(client.get_connection_info()));
    let (mut preader, mut pwriter) = match connect().await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return e,
        Err(_) => return "timed out connecting".into(),
    };
    let (mut reader, mut writer) = match connect().await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return e,
        Err(_) => return "timed out connecting".into(),
    };
    let (mut sreader, mut swriter) = match connect().await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return e,
        Err(_) => return "timed out connecting".into(),
    };
    // Names for CLIENT LIST (an operator, or a test, can tell the node's
    // connections apart); the streams connection's id, to wake its XREAD.
    let setup = async {
        let me = node.me;
        for (r, w, what) in [
            (&mut preader, &mut pwriter, "publish"),
            (&mut reader, &mut writer, "subscribe"),
            (&mut sreader, &mut swriter, "streams"),
        ] {
            let name = format!("snow-node-{me}-{what}");
            resp::call_frame(r, w, &[b"CLIENT", b"SETNAME", name.as_bytes()]).await?;
        }
        let id = match resp::call_frame(&mut sreader, &mut swriter, &[b"CLIENT", b"ID"]).await? {
            redis_protocol::resp2::types::BytesFrame::Integer(n) => n,
            other => return Err(format!("unexpected answer to CLIENT ID: {other:?}")),
        };
        let first = node.first_session.load(Ordering::Relaxed);
        streams::sync_keep(&mut preader, &mut pwriter, first).await?;
        node.first_session.store(false, Ordering::Relaxed);
        Ok::<_, String>(id)
    };
    let streams_id = match timeout(RESPONSE_TIMEOUT, setup).await {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return e,
        Err(_) => return "timed out".into(),
    };
    let unblock = vec![
        b"CLIENT".to_vec(),
        b"UNBLOCK".to_vec(),
        streams_id.to_string().into_bytes(),
    ];
    let me = node.me.to_string();
    let keep_up: [&[u8]; 5] = [
        b"EVAL",
        KEEP_COUNTER_UP.as_bytes(),
        b"1",
        proto::NODE_COUNTER.as_bytes(),
        me.as_bytes(),
    ];
    match timeout(
        RESPONSE_TIMEOUT,
        resp::call(&mut preader, &mut pwriter, &keep_up),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return e,
        Err(_) => return "timed out".into(),
    }
    drain(node, rx);
    let channels = {
        let mut l = node.local.lock();
        node.connected.store(true, Ordering::Relaxed);
        let mut ch = vec![
            proto::VIEW.as_bytes().to_vec(),
            proto::node_channel(node.me),
        ];
        for room in l.rooms.keys() {
            ch.extend(Node::room_channels(room));
        }
        node.publish_snapshot_locked(&mut l);
        node.publish_view_locked(&mut l, &ViewMsg::Query { target: 0 });
        ch
    };
    let (confirmed_tx, confirmed) = watch::channel(0u64);
    let mut subs = Subs {
        writer,
        sent: 0,
        confirmed,
    };
    // Handle pushes while the first SUBSCRIBE is confirmed.
    let first = async {
        tokio::select! {
            r = subs.subscribe(channels) => r,
            e = receiver(node, &mut reader, &confirmed_tx) => Err(e),
        }
    };
    if let Err(e) = first.await {
        return e;
    }
    if let Some(t) = down_since.take() {
        node.reconnects.fetch_add(1, Ordering::Relaxed);
        let lost = node.dropped.swap(0, Ordering::Relaxed);
        eprintln!(
            "snow: cluster: reconnected to Redis at {} after {:.1} s ({lost} cluster messages dropped meanwhile)",
            node.addr,
            t.elapsed().as_secs_f64()
        );
    }
    let sent = AtomicU64::new(0);
    let (replied_tx, replied) = watch::channel(0u64);
    let waiters = RefCell::new(VecDeque::new());
    let mut publishing = Publishing {
        writer: pwriter,
        sent: &sent,
        replied,
        buf: Vec::with_capacity(64 << 10),
        waiters: &waiters,
    };
    tokio::select! {
        e = publisher(node, rx, &mut publishing, &mut subs) => e,
        e = replies(&mut preader, &sent, &replied_tx, &waiters) => e,
        e = receiver(node, &mut reader, &confirmed_tx) => e,
        e = streams::reader(node, sreader, swriter, unblock) => e,
    }
}

/// Who waits for the publishing connection's replies, in command order:
/// a run of commands nobody waits for (PUBLISH; only counted), or a
/// caller of [`Cmd::Call`].
enum Waiter {
    Skip(u64),
    Reply(Reply),
}

type Waiters = RefCell<VecDeque<Waiter>>;

fn expect_skip(w: &Waiters, n: u64) {
    let mut w = w.borrow_mut();
    match w.back_mut() {
        Some(Waiter::Skip(k)) => *k += n,
        _ => w.push_back(Waiter::Skip(n)),
    }
}

/// The publisher connection's write side: commands written and replies
/// received so far (the replies task counts them).
struct Publishing<'a> {
    writer: resp::Writer,
    sent: &'a AtomicU64,
    replied: watch::Receiver<u64>,
    buf: Vec<u8>,
    waiters: &'a Waiters,
}

/// Counts the publisher's replies and hands the awaited ones to their
/// callers; a missing reply (3 s) or an error reply nobody waits for ends
/// the session (a caller gets its error as its answer).
async fn replies(
    reader: &mut resp::Reader,
    sent: &AtomicU64,
    replied: &watch::Sender<u64>,
    waiters: &Waiters,
) -> String {
    use redis_protocol::resp2::types::BytesFrame;
    loop {
        match timeout(RESPONSE_TIMEOUT, reader.next_frame()).await {
            Ok(Ok(frame)) => {
                let waiter = {
                    let mut w = waiters.borrow_mut();
                    match w.front_mut() {
                        Some(Waiter::Skip(k)) if *k > 1 => {
                            *k -= 1;
                            None
                        }
                        _ => w.pop_front(),
                    }
                };
                replied.send_modify(|n| *n += 1);
                match (waiter, frame) {
                    (Some(Waiter::Reply(tx)), BytesFrame::Error(e)) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                    (Some(Waiter::Reply(tx)), frame) => {
                        let _ = tx.send(Ok(frame));
                    }
                    (_, BytesFrame::Error(e)) => return format!("Redis refused a command: {e}"),
                    _ => {}
                }
            }
            Ok(Err(e)) => return e,
            Err(_) => {
                if sent.load(Ordering::Relaxed) > *replied.borrow() {
                    return "Redis did not answer for 3 s".into();
                }
            }
        }
    }
}

/// The subscriber's write side, and how many channel confirmations were
/// asked for and have arrived (the reader counts them).
struct Subs {
    writer: resp::Writer,
    sent: u64,
    confirmed: watch::Receiver<u64>,
}

impl Subs {
    /// `SUBSCRIBE`s and waits until Redis confirmed every channel: a join
    /// announced after this returns finds the node listening.
    async fn subscribe(&mut self, channels: Vec<Vec<u8>>) -> Result<(), String> {
        let mut args: Vec<&[u8]> = vec![b"SUBSCRIBE"];
        args.extend(channels.iter().map(|c| c.as_slice()));
        timeout(RESPONSE_TIMEOUT, self.writer.command(&args))
            .await
            .unwrap_or_else(|_| Err("timed out subscribing".into()))?;
        self.sent += channels.len() as u64;
        let want = self.sent;
        match timeout(RESPONSE_TIMEOUT, self.confirmed.wait_for(|n| *n >= want)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err("the subscriber stopped".into()),
            Err(_) => Err("timed out subscribing".into()),
        }
    }

    async fn unsubscribe(&mut self, channels: Vec<Vec<u8>>) -> Result<(), String> {
        let mut args: Vec<&[u8]> = vec![b"UNSUBSCRIBE"];
        args.extend(channels.iter().map(|c| c.as_slice()));
        timeout(RESPONSE_TIMEOUT, self.writer.command(&args))
            .await
            .unwrap_or_else(|_| Err("timed out unsubscribing".into()))
    }
}

/// Sends the queue in order: runs of publishes encoded into one buffer and
/// written at once, subscription changes on the subscriber connection.
async fn publisher(
    node: &Node,
    rx: &mut UnboundedReceiver<Cmd>,
    p: &mut Publishing<'_>,
    subs: &mut Subs,
) -> String {
    let mut next: Option<Cmd> = None;
    loop {
        let cmd = match next.take() {
            Some(c) => c,
            None => match rx.recv().await {
                Some(c) => c,
                None => return "the node stopped".into(),
            },
        };
        match cmd {
            cmd @ (Cmd::Publish { .. } | Cmd::Call { .. }) => {
                let mut bytes = 0;
                let mut queued = 0;
                let mut n = 0u64;
                let buf = &mut p.buf;
                let waiters = p.waiters;
                // Encodes one command; whether the batch may take more.
                let mut add = |cmd: Cmd| {
                    match cmd {
                        Cmd::Publish { channel, payload } => {
                            queued += channel.len() + payload.len();
                            resp::encode_into(buf, &[b"PUBLISH", &channel, &payload]);
                            expect_skip(waiters, 1);
                        }
                        Cmd::Call { args, reply } => {
                            let args: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                            resp::encode_into(buf, &args);
                            match reply {
                                Some(tx) => waiters.borrow_mut().push_back(Waiter::Reply(tx)),
                                None => expect_skip(waiters, 1),
                            }
                        }
                        _ => {}
                    }
                    n += 1;
                    bytes = buf.len();
                    (n as usize) < BATCH_COMMANDS && bytes < BATCH_BYTES
                };
                let mut more = add(cmd);
                while more {
                    match rx.try_recv() {
                        Ok(c @ (Cmd::Publish { .. } | Cmd::Call { .. })) => more = add(c),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let bytes = queued;
                p.sent.fetch_add(n, Ordering::Relaxed);
                let r = timeout(RESPONSE_TIMEOUT, p.writer.write(&p.buf)).await;
                node.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                p.buf.clear();
                if p.buf.capacity() > BATCH_BYTES * 2 {
                    p.buf = Vec::with_capacity(64 << 10);
                }
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return e,
                    Err(_) => return "Redis did not read for 3 s".into(),
                }
            }
            Cmd::Subscribe(ch) => {
                if let Err(e) = subs.subscribe(ch).await {
                    return e;
                }
            }
            Cmd::Unsubscribe(ch) => {
                if let Err(e) = subs.unsubscribe(ch).await {
                    return e;
                }
            }
            Cmd::Flush(done) => {
                // Everything before has been answered (so it reached Redis).
                let want = p.sent.load(Ordering::Relaxed);
                let _ = timeout(RESPONSE_TIMEOUT, p.replied.wait_for(|n| *n >= want)).await;
                let _ = done.send(());
            }
        }
    }
}

/// Handles what the subscriber receives until its connection ends (one
/// push at a time: the socket is not read while a message is delivered).
async fn receiver(
    node: &'static Node,
    reader: &mut resp::Reader,
    confirmed: &watch::Sender<u64>,
) -> String {
    loop {
        match reader.next().await {
            Ok(Push::Message { channel, payload }) => {
                if let Ok(channel) = std::str::from_utf8(&channel) {
                    on_message(node, channel, &payload);
                }
            }
            Ok(Push::Subscribed) => confirmed.send_modify(|n| *n += 1),
            Ok(Push::Error(e)) => return format!("Redis answered the subscriber: {e}"),
            Ok(Push::Unsubscribed | Push::Integer(_) | Push::Other) => {}
            Err(e) => return e,
        }
        // Let the publisher and the heartbeats run during a long burst.
        tokio::task::consume_budget().await;
    }
}

fn on_message(node: &'static Node, channel: &str, payload: &[u8]) {
    if let Some(room) = channel.strip_prefix(proto::ROOM_MSG) {
        if let Some(m) = proto::decode_room_msg(payload) {
            if m.origin != node.me {
                (node.deliver.room)(room, m.kind == proto::TEXT, m.payload, m.except);
            }
        }
    } else if let Some(room) = channel.strip_prefix(proto::ROOM_TEXT) {
        // From any Redis client: must be text to be a text frame.
        if std::str::from_utf8(payload).is_ok() {
            (node.deliver.room)(room, true, payload, None);
        } else {
            warn_once("a PUBLISH to snow:ws:room:* that is not UTF-8 text was dropped");
        }
    } else if channel == proto::VIEW {
        on_view(node, payload);
    } else if channel.starts_with(proto::NODE) {
        match proto::decode_direct(payload) {
            Some(Direct::Send {
                conn,
                kind,
                payload,
            }) => (node.deliver.send)(conn as i64, kind == proto::TEXT, payload),
            Some(Direct::Close { conn, code, reason }) => {
                (node.deliver.close)(conn as i64, code, reason);
            }
            Some(Direct::Room {
                room,
                kind,
                except,
                payload,
            }) => (node.deliver.room)(room, kind == proto::TEXT, payload, except),
            None => {}
        }
    }
}

fn warn_once(what: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!("snow: cluster: {what} (reported once)");
    }
}

fn on_view(node: &'static Node, payload: &[u8]) {
    let Some((origin, seq, msg)) = proto::decode_view(payload) else {
        return;
    };
    if origin == node.me {
        // Our own heartbeat came back: the cross-node lag.
        if let ViewMsg::Heartbeat = msg {
            node.heartbeat_back(seq);
        }
        return;
    }
    if let ViewMsg::Keep { room, count, ms } = msg {
        node.kept_elsewhere(room, count, ms);
    }
    let then = node
        .view
        .write()
        .apply(node.me, origin, seq, &msg, Instant::now());
    let diffs = node.view.write().take_diffs();
    node.presence_changed(diffs);
    match then {
        Then::Nothing => {}
        Then::AskSnapshot(target) => {
            node.publish_view(&ViewMsg::Query { target });
        }
        Then::SendSnapshot => node.publish_snapshot(),
    }
}

/// Heartbeats (while connected) and the expiry of silent nodes (always).
async fn housekeeping(node: &'static Node) {
    let mut tick = tokio::time::interval(node.timing.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if node.connected.load(Ordering::Relaxed) {
            node.heartbeat();
            let dropped = node.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                eprintln!("snow: cluster: {dropped} cluster messages dropped (publish queue full)");
            }
        }
        let (gone, diffs) = {
            let mut v = node.view.write();
            let gone = v.expire(Instant::now(), node.timing.node_timeout);
            (gone, v.take_diffs())
        };
        node.presence_changed(diffs);
        for n in gone {
            eprintln!(
                "snow: cluster: node {n} not heard from for {} ms: its members are gone",
                node.timing.node_timeout.as_millis()
            );
        }
    }
}
