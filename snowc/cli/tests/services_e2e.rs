//! Services from server callbacks, end to end (issue 23): the server
//! tests/ws/services.snow built with -O2, driven by real WebSocket clients
//! over loopback, on one worker and on several. Every wait is bounded.

mod common;

use common::wsproc::{
    ask_for, connect, free_port, read_close, recv_text, send_text, start_server, Client, Proc,
};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

const SERVER: &str = "tests/ws/services.snow";

fn server(workers: &str, env: &[(&str, &str)]) -> Proc {
    let mut all = vec![("SNOW_WS_WORKER_THREADS", workers)];
    all.extend_from_slice(env);
    start_server(SERVER, &all)
}

fn value(c: &mut Client) -> i64 {
    let m = ask_for(c, "get", "value ");
    m["value ".len()..].parse().unwrap()
}

/// What the server wrote to stderr (it is stopped).
fn stderr_of(p: Proc) -> String {
    p.kill_and_stderr()
}

fn panics_close_1011_and_the_service_goes_on(workers: &str) {
    let p = server(workers, &[]);
    let mut a = connect(p.port, "/");
    assert_eq!(ask_for(&mut a, "add", "count"), "count 1");
    // A handler panics (division by zero): that connection closes 1011,
    // the service keeps the state it had.
    let mut b = connect(p.port, "/");
    send_text(&mut b, "fail");
    assert_eq!(read_close(&mut b).0, 1011);
    assert_eq!(value(&mut a), 1, "the state before the panic");
    // A handler calling its own service, directly and through another
    // service: deadlock, 1011.
    let mut c = connect(p.port, "/");
    send_text(&mut c, "self");
    assert_eq!(read_close(&mut c).0, 1011);
    let mut d = connect(p.port, "/");
    send_text(&mut d, "via");
    assert_eq!(read_close(&mut d).0, 1011);
    // Everyone else is still served, by the same service.
    assert_eq!(ask_for(&mut a, "add", "count"), "count 2");
    let mut e = connect(p.port, "/");
    assert_eq!(value(&mut e), 2);
    let err = stderr_of(p);
    assert!(err.contains("division by zero"), "{err}");
    assert_eq!(err.matches("deadlock").count(), 2, "{err}");
}

#[test]
fn panics_and_deadlocks_close_1011_on_one_worker() {
    panics_close_1011_and_the_service_goes_on("1");
}

#[test]
fn panics_and_deadlocks_close_1011_on_several_workers() {
    panics_close_1011_and_the_service_goes_on("4");
}

#[test]
fn sixteen_clients_lose_no_increment() {
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    let p = server("4", &[("SNOW_WS_METRICS_ADDR", &maddr)]);
    let port = p.port;
    let t0 = Instant::now();
    let replies: Vec<Vec<i64>> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = connect(port, "/");
                (0..2000)
                    .map(|_| {
                        let m = ask_for(&mut c, "add", "count ");
                        m["count ".len()..].parse::<i64>().unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let all: HashSet<i64> = replies.iter().flatten().copied().collect();
    assert_eq!(all.len(), 32_000, "every reply distinct");
    assert_eq!(all.iter().max(), Some(&32_000));
    for r in &replies {
        assert!(
            r.windows(2).all(|w| w[0] < w[1]),
            "one client's counts increase"
        );
    }
    let mut c = connect(port, "/");
    assert_eq!(value(&mut c), 32_000);
    assert!(t0.elapsed() < Duration::from_secs(120));
    // The metrics count the six services main started.
    let mut m = std::net::TcpStream::connect(&maddr).unwrap();
    m.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Write::write_all(
        &mut m,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut m, &mut text).unwrap();
    assert!(text.lines().any(|l| l == "snow_services 6"), "{text}");
}

#[test]
fn a_lobby_pairs_a_thousand_clients_that_join_at_once() {
    let p = server("4", &[]);
    let mut clients: Vec<Client> = (0..1000).map(|_| connect(p.port, "/")).collect();
    for c in clients.iter_mut() {
        send_text(c, "join");
    }
    let mut games: BTreeMap<i64, usize> = BTreeMap::new();
    for c in clients.iter_mut() {
        let m = recv_text(c);
        let g: i64 = m
            .strip_prefix("game ")
            .unwrap_or_else(|| panic!("{m:?}"))
            .parse()
            .unwrap();
        *games.entry(g).or_default() += 1;
    }
    assert_eq!(games.len(), 500, "500 games");
    assert!(games.values().all(|&n| n == 2), "two players a game");
    // And no client got a second game.
    for c in clients.iter_mut().take(50) {
        assert_eq!(ask_for(c, "ping", "ping"), "ping");
    }
}

#[test]
fn five_million_casts_from_callbacks_run_in_bounded_memory() {
    let p = server("2", &[]);
    let mut c = connect(p.port, "/");
    assert_eq!(ask_for(&mut c, "store", "store"), "store 1000 0");
    let before = p.rss_kib();
    for _ in 0..50 {
        assert_eq!(ask_for(&mut c, "churn 100000", "churned"), "churned 100000");
    }
    // Each key k % 1000 last set to the largest i < 100,000 with that rest.
    let sum: i64 = (99_000..100_000).sum();
    assert_eq!(
        ask_for(&mut c, "store", "store"),
        format!("store 1000 {sum}")
    );
    let peak = p.hwm_kib();
    assert!(
        peak < before + 64 * 1024,
        "peak RSS {peak} KiB, {before} KiB before 5M casts"
    );
}

#[test]
fn the_time_limit_covers_handlers_and_waiting_for_a_busy_service() {
    let p = server("1", &[("SNOW_WS_CALLBACK_TIMEOUT_MS", "1000")]);
    let mut a = connect(p.port, "/");
    assert_eq!(ask_for(&mut a, "add", "count"), "count 1");
    // A handler that runs too long: its caller's connection closes 1011,
    // the service keeps its state and answers.
    let mut b = connect(p.port, "/");
    let t0 = Instant::now();
    send_text(&mut b, "spin 60000");
    assert_eq!(read_close(&mut b).0, 1011);
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert_eq!(value(&mut a), 1);
    // A service kept busy by the service thread (5 s, no time limit
    // there): a call waiting for it is stopped by its own time limit, and
    // the one worker is free again.
    assert_eq!(ask_for(&mut a, "hold 5000", "holding"), "holding 0");
    let held_at = Instant::now();
    let mut c = connect(p.port, "/");
    send_text(&mut c, "slow");
    assert_eq!(read_close(&mut c).0, 1011);
    assert!(
        held_at.elapsed() < Duration::from_millis(4500),
        "{:?}",
        held_at.elapsed()
    );
    assert_eq!(value(&mut a), 1, "the worker serves others meanwhile");
    // Once the busy cast is done, the service answers (and saw it).
    while held_at.elapsed() < Duration::from_millis(5500) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut d = connect(p.port, "/");
    assert_eq!(ask_for(&mut d, "slow", "slow"), "slow 1");
    let err = stderr_of(p);
    assert!(err.contains("timed out"), "{err}");
    assert!(err.contains("while waiting for service Slow"), "{err}");
}
