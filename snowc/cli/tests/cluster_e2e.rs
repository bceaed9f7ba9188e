//! Cluster mode end to end (shared/spec/ws.md "Scale-out", docs/CLUSTER.md):
//! a real `redis-server` on a free loopback port (persistence off), several
//! compiled copies of tests/ws/cluster.snow with `SNOW_WS_REDIS_URL`, and
//! real WebSocket clients (tungstenite). Every wait is bounded; Redis and the
//! nodes are killed when a test ends (their `Drop`).

mod common;

use common::redis::Redis;
use common::wsproc::{built, connect, free_port, spawn_server, Client, Proc};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::Message;

const SERVER: &str = "tests/ws/cluster.snow";

/// A node of the cluster behind `redis`, with `env` added.
fn node_with(redis: &Redis, env: &[(&str, &str)]) -> Proc {
    let url = redis.url();
    let mut all = vec![("SNOW_WS_REDIS_URL", url.as_str())];
    all.extend_from_slice(env);
    spawn_server(SERVER, &all, Stdio::null())
}

fn node(redis: &Redis) -> Proc {
    node_with(redis, &[])
}

/// A client of `node` (joining `room` when given) and its id.
fn client(node: &Proc, room: Option<&str>) -> (Client, i64) {
    let path = room.map_or("/".to_string(), |r| format!("/room/{r}"));
    let mut ws = connect(node.port, &path);
    let w = text(&mut ws);
    let id = w
        .strip_prefix("welcome ")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad welcome {w:?}"));
    (ws, id)
}

fn send(ws: &mut Client, t: &str) {
    ws.send(Message::text(t)).unwrap();
}

/// The next data message (pings and pongs skipped).
fn next(ws: &mut Client) -> Message {
    loop {
        match ws.read().expect("reading a message") {
            Message::Ping(_) | Message::Pong(_) => continue,
            m => return m,
        }
    }
}

fn text(ws: &mut Client) -> String {
    match next(ws) {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Sends `cmd` and answers the first reply starting with `prefix`.
fn ask(ws: &mut Client, cmd: &str, prefix: &str) -> String {
    send(ws, cmd);
    loop {
        let m = text(ws);
        if m.starts_with(prefix) {
            return m;
        }
    }
}

/// Nothing arrives before the answer to a round trip.
fn nothing_pending(ws: &mut Client) {
    send(ws, "id");
    let m = text(ws);
    assert!(m.starts_with("id "), "unexpected message {m:?}");
}

/// Asks `cmd` until the answer is `want`, for at most `limit`; answers how
/// long it took.
fn until(ws: &mut Client, cmd: &str, want: &str, limit: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let got = ask(ws, cmd, cmd.split(' ').next().unwrap());
        if got == want {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < limit,
            "{cmd:?} still answers {got:?} after {limit:?} (want {want:?})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sorted(ids: &[i64]) -> String {
    let mut v = ids.to_vec();
    v.sort();
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits until `count room` answers `n` on `ws` (the view has settled).
fn settle(ws: &mut Client, room: &str, n: usize) {
    until(
        ws,
        &format!("count {room}"),
        &format!("count {room} {n}"),
        Duration::from_secs(5),
    );
}

#[test]
fn broadcasts_reach_members_on_every_node_once() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    let (mut b2, _) = client(&b, Some("r"));
    let (mut bx, _) = client(&b, Some("other"));
    settle(&mut a1, "r", 3);
    settle(&mut b1, "r", 3);

    assert_eq!(ask(&mut a1, "say r hello all", "said"), "said 0");
    assert_eq!(text(&mut b1), "hello all");
    assert_eq!(text(&mut b2), "hello all");
    // a1 got its own broadcast once, before "said" (nothing came back
    // from Redis a second time).
    nothing_pending(&mut a1);
    nothing_pending(&mut bx);

    // broadcast_except with a sender on B: everyone else, on both nodes.
    assert_eq!(ask(&mut b1, "except r not for b1", "said"), "said 0");
    assert_eq!(text(&mut a1), "not for b1");
    assert_eq!(text(&mut b2), "not for b1");
    nothing_pending(&mut b1);

    // binary crosses as binary.
    send(&mut a1, "bin r \u{1}raw bytes");
    for ws in [&mut a1, &mut b1, &mut b2] {
        match next(ws) {
            Message::Binary(b) => assert_eq!(&b[..], "\u{1}raw bytes".as_bytes()),
            other => panic!("expected binary, got {other:?}"),
        }
    }
    assert_eq!(text(&mut a1), "said 0");
    nothing_pending(&mut a1);
    nothing_pending(&mut b1);
    nothing_pending(&mut bx);
}

#[test]
fn count_and_members_cover_every_node_and_follow_joins_within_a_second() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis), node(&redis), node(&redis));
    let (_a1, ida1) = client(&a, Some("r"));
    let (_a2, ida2) = client(&a, Some("r"));
    let (mut b1, idb1) = client(&b, Some("r"));
    // A node with no member of r answers for the whole cluster.
    let (mut c1, _) = client(&c, None);
    settle(&mut c1, "r", 3);
    assert_eq!(
        ask(&mut c1, "members r", "members"),
        format!("members r {}", sorted(&[ida1, ida2, idb1]))
    );
    // A leave on B shows on C within 1 s.
    assert_eq!(ask(&mut b1, "leave r", "left"), "left r 0");
    let took = until(&mut c1, "count r", "count r 2", Duration::from_secs(1));
    eprintln!("leave visible on another node after {took:?}");
    assert_eq!(
        ask(&mut c1, "members r", "members"),
        format!("members r {}", sorted(&[ida1, ida2]))
    );
    // And a join.
    assert_eq!(ask(&mut b1, "join r2", "joined"), "joined r2 0");
    until(&mut c1, "count r2", "count r2 1", Duration::from_secs(1));
}

