//! permessage-deflate (RFC 7692): negotiation, and the compressor and
//! decompressor every connection of a worker thread shares.
//!
//! # Why shared codecs, and what that costs
//! A zlib-rs deflate state takes 250-380 KB and an inflate state 47 KB
//! (docs/WS.md "Compression"), far more than a connection's whole budget.
//! So, like uWS's "shared" mode, each worker thread has one inflater and
//! one deflater per window size in use, reset after every message, and the
//! server always answers `server_no_context_takeover` and
//! `client_no_context_takeover`: no message depends on an earlier one, so
//! any codec can handle any connection's next message, a broadcast is
//! compressed **once** and the same bytes go to every member that
//! negotiated the same window size, and a connection's compression costs it
//! one byte. The price is ratio: no history across messages.
//!
//! Inbound messages are inflated with a 15-bit window (it reads streams made
//! with any smaller one), bounded by the message size limit on the
//! **decompressed** size: a zip bomb stops at the limit (1009) having
//! produced no more than the limit. Corrupt data fails the connection
//! (1007). The shared inflater is reset after every message, failed or not.
//!
//! Window size 8 (`server_max_window_bits=8`): zlib cannot deflate with it,
//! so such an offer is accepted and that connection's outbound messages go
//! uncompressed (allowed: compression is per message); never silently 9.

use super::reader::{Fail, Inflate, TOO_BIG};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::cell::RefCell;

/// The extension's token.
const NAME: &str = "permessage-deflate";
/// The trailer `Z_SYNC_FLUSH` ends a message with; senders strip it.
const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// A worker's inflate output buffer keeps at most this capacity.
const KEEP_OUTPUT: usize = 1 << 20;

/// What the server accepted for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// Window bits for the server's messages (the client's
    /// `server_max_window_bits`, else 15); 8 means "never compress".
    pub server_window: u8,
}

impl Negotiated {
    /// The window bits to compress this connection's messages with, or 0
    /// for "send them uncompressed".
    pub(crate) fn compress_window(self) -> u8 {
        if self.server_window >= 9 {
            self.server_window
        } else {
            0
        }
    }
}

/// Parses a `Sec-WebSocket-Extensions` request header (its lines already
/// joined with ", ") and accepts the first acceptable `permessage-deflate`
/// offer: the negotiated parameters and the response header's value.
/// Offers with unknown or repeated parameters, or invalid values, are
/// declined (RFC 7692 section 7); when none is left the connection runs
/// uncompressed. Never fails the handshake.
pub(crate) fn negotiate(header: &str) -> Option<(Negotiated, String)> {
    header.split(',').find_map(|offer| {
        let mut parts = offer.split(';').map(str::trim);
        if !parts.next()?.eq_ignore_ascii_case(NAME) {
            return None;
        }
        let mut seen: Vec<String> = Vec::new();
        let mut server_window: Option<u8> = None;
        for p in parts {
            if p.is_empty() {
                return None;
            }
            let (name, value) = match p.split_once('=') {
                Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(unquote(v.trim())?)),
                None => (p.to_ascii_lowercase(), None),
            };
            if seen.contains(&name) {
                return None;
            }
            match (name.as_str(), value) {
                ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
                ("server_max_window_bits", Some(v)) => server_window = Some(window_bits(v)?),
                ("client_max_window_bits", None) => {}
                ("client_max_window_bits", Some(v)) => {
                    window_bits(v)?;
                }
                _ => return None,
            }
            seen.push(name);
        }
        let mut response =
            format!("{NAME}; server_no_context_takeover; client_no_context_takeover");
        if let Some(w) = server_window {
            response.push_str(&format!("; server_max_window_bits={w}"));
        }
        Some((
            Negotiated {
                server_window: server_window.unwrap_or(15),
            },
            response,
        ))
    })
}

/// A parameter value: a token, or a quoted string holding one.
fn unquote(v: &str) -> Option<&str> {
    match v.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None => Some(v),
    }
}

/// Window bits 8-15, written without leading zeros.
fn window_bits(v: &str) -> Option<u8> {
    if v.len() > 2 || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|w| (8..=15).contains(w))
}

/// A worker's inflater and its output buffer.
struct Inflater {
    d: Decompress,
    out: Vec<u8>,
}

thread_local! {
    static INFLATER: RefCell<Option<Inflater>> = const { RefCell::new(None) };
    /// Deflaters by window bits (index `bits - 9`), made on first use.
    static DEFLATERS: RefCell<[Option<Compress>; 7]> = const { RefCell::new([const { None }; 7]) };
}

