//! Server tests: in-process servers on loopback port 0, driven by blocking
//! tungstenite clients. Each test uses its own room (Ctx::room), so tests
//! can run in parallel against the global registry.

mod fuzz_frames;
mod harness;
mod limits;
mod process;
mod tls;
mod web;

use super::*;
use harness::*;
use std::time::Duration;
use tungstenite::Message as M;

/// A barrier whose waits give up (panic) after 30 s, so a failing client
/// thread cannot hang the test forever.
struct Gate {
    parties: usize,
    arrived: parking_lot::Mutex<usize>,
    cv: parking_lot::Condvar,
}

impl Gate {
    fn new(parties: usize) -> Gate {
        Gate {
            parties,
            arrived: parking_lot::Mutex::new(0),
            cv: parking_lot::Condvar::new(),
        }
    }

    fn wait(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut n = self.arrived.lock();
        *n += 1;
        let target = n.div_ceil(self.parties) * self.parties;
        self.cv.notify_all();
        while *n < target {
            assert!(
                !self.cv.wait_until(&mut n, deadline).timed_out(),
                "gate timed out"
            );
        }
    }
}

#[test]
fn join_broadcast_reaches_exactly_the_members() {
    let srv = TestServer::start("bcast", false);
    let mut a = srv.connect("/welcome/a");
    let mut b = srv.connect("/welcome/b");
    let mut outsider = srv.connect("/noroom/x");
    assert_eq!(recv_text(&mut a), "welcome", "on_connect may already send");
    assert_eq!(recv_text(&mut b), "welcome");
    assert_eq!(ask(&mut a, &format!("count:{}", srv.ctx.room)), "2");
    a.send(M::text("bcast:hello all")).unwrap();
    assert_eq!(recv_text(&mut a), "hello all");
    assert_eq!(recv_text(&mut b), "hello all");
    b.send(M::text("except:not for b")).unwrap();
    assert_eq!(recv_text(&mut a), "not for b");
    // b gets nothing from its own broadcast_except: the next thing b reads
    // is the answer to its own question.
    assert_eq!(ask(&mut b, "echo:after"), "after");
    // The outsider received none of the broadcasts.
    assert_eq!(ask(&mut outsider, "echo:ping"), "ping");
    // Binary broadcast.
    a.send(M::text("bbin:raw")).unwrap();
    for c in [&mut a, &mut b] {
        match c.read().unwrap() {
            M::Binary(bytes) => assert_eq!(&bytes[..], b"raw"),
            other => panic!("expected binary, got {other:?}"),
        }
    }
    // Broadcast to a room nobody is in: nothing to fail.
    assert_eq!(
        snow_ws_broadcast(crate::rt::new_str("no such room"), crate::rt::new_str("x")),
        0
    );
}

#[test]
fn count_members_rooms_and_leave() {
    let srv = TestServer::start("query", false);
    let room = srv.ctx.room.clone();
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let (ia, ib) = (srv.ctx.conn_of("/a"), srv.ctx.conn_of("/b"));
    assert_eq!(ask(&mut a, "id"), ia.to_string());
    assert_eq!(
        ask(&mut a, &format!("members:{room}")),
        format!("{},{}", ia.min(ib), ia.max(ib)),
        "members are sorted by id"
    );
    assert_eq!(ask(&mut a, "join:zz-extra"), "0");
    assert_eq!(
        ask(&mut a, "join:zz-extra"),
        "0",
        "joining twice is a no-op"
    );
    assert_eq!(ask(&mut a, "join:aa-extra"), "0");
    assert_eq!(ask(&mut a, "rooms"), format!("aa-extra,{room},zz-extra"));
    assert_eq!(ask(&mut b, "count:zz-extra"), "1");
    assert_eq!(ask(&mut a, "leave:zz-extra"), "0");
    assert_eq!(
        ask(&mut a, "leave:zz-extra"),
        "0",
        "leaving when not a member"
    );
    assert_eq!(
        ask(&mut b, "count:zz-extra"),
        "0",
        "the last leave removes the room"
    );
    assert!(!ROOMS.room_exists("zz-extra"));
    assert_eq!(ask(&mut b, &format!("leave:{room}")), "0");
    assert_eq!(ask(&mut b, &format!("members:{room}")), ia.to_string());
    assert_eq!(ask(&mut b, "rooms"), "");
}

