//! WebSocket frames (RFC 6455 section 5): the opcodes, and the encoding of
//! the frames the server sends. Server frames are never masked, so a frame
//! is a 2-10 byte header and the payload, written by hand. Reading the
//! client's frames is `reader.rs`; queueing them for a connection is
//! `out_queue.rs`.

pub(crate) const OP_CONT: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;
/// RSV1: the frame's message is compressed (RFC 7692).
pub(crate) const RSV1: u8 = 0x40;

/// The bytes of a complete, unfragmented, unmasked server frame; `b0` is
/// its first byte without FIN (the opcode, and RSV1 for a compressed one).
pub(crate) fn encode(b0: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = Vec::with_capacity(n + 10);
    v.push(0x80 | b0);
    if n < 126 {
        v.push(n as u8);
    } else if n <= u16::MAX as usize {
        v.push(126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// A ping frame with `payload` (at most 125 bytes).
pub(crate) fn ping(payload: &[u8]) -> Vec<u8> {
    encode(OP_PING, payload)
}

/// The pong answering a ping with `payload` (at most 125 bytes).
pub(crate) fn pong(payload: &[u8]) -> Vec<u8> {
    encode(OP_PONG, payload)
}

/// A close frame's code and reason (the reason at most 123 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CloseFrame {
    pub code: u16,
    pub reason: String,
}

/// The bytes of a close frame.
pub(crate) fn close_bytes(f: &CloseFrame) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + f.reason.len());
    p.extend_from_slice(&f.code.to_be_bytes());
    p.extend_from_slice(f.reason.as_bytes());
    encode(OP_CLOSE, &p)
}

/// A close frame without a code (the echo of one).
pub(crate) fn close_frame_without_code() -> Vec<u8> {
    encode(OP_CLOSE, &[])
}

/// The (header length, payload length) of the frame at the start of `b`,
/// `None` when `b` does not hold a whole header.
fn frame_header(b: &[u8]) -> Option<(usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    match b[1] & 0x7f {
        126 if b.len() >= 4 => Some((4, u16::from_be_bytes([b[2], b[3]]) as usize)),
        127 if b.len() >= 10 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[2..10]);
            Some((
                10,
                usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX),
            ))
        }
        126 | 127 => None,
        n => Some((2, n as usize)),
    }
}

/// The end of the frame that contains byte `pos` of `buf`, a run of whole
/// server frames (unmasked: 2, 4 or 10 header bytes, then the payload);
/// `pos` itself when it is at a frame boundary.
pub(crate) fn frame_end(buf: &[u8], pos: usize) -> usize {
    let mut i = 0;
    while i < pos && i + 2 <= buf.len() {
        let Some((header, len)) = frame_header(&buf[i..]) else {
            return buf.len();
        };
        i = i.saturating_add(header).saturating_add(len);
    }
    i.min(buf.len()).max(pos.min(buf.len()))
}

/// A close frame with `code` and `reason` cut to the 123 bytes a control
/// frame allows (at a character boundary).
pub(crate) fn close_frame(code: u16, reason: &str) -> CloseFrame {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code,
        reason: reason[..end].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_end_finds_the_boundary_after_a_cut() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&encode(OP_TEXT, b"hello")); // 0..7
        buf.extend_from_slice(&encode(OP_BINARY, &[1u8; 300])); // 7..311 (4-byte header)
        buf.extend_from_slice(&encode(OP_TEXT, &vec![b'x'; 70_000])); // 311..70_321 (10-byte header)
        assert_eq!(frame_end(&buf, 0), 0);
        assert_eq!(frame_end(&buf, 3), 7);
        assert_eq!(frame_end(&buf, 7), 7);
        assert_eq!(frame_end(&buf, 8), 311);
        assert_eq!(frame_end(&buf, 312), 70_321);
        assert_eq!(frame_end(&buf, buf.len()), buf.len());
    }

    #[test]
    fn frames_have_the_rfc6455_header_for_each_length_class() {
        assert_eq!(encode(OP_TEXT, b"hi"), &[0x81, 2, b'h', b'i']);
        let f = encode(OP_BINARY, &[b'a'; 300]);
        assert_eq!(&f[..4], &[0x82, 126, 0x01, 0x2c]);
        assert_eq!(f.len(), 304);
        let f = encode(OP_TEXT, &vec![0u8; 70_000]);
        assert_eq!(f[1], 127);
        assert_eq!(u64::from_be_bytes(f[2..10].try_into().unwrap()), 70_000);
        let c = close_bytes(&CloseFrame {
            code: 1008,
            reason: "slow".into(),
        });
        assert_eq!(c, &[0x88, 6, 0x03, 0xf0, b's', b'l', b'o', b'w']);
    }
}
