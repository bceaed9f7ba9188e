//! Operating a server end to end (shared/spec/ws.md "Operating a server",
//! docs/OPERATIONS.md): tests/ws/ops.snow compiled by snowc, real
//! WebSocket clients (tungstenite) over loopback, the metrics endpoint
//! scraped over HTTP and parsed by the Prometheus project's own text parser
//! (Python `prometheus_client.parser`, installed by scripts/pyclients.sh),
//! SIGTERM drains (on one node and in a cluster behind a real
//! `redis-server`), and the rate limits. Every wait is bounded; servers and
//! Redis are killed when a test ends.

mod common;

use common::redis::Redis;
use common::wsproc::{connect, free_port, spawn_server, Client, Proc};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tungstenite::Message;

const OPS: &str = "tests/ws/ops.snow";
const CLUSTER: &str = "tests/ws/cluster.snow";

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---- the server's stdout, the clients ----

/// The server's stdout lines, read by a thread of their own.
struct Lines(mpsc::Receiver<String>, Vec<String>);

impl Lines {
    fn of(p: &mut Proc) -> Lines {
        let out = p.child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx, Vec::new())
    }

    /// Waits (at most `limit`) until `n` lines satisfy `pred`; answers
    /// them.
    fn wait(&mut self, n: usize, limit: Duration, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let hits: Vec<String> = self.1.iter().filter(|l| pred(l)).cloned().collect();
            if hits.len() >= n {
                return hits;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(l) => self.1.push(l),
                Err(_) => panic!(
                    "{} of {n} lines after {limit:?}; output:\n{}",
                    hits.len(),
                    self.1.join("\n")
                ),
            }
        }
    }

    /// Everything the server printed, once it exited.
    fn rest(mut self) -> Vec<String> {
        while let Ok(l) = self.0.recv_timeout(Duration::from_secs(5)) {
            self.1.push(l);
        }
        self.1
    }
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

/// A client of the ops server and its id (from the welcome).
fn client(port: u16, path: &str) -> (Client, i64) {
    let mut ws = connect(port, path);
    let w = text(&mut ws);
    let id = w
        .strip_prefix("welcome ")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad welcome {w:?}"));
    (ws, id)
}

/// The close frame's code and reason (1006 when the socket just ends);
/// the client's answer to it is sent, ending the close handshake.
fn close_of(ws: &mut Client) -> (u16, String) {
    let got = loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => break (u16::from(f.code), f.reason.to_string()),
            Ok(Message::Close(None)) => break (1005, String::new()),
            Ok(_) => continue,
            Err(_) => return (1006, String::new()),
        }
    };
    let _ = ws.flush();
    got
}

fn kill(p: &Proc, sig: i32) {
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, sig) }, 0);
}

/// Waits (at most `limit`) for the server to exit; its exit code.
fn exit_code(p: &mut Proc, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = p.child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A TCP connection to loopback `port` from the source address `src`
/// (127.0.0.2 is this machine too: the whole 127/8 is loopback).
fn tcp_from(src: [u8; 4], port: u16) -> TcpStream {
    use std::os::fd::FromRawFd;
    let addr = |ip: [u8; 4], port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_be_bytes(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: socket(2), bind(2), connect(2) on a descriptor we own, handed
    // to TcpStream (which closes it).
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket");
        let s = TcpStream::from_raw_fd(fd);
        let a = addr(src, 0);
        assert_eq!(
            libc::bind(fd, &a as *const _ as *const libc::sockaddr, len),
            0,
            "bind"
        );
        let b = addr([127, 0, 0, 1], port);
        assert_eq!(
            libc::connect(fd, &b as *const _ as *const libc::sockaddr, len),
            0,
            "connect"
        );
        s
    }
}

/// An upgrade request from `src` with `extra` header lines: the HTTP status
/// of the answer and, for a 101, the socket (to keep the connection open).
fn upgrade_from(src: [u8; 4], port: u16, extra: &str) -> (u16, TcpStream) {
    let mut s = tcp_from(src, port);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, s)
}

/// A raw HTTP exchange with loopback `port`: everything the server sent.
fn http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

// ---- scraping ----

