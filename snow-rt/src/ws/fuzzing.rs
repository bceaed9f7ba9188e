//! A hook for fuzzing the frame reader (the `fuzz/` crate and the
//! regression tests): bytes a client sends after a completed handshake go
//! through the reader exactly as the server builds it (tungstenite with the
//! server's `ws_config`: server role, size limits, read buffer size; over
//! the server's `WsIo`, so what tungstenite writes lands in a connection's
//! queue), and every read error is mapped to a close code by the server's
//! own `classify`.

use super::config::ServerConfig;
use super::conn::ConnState;
use super::wire::WsIo;
use futures_util::StreamExt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What the server's reader made of the bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrameReport {
    /// Complete text and binary messages, in order (text first byte 't').
    pub messages: Vec<(bool, usize)>,
    /// The close code the client sent, if it sent a close frame.
    pub client_close: Option<u16>,
    /// The close code the server would send for a read error.
    pub error_close: Option<u16>,
    /// The close code of the close frame the reader itself queued (its
    /// answer to the client's close frame), if any.
    pub reply_close: Option<u16>,
}

/// An in-memory socket: reads come from `input` in chunks of `chunk`
/// bytes (as TCP may split them), writes are discarded.
struct Mem<'a> {
    input: &'a [u8],
    chunk: usize,
}

impl AsyncRead for Mem<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.input.len().min(buf.remaining()).min(self.chunk);
        buf.put_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Mem<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Feeds `data` (client-to-server bytes after the handshake, delivered in
/// reads of `chunk` bytes) to the server's frame reader with message limit
/// `max_message`. Never panics for any input; the close code of an error
/// is one the server may send.
pub fn read_client_bytes(data: &[u8], chunk: usize, max_message: usize) -> FrameReport {
    let mut cfg = ServerConfig::defaults(0);
    cfg.max_message = max_message;
    let ws_config = super::server::ws_config(&cfg);
    let state = Arc::new(ConnState::new(u64::MAX - 1, cfg.max_queue));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async {
        let io = Mem {
            input: data,
            chunk: chunk.max(1),
        };
        let (rd, _wr) = tokio::io::split(io);
        let io = WsIo::new(rd, state.clone());
        let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(ws_config)).await;
        let mut report = FrameReport::default();
        while let Some(m) = ws.next().await {
            match m {
                Ok(Message::Text(t)) => report.messages.push((true, t.len())),
                Ok(Message::Binary(b)) => report.messages.push((false, b.len())),
                Ok(Message::Close(f)) => {
                    report.client_close = Some(f.map_or(1005, |f| u16::from(f.code)));
                }
                Ok(_) => {}
                Err(e) => {
                    let (code, _, _) = super::server::classify(&e);
                    assert!(
                        matches!(code, 1002 | 1006 | 1007 | 1009 | 1011),
                        "unexpected close code {code} for {e}"
                    );
                    report.error_close = Some(code);
                    break;
                }
            }
        }
        report.reply_close = state.out.queued_close_code();
        report
    })
}
