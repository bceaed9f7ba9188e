//! The browser-facing side of a compiled Snow server (tests/ws/web.snow)
//! over raw sockets: static files from `Ws.static_dir` (every status, the
//! headers, HEAD, every way out of the directory, a 64 MiB file streamed in
//! bounded memory) and the Origin check (ws.md "Origin check"), where the
//! server announces every `on_connect` to an observer so a test sees
//! exactly which upgrades reached Snow code.

mod common;

use common::wsproc::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const WEB: &str = "tests/ws/web.snow";

/// An HTTP response read to the end of the connection.
#[derive(Debug)]
struct Resp {
    status: u16,
    /// Header lines as (lower-case name, value).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse_resp(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Resp {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// Sends `request` as is and reads the response until the server closes.
fn raw_request(port: u16, request: &[u8]) -> Resp {
    let out = raw_exchange(port, request, Duration::from_secs(10));
    parse_resp(&out)
}

fn get(port: u16, target: &str) -> Resp {
    raw_request(
        port,
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
    )
}

/// A directory tree for the static tests: `www/` (served) and, beside it,
/// `secret.txt`, which no request may read.
fn site() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    let w = |name: &str, body: &[u8]| {
        let p = www.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    w("index.html", b"<h1>home</h1>\n");
    w("app.js", b"console.log('app');\n");
    w("mod.mjs", b"export {};\n");
    w("style.css", b"body { color: red }\n");
    w("data.json", b"{\"a\":1}");
    w("pic.svg", b"<svg/>");
    w("pic.png", b"\x89PNG\r\n\x1a\n");
    w("pic.jpg", b"\xff\xd8\xff");
    w("favicon.ico", b"\0\0\x01\0");
    w("code.wasm", b"\0asm\x01\0\0\0");
    w("notes.txt", b"plain\n");
    w("blob.bin", b"\x00\x01\x02");
    w("sub/index.html", b"<p>sub</p>\n");
    w("sub/deeper/file.txt", b"deep\n");
    w("with space.txt", b"spaced\n");
    w(".env", b"TOP SECRET dotfile\n");
    std::fs::create_dir_all(www.join("empty")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), b"TOP SECRET\n").unwrap();
    std::fs::create_dir_all(tmp.path().join("private")).unwrap();
    std::fs::write(tmp.path().join("private/key.txt"), b"TOP SECRET key\n").unwrap();
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, www.join(name)).unwrap();
    link(Path::new("app.js"), "inside-link.js");
    link(Path::new("sub"), "inside-dir");
    link(&tmp.path().join("secret.txt"), "out-link.txt");
    link(Path::new("../secret.txt"), "out-relative.txt");
    link(&tmp.path().join("private"), "out-dir");
    link(Path::new("/etc/passwd"), "passwd");
    tmp
}

fn start_site(tmp: &tempfile::TempDir) -> Proc {
    let www = tmp.path().join("www");
    start_server(WEB, &[("WWW", www.to_str().unwrap())])
}

