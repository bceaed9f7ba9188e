//! History and resume end to end (shared/spec/ws.md "History" and
//! "Lossless cluster delivery"; docs/WS.md "History", docs/CLUSTER.md
//! "History"): compiled copies of tests/ws/history.snow, alone or as nodes
//! of a cluster behind a real `redis-server`, and real WebSocket clients.
//! Every wait is bounded; servers and Redis are killed when a test ends.

mod common;

use common::redis::Redis;
use common::wsproc::{connect, spawn_server, Client, Proc};
use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tungstenite::Message;

const SERVER: &str = "tests/ws/history.snow";

fn server(env: &[(&str, &str)]) -> Proc {
    spawn_server(SERVER, env, Stdio::null())
}

/// A node of the cluster behind `redis` keeping `rooms` (with `env`).
fn node(redis: &Redis, env: &[(&str, &str)]) -> Proc {
    let url = redis.url();
    let mut all = vec![("SNOW_WS_REDIS_URL", url.as_str())];
    all.extend_from_slice(env);
    server(&all)
}

fn send(ws: &mut Client, t: &str) {
    ws.send(Message::text(t)).unwrap();
}

/// The next text message (pings and pongs skipped).
fn text(ws: &mut Client) -> String {
    loop {
        match ws.read().expect("reading a message") {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// A published message `msg OFFSET TEXT`: (offset, text).
fn published(m: &str) -> Option<(u64, String)> {
    let rest = m.strip_prefix("msg ")?;
    let (off, t) = rest.split_once(' ')?;
    Some((off.parse().ok()?, t.to_string()))
}

/// Connects to `path`; answers the client, the messages that came before
/// its welcome (a resume's replay) and the welcome's last word (what
/// `on_connect`'s join or resume answered).
fn open(p: &Proc, path: &str) -> (Client, Vec<(u64, String)>, i64) {
    let mut ws = connect(p.port, path);
    let mut replay = Vec::new();
    loop {
        let m = text(&mut ws);
        if let Some(w) = m.strip_prefix("welcome ") {
            let first = w.rsplit(' ').next().unwrap().parse().unwrap();
            return (ws, replay, first);
        }
        replay.push(published(&m).unwrap_or_else(|| panic!("unexpected {m:?}")));
    }
}

/// Sends `cmd` and answers the first reply starting with `prefix`; the
/// published messages that come first are answered too.
fn ask(ws: &mut Client, cmd: &str, prefix: &str) -> (String, Vec<(u64, String)>) {
    send(ws, cmd);
    let mut before = Vec::new();
    loop {
        let m = text(ws);
        if m.starts_with(prefix) {
            return (m, before);
        }
        before.push(published(&m).unwrap_or_else(|| panic!("unexpected {m:?}")));
    }
}

fn reply(ws: &mut Client, cmd: &str, prefix: &str) -> String {
    ask(ws, cmd, prefix).0
}

/// A client without a room, its welcome read.
fn plain(port: u16) -> Client {
    let mut ws = connect(port, "/");
    assert!(text(&mut ws).starts_with("welcome "));
    ws
}

fn offsets(v: &[(u64, String)]) -> Vec<u64> {
    v.iter().map(|(o, _)| *o).collect()
}

#[test]
fn offsets_ranges_and_the_gap_signal() {
    let s = server(&[("ROOMS", "chat"), ("KEEP_COUNT", "5")]);
    let (mut a, _, _) = open(&s, "/room/chat");
    for i in 1..=8 {
        let (r, mine) = ask(&mut a, &format!("pub chat m{i}"), "pub ");
        assert_eq!(r, format!("pub {i}"), "offsets are 1, 2, 3, ...");
        assert_eq!(
            mine,
            vec![(i, format!("m{i}"))],
            "the member got it, with its offset"
        );
    }
    // The newest 3; after 6; after 2, which is older than what is kept:
    // from the oldest kept (4), at most 2.
    assert_eq!(
        reply(&mut a, "hist chat 0 3", "hist"),
        "hist 6=msg 6 m6,7=msg 7 m7,8=msg 8 m8"
    );
    assert_eq!(
        reply(&mut a, "hist chat 6 10", "hist"),
        "hist 7=msg 7 m7,8=msg 8 m8"
    );
    assert_eq!(
        reply(&mut a, "hist chat 2 2", "hist"),
        "hist 4=msg 4 m4,5=msg 5 m5"
    );
    assert_eq!(reply(&mut a, "hist chat 8 10", "hist"), "hist ");
    assert_eq!(reply(&mut a, "hist chat 0 0", "hist"), "hist ");
    assert_eq!(reply(&mut a, "hist elsewhere 0 10", "hist"), "hist ");

    // Resume after 5: 6, 7, 8 then live; the answer is 6 (= 5 + 1: no gap).
    let (mut b, replay, first) = open(&s, "/resume/chat/5");
    assert_eq!(offsets(&replay), [6, 7, 8]);
    assert_eq!(first, 6);
    // After 2: the oldest kept is 4, so the answer is 4, not 3: a gap.
    let (mut c, replay, first) = open(&s, "/resume/chat/2");
    assert_eq!(offsets(&replay), [4, 5, 6, 7, 8]);
    assert_eq!(first, 4);
    // Nothing missed: nothing replayed, 0.
    let (mut d, replay, first) = open(&s, "/resume/chat/8");
    assert!(replay.is_empty());
    assert_eq!(first, 0);
    // Then every live message, once.
    assert_eq!(ask(&mut a, "pub chat live", "pub ").0, "pub 9");
    for ws in [&mut b, &mut c, &mut d] {
        assert_eq!(published(&text(ws)), Some((9, "live".into())));
        assert!(ask(ws, "id", "id ").1.is_empty(), "nothing else queued");
    }
    // A room without Ws.keep: publish answers -1 and sends nothing.
    assert_eq!(reply(&mut a, "join plain", "joined"), "joined 0");
    assert_eq!(ask(&mut a, "pub plain nope", "pub ").0, "pub -1");
    assert!(ask(&mut a, "id", "id ").1.is_empty());
    // keep with a count below 1 or a negative age is refused.
    assert_eq!(reply(&mut a, "keep x 0 0", "kept"), "kept -1");
    assert_eq!(reply(&mut a, "keep x 1 -1", "kept"), "kept -1");
    // A new keep of a room applies at once: count 2.
    assert_eq!(reply(&mut a, "keep chat 2 0", "kept"), "kept 0");
    assert_eq!(
        reply(&mut a, "hist chat 0 10", "hist"),
        "hist 8=msg 8 m8,9=msg 9 live"
    );
}

#[test]
fn old_messages_leave_by_age() {
    let s = server(&[("ROOMS", "chat"), ("KEEP_MS", "400")]);
    let (mut a, _, _) = open(&s, "/");
    for i in 1..=3 {
        reply(&mut a, &format!("pub chat old{i}"), "pub ");
    }
    std::thread::sleep(Duration::from_millis(600));
    for i in 4..=5 {
        reply(&mut a, &format!("pub chat new{i}"), "pub ");
    }
    assert_eq!(
        reply(&mut a, "hist chat 0 10", "hist"),
        "hist 4=msg 4 new4,5=msg 5 new5"
    );
    let (_b, replay, first) = open(&s, "/resume/chat/1");
    assert_eq!(
        (offsets(&replay), first),
        (vec![4, 5], 4),
        "a gap: 2 and 3 are too old"
    );
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(reply(&mut a, "hist chat 0 10", "hist"), "hist ");
    let (_c, replay, first) = open(&s, "/resume/chat/5");
    assert_eq!((replay.len(), first), (0, 0));
}

#[test]
fn all_rooms_together_keep_at_most_the_history_byte_cap() {
    // 100 messages of 200 bytes kept 10,000 each: the cap (20,000 bytes of
    // texts plus 48 bytes each) keeps the newest ones only.
    let s = server(&[
        ("ROOMS", "a,b"),
        ("KEEP_COUNT", "10000"),
        ("SNOW_WS_MAX_HISTORY_BYTES", "20000"),
    ]);
    let (mut c, _, _) = open(&s, "/");
    let pad = "x".repeat(190);
    for i in 1..=100 {
        reply(&mut c, &format!("pub a {i:03}{pad}"), "pub ");
    }
    let h = reply(&mut c, "hist a 0 1000", "hist ");
    let kept: Vec<&str> = h["hist ".len()..].split(',').collect();
    assert!(kept.len() < 100 && kept.len() >= 50, "{} kept", kept.len());
    assert!(
        kept.last().unwrap().starts_with("100=msg 100 100"),
        "the newest is kept"
    );
    // Another room's publishes take their share from the first room.
    for i in 1..=50 {
        reply(&mut c, &format!("pub b {i:03}{pad}"), "pub ");
    }
    let ha = reply(&mut c, "hist a 0 1000", "hist ");
    let hb = reply(&mut c, "hist b 0 1000", "hist ");
    let na = ha["hist ".len()..].split(',').count();
    let nb = hb["hist ".len()..].split(',').count();
    assert!(na + nb <= 90, "{na} + {nb} kept");
    assert!(
        nb >= 30 && na >= 20,
        "{na} kept of a, {nb} of b: the larger room gave"
    );
}

#[test]
fn a_panic_in_build_closes_only_its_connection() {
    let s = server(&[("ROOMS", "chat")]);
    let (mut a, _, _) = open(&s, "/room/chat");
    let (mut b, _, _) = open(&s, "/");
    assert_eq!(reply(&mut a, "pub chat one", "pub "), "pub 1");
    // build calls Ws.publish itself: a panic, close 1011.
    send(&mut b, "nested chat");
    assert_eq!(common::wsproc::read_close(&mut b).0, 1011);
    // The room goes on with the next offset.
    assert_eq!(reply(&mut a, "pub chat two", "pub "), "pub 2");
}

/// Reads published messages until `until` has arrived, checking each is
/// the next offset after `last`; answers the new last offset.
fn read_in_order(ws: &mut Client, mut last: u64, until: u64, stop_early: Option<u64>) -> u64 {
    while last < until {
        let m = text(ws);
        let (off, _) = published(&m).unwrap_or_else(|| panic!("unexpected {m:?}"));
        assert_eq!(
            off,
            last + 1,
            "offset {off} after {last}: a gap or a duplicate"
        );
        last = off;
        if stop_early == Some(last) {
            break;
        }
    }
    last
}

#[test]
fn resuming_while_another_client_publishes_misses_nothing_and_doubles_nothing() {
    const N: u64 = 6000;
    let s = server(&[("ROOMS", "chat"), ("KEEP_COUNT", "100000")]);
    let port = s.port;
    let (mut r, _, _) = open(&s, "/room/chat");
    let publisher = std::thread::spawn(move || {
        let mut p = plain(port);
        for i in 0..N {
            send(&mut p, &format!("quietpub chat p-{i}"));
            if i % 500 == 0 {
                // Now and then wait for the server to catch up, so the
                // publishing goes on while the others reconnect.
                reply(&mut p, "id", "id ");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        reply(&mut p, "id", "id ");
    });
    let mut last = 0;
    // Three times: read a while, drop the connection, resume on a new one.
    for round in 1..=3u64 {
        last = read_in_order(&mut r, last, N, Some(last + 300 + round * 7));
        drop(r);
        let (ws, replay, first) = open(&s, &format!("/resume/chat/{last}"));
        r = ws;
        for (off, _) in &replay {
            assert_eq!(*off, last + 1, "replayed {off} after {last}");
            last = *off;
        }
        assert!(first == 0 || first as u64 == last - replay.len() as u64 + 1);
    }
    last = read_in_order(&mut r, last, N, None);
    assert_eq!(last, N);
    publisher.join().unwrap();
    assert_eq!(
        reply(&mut r, "id", "id ").split(' ').count(),
        2,
        "nothing after the last"
    );
}

// ---- cluster ----

/// The node number of a node (from a client's welcome).
fn node_number(p: &Proc) -> u64 {
    let mut ws = connect(p.port, "/");
    let m = text(&mut ws);
    m.split(' ').nth(2).unwrap().parse().unwrap()
}

/// `CLIENT KILL` of every Redis connection of node `n`.
fn kill_connections(redis: &Redis, n: u64) -> usize {
    let list = redis.cli(&["CLIENT", "LIST"]);
    let mut killed = 0;
    for line in list.lines() {
        if line.contains(&format!("name=snow-node-{n}-")) {
            let id = line
                .split(' ')
                .find_map(|kv| kv.strip_prefix("id="))
                .unwrap();
            redis.cli(&["CLIENT", "KILL", "ID", id]);
            killed += 1;
        }
    }
    killed
}

#[test]
fn two_nodes_see_the_same_offsets() {
    let redis = Redis::start();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "50")];
    let (a, b) = (node(&redis, &env), node(&redis, &env));
    let (mut a1, _, _) = open(&a, "/room/chat");
    let (mut b1, _, _) = open(&b, "/room/chat");
    // Alternate publishers: each message reaches both, same offsets.
    for i in 1..=20u64 {
        let who = if i % 2 == 0 { &mut a1 } else { &mut b1 };
        let (r, _) = ask(who, &format!("pub chat m{i}"), "pub ");
        assert_eq!(r, format!("pub {i}"));
    }
    let ha = reply(&mut a1, "hist chat 0 100", "hist ");
    let hb = reply(&mut b1, "hist chat 0 100", "hist ");
    assert_eq!(ha, hb);
    assert!(ha.ends_with("20=msg 20 m20"), "{ha}");
    // A resume on either node replays the same.
    let (_ra, replay_a, fa) = open(&a, "/resume/chat/15");
    let (_rb, replay_b, fb) = open(&b, "/resume/chat/15");
    assert_eq!(replay_a, replay_b);
    assert_eq!(
        (offsets(&replay_a), fa, fb),
        (vec![16, 17, 18, 19, 20], 16, 16)
    );
}

#[test]
fn members_on_two_nodes_get_every_publish_in_offset_order() {
    let redis = Redis::start();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "1000")];
    let (a, b) = (node(&redis, &env), node(&redis, &env));
    let (mut a1, _, _) = open(&a, "/room/chat");
    let (mut b1, _, _) = open(&b, "/room/chat");
    // Both publish bursts at once; every member sees 1..=400 in order.
    let (pa, pb) = (a.port, b.port);
    let ta = std::thread::spawn(move || {
        let mut c = plain(pa);
        reply(&mut c, "burst chat a 200", "burst ")
    });
    let tb = std::thread::spawn(move || {
        let mut c = plain(pb);
        reply(&mut c, "burst chat b 200", "burst ")
    });
    let (ra, rb) = (ta.join().unwrap(), tb.join().unwrap());
    let mut all: Vec<u64> = ra["burst ".len()..]
        .split(',')
        .chain(rb["burst ".len()..].split(','))
        .map(|o| o.parse().unwrap())
        .collect();
    all.sort();
    assert_eq!(
        all,
        (1..=400).collect::<Vec<u64>>(),
        "offsets without holes or repeats"
    );
    assert_eq!(read_in_order(&mut a1, 0, 400, None), 400);
    assert_eq!(read_in_order(&mut b1, 0, 400, None), 400);
}

#[test]
fn a_member_gets_what_another_node_publishes_right_after_its_join() {
    // The first local member of a kept room: its node follows the room's
    // stream from the join on, not from whenever its reader wakes. Each
    // round joins anew (the leave before made the node forget the room).
    let redis = Redis::start();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "1000")];
    let (a, b) = (node(&redis, &env), node(&redis, &env));
    let (mut a1, _, _) = open(&a, "/");
    let (mut b1, _, _) = open(&b, "/");
    for i in 1..=30u64 {
        assert_eq!(reply(&mut a1, "join chat", "joined "), "joined 0");
        assert_eq!(
            reply(&mut b1, &format!("pub chat m{i}"), "pub "),
            format!("pub {i}")
        );
        assert_eq!(
            published(&text(&mut a1)),
            Some((i, format!("m{i}"))),
            "round {i}: the publish right after the join"
        );
        assert_eq!(reply(&mut a1, "leave chat", "left "), "left 0");
    }
}

