//! Presence end to end (shared/spec/ws.md "Presence"; docs/WS.md
//! "Presence", docs/CLUSTER.md "Presence"): compiled copies of
//! tests/ws/presence.snow, alone or as nodes of a cluster behind a real
//! `redis-server`, and real WebSocket clients. Every diff a node's
//! `on_presence` reports reaches that node's members (`broadcast_local`):
//! "diff ROOM +ID=META,... -ID=META,...". Every wait is bounded.

mod common;

use common::redis::Redis;
use common::wsproc::{connect, spawn_server, Client, Proc};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tungstenite::Message;

const SERVER: &str = "tests/ws/presence.snow";

fn server(env: &[(&str, &str)]) -> Proc {
    spawn_server(SERVER, env, Stdio::null())
}

fn node(redis: &Redis) -> Proc {
    server(&[("SNOW_WS_REDIS_URL", redis.url().as_str())])
}

fn send(ws: &mut Client, t: &str) {
    ws.send(Message::text(t)).unwrap();
}

fn text(ws: &mut Client) -> String {
    loop {
        match ws.read().expect("reading a message") {
            Message::Text(t) => return t.as_str().to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// A client of `p` at `path`, and its id.
fn open(p: &Proc, path: &str) -> (Client, i64) {
    let mut ws = connect(p.port, path);
    // (Diffs of a room the connection joined may come first.)
    let w = loop {
        let m = text(&mut ws);
        if m.starts_with("welcome ") {
            break m;
        }
    };
    let id = w.split(' ').nth(1).and_then(|s| s.parse().ok());
    (ws, id.unwrap_or_else(|| panic!("bad welcome {w:?}")))
}

/// A diff: (joins, leaves) as id -> meta (a leave's id is -1 when its
/// connection is gone: then keyed by -1, -2, ... in order).
type Diff = (BTreeMap<i64, String>, BTreeMap<i64, String>);

fn parse_list(s: &str) -> BTreeMap<i64, String> {
    let mut gone = 0;
    s.split(',')
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (id, meta) = e.split_once('=').unwrap();
            let mut id: i64 = id.parse().unwrap();
            if id == -1 {
                gone -= 1;
                id = gone;
            }
            (id, meta.to_string())
        })
        .collect()
}

fn parse_diff(m: &str, room: &str) -> Option<Diff> {
    let rest = m.strip_prefix(&format!("diff {room} +"))?;
    let (joins, leaves) = rest.split_once(" -")?;
    Some((parse_list(joins), parse_list(leaves)))
}

/// Sends `cmd`; answers the reply starting with `prefix` and the diffs of
/// `room` that came before it (other messages are skipped).
fn ask(ws: &mut Client, cmd: &str, prefix: &str, room: &str) -> (String, Vec<Diff>) {
    send(ws, cmd);
    let mut diffs = Vec::new();
    loop {
        let m = text(ws);
        if m.starts_with(prefix) {
            return (m, diffs);
        }
        if let Some(d) = parse_diff(&m, room) {
            diffs.push(d);
        }
    }
}

fn reply(ws: &mut Client, cmd: &str, prefix: &str) -> String {
    ask(ws, cmd, prefix, "").0
}

/// The next diff of `room` on `ws` (other messages skipped), within `limit`.
fn next_diff(ws: &mut Client, room: &str, limit: Duration) -> Option<Diff> {
    ws.get_ref().set_read_timeout(Some(limit)).unwrap();
    let t0 = Instant::now();
    let got = loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                if let Some(d) = parse_diff(t.as_str(), room) {
                    break Some(d);
                }
            }
            Ok(_) => {}
            Err(_) => break None,
        }
        if t0.elapsed() > limit {
            break None;
        }
    };
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    got
}

fn one(id: i64, meta: &str) -> BTreeMap<i64, String> {
    [(id, meta.to_string())].into_iter().collect()
}

fn none() -> BTreeMap<i64, String> {
    BTreeMap::new()
}

#[test]
fn track_untrack_retrack_leave_and_close() {
    let s = server(&[]);
    let (mut obs, _) = open(&s, "/room/r");
    let (mut a, ida) = open(&s, "/track/r/alice");
    let w = Duration::from_secs(2);
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((one(ida, "alice"), none()))
    );
    assert_eq!(
        reply(&mut obs, "presence r", "presence"),
        format!("presence {ida}=alice")
    );
    // Again: the meta is replaced (a join with the new meta).
    assert_eq!(reply(&mut a, "track r alice2", "tracked"), "tracked 0");
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((one(ida, "alice2"), none()))
    );
    assert_eq!(
        reply(&mut obs, "presence r", "presence"),
        format!("presence {ida}=alice2")
    );
    // untrack: a leave, still a member.
    assert_eq!(reply(&mut a, "untrack r", "untracked"), "untracked 0");
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((none(), one(ida, "alice2")))
    );
    assert_eq!(reply(&mut obs, "presence r", "presence"), "presence ");
    assert_eq!(reply(&mut obs, "count r", "count"), "count 2");
    // Retrack, then leave: the entry goes with the membership.
    reply(&mut a, "track r back", "tracked");
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((one(ida, "back"), none()))
    );
    reply(&mut a, "leave r", "left");
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((none(), one(ida, "back")))
    );
    // Track again and close the connection: it leaves.
    reply(&mut a, "track r last", "tracked");
    assert_eq!(
        next_diff(&mut obs, "r", w),
        Some((one(ida, "last"), none()))
    );
    drop(a);
    // (Ws.id of a closed connection is -1: a program puts what its pages
    // need to know of a member in the meta.)
    assert_eq!(next_diff(&mut obs, "r", w), Some((none(), one(-1, "last"))));
    assert_eq!(reply(&mut obs, "presence r", "presence"), "presence ");
    // Nothing more.
    assert_eq!(next_diff(&mut obs, "r", Duration::from_millis(300)), None);
}