#[test]
fn send_and_close_route_to_another_nodes_handle() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, ida1) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    settle(&mut b1, "r", 2);
    let members = ask(&mut b1, "members r", "members");
    assert!(members.contains(&ida1.to_string()), "{members}");
    // Ws.send / send_binary with A's handle, from B: 0 (routed), delivered.
    assert_eq!(ask(&mut b1, "sendto r direct hello", "sent"), "sent 0");
    assert_eq!(text(&mut a1), "direct hello");
    assert_eq!(ask(&mut b1, "sendbin r direct bytes", "sent"), "sent 0");
    match next(&mut a1) {
        Message::Binary(b) => assert_eq!(&b[..], b"direct bytes"),
        other => panic!("expected binary, got {other:?}"),
    }
    // join/leave/set/get/rooms with another node's handle: as for an
    // unknown connection.
    assert_eq!(ask(&mut b1, "probe r", "probe"), "probe -1/-1/-1/none/0");
    // Ws.close with A's handle: the client gets the code and reason.
    assert_eq!(ask(&mut b1, "kick r 4001 bye from b", "kicked"), "kicked 0");
    loop {
        match a1.read() {
            Ok(Message::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 4001);
                assert_eq!(f.reason.as_str(), "bye from b");
                break;
            }
            Ok(Message::Close(None)) => panic!("close without a code"),
            Ok(_) => continue,
            Err(e) => panic!("no close frame: {e}"),
        }
    }
    settle(&mut b1, "r", 1);
    // A handle of a node that is gone (or never was) answers -1.
    assert_eq!(ask(&mut b1, "sendto r nobody", "sent"), "sent ");
}

#[test]
fn five_hundred_messages_per_sender_arrive_in_order_on_another_node() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("r"));
    let (mut a2, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    settle(&mut b1, "r", 3);
    settle(&mut a1, "r", 3);
    for i in 0..500 {
        send(&mut a1, &format!("quiet r a1-{i}"));
        send(&mut a2, &format!("quiet r a2-{i}"));
    }
    let (mut n1, mut n2) = (0, 0);
    while n1 < 500 || n2 < 500 {
        let m = text(&mut b1);
        if let Some(i) = m.strip_prefix("a1-") {
            assert_eq!(i.parse::<i32>().unwrap(), n1, "a1's messages out of order");
            n1 += 1;
        } else if let Some(i) = m.strip_prefix("a2-") {
            assert_eq!(i.parse::<i32>().unwrap(), n2, "a2's messages out of order");
            n2 += 1;
        } else {
            panic!("unexpected {m:?}");
        }
    }
    nothing_pending(&mut b1);
}