/// The venv's python with `prometheus_client` (made once per test binary).
fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new(repo().join("scripts/pyclients.sh"))
            .output()
            .expect("running scripts/pyclients.sh");
        assert!(
            out.status.success(),
            "scripts/pyclients.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// One scrape, as the Prometheus parser read it.
#[derive(Debug, Default)]
struct Scrape {
    /// Family (as declared) -> type.
    families: BTreeMap<String, String>,
    /// `name{labels}` -> value.
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn get(&self, sample: &str) -> f64 {
        *self
            .samples
            .get(sample)
            .unwrap_or_else(|| panic!("no sample {sample} in {:#?}", self.samples))
    }

    /// Every sample of a counter (and of a histogram, whose buckets,
    /// count and sum only grow too).
    fn monotonic(&self) -> impl Iterator<Item = (&String, &f64)> {
        self.samples.iter().filter(|(k, _)| {
            let name = k.split('{').next().unwrap();
            name.ends_with("_total")
                || ["_bucket", "_count", "_sum"].iter().any(|s| {
                    name.strip_suffix(s)
                        .is_some_and(|f| self.families.get(f).is_some_and(|t| t == "histogram"))
                })
        })
    }
}

/// `GET /metrics` on `port`, parsed by `prometheus_client.parser`.
fn scrape(port: u16) -> Scrape {
    let response = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let mut child = Command::new(python())
        .arg(repo().join("tests/ws/prom_parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client.parser: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut s = Scrape::default();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut it = line.splitn(3, ' ');
        match (it.next(), it.next(), it.next()) {
            (Some("family"), Some(name), Some(ty)) => {
                s.families.insert(name.to_string(), ty.to_string());
            }
            (Some("sample"), Some(name), Some(v)) => {
                s.samples.insert(name.to_string(), v.parse().unwrap());
            }
            _ => panic!("bad line {line:?}"),
        }
    }
    s
}

/// Scrapes until `sample` is `want` (at most 5 s).
fn scrape_until(port: u16, sample: &str, want: f64) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = scrape(port);
        if s.get(sample) == want {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{sample} is {}, not {want}",
            s.get(sample)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// No counter (or histogram series) went down from `a` to `b`.
fn never_decrease(a: &Scrape, b: &Scrape) {
    let mut n = 0;
    for (k, v) in a.monotonic() {
        let w = b.samples.get(k).copied().unwrap_or(f64::NAN);
        assert!(w >= *v, "{k} went from {v} to {w}");
        n += 1;
    }
    assert!(n > 30, "only {n} counter samples");
}

/// The ops server with the metrics endpoint on a free port, `env` added.
fn ops_with_metrics(env: &[(&str, &str)]) -> (Proc, u16) {
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    let mut all = vec![("SNOW_WS_METRICS_ADDR", maddr.as_str())];
    all.extend_from_slice(env);
    (spawn_server(OPS, &all, Stdio::piped()), mport)
}

// ---- metrics ----

#[test]
fn metrics_count_what_the_clients_did_and_parse_as_prometheus_text() {
    let (mut p, mport) = ops_with_metrics(&[
        ("SNOW_WS_MAX_CONNECTIONS", "4"),
        ("SNOW_WS_CALLBACK_TIMEOUT_MS", "500"),
    ]);
    let mut out = Lines::of(&mut p);
    let s0 = scrape(mport);
    assert_eq!(s0.get("snow_ws_connections_open{}"), 0.0);
    assert_eq!(s0.get("snow_ws_connections_accepted_total{}"), 0.0);
    for (name, ty) in [
        ("snow_ws_connections_open", "gauge"),
        ("snow_ws_connections_closed_total", "counter"),
        ("snow_ws_upgrades_refused_total", "counter"),
        ("snow_ws_messages_received_total", "counter"),
        ("snow_ws_messages_sent_total", "counter"),
        ("snow_ws_received_bytes_total", "counter"),
        ("snow_ws_sent_bytes_total", "counter"),
        ("snow_ws_rooms", "gauge"),
        ("snow_ws_outbound_queue_bytes", "gauge"),
        ("snow_ws_connection_queue_bytes", "histogram"),
        ("snow_callback_panics_total", "counter"),
        ("snow_callback_timeouts_total", "counter"),
        ("snow_services", "gauge"),
        ("snow_heap_bytes", "gauge"),
        ("snow_gc_runs_total", "counter"),
    ] {
        assert_eq!(
            s0.families.get(name).map(String::as_str),
            Some(ty),
            "{name}"
        );
    }

    let (mut a, ida) = client(p.port, "/room/lobby");
    let (mut b, idb) = client(p.port, "/");
    let (mut c, idc) = client(p.port, "/");
    for i in 1..=5 {
        send(&mut a, &format!("hello {i}"));
        assert_eq!(text(&mut a), format!("echo hello {i}"));
    }
    send(&mut a, "say lobby hi");
    assert_eq!(text(&mut a), "hi");
    assert_eq!(text(&mut a), "said 0");
    // (The gauge counts a connection once its on_connect returned, just
    // after it sent the welcome.)
    let during = scrape_until(mport, "snow_ws_connections_open{}", 3.0);
    assert_eq!(during.get("snow_ws_rooms{}"), 1.0);

    // Refused before the upgrade: a foreign origin, a broken upgrade.
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, "Origin: http://evil.example\r\n");
    assert_eq!(st, 403);
    let r = http(
        p.port,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    // The fourth connection fills the cap; a fifth gets 503.
    let (mut d, idd) = client(p.port, "/");
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, "");
    assert_eq!(st, 503);

    // Closes: a panic (1011), the client's 1000 and 4001, the server's 3000,
    // a callback that runs past the time limit (1011).
    send(&mut b, "panic");
    assert_eq!(close_of(&mut b).0, 1011);
    c.close(Some(tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "".into(),
    }))
    .unwrap();
    assert_eq!(close_of(&mut c).0, 1000);
    d.close(Some(tungstenite::protocol::CloseFrame {
        code: 4001.into(),
        reason: "".into(),
    }))
    .unwrap();
    assert_eq!(close_of(&mut d).0, 4001);
    send(&mut a, "close 3000");
    assert_eq!(close_of(&mut a).0, 3000);
    out.wait(4, Duration::from_secs(10), |l| l.starts_with("closed "));
    let (mut f, idf) = client(p.port, "/");
    send(&mut f, "spin");
    assert_eq!(close_of(&mut f).0, 1011);
    let closed = out.wait(5, Duration::from_secs(10), |l| l.starts_with("closed "));
    // Rejected by on_connect (after the upgrade): 1008, and no on_close.
    let mut rejected = connect(p.port, "/reject");
    assert_eq!(close_of(&mut rejected).0, 1008);
    for (id, code) in [
        (ida, 3000),
        (idb, 1011),
        (idc, 1000),
        (idd, 4001),
        (idf, 1011),
    ] {
        assert!(
            closed
                .iter()
                .any(|l| l.starts_with(&format!("closed {id} {code} "))),
            "{id} {code}: {closed:?}"
        );
    }

    let s1 = scrape(mport);
    for (sample, want) in [
        ("snow_ws_connections_open{}", 0.0),
        ("snow_ws_connections_accepted_total{}", 5.0),
        ("snow_ws_connections_rejected_total{}", 1.0),
        ("snow_ws_connections_closed_total{code=\"1000\"}", 1.0),
        ("snow_ws_connections_closed_total{code=\"1011\"}", 2.0),
        ("snow_ws_connections_closed_total{code=\"3xxx\"}", 1.0),
        ("snow_ws_connections_closed_total{code=\"4xxx\"}", 1.0),
        ("snow_ws_connections_closed_total{code=\"1001\"}", 0.0),
        ("snow_ws_upgrades_refused_total{reason=\"origin\"}", 1.0),
        ("snow_ws_upgrades_refused_total{reason=\"cap\"}", 1.0),
        (
            "snow_ws_upgrades_refused_total{reason=\"bad_request\"}",
            1.0,
        ),
        ("snow_ws_upgrades_refused_total{reason=\"per_ip\"}", 0.0),
        ("snow_ws_upgrades_refused_total{reason=\"draining\"}", 0.0),
        // a: 5 hellos, say, close; b: panic; f: spin.
        ("snow_ws_messages_received_total{}", 9.0),
        // 5 welcomes, 5 echoes, the broadcast and its answer.
        ("snow_ws_messages_sent_total{}", 12.0),
        ("snow_callback_panics_total{}", 1.0),
        ("snow_callback_timeouts_total{}", 1.0),
        ("snow_ws_rooms{}", 0.0),
        ("snow_ws_rate_limited_total{}", 0.0),
        ("snow_services{}", 0.0),
    ] {
        assert_eq!(s1.get(sample), want, "{sample}");
    }
    for bytes in [
        "snow_ws_received_bytes_total{}",
        "snow_ws_sent_bytes_total{}",
        "snow_heap_bytes{}",
    ] {
        assert!(s1.get(bytes) > 0.0, "{bytes}");
    }
    assert!(s1.get("snow_ws_connection_queue_bytes_count{}") >= 3.0);
    assert!(s1.get("process_resident_memory_bytes{}") > 1e6);
    never_decrease(&s0, &during);
    never_decrease(&during, &s1);
    // More traffic, and another scrape: still nothing goes down.
    let (mut g, _) = client(p.port, "/room/x");
    for _ in 0..20 {
        send(&mut g, "say x again");
    }
    for _ in 0..40 {
        text(&mut g);
    }
    let s2 = scrape(mport);
    never_decrease(&s1, &s2);
    assert_eq!(
        s2.get("snow_ws_messages_received_total{}"),
        s1.get("snow_ws_messages_received_total{}") + 20.0
    );
    assert_eq!(
        s2.get("snow_ws_messages_sent_total{}"),
        s1.get("snow_ws_messages_sent_total{}") + 41.0
    );
}

#[test]
fn metrics_are_served_on_their_own_address_only() {
    let (p, mport) = ops_with_metrics(&[]);
    // The WebSocket port has no /metrics.
    let r = http(p.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 426 "), "{r}");
    assert!(!r.contains("snow_"), "{r}");
    // The metrics address answers only /metrics, only GET and HEAD.
    let r = http(mport, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    let r = http(
        mport,
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 405 "), "{r}");
    let r = http(mport, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("\r\n\r\n"),
        "{r}"
    );
    let r = http(mport, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.contains("# TYPE snow_ws_connections_open gauge"), "{r}");
    // And no WebSocket on the metrics address.
    let r = http(
        mport,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
}

#[test]
fn a_metrics_address_in_use_is_a_clear_error_with_status_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(common::wsproc::built(OPS))
        .env("PORT", free_port().to_string())
        .env("SNOW_WS_BIND", "127.0.0.1")
        .env("SNOW_WS_METRICS_ADDR", &addr)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "snow: cannot serve metrics on {addr} (SNOW_WS_METRICS_ADDR): "
        )),
        "{err}"
    );
}

// ---- draining ----

#[test]
fn sigterm_drains_200_clients_with_1012_runs_on_close_and_exits_0_in_time() {
    let (mut p, mport) = ops_with_metrics(&[("SNOW_WS_DRAIN_MS", "5000")]);
    let out = Lines::of(&mut p);
    let mut clients: Vec<(Client, i64)> = (0..200).map(|_| client(p.port, "/room/all")).collect();
    scrape_until(mport, "snow_ws_connections_open{}", 200.0);
    let t0 = Instant::now();
    kill(&p, libc::SIGTERM);
    for (ws, _) in clients.iter_mut() {
        assert_eq!(close_of(ws), (1012, "server restarting".to_string()));
    }
    drop(clients);
    let code = exit_code(&mut p, Duration::from_secs(6));
    let took = t0.elapsed();
    assert_eq!(code, Some(0), "after {took:?}");
    assert!(took < Duration::from_millis(5000), "took {took:?}");
    let lines = out.rest();
    let closed: Vec<&String> = lines.iter().filter(|l| l.starts_with("closed ")).collect();
    assert_eq!(closed.len(), 200, "{lines:?}");
    assert!(closed.iter().all(|l| l.contains(" 1012 ")), "{closed:?}");
}

#[test]
fn a_drain_ends_in_time_even_when_a_client_never_answers_the_close() {
    // The close handshake may take 5 s (SNOW_WS_CLOSE_TIMEOUT_MS); the
    // drain, 2 s: the silent client is ended and its on_close runs in time.
    let mut p = spawn_server(OPS, &[("SNOW_WS_DRAIN_MS", "2000")], Stdio::piped());
    let out = Lines::of(&mut p);
    let (mut polite, idp) = client(p.port, "/");
    let (_silent, ids) = client(p.port, "/");
    let t0 = Instant::now();
    kill(&p, libc::SIGTERM);
    assert_eq!(close_of(&mut polite).0, 1012);
    let code = exit_code(&mut p, Duration::from_secs(4));
    let took = t0.elapsed();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_millis(2000), "took {took:?}");
    let lines = out.rest();
    for id in [idp, ids] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("closed {id} 1012 "))),
            "{id}: {lines:?}"
        );
    }
}