#[test]
fn disconnect_and_tcp_drop_clean_up_before_on_close() {
    let srv = TestServer::start("drop", false);
    let room = srv.ctx.room.clone();
    let mut a = srv.connect("/a");
    let b = srv.connect("/b");
    let mut c = srv.connect("/c");
    let (ia, ib, ic) = (
        srv.ctx.conn_of("/a"),
        srv.ctx.conn_of("/b"),
        srv.ctx.conn_of("/c"),
    );
    assert_eq!(ask(&mut c, &format!("count:{room}")), "3");
    // A clean close from the client.
    a.close(Some(tungstenite::protocol::CloseFrame {
        code: 4100.into(),
        reason: "bye".into(),
    }))
    .unwrap();
    let ev = srv.ctx.close_of(ia);
    assert_eq!(
        ev,
        Ev::Close {
            conn: ia,
            code: 4100,
            reason: "bye".into(),
            rooms_left: 0,
            send: -1,
            in_room: false
        }
    );
    // An abrupt TCP drop (no close frame).
    drop(b);
    match srv.ctx.close_of(ib) {
        Ev::Close {
            code,
            rooms_left,
            in_room,
            send,
            ..
        } => {
            assert_eq!(code, 1006);
            assert_eq!((rooms_left, in_room, send), (0, false, -1));
        }
        _ => unreachable!(),
    }
    assert_eq!(ask(&mut c, &format!("members:{room}")), ic.to_string());
    // Stale handles answer as unknown connections and touch nothing.
    for stale in [ia, ib, 0, -7, 1 << 40] {
        assert_eq!(snow_ws_send(stale, crate::rt::new_str("x")), -1);
        assert_eq!(snow_ws_id(stale), -1);
        assert_eq!(snow_ws_join(stale, crate::rt::new_str(&room)), -1);
        assert_eq!(snow_ws_close(stale, 1000, crate::rt::new_str("")), -1);
        assert_eq!(snow_ws_rooms(stale), 0);
    }
    assert_eq!(ask(&mut c, &format!("count:{room}")), "1");
    // Exactly one on_close each.
    std::thread::sleep(Duration::from_millis(100));
    for id in [ia, ib] {
        let closes = srv
            .ctx
            .events_of(id)
            .iter()
            .filter(|e| matches!(e, Ev::Close { .. }))
            .count();
        assert_eq!(closes, 1);
    }
}

