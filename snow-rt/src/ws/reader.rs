//! Reading client frames (RFC 6455 section 5, and RFC 7692 for compressed
//! messages): a synchronous state machine fed with whatever bytes the
//! socket gave, in chunks split anywhere, that reports whole messages and
//! control frames to a sink, or the close code that ends the connection.
//!
//! It owns no buffer while idle: the bytes arrive in the worker's shared
//! read buffer and are unmasked in place; a message that lies whole in one
//! read is handed to the sink straight from there (one copy, into the Snow
//! string). Only a message split over reads or fragments is gathered in a
//! per-connection buffer, released (down to a small capacity) once the
//! message is complete, so one large message does not pin memory for the
//! connection's lifetime.
//!
//! Everything is checked as it arrives ("fail fast", what Autobahn's strict
//! verdicts ask): reserved bits and opcodes, the client's mask, control
//! frame rules, the 64-bit length's top bit, the message size limit at the
//! frame header (before the payload is read), UTF-8 of text messages as
//! each fragment's bytes come in (an invalid byte fails before the rest of
//! the frame arrives), close codes and reasons. After a close frame or a
//! failure the reader ignores everything.

use super::frame::{OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RSV1};
use std::fmt;

/// A gathering buffer keeps at most this capacity between messages.
const KEEP_CAPACITY: usize = 4 << 10;

/// What the reader found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// A valid close frame: its code and reason, or `None` when it had no
    /// payload. Nothing after it is read.
    Close(Option<(u16, &'a str)>),
}

/// Why the connection must be failed: the close code to send (1002
/// protocol error, 1007 invalid data, 1009 too big) and a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fail {
    pub code: u16,
    pub reason: &'static str,
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.reason)
    }
}

const fn protocol(reason: &'static str) -> Fail {
    Fail { code: 1002, reason }
}

pub(crate) const TOO_BIG: Fail = Fail {
    code: 1009,
    reason: "message too big",
};
pub(crate) const BAD_UTF8: Fail = Fail {
    code: 1007,
    reason: "invalid UTF-8",
};

/// Decompression of a whole compressed message (RFC 7692), provided by the
/// caller (the worker's shared inflater).
pub(crate) trait Inflate {
    /// The decompressed bytes of `payload` (a message's compressed bytes
    /// without the `00 00 ff ff` trailer), at most `limit` of them: more is
    /// [`TOO_BIG`], corrupt data another [`Fail`].
    fn inflate(&mut self, payload: &[u8], limit: usize) -> Result<&[u8], Fail>;
}

/// No compression negotiated: a compressed frame never gets this far.
pub(crate) struct NoInflate;

impl Inflate for NoInflate {
    fn inflate(&mut self, _: &[u8], _: usize) -> Result<&[u8], Fail> {
        Err(protocol("compressed message without the extension"))
    }
}

/// Where the reader is within the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// Between frames (a partial header may wait in `hdr`).
    Header,
    /// Inside a frame's payload.
    Payload,
    /// After a close frame or a failure: everything is ignored.
    Done,
}

/// The per-connection reader state.
pub(crate) struct Reader {
    max_message: usize,
    /// Compressed messages (RSV1) are allowed (permessage-deflate).
    deflate: bool,
    at: At,
    /// A header split over reads (at most 14 bytes).
    hdr: [u8; 14],
    hdr_len: u8,
    /// The current frame.
    opcode: u8,
    fin: bool,
    mask: [u8; 4],
    /// Payload bytes of the current frame already unmasked.
    done: u64,
    remaining: u64,
    /// The message in progress: its opcode (0 when none), whether it is
    /// compressed, its size so far.
    msg_op: u8,
    msg_deflated: bool,
    msg_len: usize,
    /// Gathered bytes of the message in progress (or of a control frame
    /// split over reads, see `ctrl`).
    buf: Vec<u8>,
    /// How much of `buf` is known to be valid UTF-8 (text messages).
    valid: usize,
    /// A control frame's payload split over reads.
    ctrl: Vec<u8>,
}

