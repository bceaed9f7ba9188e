//! A hook for fuzzing the frame reader (the `fuzz/` crate and the
//! regression tests): bytes a client sends after a completed handshake go
//! through the server's own reader (`reader.rs`), configured as the server
//! configures it (the message size limit, permessage-deflate with the
//! worker's shared inflater when `deflate` is set), in reads of a chosen
//! size, as TCP may split them.

use super::deflate::WorkerInflate;
use super::reader::{Event, Inflate, NoInflate, Reader};

/// What the server's reader made of the bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrameReport {
    /// Complete text and binary messages, in order: (is text, length).
    pub messages: Vec<(bool, usize)>,
    /// Pings, in order (their payload lengths).
    pub pings: Vec<usize>,
    /// The code of the client's close frame (1005 for one without a
    /// code), if it sent a valid one.
    pub client_close: Option<u16>,
    /// The close code the server fails the connection with, if it does.
    pub error_close: Option<u16>,
}

/// Feeds `data` (client-to-server bytes after the handshake, delivered in
/// reads of `chunk` bytes) to the server's frame reader with message limit
/// `max_message`, permessage-deflate negotiated when `deflate`. Never
/// panics for any input; the close code of a failure is one the server may
/// send for bad input.
pub fn read_client_bytes(
    data: &[u8],
    chunk: usize,
    max_message: usize,
    deflate: bool,
) -> FrameReport {
    let mut reader = Reader::new(max_message, deflate);
    let mut report = FrameReport::default();
    let mut bytes = data.to_vec();
    for part in bytes.chunks_mut(chunk.max(1)) {
        let mut sink = |e: Event<'_>| {
            match e {
                Event::Text(t) => report.messages.push((true, t.len())),
                Event::Binary(b) => report.messages.push((false, b.len())),
                Event::Ping(p) => report.pings.push(p.len()),
                Event::Pong(_) => {}
                Event::Close(c) => report.client_close = Some(c.map_or(1005, |(code, _)| code)),
            }
            true
        };
        let r = if deflate {
            WorkerInflate::with(|inf: &mut dyn Inflate| reader.feed(part, inf, &mut sink))
        } else {
            reader.feed(part, &mut NoInflate, &mut sink)
        };
        if let Err(f) = r {
            assert!(
                matches!(f.code, 1002 | 1007 | 1009),
                "unexpected close code {f}"
            );
            report.error_close = Some(f.code);
        }
        if reader.is_done() {
            break;
        }
    }
    report
}
