//! Client bytes after a completed handshake, through the server's frame
//! reader as snow-rt configures it (tungstenite, server role, size limits)
//! and the server's mapping of read errors to close codes. The first two
//! bytes choose the read size (TCP splits) and a small or large message limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let chunk = data[0] as usize + 1;
    let max = if data[1] & 1 == 0 { 1 << 20 } else { 256 };
    let deflate = data[1] & 2 != 0;
    let _ = snow_rt::ws::fuzzing::read_client_bytes(&data[2..], chunk, max, deflate);
});
