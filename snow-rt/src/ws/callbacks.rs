//! A server's three Snow closures and how each is called: every call runs
//! in a callback region of its own (`rt::run_callback`: values built for
//! it and by it are freed when it returns, panics and limits end it with an
//! [`Abort`]). The connection's task calls them in arrival order
//! (`server.rs`: `on_connect`, `on_close`; `session.rs`: the messages).

use crate::rt::{
    call2, call3, new_bytes, new_ctor, new_str, run_callback, Abort, TAG_BINARY, TAG_TEXT,
};
use crate::stdlib::map::from_string_pairs;

/// The three Snow closures of a server (closure object words, see
/// docs/ABI.md) and which kind of message callback `on_message` is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Callbacks {
    pub on_connect: i64,
    /// `on_message(conn, String)` or, with `frames`, `on_frame(conn, Frame)`.
    pub on_message: i64,
    pub on_close: i64,
    pub frames: bool,
}

/// `on_connect(conn, path, headers)`: whether the connection is accepted.
/// The request's path and headers are Rust strings dropped when this
/// returns (the callback gets Snow copies in its region).
pub(crate) fn on_connect(
    cbs: Callbacks,
    id: u64,
    path: String,
    headers: Vec<(String, String)>,
) -> Result<bool, Abort> {
    run_callback(move || {
        let p = new_str(&path);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let h = from_string_pairs(&pairs);
        // SAFETY: on_connect is a Snow closure of three parameters.
        unsafe { call3(cbs.on_connect, id as i64, p, h) != 0 }
    })
}

/// `on_message(conn, text)`, or `on_frame(conn, Text(text))`.
#[inline]
pub(crate) fn on_text(cbs: Callbacks, id: u64, text: &str) -> Result<(), Abort> {
    run_callback(|| {
        let s = new_str(text);
        let arg = if cbs.frames {
            new_ctor(TAG_TEXT, &[s])
        } else {
            s
        };
        // SAFETY: a Snow closure of two parameters.
        unsafe { call2(cbs.on_message, id as i64, arg) };
    })
}

/// `on_frame(conn, Binary(bytes))` (only a `serve_frames` server gets them).
#[inline]
pub(crate) fn on_binary(cbs: Callbacks, id: u64, bytes: &[u8]) -> Result<(), Abort> {
    run_callback(|| {
        let arg = new_ctor(TAG_BINARY, &[new_bytes(bytes)]);
        // SAFETY: a Snow closure of two parameters.
        unsafe { call2(cbs.on_message, id as i64, arg) };
    })
}

/// `on_close(conn, code, reason)`. How it ends changes nothing: the
/// connection is gone either way.
pub(crate) fn on_close(cbs: Callbacks, id: u64, code: u16, reason: &str) {
    let _ = run_callback(|| {
        let r = new_str(reason);
        // SAFETY: on_close is a Snow closure of three parameters.
        unsafe { call3(cbs.on_close, id as i64, code as i64, r) };
    });
}
