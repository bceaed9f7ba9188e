//! The Origin check (ws.md "Origin check"; docs/WS.md "Origin check"):
//! a WebSocket upgrade whose `Origin` header is present and is neither the
//! server's own origin (the request's `Host`) nor listed in
//! `SNOW_WS_ALLOWED_ORIGINS` is refused with 403 before the upgrade and
//! before `on_connect`. This stops cross-site WebSocket hijacking: a page on
//! any site can open a socket to the server, and the browser sends the
//! user's cookies with it, but it always sends the page's true `Origin`.
//!
//! Origins are compared as (scheme, host, port) tuples (RFC 6454), never
//! as strings or substrings: the scheme and host case-insensitively, a
//! missing port as the scheme's default (80 for http/ws, 443 for
//! https/wss). Parsing is strict and fails closed: a value that is not
//! exactly `scheme://host[:port]` (`null`, empty, with a path, user info or
//! a list of origins) matches nothing. The grammar is RFC 6454's
//! serialisation, a few lines; a URL parser would accept (and normalise)
//! forms a browser never sends, so none is used.

use super::handshake::RequestHead;
use parking_lot::Mutex;
use rustc_hash::FxHashSet;

/// One origin: lower-case scheme and host, and the port (explicit, or the
/// scheme's default; `None` for a scheme without a default and no port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

/// The default port of a scheme.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` (a `Host` header, or an origin after `://`) into
/// the lower-case host and the explicit port. The host is a name of
/// letters, digits, `-`, `.` and `_`, or a bracketed IPv6 literal; the port
/// 1 to 5 digits up to 65535.
fn host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, rest) = if s.starts_with('[') {
        let end = s.find(']')?;
        let inner = &s[1..end];
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return None;
        }
        (&s[..=end], &s[end + 1..])
    } else {
        let end = s.find(':').unwrap_or(s.len());
        let name = &s[..end];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return None;
        }
        (name, &s[end..])
    };
    let port = match rest {
        "" => None,
        _ => {
            let digits = rest.strip_prefix(':')?;
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            Some(digits.parse::<u16>().ok()?)
        }
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Parses an origin serialisation `scheme://host[:port]` (RFC 6454 6.2).
pub(crate) fn parse_origin(s: &str) -> Option<Origin> {
    let (scheme, rest) = s.split_once("://")?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let (host, port) = host_port(rest)?;
    let port = port.or_else(|| default_port(&scheme));
    Some(Origin { scheme, host, port })
}

/// Whether `origin` is the server's own: an http(s) origin with the host
/// and port of the request's `Host` header, whatever the scheme (the
/// server may sit behind a TLS proxy). A `Host` without a port stands for
/// the origin's default port.
fn is_own(origin: &Origin, host_header: &str) -> bool {
    let Some((host, port)) = host_port(host_header) else {
        return false;
    };
    let Some(default) = default_port(&origin.scheme) else {
        return false;
    };
    if !matches!(origin.scheme.as_str(), "http" | "https") || origin.host != host {
        return false;
    }
    origin.port == Some(port.unwrap_or(default))
}

/// Which origins a server accepts besides its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Policy {
    /// `SNOW_WS_ALLOWED_ORIGINS=*`: every origin (and none) is accepted.
    Any,
    /// These (possibly none) besides the server's own.
    List(Vec<Origin>),
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::List(Vec::new())
    }
}

impl Policy {
    /// Parses `SNOW_WS_ALLOWED_ORIGINS`: comma-separated origins
    /// (`https://app.example.com,http://localhost:3000`; one trailing `/`
    /// is tolerated) or `*`. Entries that are not origins are reported in
    /// `warnings` and ignored.
    pub(crate) fn parse(value: &str, warnings: &mut Vec<String>) -> Policy {
        let mut list = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                return Policy::Any;
            }
            match parse_origin(entry.strip_suffix('/').unwrap_or(entry)) {
                Some(o) => list.push(o),
                None => warnings.push(format!(
                    "snow: ignoring {entry:?} in SNOW_WS_ALLOWED_ORIGINS: expected an origin \
                     like https://app.example.com or http://localhost:3000, or *"
                )),
            }
        }
        Policy::List(list)
    }

    /// The policy of a `SNOW_WS_ALLOWED_ORIGINS` setting (warnings for its
    /// entries on stderr).
    pub(crate) fn from_setting(v: &str) -> Policy {
        let mut warnings = Vec::new();
        let p = Policy::parse(v, &mut warnings);
        for w in warnings {
            eprintln!("{w}");
        }
        p
    }

    /// Whether an upgrade with this `Origin` (raw header value, if any) and
    /// `Host` is accepted.
    pub(crate) fn allows_origin(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(raw) = origin else {
            return true; // not a browser
        };
        let list = match self {
            Policy::Any => return true,
            Policy::List(list) => list,
        };
        let Some(o) = parse_origin(raw) else {
            return false;
        };
        host.is_some_and(|h| is_own(&o, h)) || list.contains(&o)
    }

    /// [`Policy::allows_origin`] for a request head; a refusal is logged
    /// on stderr the first time each `Origin` value is refused.
    pub(crate) fn allows(&self, head: &RequestHead) -> bool {
        let origin = head.header("origin");
        let host = head.header("host");
        if self.allows_origin(origin, host) {
            return true;
        }
        log_refusal(origin.unwrap_or_default(), host.unwrap_or_default());
        false
    }
}

/// Origins already logged; after this many, refusals are no longer logged
/// (one line says so), so a flood of made-up origins cannot grow memory.
const MAX_LOGGED: usize = 1024;

static LOGGED: Mutex<Option<FxHashSet<String>>> = Mutex::new(None);