#[test]
fn rejection_drops_memberships_and_queued_messages() {
    let srv = TestServer::start("reject", false);
    let mut r = srv.connect("/reject");
    let id = srv.ctx.conn_of("/reject");
    let (code, _reason, before) = recv_close(&mut r);
    assert_eq!(code, 1008);
    assert!(
        before.is_empty(),
        "queued messages of a rejected connection were delivered: {before:?}"
    );
    assert_eq!(snow_ws_count(crate::rt::new_str(&srv.ctx.room)), 0);
    assert_eq!(snow_ws_id(id), -1);
    // The connection never reaches on_message or on_close.
    let _ = r.send(M::text("echo:x"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        srv.ctx.events_of(id).len(),
        1,
        "only on_connect ran: {:?}",
        srv.ctx.events_of(id)
    );
    // Header names are lower-cased, values kept.
    match &srv.ctx.events_of(id)[0] {
        Ev::Connect { header, path, .. } => {
            assert_eq!(header.as_deref(), Some("hello"));
            assert_eq!(path, "/reject");
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[test]
fn ws_close_sends_code_and_reason_after_queued_messages() {
    let srv = TestServer::start("close", false);
    let mut a = srv.connect("/a");
    let ia = srv.ctx.conn_of("/a");
    a.send(M::text("echo:first")).unwrap();
    a.send(M::text("close:4001:see you")).unwrap();
    let (code, reason, before) = recv_close(&mut a);
    assert_eq!((code, reason.as_str()), (4001, "see you"));
    assert_eq!(before, vec!["first".to_string()]);
    match srv.ctx.close_of(ia) {
        Ev::Close {
            code,
            reason,
            rooms_left,
            ..
        } => {
            assert_eq!((code, reason.as_str(), rooms_left), (4001, "see you", 0));
        }
        _ => unreachable!(),
    }
}

#[test]
fn a_panicking_callback_closes_only_its_connection() {
    let srv = TestServer::start("panic", false);
    let mut a = srv.connect("/a");
    let mut b = srv.connect("/b");
    let ia = srv.ctx.conn_of("/a");
    a.send(M::text("panic")).unwrap();
    let (code, _, _) = recv_close(&mut a);
    assert_eq!(code, 1011);
    match srv.ctx.close_of(ia) {
        Ev::Close { code, .. } => assert_eq!(code, 1011),
        _ => unreachable!(),
    }
    assert_eq!(ask(&mut b, "echo:still here"), "still here");
    assert_eq!(ask(&mut b, &format!("count:{}", srv.ctx.room)), "1");
    // A panic in on_connect: 1011, never accepted.
    let mut p = srv.connect("/panic");
    let ip = srv.ctx.conn_of("/panic");
    assert_eq!(recv_close(&mut p).0, 1011);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(srv.ctx.events_of(ip).len(), 1);
    assert_eq!(ask(&mut b, "echo:again"), "again");
}

#[test]
fn callbacks_of_one_connection_run_in_arrival_order() {
    let srv = TestServer::start("order", false);
    let mut clients: Vec<Client> = (0..4).map(|i| srv.connect(&format!("/o{i}"))).collect();
    for i in 0..100 {
        for (k, c) in clients.iter_mut().enumerate() {
            c.send(M::text(format!("m{k}-{i}"))).unwrap();
        }
    }
    for c in clients.iter_mut() {
        c.close(None).unwrap();
    }
    for k in 0..4 {
        let id = srv.ctx.conn_of(&format!("/o{k}"));
        srv.ctx.close_of(id);
        let evs = srv.ctx.events_of(id);
        assert_eq!(evs.len(), 102, "connect + 100 messages + close");
        assert!(matches!(evs[0], Ev::Connect { .. }));
        for (i, e) in evs[1..101].iter().enumerate() {
            assert_eq!(
                e,
                &Ev::Msg {
                    conn: id,
                    text: format!("m{k}-{i}")
                }
            );
        }
        assert!(matches!(evs[101], Ev::Close { code: 1005, .. }));
    }
}

#[test]
fn shutdown_closes_everyone_with_1001_and_runs_on_close() {
    let srv = TestServer::start("shutdown", false);
    let mut clients: Vec<Client> = (0..5).map(|i| srv.connect(&format!("/s{i}"))).collect();
    let ids: Vec<i64> = (0..5).map(|i| srv.ctx.conn_of(&format!("/s{i}"))).collect();
    let ctx = srv.ctx;
    let stopper = std::thread::spawn(move || srv.stop());
    for c in clients.iter_mut() {
        assert_eq!(recv_close(c).0, 1001);
    }
    assert_eq!(stopper.join().unwrap(), Ok(()));
    for id in ids {
        match ctx.close_of(id) {
            Ev::Close { code, .. } => assert_eq!(code, 1001),
            _ => unreachable!(),
        }
    }
    assert_eq!(ctx.closes.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[test]
fn a_drain_closes_everyone_with_1012_and_ends_by_its_deadline() {
    let mut cfg = test_config();
    cfg.close_timeout = Duration::from_secs(5);
    let srv = TestServer::start_with("drain", false, cfg);
    let mut polite = srv.connect("/polite");
    // Never reads: the close handshake would take the close timeout (5 s).
    let _silent = srv.connect("/silent");
    let ids = [srv.ctx.conn_of("/polite"), srv.ctx.conn_of("/silent")];
    let ctx = srv.ctx;
    let t0 = std::time::Instant::now();
    let deadline = t0 + Duration::from_millis(1500);
    let stopper = std::thread::spawn(move || srv.stop_as(Stop::Drain { deadline }));
    assert_eq!(recv_close(&mut polite).0, 1012);
    assert_eq!(stopper.join().unwrap(), Ok(()));
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
    for id in ids {
        match ctx.close_of(id) {
            Ev::Close { code, .. } => assert_eq!(code, 1012),
            _ => unreachable!(),
        }
    }
}

#[test]
fn port_in_use_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut cfg = test_config();
    cfg.port = port;
    let cbs = Callbacks {
        on_connect: 0,
        on_message: 0,
        on_close: 0,
        frames: false,
    };
    let err = serve_inner(cfg, cbs, None, std::future::pending::<Stop>, None).unwrap_err();
    assert!(
        err.starts_with(&format!("cannot listen on port {port}: ")),
        "{err}"
    );
}

/// 200 clients join at once, 20 of them broadcast 5 messages each at once:
/// every member receives every broadcast exactly once, an outsider nothing;
/// then everybody leaves at once and the room disappears.
#[test]
fn concurrent_clients_broadcast_exactly_once() {
    const CLIENTS: usize = 200;
    const THREADS: usize = 8;
    const SENDERS: usize = 20;
    const PER_SENDER: usize = 5;
    let srv = TestServer::start("conc", false);
    let port = srv.port;
    let room = srv.ctx.room.clone();
    let barrier = std::sync::Arc::new(Gate::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mine: Vec<usize> = (0..CLIENTS).filter(|i| i % THREADS == t).collect();
                let mut clients: Vec<(usize, Client)> = mine
                    .iter()
                    .map(|&i| (i, connect(port, &format!("/c{i}"))))
                    .collect();
                barrier.wait(); // everyone joined
                barrier.wait(); // count checked
                for (i, c) in clients.iter_mut() {
                    if *i < SENDERS {
                        for j in 0..PER_SENDER {
                            c.send(M::text(format!("bcast:{i}/{j}"))).unwrap();
                        }
                    }
                }
                for (_, c) in clients.iter_mut() {
                    let mut got: Vec<String> =
                        (0..SENDERS * PER_SENDER).map(|_| recv_text(c)).collect();
                    got.sort();
                    let mut want: Vec<String> = (0..SENDERS)
                        .flat_map(|i| (0..PER_SENDER).map(move |j| format!("{i}/{j}")))
                        .collect();
                    want.sort();
                    assert_eq!(got, want);
                }
                barrier.wait(); // all broadcasts received by everyone
                                // Nothing more was queued for anyone: the next message is the echo.
                for (_, c) in clients.iter_mut() {
                    assert_eq!(ask(c, "echo:end"), "end");
                }
                barrier.wait(); // all received
                for (_, c) in clients.iter_mut() {
                    c.close(None).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let mut outsider = connect(port, "/noroom/outsider");
    // Clients finish their handshake before the server ran on_connect.
    srv.ctx.wait("all joined", |evs| {
        let n = evs
            .iter()
            .filter(|e| matches!(e, Ev::Connect { .. }))
            .count();
        (n == CLIENTS + 1).then_some(())
    });
    assert_eq!(snow_ws_count(crate::rt::new_str(&room)), CLIENTS as i64);
    barrier.wait();
    barrier.wait();
    barrier.wait();
    // Nothing was delivered to the outsider: its next message is its echo.
    assert_eq!(ask(&mut outsider, "echo:only this"), "only this");
    for t in threads {
        t.join().unwrap();
    }
    srv.ctx.wait("all closes", |evs| {
        (evs.iter().filter(|e| matches!(e, Ev::Close { .. })).count() == CLIENTS).then_some(())
    });
    assert_eq!(snow_ws_count(crate::rt::new_str(&room)), 0);
    assert!(!ROOMS.room_exists(&room));
}
