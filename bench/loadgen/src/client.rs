//! One WebSocket client (tokio-tungstenite) for every server, with a
//! protocol adapter: plain WebSocket text messages, or Socket.IO (Engine.IO
//! v4 over the WebSocket transport: open `0{...}`, connect `40`, events
//! `42["msg","..."]`, ping `2` answered with pong `3`).

use flate2::{Decompress, FlushDecompress};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, WebSocketStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Plain,
    SocketIo,
}

impl Proto {
    pub fn parse(s: &str) -> Option<Proto> {
        match s {
            "plain" | "ws" => Some(Proto::Plain),
            "socketio" | "socket.io" => Some(Proto::SocketIo),
            _ => None,
        }
    }
}

/// The URL a client of `proto` uses to reach `room` (None: no room, echo).
pub fn url(addr: &str, proto: Proto, room: Option<&str>) -> String {
    match (proto, room) {
        (Proto::Plain, Some(r)) => format!("ws://{addr}/r/{r}"),
        (Proto::Plain, None) => format!("ws://{addr}/"),
        (Proto::SocketIo, Some(r)) => {
            format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&room={r}")
        }
        (Proto::SocketIo, None) => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
    }
}

/// Wraps an application payload for the wire (`payload` must not need JSON
/// escaping: the benchmark only sends letters, digits, spaces and `/`).
pub fn encode(proto: Proto, payload: &str, out: &mut String) {
    out.clear();
    match proto {
        Proto::Plain => out.push_str(payload),
        Proto::SocketIo => {
            out.push_str("42[\"msg\",\"");
            out.push_str(payload);
            out.push_str("\"]");
        }
    }
}

/// What a received text frame means.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An application message.
    Payload(&'a str),
    /// A Socket.IO ping: answer with a pong.
    Ping,
    /// Protocol chatter to ignore.
    Other,
}

pub fn decode(proto: Proto, text: &str) -> Decoded<'_> {
    match proto {
        Proto::Plain => Decoded::Payload(text),
        Proto::SocketIo => {
            if text == "2" {
                return Decoded::Ping;
            }
            match text
                .strip_prefix("42[\"msg\",\"")
                .and_then(|t| t.strip_suffix("\"]"))
            {
                Some(p) => Decoded::Payload(p),
                None => Decoded::Other,
            }
        }
    }
}

/// One connection. The handshake (and Socket.IO's opening exchange) goes
/// through tokio-tungstenite; after that the data path reads and writes the
/// socket directly with the small frame codec below ([`parse_frame`],
/// [`put_frame`]), because tungstenite's per-message cost (one allocation,
/// a copy and a task wake-up per frame, about 250 ns on this machine) would
/// make the client, not the server, the bottleneck of the fan-out scenarios.
/// The servers never send anything before the client's first message, so
/// tungstenite holds no read-ahead when the socket is taken over.
pub struct Client {
    ws: WebSocketStream<TcpStream>,
    proto: Proto,
    text: String,
    rbuf: Vec<u8>,
    /// The most one read takes from the socket (a slow reader's pace).
    read_max: usize,
    rstart: usize,
    rend: usize,
    wbuf: Vec<u8>,
    mask: u32,
    /// permessage-deflate, when the server accepted the offer.
    inflate: Option<Inflater>,
    /// Payload bytes of data frames received, as they came on the wire
    /// (compressed or not), for "bytes per delivery".
    pub wire_bytes: u64,
    /// The close code of a close frame the server sent, if one came.
    pub closed_with: Option<u16>,
}

/// The client side of permessage-deflate (RFC 7692): one inflater per
/// connection, reset after each message when the server does not keep its
/// context (`server_no_context_takeover`), kept otherwise.
struct Inflater {
    d: Decompress,
    reset: bool,
    out: Vec<u8>,
}

impl Inflater {
    /// The message's text, inflated from `payload` (without the trailer).
    fn inflate(&mut self, payload: &[u8]) -> Option<&[u8]> {
        self.out.clear();
        for input in [payload, &[0, 0, 0xff, 0xff][..]] {
            let mut pos = 0;
            loop {
                if self.out.len() == self.out.capacity() {
                    self.out.reserve(self.out.capacity().max(256));
                }
                let before = self.d.total_in();
                self.d
                    .decompress_vec(&input[pos..], &mut self.out, FlushDecompress::Sync)
                    .ok()?;
                pos += (self.d.total_in() - before) as usize;
                if pos >= input.len() && self.out.len() < self.out.capacity() {
                    break;
                }
            }
        }
        if self.reset {
            self.d.reset(false);
        }
        Some(&self.out)
    }
}