#[test]
fn changes_within_one_batch_come_as_one_call() {
    let s = server(&[]);
    let (mut obs, _) = open(&s, "/room/r");
    let mut ids = vec![];
    let mut keep = vec![];
    for _ in 0..5 {
        let (ws, id) = open(&s, "/room/r");
        ids.push(id);
        keep.push(ws);
    }
    // One callback tracks all six members of r: one call, six joins, in
    // the order they were tracked (by id here).
    assert_eq!(reply(&mut obs, "trackmembers r m", "tracked"), "tracked 6");
    let (joins, leaves) = next_diff(&mut obs, "r", Duration::from_secs(2)).unwrap();
    assert_eq!(joins.len(), 6, "{joins:?}");
    assert!(leaves.is_empty());
    for id in &ids {
        assert_eq!(joins[id], format!("m-{id}"));
    }
    let order = reply(&mut obs, "presence r", "presence");
    let listed: Vec<i64> = order["presence ".len()..]
        .split(',')
        .map(|e| e.split('=').next().unwrap().parse().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "in order of tracking");
    // Untrack all and track one again, in one callback each, close together:
    // each batch reports the net change.
    send(&mut obs, "untrackmembers r");
    send(&mut keep[0], "track r again");
    let mut all_leaves = BTreeSet::new();
    let mut all_joins = BTreeMap::new();
    let mut calls = 0;
    while let Some((j, l)) = next_diff(&mut obs, "r", Duration::from_millis(500)) {
        calls += 1;
        for id in l.keys() {
            assert!(all_leaves.insert(*id), "{id} left twice");
        }
        all_joins.extend(j);
    }
    assert!(calls <= 2, "{calls} calls");
    assert!(all_leaves.len() >= 5, "{all_leaves:?}");
    assert!(
        all_joins.is_empty() || all_joins == one(ids[0], "again"),
        "{all_joins:?}"
    );
}

#[test]
fn broadcast_local_reaches_only_this_nodes_members() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    let (mut a1, _) = open(&a, "/room/r");
    let (mut a2, _) = open(&a, "/room/r");
    let (mut b1, _) = open(&b, "/room/r");
    let t0 = Instant::now();
    while reply(&mut a1, "count r", "count") != "count 3" {
        assert!(t0.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&mut a1, "local r only here");
    assert_eq!(text(&mut a1), "only here");
    assert_eq!(text(&mut a1), "said 0");
    assert_eq!(text(&mut a2), "only here");
    // b1 gets the next broadcast, not the local one.
    send(&mut a1, "say r everywhere");
    assert_eq!(text(&mut b1), "everywhere");
}

