//! A Redis connection of a node, spoken in RESP2 without a client
//! library's command layer: TCP, TLS (`rediss://`, rustls with the system's
//! root certificates) or a Unix socket to the address redis-rs parsed from
//! `SNOW_WS_REDIS_URL`, `AUTH` when the URL has a password, then commands
//! written as RESP arrays and replies (or pub/sub pushes) decoded by
//! redis-protocol (`decode_bytes_mut`: zero copy, a channel name or payload
//! is a view into the read buffer).
//!
//! A session uses two: a subscriber and a publisher. Why not redis-rs's
//! connections (docs/CLUSTER.md, "The Redis client"): every cross-node
//! message is one PUBLISH on a node and one push on the others, and with
//! redis-rs (its `combine` parser building owned values, an unbounded
//! channel of pushes, a `Cmd` and a pipeline copy per PUBLISH) the cluster
//! thread cost more CPU than a node's whole WebSocket side; its unbounded
//! push channel also let a node that falls behind buffer without limit.
//! Here the socket is read only when the previous push was handled, so a
//! slow node leaves its backlog in Redis, whose `client-output-buffer-limit
//! pubsub` bounds it (the node is then disconnected and resubscribes: at
//! most once, as documented), and a PUBLISH is encoded straight into the
//! write buffer.

use bytes::{Bytes, BytesMut};
use redis::ConnectionAddr;
use redis_protocol::resp2::decode::decode_bytes_mut;
use redis_protocol::resp2::types::BytesFrame;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Stream = Box<dyn Io>;

/// The read side: decoded pushes, one at a time.
pub(super) struct Reader {
    rd: ReadHalf<Stream>,
    buf: BytesMut,
}

/// The write side: commands.
pub(super) struct Writer {
    wr: WriteHalf<Stream>,
}

/// A reply, or what Redis pushed to a subscriber.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Push {
    Message {
        channel: Bytes,
        payload: Bytes,
    },
    /// The confirmation of one channel of a `SUBSCRIBE`.
    Subscribed,
    /// The confirmation of one channel of an `UNSUBSCRIBE`.
    Unsubscribed,
    /// An integer reply (`PUBLISH`, `INCR`, ...).
    Integer(i64),
    /// An error reply (e.g. to a failed `AUTH`).
    Error(String),
    Other,
}

