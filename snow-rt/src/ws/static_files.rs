//! Static files from the WebSocket port (`Ws.static_dir`, ws.md "Static
//! files"; decisions in docs/WS.md "Static files").
//!
//! A request that is not a WebSocket upgrade is answered here when the
//! server has a static directory: `GET`/`HEAD` of a file under it, 404 for
//! anything else a path can name, 405 for other methods. One response per
//! connection (`Connection: close`); the body is streamed from the file
//! through a fixed buffer, never read whole.
//!
//! # Staying inside the directory
//! Two independent layers, so a mistake in one is caught by the other:
//! 1. [`relative_path`] turns the request target into plain file-name
//!    segments or refuses it: each segment is percent-decoded once and
//!    refused when it is empty (`//`), starts with `.` (`.`, `..`, hidden
//!    files), or contains `/`, `\`, NUL or another control character after
//!    decoding. The path is then built segment by segment under the root, so
//!    it can never be absolute or climb out textually.
//! 2. [`open_beneath`] opens the file first and then proves that what it
//!    opened lies under the root: the path is canonicalised (all symlinks
//!    resolved), must start with the canonical root, and must name the very
//!    file that was opened (same device and inode as `fstat` of the open
//!    descriptor). Checking the opened descriptor rather than the path
//!    before opening leaves no time-of-check/time-of-use window: if a
//!    symlink is swapped between the open and the check, the inodes differ
//!    and the request gets 404. Symlinks that stay inside the root work.

use super::handshake::{reason_phrase, RequestHead};
use parking_lot::Mutex;
use percent_encoding::percent_decode_str;
use std::fs::{File, Metadata};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

/// The directory set by `Ws.static_dir` (canonical), for servers started
/// from now on.
static STATIC_DIR: Mutex<Option<Arc<Path>>> = Mutex::new(None);

/// The static directory servers started now use (`None`: plain requests
/// get 426).
pub(crate) fn configured() -> Option<Arc<Path>> {
    STATIC_DIR.lock().clone()
}

/// `Ws.static_dir(dir)`: 0, or -1 when `dir` is not a readable directory
/// (then the previous setting stays). Applies to every server started
/// afterwards in the process.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_static_dir(dir: i64) -> i64 {
    // SAFETY: a String word.
    let dir = unsafe { crate::rt::str_ref(dir) };
    match readable_dir(Path::new(dir)) {
        Some(root) => {
            *STATIC_DIR.lock() = Some(root);
            0
        }
        None => -1,
    }
}

/// `dir` canonicalised, when it is a directory whose entries can be listed.
pub(crate) fn readable_dir(dir: &Path) -> Option<Arc<Path>> {
    if dir.as_os_str().is_empty() {
        return None;
    }
    let root = std::fs::canonicalize(dir).ok()?;
    if !std::fs::metadata(&root).ok()?.is_dir() {
        return None;
    }
    std::fs::read_dir(&root).ok()?;
    Some(Arc::from(root.as_path()))
}

/// A request path that passed the textual checks: file-name segments under
/// the root, and whether the path ended with `/` (a directory).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RelPath {
    pub segments: Vec<String>,
    pub dir: bool,
}

/// The file-name segments a request target names, or `None` when it can
/// name nothing under the root (answered 404). Accepts the origin form
/// (`/a/b?q`) and the absolute form (`http://host/a/b`, RFC 9112 3.2.2);
/// the query string is ignored.
pub(crate) fn relative_path(target: &str) -> Option<RelPath> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = if path.starts_with('/') {
        path
    } else {
        let lower = path.get(..8).unwrap_or(path).to_ascii_lowercase();
        let rest = if lower.starts_with("http://") {
            &path[7..]
        } else if lower.starts_with("https://") {
            &path[8..]
        } else {
            return None;
        };
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    };
    let body = &path[1..];
    let (body, dir) = match body.strip_suffix('/') {
        Some(b) => (b, true),
        None => (body, body.is_empty()),
    };
    let mut segments = Vec::new();
    if body.is_empty() {
        return if dir && path == "/" {
            Some(RelPath { segments, dir })
        } else {
            None // "//"
        };
    }
    for raw in body.split('/') {
        let seg = percent_decode_str(raw).decode_utf8().ok()?;
        if seg.is_empty()
            || seg.starts_with('.')
            || seg.chars().any(|c| c == '/' || c == '\\' || c.is_control())
        {
            return None;
        }
        segments.push(seg.into_owned());
    }
    Some(RelPath { segments, dir })
}

