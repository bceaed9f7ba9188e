//! Every `SNOW_*` environment variable the runtime reads, parsed once (at
//! the start of `snow_rt_main`, or at first use in a test) in this one
//! file. A value that does not parse is reported on stderr (`snow: ignoring
//! NAME="value": expected ...`) and ignored: the setting keeps its default.
//!
//! The core applies its own defaults here (the callback limits, docs/WS.md
//! "Callback limits"); a server setting is `None` when unset or invalid and
//! the server applies its default (`ws/config.rs`, docs/WS.md
//! "Configuration"), so the defaults of each layer stay with that layer.
//!
//! | variable | kind | read by |
//! | --- | --- | --- |
//! | `SNOW_WS_CALLBACK_TIMEOUT_MS` | positive integer (default 10000) | the watchdog |
//! | `SNOW_WS_CALLBACK_HEAP_BYTES` | positive integer (default 256 MiB) | callback regions |
//! | `SNOW_RT_DEBUG` | set or not | the panic hook (runtime source positions) |
//! | `SNOW_WS_BIND` | text | the server |
//! | `SNOW_WS_MAX_MESSAGE_BYTES`, `SNOW_WS_MAX_QUEUE_BYTES`, `SNOW_WS_MAX_QUEUE_TOTAL_BYTES`, `SNOW_WS_MAX_CONNECTIONS`, `SNOW_WS_MAX_HANDSHAKES`, `SNOW_WS_MAX_REQUEST_BYTES` | positive integers | the server |
//! | `SNOW_WS_WRITE_TIMEOUT_MS`, `SNOW_WS_PING_INTERVAL_MS`, `SNOW_WS_PONG_TIMEOUT_MS`, `SNOW_WS_HANDSHAKE_TIMEOUT_MS`, `SNOW_WS_CLOSE_TIMEOUT_MS` | positive integers | the server |
//! | `SNOW_WS_COMPRESSION` | `on` or `off` | the server |
//! | `SNOW_WS_COMPRESSION_THRESHOLD`, `SNOW_WS_COMPRESSION_LEVEL`, `SNOW_WS_WORKER_THREADS` | positive integers | the server |
//! | `SNOW_WS_ALLOWED_ORIGINS` | text (its entries are checked by `ws/origin.rs`) | the server |
//! | `SNOW_WS_GLOBAL_QUEUE_INTERVAL`, `SNOW_WS_EVENT_INTERVAL` | positive integers | the server's runtime (benchmarking) |
//! | `SNOW_WS_WRITER_YIELD` | integer, 0 or more (default 1) | connection tasks (benchmarking) |
//! | `SNOW_WS_MULTI_THREAD_RUNTIME` | set or not | the server's runtime |
//! | `SNOW_WS_MAX_HISTORY_BYTES` | positive integer | kept messages (`Ws.keep`) |
//! | `SNOW_WS_METRICS_ADDR` | text (`host:port`) | the metrics endpoint (`ws/metrics.rs`) |
//! | `SNOW_WS_DRAIN_MS` | positive integer (default 10000) | SIGTERM's drain |
//! | `SNOW_WS_MAX_MESSAGES_PER_SEC`, `SNOW_WS_MAX_CONNECTIONS_PER_IP` | positive integers | the server's rate limits |
//! | `SNOW_WS_TRUST_PROXY` | `on` or `off` | the per-address limit (`X-Forwarded-For`) |
//! | `SNOW_WS_REDIS_URL` | text | cluster mode |
//! | `SNOW_WS_CLUSTER_HEARTBEAT_MS`, `SNOW_WS_CLUSTER_NODE_TIMEOUT_MS` | positive integers | cluster mode |
//!
//! Integers may use `_` separators (`16_777_216`). Variables that only
//! tests read (`SNOW_WS_TEST_WORKERS`, `SNOW_RT_TEST_*`) are not settings
//! of the runtime and stay with their tests.

use std::ffi::OsString;
use std::sync::OnceLock;