impl Reader {
    pub(crate) fn new(max_message: usize, deflate: bool) -> Reader {
        Reader {
            max_message,
            deflate,
            at: At::Header,
            hdr: [0; 14],
            hdr_len: 0,
            opcode: 0,
            fin: false,
            mask: [0; 4],
            done: 0,
            remaining: 0,
            msg_op: 0,
            msg_deflated: false,
            msg_len: 0,
            buf: Vec::new(),
            valid: 0,
            ctrl: Vec::new(),
        }
    }

    /// Whether the reader has stopped (after a close frame or a failure).
    pub(crate) fn is_done(&self) -> bool {
        self.at == At::Done
    }

    /// Bytes held between reads.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.buf.capacity() + self.ctrl.capacity()
    }

    /// Reads `data` (unmasking it in place), calling `sink` with every
    /// message and control frame completed in it, in order. After a close
    /// frame it stops (the rest is ignored); a protocol violation answers
    /// the [`Fail`] and stops too. `sink` answers `false` to stop reading
    /// (the connection is closing); the reader then ignores the rest.
    pub(crate) fn feed(
        &mut self,
        mut data: &mut [u8],
        inflate: &mut dyn Inflate,
        sink: &mut dyn FnMut(Event<'_>) -> bool,
    ) -> Result<(), Fail> {
        while !data.is_empty() {
            match self.at {
                At::Done => return Ok(()),
                At::Header => {
                    let used = match self.header(data) {
                        Ok(Some(n)) => n,
                        Ok(None) => return Ok(()), // partial header kept
                        Err(f) => return self.fail(f),
                    };
                    data = &mut data[used..];
                    if self.remaining == 0 {
                        if let Err(f) = self.frame_complete(&mut [], inflate, sink) {
                            return self.fail(f);
                        }
                    }
                }
                At::Payload => {
                    let take = (self.remaining.min(data.len() as u64)) as usize;
                    let (chunk, rest) = std::mem::take(&mut data).split_at_mut(take);
                    data = rest;
                    unmask(chunk, self.mask, self.done);
                    self.done += take as u64;
                    self.remaining -= take as u64;
                    let r = if self.remaining == 0 {
                        self.frame_complete(chunk, inflate, sink)
                    } else {
                        self.gather(chunk)
                    };
                    if let Err(f) = r {
                        return self.fail(f);
                    }
                }
            }
        }
        Ok(())
    }

    fn fail(&mut self, f: Fail) -> Result<(), Fail> {
        self.stop();
        Err(f)
    }

    /// Nothing more is read; buffers are released.
    pub(crate) fn stop(&mut self) {
        self.at = At::Done;
        self.buf = Vec::new();
        self.ctrl = Vec::new();
    }

    /// Parses a frame header from what was kept plus `data`: the number of
    /// bytes of `data` it used, or `None` when the header is still partial
    /// (then all of `data` was kept).
    fn header(&mut self, data: &[u8]) -> Result<Option<usize>, Fail> {
        // The header length follows from its second byte.
        let have = self.hdr_len as usize;
        let mut h = [0u8; 14];
        h[..have].copy_from_slice(&self.hdr[..have]);
        let avail = (14 - have).min(data.len());
        h[have..have + avail].copy_from_slice(&data[..avail]);
        let total = have + avail;
        if total < 2 {
            self.keep_header(data);
            return Ok(None);
        }
        let len_bytes = match h[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let need = 2 + len_bytes + 4;
        // Check what the first two bytes say as soon as they are here.
        self.check_start(h[0], h[1])?;
        if total < need {
            self.keep_header(data);
            return Ok(None);
        }
        let len = match len_bytes {
            0 => (h[1] & 0x7f) as u64,
            2 => u16::from_be_bytes([h[2], h[3]]) as u64,
            _ => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                u64::from_be_bytes(b)
            }
        };
        if len_bytes == 8 && len >> 63 != 0 {
            return Err(protocol("64-bit length with the top bit set"));
        }
        let opcode = h[0] & 0x0f;
        if opcode >= 8 {
            if len > 125 {
                return Err(protocol("control frame longer than 125 bytes"));
            }
        } else {
            // A compressed message's frames carry compressed bytes: their
            // limit allows for deflate's overhead on incompressible data
            // (the decompressed size is checked while inflating).
            let deflated = if opcode == OP_CONT {
                self.msg_deflated
            } else {
                h[0] & RSV1 != 0
            };
            let limit = if deflated {
                compressed_limit(self.max_message)
            } else {
                self.max_message as u64
            };
            if (self.msg_len as u64).saturating_add(len) > limit {
                return Err(TOO_BIG);
            }
        }
        self.mask.copy_from_slice(&h[need - 4..need]);
        self.opcode = opcode;
        self.fin = h[0] & 0x80 != 0;
        self.remaining = len;
        self.done = 0;
        self.at = At::Payload;
        if opcode < 8 {
            if opcode != OP_CONT {
                self.msg_op = opcode;
                self.msg_deflated = h[0] & RSV1 != 0;
                self.msg_len = 0;
                self.valid = 0;
            }
            self.msg_len += len as usize;
        }
        let used = need - have;
        self.hdr_len = 0;
        Ok(Some(used))
    }

    fn keep_header(&mut self, data: &[u8]) {
        let have = self.hdr_len as usize;
        let n = data.len().min(14 - have);
        self.hdr[have..have + n].copy_from_slice(&data[..n]);
        self.hdr_len = (have + n) as u8;
    }

    /// The rules the first two header bytes decide.
    fn check_start(&self, b0: u8, b1: u8) -> Result<(), Fail> {
        let opcode = b0 & 0x0f;
        let rsv = b0 & 0x70;
        if b1 & 0x80 == 0 {
            return Err(protocol("client frame not masked"));
        }
        match opcode {
            OP_CONT => {
                if self.msg_op == 0 {
                    return Err(protocol("continuation frame without a message"));
                }
                if rsv != 0 {
                    return Err(protocol("reserved bits set on a continuation frame"));
                }
            }
            OP_TEXT | OP_BINARY => {
                if self.msg_op != 0 {
                    return Err(protocol("new message before the last one ended"));
                }
                if rsv & 0x30 != 0 || (rsv == RSV1 && !self.deflate) {
                    return Err(protocol("reserved bits set"));
                }
            }
            OP_CLOSE | OP_PING | OP_PONG => {
                if rsv != 0 {
                    return Err(protocol("reserved bits set on a control frame"));
                }
                if b0 & 0x80 == 0 {
                    return Err(protocol("fragmented control frame"));
                }
            }
            _ => return Err(protocol("reserved opcode")),
        }
        Ok(())
    }

    /// Adds payload bytes of a data frame (or of a control frame) that does
    /// not end in this read to the gathering buffer.
    fn gather(&mut self, chunk: &[u8]) -> Result<(), Fail> {
        if self.opcode >= 8 {
            self.ctrl.extend_from_slice(chunk);
            return Ok(());
        }
        self.buf.extend_from_slice(chunk);
        self.check_utf8(false)
    }

    /// Validates the text gathered so far: an invalid sequence fails at
    /// once; an incomplete one at the end waits for more bytes unless the
    /// message is `complete`.
    fn check_utf8(&mut self, complete: bool) -> Result<(), Fail> {
        if self.msg_op != OP_TEXT || self.msg_deflated {
            return Ok(());
        }
        match std::str::from_utf8(&self.buf[self.valid..]) {
            Ok(_) => {
                self.valid = self.buf.len();
                Ok(())
            }
            Err(e) => {
                if e.error_len().is_some() || complete {
                    return Err(BAD_UTF8);
                }
                self.valid += e.valid_up_to();
                Ok(())
            }
        }
    }

    /// The current frame's payload ended with `chunk` (its last bytes, already
    /// unmasked; earlier bytes, if any, were gathered).
    fn frame_complete(
        &mut self,
        chunk: &mut [u8],
        inflate: &mut dyn Inflate,
        sink: &mut dyn FnMut(Event<'_>) -> bool,
    ) -> Result<(), Fail> {
        self.at = At::Header;
        if self.opcode >= 8 {
            let mut ctrl = std::mem::take(&mut self.ctrl);
            let payload: &[u8] = if ctrl.is_empty() {
                chunk
            } else {
                ctrl.extend_from_slice(chunk);
                &ctrl
            };
            let go = match self.opcode {
                OP_PING => sink(Event::Ping(payload)),
                OP_PONG => sink(Event::Pong(payload)),
                _ => {
                    // Nothing after a close frame is read, whatever it held.
                    self.at = At::Done;
                    let close = parse_close(payload)?;
                    sink(Event::Close(close));
                    false
                }
            };
            ctrl.clear();
            self.ctrl = ctrl;
            if !go {
                self.stop();
            }
            return Ok(());
        }
        if !self.fin {
            // A fragment: gather it (text is validated as it comes).
            return self.gather(chunk);
        }
        // The message is complete.
        let whole_in_chunk = self.buf.is_empty();
        let go = if self.msg_deflated {
            let compressed: &[u8] = if whole_in_chunk {
                chunk
            } else {
                self.buf.extend_from_slice(chunk);
                &self.buf
            };
            let plain = inflate.inflate(compressed, self.max_message)?;
            deliver(self.msg_op, plain, sink)?
        } else if whole_in_chunk {
            deliver(self.msg_op, chunk, sink)?
        } else {
            self.buf.extend_from_slice(chunk);
            self.check_utf8(true)?;
            deliver(self.msg_op, &self.buf, sink)?
        };
        self.msg_op = 0;
        self.msg_deflated = false;
        self.msg_len = 0;
        self.valid = 0;
        self.buf.clear();
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::new();
        }
        if !go {
            self.stop();
        }
        Ok(())
    }
}

