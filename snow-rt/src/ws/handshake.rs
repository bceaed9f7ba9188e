//! The HTTP side of a connection: the request head is read (bounded in size
//! by `SNOW_WS_MAX_REQUEST_BYTES`; the caller bounds it in time), parsed by
//! `httparse`, and classified: a valid WebSocket upgrade (RFC 6455 4.2.1),
//! a broken one, or a plain HTTP request. The server then answers with the
//! `101 Switching Protocols` built here or with one of the short HTTP error
//! responses here, and hands the socket (and any bytes the client sent
//! after its head) to the WebSocket reader.
//!
//! Doing this ourselves is what lets the server answer before the upgrade
//! (503 over the connection cap, 403 for a foreign origin, 426 for a plain
//! request), negotiate permessage-deflate (`deflate.rs`), and serve other
//! requests (static files) on the same port.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt};

/// `Sec-WebSocket-Accept` for a request's `Sec-WebSocket-Key` (RFC 6455
/// 4.2.2: base64 of the SHA-1 of the key and the protocol's GUID).
fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// More header lines than this: `431 Request Header Fields Too Large`.
const MAX_HEADERS: usize = 128;

/// A parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    pub method: String,
    /// The request target (path and query string), as sent.
    pub target: String,
    /// HTTP/1.`minor`.
    pub minor: u8,
    /// Header names lower-cased, in order of first appearance; a repeated
    /// header's values joined with ", " (RFC 9110 field-line combination);
    /// non-UTF-8 bytes replaced.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether header `name` is a comma-separated list containing `token`
    /// (case-insensitive), as `Connection: keep-alive, Upgrade`.
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// What reading a request head gave.
#[derive(Debug)]
pub(crate) enum Head {
    /// A complete head and the bytes the client sent after it.
    Complete(RequestHead, Vec<u8>),
    /// Over the size limit (or too many header lines).
    TooLarge,
    /// Not HTTP.
    Malformed,
    /// The client closed (or the socket failed) before a complete head.
    Gone,
}

/// Reads one request head of at most `max` bytes.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(rd: &mut R, max: usize) -> Head {
    // A typical head is a few hundred bytes: start with 1 KiB and double,
    // so a burst of new connections does not hold 4 KiB each meanwhile.
    let mut buf: Vec<u8> = Vec::with_capacity(max.min(1024));
    loop {
        if buf.len() >= max {
            return Head::TooLarge;
        }
        let want = (max - buf.len()).min(buf.len().clamp(1024, 16 << 10));
        let start = buf.len();
        buf.resize(start + want, 0);
        let n = match rd.read(&mut buf[start..]).await {
            Ok(0) | Err(_) => return Head::Gone,
            Ok(n) => n,
        };
        buf.truncate(start + n);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(len)) => {
                let head = RequestHead {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    minor: req.version.unwrap_or(0),
                    headers: combine(req.headers),
                };
                return Head::Complete(head, buf.split_off(len));
            }
            Err(httparse::Error::TooManyHeaders) => return Head::TooLarge,
            Err(_) => return Head::Malformed,
        }
    }
}

/// Header lines as (lower-case name, value), repeated names combined.
fn combine(lines: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(lines.len());
    for h in lines {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).trim().to_string();
        match out.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out
}

/// What kind of request a head is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A valid WebSocket upgrade with its `Sec-WebSocket-Key`.
    Upgrade { key: String },
    /// An upgrade with another `Sec-WebSocket-Version` than 13 (answered
    /// 426 with `Sec-WebSocket-Version: 13`, RFC 6455 4.4).
    WrongVersion,
    /// An upgrade that breaks RFC 6455 4.2.1 (answered 400), and why.
    BadUpgrade(&'static str),
    /// Not an upgrade: a plain HTTP request.
    Plain,
}

