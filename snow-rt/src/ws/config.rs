//! Server limits: their defaults, and the `SNOW_WS_*` settings that change
//! them (documented in docs/WS.md "Configuration").

use super::origin::Policy;
use crate::rt::Settings;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Limits and settings of one server; [`ServerConfig::from_settings`] applies
/// the `SNOW_WS_*` settings, tests build it directly.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    /// Address to bind (`SNOW_WS_BIND`, default `0.0.0.0`).
    pub bind: String,
    pub port: u16,
    /// Largest accepted message (and frame), bytes: larger closes with 1009.
    pub max_message: usize,
    /// Outbound queue limit per connection, bytes: past it, close with 1008.
    pub max_queue: usize,
    /// Cap on all outbound queues together, bytes: past it, the largest
    /// queues are closed first (1008).
    pub max_queue_total: usize,
    /// A connection whose socket accepts no byte for this long while data
    /// waits is closed.
    pub write_timeout: Duration,
    /// Open WebSocket connections (and static file responses in progress)
    /// at most: an upgrade or file request beyond gets HTTP 503.
    pub max_connections: usize,
    /// Handshakes (TLS, request head, upgrade) in progress at most: further
    /// sockets wait in the kernel's accept queue.
    pub max_handshakes: usize,
    /// permessage-deflate offered by clients is accepted
    /// (`SNOW_WS_COMPRESSION`, `on`/`off`).
    pub compression: bool,
    /// Messages shorter than this are sent uncompressed.
    pub compression_threshold: usize,
    /// zlib level 1-9.
    pub compression_level: u32,
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
    /// Which `Origin`s an upgrade may carry besides the server's own
    /// (`SNOW_WS_ALLOWED_ORIGINS`).
    pub origins: Policy,
    /// The directory plain HTTP requests are answered from (`Ws.static_dir`,
    /// canonical); `None`: they get 426.
    pub static_dir: Option<Arc<Path>>,
    /// Data messages a connection may send per second, with a burst of as
    /// many (`SNOW_WS_MAX_MESSAGES_PER_SEC`, at most `limits::MAX_RATE`):
    /// faster, close 1008. `None`: unlimited.
    pub max_messages_per_sec: Option<u64>,
    /// Open WebSocket connections per remote address
    /// (`SNOW_WS_MAX_CONNECTIONS_PER_IP`): one more gets HTTP 429. `None`:
    /// unlimited.
    pub max_connections_per_ip: Option<usize>,
    /// The remote address is `X-Forwarded-For`'s last entry when present
    /// (`SNOW_WS_TRUST_PROXY=on`; docs/OPERATIONS.md says why it is off by
    /// default).
    pub trust_proxy: bool,
}

pub(crate) const DEFAULT_MAX_MESSAGE: usize = 16 << 20;
/// Headroom of the default per-connection queue limit above twice the
/// largest message: an app can relay a maximum-size message with a prefix
/// to a member that still has other frames waiting.
const QUEUE_HEADROOM: usize = 1 << 20;
pub(crate) const DEFAULT_MAX_HANDSHAKES: usize = 1024;

/// The default per-connection queue limit for a largest message of
/// `max_message` bytes: twice that plus headroom (ws.md "Resource limits").
pub(crate) fn default_max_queue(max_message: usize) -> usize {
    max_message.saturating_mul(2).saturating_add(QUEUE_HEADROOM)
}
pub(crate) const DEFAULT_MAX_REQUEST: usize = 64 << 10;

impl ServerConfig {
    /// Defaults for `port`, without looking at the environment.
    pub(crate) fn defaults(port: u16) -> ServerConfig {
        ServerConfig {
            bind: "0.0.0.0".to_string(),
            port,
            max_message: DEFAULT_MAX_MESSAGE,
            max_queue: default_max_queue(DEFAULT_MAX_MESSAGE),
            max_queue_total: default_max_queue_total(),
            write_timeout: Duration::from_secs(30),
            max_connections: default_max_connections(),
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
            compression: true,
            compression_threshold: 128,
            compression_level: 1,
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            max_request: DEFAULT_MAX_REQUEST,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            origins: Policy::default(),
            static_dir: None,
            max_messages_per_sec: None,
            max_connections_per_ip: None,
            trust_proxy: false,
        }
    }

    /// The defaults overridden by the `SNOW_WS_*` settings (`rt/settings.rs`:
    /// read once, a value that does not parse reported there and ignored).
    pub(crate) fn from_settings(port: u16, s: &Settings) -> ServerConfig {
        let mut c = ServerConfig::defaults(port);
        let ms = Duration::from_millis;
        if let Some(b) = &s.ws_bind {
            c.bind = b.clone();
        }
        if let Some(n) = s.ws_max_message_bytes {
            c.max_message = n as usize;
            c.max_queue = default_max_queue(c.max_message);
        }
        if let Some(n) = s.ws_max_queue_bytes {
            c.max_queue = n as usize;
        }
        if let Some(n) = s.ws_max_queue_total_bytes {
            c.max_queue_total = n as usize;
        }
        if let Some(n) = s.ws_write_timeout_ms {
            c.write_timeout = ms(n);
        }
        if let Some(n) = s.ws_max_connections {
            c.max_connections = n as usize;
        }
        if let Some(n) = s.ws_max_handshakes {
            c.max_handshakes = n as usize;
        }
        if let Some(on) = s.ws_compression {
            c.compression = on;
        }
        if let Some(n) = s.ws_compression_threshold {
            c.compression_threshold = n as usize;
        }
        if let Some(n) = s.ws_compression_level {
            c.compression_level = n.min(9) as u32;
        }
        if let Some(n) = s.ws_ping_interval_ms {
            c.ping_interval = ms(n);
        }
        if let Some(n) = s.ws_pong_timeout_ms {
            c.pong_timeout = ms(n);
        }
        if let Some(n) = s.ws_handshake_timeout_ms {
            c.handshake_timeout = ms(n);
        }
        if let Some(n) = s.ws_close_timeout_ms {
            c.close_timeout = ms(n);
        }
        if let Some(n) = s.ws_max_request_bytes {
            c.max_request = n as usize;
        }
        if let Some(n) = s.ws_worker_threads {
            c.workers = n as usize;
        }
        if let Some(v) = &s.ws_allowed_origins {
            c.origins = Policy::from_setting(v);
        }
        c.max_messages_per_sec = s
            .ws_max_messages_per_sec
            .map(|n| n.min(super::limits::MAX_RATE));
        c.max_connections_per_ip = s.ws_max_connections_per_ip.map(|n| n as usize);
        c.trust_proxy = s.ws_trust_proxy.unwrap_or(false);
        c
    }
}

/// Half the machine's physical memory (1 GiB when unknown): the default
/// cap on all outbound queues together.
fn default_max_queue_total() -> usize {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        (pages as usize).saturating_mul(size as usize) / 2
    } else {
        1 << 30
    }
}

/// Raises the process's soft limit on open files to its hard limit (as Go
/// does at start: a server needs a descriptor per connection, and the
/// common soft default of 1024 is a historical accident) and answers the
/// resulting soft limit.
pub(crate) fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    lim.rlim_cur
}

/// The default connection cap: the open-file limit minus headroom for
/// everything else the process opens (listeners, handshakes in progress,
/// files, the runtime's own descriptors).
fn default_max_connections() -> usize {
    let files = raise_fd_limit().min(usize::MAX as u64) as usize;
    let headroom = (files / 10).max(64);
    files.saturating_sub(headroom).max(1)
}