/// A frame header parsed from the front of a buffer: opcode, payload
/// range, whole frame length.
#[derive(Debug, PartialEq, Eq)]
pub struct FrameAt {
    pub opcode: u8,
    pub payload: std::ops::Range<usize>,
    pub len: usize,
}

/// Parses the server frame at the start of `b` (`None`: incomplete).
pub fn parse_frame(b: &[u8]) -> Option<FrameAt> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let masked = b[1] & 0x80 != 0;
    let (len, mut at) = match b[1] & 0x7f {
        126 => {
            if b.len() < 4 {
                return None;
            }
            (u16::from_be_bytes([b[2], b[3]]) as usize, 4)
        }
        127 => {
            if b.len() < 10 {
                return None;
            }
            (u64::from_be_bytes(b[2..10].try_into().ok()?) as usize, 10)
        }
        n => (n as usize, 2),
    };
    if masked {
        at += 4; // servers do not mask; skip the key if one ever does
    }
    if b.len() < at + len {
        return None;
    }
    Some(FrameAt {
        opcode,
        payload: at..at + len,
        len: at + len,
    })
}

/// Appends a masked client frame (FIN set) to `out`.
pub fn put_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: u32) {
    out.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n <= u16::MAX as usize {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    let key = mask.to_be_bytes();
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
}

impl Client {
    /// Connects; with `deflate`, offers permessage-deflate (as browsers do:
    /// `client_max_window_bits`), and inflates what the server compresses.
    pub async fn connect(
        addr: &str,
        proto: Proto,
        room: Option<&str>,
        deflate: bool,
    ) -> Result<Client, String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let mut req = url(addr, proto, room)
            .into_client_request()
            .map_err(|e| e.to_string())?;
        if deflate {
            req.headers_mut().insert(
                "Sec-WebSocket-Extensions",
                "permessage-deflate; client_max_window_bits"
                    .parse()
                    .unwrap(),
            );
        }
        let (ws, resp) = client_async(req, tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let ext = resp
            .headers()
            .get("sec-websocket-extensions")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if deflate && !ext.contains("permessage-deflate") {
            return Err(format!(
                "the server did not accept permessage-deflate ({ext:?})"
            ));
        }
        let inflate = ext.contains("permessage-deflate").then(|| Inflater {
            d: Decompress::new(false),
            reset: ext.contains("server_no_context_takeover"),
            out: Vec::with_capacity(4096),
        });
        static MASKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0x9e37_79b9);
        let mask = MASKS.fetch_add(0x6d2b_79f5, std::sync::atomic::Ordering::Relaxed);
        let mut c = Client {
            ws,
            proto,
            text: String::new(),
            rbuf: vec![0; 256 * 1024],
            read_max: usize::MAX,
            rstart: 0,
            rend: 0,
            wbuf: Vec::with_capacity(4096),
            mask,
            inflate,
            wire_bytes: 0,
            closed_with: None,
        };
        if proto == Proto::SocketIo {
            c.expect_prefix("0").await?;
            c.ws.send(Message::text("40"))
                .await
                .map_err(|e| e.to_string())?;
            c.expect_prefix("40").await?;
        }
        Ok(c)
    }

    async fn expect_prefix(&mut self, prefix: &str) -> Result<(), String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) if t.as_str().starts_with(prefix) => return Ok(()),
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    let _ = self.ws.send(Message::text("3")).await;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("closed during the Socket.IO handshake".into()),
            }
        }
    }

    /// Queues one application message (written by the next `flush`).
    pub fn feed(&mut self, payload: &str) {
        encode(self.proto, payload, &mut self.text);
        self.mask = self.mask.rotate_left(7) ^ 0x5bd1_e995;
        put_frame(&mut self.wbuf, 1, self.text.as_bytes(), self.mask);
    }

    /// Writes everything queued in one write.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let r = self.ws.get_mut().write_all(&self.wbuf).await;
        self.wbuf.clear();
        r
    }

    pub async fn send(&mut self, payload: &str) -> std::io::Result<()> {
        self.feed(payload);
        self.flush().await
    }

    /// Reads once from the socket and gives the payload of every complete
    /// application message to `f` (answering pings on the way). `Err` once
    /// the connection is closed or failed.
    /// Makes every read take at most `n` bytes from the socket.
    pub fn read_at_most(&mut self, n: usize) {
        self.read_max = n.max(1);
    }

    pub async fn recv_batch(&mut self, mut f: impl FnMut(&str)) -> std::io::Result<()> {
        use std::io::{Error, ErrorKind};
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        } else if self.rend == self.rbuf.len() {
            if self.rstart == 0 {
                let n = self.rbuf.len();
                self.rbuf.resize(n * 2, 0); // a frame larger than the buffer
            } else {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            }
        }
        let end = self.rbuf.len().min(self.rend.saturating_add(self.read_max));
        let n = self
            .ws
            .get_mut()
            .read(&mut self.rbuf[self.rend..end])
            .await?;
        if n == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "closed"));
        }
        self.rend += n;
        let mut pong = false;
        while let Some(fr) = parse_frame(&self.rbuf[self.rstart..self.rend]) {
            let p = &self.rbuf[self.rstart + fr.payload.start..self.rstart + fr.payload.end];
            let compressed = self.rbuf[self.rstart] & 0x40 != 0;
            match fr.opcode {
                0..=2 => {
                    self.wire_bytes += p.len() as u64;
                    let plain = match (&mut self.inflate, compressed) {
                        (Some(inf), true) => inf.inflate(p).ok_or_else(|| {
                            Error::new(ErrorKind::InvalidData, "bad deflate data")
                        })?,
                        (None, true) => {
                            return Err(Error::new(ErrorKind::InvalidData, "RSV1 without deflate"))
                        }
                        _ => p,
                    };
                    let text = std::str::from_utf8(plain).unwrap_or("");
                    match decode(self.proto, text) {
                        Decoded::Payload(t) => f(t),
                        Decoded::Ping => pong = true,
                        Decoded::Other => {}
                    }
                }
                8 => {
                    self.closed_with = Some(if p.len() >= 2 {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        1005
                    });
                    return Err(Error::new(ErrorKind::ConnectionAborted, "close frame"));
                }
                9 => {
                    let data = p.to_vec();
                    self.mask = self.mask.rotate_left(7) ^ 0x5bd1_e995;
                    put_frame(&mut self.wbuf, 10, &data, self.mask);
                }
                _ => {}
            }
            self.rstart += fr.len;
        }
        if pong {
            encode(Proto::Plain, "3", &mut self.text);
            self.mask = self.mask.rotate_left(7) ^ 0x5bd1_e995;
            put_frame(&mut self.wbuf, 1, self.text.as_bytes(), self.mask);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketio_framing_round_trips() {
        let mut out = String::new();
        encode(Proto::SocketIo, "7 12 345 xx", &mut out);
        assert_eq!(out, "42[\"msg\",\"7 12 345 xx\"]");
        assert_eq!(
            decode(Proto::SocketIo, &out),
            Decoded::Payload("7 12 345 xx")
        );
        assert_eq!(decode(Proto::SocketIo, "2"), Decoded::Ping);
        assert_eq!(decode(Proto::SocketIo, "40{\"sid\":\"a\"}"), Decoded::Other);
        encode(Proto::Plain, "hi", &mut out);
        assert_eq!(decode(Proto::Plain, &out), Decoded::Payload("hi"));
    }

    #[test]
    fn frames_round_trip_through_the_codec() {
        let mut out = Vec::new();
        put_frame(&mut out, 1, b"hello", 0x01020304);
        assert_eq!(&out[..2], &[0x81, 0x85]);
        let key = &out[2..6];
        let unmasked: Vec<u8> = out[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i & 3])
            .collect();
        assert_eq!(unmasked, b"hello");
        // An unmasked server frame with a 16-bit length, then a partial one.
        let mut srv = vec![0x81, 126, 0x01, 0x00];
        srv.extend(std::iter::repeat_n(b'a', 256));
        srv.extend_from_slice(&[0x81, 5, b'x']);
        let f = parse_frame(&srv).expect("complete frame");
        assert_eq!((f.opcode, f.payload.clone(), f.len), (1, 4..260, 260));
        assert_eq!(parse_frame(&srv[f.len..]), None, "incomplete frame");
        assert_eq!(parse_frame(&[0x89, 0]).map(|f| f.opcode), Some(9));
    }

    #[test]
    fn urls_carry_the_room() {
        assert_eq!(url("h:1", Proto::Plain, Some("g3")), "ws://h:1/r/g3");
        assert_eq!(url("h:1", Proto::Plain, None), "ws://h:1/");
        assert!(url("h:1", Proto::SocketIo, Some("g3")).ends_with("transport=websocket&room=g3"));
    }
}