/// Default `SNOW_WS_CALLBACK_HEAP_BYTES`: 256 MiB of live data per callback.
pub const DEFAULT_CALLBACK_HEAP_BYTES: usize = 256 << 20;
/// Default `SNOW_WS_CALLBACK_TIMEOUT_MS`: 10 seconds.
pub const DEFAULT_CALLBACK_TIMEOUT_MS: u64 = 10_000;
/// Default `SNOW_WS_WRITER_YIELD`.
pub const DEFAULT_WRITER_YIELD: u32 = 1;

/// What the environment says (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// `SNOW_WS_CALLBACK_TIMEOUT_MS`: how long a callback may run.
    pub callback_timeout_ms: u64,
    /// `SNOW_WS_CALLBACK_HEAP_BYTES`: the live heap a callback may keep.
    pub callback_heap_bytes: usize,
    /// `SNOW_RT_DEBUG` is set.
    pub rt_debug: bool,
    /// `SNOW_WS_BIND` (trimmed, not empty).
    pub ws_bind: Option<String>,
    pub ws_max_message_bytes: Option<u64>,
    pub ws_max_queue_bytes: Option<u64>,
    pub ws_max_queue_total_bytes: Option<u64>,
    pub ws_write_timeout_ms: Option<u64>,
    pub ws_max_connections: Option<u64>,
    pub ws_max_handshakes: Option<u64>,
    /// `SNOW_WS_COMPRESSION`: `on` (true) or `off` (false).
    pub ws_compression: Option<bool>,
    pub ws_compression_threshold: Option<u64>,
    pub ws_compression_level: Option<u64>,
    pub ws_ping_interval_ms: Option<u64>,
    pub ws_pong_timeout_ms: Option<u64>,
    pub ws_handshake_timeout_ms: Option<u64>,
    pub ws_close_timeout_ms: Option<u64>,
    pub ws_max_request_bytes: Option<u64>,
    pub ws_worker_threads: Option<u64>,
    /// `SNOW_WS_ALLOWED_ORIGINS`, as written.
    pub ws_allowed_origins: Option<String>,
    pub ws_global_queue_interval: Option<u32>,
    pub ws_event_interval: Option<u32>,
    /// `SNOW_WS_WRITER_YIELD` (default `DEFAULT_WRITER_YIELD`, 1).
    pub ws_writer_yield: u32,
    /// `SNOW_WS_MULTI_THREAD_RUNTIME` is set.
    pub ws_multi_thread_runtime: bool,
    /// `SNOW_WS_MAX_HISTORY_BYTES`: all rooms' kept messages together.
    pub ws_max_history_bytes: Option<u64>,
    /// `SNOW_WS_REDIS_URL` (trimmed, not empty).
    pub ws_redis_url: Option<String>,
    pub ws_cluster_heartbeat_ms: Option<u64>,
    pub ws_cluster_node_timeout_ms: Option<u64>,
    /// `SNOW_WS_METRICS_ADDR` (trimmed, not empty): where `/metrics` is served.
    pub ws_metrics_addr: Option<String>,
    /// `SNOW_WS_DRAIN_MS`: how long SIGTERM's drain may take.
    pub ws_drain_ms: Option<u64>,
    /// `SNOW_WS_MAX_MESSAGES_PER_SEC`: messages a connection may send per
    /// second (and in a burst).
    pub ws_max_messages_per_sec: Option<u64>,
    /// `SNOW_WS_MAX_CONNECTIONS_PER_IP`: open connections per remote address.
    pub ws_max_connections_per_ip: Option<u64>,
    /// `SNOW_WS_TRUST_PROXY`: `on` (true) or `off` (false).
    pub ws_trust_proxy: Option<bool>,
}

/// The process's settings, parsed from the environment on first use (the
/// warnings printed then).
pub fn get() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let mut warnings = Vec::new();
        let s = Settings::parse(|name| std::env::var_os(name), &mut warnings);
        for w in warnings {
            eprintln!("{w}");
        }
        s
    })
}

/// Reads the variables through `var`, collecting a warning for each value
/// that does not parse.
struct Reader<'w, F> {
    var: F,
    warnings: &'w mut Vec<String>,
}

