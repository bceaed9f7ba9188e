//! Server limits and their environment variables (documented in docs/WS.md).

use std::time::Duration;

/// Limits and settings of one server; [`ServerConfig::from_env`] reads the
/// `SNOW_WS_*` environment variables, tests build it directly.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    /// Address to bind (`SNOW_WS_BIND`, default `0.0.0.0`).
    pub bind: String,
    pub port: u16,
    /// Largest accepted message (and frame), bytes: larger closes with 1009.
    pub max_message: usize,
    /// Outbound queue limit per connection, bytes: past it, close with 1008.
    pub max_queue: usize,
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    /// Time a client has to complete the TLS and WebSocket handshakes.
    pub handshake_timeout: Duration,
    /// Time the close handshake may take before the socket is dropped.
    pub close_timeout: Duration,
    /// Largest upgrade request (request line and headers), bytes; a larger
    /// one fails the handshake (the socket is closed).
    pub max_request: usize,
    /// Tokio worker threads (default: available cores).
    pub workers: usize,
}

pub(crate) const DEFAULT_MAX_MESSAGE: usize = 16 << 20;
pub(crate) const DEFAULT_MAX_QUEUE: usize = 16 << 20;
/// tungstenite's own fixed limit on the request head is also 64 KiB.
pub(crate) const DEFAULT_MAX_REQUEST: usize = 64 << 10;

impl ServerConfig {
    /// Defaults for `port`, without looking at the environment.
    pub(crate) fn defaults(port: u16) -> ServerConfig {
        ServerConfig {
            bind: "0.0.0.0".to_string(),
            port,
            max_message: DEFAULT_MAX_MESSAGE,
            max_queue: DEFAULT_MAX_QUEUE,
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            max_request: DEFAULT_MAX_REQUEST,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// The defaults overridden by the `SNOW_WS_*` environment variables. An
    /// unparsable value is reported on stderr and ignored.
    pub(crate) fn from_env(port: u16) -> ServerConfig {
        let mut c = ServerConfig::defaults(port);
        if let Ok(b) = std::env::var("SNOW_WS_BIND") {
            if !b.trim().is_empty() {
                c.bind = b.trim().to_string();
            }
        }
        if let Some(n) = env_num("SNOW_WS_MAX_MESSAGE_BYTES") {
            c.max_message = n as usize;
        }
        if let Some(n) = env_num("SNOW_WS_MAX_QUEUE_BYTES") {
            c.max_queue = n as usize;
        }
        if let Some(n) = env_num("SNOW_WS_PING_INTERVAL_MS") {
            c.ping_interval = Duration::from_millis(n);
        }
        if let Some(n) = env_num("SNOW_WS_PONG_TIMEOUT_MS") {
            c.pong_timeout = Duration::from_millis(n);
        }
        if let Some(n) = env_num("SNOW_WS_HANDSHAKE_TIMEOUT_MS") {
            c.handshake_timeout = Duration::from_millis(n);
        }
        if let Some(n) = env_num("SNOW_WS_CLOSE_TIMEOUT_MS") {
            c.close_timeout = Duration::from_millis(n);
        }
        if let Some(n) = env_num("SNOW_WS_MAX_REQUEST_BYTES") {
            c.max_request = n as usize;
        }
        if let Some(n) = env_num("SNOW_WS_WORKER_THREADS") {
            c.workers = n as usize;
        }
        c
    }
}

/// A positive integer from the environment (`None` when unset or invalid).
fn env_num(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            eprintln!("snow: ignoring {name}={v:?}: expected a positive integer");
            None
        }
    }
}
