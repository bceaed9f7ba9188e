//! The runtime's guarantees inside a real server (tests/ws/runtime.snow,
//! built with -O2): a stack overflow, a runaway loop (SNOW_WS_CALLBACK_TIMEOUT_MS)
//! and a callback over its heap limit (SNOW_WS_CALLBACK_HEAP_BYTES) each close
//! only that connection with 1011 while another client keeps being served; a
//! long loop in a callback runs in bounded memory; per-connection timers cost
//! no thread and stop when cancelled; a timer survives ticks that overflow
//! the stack (docs/ABI.md "Stack", "Memory"; docs/WS.md "Callback limits").

mod common;

use common::wsproc::*;
use std::time::{Duration, Instant};
use tungstenite::Message;

const SERVER: &str = "tests/ws/runtime.snow";

/// An offender, a bystander and an observer of closes.
fn trio(p: &Proc) -> (Client, i64, Client, Client) {
    let mut observer = p.connect("/room/observers");
    assert_eq!(ask_for(&mut observer, "hi", "hi"), "hi");
    let mut offender = p.connect("/");
    let id = conn_id(&mut offender);
    let bystander = p.connect("/");
    (offender, id, bystander, observer)
}

fn carries_on(bystander: &mut Client) {
    assert_eq!(ask_for(bystander, "still here", "still"), "still here");
}

#[test]
fn deep_recursion_closes_1011_and_others_continue() {
    deep_recursion_in_a_callback("-O2", &[]);
}

#[test]
fn deep_recursion_closes_1011_at_o0_too() {
    deep_recursion_in_a_callback("-O0", &[]);
}

/// One worker: the server runs a current-thread runtime on a thread of its
/// own, which needs the callback stack and the stack check as much.
#[test]
fn deep_recursion_closes_1011_on_a_one_worker_server() {
    deep_recursion_in_a_callback("-O2", &[("SNOW_WS_WORKER_THREADS", "1")]);
}

fn deep_recursion_in_a_callback(opt: &str, env: &[(&str, &str)]) {
    let p = start_server_opt(SERVER, opt, env);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    // A recursion of 100,000 calls fits the callback stack.
    assert_eq!(ask_for(&mut b, "deep 100000", "deep"), "deep 100000");
    send_text(&mut a, "deep 100000000");
    assert_eq!(read_close(&mut a).0, 1011);
    assert_eq!(observed_close(&mut obs, ida), 1011);
    carries_on(&mut b);
    // The worker that overflowed serves deep recursions again.
    for _ in 0..4 {
        assert_eq!(ask_for(&mut b, "deep 100000", "deep"), "deep 100000");
    }
    let err = p.kill_and_stderr();
    assert!(
        err.contains("snow: panic at tests/ws/runtime.snow:23:")
            && err.contains(": stack overflow"),
        "{err}"
    );
}