/// Whether Redis on `port` answers PING.
fn redis_up(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 5];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG"
}

/// Publishes `n` messages on `p` (one connection, each answered). One that
/// answered -1 (Redis unreachable, or its answer lost) is published again
/// once Redis is back and the node had time to reconnect, unless the
/// history shows it was written after all. Answers the offsets.
fn publish_all(port: u16, redis_port: u16, n: usize) -> Vec<u64> {
    let mut c = plain(port);
    let mut offs = Vec::new();
    let mut i = 0;
    while i < n {
        let r = reply(&mut c, &format!("pub chat p-{i}"), "pub ");
        let off: i64 = r["pub ".len()..].parse().unwrap();
        if off > 0 {
            offs.push(off as u64);
            i += 1;
            continue;
        }
        // -1: Redis unreachable (or the answer was lost). Written anyway?
        let t0 = Instant::now();
        while !redis_up(redis_port) {
            assert!(t0.elapsed() < Duration::from_secs(20), "Redis stays down");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(2000));
        let h = reply(&mut c, "hist chat 0 5", "hist ");
        if let Some(entry) = h["hist ".len()..]
            .split(',')
            .find(|e| e.ends_with(&format!(" p-{i}")))
        {
            offs.push(entry.split('=').next().unwrap().parse().unwrap());
            i += 1;
        }
    }
    offs
}