/// What a path opened to.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A regular file under the root, and its metadata.
    File(File, Metadata),
    /// A directory named without the trailing `/`: redirect to it.
    Redirect,
    /// Nothing servable (missing, outside the root, not a regular file).
    NotFound,
}

/// Opens the file `rel` names under `root` (canonical), `index.html` for a
/// directory path, and checks that what was opened lies under `root` (see
/// the module documentation). Blocking.
pub(crate) fn open_beneath(root: &Path, rel: &RelPath) -> Opened {
    let mut path = root.to_path_buf();
    path.extend(&rel.segments);
    if rel.dir {
        path.push("index.html");
    }
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a
    // terminal must not become the controlling one. Neither affects reads
    // of a regular file.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
    {
        Ok(f) => f,
        Err(_) => return Opened::NotFound,
    };
    let Ok(meta) = file.metadata() else {
        return Opened::NotFound;
    };
    if !beneath(root, &path, &meta) {
        return Opened::NotFound;
    }
    if meta.is_file() {
        Opened::File(file, meta)
    } else if meta.is_dir() && !rel.dir {
        Opened::Redirect
    } else {
        Opened::NotFound
    }
}

/// Whether `path`, with all symlinks resolved, lies under `root` and is the
/// file whose metadata (of the open descriptor) is `opened`.
fn beneath(root: &Path, path: &Path, opened: &Metadata) -> bool {
    let Ok(real) = std::fs::canonicalize(path) else {
        return false;
    };
    if !real.starts_with(root) {
        return false;
    }
    match std::fs::metadata(&real) {
        Ok(m) => m.dev() == opened.dev() && m.ino() == opened.ino(),
        Err(_) => false,
    }
}

/// The `Content-Type` for a file name, by its extension (case-insensitive).
pub(crate) fn content_type(name: &str) -> &'static str {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("wasm") => "application/wasm",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// What a `Location` path segment escapes: all but RFC 3986's unreserved
/// characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The body buffer of one response: files are streamed through it.
const CHUNK: usize = 64 << 10;

/// How long and how much the server keeps reading after its response, so
/// that unread request bytes (a POST body) do not make the kernel reset the
/// connection before the client read the response.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 256 << 10;