impl<F: Fn(&str) -> Option<OsString>> Reader<'_, F> {
    /// The text of `name`, if set (a value that is not UTF-8 is reported).
    fn text(&mut self, name: &str) -> Option<String> {
        let v = (self.var)(name)?;
        match v.into_string() {
            Ok(s) => Some(s),
            Err(v) => {
                self.warnings
                    .push(format!("snow: ignoring {name}={v:?}: not valid UTF-8"));
                None
            }
        }
    }

    /// Whether `name` is set (to anything, even empty).
    fn flag(&mut self, name: &str) -> bool {
        (self.var)(name).is_some()
    }

    /// Trimmed text, `None` when unset or blank.
    fn nonblank(&mut self, name: &str) -> Option<String> {
        let v = self.text(name)?;
        let t = v.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// An integer of at least `min` (`_` separators allowed).
    fn int<T: std::str::FromStr + PartialOrd>(
        &mut self,
        name: &str,
        min: T,
        what: &str,
    ) -> Option<T> {
        let v = self.text(name)?;
        match v.trim().replace('_', "").parse::<T>() {
            Ok(n) if n >= min => Some(n),
            _ => {
                self.warnings
                    .push(format!("snow: ignoring {name}={v:?}: expected {what}"));
                None
            }
        }
    }

    fn positive(&mut self, name: &str) -> Option<u64> {
        self.int(name, 1u64, "a positive integer")
    }

    fn positive_u32(&mut self, name: &str) -> Option<u32> {
        self.int(name, 1u32, "a positive integer")
    }

    /// `on` (true) or `off` (false).
    fn on_off(&mut self, name: &str) -> Option<bool> {
        let v = self.text(name)?;
        match v.trim() {
            "on" => Some(true),
            "off" => Some(false),
            _ => {
                self.warnings
                    .push(format!("snow: ignoring {name}={v:?}: expected on or off"));
                None
            }
        }
    }
}

