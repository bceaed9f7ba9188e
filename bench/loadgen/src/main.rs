//! Load generator of the Snow WebSocket benchmark: drives any server that
//! speaks the benchmark protocol (bench/README.md) the same way, on one
//! thread (pin it to its own CPU), and prints one JSON line of results.
//!
//! ```text
//! loadgen --addr 127.0.0.1:9000 --proto plain|socketio --scenario S
//!         [--clients N] [--room-size G] [--window W] [--duration SECS]
//!         [--warmup SECS] [--size BYTES] [--pid SERVER_PID]
//! ```
//! A cluster (bench/README.md, "Cluster"): `--addr A,B` spreads the clients
//! over the nodes (client i connects to node i mod 2) and `--pid P,Q,R`
//! adds up the CPU and memory of every process of it (nodes and broker);
//! the report then also splits latency by whether the sender was on the
//! receiver's node (`*_same_us`) or another one (`*_cross_us`).
//! Scenarios: `fanout` (N clients in rooms of G; every message goes to the
//! whole room, the sender included; each client keeps W of its own messages
//! in flight), `echo` (N clients without a room, W messages in flight each),
//! `churn` (N clients alternate `/join cK` and `/leave cK`, one in flight),
//! `idle` (N connections, server RSS per connection).
//! `--deflate` offers permessage-deflate (the server must accept) and
//! reports the wire bytes per delivery; `--words` pads payloads with words
//! instead of `x` (text that compresses like chat, not like a run of one
//! letter); `--slow N --slow-rate B` makes clients 0..N read at most B
//! bytes per second (readers slower than the room produces: the
//! client-bound scenario); latency and deliveries are then counted at the
//! other, fast clients only (what slow readers cost everyone else), and the
//! report counts the clients the server closed and with which code.
//! `--split-own` also reports the latency of the sender's own copy and of
//! the other members' copies apart (`p50_own_us`, `p50_others_us`, ...).

mod client;
mod stats;

use client::{Client, Proto};
use futures_util::StreamExt;
use stats::Histogram;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
struct Opts {
    addr: String,
    proto: Proto,
    scenario: String,
    clients: usize,
    room_size: usize,
    window: usize,
    duration: f64,
    warmup: f64,
    size: usize,
    pid: Option<u32>,
    /// Every server process (a cluster's nodes and broker); `pid` is the first.
    pids: Vec<u32>,
    /// The nodes; `addr` is the first.
    addrs: Vec<String>,
    connect_concurrency: usize,
    deflate: bool,
    words: bool,
    /// Clients 0..slow read at most `slow_rate` bytes/s.
    slow: usize,
    slow_rate: f64,
    /// Latency split by the sender's own copy and the other members' copies.
    split_own: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        addr: "127.0.0.1:9000".into(),
        proto: Proto::Plain,
        scenario: "fanout".into(),
        clients: 32,
        room_size: 0,
        window: 1,
        duration: 3.0,
        warmup: 0.5,
        size: 64,
        pid: None,
        pids: Vec::new(),
        addrs: Vec::new(),
        connect_concurrency: 128,
        deflate: false,
        words: false,
        slow: 0,
        slow_rate: 0.0,
        split_own: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--deflate" => {
                o.deflate = true;
                i += 1;
                continue;
            }
            "--split-own" => {
                o.split_own = true;
                i += 1;
                continue;
            }
            "--words" => {
                o.words = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        let v = args
            .get(i + 1)
            .cloned()
            .ok_or(format!("{} needs a value", args[i]))?;
        let num = |s: &str| s.parse::<f64>().map_err(|_| format!("bad number {s:?}"));
        match args[i].as_str() {
            "--addr" => o.addr = v,
            "--proto" => o.proto = Proto::parse(&v).ok_or(format!("bad protocol {v:?}"))?,
            "--scenario" => o.scenario = v,
            "--clients" => o.clients = num(&v)? as usize,
            "--room-size" => o.room_size = num(&v)? as usize,
            "--window" => o.window = num(&v)? as usize,
            "--duration" => o.duration = num(&v)?,
            "--warmup" => o.warmup = num(&v)?,
            "--size" => o.size = num(&v)? as usize,
            "--pid" => {
                o.pids = v
                    .split(',')
                    .map(|p| p.parse::<u32>().map_err(|_| format!("bad pid {p:?}")))
                    .collect::<Result<_, _>>()?;
                o.pid = o.pids.first().copied();
            }
            "--connect-concurrency" => o.connect_concurrency = num(&v)?.max(1.0) as usize,
            "--slow" => o.slow = num(&v)? as usize,
            "--slow-rate" => o.slow_rate = num(&v)?,
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    if o.room_size == 0 {
        o.room_size = o.clients;
    }
    o.addrs = o.addr.split(',').map(str::to_string).collect();
    o.addr = o.addrs[0].clone();
    Ok(o)
}

/// Nanoseconds since the process started (the clock of payload timestamps).
fn now_ns(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

/// A `/proc/PID/status` field in KiB (VmRSS, VmHWM).
fn proc_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// [`proc_kib`] added up over every server process.
fn procs_kib(o: &Opts, field: &str) -> Option<u64> {
    if o.pids.len() <= 1 {
        return proc_kib(o.pid, field);
    }
    Some(
        o.pids
            .iter()
            .filter_map(|p| proc_kib(Some(*p), field))
            .sum(),
    )
}

/// Total RSS of the process and its descendants' threads (KiB).
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    proc_kib(pid, "VmRSS:")
}

/// CPU time (user + system) of a process in seconds, from /proc/PID/stat.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = 100.0; // USER_HZ on Linux
    ticks / hz
}