/// [`Inflate`] with the calling worker's shared inflater; borrow it only
/// for one synchronous read (never across an `.await`).
pub(crate) struct WorkerInflate;

impl WorkerInflate {
    /// Runs `f` with the worker's inflater (made on the first compressed
    /// message a worker sees, so servers without compression never pay
    /// for one).
    pub(crate) fn with<R>(f: impl FnOnce(&mut dyn Inflate) -> R) -> R {
        INFLATER.with(|cell| f(&mut *cell.borrow_mut()))
    }
}

impl Inflate for Option<Inflater> {
    fn inflate(&mut self, payload: &[u8], limit: usize) -> Result<&[u8], Fail> {
        self.get_or_insert_with(|| Inflater {
            d: Decompress::new_with_window_bits(false, 15),
            out: Vec::new(),
        })
        .inflate(payload, limit)
    }
}

impl Inflate for Inflater {
    fn inflate(&mut self, payload: &[u8], limit: usize) -> Result<&[u8], Fail> {
        self.d.reset(false);
        if self.out.capacity() > KEEP_OUTPUT {
            self.out = Vec::new();
        }
        self.out.clear();
        let r = inflate_into(&mut self.d, &mut self.out, payload, limit);
        if r.is_err() {
            self.d.reset(false);
            self.out = Vec::new();
        }
        r.map(|()| &self.out[..])
    }
}

/// Inflates `payload` and the trailer into `out`, at most `limit` bytes,
/// growing `out` step by step (never by a claimed size).
fn inflate_into(
    d: &mut Decompress,
    out: &mut Vec<u8>,
    payload: &[u8],
    limit: usize,
) -> Result<(), Fail> {
    const STEP: usize = 64 << 10;
    const CORRUPT: Fail = Fail {
        code: 1007,
        reason: "invalid compressed data",
    };
    for input in [payload, &TRAILER[..]] {
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                // Grow geometrically, but never past one byte over the
                // limit: a bomb touches at most `limit + 1` bytes.
                let want = (out.capacity() * 2).max(STEP).min(limit + 1);
                if want <= out.len() {
                    return Err(TOO_BIG);
                }
                out.reserve_exact(want - out.len());
            }
            let (in0, out0) = (d.total_in(), out.len());
            let status = d
                .decompress_vec(&input[pos..], out, FlushDecompress::Sync)
                .map_err(|_| CORRUPT)?;
            pos += (d.total_in() - in0) as usize;
            if out.len() > limit {
                return Err(TOO_BIG);
            }
            if status == Status::StreamEnd {
                // The sender ended the message with a final block (allowed,
                // RFC 7692 7.2.3.4); what may follow is the empty stored
                // block's remains. The message is complete.
                return Ok(());
            }
            let room = out.len() < out.capacity();
            // All input taken and room left over: this input is done. No
            // progress with room left: the decoder wants more input.
            if room && (pos == input.len() || (d.total_in() == in0 && out.len() == out0)) {
                break;
            }
        }
    }
    Ok(())
}

/// The compression level (`SNOW_WS_COMPRESSION_LEVEL`, 1 by default: 5-9x
/// faster than 6 for a slightly larger output on chat text and JSON).
static LEVEL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

pub(crate) fn set_level(level: u32) {
    LEVEL.store(level.min(9), std::sync::atomic::Ordering::Relaxed);
}

/// `payload` compressed as one message for window bits `window` (9-15),
/// without the trailer: `None` when that is not shorter than `payload`
/// (the message then goes uncompressed).
pub(crate) fn compress(payload: &[u8], window: u8) -> Option<Vec<u8>> {
    if payload.is_empty() || !(9..=15).contains(&window) {
        return None;
    }
    compress_raw(payload, window).filter(|c| c.len() < payload.len())
}