/// Classifies a head (RFC 6455 4.2.1: GET, HTTP/1.1 or later, `Host`,
/// `Upgrade: websocket`, `Connection: Upgrade`, a 16-byte base64
/// `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`).
pub(crate) fn kind(head: &RequestHead) -> Kind {
    if !head.has_token("upgrade", "websocket") {
        return Kind::Plain;
    }
    if head.method != "GET" {
        return Kind::BadUpgrade("an upgrade must be a GET request");
    }
    if head.minor < 1 {
        return Kind::BadUpgrade("an upgrade needs HTTP/1.1");
    }
    if head.header("host").is_none() {
        return Kind::BadUpgrade("missing Host header");
    }
    if !head.has_token("connection", "upgrade") {
        return Kind::BadUpgrade("missing Connection: Upgrade");
    }
    let Some(key) = head.header("sec-websocket-key") else {
        return Kind::BadUpgrade("missing Sec-WebSocket-Key");
    };
    if !is_websocket_key(key) {
        return Kind::BadUpgrade("invalid Sec-WebSocket-Key");
    }
    if head.header("sec-websocket-version") != Some("13") {
        return Kind::WrongVersion;
    }
    Kind::Upgrade {
        key: key.to_string(),
    }
}

/// Whether `key` is the base64 form of 16 bytes (24 characters ending
/// in `==`).
fn is_websocket_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        // The 22nd character carries 2 bits of the 16th byte and 4 padding
        // bits, which must be zero.
        && b"AQgw".contains(&b[21])
}

/// The `101 Switching Protocols` response to an upgrade with `key`, with
/// the accepted extensions' header value if any.
pub(crate) fn switching_protocols(key: &str, extensions: Option<&str>) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(e) = extensions {
        r.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// A short HTTP error response that closes the connection: `status` with
/// its reason phrase, `extra` header lines, and `body` as plain text.
pub(crate) fn error_response(status: u16, extra: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (k, v) in extra {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    r.into_bytes()
}

/// The reason phrase of the statuses the server sends.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Head {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(read_head(&mut text.as_bytes(), 65536))
    }

    fn head(text: &str) -> RequestHead {
        match parse(text) {
            Head::Complete(h, _) => h,
            other => panic!("{other:?}"),
        }
    }

    const UPGRADE: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: a:1\r\nUpgrade: WebSocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\nX-A: 1\r\nx-a: 2\r\n\r\n";

    #[test]
    fn a_valid_upgrade_is_recognised_and_headers_are_combined() {
        let h = head(UPGRADE);
        assert_eq!(h.target, "/chat?x=1");
        assert_eq!(h.header("x-a"), Some("1, 2"));
        assert_eq!(
            kind(&h),
            Kind::Upgrade {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into()
            }
        );
        // RFC 6455 1.3's example.
        let r = String::from_utf8(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", None)).unwrap();
        assert!(r.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(!r.contains("Extensions"));
        let r = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", Some("permessage-deflate"));
        assert!(String::from_utf8(r)
            .unwrap()
            .ends_with("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    }

    #[test]
    fn bytes_after_the_head_are_kept() {
        let text = format!("{UPGRADE}\u{81}\u{1}");
        match parse(&text) {
            Head::Complete(_, rest) => assert_eq!(rest, "\u{81}\u{1}".as_bytes()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_upgrades_and_plain_requests_are_told_apart() {
        let plain = head("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(kind(&plain), Kind::Plain);
        let v8 = UPGRADE.replace("Version: 13", "Version: 8");
        assert_eq!(kind(&head(&v8)), Kind::WrongVersion);
        for (from, to) in [
            ("GET /chat", "POST /chat"),
            ("HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost"),
            ("Host: a:1\r\n", ""),
            ("keep-alive, Upgrade", "keep-alive"),
            ("dGhlIHNhbXBsZSBub25jZQ==", "short"),
            ("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR=="),
        ] {
            let h = head(&UPGRADE.replace(from, to));
            assert!(matches!(kind(&h), Kind::BadUpgrade(_)), "{from} -> {to}");
        }
    }

    #[test]
    fn size_limits_and_garbage() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "p".repeat(5000));
        assert!(matches!(
            rt.block_on(read_head(&mut big.as_bytes(), 2048)),
            Head::TooLarge
        ));
        let many: String = (0..200).map(|i| format!("H{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(parse(&many), Head::TooLarge));
        assert!(matches!(
            parse("\x16\x03\x01 garbage\r\n\r\n"),
            Head::Malformed
        ));
        assert!(matches!(parse("GET / HTTP/1.1\r\nHost: x\r\n"), Head::Gone));
    }
}