#[test]
fn ids_are_unique_across_the_cluster() {
    let redis = Redis::start();
    let nodes = [node(&redis), node(&redis), node(&redis)];
    let mut ids = Vec::new();
    let mut keep = Vec::new();
    for n in &nodes {
        for _ in 0..10 {
            let (ws, id) = client(n, Some("all"));
            assert!(id > 0);
            ids.push(id);
            keep.push(ws);
        }
    }
    let mut uniq = ids.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 30, "ids repeat: {ids:?}");
    settle(&mut keep[0], "all", 30);
    assert_eq!(
        ask(&mut keep[0], "members all", "members"),
        format!("members all {}", sorted(&ids))
    );
}

#[test]
fn publish_from_redis_cli_reaches_members_on_every_node() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis), node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("news"));
    let (mut b1, _) = client(&b, Some("news"));
    let (mut c1, _) = client(&c, None);
    settle(&mut c1, "news", 2);
    // Only the two nodes with members listen (NUMSUB), so PUBLISH reaches 2.
    assert_eq!(
        redis.cli(&["PUBLISH", "snow:ws:room:news", "from a backend job"]),
        "2"
    );
    assert_eq!(text(&mut a1), "from a backend job");
    assert_eq!(text(&mut b1), "from a backend job");
    nothing_pending(&mut c1);
}

/// What a broadcast costs Redis follows the view: nothing for a room with
/// members on the sender's node only, one message on the other node's own
/// channel when one other node has members (so no node gets its own
/// broadcast back), one on the room's channel when several have.
#[test]
fn a_broadcast_is_published_only_to_the_nodes_with_members() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis), node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("pair"));
    let (mut b1, b_id) = client(&b, Some("pair"));
    let (mut c1, _) = client(&c, Some("trio"));
    assert_eq!(ask(&mut a1, "join solo", "joined"), "joined solo 0");
    assert_eq!(ask(&mut a1, "join trio", "joined"), "joined trio 0");
    assert_eq!(ask(&mut b1, "join trio", "joined"), "joined trio 0");
    settle(&mut a1, "trio", 3);
    settle(&mut a1, "pair", 2);
    settle(&mut a1, "solo", 1);
    let mut watch = redis.watch("snow:ws:*");
    for room in ["solo", "pair", "trio"] {
        send(&mut a1, &format!("quiet {room} to-{room}"));
        assert_eq!(text(&mut a1), format!("to-{room}"));
    }
    assert_eq!(text(&mut b1), "to-pair");
    assert_eq!(text(&mut b1), "to-trio");
    assert_eq!(text(&mut c1), "to-trio");
    // Everything the three broadcasts published (view traffic aside), in
    // the order of the one publishing connection.
    // (Heartbeats keep the view channel busy: read for a fixed 1.5 s.)
    let mut seen = Vec::new();
    let end = Instant::now() + Duration::from_millis(1500);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let Some((channel, payload)) = (!left.is_zero()).then(|| watch.next(left)).flatten() else {
            break;
        };
        if channel != "snow:ws:view" {
            seen.push((channel, String::from_utf8_lossy(&payload).into_owned()));
        }
    }
    let b_node = b_id >> 40;
    let channels: Vec<&str> = seen.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        channels,
        [
            format!("snow:ws:node:{b_node}").as_str(),
            "snow:ws:msg:trio"
        ],
        "published: {seen:?}"
    );
    assert!(
        seen[0].1.ends_with("to-pair") && seen[1].1.ends_with("to-trio"),
        "{seen:?}"
    );
    nothing_pending(&mut a1);
    nothing_pending(&mut b1);
    nothing_pending(&mut c1);
}