#[test]
fn runaway_loop_is_stopped_by_the_timeout_and_others_continue() {
    let p = start_server(SERVER, &[("SNOW_WS_CALLBACK_TIMEOUT_MS", "300")]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    let t = Instant::now();
    send_text(&mut a, "spin");
    // Meanwhile the other worker serves the bystander.
    carries_on(&mut b);
    assert_eq!(read_close(&mut a).0, 1011);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(observed_close(&mut obs, ida), 1011);
    // Both workers are free again: two more spinners are stopped too, and
    // short callbacks are not.
    let mut c = p.connect("/");
    let mut d = p.connect("/");
    send_text(&mut c, "spin");
    send_text(&mut d, "spin");
    assert_eq!(read_close(&mut c).0, 1011);
    assert_eq!(read_close(&mut d).0, 1011);
    assert_eq!(ask_for(&mut b, "churn 1000", "churned"), "churned 11");
    let err = p.kill_and_stderr();
    assert!(
        err.contains("callback timed out (ran longer than 300 ms)"),
        "{err}"
    );
}

#[test]
fn heap_limit_closes_only_the_offender() {
    let p = start_server(SERVER, &[("SNOW_WS_CALLBACK_HEAP_BYTES", "33554432")]);
    let (mut a, ida, mut b, mut obs) = trio(&p);
    send_text(&mut a, "hoard");
    assert_eq!(read_close(&mut a).0, 1011);
    assert_eq!(observed_close(&mut obs, ida), 1011);
    carries_on(&mut b);
    // Garbage is not live data: a long loop under the same limit is fine.
    assert_eq!(ask_for(&mut b, "churn 2000000", "churned"), "churned 11");
    let err = p.kill_and_stderr();
    assert!(err.contains("callback heap limit exceeded"), "{err}");
}

#[test]
fn a_long_loop_in_a_callback_runs_in_bounded_memory() {
    let p = start_server(SERVER, &[]);
    let mut a = p.connect("/");
    assert_eq!(ask_for(&mut a, "churn 1000", "churned"), "churned 11");
    let before = p.status_field("VmHWM");
    // 20 million iterations, each making a fresh String.
    assert_eq!(ask_for(&mut a, "churn 20000000", "churned"), "churned 11");
    let grown = p.status_field("VmHWM") - before;
    assert!(grown < 64 * 1024, "peak RSS grew by {grown} KiB");
}

#[test]
fn per_connection_timers_cost_no_thread() {
    let p = start_server(SERVER, &[]);
    // Warm up: the timer thread and the watchdog start with the first use.
    let mut first = p.connect("/");
    assert!(ask_for(&mut first, "timer 60000", "timer ").len() > 6);
    assert_eq!(ask_for(&mut first, "cancel", "cancelled"), "cancelled 0");
    let threads = p.status_field("Threads");
    for i in 0..2000 {
        let mut c = p.connect("/");
        let reply = ask_for(&mut c, "timer 1000", "timer ");
        let id: i64 = reply[6..].parse().unwrap();
        assert!(id > 0, "{reply}");
        if i % 2 == 0 {
            // Half cancel explicitly, the others on close (on_close cancels).
            assert_eq!(ask_for(&mut c, "cancel", "cancelled"), "cancelled 0");
            assert_eq!(
                ask_for(&mut c, &format!("cancel {id}"), "cancelled"),
                "cancelled -1"
            );
        }
        c.close(None).unwrap();
        while c.read().is_ok() {}
    }
    assert_eq!(p.status_field("Threads"), threads);
    assert_eq!(
        ask_for(&mut first, "cancel 999999", "cancelled"),
        "cancelled -1"
    );
}

/// Reads messages for `d`; answers how many were "tick".
fn ticks_within(ws: &mut Client, d: Duration) -> usize {
    let deadline = Instant::now() + d;
    let mut n = 0;
    while Instant::now() < deadline {
        ws.get_mut()
            .set_read_timeout(Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ))
            .unwrap();
        match ws.read() {
            Ok(Message::Text(t)) if t.as_str() == "tick" => n += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    n
}

#[test]
fn a_cancelled_timer_stops_ticking() {
    let p = start_server(SERVER, &[]);
    let mut a = p.connect("/");
    ask_for(&mut a, "timer 10", "timer ");
    assert!(ticks_within(&mut a, Duration::from_millis(300)) >= 3);
    assert_eq!(ask_for(&mut a, "cancel", "cancelled"), "cancelled 0");
    // A tick that was running during the cancel may still arrive.
    ticks_within(&mut a, Duration::from_millis(100));
    assert_eq!(ticks_within(&mut a, Duration::from_millis(400)), 0);
}

#[test]
fn a_timer_survives_ticks_that_overflow_the_stack() {
    let p = start_server(SERVER, &[("TICK_DEEP", "1")]);
    let mut a = p.connect("/room/ticks");
    assert!(
        ticks_within(&mut a, Duration::from_secs(3)) >= 3,
        "the timer stopped after a stack overflow"
    );
    carries_on(&mut a);
    let err = p.kill_and_stderr();
    assert!(err.contains(": stack overflow"), "{err}");
}

#[test]
fn ticker_example_countdown_cancels_itself() {
    let p = start_server("examples/ticker.snow", &[("TICK_MS", "30")]);
    let mut a = p.connect("/");
    send_text(&mut a, "countdown 3");
    let mut got = Vec::new();
    while got.len() < 4 {
        let m = recv_text(&mut a);
        if !m.starts_with("tick:") {
            got.push(m);
        }
    }
    assert_eq!(got, ["3", "2", "1", "liftoff"]);
    // The countdown's timer is gone: only the room's ticks keep coming.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut room_ticks = 0;
    while Instant::now() < deadline {
        let m = recv_text(&mut a);
        assert!(m.starts_with("tick: 1 listening"), "{m}");
        room_ticks += 1;
    }
    assert!(room_ticks >= 3);
    assert_eq!(
        ask_for(&mut a, "hello", "this is"),
        "this is a read-only ticker (try: countdown 3)"
    );
}

#[test]
fn a_running_timer_costs_little_memory() {
    let p = start_server(SERVER, &[]);
    let mut first = p.connect("/");
    ask_for(&mut first, "timer 60000", "timer ");
    let mut clients: Vec<Client> = (0..100).map(|_| p.connect("/")).collect();
    for c in &mut clients {
        ask_for(c, "hello", "hello");
    }
    let before = p.status_field("VmRSS");
    for c in &mut clients {
        ask_for(c, "timer 60000", "timer ");
    }
    let per_timer = (p.status_field("VmRSS").saturating_sub(before)) * 1024 / 100;
    // The region a timer was started in is kept for its closure, but only the
    // pages holding something stay resident.
    assert!(per_timer < 24 * 1024, "{per_timer} bytes per timer");
    for c in &mut clients {
        assert_eq!(ask_for(c, "cancel", "cancelled"), "cancelled 0");
    }
}
