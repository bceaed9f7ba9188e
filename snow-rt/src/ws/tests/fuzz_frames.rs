//! Regression tests of the frame-reader fuzz target (fuzz/fuzz_targets/
//! frame_reader.rs): edge inputs with their expected outcome, a
//! deterministic run of random mutations of valid client traffic, and the
//! same mutations read by tungstenite (the reader the server used before its
//! own), which must agree on every message and on whether and how the
//! connection ends.

use crate::ws::fuzzing::{read_client_bytes, FrameReport};
use std::io::{Cursor, Read, Write};

/// A masked client frame (mask 0x01020304); `b0` without FIN when `!fin`.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
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
    let mask = [1u8, 2, 3, 4];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn read(data: &[u8], chunk: usize, max: usize) -> FrameReport {
    read_client_bytes(data, chunk, max, false)
}

#[test]
fn edge_inputs_give_the_expected_close_codes() {
    let max = 1 << 16;
    // Fragmented valid text split across reads of every size.
    let mut ok = frame(false, 1, "κό".as_bytes());
    ok.extend(frame(true, 0, "σμε".as_bytes()));
    ok.extend(frame(true, 8, &[0x03, 0xe8]));
    for chunk in 1..8 {
        let r = read(&ok, chunk, max);
        assert_eq!(r.messages, vec![(true, 10)]);
        assert_eq!(r.client_close, Some(1000));
        assert_eq!(r.error_close, None);
    }
    // Invalid UTF-8 in the second fragment: 1007.
    let mut bad = frame(false, 1, b"ok");
    bad.extend(frame(true, 0, &[0xce, 0xff]));
    assert_eq!(read(&bad, 3, max).error_close, Some(1007));
    // Unmasked client frame, reserved opcode, RSV bit, fragmented ping,
    // ping payload over 125 bytes, continuation without a start: 1002.
    let cases: Vec<Vec<u8>> = vec![
        vec![0x81, 0x02, b'h', b'i'],
        frame(true, 3, b""),
        frame(true, 0x41, b"x"),
        frame(false, 9, b""),
        frame(true, 9, &[0u8; 126]),
        frame(true, 0, b"x"),
    ];
    for c in cases {
        assert_eq!(read(&c, 7, max).error_close, Some(1002), "{c:?}");
    }
    // A close frame with a code a peer may not send (1005, 999, 1016,
    // 5000) or a one-byte payload: 1002, and no client close is reported.
    for payload in [
        &[0x03, 0xed][..],
        &[0x03, 0xe7],
        &[0x03, 0xf8],
        &[0x13, 0x88],
        &[0x03],
    ] {
        let r = read(&frame(true, 8, payload), 7, max);
        assert_eq!(
            (r.client_close, r.error_close),
            (None, Some(1002)),
            "{payload:?}"
        );
    }
    // Valid closes: with a code (1000, 1014, 3000, 4999) or without one.
    for (payload, code) in [
        (&[0x03, 0xe8][..], 1000),
        (&[0x03, 0xf6], 1014),
        (&[0x0b, 0xb8], 3000),
        (&[0x13, 0x87], 4999),
        (&[], 1005),
    ] {
        let r = read(&frame(true, 8, payload), 7, max);
        assert_eq!(
            (r.client_close, r.error_close),
            (Some(code), None),
            "{payload:?}"
        );
    }
    // Over the message limit, in one frame or in fragments: 1009.
    assert_eq!(
        read(&frame(true, 2, &[0u8; 5000]), 512, 4096).error_close,
        Some(1009)
    );
    let mut frags = frame(false, 2, &[0u8; 3000]);
    frags.extend(frame(true, 0, &[0u8; 3000]));
    assert_eq!(read(&frags, 512, 4096).error_close, Some(1009));
    // A 64-bit length with the top bit set (a huge claimed size): 1002, no allocation.
    let mut huge = vec![0x82, 0x80 | 127];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    huge.extend_from_slice(&[0; 4]);
    assert_eq!(read(&huge, 64, max).error_close, Some(1002));
    // A truncated frame is no failure of the reader (the socket's end is
    // what the server reports, 1006).
    let r = read(&frame(true, 1, b"abc")[..5], 64, max);
    assert_eq!((r.messages.len(), r.error_close), (0, None));
}