/// `PUBSUB NUMSUB channel` as a number.
fn numsub(redis: &Redis, channel: &str) -> i64 {
    let out = redis.cli(&["PUBSUB", "NUMSUB", channel]);
    out.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn numsub_until(redis: &Redis, channel: &str, want: i64) {
    let t0 = Instant::now();
    while numsub(redis, channel) != want {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "NUMSUB {channel} is {} (want {want})",
            numsub(redis, channel)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn only_nodes_with_members_subscribe_to_a_room() {
    let redis = Redis::start();
    let (a, b, c) = (node(&redis), node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    let (mut c1, _) = client(&c, Some("elsewhere"));
    settle(&mut c1, "r", 2);
    for ch in ["snow:ws:room:r", "snow:ws:msg:r"] {
        numsub_until(&redis, ch, 2);
    }
    numsub_until(&redis, "snow:ws:room:elsewhere", 1);
    // The last local member leaving unsubscribes its node.
    assert_eq!(ask(&mut b1, "leave r", "left"), "left r 0");
    numsub_until(&redis, "snow:ws:room:r", 1);
    numsub_until(&redis, "snow:ws:msg:r", 1);
    assert_eq!(ask(&mut a1, "leave r", "left"), "left r 0");
    numsub_until(&redis, "snow:ws:room:r", 0);
    // And the first one joining subscribes it again.
    assert_eq!(ask(&mut c1, "join r", "joined"), "joined r 0");
    numsub_until(&redis, "snow:ws:room:r", 1);
}

#[test]
fn a_node_killed_with_sigkill_drops_out_of_every_view() {
    let redis = Redis::start();
    let (a, mut b) = (node(&redis), node(&redis));
    let (mut a1, ida1) = client(&a, Some("r"));
    let bs: Vec<_> = (0..3).map(|_| client(&b, Some("r"))).collect();
    settle(&mut a1, "r", 4);
    b.child.kill().unwrap(); // SIGKILL: no goodbye, no leaves
    let _ = b.child.wait();
    drop(bs);
    let took = until(&mut a1, "count r", "count r 1", Duration::from_secs(15));
    eprintln!("killed node dropped out after {took:?}");
    assert_eq!(
        ask(&mut a1, "members r", "members"),
        format!("members r {ida1}")
    );
}

#[test]
fn a_node_stopped_with_sigterm_leaves_every_view_at_once() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("r"));
    let _bs: Vec<_> = (0..2).map(|_| client(&b, Some("r"))).collect();
    settle(&mut a1, "r", 3);
    let st = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    // The leaves of its closed connections and its goodbye arrive long
    // before the node timeout (5 s).
    until(&mut a1, "count r", "count r 1", Duration::from_secs(2));
}

#[test]
fn redis_restart_keeps_local_service_and_resumes_cross_node_delivery() {
    let mut redis = Redis::start();
    let a = spawn_server(
        SERVER,
        &[("SNOW_WS_REDIS_URL", redis.url().as_str())],
        Stdio::null(),
    );
    let b = node(&redis);
    let (mut a1, _) = client(&a, Some("r"));
    let (mut a2, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    settle(&mut a1, "r", 3);
    settle(&mut b1, "r", 3);

    redis.kill();
    // Local delivery goes on during the outage, on both nodes.
    assert_eq!(ask(&mut a1, "say r during the outage", "said"), "said 0");
    assert_eq!(text(&mut a2), "during the outage");
    let (mut a3, _) = client(&a, Some("r"));
    assert_eq!(ask(&mut a3, "say r new client", "said"), "said 0");
    assert_eq!(text(&mut a1), "new client");
    assert_eq!(text(&mut a2), "new client");
    assert_eq!(ask(&mut b1, "say r b alone", "said"), "said 0");
    std::thread::sleep(Duration::from_millis(1500));

    redis.restart();
    let back = Instant::now();
    // Cross-node delivery resumes within 5 s (both directions).
    let mut n = 0;
    let resumed = loop {
        n += 1;
        send(&mut a1, &format!("quiet r ping-{n}"));
        b1.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let got = loop {
            match b1.read() {
                Ok(Message::Text(t)) if t.as_str() == format!("ping-{n}") => break true,
                Ok(_) => continue,
                Err(_) => break false,
            }
        };
        if got {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "no cross-node delivery 5 s after Redis came back"
        );
    };
    eprintln!("cross-node delivery resumed {resumed:?} after Redis came back");
    b1.get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // b1 may still have a1's late pings queued: skip them.
    send(&mut b1, "id");
    while !text(&mut b1).starts_with("id ") {}
    assert_eq!(ask(&mut b1, "say r back from b", "said"), "said 0");
    for ws in [&mut a1, &mut a2, &mut a3] {
        loop {
            let m = text(ws);
            if m == "back from b" {
                break;
            }
            assert!(m.starts_with("ping-"), "unexpected {m:?}");
        }
    }
    // The view is rebuilt (A's three members and B's one, seen from both
    // sides) and the subscriptions restored.
    settle(&mut b1, "r", 4);
    settle(&mut a1, "r", 4);
    numsub_until(&redis, "snow:ws:room:r", 2);
}

#[test]
fn the_outage_is_logged_on_stderr() {
    let mut redis = Redis::start();
    let mut a = node(&redis);
    let (mut a1, _) = client(&a, Some("r"));
    redis.kill();
    std::thread::sleep(Duration::from_millis(500));
    redis.restart();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ask(&mut a1, "say r still here", "said"), "said 0");
    a.child.kill().unwrap();
    let _ = a.child.wait();
    let mut err = String::new();
    a.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let addr = format!("127.0.0.1:{}", redis.port);
    assert!(
        err.contains("lost Redis at") && err.contains(&addr),
        "stderr: {err}"
    );
    assert!(err.contains("reconnected to Redis at"), "stderr: {err}");
}

#[test]
fn a_redis_with_a_password_works_and_a_wrong_password_is_exit_1() {
    let redis = Redis::start_with_password(Some("pa55word"));
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    settle(&mut a1, "r", 2);
    assert_eq!(ask(&mut b1, "say r through auth", "said"), "said 0");
    assert_eq!(text(&mut a1), "through auth");
    let out = Command::new(built(SERVER))
        .env("PORT", free_port().to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env(
            "SNOW_WS_REDIS_URL",
            format!("redis://:not-it@127.0.0.1:{}", redis.port),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to Redis at"), "stderr: {err}");
    assert!(!err.contains("not-it"), "stderr: {err}");
}

#[test]
fn rediss_with_a_trusted_certificate_works_and_an_untrusted_one_is_exit_1() {
    let redis = Redis::start_tls();
    let cert = redis.cert().to_str().unwrap().to_string();
    // rustls-native-certs takes the trusted roots from SSL_CERT_FILE.
    let trust = [("SSL_CERT_FILE", cert.as_str())];
    let (a, b) = (node_with(&redis, &trust), node_with(&redis, &trust));
    let (mut a1, _) = client(&a, Some("r"));
    let (mut b1, _) = client(&b, Some("r"));
    settle(&mut a1, "r", 2);
    assert_eq!(ask(&mut b1, "say r over tls", "said"), "said 0");
    assert_eq!(text(&mut a1), "over tls");
    assert_eq!(
        redis.cli(&["PUBLISH", "snow:ws:room:r", "from redis-cli over tls"]),
        "2"
    );
    assert_eq!(text(&mut a1), "from redis-cli over tls");
    // Without the certificate among the trusted roots: refused at start.
    let other = tempfile::tempdir().unwrap();
    let untrusted = other.path().join("other.pem");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(&untrusted, ck.cert.pem()).unwrap();
    let out = Command::new(built(SERVER))
        .env("PORT", free_port().to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env("SNOW_WS_REDIS_URL", redis.url())
        .env("SSL_CERT_FILE", &untrusted)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot connect to Redis at rediss://localhost:{}",
            redis.port
        )),
        "stderr: {err}"
    );
}

#[test]
fn unreachable_redis_at_start_is_a_clear_error_with_status_1() {
    let exe = built(SERVER);
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = Command::new(exe)
        .env("PORT", free_port().to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env("SNOW_WS_REDIS_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot connect to Redis at redis://127.0.0.1:{port}"
        )),
        "stderr: {err}"
    );
    // The password of a URL is never printed.
    let out = Command::new(built(SERVER))
        .env("PORT", free_port().to_string())
        .env(
            "SNOW_WS_REDIS_URL",
            format!("redis://:s3cret@127.0.0.1:{port}/2"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("s3cret"), "stderr: {err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "stderr: {err}");
}
