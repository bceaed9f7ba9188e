//! A limit on the size of the upgrade request (`SNOW_WS_MAX_REQUEST_BYTES`).
//!
//! tungstenite has its own fixed limit (64 KiB of request head); this
//! adapter makes the limit configurable. While `remaining` is `Some`, reads
//! never return more than the bytes left, and a read once the budget is
//! spent fails, so a request head larger than the limit fails the handshake
//! whatever else the client pipelines after it. Once the handshake is done
//! the server lifts the limit ([`HeadLimit::lift`]).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(crate) struct HeadLimit<S> {
    inner: S,
    remaining: Option<usize>,
}

impl<S> HeadLimit<S> {
    pub(crate) fn new(inner: S, limit: usize) -> HeadLimit<S> {
        HeadLimit {
            inner,
            remaining: Some(limit),
        }
    }

    /// No limit from now on (the handshake is complete).
    pub(crate) fn lift(&mut self) {
        self.remaining = None;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadLimit<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.remaining {
            None => Pin::new(&mut this.inner).poll_read(cx, buf),
            Some(0) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "upgrade request too large",
            ))),
            Some(rem) => {
                let mut sub = buf.take(rem);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut sub))?;
                let n = sub.filled().len();
                // SAFETY: the inner reader initialised and filled `n` bytes
                // of `buf`'s unfilled part (through `sub`).
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                this.remaining = Some(rem - n);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadLimit<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