/// A deterministic xorshift generator for the mutation tests.
fn rng(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Valid client traffic, then mutated `edits` times.
fn mutated(rnd: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut data = frame(true, 1, b"hello");
    data.extend(frame(false, 2, &[7u8; 200]));
    data.extend(frame(true, 9, b"ping"));
    data.extend(frame(true, 0, &[8u8; 70000]));
    data.extend(frame(true, 1, "ünïcödé".as_bytes()));
    data.extend(frame(true, 8, &[0x03, 0xe8, b'b', b'y', b'e']));
    for _ in 0..(rnd() % 6 + 1) {
        let i = (rnd() as usize) % data.len();
        match rnd() % 4 {
            0 => data[i] = rnd() as u8,
            1 => data[i] ^= 1 << (rnd() % 8),
            2 => data.truncate(i.max(1)),
            _ => {
                let b = rnd() as u8;
                data.insert(i, b)
            }
        }
    }
    data
}

#[test]
fn random_mutations_of_valid_traffic_never_panic() {
    let mut rnd = rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let data = mutated(&mut rnd);
        let chunk = (rnd() % 300 + 1) as usize;
        let max = if rnd().is_multiple_of(2) {
            1 << 20
        } else {
            512
        };
        let _ = read(&data, chunk, max);
        let _ = read_client_bytes(&data, chunk, max, true);
    }
}

/// tungstenite (server role, the same limit) over the same bytes: the
/// messages, the client's close code, and the close code its error maps to
/// (protocol 1002, UTF-8 1007, capacity 1009; the end of input is not an
/// error of the reader, as for ours).
fn tungstenite_report(data: &[u8], max: usize) -> FrameReport {
    use tungstenite::error::{Error, ProtocolError};
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    use tungstenite::Message;
    /// Reads from the bytes; writes (pongs, close replies) go nowhere.
    struct Io(Cursor<Vec<u8>>);
    impl Read for Io {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Io {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let mut ws =
        WebSocket::from_raw_socket(Io(Cursor::new(data.to_vec())), Role::Server, Some(cfg));
    let mut r = FrameReport::default();
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => r.messages.push((true, t.len())),
            Ok(Message::Binary(b)) => r.messages.push((false, b.len())),
            Ok(Message::Ping(p)) => r.pings.push(p.len()),
            Ok(Message::Close(c)) => {
                r.client_close = Some(c.map_or(1005, |f| u16::from(f.code)));
                return r;
            }
            Ok(_) => {}
            Err(Error::Capacity(_)) => r.error_close = Some(1009),
            Err(Error::Utf8(_)) => r.error_close = Some(1007),
            Err(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake))
            | Err(Error::Io(_)) => {}
            Err(Error::Protocol(_)) => r.error_close = Some(1002),
            Err(_) => {}
        }
        if r.error_close.is_some() {
            return r;
        }
        if ws.get_ref().0.position() as usize >= data.len() && !ws.can_read() {
            return r;
        }
    }
}

/// Our reader and tungstenite agree on the same mutated traffic, except
/// where the RFC leaves room and ours is the stricter (documented below).
#[test]
fn our_reader_agrees_with_tungstenite_on_mutated_traffic() {
    let mut rnd = rng(0x2545_f491_4f6c_dd1d);
    let mut compared = 0;
    for _ in 0..2000 {
        let data = mutated(&mut rnd);
        let max = if rnd().is_multiple_of(2) {
            1 << 20
        } else {
            512
        };
        let ours = read(&data, data.len(), max);
        let theirs = tungstenite_report(&data, max);
        // tungstenite reports an invalid close code as the peer's close
        // (and answers 1002); ours fails the connection with 1002 at once.
        if theirs.client_close == Some(1002) && ours.error_close == Some(1002) {
            continue;
        }
        // Ours fails fast: a bad first header byte (or invalid UTF-8 in a
        // frame's first bytes) fails before the rest arrives, where
        // tungstenite waits for the whole header or frame, which a
        // truncated input never completes. Same messages before it.
        if ours.error_close.is_some()
            && theirs.error_close.is_none()
            && theirs.client_close.is_none()
            && ours.messages == theirs.messages
        {
            continue;
        }
        assert_eq!(
            (&ours.messages, ours.client_close, ours.error_close),
            (&theirs.messages, theirs.client_close, theirs.error_close),
            "on {} bytes",
            data.len()
        );
        compared += 1;
    }
    assert!(compared > 1500, "only {compared} compared");
}