/// Reads `n` published messages on `ws`: each text `p-I` once, I in order,
/// offsets increasing.
fn receive_all(ws: &mut Client, n: usize) {
    let mut seen = HashSet::new();
    let mut last_off = 0;
    let mut next = 0;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    while next < n {
        let m = text(ws);
        let (off, t) = published(&m).unwrap_or_else(|| panic!("unexpected {m:?}"));
        assert!(off > last_off, "offset {off} after {last_off}");
        last_off = off;
        assert!(seen.insert(t.clone()), "{t} twice");
        assert_eq!(t, format!("p-{next}"), "out of order");
        next += 1;
    }
}

#[test]
fn a_node_whose_redis_connection_is_killed_three_times_loses_nothing() {
    const N: usize = 5000;
    let redis = Redis::start();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "10000")];
    let (a, b) = (node(&redis, &env), node(&redis, &env));
    let nb = node_number(&b);
    let mut members: Vec<Client> = (0..3).map(|_| open(&b, "/room/chat").0).collect();
    let (port, rport) = (a.port, redis.port);
    let publisher = std::thread::spawn(move || publish_all(port, rport, N));
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        assert!(kill_connections(&redis, nb) >= 3, "node {nb}'s connections");
    }
    let offs = publisher.join().unwrap();
    assert_eq!(offs.len(), N);
    for m in members.iter_mut() {
        receive_all(m, N);
        reply(m, "id", "id ");
    }
}