/// At most this much of a header value goes into the log.
const SHOWN: usize = 200;

fn shown(s: &str) -> String {
    let cut: String = s.chars().take(SHOWN).collect();
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// Logs a refused origin once per value.
fn log_refusal(origin: &str, host: &str) {
    {
        let mut logged = LOGGED.lock();
        let set = logged.get_or_insert_with(FxHashSet::default);
        if set.contains(origin) {
            return;
        }
        if set.len() == MAX_LOGGED {
            set.insert(origin.to_string());
            eprintln!(
                "snow: refused WebSocket upgrades from {MAX_LOGGED} different origins; \
                 further ones are refused without a message"
            );
            return;
        }
        if set.len() > MAX_LOGGED {
            return;
        }
        set.insert(origin.to_string());
    }
    match parse_origin(origin) {
        Some(_) => eprintln!(
            "snow: refused a WebSocket upgrade from origin {} (the server's host is {}): \
             browsers send the page's origin, and this one is another site's. To allow it, \
             set SNOW_WS_ALLOWED_ORIGINS={} (a comma-separated list of origins, or * for any)",
            shown(origin),
            shown(host),
            origin.chars().take(SHOWN).collect::<String>()
        ),
        None => eprintln!(
            "snow: refused a WebSocket upgrade with the malformed origin {} (the server's host \
             is {}); only SNOW_WS_ALLOWED_ORIGINS=* accepts it",
            shown(origin),
            shown(host)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(policy: &str, origin: &str, host: &str) -> bool {
        let mut w = Vec::new();
        Policy::parse(policy, &mut w).allows_origin(Some(origin), Some(host))
    }

    #[test]
    fn no_origin_is_always_accepted() {
        assert!(Policy::default().allows_origin(None, Some("a:1")));
        assert!(Policy::default().allows_origin(None, None));
    }

    #[test]
    fn the_servers_own_origin_is_accepted() {
        for (origin, host) in [
            ("http://localhost:8080", "localhost:8080"),
            ("https://localhost:8080", "localhost:8080"),
            ("http://LOCALHOST:8080", "localhost:8080"),
            ("HTTP://localhost:8080", "LocalHost:8080"),
            ("http://127.0.0.1:9", "127.0.0.1:9"),
            ("http://[::1]:9", "[::1]:9"),
            ("https://example.com", "example.com"),
            ("https://example.com:443", "example.com"),
            ("http://example.com", "example.com"),
            ("http://example.com", "example.com:80"),
            ("https://example.com", "example.com:443"),
        ] {
            assert!(allowed("", origin, host), "{origin} for {host}");
        }
    }

    #[test]
    fn other_hosts_ports_and_tricks_are_refused() {
        for (origin, host) in [
            ("http://evil.example", "localhost:8080"),
            ("http://localhost:8081", "localhost:8080"),
            ("http://localhost", "localhost:8080"),
            ("http://localhost:80", "localhost:8080"),
            ("https://example.com:8443", "example.com"),
            ("http://example.com:443", "example.com"),
            ("http://localhost:8080.evil.net", "localhost:8080"),
            ("http://localhost.evil.net:8080", "localhost:8080"),
            ("http://evil.net/http://localhost:8080", "localhost:8080"),
            ("http://localhost:8080/", "localhost:8080"),
            ("http://user@localhost:8080", "localhost:8080"),
            ("ftp://localhost:8080", "localhost:8080"),
            ("ws://localhost:8080", "localhost:8080"),
            ("null", "localhost:8080"),
            ("", "localhost:8080"),
            ("garbage", "localhost:8080"),
            ("http://", "localhost:8080"),
            ("http://:8080", "localhost:8080"),
            ("http://localhost:", "localhost:8080"),
            ("http://localhost:99999", "localhost:99999"),
            (
                "http://localhost:8080, http://localhost:8080",
                "localhost:8080",
            ),
            ("http://local host:8080", "local host:8080"),
            ("http://[::1]:9", "[::2]:9"),
            ("http://\u{e9}.example", "\u{e9}.example"),
            ("http://localhost:8080", "bad host"),
        ] {
            assert!(!allowed("", origin, host), "{origin:?} for {host:?}");
        }
    }

    #[test]
    fn listed_origins_are_compared_as_tuples() {
        let list = "https://app.example.com, http://localhost:3000/";
        for origin in [
            "https://app.example.com",
            "https://app.example.com:443",
            "HTTPS://APP.Example.COM",
            "http://localhost:3000",
        ] {
            assert!(allowed(list, origin, "server:1"), "{origin}");
        }
        for origin in [
            "https://app.example.com.evil.net",
            "https://evil-app.example.com",
            "https://xapp.example.com",
            "https://app.example.co",
            "https://app.example.com:8443",
            "http://app.example.com",
            "https://app.example.com/x",
            "http://localhost:30000",
            "http://localhost:300",
            "http://localhost",
            "null",
        ] {
            assert!(!allowed(list, origin, "server:1"), "{origin}");
        }
    }

    #[test]
    fn a_star_allows_everything_and_bad_entries_are_reported() {
        assert!(allowed("*", "http://evil.example", "a:1"));
        assert!(allowed("http://x:1, *", "null", "a:1"));
        assert!(allowed(" * ", "", "a:1"));
        let mut w = Vec::new();
        let p = Policy::parse("app.example.com,https://ok.example,null,http://a/b", &mut w);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("\"app.example.com\""));
        assert_eq!(
            p,
            Policy::List(vec![parse_origin("https://ok.example").unwrap()])
        );
        assert_eq!(Policy::parse("", &mut w), Policy::default());
    }
}