/// `payload` compressed with the worker's deflater for `window` (9-15),
/// trailer stripped.
fn compress_raw(payload: &[u8], window: u8) -> Option<Vec<u8>> {
    DEFLATERS.with(|cell| {
        let mut all = cell.borrow_mut();
        let slot = &mut all[(window - 9) as usize];
        let c = slot.get_or_insert_with(|| {
            let level = LEVEL.load(std::sync::atomic::Ordering::Relaxed);
            Compress::new_with_window_bits(Compression::new(level), false, window)
        });
        c.reset();
        let mut out = Vec::with_capacity(payload.len() / 2 + 64);
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            let before = c.total_in();
            c.compress_vec(&payload[pos..], &mut out, FlushCompress::Sync)
                .ok()?;
            pos += (c.total_in() - before) as usize;
            // Done when all input is in and the flush fit in the buffer.
            if pos >= payload.len() && out.len() < out.capacity() {
                break;
            }
        }
        c.reset();
        if !out.ends_with(&TRAILER) {
            return None;
        }
        out.truncate(out.len() - TRAILER.len());
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(payload: &[u8], limit: usize) -> Result<Vec<u8>, Fail> {
        WorkerInflate::with(|i| i.inflate(payload, limit).map(|b| b.to_vec()))
    }

    #[test]
    fn rfc7692_examples() {
        // 7.2.3.1: "Hello" compressed, and 7.2.3.3: stored (uncompressed) block.
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&hello, 100).unwrap(), b"Hello");
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(inflate(&stored, 100).unwrap(), b"Hello");
        // 7.2.3.4: a final block, then the empty stored block's leftovers.
        let fin = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(inflate(&fin, 100).unwrap(), b"Hello");
        // Our own output for "Hello" is the RFC's (sent plain, though: 7
        // bytes are not shorter than 5).
        assert_eq!(compress_raw(b"Hello", 15), Some(hello.to_vec()));
        assert_eq!(compress(b"Hello", 15), None);
    }

    #[test]
    fn round_trips_at_every_window_size_and_empty_messages() {
        let text: Vec<u8> = (0..200_000u32)
            .map(|i| b"chat json {}"[i as usize % 12])
            .collect();
        for w in 9..=15 {
            let c = compress(&text, w).expect("compressible");
            assert!(c.len() < text.len() / 10);
            assert_eq!(inflate(&c, 1 << 20).unwrap(), text, "window {w}");
        }
        assert_eq!(compress(b"", 15), None, "an empty message goes plain");
        assert_eq!(inflate(&[], 10).unwrap(), b"");
        assert_eq!(inflate(&[0x00], 10).unwrap(), b"");
        // Incompressible data is not sent compressed.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(compress(&noise, 15), None);
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit_and_corrupt_data_is_1007() {
        // 64 MiB of zeros at level 9: about 64 KiB on the wire.
        let zeros = vec![0u8; 64 << 20];
        let mut c = Compress::new(Compression::best(), false);
        let mut bomb = Vec::with_capacity(1 << 20);
        c.compress_vec(&zeros, &mut bomb, FlushCompress::Sync)
            .unwrap();
        assert!(
            c.total_in() == zeros.len() as u64 && bomb.len() < 100_000,
            "{}",
            bomb.len()
        );
        assert_eq!(inflate(&bomb, 16 << 20), Err(TOO_BIG));
        assert_eq!(inflate(&[0xff, 0xff, 0xff], 100).unwrap_err().code, 1007);
        // The shared inflater is clean afterwards.
        assert_eq!(
            inflate(&compress(b"Hello Hello Hello", 15).unwrap(), 100).unwrap(),
            b"Hello Hello Hello"
        );
        // Exactly the limit is fine.
        let c = compress(&vec![b'a'; 1000], 15).unwrap();
        assert_eq!(inflate(&c, 1000).unwrap().len(), 1000);
        assert_eq!(inflate(&c, 999), Err(TOO_BIG));
    }

    #[test]
    fn negotiation_accepts_the_first_valid_offer_and_declines_the_rest() {
        let n = |h: &str| negotiate(h);
        let plain = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
        assert_eq!(
            n("permessage-deflate; client_max_window_bits"),
            Some((Negotiated { server_window: 15 }, plain.to_string()))
        );
        assert_eq!(
            n("permessage-deflate; server_max_window_bits=10"),
            Some((
                Negotiated { server_window: 10 },
                format!("{plain}; server_max_window_bits=10")
            ))
        );
        assert_eq!(
            n("permessage-deflate; server_max_window_bits=\"12\""),
            Some((
                Negotiated { server_window: 12 },
                format!("{plain}; server_max_window_bits=12")
            ))
        );
        // 8: accepted, and never compressed outbound.
        let (neg, _) = n("permessage-deflate; server_max_window_bits=8").unwrap();
        assert_eq!(neg.compress_window(), 0);
        // Declined offers, then an acceptable one.
        for bad in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "x-webkit-deflate-frame",
        ] {
            assert_eq!(n(bad), None, "{bad}");
            assert_eq!(
                n(&format!("{bad}, permessage-deflate")).map(|(x, _)| x),
                Some(Negotiated { server_window: 15 }),
                "{bad}, then a plain offer"
            );
        }
        assert_eq!(n(""), None);
    }
}