#[test]
fn a_redis_restart_with_persistence_loses_nothing() {
    const N: usize = 5000;
    let mut redis = Redis::start_persistent();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "10000")];
    let (a, b) = (node(&redis, &env), node(&redis, &env));
    let mut members: Vec<Client> = (0..2).map(|_| open(&b, "/room/chat").0).collect();
    let (mut local, _, _) = open(&a, "/room/chat");
    let (port, rport) = (a.port, redis.port);
    let publisher = std::thread::spawn(move || publish_all(port, rport, N));
    std::thread::sleep(Duration::from_millis(500));
    redis.kill();
    std::thread::sleep(Duration::from_millis(700));
    redis.restart();
    let offs = publisher.join().unwrap();
    assert_eq!(offs.len(), N);
    for m in members.iter_mut() {
        receive_all(m, N);
    }
    receive_all(&mut local, N);
}

#[test]
fn publish_answers_minus_1_while_redis_is_down_and_sends_nothing() {
    let mut redis = Redis::start();
    let env = [("ROOMS", "chat")];
    let a = node(&redis, &env);
    let (mut a1, _, _) = open(&a, "/room/chat");
    let (mut a2, _, _) = open(&a, "/room/chat");
    assert_eq!(reply(&mut a1, "pub chat before", "pub "), "pub 1");
    redis.kill();
    let t0 = Instant::now();
    // Until the node noticed, a publish may also wait for its answer.
    loop {
        let (r, _) = ask(&mut a1, "pub chat during", "pub ");
        if r == "pub -1" {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "still {r}");
    }
    assert_eq!(reply(&mut a1, "pub chat during", "pub "), "pub -1");
    // a2 got "before" only.
    let (_, got) = ask(&mut a2, "id", "id ");
    assert_eq!(offsets(&got), [1]);
    // Plain broadcasts still reach local members.
    send(&mut a1, "say chat local");
    assert_eq!(text(&mut a1), "local");
    assert_eq!(text(&mut a1), "said 0");
    assert_eq!(text(&mut a2), "local");
}

