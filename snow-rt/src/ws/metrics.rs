//! The metrics endpoint (`SNOW_WS_METRICS_ADDR`, docs/WS.md "Metrics",
//! docs/OPERATIONS.md): Prometheus text format (0.0.4) at `/metrics` on its
//! own address, never on the WebSocket port.
//!
//! It runs on a thread of its own (`snow-metrics`, a current-thread tokio
//! runtime), so a scrape never takes a WebSocket worker. A scrape reads:
//! the server's per-thread counters summed (`counters.rs`: written on the
//! hot path without a lock), the core's numbers (`rt::core_metrics`), and
//! a few gauges read on the spot (the room count and every open
//! connection's queue size, one shard lock at a time, each held only to
//! copy handles or read a length; the cluster node's state). The text is
//! written by `prometheus-client` (the Prometheus project's Rust client:
//! its `Collector` and its Prometheus text encoder, which writes `# HELP`
//! and `# TYPE` for every family and escapes help and label values).

use super::cluster;
use super::conn::{self, ROOMS};
use super::counters::{self, close_code_label, Counter, Histogram, CLOSE_CODES, REFUSALS};
use super::handshake::{self, Head};
use super::out_queue;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A scrape's request head may be this large.
const MAX_REQUEST: usize = 8 << 10;
/// A scrape's connection may take this long (request and response).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Buckets of `snow_ws_connection_queue_bytes`.
const QUEUE_BUCKETS: &[f64] = &[
    0.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

/// Every open connection's queue, observed at each scrape.
static QUEUES: LazyLock<Histogram> = LazyLock::new(|| Histogram::new(QUEUE_BUCKETS));

/// Serves the metrics on `addr` (`host:port`) from a thread of its own and
/// turns counting on; once per process (later calls answer `Ok`). `Err`:
/// the message for stderr when the address cannot be listened on.
pub(crate) fn start(addr: &str) -> Result<(), String> {
    static STARTED: OnceLock<()> = OnceLock::new();
    if STARTED.get().is_some() {
        return Ok(());
    }
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("cannot serve metrics on {addr} (SNOW_WS_METRICS_ADDR): {e}"))?;
    counters::enable();
    let _ = STARTED.set(());
    std::thread::Builder::new()
        .name("snow-metrics".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                eprintln!("snow: cannot start the metrics endpoint's runtime");
                return;
            };
            rt.block_on(serve(listener));
        })
        .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
    Ok(())
}

async fn serve(listener: std::net::TcpListener) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        eprintln!("snow: cannot serve metrics");
        return;
    };
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(tcp)).await;
                });
            }
            // Out of descriptors: wait instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// One request: `GET /metrics` (or `HEAD`) gets the metrics, anything
/// else a short error; the connection is closed after the response.
async fn answer(tcp: tokio::net::TcpStream) {
    let (mut rd, mut wr) = tcp.into_split();
    let response = match handshake::read_head(&mut rd, MAX_REQUEST).await {
        Head::Complete(head, _) => {
            let path = head.target.split('?').next().unwrap_or("");
            match (head.method.as_str(), path) {
                ("GET" | "HEAD", "/metrics") => {
                    let body = render();
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                        prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                        body.len()
                    )
                    .into_bytes();
                    if head.method == "GET" {
                        r.extend_from_slice(body.as_bytes());
                    }
                    r
                }
                (_, "/metrics") => {
                    handshake::error_response(405, &[("Allow", "GET, HEAD")], "use GET\n")
                }
                _ => handshake::error_response(404, &[], "metrics are at /metrics\n"),
            }
        }
        Head::TooLarge => handshake::error_response(431, &[], "request head too large\n"),
        Head::Malformed => handshake::error_response(400, &[], "malformed request\n"),
        Head::Gone => return,
    };
    if wr.write_all(&response).await.is_ok() {
        let _ = wr.shutdown().await;
    }
}

/// The metrics, as Prometheus text.
pub(crate) fn render() -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snow));
    let mut out = String::with_capacity(8 << 10);
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// Everything the runtime measures, read at each scrape.
#[derive(Debug)]
struct Snow;