/// A response head: status line, `extra` header lines, then the common ones.
fn head_bytes(status: u16, extra: &[(&str, String)]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
    for (k, v) in extra {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n");
    r.into_bytes()
}

/// A short plain-text response (no body for HEAD).
fn simple(status: u16, extra: &[(&str, String)], body: &str, head_only: bool) -> Vec<u8> {
    let mut h: Vec<(&str, String)> = extra.to_vec();
    h.push(("Content-Type", "text/plain; charset=utf-8".into()));
    h.push(("Content-Length", body.len().to_string()));
    let mut r = head_bytes(status, &h);
    if !head_only {
        r.extend_from_slice(body.as_bytes());
    }
    r
}

/// Whether a file modified at `mtime` is unchanged since the request's
/// `If-Modified-Since` (HTTP dates have whole seconds).
fn not_modified(head: &RequestHead, mtime: SystemTime) -> bool {
    let Some(since) = head
        .header("if-modified-since")
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    secs(mtime) <= secs(since)
}

/// Answers the plain request `head` from `root` on `wr` and closes the
/// connection. Each write (the head, each chunk of the body) must finish
/// within `write_timeout`; the whole transfer has no time limit.
pub(crate) async fn respond<R, W>(
    root: Arc<Path>,
    head: &RequestHead,
    rd: &mut R,
    wr: &mut W,
    write_timeout: Duration,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let head_only = head.method == "HEAD";
    let written = match response_head(root, head, head_only).await {
        Answer::Short(r) => write_within(wr, &r, write_timeout).await,
        Answer::File(r, file, len) => {
            let r = write_within(wr, &r, write_timeout).await;
            if r.is_ok() && !head_only {
                stream(file, len, wr, write_timeout).await
            } else {
                r
            }
        }
    };
    if written.is_err() {
        return; // the client is gone or stuck: just drop the socket
    }
    // Lingering close: FIN first, then read (and drop) what the client may
    // still send for a moment, so the response is not lost to a reset.
    if timeout(write_timeout, wr.shutdown()).await.is_ok() {
        let _ = timeout(LINGER, async {
            let mut sink = [0u8; 4096];
            let mut total = 0;
            while total < LINGER_BYTES {
                match rd.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
            }
        })
        .await;
    }
}

enum Answer {
    /// A complete response.
    Short(Vec<u8>),
    /// A response head and the file (of `len` bytes) whose body follows.
    File(Vec<u8>, File, u64),
}

/// Resolves the request and builds the response head.
async fn response_head(root: Arc<Path>, head: &RequestHead, head_only: bool) -> Answer {
    if head.method != "GET" && head.method != "HEAD" {
        return Answer::Short(simple(
            405,
            &[("Allow", "GET, HEAD".into())],
            "method not allowed\n",
            head_only,
        ));
    }
    let not_found = || Answer::Short(simple(404, &[], "not found\n", head_only));
    let Some(rel) = relative_path(&head.target) else {
        return not_found();
    };
    let name = if rel.dir {
        "index.html".to_string()
    } else {
        rel.segments.last().cloned().unwrap_or_default()
    };
    let (opened, rel) =
        match tokio::task::spawn_blocking(move || (open_beneath(&root, &rel), rel)).await {
            Ok(r) => r,
            Err(_) => return not_found(),
        };
    match opened {
        Opened::NotFound => not_found(),
        Opened::Redirect => {
            // Only the validated segments go into Location (re-encoded), so
            // it is always a path on this server.
            let mut loc = String::new();
            for s in &rel.segments {
                loc.push('/');
                loc.extend(percent_encoding::utf8_percent_encode(s, PATH_SEGMENT));
            }
            loc.push('/');
            Answer::Short(simple(
                301,
                &[("Location", loc)],
                "moved permanently\n",
                head_only,
            ))
        }
        Opened::File(file, meta) => {
            let mtime = meta.modified().ok();
            let mut extra: Vec<(&str, String)> = Vec::new();
            if let Some(t) = mtime {
                extra.push(("Last-Modified", httpdate::fmt_http_date(t)));
            }
            extra.push(("Cache-Control", "no-cache".into()));
            if mtime.is_some_and(|t| not_modified(head, t)) {
                return Answer::Short(head_bytes(304, &extra));
            }
            extra.insert(0, ("Content-Type", content_type(&name).into()));
            extra.insert(1, ("Content-Length", meta.len().to_string()));
            Answer::File(head_bytes(200, &extra), file, meta.len())
        }
    }
}

/// Copies exactly `len` bytes of `file` to `wr` through one `CHUNK`
/// buffer. A file that shrank meanwhile ends the response early (the client
/// sees fewer bytes than `Content-Length` and the connection closing).
async fn stream<W: AsyncWrite + Unpin>(
    file: File,
    len: u64,
    wr: &mut W,
    write_timeout: Duration,
) -> std::io::Result<()> {
    let mut file = tokio::fs::File::from_std(file).take(len);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        write_within(wr, &buf[..n], write_timeout).await?;
    }
}

