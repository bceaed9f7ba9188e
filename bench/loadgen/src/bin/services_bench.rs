//! The services benchmark (bench/services/README.md): calls and casts per
//! second of a Snow service, from one thread (`main`) and from all server
//! workers, next to the same handlers in Bun (a JS object updated in
//! place) and in hand-written Rust (`Mutex<State>`, and a thread owning
//! the state behind a channel: the cost floor of the "one task per service
//! with a mailbox" model), in the same run. Writes a Markdown report.
//!
//! `services-bench --snow EXE --bun BUN --js bun.js --out FILE [--n N] [--repeat R]`

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

struct Args {
    snow: String,
    bun: String,
    js: String,
    out: String,
    n: u64,
    repeat: usize,
}

fn args() -> Args {
    let mut a = Args {
        snow: String::new(),
        bun: String::new(),
        js: String::new(),
        out: "bench/RESULTS-services.md".into(),
        n: 4_000_000,
        repeat: 5,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        let val = v[i + 1].clone();
        match v[i].as_str() {
            "--snow" => a.snow = val,
            "--bun" => a.bun = val,
            "--js" => a.js = val,
            "--out" => a.out = val,
            "--n" => a.n = val.parse().expect("--n"),
            "--repeat" => a.repeat = val.parse().expect("--repeat"),
            o => panic!("unknown option {o}"),
        }
        i += 2;
    }
    assert!(!a.snow.is_empty(), "--snow EXE is required");
    a
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Calls,
    Casts,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum State {
    Counter,
    Map,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Calls => "calls",
            Kind::Casts => "casts",
        }
    }
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Counter => "counter",
            State::Map => "map",
        }
    }
}

/// "ops N ms T" → nanoseconds per operation.
fn parse_ops(line: &str) -> f64 {
    let w: Vec<&str> = line.split_whitespace().collect();
    assert!(
        w.len() == 4 && w[0] == "ops" && w[2] == "ms",
        "unexpected output {line:?}"
    );
    let n: f64 = w[1].parse().unwrap();
    let ms: f64 = w[3].parse().unwrap();
    ms * 1e6 / n
}