#[test]
fn sigint_still_closes_with_1001() {
    let mut p = spawn_server(OPS, &[], Stdio::piped());
    let mut out = Lines::of(&mut p);
    let (mut a, ida) = client(p.port, "/");
    kill(&p, libc::SIGINT);
    assert_eq!(close_of(&mut a), (1001, "server shutting down".to_string()));
    assert_eq!(exit_code(&mut p, Duration::from_secs(10)), Some(0));
    out.wait(1, Duration::from_secs(5), |l| {
        l.starts_with(&format!("closed {ida} 1001 "))
    });
}

/// A node of the cluster behind `redis` (tests/ws/cluster.snow), `env` added.
fn cluster_node(redis: &Redis, env: &[(&str, &str)]) -> Proc {
    let url = redis.url();
    let mut all = vec![("SNOW_WS_REDIS_URL", url.as_str())];
    all.extend_from_slice(env);
    spawn_server(CLUSTER, &all, Stdio::null())
}

/// Asks `count room` on `ws` until it answers `n` (at most `limit`); how
/// long that took.
fn count_until(ws: &mut Client, room: &str, n: usize, limit: Duration) -> Duration {
    let t0 = Instant::now();
    let want = format!("count {room} {n}");
    loop {
        send(ws, &format!("count {room}"));
        let got = loop {
            let m = text(ws);
            if m.starts_with("count ") {
                break m;
            }
        };
        if got == want {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < limit,
            "still {got:?} after {limit:?} (want {want:?})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_draining_cluster_node_says_goodbye_first_and_the_others_drop_its_members_at_once() {
    let redis = Redis::start();
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    // The node timeout is 5 s: a drop within 1 s is the goodbye, not expiry.
    let mut a = cluster_node(
        &redis,
        &[
            ("SNOW_WS_DRAIN_MS", "3000"),
            ("SNOW_WS_METRICS_ADDR", &maddr),
        ],
    );
    let b = cluster_node(&redis, &[]);
    let (mut a1, _) = client(a.port, "/room/r");
    let (mut a2, _) = client(a.port, "/room/r");
    let (mut b1, _) = client(b.port, "/room/r");
    count_until(&mut b1, "r", 3, Duration::from_secs(5));

    // Node A's cluster metrics: connected, one other node, heartbeats timed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        let s = scrape(mport);
        if s.get("snow_ws_cluster_lag_seconds_count{}") >= 2.0 {
            break s;
        }
        assert!(Instant::now() < deadline, "no heartbeat came back: {s:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(s.get("snow_ws_cluster_redis_connected{}"), 1.0);
    assert_eq!(s.get("snow_ws_cluster_nodes{}"), 1.0);
    assert_eq!(s.get("snow_ws_cluster_redis_reconnects_total{}"), 0.0);
    assert_eq!(s.families["snow_ws_cluster_lag_seconds"], "histogram");
    assert!(s.get("snow_ws_cluster_lag_seconds_sum{}") < 1.0, "{s:?}");

    kill(&a, libc::SIGTERM);
    let dropped = count_until(&mut b1, "r", 1, Duration::from_secs(1));
    assert_eq!(close_of(&mut a1).0, 1012);
    assert_eq!(close_of(&mut a2).0, 1012);
    assert_eq!(exit_code(&mut a, Duration::from_secs(4)), Some(0));
    // B never took A back (no leave or heartbeat of A after its goodbye).
    std::thread::sleep(Duration::from_millis(1500));
    count_until(&mut b1, "r", 1, Duration::from_millis(1));
    eprintln!("node B dropped node A's members {dropped:?} after SIGTERM");
}

// ---- rate limits ----

#[test]
fn a_client_over_the_message_rate_is_closed_1008_and_its_excess_never_reaches_on_message() {
    let (mut p, mport) = ops_with_metrics(&[("SNOW_WS_MAX_MESSAGES_PER_SEC", "20")]);
    let mut out = Lines::of(&mut p);
    // A client at the limit (10 at once, then one every 50 ms for 2 s), at
    // the same time as the flooder.
    let port = p.port;
    let steady = std::thread::spawn(move || {
        let (mut ws, id) = client(port, "/");
        for i in 0..10 {
            send(&mut ws, &format!("s{i}"));
        }
        for i in 10..50 {
            std::thread::sleep(Duration::from_millis(50));
            send(&mut ws, &format!("s{i}"));
        }
        for i in 0..50 {
            assert_eq!(text(&mut ws), format!("echo s{i}"));
        }
        std::thread::sleep(Duration::from_millis(100));
        send(&mut ws, "n");
        assert_eq!(text(&mut ws), "n 51");
        id
    });
    let (mut fast, idf) = client(p.port, "/");
    let t0 = Instant::now();
    for i in 0..200 {
        send(&mut fast, &format!("m{i}"));
    }
    let mut echoed = 0;
    let close = loop {
        match fast.read() {
            Ok(Message::Text(t)) => {
                assert_eq!(
                    t.as_str(),
                    format!("echo m{echoed}"),
                    "in order, none skipped"
                );
                echoed += 1;
            }
            Ok(Message::Close(Some(f))) => break (u16::from(f.code), f.reason.to_string()),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    };
    let _ = fast.flush();
    let took = t0.elapsed().as_secs_f64();
    assert_eq!(close, (1008, "message rate limit exceeded".to_string()));
    // The burst, plus what the time it took earned.
    assert!(echoed >= 20, "{echoed}");
    assert!(
        (echoed as f64) <= 20.0 + 20.0 * took + 1.0,
        "{echoed} in {took} s"
    );
    // What reached on_message is exactly what was echoed.
    let line = out.wait(1, Duration::from_secs(5), |l| {
        l.starts_with(&format!("closed {idf} "))
    });
    assert_eq!(line[0], format!("closed {idf} 1008 n={echoed}"));
    let ids = steady.join().unwrap();
    assert!(
        !out.1
            .iter()
            .any(|l| l.starts_with(&format!("closed {ids} "))),
        "the steady client was closed: {:?}",
        out.1
    );
    let s = scrape(mport);
    assert_eq!(s.get("snow_ws_rate_limited_total{}"), 1.0);
    assert_eq!(
        s.get("snow_ws_connections_closed_total{code=\"1008\"}"),
        1.0
    );
    assert_eq!(
        s.get("snow_ws_messages_received_total{}"),
        (echoed + 51) as f64
    );
}

#[test]
fn one_upgrade_over_the_per_address_limit_gets_429_and_other_addresses_connect() {
    let (p, mport) = ops_with_metrics(&[("SNOW_WS_MAX_CONNECTIONS_PER_IP", "3")]);
    let mut three: Vec<TcpStream> = (0..3)
        .map(|_| {
            let (st, s) = upgrade_from([127, 0, 0, 1], p.port, "");
            assert_eq!(st, 101);
            s
        })
        .collect();
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, "");
    assert_eq!(st, 429, "the fourth from 127.0.0.1");
    let (st, _other) = upgrade_from([127, 0, 0, 2], p.port, "");
    assert_eq!(st, 101, "127.0.0.2 is another address");
    // X-Forwarded-For is not trusted by default: still 127.0.0.1.
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, "X-Forwarded-For: 203.0.113.9\r\n");
    assert_eq!(st, 429);
    // One of the three goes: 127.0.0.1 may connect again.
    drop(three.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    let _again = loop {
        let (st, s) = upgrade_from([127, 0, 0, 1], p.port, "");
        if st == 101 {
            break s;
        }
        assert_eq!(st, 429);
        assert!(
            Instant::now() < deadline,
            "the address's slot never came back"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let s = scrape(mport);
    assert!(s.get("snow_ws_upgrades_refused_total{reason=\"per_ip\"}") >= 2.0);
}

#[test]
fn behind_a_trusted_proxy_the_address_is_x_forwarded_for_s_last_hop() {
    let p = spawn_server(
        OPS,
        &[
            ("SNOW_WS_MAX_CONNECTIONS_PER_IP", "1"),
            ("SNOW_WS_TRUST_PROXY", "on"),
        ],
        Stdio::null(),
    );
    let xff = |v: &str| format!("X-Forwarded-For: {v}\r\n");
    let (st, _a) = upgrade_from([127, 0, 0, 1], p.port, &xff("198.51.100.1, 203.0.113.1"));
    assert_eq!(st, 101);
    let (st, _b) = upgrade_from([127, 0, 0, 1], p.port, &xff("203.0.113.2"));
    assert_eq!(st, 101, "another last hop is another address");
    // What the client wrote before the proxy's entry does not matter.
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, &xff("192.0.2.50, 203.0.113.1"));
    assert_eq!(st, 429);
    // Without the header: the socket's address.
    let (st, _c) = upgrade_from([127, 0, 0, 1], p.port, "");
    assert_eq!(st, 101);
    let (st, _) = upgrade_from([127, 0, 0, 1], p.port, "");
    assert_eq!(st, 429);
}