#[test]
fn clients_of_a_killed_node_resume_on_the_other_one() {
    let redis = Redis::start();
    let env = [("ROOMS", "chat"), ("KEEP_COUNT", "10000")];
    let (a, mut b) = (node(&redis, &env), node(&redis, &env));
    let mut on_b: Vec<(Client, u64)> = (0..4).map(|_| (open(&b, "/room/chat").0, 0)).collect();
    let (mut pubc, _, _) = open(&a, "/");
    for i in 0..100 {
        reply(&mut pubc, &format!("pub chat p-{i}"), "pub ");
    }
    // Each client on B read a different number of them.
    for (k, (ws, last)) in on_b.iter_mut().enumerate() {
        *last = read_in_order(ws, 0, 100, Some(40 + 10 * k as u64));
    }
    b.child.kill().unwrap();
    let _ = b.child.wait();
    for i in 100..200 {
        reply(&mut pubc, &format!("pub chat p-{i}"), "pub ");
    }
    // They come back on A, each with its last offset, while A goes on.
    let mut resumed = Vec::new();
    for (_, last) in &on_b {
        let (ws, replay, first) = open(&a, &format!("/resume/chat/{last}"));
        assert_eq!(first as u64, last + 1, "no gap");
        let mut l = *last;
        for (off, _) in replay {
            assert_eq!(off, l + 1);
            l = off;
        }
        resumed.push((ws, l));
    }
    for i in 200..250 {
        reply(&mut pubc, &format!("pub chat p-{i}"), "pub ");
    }
    for (ws, l) in resumed.iter_mut() {
        *l = read_in_order(ws, *l, 250, None);
        assert_eq!(*l, 250);
        reply(ws, "id", "id ");
    }
}
