//! The hand-written Rust peer of the Snow WebSocket benchmark: tokio +
//! tokio-tungstenite with the same room semantics as the other peers
//! (bench/README.md, "Protocol"). One reader task and one writer task per
//! connection; a room is a map of member senders behind a mutex, and a
//! broadcast clones one refcounted message into each member's queue.
//! PORT (default 9000), RUST_WS_WORKER_THREADS (default: available cores).

use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

type Rooms = Mutex<HashMap<String, HashMap<u64, UnboundedSender<Message>>>>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn join(rooms: &Rooms, room: &str, id: u64, tx: &UnboundedSender<Message>) {
    rooms
        .lock()
        .unwrap()
        .entry(room.to_string())
        .or_default()
        .insert(id, tx.clone());
}

fn leave(rooms: &Rooms, room: &str, id: u64) {
    let mut rooms = rooms.lock().unwrap();
    if let Some(m) = rooms.get_mut(room) {
        m.remove(&id);
        if m.is_empty() {
            rooms.remove(room);
        }
    }
}

async fn handle(rooms: Arc<Rooms>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let mut path = String::new();
    // tungstenite's callback type: its error is an HTTP response.
    #[allow(clippy::result_large_err)]
    let cb = |req: &Request, resp: Response| {
        path = req.uri().path().to_string();
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
        return;
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let room = path.strip_prefix("/r/").map(str::to_string);
    let mut joined: HashSet<String> = HashSet::new();
    if let Some(r) = &room {
        join(&rooms, r, id, &tx);
        joined.insert(r.clone());
    }
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else {
            if msg.is_close() {
                break;
            }
            continue;
        };
        if text.as_str().starts_with('/') {
            let mut parts = text.as_str().split(' ');
            let (cmd, r) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let reply = match cmd {
                "/join" => {
                    join(&rooms, r, id, &tx);
                    joined.insert(r.to_string());
                    format!("J {r}")
                }
                "/leave" => {
                    leave(&rooms, r, id);
                    joined.remove(r);
                    format!("L {r}")
                }
                _ => format!("? {}", text.as_str()),
            };
            let _ = tx.send(Message::text(reply));
            continue;
        }
        match &room {
            Some(r) => {
                let msg = Message::Text(text);
                if let Some(members) = rooms.lock().unwrap().get(r) {
                    for m in members.values() {
                        let _ = m.send(msg.clone());
                    }
                }
            }
            None => {
                let _ = tx.send(Message::Text(text));
            }
        }
    }
    for r in &joined {
        leave(&rooms, r, id);
    }
    drop(tx);
    let _ = writer.await;
}

fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9000);
    let workers = std::env::var("RUST_WS_WORKER_THREADS")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("cannot listen");
        println!("rust peer listening on {port}");
        let rooms: Arc<Rooms> = Arc::default();
        loop {
            if let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(handle(rooms.clone(), tcp));
            }
        }
    });
}