/// One family without labels.
fn one(
    enc: &mut DescriptorEncoder,
    name: &'static str,
    help: &str,
    metric: impl EncodeMetric,
) -> fmt::Result {
    let m = enc.encode_descriptor(name, help, None, metric.metric_type())?;
    metric.encode(m)
}

fn counter(enc: &mut DescriptorEncoder, name: &'static str, help: &str, v: u64) -> fmt::Result {
    one(enc, name, help, ConstCounter::new(v))
}

fn gauge(enc: &mut DescriptorEncoder, name: &'static str, help: &str, v: i64) -> fmt::Result {
    one(enc, name, help, ConstGauge::new(v))
}

/// One counter family with one label.
fn labelled(
    enc: &mut DescriptorEncoder,
    name: &'static str,
    help: &str,
    label: &'static str,
    values: impl IntoIterator<Item = (String, u64)>,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in values {
        let labels = [(label, value.as_str())];
        ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

fn histogram(
    enc: &mut DescriptorEncoder,
    name: &'static str,
    help: &str,
    (sum, count, buckets): (f64, u64, Vec<(f64, u64)>),
) -> fmt::Result {
    let mut m: MetricEncoder = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
    m.encode_histogram::<[(&str, &str); 0]>(sum, count, &buckets, None::<&HashMap<_, _>>)
}

/// The process's resident set size (`/proc/self/statm`), 0 if unknown.
fn resident_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}

impl Collector for Snow {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let e = &mut enc;
        let c = counters::snapshot();
        let core = crate::rt::core_metrics();

        gauge(
            e,
            "snow_ws_connections_open",
            "WebSocket connections accepted by on_connect and not closed yet.",
            c.open,
        )?;
        counter(
            e,
            "snow_ws_connections_accepted",
            "WebSocket connections on_connect accepted.",
            c.get(Counter::Accepted),
        )?;
        counter(
            e,
            "snow_ws_connections_rejected",
            "Upgraded connections on_connect rejected (or panicked in): closed 1008 (1011), never on_close.",
            c.get(Counter::Rejected),
        )?;
        labelled(
            e,
            "snow_ws_connections_closed",
            "Accepted connections closed, by the close code on_close received (1000-1015; 3xxx and 4xxx: application codes; other).",
            "code",
            (0..CLOSE_CODES).map(|i| (close_code_label(i), c.closed(i))),
        )?;
        labelled(
            e,
            "snow_ws_upgrades_refused",
            "Upgrade requests answered with an HTTP error before the upgrade, by reason: origin (403), cap (503, SNOW_WS_MAX_CONNECTIONS), bad_request (400, 426, 431), per_ip (429, SNOW_WS_MAX_CONNECTIONS_PER_IP), draining (503 while shutting down).",
            "reason",
            REFUSALS.iter().map(|(r, l)| (l.to_string(), c.refused(*r))),
        )?;
        counter(
            e,
            "snow_ws_rate_limited",
            "Connections closed (1008) for sending more messages than SNOW_WS_MAX_MESSAGES_PER_SEC.",
            c.get(Counter::RateLimited),
        )?;
        counter(
            e,
            "snow_ws_messages_received",
            "Data messages received from clients and handed to on_message/on_frame (text and binary, a fragmented message once).",
            c.get(Counter::MessagesReceived),
        )?;
        counter(
            e,
            "snow_ws_received_bytes",
            "Bytes read from WebSocket connections after the upgrade (frames as sent, control frames included).",
            c.get(Counter::ReceivedBytes),
        )?;
        counter(
            e,
            "snow_ws_messages_sent",
            "Data messages queued for connections (a broadcast counts one per member it was queued for).",
            c.get(Counter::MessagesSent),
        )?;
        counter(
            e,
            "snow_ws_sent_bytes",
            "Bytes written to WebSocket connections after the upgrade (every frame, compressed or not).",
            c.get(Counter::SentBytes),
        )?;
        gauge(
            e,
            "snow_ws_rooms",
            "Rooms with at least one member on this node.",
            ROOMS.room_total() as i64,
        )?;
        gauge(
            e,
            "snow_ws_outbound_queue_bytes",
            "Bytes waiting in every connection's outbound queue together (a frame shared by several queues once).",
            out_queue::outbound_bytes() as i64,
        )?;
        for conn in conn::open_connections() {
            QUEUES.observe(conn.queued_bytes() as f64);
        }
        histogram(
            e,
            "snow_ws_connection_queue_bytes",
            "Each open connection's outbound queue (bytes queued and being written), observed at every scrape.",
            QUEUES.read(),
        )?;

        gauge(
            e,
            "snow_heap_bytes",
            "Bytes of the Snow heaps (every region's chunks and large objects, and the chunks threads keep for reuse).",
            core.heap_bytes as i64,
        )?;
        counter(
            e,
            "snow_gc_runs",
            "Garbage collections of any region.",
            core.gc_runs,
        )?;
        counter(
            e,
            "snow_callback_panics",
            "Callbacks (server callbacks, timer ticks, service handlers) that ended with a panic, a stack overflow or over the heap limit.",
            core.callback_panics,
        )?;
        counter(
            e,
            "snow_callback_timeouts",
            "Callbacks stopped by SNOW_WS_CALLBACK_TIMEOUT_MS.",
            core.callback_timeouts,
        )?;
        gauge(e, "snow_services", "Services running.", core.services)?;
        gauge(
            e,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            resident_bytes() as i64,
        )?;

        if let Some(n) = cluster::node() {
            let s = n.stats();
            gauge(
                e,
                "snow_ws_cluster_redis_connected",
                "1 while this node's Redis session is up, 0 during an outage.",
                s.connected as i64,
            )?;
            gauge(
                e,
                "snow_ws_cluster_nodes",
                "Other nodes of the cluster this node hears from.",
                s.nodes as i64,
            )?;
            counter(
                e,
                "snow_ws_cluster_redis_reconnects",
                "Times this node connected to Redis again after losing it.",
                s.reconnects,
            )?;
            histogram(
                e,
                "snow_ws_cluster_lag_seconds",
                "Time a cluster message takes from this node through Redis back to a subscriber (this node's heartbeat, once a second, timed until it comes back).",
                s.lag,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_and_type_and_counters_end_in_total() {
        let text = render();
        let mut helped = std::collections::BTreeSet::new();
        let mut typed = std::collections::BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                helped.insert(rest.split(' ').next().unwrap().to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                typed.insert(
                    it.next().unwrap().to_string(),
                    it.next().unwrap().to_string(),
                );
            } else {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| {
                        name.strip_suffix(s)
                            .filter(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
                    })
                    .unwrap_or(name);
                assert!(typed.contains_key(family), "{line}: no # TYPE before it");
            }
        }
        assert_eq!(helped, typed.keys().cloned().collect());
        for (name, ty) in &typed {
            assert!(
                name.starts_with("snow_") || name.starts_with("process_"),
                "{name}"
            );
            assert_eq!(
                ty == "counter",
                name.ends_with("_total"),
                "{name} is a {ty}"
            );
        }
        for want in [
            "snow_ws_connections_open",
            "snow_ws_connections_closed_total",
            "snow_ws_upgrades_refused_total",
            "snow_ws_messages_received_total",
            "snow_ws_sent_bytes_total",
            "snow_ws_connection_queue_bytes",
            "snow_heap_bytes",
            "snow_gc_runs_total",
            "snow_services",
        ] {
            assert!(typed.contains_key(want), "{want} missing:\n{text}");
        }
        assert!(text.contains("snow_ws_connections_closed_total{code=\"1012\"} "));
        assert!(text.contains("snow_ws_upgrades_refused_total{reason=\"per_ip\"} "));
        assert!(text.contains("snow_ws_connection_queue_bytes_bucket{le=\"+Inf\"} "));
    }
}