/// State shared by the client tasks of a run (single-threaded).
struct Run {
    start: Instant,
    measuring: Cell<bool>,
    stopped: Cell<bool>,
    received: Cell<u64>,
    sent: Cell<u64>,
    errors: Cell<u64>,
    hist: RefCell<Histogram>,
    /// Cluster runs: deliveries whose sender was on the receiver's node,
    /// and on another node.
    same: RefCell<Histogram>,
    cross: RefCell<Histogram>,
    /// CPU use of the server and of this process over the window (0..1).
    cpu: Cell<(f64, f64)>,
    /// Payload bytes of data frames received in the window, as on the wire.
    wire_bytes: Cell<u64>,
    /// Close codes of the clients the server closed, and how many.
    closed: RefCell<Vec<(u16, u64)>>,
    /// Per client: deliveries in the window and their latencies (coarse
    /// histogram), for the fairness figures (least-served client).
    per_conn: RefCell<Vec<ConnHist>>,
}

/// A client's deliveries in the window: a coarse log histogram (8
/// sub-buckets per power of two, about 12 % precision, 2 KB per client).
#[derive(Clone)]
struct ConnHist {
    counts: Vec<u32>,
    total: u64,
}

impl ConnHist {
    const BUCKETS: usize = 8 * 62;

    fn index(v: u64) -> usize {
        if v < 8 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize; // >= 3
        8 * (e - 2) + ((v >> (e - 3)) & 7) as usize
    }

    fn lower(i: usize) -> u64 {
        if i < 8 {
            return i as u64;
        }
        let e = i / 8 + 2;
        (1u64 << e) | (((i % 8) as u64) << (e - 3))
    }

    fn record(&mut self, micros: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; Self::BUCKETS];
        }
        self.counts[Self::index(micros)] += 1;
        self.total += 1;
    }

    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Self::lower(i);
            }
        }
        0
    }
}

impl Run {
    fn new() -> Rc<Run> {
        Rc::new(Run {
            start: Instant::now(),
            measuring: Cell::new(false),
            stopped: Cell::new(false),
            received: Cell::new(0),
            sent: Cell::new(0),
            errors: Cell::new(0),
            hist: RefCell::new(Histogram::default()),
            same: RefCell::new(Histogram::default()),
            cross: RefCell::new(Histogram::default()),
            cpu: Cell::new((0.0, 0.0)),
            wire_bytes: Cell::new(0),
            closed: RefCell::new(Vec::new()),
            per_conn: RefCell::new(Vec::new()),
        })
    }