impl Settings {
    /// The settings `var` gives (the process's environment, or a test's),
    /// with a warning in `warnings` for each value that does not parse.
    pub fn parse(var: impl Fn(&str) -> Option<OsString>, warnings: &mut Vec<String>) -> Settings {
        let mut r = Reader { var, warnings };
        Settings {
            callback_timeout_ms: r
                .positive("SNOW_WS_CALLBACK_TIMEOUT_MS")
                .unwrap_or(DEFAULT_CALLBACK_TIMEOUT_MS),
            callback_heap_bytes: r
                .positive("SNOW_WS_CALLBACK_HEAP_BYTES")
                .map_or(DEFAULT_CALLBACK_HEAP_BYTES, |n| n as usize),
            rt_debug: r.flag("SNOW_RT_DEBUG"),
            ws_bind: r.nonblank("SNOW_WS_BIND"),
            ws_max_message_bytes: r.positive("SNOW_WS_MAX_MESSAGE_BYTES"),
            ws_max_queue_bytes: r.positive("SNOW_WS_MAX_QUEUE_BYTES"),
            ws_max_queue_total_bytes: r.positive("SNOW_WS_MAX_QUEUE_TOTAL_BYTES"),
            ws_write_timeout_ms: r.positive("SNOW_WS_WRITE_TIMEOUT_MS"),
            ws_max_connections: r.positive("SNOW_WS_MAX_CONNECTIONS"),
            ws_max_handshakes: r.positive("SNOW_WS_MAX_HANDSHAKES"),
            ws_compression: r.on_off("SNOW_WS_COMPRESSION"),
            ws_compression_threshold: r.positive("SNOW_WS_COMPRESSION_THRESHOLD"),
            ws_compression_level: r.positive("SNOW_WS_COMPRESSION_LEVEL"),
            ws_ping_interval_ms: r.positive("SNOW_WS_PING_INTERVAL_MS"),
            ws_pong_timeout_ms: r.positive("SNOW_WS_PONG_TIMEOUT_MS"),
            ws_handshake_timeout_ms: r.positive("SNOW_WS_HANDSHAKE_TIMEOUT_MS"),
            ws_close_timeout_ms: r.positive("SNOW_WS_CLOSE_TIMEOUT_MS"),
            ws_max_request_bytes: r.positive("SNOW_WS_MAX_REQUEST_BYTES"),
            ws_worker_threads: r.positive("SNOW_WS_WORKER_THREADS"),
            ws_allowed_origins: r.text("SNOW_WS_ALLOWED_ORIGINS"),
            ws_global_queue_interval: r.positive_u32("SNOW_WS_GLOBAL_QUEUE_INTERVAL"),
            ws_event_interval: r.positive_u32("SNOW_WS_EVENT_INTERVAL"),
            ws_writer_yield: r
                .int("SNOW_WS_WRITER_YIELD", 0u32, "an integer, 0 or more")
                .unwrap_or(DEFAULT_WRITER_YIELD),
            ws_multi_thread_runtime: r.flag("SNOW_WS_MULTI_THREAD_RUNTIME"),
            ws_max_history_bytes: r.positive("SNOW_WS_MAX_HISTORY_BYTES"),
            ws_redis_url: r.nonblank("SNOW_WS_REDIS_URL"),
            ws_cluster_heartbeat_ms: r.positive("SNOW_WS_CLUSTER_HEARTBEAT_MS"),
            ws_cluster_node_timeout_ms: r.positive("SNOW_WS_CLUSTER_NODE_TIMEOUT_MS"),
            ws_metrics_addr: r.nonblank("SNOW_WS_METRICS_ADDR"),
            ws_drain_ms: r.positive("SNOW_WS_DRAIN_MS"),
            ws_max_messages_per_sec: r.positive("SNOW_WS_MAX_MESSAGES_PER_SEC"),
            ws_max_connections_per_ip: r.positive("SNOW_WS_MAX_CONNECTIONS_PER_IP"),
            ws_trust_proxy: r.on_off("SNOW_WS_TRUST_PROXY"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let s = Settings::parse(
            |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            },
            &mut warnings,
        );
        (s, warnings)
    }

    #[test]
    fn unset_variables_give_the_defaults_without_a_word() {
        let (s, warnings) = parse(&[]);
        assert!(warnings.is_empty());
        assert_eq!(s.callback_timeout_ms, DEFAULT_CALLBACK_TIMEOUT_MS);
        assert_eq!(s.callback_heap_bytes, DEFAULT_CALLBACK_HEAP_BYTES);
        assert_eq!(s.ws_writer_yield, 1);
        assert_eq!(
            (s.ws_bind, s.ws_compression, s.ws_redis_url),
            (None, None, None)
        );
        assert!(!s.rt_debug && !s.ws_multi_thread_runtime);
    }

    #[test]
    fn values_parse_with_separators_and_blanks() {
        let (s, warnings) = parse(&[
            ("SNOW_WS_MAX_MESSAGE_BYTES", " 16_777_216 "),
            ("SNOW_WS_COMPRESSION", "off"),
            ("SNOW_WS_BIND", " 127.0.0.1 "),
            ("SNOW_WS_REDIS_URL", "  "),
            ("SNOW_WS_WRITER_YIELD", "0"),
            ("SNOW_WS_CLUSTER_HEARTBEAT_MS", "1_000"),
            ("SNOW_RT_DEBUG", ""),
            ("SNOW_WS_METRICS_ADDR", " 127.0.0.1:9100 "),
            ("SNOW_WS_DRAIN_MS", "2_500"),
            ("SNOW_WS_MAX_MESSAGES_PER_SEC", "20"),
            ("SNOW_WS_MAX_CONNECTIONS_PER_IP", "3"),
            ("SNOW_WS_TRUST_PROXY", "on"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.ws_metrics_addr.as_deref(), Some("127.0.0.1:9100"));
        assert_eq!(
            (
                s.ws_drain_ms,
                s.ws_max_messages_per_sec,
                s.ws_max_connections_per_ip,
                s.ws_trust_proxy
            ),
            (Some(2500), Some(20), Some(3), Some(true))
        );
        assert_eq!(s.ws_max_message_bytes, Some(16 << 20));
        assert_eq!(s.ws_compression, Some(false));
        assert_eq!(s.ws_bind.as_deref(), Some("127.0.0.1"));
        assert_eq!(s.ws_redis_url, None, "blank is unset");
        assert_eq!(s.ws_writer_yield, 0);
        assert_eq!(s.ws_cluster_heartbeat_ms, Some(1000));
        assert!(s.rt_debug, "a flag is set by any value");
    }

    #[test]
    fn every_value_that_does_not_parse_is_reported_and_ignored() {
        let (s, warnings) = parse(&[
            ("SNOW_WS_CALLBACK_TIMEOUT_MS", "0"),
            ("SNOW_WS_PING_INTERVAL_MS", "soon"),
            ("SNOW_WS_COMPRESSION", "yes"),
            ("SNOW_WS_EVENT_INTERVAL", "-3"),
            ("SNOW_WS_GLOBAL_QUEUE_INTERVAL", "99999999999"),
            ("SNOW_WS_WRITER_YIELD", "x"),
            ("SNOW_WS_CLUSTER_NODE_TIMEOUT_MS", "5s"),
            ("SNOW_WS_MAX_MESSAGES_PER_SEC", "0"),
            ("SNOW_WS_TRUST_PROXY", "yes"),
        ]);
        assert_eq!(s.ws_max_messages_per_sec, None);
        assert_eq!(s.ws_trust_proxy, None);
        assert_eq!(s.callback_timeout_ms, DEFAULT_CALLBACK_TIMEOUT_MS);
        assert_eq!(s.ws_ping_interval_ms, None);
        assert_eq!(s.ws_compression, None);
        assert_eq!(s.ws_event_interval, None);
        assert_eq!(s.ws_global_queue_interval, None, "out of range");
        assert_eq!(s.ws_writer_yield, DEFAULT_WRITER_YIELD);
        assert_eq!(s.ws_cluster_node_timeout_ms, None);
        assert_eq!(
            warnings,
            [
                "snow: ignoring SNOW_WS_CALLBACK_TIMEOUT_MS=\"0\": expected a positive integer",
                "snow: ignoring SNOW_WS_COMPRESSION=\"yes\": expected on or off",
                "snow: ignoring SNOW_WS_PING_INTERVAL_MS=\"soon\": expected a positive integer",
                "snow: ignoring SNOW_WS_GLOBAL_QUEUE_INTERVAL=\"99999999999\": expected a positive integer",
                "snow: ignoring SNOW_WS_EVENT_INTERVAL=\"-3\": expected a positive integer",
                "snow: ignoring SNOW_WS_WRITER_YIELD=\"x\": expected an integer, 0 or more",
                "snow: ignoring SNOW_WS_CLUSTER_NODE_TIMEOUT_MS=\"5s\": expected a positive integer",
                "snow: ignoring SNOW_WS_MAX_MESSAGES_PER_SEC=\"0\": expected a positive integer",
                "snow: ignoring SNOW_WS_TRUST_PROXY=\"yes\": expected on or off",
            ]
        );
    }

    #[test]
    fn no_other_file_reads_a_snow_variable() {
        // The rule of this file, kept: outside tests, only settings.rs
        // names a `SNOW_` variable to `std::env`.
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut offenders = Vec::new();
        visit(std::path::Path::new(src), &mut |path, text| {
            if path.ends_with("rt/settings.rs")
                || path.components().any(|c| c.as_os_str() == "tests")
            {
                return;
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in code.lines().enumerate() {
                if line.contains("env::var")
                    && line.contains("\"SNOW_")
                    && !line.trim_start().starts_with("//")
                {
                    offenders.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        });
        assert!(
            offenders.is_empty(),
            "environment read outside settings.rs:\n{}",
            offenders.join("\n")
        );
    }

    fn visit(dir: &std::path::Path, f: &mut impl FnMut(&std::path::Path, &str)) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                visit(&p, f);
            } else if p.extension().is_some_and(|x| x == "rs") {
                f(&p, &std::fs::read_to_string(&p).unwrap());
            }
        }
    }
}
