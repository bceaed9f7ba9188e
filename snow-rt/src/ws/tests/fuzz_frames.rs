//! Regression tests of the frame-reader fuzz target (fuzz/fuzz_targets/
//! frame_reader.rs): edge inputs with their expected outcome, and a
//! deterministic run of random mutations of valid client traffic.

use crate::ws::fuzzing::read_client_bytes;

/// A masked client frame (mask 0x01020304).
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

#[test]
fn edge_inputs_give_the_expected_close_codes() {
    let max = 1 << 16;
    // Fragmented valid text split across reads of every size.
    let mut ok = frame(false, 1, "κό".as_bytes());
    ok.extend(frame(true, 0, "σμε".as_bytes()));
    ok.extend(frame(true, 8, &[0x03, 0xe8]));
    for chunk in 1..8 {
        let r = read_client_bytes(&ok, chunk, max);
        assert_eq!(r.messages, vec![(true, 10)]);
        assert_eq!(r.client_close, Some(1000));
        assert_eq!(r.error_close, None);
    }
    // Invalid UTF-8 in the second fragment: 1007.
    let mut bad = frame(false, 1, b"ok");
    bad.extend(frame(true, 0, &[0xce, 0xff]));
    assert_eq!(read_client_bytes(&bad, 3, max).error_close, Some(1007));
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
        assert_eq!(
            read_client_bytes(&c, 7, max).error_close,
            Some(1002),
            "{c:?}"
        );
    }
    // A close frame with a code a peer may not send (1005, 999): the
    // reader reports the close as a protocol error (1002 goes to on_close)
    // and answers with a 1002 close frame of its own, queued for the client.
    for payload in [&[0x03, 0xed][..], &[0x03, 0xe7]] {
        let r = read_client_bytes(&frame(true, 8, payload), 7, max);
        assert_eq!(r.client_close, Some(1002), "{r:?}");
        assert_eq!(r.reply_close, Some(1002), "{r:?}");
        assert_eq!(r.error_close, None, "{r:?}");
    }
    // A valid close is answered with the same code.
    let r = read_client_bytes(&frame(true, 8, &[0x03, 0xe8]), 7, max);
    assert_eq!(
        (r.client_close, r.reply_close),
        (Some(1000), Some(1000)),
        "{r:?}"
    );
    let r = read_client_bytes(&frame(true, 8, &[0x03]), 7, max);
    assert_eq!(r.error_close, Some(1002), "{r:?}");
    // Over the message limit, in one frame or in fragments: 1009.
    assert_eq!(
        read_client_bytes(&frame(true, 2, &[0u8; 5000]), 512, 4096).error_close,
        Some(1009)
    );
    let mut frags = frame(false, 2, &[0u8; 3000]);
    frags.extend(frame(true, 0, &[0u8; 3000]));
    assert_eq!(read_client_bytes(&frags, 512, 4096).error_close, Some(1009));
    // A 64-bit length with the top bit set (a huge claimed size): 1002 or 1009, no allocation.
    let mut huge = vec![0x82, 0x80 | 127];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    huge.extend_from_slice(&[0; 4]);
    assert!(matches!(
        read_client_bytes(&huge, 64, max).error_close,
        Some(1002 | 1009)
    ));
    // Truncated frame: the socket ends, 1006.
    assert_eq!(
        read_client_bytes(&frame(true, 1, b"abc")[..5], 64, max).error_close,
        Some(1006)
    );
}

#[test]
fn random_mutations_of_valid_traffic_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut base = frame(true, 1, b"hello");
    base.extend(frame(false, 2, &[7u8; 200]));
    base.extend(frame(true, 9, b"ping"));
    base.extend(frame(true, 0, &[8u8; 70000]));
    base.extend(frame(true, 1, "ünïcödé".as_bytes()));
    base.extend(frame(true, 8, &[0x03, 0xe8, b'b', b'y', b'e']));
    for _ in 0..3000 {
        let mut data = base.clone();
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
        let chunk = (rnd() % 300 + 1) as usize;
        let max = if rnd() % 2 == 0 { 1 << 20 } else { 512 };
        let _ = read_client_bytes(&data, chunk, max);
    }
}