fn run_child(cmd: &str, extra: &[&str], kind: Kind, state: State, n: u64) -> f64 {
    let out = Command::new(cmd)
        .args(extra)
        .args([kind.word(), state.word(), &n.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} failed");
    parse_ops(String::from_utf8_lossy(&out.stdout).trim())
}

// ---------------------------------------------------------------------------
// Rust: Mutex<State>
// ---------------------------------------------------------------------------

struct Store(HashMap<i64, i64>);

impl Store {
    fn new() -> Store {
        Store((0..1000).map(|i| (i, 0)).collect())
    }
}

/// ns per op with `threads` threads sharing one `Mutex` (n ops in all).
fn rust_mutex(kind: Kind, state: State, n: u64, threads: usize) -> f64 {
    let counter = Arc::new(Mutex::new(0i64));
    let store = Arc::new(Mutex::new(Store::new()));
    let per = n / threads as u64;
    let start = Arc::new(Barrier::new(threads + 1));
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (counter, store, start) = (counter.clone(), store.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut acc = 0i64;
                for i in 0..per as i64 {
                    let k = i + t as i64 * per as i64;
                    match (kind, state) {
                        (Kind::Calls, State::Counter) => {
                            let mut g = counter.lock().unwrap();
                            *g += 1;
                            acc = acc.wrapping_add(*g);
                        }
                        (Kind::Casts, State::Counter) => *counter.lock().unwrap() += 1,
                        (Kind::Calls, State::Map) => {
                            let mut g = store.lock().unwrap();
                            g.0.insert(k % 1000, k);
                            acc = acc.wrapping_add(g.0.len() as i64);
                        }
                        (Kind::Casts, State::Map) => {
                            store.lock().unwrap().0.insert(k % 1000, k);
                        }
                    }
                }
                std::hint::black_box(acc);
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for h in hs {
        h.join().unwrap();
    }
    t0.elapsed().as_nanos() as f64 / (per * threads as u64) as f64
}

// ---------------------------------------------------------------------------
// Rust: a thread per service with a mailbox (the other model's floor)
// ---------------------------------------------------------------------------

enum Msg {
    Call(i64, mpsc::SyncSender<i64>),
    Cast(i64),
    Done(mpsc::SyncSender<i64>),
}

/// ns per op with `threads` callers of one service thread.
fn rust_mailbox(kind: Kind, state: State, n: u64, threads: usize) -> f64 {
    let (tx, rx) = mpsc::channel::<Msg>();
    let owner = std::thread::spawn(move || {
        let mut count = 0i64;
        let mut store = Store::new();
        for m in rx {
            let mut handle = |k: i64| -> i64 {
                match state {
                    State::Counter => {
                        count += 1;
                        count
                    }
                    State::Map => {
                        store.0.insert(k % 1000, k);
                        store.0.len() as i64
                    }
                }
            };
            match m {
                Msg::Call(k, reply) => {
                    let r = handle(k);
                    reply.send(r).unwrap();
                }
                Msg::Cast(k) => {
                    handle(k);
                }
                Msg::Done(reply) => reply.send(0).unwrap(),
            }
        }
    });
    let per = n / threads as u64;
    let start = Arc::new(Barrier::new(threads + 1));
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (tx, start) = (tx.clone(), start.clone());
            std::thread::spawn(move || {
                let (rtx, rrx) = mpsc::sync_channel(1);
                start.wait();
                let mut acc = 0i64;
                for i in 0..per as i64 {
                    let k = i + t as i64 * per as i64;
                    match kind {
                        Kind::Calls => {
                            tx.send(Msg::Call(k, rtx.clone())).unwrap();
                            acc = acc.wrapping_add(rrx.recv().unwrap());
                        }
                        Kind::Casts => tx.send(Msg::Cast(k)).unwrap(),
                    }
                }
                // A cast's cost includes its handling: wait until the owner
                // has handled everything sent so far.
                tx.send(Msg::Done(rtx.clone())).unwrap();
                rrx.recv().unwrap();
                std::hint::black_box(acc);
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for h in hs {
        h.join().unwrap();
    }
    let ns = t0.elapsed().as_nanos() as f64 / (per * threads as u64) as f64;
    drop(tx);
    owner.join().unwrap();
    ns
}

// ---------------------------------------------------------------------------
// Snow from all workers: the server, one connection per worker
// ---------------------------------------------------------------------------

/// A minimal blocking WebSocket client: handshake, masked text frames out,
/// unmasked text frames in (all the server sends here).
struct Ws(TcpStream);

impl Ws {
    fn connect(port: u16) -> Ws {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
        write!(
            s,
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "handshake refused");
        Ws(s)
    }

    fn send(&mut self, text: &str) {
        let d = text.as_bytes();
        assert!(d.len() < 126);
        let mut f = vec![0x81, 0x80 | d.len() as u8, 0, 0, 0, 0];
        f.extend_from_slice(d);
        self.0.write_all(&f).unwrap();
    }

    fn recv(&mut self) -> String {
        let mut h = [0u8; 2];
        self.0.read_exact(&mut h).unwrap();
        let mut len = (h[1] & 127) as usize;
        if len == 126 {
            let mut l = [0u8; 2];
            self.0.read_exact(&mut l).unwrap();
            len = u16::from_be_bytes(l) as usize;
        }
        let mut d = vec![0u8; len];
        self.0.read_exact(&mut d).unwrap();
        String::from_utf8(d).unwrap()
    }
}

struct Server {
    child: std::process::Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn snow_server(exe: &str, workers: usize) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(exe)
        .env("PORT", port.to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env("SNOW_WS_WORKER_THREADS", workers.to_string())
        .env("SNOW_WS_CALLBACK_TIMEOUT_MS", "600000")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, port }
}

/// ns per op: `workers` connections each ask for n/workers operations at
/// once; the wall time from the first send to the last reply.
fn snow_workers(s: &Server, kind: Kind, state: State, n: u64, workers: usize) -> f64 {
    let per = n / workers as u64;
    let mut conns: Vec<Ws> = (0..workers).map(|_| Ws::connect(s.port)).collect();
    // Warm-up, and each connection's callbacks on their worker.
    for c in conns.iter_mut() {
        c.send(&format!("{} {} 1000", kind.word(), state.word()));
        c.recv();
    }
    let t0 = Instant::now();
    for c in conns.iter_mut() {
        c.send(&format!("{} {} {per}", kind.word(), state.word()));
    }
    for c in conns.iter_mut() {
        let r = c.recv();
        assert!(r.starts_with("ops "), "{r}");
    }
    t0.elapsed().as_nanos() as f64 / (per * workers as u64) as f64
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

fn best(v: &mut Vec<f64>, x: f64) {
    v.push(x);
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let a = args();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut results: HashMap<(&str, Kind, State, usize), Vec<f64>> = HashMap::new();
    let server = snow_server(&a.snow, workers);
    let cases = [
        (Kind::Calls, State::Counter),
        (Kind::Casts, State::Counter),
        (Kind::Calls, State::Map),
        (Kind::Casts, State::Map),
    ];
    for round in 0..a.repeat {
        eprintln!("round {} of {}", round + 1, a.repeat);
        for &(kind, state) in &cases {
            let n = match state {
                State::Counter => a.n,
                State::Map => a.n / 4,
            };
            let mut put = |who: &'static str, threads: usize, x: f64| {
                best(results.entry((who, kind, state, threads)).or_default(), x)
            };
            put("snow", 1, run_child(&a.snow, &[], kind, state, n));
            put(
                "snow",
                workers,
                snow_workers(&server, kind, state, n, workers),
            );
            put("rust-mutex", 1, rust_mutex(kind, state, n, 1));
            put("rust-mutex", workers, rust_mutex(kind, state, n, workers));
            put("rust-mailbox", 1, rust_mailbox(kind, state, n / 4, 1));
            put(
                "rust-mailbox",
                workers,
                rust_mailbox(kind, state, n / 4, workers),
            );
            if !a.bun.is_empty() {
                put("bun", 1, run_child(&a.bun, &[&a.js], kind, state, n));
            }
        }
    }
    drop(server);
    let get = |who: &str, kind: Kind, state: State, t: usize| -> Option<f64> {
        results.get(&(who, kind, state, t)).map(|v| min(v))
    };
    // The best round, and the spread of all rounds after it.
    let spread = |who: &str, kind: Kind, state: State, t: usize| -> String {
        match results.get(&(who, kind, state, t)) {
            Some(v) if v.len() > 1 => {
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!(" ({:.1}-{hi:.1})", min(v))
            }
            _ => String::new(),
        }
    };
    let fmt_ns = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{x:.1}"));
    let fmt_rate = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{:.2} M/s", 1e3 / x));
    let mut md = String::new();
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    md += "# Services benchmark\n\n";
    md += &format!(
        "Generated by `bench/services/run.sh` on {date}: {} cores, best of {} \
         interleaved rounds (in parentheses: the range over the rounds), {} counter operations and {} map operations a \
         measurement (the mailbox model a quarter of that). Nanoseconds per \
         operation (lower is better) and operations per second. \"1 thread\": \
         Snow's `main`, one Rust thread, Bun's one thread; \"all workers\": \
         {workers} server workers (Snow: one connection per worker, each asking \
         its callback for n/{workers} operations at once; Rust: {workers} \
         threads on one lock or one mailbox). See bench/services/README.md.\n\n",
        workers, a.repeat, a.n, a.n / 4
    );
    for &(kind, state) in &cases {
        md += &format!("## {} on a {} state\n\n", kind.word(), state.word());
        md += "| implementation | ns/op, 1 thread | rate, 1 thread | ns/op, all workers | rate, all workers |\n";
        md += "| --- | ---: | ---: | ---: | ---: |\n";
        for (who, label) in [
            ("snow", "Snow service"),
            ("rust-mutex", "Rust `Mutex<State>`"),
            ("rust-mailbox", "Rust thread + channel (mailbox model)"),
            ("bun", "Bun (object updated in place)"),
        ] {
            let one = get(who, kind, state, 1);
            let all = get(who, kind, state, workers);
            if one.is_none() && all.is_none() {
                continue;
            }
            md += &format!(
                "| {label} | {}{} | {} | {}{} | {} |\n",
                fmt_ns(one),
                spread(who, kind, state, 1),
                fmt_rate(one),
                fmt_ns(all),
                spread(who, kind, state, workers),
                fmt_rate(all)
            );
        }
        md += "\n";
    }
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.1}x", a / b),
        _ => "–".into(),
    };
    md += "## Ratios\n\n";
    md += "| ratio | counter | map |\n| --- | ---: | ---: |\n";
    for (label, who_a, who_b, kind, t) in [
        (
            "Snow call / Rust mutex round trip, 1 thread (goal: at most 2x)",
            "snow",
            "rust-mutex",
            Kind::Calls,
            1,
        ),
        (
            "Snow call / Rust mutex round trip, all workers",
            "snow",
            "rust-mutex",
            Kind::Calls,
            workers,
        ),
        (
            "Snow cast / Rust mutex update, 1 thread",
            "snow",
            "rust-mutex",
            Kind::Casts,
            1,
        ),
        (
            "Snow call / Bun method call, 1 thread",
            "snow",
            "bun",
            Kind::Calls,
            1,
        ),
        (
            "Snow cast / Bun method call, 1 thread",
            "snow",
            "bun",
            Kind::Casts,
            1,
        ),
        (
            "mailbox call / Snow call, 1 thread (the model not chosen)",
            "rust-mailbox",
            "snow",
            Kind::Calls,
            1,
        ),
        (
            "mailbox call / Snow call, all workers",
            "rust-mailbox",
            "snow",
            Kind::Calls,
            workers,
        ),
    ] {
        md += &format!(
            "| {label} | {} | {} |\n",
            ratio(
                get(who_a, kind, State::Counter, t),
                get(who_b, kind, State::Counter, t)
            ),
            ratio(
                get(who_a, kind, State::Map, t),
                get(who_b, kind, State::Map, t)
            ),
        );
    }
    let casts = get("snow", Kind::Casts, State::Counter, 1);
    md += &format!(
        "\nCasts from one thread (goal: at least 1M/s): {} on the counter, {} on the map.\n",
        fmt_rate(casts),
        fmt_rate(get("snow", Kind::Casts, State::Map, 1))
    );
    std::fs::write(&a.out, &md).unwrap();
    print!("{md}");
}