    /// Records a delivery to client `me` (in the window only).
    fn record_conn(&self, me: usize, now_ns: u64, sent_ns: u64) {
        if self.measuring.get() {
            let mut v = self.per_conn.borrow_mut();
            if v.len() <= me {
                v.resize(
                    me + 1,
                    ConnHist {
                        counts: Vec::new(),
                        total: 0,
                    },
                );
            }
            v[me].record(now_ns.saturating_sub(sent_ns) / 1000);
        }
    }

    /// Records a delivery received at `now_ns` of a message sent at `sent_ns`.
    fn record_at(&self, now_ns: u64, sent_ns: u64) {
        if self.measuring.get() {
            self.received.set(self.received.get() + 1);
            let lat = now_ns.saturating_sub(sent_ns) / 1000;
            self.hist.borrow_mut().record(lat);
        }
    }

    /// A client was closed by the server with `code`.
    fn closed_with(&self, code: u16) {
        let mut c = self.closed.borrow_mut();
        match c.iter_mut().find(|(k, _)| *k == code) {
            Some((_, n)) => *n += 1,
            None => c.push((code, 1)),
        }
    }

    /// [`Run::record_at`] for a cluster: also by same node or another.
    fn record_node(&self, now_ns: u64, sent_ns: u64, same_node: bool) {
        if self.measuring.get() {
            self.record_at(now_ns, sent_ns);
            let lat = now_ns.saturating_sub(sent_ns) / 1000;
            if same_node { &self.same } else { &self.cross }
                .borrow_mut()
                .record(lat);
        }
    }
}