#[test]
fn static_files_are_served_with_their_type_and_length() {
    let tmp = site();
    let p = start_site(&tmp);
    for (target, ctype, body) in [
        ("/", "text/html; charset=utf-8", &b"<h1>home</h1>\n"[..]),
        (
            "/index.html",
            "text/html; charset=utf-8",
            b"<h1>home</h1>\n",
        ),
        (
            "/app.js",
            "text/javascript; charset=utf-8",
            b"console.log('app');\n",
        ),
        (
            "/mod.mjs",
            "text/javascript; charset=utf-8",
            b"export {};\n",
        ),
        (
            "/style.css",
            "text/css; charset=utf-8",
            b"body { color: red }\n",
        ),
        ("/data.json", "application/json", b"{\"a\":1}"),
        ("/pic.svg", "image/svg+xml", b"<svg/>"),
        ("/pic.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("/pic.jpg", "image/jpeg", b"\xff\xd8\xff"),
        ("/favicon.ico", "image/x-icon", b"\0\0\x01\0"),
        ("/code.wasm", "application/wasm", b"\0asm\x01\0\0\0"),
        ("/notes.txt", "text/plain; charset=utf-8", b"plain\n"),
        ("/blob.bin", "application/octet-stream", b"\x00\x01\x02"),
        ("/sub/", "text/html; charset=utf-8", b"<p>sub</p>\n"),
        (
            "/sub/deeper/file.txt",
            "text/plain; charset=utf-8",
            b"deep\n",
        ),
        (
            "/with%20space.txt",
            "text/plain; charset=utf-8",
            b"spaced\n",
        ),
        (
            "/app.js?v=3&x=/../secret.txt",
            "text/javascript; charset=utf-8",
            b"console.log('app');\n",
        ),
        (
            "/inside-link.js",
            "text/javascript; charset=utf-8",
            b"console.log('app');\n",
        ),
        (
            "/inside-dir/deeper/file.txt",
            "text/plain; charset=utf-8",
            b"deep\n",
        ),
        (
            &format!("http://127.0.0.1:{}/notes.txt", p.port),
            "text/plain; charset=utf-8",
            b"plain\n",
        ),
    ] {
        let r = get(p.port, target);
        assert_eq!(r.status, 200, "{target}: {r:?}");
        assert_eq!(r.header("content-type"), Some(ctype), "{target}");
        assert_eq!(
            r.header("content-length"),
            Some(&*body.len().to_string()),
            "{target}"
        );
        assert_eq!(r.body, body, "{target}");
        assert_eq!(r.header("connection"), Some("close"), "{target}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        let lm = r.header("last-modified").expect("Last-Modified");
        assert!(lm.ends_with(" GMT"), "{lm}");
    }
    // HTTP/1.0 works too.
    let r = raw_request(p.port, b"GET /notes.txt HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (200, "plain\n"));
}

#[test]
fn head_missing_files_methods_directories_and_revalidation() {
    let tmp = site();
    let p = start_site(&tmp);
    let port = p.port;
    // HEAD: GET's headers, no body (read to the end of the connection).
    let g = get(port, "/app.js");
    let h = raw_request(
        port,
        format!("HEAD /app.js HTTP/1.1\r\nHost: h:{port}\r\n\r\n").as_bytes(),
    );
    assert_eq!(h.status, 200);
    assert_eq!(h.headers, g.headers);
    assert!(h.body.is_empty(), "{:?}", h.text());
    // Missing: 404 (HEAD without body).
    for target in [
        "/missing.txt",
        "/sub/missing",
        "/empty/",
        "/index.html/",
        "/app.js/x",
    ] {
        let r = get(port, target);
        assert_eq!(r.status, 404, "{target}: {r:?}");
        assert_eq!(r.text(), "not found\n");
        assert_eq!(r.header("content-length"), Some("10"));
    }
    let r = raw_request(port, b"HEAD /missing.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    // Other methods: 405 with Allow, whatever the path; a request body is
    // read and dropped, the response still arrives.
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"] {
        let body = "x".repeat(100_000);
        let req = format!(
            "{method} /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let r = raw_request(port, req.as_bytes());
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // A directory without the slash: redirect to it.
    for (target, location) in [
        ("/sub", "/sub/"),
        ("/sub?x=1", "/sub/"),
        ("/inside-dir", "/inside-dir/"),
        ("/sub/deeper", "/sub/deeper/"),
        ("/empty", "/empty/"),
    ] {
        let r = get(port, target);
        assert_eq!(r.status, 301, "{target}");
        assert_eq!(r.header("location"), Some(location), "{target}");
    }
    // Revalidation: If-Modified-Since at or after Last-Modified is 304.
    let lm = g.header("last-modified").unwrap().to_string();
    let req = |ims: &str| {
        raw_request(
            port,
            format!("GET /app.js HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: {ims}\r\n\r\n")
                .as_bytes(),
        )
    };
    let r = req(&lm);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("last-modified"), Some(lm.as_str()));
    let r = req("Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!((r.status, r.body.len()), (200, 20));
    let r = req("not a date");
    assert_eq!(r.status, 200);
    // Upgrades on any path still reach on_connect.
    let mut obs = observer(&p);
    let mut ws = p.connect("/index.html");
    assert_eq!(recv_text(&mut obs), "connect /index.html");
    assert_eq!(ask_for(&mut ws, "hi", "echo"), "echo hi");
}

#[test]
fn no_request_reads_outside_the_directory() {
    let tmp = site();
    let p = start_site(&tmp);
    let port = p.port;
    let targets = [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/sub/../../secret.txt",
        "/sub/../index.html",
        "/./index.html",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/%2fetc/passwd",
        "/%2Fetc%2Fpasswd",
        "/sub%5c..%5c..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/index.html%00.txt",
        "/%00",
        "/secret.txt%00",
        "//etc/passwd",
        "//secret.txt",
        "/sub//index.html",
        "/.env",
        "/%2eenv",
        "/out-link.txt",
        "/out-relative.txt",
        "/out-dir/key.txt",
        "/out-dir/",
        "/out-dir",
        "/passwd",
        "/etc/passwd",
        "http://127.0.0.1/../secret.txt",
        "http://127.0.0.1/%2e%2e/secret.txt",
        "../secret.txt",
        "secret.txt",
        "*",
    ];
    for target in targets {
        let r = get(port, target);
        assert_eq!(r.status, 404, "{target}: {r:?}");
        assert!(
            !r.text().contains("TOP SECRET") && !r.text().contains("root:"),
            "{target}"
        );
    }
    // Raw backslashes reach the path check (404); a raw NUL or other
    // control byte is not HTTP and never gets that far (400).
    for (target, status) in [
        (&b"/..\\secret.txt"[..], 404),
        (b"/sub\\..\\..\\secret.txt", 404),
        (b"/\\etc\\passwd", 404),
        (b"/index.html\0.txt", 400),
        (b"/\x7f", 400),
    ] {
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(target);
        req.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
        let r = raw_request(port, &req);
        assert_eq!(
            r.status,
            status,
            "{:?}: {r:?}",
            String::from_utf8_lossy(target)
        );
        assert!(!r.text().contains("TOP SECRET"));
    }
    // The server is fine afterwards.
    assert_eq!(get(port, "/notes.txt").status, 200);
}

#[test]
fn without_a_readable_static_dir_plain_requests_get_426() {
    let tmp = site();
    for dir in [
        "/nonexistent/www".to_string(),
        tmp.path().join("secret.txt").to_str().unwrap().to_string(),
        String::new(),
    ] {
        let mut p = spawn_server(WEB, &[("WWW", &dir)], Stdio::piped());
        let r = get(p.port, "/");
        assert_eq!(r.status, 426, "{dir:?}");
        assert_eq!(r.header("upgrade"), Some("websocket"));
        // SIGTERM: the server exits 0 and flushes what main printed.
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(p.child.id() as i32, libc::SIGTERM) };
        assert!(p.child.wait().unwrap().success());
        let mut out = String::new();
        p.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "static_dir -1\n", "{dir:?}");
    }
    let p = start_server(WEB, &[]);
    assert_eq!(get(p.port, "/").status, 426);
}

#[test]
fn a_large_file_is_streamed_in_bounded_memory() {
    const SIZE: usize = 64 << 20;
    let tmp = site();
    // A pattern that changes every byte position, so a reordered or
    // repeated chunk is caught.
    let pattern: Vec<u8> = (0..SIZE as u32)
        .map(|i| (i ^ (i >> 11) ^ (i >> 19)) as u8)
        .collect();
    std::fs::write(tmp.path().join("www/big.bin"), &pattern).unwrap();
    let p = start_site(&tmp);
    assert_eq!(get(p.port, "/notes.txt").status, 200);
    let before = p.rss_kib();
    let mut tcp = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp.write_all(b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    // Read slowly at first, so the server has to wait on the socket rather
    // than finish at once, then at full speed.
    let mut got = Vec::with_capacity(SIZE + 1024);
    let mut buf = vec![0u8; 256 << 10];
    let mut peak = 0;
    for i in 0.. {
        let n = tcp.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if i < 40 {
            std::thread::sleep(Duration::from_millis(10));
            peak = peak.max(p.rss_kib());
        }
    }
    let r = parse_resp(&got);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(&*SIZE.to_string()));
    assert_eq!(r.body.len(), SIZE);
    assert!(r.body == pattern, "the body differs from the file");
    let hwm = p.hwm_kib();
    eprintln!(
        "static 64 MiB: rss before {before} KiB, peak seen {peak} KiB, high-water mark {hwm} KiB"
    );
    assert!(
        hwm < before + 16 * 1024,
        "the server's memory grew by {} KiB while sending a 64 MiB file",
        hwm - before
    );
}

// ---- the Origin check ----

/// A WebSocket upgrade with these `Host` and `Origin` header values (raw
/// bytes, so malformed ones go out as they are): the status, and the body
/// for a refusal.
fn upgrade(port: u16, path: &str, host: &str, origin: Option<&[u8]>) -> (u16, String) {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    )
    .into_bytes();
    if let Some(o) = origin {
        req.extend_from_slice(b"Origin: ");
        req.extend_from_slice(o);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(&req).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // A 101 leaves the connection open: stop after its head.
    while !got.windows(4).any(|w| w == b"\r\n\r\n") || !got.starts_with(b"HTTP/1.1 101") {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.starts_with(b"HTTP/1.1 101") && got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let r = parse_resp(&got);
    (r.status, r.text())
}

/// A connection in room "observers". The 101 goes out before `on_connect`
/// runs; a reply to a message proves `on_connect` (which joins the room)
/// has finished.
fn observer(p: &Proc) -> Client {
    let mut obs = p.connect("/observe");
    assert_eq!(ask_for(&mut obs, "sync", "echo"), "echo sync");
    obs
}

/// The paths the observer saw connect (sorted): read until the marker
/// connection, made after every attempt of the batch, and at least
/// `accepted` others have been announced. The accepted upgrades' `on_connect`
/// may run in any order (each in its connection's task), so they are waited
/// for by count; a refused upgrade, had it reached `on_connect`, would have
/// been announced before its 403 was sent, so before the marker.
fn connected(p: &Proc, obs: &mut Client, marker: &str, accepted: usize) -> Vec<String> {
    let _m = p.connect(marker);
    let mut seen = Vec::new();
    let mut marked = false;
    while !marked || seen.len() < accepted {
        let m = recv_text(obs);
        let path = m.strip_prefix("connect ").unwrap().to_string();
        if path == marker {
            marked = true;
        } else {
            seen.push(path);
        }
    }
    seen.sort();
    seen
}

/// Stops the server and answers what it wrote on stderr.
fn stderr_of(mut p: Proc) -> String {
    let _ = p.child.kill();
    let _ = p.child.wait();
    let mut err = String::new();
    p.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn foreign_origins_are_refused_before_on_connect() {
    let p = start_server(WEB, &[]);
    let port = p.port;
    let mut obs = observer(&p);
    let mut bystander = p.connect("/bystander");
    let own = format!("127.0.0.1:{port}");
    let accepted: Vec<(&str, String, Option<String>)> = vec![
        ("/ok/none", own.clone(), None),
        (
            "/ok/own",
            own.clone(),
            Some(format!("http://127.0.0.1:{port}")),
        ),
        (
            "/ok/own-https",
            own.clone(),
            Some(format!("https://127.0.0.1:{port}")),
        ),
        (
            "/ok/case",
            format!("LocalHost:{port}"),
            Some(format!("HTTP://LOCALHOST:{port}")),
        ),
        (
            "/ok/default-port",
            "example.com".into(),
            Some("https://example.com".into()),
        ),
    ];
    for (path, host, origin) in &accepted {
        let (status, _) = upgrade(port, path, host, origin.as_deref().map(str::as_bytes));
        assert_eq!(status, 101, "{path} {origin:?}");
    }
    let long = format!("http://{}.example", "a".repeat(10_000));
    let refused: Vec<(&str, String, Vec<u8>)> = vec![
        ("/no/evil", own.clone(), b"http://evil.example".to_vec()),
        (
            "/no/evil-again",
            own.clone(),
            b"http://evil.example".to_vec(),
        ),
        (
            "/no/other-port",
            own.clone(),
            format!("http://127.0.0.1:{}", port ^ 1).into_bytes(),
        ),
        ("/no/no-port", own.clone(), b"http://127.0.0.1".to_vec()),
        (
            "/no/port-suffix",
            own.clone(),
            format!("http://127.0.0.1:{port}.evil.net").into_bytes(),
        ),
        (
            "/no/host-suffix",
            own.clone(),
            format!("http://127.0.0.1.evil.net:{port}").into_bytes(),
        ),
        (
            "/no/prefix",
            own.clone(),
            format!("http://evil.net/http://127.0.0.1:{port}").into_bytes(),
        ),
        (
            "/no/userinfo",
            own.clone(),
            format!("http://127.0.0.1:{port}@evil.net").into_bytes(),
        ),
        (
            "/no/default-port",
            "example.com".into(),
            b"https://example.com:8443".to_vec(),
        ),
        ("/no/null", own.clone(), b"null".to_vec()),
        ("/no/empty", own.clone(), b"".to_vec()),
        ("/no/garbage", own.clone(), b"garbage !@#$".to_vec()),
        ("/no/scheme-only", own.clone(), b"http://".to_vec()),
        (
            "/no/big-port",
            own.clone(),
            b"http://127.0.0.1:999999".to_vec(),
        ),
        ("/no/binary", own.clone(), b"http://\xff\xfe:1".to_vec()),
        ("/no/long", own.clone(), long.into_bytes()),
    ];
    for (path, host, origin) in &refused {
        let (status, body) = upgrade(port, path, host, Some(origin));
        assert_eq!(status, 403, "{path} {:?}", String::from_utf8_lossy(origin));
        assert_eq!(body, "origin not allowed\n");
    }
    // Exactly the accepted upgrades ran on_connect, in order.
    let mut expected = vec!["/bystander".to_string()];
    expected.extend(accepted.iter().map(|(p, ..)| p.to_string()));
    expected.sort();
    assert_eq!(connected(&p, &mut obs, "/marker", expected.len()), expected);
    // Other connections carried on.
    assert_eq!(ask_for(&mut bystander, "still", "echo"), "echo still");
    let err = stderr_of(p);
    assert_eq!(err.matches("\"http://evil.example\"").count(), 1, "{err}");
    assert!(
        err.contains("SNOW_WS_ALLOWED_ORIGINS=http://evil.example"),
        "{err}"
    );
    assert!(err.contains("malformed origin \"null\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn allowed_origins_are_matched_as_origins() {
    let p = start_server(
        WEB,
        &[(
            "SNOW_WS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000",
        )],
    );
    let port = p.port;
    let mut obs = observer(&p);
    let own = format!("127.0.0.1:{port}");
    for origin in [
        "https://app.example.com",
        "https://app.example.com:443",
        "HTTPS://APP.EXAMPLE.COM",
        "http://localhost:3000",
    ] {
        assert_eq!(
            upgrade(port, "/ok", &own, Some(origin.as_bytes())).0,
            101,
            "{origin}"
        );
    }
    assert_eq!(
        upgrade(
            port,
            "/ok",
            &own,
            Some(format!("http://127.0.0.1:{port}").as_bytes())
        )
        .0,
        101,
        "the server's own origin stays allowed"
    );
    for origin in [
        "https://app.example.com.evil.net",
        "https://evilapp.example.com",
        "https://app.example.com:8443",
        "http://app.example.com",
        "https://app.example.co",
        "http://localhost:30000",
        "http://localhost:300",
        "http://localhost",
        "http://evil.example",
        "null",
    ] {
        assert_eq!(
            upgrade(port, "/no", &own, Some(origin.as_bytes())).0,
            403,
            "{origin}"
        );
    }
    assert_eq!(connected(&p, &mut obs, "/marker", 5), vec!["/ok"; 5]);
}

#[test]
fn a_star_allows_every_origin_and_bad_entries_are_reported() {
    let p = start_server(WEB, &[("SNOW_WS_ALLOWED_ORIGINS", "*")]);
    let own = format!("127.0.0.1:{}", p.port);
    for origin in [&b"http://evil.example"[..], b"null", b"", b"garbage"] {
        assert_eq!(upgrade(p.port, "/", &own, Some(origin)).0, 101);
    }
    let p = start_server(
        WEB,
        &[(
            "SNOW_WS_ALLOWED_ORIGINS",
            "app.example.com,https://ok.example",
        )],
    );
    let own = format!("127.0.0.1:{}", p.port);
    assert_eq!(
        upgrade(p.port, "/", &own, Some(b"https://ok.example")).0,
        101
    );
    assert_eq!(
        upgrade(p.port, "/", &own, Some(b"https://app.example.com")).0,
        403
    );
    let err = stderr_of(p);
    assert!(
        err.contains("ignoring \"app.example.com\" in SNOW_WS_ALLOWED_ORIGINS"),
        "{err}"
    );
}

// ---- examples/chat-web's server, without a browser ----

const CHAT_WEB: &str = "examples/chat-web/server.snow";

fn chat_web() -> Proc {
    let www = common::repo_root().join("examples/chat-web/www");
    start_server(CHAT_WEB, &[("CHAT_WEB_DIR", www.to_str().unwrap())])
}

/// The next message of `ws` whose "type" is `kind`, as compact JSON.
fn next_of(ws: &mut Client, kind: &str) -> String {
    let tag = format!("{{\"type\":\"{kind}\"");
    loop {
        let m = recv_text(ws);
        if m.starts_with(&tag) {
            return m;
        }
    }
}

#[test]
fn chat_web_serves_its_page_and_speaks_its_json_protocol() {
    let p = chat_web();
    let page = get(p.port, "/");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("<script src=\"app.js\""),
        "{}",
        page.text()
    );
    assert_eq!(
        get(p.port, "/app.js").header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        get(p.port, "/style.css").header("content-type"),
        Some("text/css; charset=utf-8")
    );

    let mut a = p.connect("/ws");
    let hello = next_of(&mut a, "hello");
    let ida: i64 = hello
        .split("\"id\":")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{hello}"));
    assert_eq!(
        hello,
        format!("{{\"type\":\"hello\",\"id\":{ida},\"nick\":\"guest-{ida}\"}}")
    );
    let meta = |id: i64, nick: &str| format!(r#"{{"id":{id},"nick":"{nick}"}}"#);
    let diff = |room: &str, joins: &[String], leaves: &[String]| {
        format!(
            r#"{{"type":"presence_diff","room":"{room}","joins":[{}],"leaves":[{}]}}"#,
            joins.join(","),
            leaves.join(",")
        )
    };
    send_text(&mut a, r#"{"type":"nick","nick":"  ada  "}"#);
    send_text(&mut a, r#"{"type":"join","room":"lobby","since":0}"#);
    assert_eq!(
        next_of(&mut a, "presence_state"),
        format!(
            r#"{{"type":"presence_state","room":"lobby","members":[{}]}}"#,
            meta(ida, "ada")
        )
    );
    assert_eq!(
        next_of(&mut a, "presence_diff"),
        diff("lobby", &[meta(ida, "ada")], &[])
    );

    let mut b = p.connect("/ws");
    let idb = ida + 1;
    send_text(&mut b, r#"{"type":"join","room":"lobby"}"#);
    assert_eq!(
        next_of(&mut b, "presence_state"),
        format!(
            r#"{{"type":"presence_state","room":"lobby","members":[{},{}]}}"#,
            meta(ida, "ada"),
            meta(idb, &format!("guest-{idb}"))
        )
    );
    let joined_b = diff("lobby", &[meta(idb, &format!("guest-{idb}"))], &[]);
    assert_eq!(next_of(&mut a, "presence_diff"), joined_b);
    assert_eq!(next_of(&mut b, "presence_diff"), joined_b);
    // A new nickname is a meta change: a join with the new meta.
    send_text(&mut b, r#"{"type":"nick","nick":"bob"}"#);
    let renamed = next_of(&mut a, "presence_diff");
    assert!(
        renamed.starts_with(&format!(
            r#"{{"type":"presence_diff","room":"lobby","joins":[{}]"#,
            meta(idb, "bob")
        )),
        "{renamed}"
    );
    assert_eq!(next_of(&mut b, "presence_diff"), renamed);
    send_text(&mut b, r#"{"type":"say","text":"hi \"ada\" 😀"}"#);
    let said = |off: i64, text: &str| {
        format!(
            r#"{{"type":"said","room":"lobby","id":{idb},"nick":"bob","off":{off},"text":"{text}"}}"#
        )
    };
    assert_eq!(next_of(&mut a, "said"), said(1, r#"hi \"ada\" 😀"#));
    assert_eq!(
        next_of(&mut b, "said"),
        said(1, r#"hi \"ada\" 😀"#),
        "the sender gets its own message"
    );
    send_text(&mut b, r#"{"type":"say","text":"second"}"#);
    assert_eq!(next_of(&mut a, "said"), said(2, "second"));
    // Bad input gets an error, to the sender only.
    for (bad, error) in [
        (
            "not json",
            "not JSON: invalid literal, expected `true`, `false` or `null` at byte 1",
        ),
        (r#"{"type":"dance"}"#, "unknown message type \"dance\""),
        (
            r#"{"type":"say","text":"   "}"#,
            "a message has 1 to 1000 characters",
        ),
        (
            r#"{"type":"join","room":""}"#,
            "a room name has 1 to 32 characters",
        ),
        (
            r#"{"type":"nick","nick":7}"#,
            "a nickname has 1 to 24 characters",
        ),
    ] {
        send_text(&mut a, bad);
        assert_eq!(
            next_of(&mut a, "error"),
            format!(
                r#"{{"type":"error","message":"{}"}}"#,
                error.replace('"', "\\\"")
            ),
            "{bad}"
        );
    }
    // A page that comes back with the last offset it saw gets what it
    // missed, and only that; one with none gets the room's history.
    let mut c = p.connect("/ws");
    send_text(&mut c, r#"{"type":"join","room":"lobby","since":1}"#);
    assert_eq!(next_of(&mut c, "said"), said(2, "second"));
    let mut d = p.connect("/ws");
    send_text(&mut d, r#"{"type":"join","room":"lobby","since":0}"#);
    assert_eq!(next_of(&mut d, "said"), said(1, r#"hi \"ada\" 😀"#));
    assert_eq!(next_of(&mut d, "said"), said(2, "second"));
    // A `since` from a history that is gone (a restarted server) resets.
    send_text(&mut d, r#"{"type":"join","room":"lobby","since":99}"#);
    assert_eq!(
        next_of(&mut d, "reset"),
        r#"{"type":"reset","room":"lobby"}"#
    );
    c.close(None).unwrap();
    d.close(None).unwrap();
    // Moving rooms is a leave in the old room's presence.
    send_text(&mut b, r#"{"type":"join","room":"garden"}"#);
    let left = next_of(&mut a, "presence_diff");
    assert!(
        left.ends_with(&format!(r#""leaves":[{}]}}"#, meta(idb, "bob"))),
        "{left}"
    );
    assert_eq!(
        next_of(&mut b, "presence_state"),
        format!(
            r#"{{"type":"presence_state","room":"garden","members":[{}]}}"#,
            meta(idb, "bob")
        )
    );
    assert_eq!(
        next_of(&mut b, "presence_diff"),
        diff("garden", &[meta(idb, "bob")], &[])
    );
    send_text(&mut a, r#"{"type":"say","text":"lobby only"}"#);
    next_of(&mut a, "said");
    send_text(&mut b, r#"{"type":"say","text":"garden only"}"#);
    assert_eq!(
        next_of(&mut b, "said"),
        format!(
            r#"{{"type":"said","room":"garden","id":{idb},"nick":"bob","off":1,"text":"garden only"}}"#
        ),
        "b got no lobby message after it left"
    );
    // A closed connection leaves the presence of its room.
    let mut e = p.connect("/ws");
    let ide = ida + 4;
    assert_eq!(
        next_of(&mut e, "hello"),
        format!("{{\"type\":\"hello\",\"id\":{ide},\"nick\":\"guest-{ide}\"}}")
    );
    send_text(&mut e, r#"{"type":"join","room":"garden"}"#);
    next_of(&mut e, "presence_state");
    // Its own join first (changes within 50 ms may come as one diff).
    assert_eq!(
        next_of(&mut e, "presence_diff"),
        diff("garden", &[meta(ide, &format!("guest-{ide}"))], &[])
    );
    b.close(None).unwrap();
    assert_eq!(
        next_of(&mut e, "presence_diff"),
        diff("garden", &[], &[meta(idb, "bob")])
    );
}

#[test]
fn chat_web_without_its_page_says_where_it_looked() {
    let exe = built(CHAT_WEB);
    let out = std::process::Command::new(exe)
        .current_dir(std::env::temp_dir())
        .env_remove("CHAT_WEB_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chat-web: cannot find the page's files"),
        "{err}"
    );
}