/// Appends a RESP2 array of bulk strings to `v`.
pub(super) fn encode_into(v: &mut Vec<u8>, args: &[&[u8]]) {
    use std::io::Write;
    let _ = write!(v, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(v, "${}\r\n", a.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
}

/// A RESP2 array of bulk strings.
pub(super) fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    encode_into(&mut v, args);
    v
}

fn classify(frame: BytesFrame) -> Push {
    match frame {
        BytesFrame::Array(mut v) if v.len() == 3 => {
            let kind = match &v[0] {
                BytesFrame::BulkString(b) | BytesFrame::SimpleString(b) => b.clone(),
                _ => return Push::Other,
            };
            match &kind[..] {
                b"message" => {
                    let payload = v.pop();
                    let channel = v.pop();
                    match (channel, payload) {
                        (
                            Some(BytesFrame::BulkString(channel)),
                            Some(BytesFrame::BulkString(payload)),
                        ) => Push::Message { channel, payload },
                        _ => Push::Other,
                    }
                }
                b"subscribe" => Push::Subscribed,
                b"unsubscribe" => Push::Unsubscribed,
                _ => Push::Other,
            }
        }
        BytesFrame::Error(e) => Push::Error(e.to_string()),
        BytesFrame::Integer(n) => Push::Integer(n),
        _ => Push::Other,
    }
}

impl Reader {
    /// The next push. `Err` when the connection ended or sent something
    /// that is not RESP2.
    pub(super) async fn next(&mut self) -> Result<Push, String> {
        self.next_frame().await.map(classify)
    }

    /// The next reply as it was decoded (for replies that are not pushes:
    /// script answers, `XREAD`).
    pub(super) async fn next_frame(&mut self) -> Result<BytesFrame, String> {
        loop {
            match decode_bytes_mut(&mut self.buf) {
                Ok(Some((frame, _, _))) => return Ok(frame),
                Ok(None) => {}
                Err(e) => return Err(format!("unreadable reply from Redis: {e:?}")),
            }
            if self.buf.capacity() - self.buf.len() < 16 << 10 {
                self.buf.reserve(64 << 10);
            }
            match self.rd.read_buf(&mut self.buf).await {
                Ok(0) => return Err("Redis closed the connection".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

impl Writer {
    pub(super) async fn command(&mut self, args: &[&[u8]]) -> Result<(), String> {
        self.write(&encode(args)).await
    }

    /// Writes already encoded commands.
    pub(super) async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.wr.write_all(bytes).await.map_err(|e| e.to_string())
    }
}

/// Sends one command and answers its reply (on a connection with nothing
/// else in flight).
pub(super) async fn call(r: &mut Reader, w: &mut Writer, args: &[&[u8]]) -> Result<Push, String> {
    w.command(args).await?;
    match r.next().await? {
        Push::Error(e) => Err(e),
        reply => Ok(reply),
    }
}

/// [`call`] answering the reply as decoded.
pub(super) async fn call_frame(
    r: &mut Reader,
    w: &mut Writer,
    args: &[&[u8]],
) -> Result<BytesFrame, String> {
    w.command(args).await?;
    match r.next_frame().await? {
        BytesFrame::Error(e) => Err(e.to_string()),
        reply => Ok(reply),
    }
}

async fn open(addr: &ConnectionAddr) -> Result<Stream, String> {
    match addr {
        ConnectionAddr::Tcp(host, port) => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| e.to_string())?;
            let _ = s.set_nodelay(true);
            Ok(Box::new(s))
        }
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => {
            use tokio_rustls::rustls;
            if *insecure {
                return Err(
                    "rediss:// without certificate verification (#insecure) is not supported"
                        .into(),
                );
            }
            let tcp = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
            let name =
                rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Box::new(tls))
        }
        ConnectionAddr::Unix(path) => {
            let s = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Box::new(s))
        }
        other => Err(format!("unsupported Redis address {other}")),
    }
}

/// Opens a connection and authenticates (errors never contain the
/// password).
pub(super) async fn connect(info: &redis::ConnectionInfo) -> Result<(Reader, Writer), String> {
    let (rd, wr) = tokio::io::split(open(info.addr()).await?);
    let mut r = Reader {
        rd,
        buf: BytesMut::with_capacity(64 << 10),
    };
    let mut w = Writer { wr };
    let settings = info.redis_settings();
    if let Some(password) = settings.password() {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(user) = settings.username() {
            args.push(user.as_bytes());
        }
        args.push(password.as_bytes());
        w.command(&args).await?;
        if let Push::Error(e) = r.next().await? {
            return Err(format!("AUTH failed: {e}"));
        }
    }
    Ok((r, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Push> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Ok(Some((f, _, _))) = decode_bytes_mut(&mut buf) {
            out.push(classify(f));
        }
        out
    }

    #[test]
    fn pushes_are_classified() {
        let bytes = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n\
                      *3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhe\r\no\r\n\
                      *3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n\
                      -ERR wrong\r\n+PONG\r\n:-3\r\n";
        assert_eq!(
            decode_all(bytes),
            vec![
                Push::Subscribed,
                Push::Message {
                    channel: Bytes::from_static(b"a"),
                    payload: Bytes::from_static(b"he\r\no"),
                },
                Push::Unsubscribed,
                Push::Error("ERR wrong".into()),
                Push::Other,
                Push::Integer(-3),
            ]
        );
    }

    #[test]
    fn commands_are_resp_arrays() {
        assert_eq!(
            encode(&[b"SUBSCRIBE", b"snow:ws:view", b""]),
            b"*3\r\n$9\r\nSUBSCRIBE\r\n$12\r\nsnow:ws:view\r\n$0\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn a_partial_push_waits_for_more_bytes() {
        let whole = b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$3\r\nxyz\r\n";
        for n in 0..whole.len() {
            let mut buf = BytesMut::from(&whole[..n]);
            assert!(matches!(decode_bytes_mut(&mut buf), Ok(None)), "prefix {n}");
        }
    }
}