/// Opens `n` connections, `room(i)` giving each one's room, at most
/// `concurrency` handshakes at a time.
async fn connect_all(
    o: &Opts,
    n: usize,
    room: impl Fn(usize) -> Option<String>,
) -> Result<Vec<Client>, String> {
    let rooms: Vec<Option<String>> = (0..n).map(room).collect();
    let proto = o.proto;
    let deflate = o.deflate;
    let conns: Vec<Result<Client, String>> = futures_util::stream::iter(rooms.iter().enumerate())
        .map(|(i, r)| async move {
            let addr = o.addrs[i % o.addrs.len()].as_str();
            let mut last = String::new();
            for _ in 0..3 {
                match Client::connect(addr, proto, r.as_deref(), deflate).await {
                    Ok(c) => return Ok(c),
                    Err(e) => last = e,
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(last)
        })
        .buffered(o.connect_concurrency)
        .collect()
        .await;
    conns.into_iter().collect()
}

/// Words a `--words` payload is made of (chat-like text).
const WORDS: [&str; 32] = [
    "hello", "there", "the", "meeting", "moved", "to", "room", "three", "see", "you", "at", "noon",
    "thanks", "for", "the", "update", "can", "someone", "review", "my", "pull", "request", "today",
    "lunch", "is", "ready", "ok", "sounds", "good", "on", "my", "way",
];

/// A payload: "SENDER SEQ TIMESTAMP_NS " padded to `size` bytes with `x`,
/// or with words chosen from the sequence number (`words`).
fn payload(buf: &mut String, me: usize, seq: u64, ts: u64, size: usize, words: bool) {
    use std::fmt::Write;
    buf.clear();
    let _ = write!(buf, "{me} {seq} {ts} ");
    let prefix = buf.len();
    let mut k = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ me as u64;
    while buf.len() < size {
        if words {
            k ^= k << 13;
            k ^= k >> 7;
            k ^= k << 17;
            buf.push_str(WORDS[(k % 32) as usize]);
            buf.push(' ');
        } else {
            buf.push('x');
        }
    }
    // (ASCII, so any cut is a character boundary.)
    buf.truncate(size.max(prefix));
}

/// (sender, timestamp) of a payload. Byte-level (no `str::split`/`parse`):
/// at millions of deliveries per second the client's own parsing must not
/// be what the benchmark measures.
fn parse_payload(p: &str) -> Option<(usize, u64)> {
    fn number(b: &[u8]) -> Option<u64> {
        if b.is_empty() || b.len() > 19 {
            return None;
        }
        b.iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    }
    let mut it = p.as_bytes().splitn(4, |&c| c == b' ');
    let me = number(it.next()?)?;
    it.next()?;
    let ts = number(it.next()?)?;
    Some((usize::try_from(me).ok()?, ts))
}

/// One client of `fanout`/`echo`: keeps `window` of its own messages in
/// flight; each time one of its own comes back it sends the next (the
/// replacements for one read go out in one write).
async fn member(mut c: Client, me: usize, o: Rc<Opts>, run: Rc<Run>) {
    let mut buf = String::with_capacity(o.size + 32);
    let mut seq = 0u64;
    let mut due = o.window;
    let nodes = o.addrs.len();
    let mut wire_seen = 0u64;
    let slow = me < o.slow && o.slow_rate > 0.0;
    if slow {
        c.read_at_most(4096);
    }
    loop {
        if !run.stopped.get() {
            for _ in 0..due {
                payload(&mut buf, me, seq, now_ns(run.start), o.size, o.words);
                seq += 1;
                c.feed(&buf);
            }
            if run.measuring.get() {
                run.sent.set(run.sent.get() + due as u64);
            }
        }
        if c.flush().await.is_err() {
            run.errors.set(run.errors.get() + 1);
            return;
        }
        due = 0;
        // One clock reading per read: every message of a read arrived then.
        let mut now = None;
        let r = c
            .recv_batch(|p| {
                if let Some((sender, ts)) = parse_payload(p) {
                    let t = *now.get_or_insert_with(|| now_ns(run.start));
                    if slow {
                        // (counted at the fast clients only)
                    } else if nodes > 1 {
                        run.record_node(t, ts, sender % nodes == me % nodes);
                    } else if o.split_own {
                        run.record_node(t, ts, sender == me);
                    } else {
                        run.record_at(t, ts);
                    }
                    if !slow {
                        run.record_conn(me, t, ts);
                    }
                    if sender == me {
                        due += 1;
                    }
                }
            })
            .await;
        let read = c.wire_bytes - wire_seen;
        if run.measuring.get() && !slow {
            run.wire_bytes.set(run.wire_bytes.get() + read);
        }
        wire_seen = c.wire_bytes;
        if r.is_err() {
            if let Some(code) = c.closed_with {
                run.closed_with(code);
            }
            if !run.stopped.get() {
                run.errors.set(run.errors.get() + 1);
            }
            return;
        }
        if slow {
            tokio::time::sleep(Duration::from_secs_f64(read as f64 / o.slow_rate)).await;
        }
    }
}

/// One client of `churn`: `/join cK`, wait for `J cK`, `/leave cK`, wait
/// for `L cK`, again; each acknowledged command is one operation.
async fn churner(mut c: Client, me: usize, run: Rc<Run>) {
    let room = format!("c{}", me % 100);
    let join = format!("/join {room}");
    let leave = format!("/leave {room}");
    let mut joining = true;
    while !run.stopped.get() {
        let t = now_ns(run.start);
        if c.send(if joining { &join } else { &leave }).await.is_err() {
            run.errors.set(run.errors.get() + 1);
            return;
        }
        let want = if joining { 'J' } else { 'L' };
        let mut acked = false;
        while !acked {
            if c.recv_batch(|p| acked |= p.starts_with(want))
                .await
                .is_err()
            {
                run.errors.set(run.errors.get() + 1);
                return;
            }
        }
        let now = now_ns(run.start);
        run.record_at(now, t);
        run.record_conn(me, now, t);
        joining = !joining;
    }
}

/// Runs the measurement window of a running scenario and answers the
/// elapsed measured seconds.
async fn measure(o: &Opts, run: &Run) -> f64 {
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let servers: Vec<String> = o.pids.iter().map(|p| p.to_string()).collect();
    let server_cpu = || servers.iter().map(|p| cpu_secs(p)).sum::<f64>();
    let (s0, l0) = (server_cpu(), cpu_secs("self"));
    let t0 = Instant::now();
    run.measuring.set(true);
    tokio::time::sleep(Duration::from_secs_f64(o.duration)).await;
    run.measuring.set(false);
    run.stopped.set(true);
    let secs = t0.elapsed().as_secs_f64();
    let (s1, l1) = (server_cpu(), cpu_secs("self"));
    run.cpu.set(((s1 - s0) / secs, (l1 - l0) / secs));
    secs
}

fn report(o: &Opts, run: &Run, secs: f64, extra: &str) {
    let h = run.hist.borrow();
    let hwm = procs_kib(o, "VmHWM:").unwrap_or(0);
    let rss = procs_kib(o, "VmRSS:").unwrap_or(0);
    let mut extra = extra.to_string();
    let received = run.received.get();
    if o.deflate || run.wire_bytes.get() > 0 {
        let per = run.wire_bytes.get() as f64 / received.max(1) as f64;
        extra += &format!(",\"wire_bytes_per_delivery\":{per:.1}");
    }
    let closed = run.closed.borrow();
    if !closed.is_empty() {
        let list: Vec<String> = closed.iter().map(|(c, n)| format!("\"{c}\":{n}")).collect();
        extra += &format!(",\"closed_by_server\":{{{}}}", list.join(","));
    }
    {
        // Fairness: the least-served client (fewest deliveries in the
        // window; clients that got none count) and its p99, and the worst
        // p99 of any client.
        let per = run.per_conn.borrow();
        let expected = if o.slow > 0 {
            o.clients.saturating_sub(o.slow)
        } else {
            o.clients
        };
        if !per.is_empty() && matches!(o.scenario.as_str(), "fanout" | "echo" | "churn") {
            let served: Vec<&ConnHist> = per.iter().filter(|h| h.total > 0).collect();
            let starved = expected.saturating_sub(served.len());
            let least = served.iter().min_by_key(|h| h.total);
            let worst_p99 = served.iter().map(|h| h.quantile(0.99)).max().unwrap_or(0);
            let (least_n, least_p99) = match (starved, least) {
                (0, Some(h)) => (h.total, h.quantile(0.99)),
                _ => (0, 0),
            };
            extra += &format!(
                ",\"least_conn_rate\":{:.1},\"p99_least_conn_us\":{},\"p99_worst_conn_us\":{},\"starved_conns\":{}",
                least_n as f64 / secs,
                least_p99,
                worst_p99,
                starved
            );
        }
    }
    if o.split_own && o.addrs.len() == 1 {
        let (s, c) = (run.same.borrow(), run.cross.borrow());
        extra += &format!(
            ",\"p50_own_us\":{},\"p99_own_us\":{},\"p50_others_us\":{},\"p99_others_us\":{}",
            s.quantile(0.50),
            s.quantile(0.99),
            c.quantile(0.50),
            c.quantile(0.99)
        );
    }
    if o.addrs.len() > 1 {
        let (s, c) = (run.same.borrow(), run.cross.borrow());
        extra += &format!(
            ",\"nodes\":{},\"p50_same_us\":{},\"p99_same_us\":{},\"p50_cross_us\":{},\"p99_cross_us\":{},\"cross_samples\":{}",
            o.addrs.len(),
            s.quantile(0.50),
            s.quantile(0.99),
            c.quantile(0.50),
            c.quantile(0.99),
            c.count()
        );
    }
    println!(
        "{{\"scenario\":\"{}\",\"clients\":{},\"room_size\":{},\"window\":{},\"rate\":{:.1},\"sent_per_s\":{:.1},\"p50_us\":{},\"p99_us\":{},\"samples\":{},\"errors\":{},\"rss_kib\":{},\"hwm_kib\":{},\"server_cpu\":{:.2},\"loadgen_cpu\":{:.2}{}}}",
        o.scenario,
        o.clients,
        o.room_size,
        o.window,
        run.received.get() as f64 / secs,
        run.sent.get() as f64 / secs,
        h.quantile(0.50),
        h.quantile(0.99),
        h.count(),
        run.errors.get(),
        rss,
        hwm,
        run.cpu.get().0,
        run.cpu.get().1,
        extra
    );
}

async fn run_scenario(o: Opts) -> Result<(), String> {
    let o = Rc::new(o);
    let run = Run::new();
    match o.scenario.as_str() {
        "fanout" | "echo" => {
            let g = o.room_size.max(1);
            let echo = o.scenario == "echo";
            let conns =
                connect_all(&o, o.clients, |i| (!echo).then(|| format!("g{}", i / g))).await?;
            // Let every server finish its joins before anyone sends.
            tokio::time::sleep(Duration::from_millis(300)).await;
            for (i, c) in conns.into_iter().enumerate() {
                tokio::task::spawn_local(member(c, i, o.clone(), run.clone()));
            }
            let secs = measure(&o, &run).await;
            report(&o, &run, secs, "");
        }
        "churn" => {
            let conns = connect_all(&o, o.clients, |_| None).await?;
            for (i, c) in conns.into_iter().enumerate() {
                tokio::task::spawn_local(churner(c, i, run.clone()));
            }
            let secs = measure(&o, &run).await;
            report(&o, &run, secs, "");
        }
        "idle" => {
            let before = rss_kib(o.pid).unwrap_or(0);
            let t = Instant::now();
            let conns = connect_all(&o, o.clients, |_| None).await?;
            let connect_secs = t.elapsed().as_secs_f64();
            tokio::time::sleep(Duration::from_secs_f64(o.duration)).await;
            let after = rss_kib(o.pid).unwrap_or(0);
            let per_conn = (after.saturating_sub(before) as f64) * 1024.0 / conns.len() as f64;
            run.received.set(conns.len() as u64);
            report(
                &o,
                &run,
                connect_secs,
                &format!(
                    ",\"rss_before_kib\":{before},\"bytes_per_conn\":{per_conn:.0},\"connect_secs\":{connect_secs:.3}"
                ),
            );
            drop(conns);
        }
        other => return Err(format!("unknown scenario {other:?}")),
    }
    Ok(())
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let limit = Duration::from_secs_f64(o.duration + o.warmup + 120.0);
    let r = local.block_on(&rt, async move {
        tokio::time::timeout(limit, run_scenario(o))
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    });
    // Exit without tearing the connections down one by one.
    match r {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_padded_and_parse_back() {
        let mut b = String::new();
        payload(&mut b, 17, 3, 123_456_789, 64, false);
        assert_eq!(b.len(), 64);
        assert!(b.ends_with('x'));
        assert_eq!(parse_payload(&b), Some((17, 123_456_789)));
        payload(&mut b, 1, 2, 3, 4, false);
        assert_eq!(b, "1 2 3 ", "never cut below the header");
        // Words: chat-like text of the exact size that still parses, and
        // different for another sequence number.
        payload(&mut b, 17, 3, 123_456_789, 256, true);
        assert_eq!(b.len(), 256);
        assert_eq!(parse_payload(&b), Some((17, 123_456_789)));
        assert!(
            !b.contains('x') && b.split(' ').filter(|w| WORDS.contains(w)).count() > 20,
            "{b}"
        );
        let first = b.clone();
        payload(&mut b, 17, 4, 123_456_789, 256, true);
        assert_ne!(first[14..], b[14..]);
        assert_eq!(parse_payload("J c1"), None);
        assert_eq!(parse_payload("12 5 7"), Some((12, 7)), "no padding");
        assert_eq!(parse_payload("1 2 3x "), None, "not a number");
        assert_eq!(parse_payload("1 2"), None, "no timestamp");
        assert_eq!(
            parse_payload("1  3"),
            Some((1, 3)),
            "the sequence is not parsed"
        );
        assert_eq!(parse_payload("99999999999999999999 2 3"), None, "overflow");
    }
}
