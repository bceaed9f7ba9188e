//! Soak and churn tests against a compiled Snow server (tests/ws/limits.snow)
//! on loopback, bounded in count and time. The default sizes keep the suite
//! fast; scripts/soak.sh runs the full sizes through these variables:
//!
//! - `SNOW_SOAK_CYCLES` (default 1500, full 10000): connect/join/disconnect cycles;
//! - `SNOW_SOAK_MESSAGES` (default 200000, full 1000000): messages delivered by broadcasts;
//! - `SNOW_SOAK_RATE_MESSAGES` (default 20000): 1 KiB broadcasts in the slow-consumer test.
//!
//! Each test prints one `soak: ...` line with its figures (run with
//! `--nocapture` to see them).

mod common;

use common::wsproc::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Message;

const LIMITS: &str = "tests/ws/limits.snow";

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// RSS may grow by at most this much over a run: allocator caches and
/// per-thread arenas settle early, leaks grow with the count.
fn rss_allowance(before_kib: u64) -> u64 {
    (before_kib / 4).max(8 * 1024)
}

/// Waits (at most 10 s) until `count room` answers `want`.
fn wait_count(ws: &mut Client, room: &str, want: usize) -> Duration {
    let t = Instant::now();
    let expect = format!("count {room} {want}");
    loop {
        let got = ask_for(ws, &format!("count {room}"), "count");
        if got == expect {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{got}, expected {expect}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `n` connect/join/disconnect cycles from 4 threads; half the clients
/// close cleanly, half drop the TCP connection.
fn churn(port: u16, n: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in (t..n).step_by(4) {
                    let mut ws = connect(port, "/room/churn");
                    let c = ask_for(&mut ws, "count churn", "count");
                    let members: usize = c.rsplit(' ').next().unwrap().parse().unwrap();
                    assert!(members >= 1, "{c}");
                    if i % 2 == 0 {
                        ws.close(None).unwrap();
                        while ws.read().is_ok() {}
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn churn_leaves_the_registry_empty_and_rss_flat() {
    let cycles = env_count("SNOW_SOAK_CYCLES", 1500);
    let p = start_server(LIMITS, &[]);
    let mut watcher = p.connect("/");
    let warmup = (cycles / 10).clamp(100, 1000);
    churn(p.port, warmup);
    wait_count(&mut watcher, "churn", 0);
    let before = p.rss_kib();
    let t = Instant::now();
    churn(p.port, cycles);
    let secs = t.elapsed().as_secs_f64();
    let drained = wait_count(&mut watcher, "churn", 0);
    std::thread::sleep(Duration::from_millis(200));
    let after = p.rss_kib();
    println!(
        "soak: churn cycles={cycles} seconds={secs:.2} rate={:.0}/s rss_before_kib={before} \
         rss_after_kib={after} registry_empty_after_ms={}",
        cycles as f64 / secs,
        drained.as_millis()
    );
    assert!(
        after <= before + rss_allowance(before),
        "RSS grew from {before} KiB to {after} KiB over {cycles} cycles"
    );
    assert_eq!(ask_for(&mut watcher, "still", "still"), "still");
}

#[test]
fn a_million_broadcast_messages_keep_rss_flat() {
    let total = env_count("SNOW_SOAK_MESSAGES", 200_000);
    const RECEIVERS: usize = 4;
    // Every `say` reaches the receivers and the sender itself.
    let sends = total.div_ceil(RECEIVERS + 1);
    let p = start_server(LIMITS, &[]);
    let received = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..RECEIVERS {
        let mut ws = p.connect("/room/soak");
        assert_eq!(ask_for(&mut ws, "hi", "hi"), "hi");
        let received = received.clone();
        readers.push(std::thread::spawn(move || {
            for i in 0..sends {
                let m = recv_text(&mut ws);
                if i % 10_000 == 0 || i + 1 == sends {
                    assert_eq!(m, format!("m{i}"), "messages in order");
                }
                received.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut sender = p.connect("/room/soak");
    let t = Instant::now();
    let mut before = None;
    let mut peak = 0;
    const BATCH: usize = 500;
    let mut sent = 0;
    while sent < sends {
        let n = BATCH.min(sends - sent);
        for i in sent..sent + n {
            sender
                .write(Message::text(format!("say soak m{i}")))
                .unwrap();
        }
        sender.flush().unwrap();
        // Pace by the sender's own copies, so queues stay short.
        for i in sent..sent + n {
            assert_eq!(recv_text(&mut sender), format!("m{i}"));
        }
        sent += n;
        if before.is_none() && sent >= sends / 10 {
            before = Some(p.rss_kib());
        }
        if sent % 10_000 < BATCH {
            peak = peak.max(p.rss_kib());
        }
    }
    for r in readers {
        r.join().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let after = p.rss_kib();
    let before = before.unwrap();
    let delivered = received.load(Ordering::Relaxed) + sends as u64;
    println!(
        "soak: broadcast messages={delivered} sends={sends} receivers={} seconds={secs:.2} \
         rate={:.0}/s rss_at_10pct_kib={before} rss_peak_kib={peak} rss_after_kib={after}",
        RECEIVERS + 1,
        delivered as f64 / secs
    );
    assert_eq!(delivered, (sends * (RECEIVERS + 1)) as u64);
    assert!(
        after <= before + rss_allowance(before),
        "RSS grew from {before} KiB to {after} KiB over {delivered} messages"
    );
}

#[test]
fn a_client_that_stops_reading_is_cut_off_and_the_others_keep_their_rate() {
    let sends = env_count("SNOW_SOAK_RATE_MESSAGES", 20_000);
    let p = start_server(
        LIMITS,
        &[
            ("SNOW_WS_MAX_QUEUE_BYTES", "1048576"),
            ("SNOW_WS_CLOSE_TIMEOUT_MS", "500"),
        ],
    );
    let mut obs = p.connect("/room/observers");
    assert_eq!(ask_for(&mut obs, "hi", "hi"), "hi");
    let mut slow = p.connect("/room/rate");
    let slow_id = conn_id(&mut slow); // and never reads again
    let observer = std::thread::spawn(move || observed_close(&mut obs, slow_id));
    let payload = "r".repeat(1024);
    let readers: Vec<Client> = (0..2)
        .map(|_| {
            let mut ws = p.connect("/room/rate");
            assert_eq!(ask_for(&mut ws, "hi", "hi"), "hi");
            ws
        })
        .collect();
    let mut sender = p.connect("/room/rate");
    // Every client is connected: the clock starts with the first send.
    let start = Instant::now();
    // Messages each fast reader has read so far.
    let progress: Vec<Arc<AtomicU64>> = (0..2).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let fast: Vec<_> = readers
        .into_iter()
        .zip(progress.iter().cloned())
        .map(|(mut ws, done)| {
            std::thread::spawn(move || {
                // When each message arrived, from the common start.
                let mut at = Vec::with_capacity(sends);
                for _ in 0..sends {
                    let m = recv_text(&mut ws);
                    assert_eq!(m.len(), 1024);
                    at.push(start.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                }
                at
            })
        })
        .collect();
    // The readers are fast, but they are test threads on a machine that
    // may be busy: the sender keeps at most three batches (600 KiB, under
    // the 1 MiB queue limit) ahead of the slower of them, so only the
    // client that never reads can exceed its limit.
    let wait_for_readers = |upto: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while progress
            .iter()
            .any(|d| (d.load(Ordering::Relaxed) as usize) < upto)
        {
            assert!(Instant::now() < deadline, "a fast reader stalled");
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let say = format!("say rate {payload}");
    let mut sent = 0;
    // The slow client leaves the room the moment it is cut off: the first
    // batch after which the room has 3 members (2 fast readers, the sender).
    let mut cut_at = None;
    while sent < sends {
        wait_for_readers(sent.saturating_sub(400));
        let n = 200.min(sends - sent);
        for _ in 0..n {
            sender.write(Message::text(say.clone())).unwrap();
        }
        sender.write(Message::text("count rate")).unwrap();
        sender.flush().unwrap();
        for _ in 0..n {
            assert_eq!(recv_text(&mut sender).len(), 1024);
        }
        let count = recv_text(&mut sender);
        if cut_at.is_none() && count == "count rate 3" {
            cut_at = Some((start.elapsed(), sent + n));
        }
        sent += n;
    }
    let (cut_at, cut_after) = cut_at.expect("the slow client was never cut off");
    assert_eq!(
        observer.join().unwrap(),
        1008,
        "the slow client is closed for its queue"
    );
    let fast_at: Vec<Vec<Duration>> = fast.into_iter().map(|t| t.join().unwrap()).collect();
    let total = fast_at[0].last().copied().unwrap();
    // Rates of each fast reader while the slow client was connected and after.
    let mut figures = Vec::new();
    let mut shown = Vec::new();
    for at in &fast_at {
        let before = at.iter().filter(|t| **t <= cut_at).count();
        let rate_before = before as f64 / cut_at.as_secs_f64();
        let after = sends - before;
        let rate_after = after as f64 / (total.saturating_sub(cut_at)).as_secs_f64().max(1e-3);
        figures.push((before, rate_before, rate_after));
        shown.push(format!(
            "{before} msgs before the cut at {rate_before:.0}/s, {after} after at {rate_after:.0}/s"
        ));
    }
    println!(
        "soak: slow-consumer messages={sends} per reader, cut after {cut_after} broadcasts \
         ({} ms), total_ms={}; fast readers: {}",
        cut_at.as_millis(),
        total.as_millis(),
        shown.join("; ")
    );
    for (before, rate_before, rate_after) in figures {
        // Only meaningful when enough messages went by before the cut.
        if before >= 500 && sends - before >= 500 {
            assert!(
                rate_before * 4.0 >= rate_after,
                "a fast reader slowed down while the slow client was connected: \
                 {rate_before:.0}/s before the cut, {rate_after:.0}/s after"
            );
        }
    }
    drop(slow);
}