/// The presence of `room` as every node answers it, until all equal `want`.
fn presence_until(
    clients: &mut [&mut Client],
    room: &str,
    want: &str,
    limit: Duration,
) -> Duration {
    let t0 = Instant::now();
    loop {
        let got: Vec<String> = clients
            .iter_mut()
            .map(|c| reply(c, &format!("presence {room}"), "presence"))
            .collect();
        if got.iter().all(|g| g == want) {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < limit,
            "presence after {limit:?}: {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn three_nodes_agree_and_a_killed_nodes_members_leave_once() {
    let redis = Redis::start();
    let (a, mut b, c) = (node(&redis), node(&redis), node(&redis));
    // An observer (a member of r, reading diffs) and a client asking for
    // the presence on each node.
    let (mut oa, _) = open(&a, "/room/r");
    let (mut ob, _) = open(&b, "/room/r");
    let (mut oc, _) = open(&c, "/room/r");
    let (mut pa, _) = open(&a, "/");
    let (mut pb, _) = open(&b, "/");
    let (mut pc, _) = open(&c, "/");
    // Let the view settle before tracking (observers on every node).
    let t0 = Instant::now();
    while reply(&mut pa, "count r", "count") != "count 3" {
        assert!(t0.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_ta, ida) = open(&a, "/track/r/on-a");
    let (_tc, idc) = open(&c, "/track/r/on-c");
    let mut on_b = Vec::new();
    let mut killed = BTreeMap::new();
    for i in 0..50 {
        let (ws, id) = open(&b, &format!("/track/r/b{i}"));
        on_b.push(ws);
        killed.insert(id, format!("b{i}"));
    }
    // Every node lists the same 52 entries in the same order within 1 s
    // of the last track.
    let mut expect: Vec<(i64, String)> = vec![(ida, "on-a".into()), (idc, "on-c".into())];
    expect.extend(killed.iter().map(|(i, m)| (*i, m.clone())));
    let t_last = Instant::now();
    let want_all = loop {
        let got: Vec<String> = [&mut pa, &mut pb, &mut pc]
            .into_iter()
            .map(|o| reply(o, "presence r", "presence"))
            .collect();
        if got[0].matches('=').count() == 52 && got.iter().all(|g| *g == got[0]) {
            break got[0].clone();
        }
        assert!(
            t_last.elapsed() < Duration::from_secs(1),
            "after 1 s: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "presence identical on three nodes {:?} after the last track",
        t_last.elapsed()
    );
    assert!(
        want_all.starts_with(&format!("presence {ida}=on-a,{idc}=on-c,")),
        "{want_all}"
    );
    // Each observer saw each join exactly once.
    let mut seen: Vec<BTreeMap<i64, usize>> = vec![BTreeMap::new(); 3];
    for (k, o) in [&mut oa, &mut ob, &mut oc].into_iter().enumerate() {
        while let Some((j, l)) = next_diff(o, "r", Duration::from_millis(300)) {
            assert!(l.is_empty(), "no leave yet: {l:?}");
            for id in j.keys() {
                *seen[k].entry(*id).or_default() += 1;
            }
        }
        for (id, _) in &expect {
            assert_eq!(seen[k].get(id), Some(&1), "node {k}: join of {id}");
        }
    }
    // kill -9 of B: A and C report exactly those 50 leaves, once, in 15 s.
    let t_kill = Instant::now();
    b.child.kill().unwrap();
    let _ = b.child.wait();
    drop(on_b);
    // (Their handles are of a dead node: Ws.id answers -1, the metas tell
    // them apart.)
    let killed_metas: BTreeSet<String> = killed.values().cloned().collect();
    for o in [&mut oa, &mut oc] {
        let mut left = BTreeSet::new();
        while left.len() < 50 {
            let rest = Duration::from_secs(15).saturating_sub(t_kill.elapsed());
            let (j, l) = next_diff(o, "r", rest).expect("the leaves within 15 s");
            assert!(j.is_empty(), "{j:?}");
            for meta in l.into_values() {
                assert!(left.insert(meta.clone()), "{meta} left twice");
            }
        }
        assert_eq!(left, killed_metas);
        assert_eq!(
            next_diff(o, "r", Duration::from_millis(1500)),
            None,
            "nothing more"
        );
    }
    eprintln!(
        "the killed node's members left after {:?}",
        t_kill.elapsed()
    );
    let want = format!("presence {ida}=on-a,{idc}=on-c");
    presence_until(&mut [&mut pa, &mut pc], "r", &want, Duration::from_secs(2));

    // A node started again: its new members join, nothing old comes back.
    let d = node(&redis);
    let (_td, idd) = open(&d, "/track/r/on-d");
    for o in [&mut oa, &mut oc] {
        let (j, l) = next_diff(o, "r", Duration::from_secs(3)).expect("the new member's join");
        assert_eq!((j, l), (one(idd, "on-d"), none()));
    }
    let (mut pd, _) = open(&d, "/");
    presence_until(
        &mut [&mut pa, &mut pc, &mut pd],
        "r",
        &format!("{want},{idd}=on-d"),
        Duration::from_secs(2),
    );
    for o in [&mut oa, &mut oc] {
        assert_eq!(next_diff(o, "r", Duration::from_millis(500)), None);
    }
}

#[test]
fn five_thousand_members_joining_and_leaving_in_a_burst() {
    const N: usize = 5000;
    let redis = Redis::start();
    let nodes = [node(&redis), node(&redis)];
    let (mut oa, _) = open(&nodes[0], "/");
    let (mut ob, _) = open(&nodes[1], "/");
    // 2,500 per node, each tracked on connect.
    let mut clients: Vec<(Client, i64, usize)> = Vec::with_capacity(N);
    for i in 0..N {
        let (ws, id) = open(&nodes[i % 2], &format!("/track/load/m{i}"));
        clients.push((ws, id, i));
    }
    // Half of them leave (closed), a tenth untrack (stay members).
    let mut truth = BTreeMap::new();
    let mut kept = Vec::new();
    for (ws, id, i) in clients {
        if i % 2 == 0 {
            drop(ws);
        } else if i % 10 == 1 {
            let mut ws = ws;
            send(&mut ws, "untrack load");
            kept.push(ws);
        } else {
            truth.insert(id, format!("m{i}"));
            kept.push(ws);
        }
    }
    let t0 = Instant::now();
    for o in [&mut oa, &mut ob] {
        loop {
            let p = reply(o, "presence load", "presence");
            let got = parse_list(&p["presence ".len()..]);
            if got == truth {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "presence has {} entries, the truth {}",
                got.len(),
                truth.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!(
        "presence of {} members right on both nodes after {:?}",
        truth.len(),
        t0.elapsed()
    );
}