/// The largest compressed payload accepted for a message of at most `max`
/// decompressed bytes: deflate's stored blocks add 5 bytes per 64 KiB, so
/// incompressible data grows a little; anything beyond is not a message
/// that can inflate to `max` bytes worth keeping.
fn compressed_limit(max: usize) -> u64 {
    (max as u64) + (max as u64 / 8192) + 1024
}

/// Hands a complete data message to the sink (text validated).
fn deliver(op: u8, payload: &[u8], sink: &mut dyn FnMut(Event<'_>) -> bool) -> Result<bool, Fail> {
    Ok(if op == OP_TEXT {
        let text = std::str::from_utf8(payload).map_err(|_| BAD_UTF8)?;
        sink(Event::Text(text))
    } else {
        sink(Event::Binary(payload))
    })
}

/// A close frame's payload: empty, or a code a peer may send and a UTF-8
/// reason (RFC 6455 5.5.1, 7.4).
fn parse_close(p: &[u8]) -> Result<Option<(u16, &str)>, Fail> {
    match p.len() {
        0 => Ok(None),
        1 => Err(protocol("close frame with a one-byte payload")),
        _ => {
            let code = u16::from_be_bytes([p[0], p[1]]);
            if !valid_peer_close_code(code) {
                return Err(protocol("invalid close code"));
            }
            let reason = std::str::from_utf8(&p[2..]).map_err(|_| BAD_UTF8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Codes a peer may put in a close frame: the defined ones (1000-1003,
/// 1007-1014), and 3000-4999 (registered and private use). 1004-1006 and
/// 1015 are reserved and never sent; the rest is unassigned.
pub(crate) fn valid_peer_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Unmasks `data` in place; `offset` is the payload position of its first
/// byte (the mask repeats every 4 bytes).
fn unmask(data: &mut [u8], mask: [u8; 4], offset: u64) {
    let rot = (offset % 4) as usize;
    let m = [
        mask[rot],
        mask[(rot + 1) % 4],
        mask[(rot + 2) % 4],
        mask[(rot + 3) % 4],
    ];
    let word = u64::from_ne_bytes([m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes(c.try_into().expect("8 bytes")) ^ word;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= m[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    pub(crate) fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![b0];
        let n = payload.len();
        if n < 126 {
            out.push(0x80 | n as u8);
        } else if n < 65536 {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Got {
        Text(String),
        Binary(Vec<u8>),
        Ping(Vec<u8>),
        Pong(Vec<u8>),
        Close(Option<(u16, String)>),
        Fail(u16),
    }

    /// Feeds `bytes` in chunks of `chunk` and records what came out.
    fn read(bytes: &[u8], chunk: usize, max: usize) -> Vec<Got> {
        let mut r = Reader::new(max, false);
        let mut got = Vec::new();
        let mut data = bytes.to_vec();
        for part in data.chunks_mut(chunk.max(1)) {
            let res = r.feed(part, &mut NoInflate, &mut |e| {
                got.push(match e {
                    Event::Text(t) => Got::Text(t.to_string()),
                    Event::Binary(b) => Got::Binary(b.to_vec()),
                    Event::Ping(p) => Got::Ping(p.to_vec()),
                    Event::Pong(p) => Got::Pong(p.to_vec()),
                    Event::Close(c) => Got::Close(c.map(|(c, r)| (c, r.to_string()))),
                });
                true
            });
            if let Err(f) = res {
                got.push(Got::Fail(f.code));
            }
        }
        got
    }

    fn every_split(bytes: &[u8], max: usize) -> Vec<Got> {
        let want = read(bytes, bytes.len(), max);
        for chunk in 1..bytes.len().min(40) {
            assert_eq!(read(bytes, chunk, max), want, "chunks of {chunk}");
        }
        want
    }

    #[test]
    fn messages_and_control_frames_in_any_split() {
        let mut b = frame(0x81, "héllo".as_bytes());
        b.extend(frame(0x82, &[1, 2, 3]));
        b.extend(frame(0x89, b"ping"));
        b.extend(frame(0x01, "κό".as_bytes())); // fragmented text...
        b.extend(frame(0x8A, b"pong")); // ...with a control frame inside
        b.extend(frame(0x00, "σμ".as_bytes()));
        b.extend(frame(0x80, "ε".as_bytes()));
        b.extend(frame(0x81, &[b'x'; 300]));
        b.extend(frame(0x82, &[7; 70_000]));
        b.extend(frame(0x81, b""));
        b.extend(frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e']));
        b.extend(frame(0x81, b"ignored after the close"));
        let got = every_split(&b, 1 << 20);
        assert_eq!(
            got,
            vec![
                Got::Text("héllo".into()),
                Got::Binary(vec![1, 2, 3]),
                Got::Ping(b"ping".to_vec()),
                Got::Pong(b"pong".to_vec()),
                Got::Text("κόσμε".into()),
                Got::Text("x".repeat(300)),
                Got::Binary(vec![7; 70_000]),
                Got::Text(String::new()),
                Got::Close(Some((1000, "bye".into()))),
            ]
        );
    }

    #[test]
    fn protocol_violations_fail_with_1002() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("unmasked", vec![0x81, 0x02, b'h', b'i']),
            ("reserved opcode 3", frame(0x83, b"")),
            ("reserved opcode 11", frame(0x8B, b"")),
            ("rsv1 without deflate", frame(0xC1, b"x")),
            ("rsv2", frame(0xA1, b"x")),
            ("rsv3", frame(0x91, b"x")),
            ("fragmented ping", frame(0x09, b"")),
            ("long ping", frame(0x89, &[0; 126])),
            ("continuation first", frame(0x80, b"x")),
            (
                "text inside a message",
                [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
            ),
            ("one-byte close", frame(0x88, &[0x03])),
            ("close 1005", frame(0x88, &[0x03, 0xed])),
            ("close 999", frame(0x88, &[0x03, 0xe7])),
            ("close 1016", frame(0x88, &[0x03, 0xf8])),
            ("close 5000", frame(0x88, &[0x13, 0x88])),
        ];
        for (what, b) in cases {
            let got = every_split(&b, 1 << 20);
            assert_eq!(got.last(), Some(&Got::Fail(1002)), "{what}: {got:?}");
        }
        let mut huge = vec![0x82, 0x80 | 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert_eq!(read(&huge, 64, 1 << 20), vec![Got::Fail(1002)]);
    }

    #[test]
    fn invalid_utf8_fails_fast_with_1007() {
        // The bad byte is in the second of three parts of one frame: the
        // failure comes when that part is read, before the rest arrives.
        let mut payload = b"ok ".to_vec();
        payload.extend_from_slice(&[0xce, 0xba, 0xff]);
        payload.extend_from_slice(&[b'z'; 100]);
        let f = frame(0x81, &payload);
        let mut r = Reader::new(1 << 20, false);
        let mut data = f.clone();
        let (head, rest) = data.split_at_mut(f.len() - 100);
        assert_eq!(r.feed(head, &mut NoInflate, &mut |_| true), Err(BAD_UTF8));
        assert_eq!(r.feed(rest, &mut NoInflate, &mut |_| panic!()), Ok(()));
        // In a later fragment; a sequence cut by a fragment boundary is fine.
        let mut b = frame(0x01, &[0xce]);
        b.extend(frame(0x80, &[0xba]));
        assert_eq!(every_split(&b, 1 << 20), vec![Got::Text("κ".into())]);
        let mut b = frame(0x01, b"ok");
        b.extend(frame(0x80, &[0xce, 0xff]));
        assert_eq!(every_split(&b, 1 << 20), vec![Got::Fail(1007)]);
        // Incomplete at the end of the message.
        assert_eq!(
            every_split(&frame(0x81, &[b'a', 0xce]), 1 << 20),
            vec![Got::Fail(1007)]
        );
        // A close reason that is not UTF-8.
        assert_eq!(
            every_split(&frame(0x88, &[0x03, 0xe8, 0xff]), 1 << 20),
            vec![Got::Fail(1007)]
        );
    }

    #[test]
    fn the_size_limit_is_checked_at_the_header_and_over_fragments() {
        let big = frame(0x82, &[0; 5000]);
        // 1009 as soon as the header is read: 10 bytes in, the payload unread.
        assert_eq!(read(&big[..10], 10, 4096), vec![Got::Fail(1009)]);
        let mut frags = frame(0x02, &[0; 3000]);
        frags.extend(frame(0x80, &[0; 3000]));
        assert_eq!(every_split(&frags, 4096), vec![Got::Fail(1009)]);
        // Exactly the limit is fine.
        assert_eq!(
            every_split(&frame(0x82, &[0; 4096]), 4096),
            vec![Got::Binary(vec![0; 4096])]
        );
    }

    #[test]
    fn a_large_message_does_not_pin_its_buffer() {
        let mut r = Reader::new(1 << 24, false);
        let mut data = frame(0x82, &vec![1u8; 4 << 20]);
        let mut seen = 0;
        for part in data.chunks_mut(64 << 10) {
            r.feed(part, &mut NoInflate, &mut |e| {
                assert!(matches!(e, Event::Binary(b) if b.len() == 4 << 20));
                seen += 1;
                true
            })
            .unwrap();
        }
        assert_eq!(seen, 1);
        assert!(r.held() <= KEEP_CAPACITY, "{} bytes held", r.held());
    }

    #[test]
    fn unmasking_matches_the_bytewise_definition_at_every_offset() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        for off in 0..8u64 {
            for len in 0..40 {
                let plain: Vec<u8> = (0..len as u8).collect();
                let mut masked: Vec<u8> = plain
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ mask[(i + off as usize) % 4])
                    .collect();
                unmask(&mut masked, mask, off);
                assert_eq!(masked, plain);
            }
        }
    }
}