/// Writes all of `bytes`, failing when that takes longer than `limit`.
async fn write_within<W: AsyncWrite + Unpin>(
    wr: &mut W,
    bytes: &[u8],
    limit: Duration,
) -> std::io::Result<()> {
    timeout(limit, wr.write_all(bytes))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(target: &str) -> Option<Vec<String>> {
        relative_path(target).map(|r| r.segments)
    }

    #[test]
    fn plain_paths_become_segments() {
        assert_eq!(
            relative_path("/"),
            Some(RelPath {
                segments: vec![],
                dir: true
            })
        );
        assert_eq!(
            relative_path("/a/b.js?x=1#y"),
            Some(RelPath {
                segments: vec!["a".into(), "b.js".into()],
                dir: false
            })
        );
        assert_eq!(
            relative_path("/docs/"),
            Some(RelPath {
                segments: vec!["docs".into()],
                dir: true
            })
        );
        assert_eq!(
            rel("/a%20b/%C3%A9.txt"),
            Some(vec!["a b".into(), "é.txt".into()])
        );
        assert_eq!(rel("http://h:1/x"), Some(vec!["x".into()]));
        assert_eq!(rel("HTTPS://h"), Some(vec![]));
        // Double encoding is decoded once: a file literally named "%2e%2e".
        assert_eq!(rel("/%252e%252e"), Some(vec!["%2e%2e".into()]));
    }

    #[test]
    fn every_escape_form_is_refused() {
        for t in [
            "/..",
            "/../x",
            "/a/../../x",
            "/a/..",
            "/./x",
            "/.hidden",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/.%2e/x",
            "/%2e./x",
            "/..%2fx",
            "/a%2f..%2f..%2fx",
            "/%2fetc/passwd",
            "/a%2Fb",
            "/..\\x",
            "/a\\b",
            "/%5c..%5cx",
            "/x%00.txt",
            "/%00",
            "/a%0ab",
            "//etc/passwd",
            "//",
            "/a//b",
            "/a/b//",
            "*",
            "x",
            "",
            "ftp://h/x",
            "http://h/../x",
            "/%ff",
            "/%c0%ae%c0%ae/x",
        ] {
            assert_eq!(relative_path(t), None, "{t:?}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("A.JS"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("m.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("s.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("d.json"), "application/json");
        assert_eq!(content_type("i.svg"), "image/svg+xml");
        assert_eq!(content_type("i.png"), "image/png");
        assert_eq!(content_type("i.jpg"), "image/jpeg");
        assert_eq!(content_type("favicon.ico"), "image/x-icon");
        assert_eq!(content_type("m.wasm"), "application/wasm");
        assert_eq!(content_type("r.txt"), "text/plain; charset=utf-8");
        assert_eq!(content_type("x.tar.gz"), "application/octet-stream");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
    }

    #[test]
    fn opening_checks_what_was_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("www");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "home").unwrap();
        std::fs::write(root.join("sub/a.txt"), "a").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("outdir")).unwrap();
        std::os::unix::fs::symlink("sub/a.txt", root.join("in")).unwrap();
        let root = readable_dir(&root).unwrap();
        let open = |t: &str| open_beneath(&root, &relative_path(t).unwrap());
        assert!(matches!(open("/"), Opened::File(_, m) if m.len() == 4));
        assert!(matches!(open("/sub/a.txt"), Opened::File(..)));
        assert!(matches!(open("/in"), Opened::File(..)), "a symlink inside");
        assert!(matches!(open("/sub"), Opened::Redirect));
        assert!(matches!(open("/sub/"), Opened::NotFound), "no index.html");
        assert!(matches!(open("/out"), Opened::NotFound));
        assert!(matches!(open("/outdir/secret.txt"), Opened::NotFound));
        assert!(matches!(open("/outdir"), Opened::NotFound));
        assert!(matches!(open("/missing"), Opened::NotFound));
        assert!(readable_dir(&tmp.path().join("secret.txt")).is_none());
        assert!(readable_dir(&tmp.path().join("nope")).is_none());
        assert!(readable_dir(Path::new("")).is_none());
    }
}
