//! Limits of one callback (docs/WS.md "Callback limits"), read once from the
//! environment: a callback region whose live heap exceeds
//! `SNOW_WS_CALLBACK_HEAP_BYTES` after a collection, or a callback that runs
//! longer than `SNOW_WS_CALLBACK_TIMEOUT_MS`, panics at its next safepoint
//! (a function call or loop iteration), which closes that one connection with
//! 1011 (a timer tick is reported and the timer goes on). They apply to every
//! callback the runtime runs: server callbacks and timer ticks. `main` has no
//! limit.

use std::sync::OnceLock;

/// Default `SNOW_WS_CALLBACK_HEAP_BYTES`: 256 MiB of live data per callback.
pub const DEFAULT_CALLBACK_HEAP_BYTES: u64 = 256 << 20;
/// Default `SNOW_WS_CALLBACK_TIMEOUT_MS`: 10 seconds.
pub const DEFAULT_CALLBACK_TIMEOUT_MS: u64 = 10_000;

/// The live heap a callback may keep, bytes.
pub fn callback_heap_bytes() -> usize {
    static V: OnceLock<usize> = OnceLock::new();
    *V.get_or_init(|| {
        env_num("SNOW_WS_CALLBACK_HEAP_BYTES").unwrap_or(DEFAULT_CALLBACK_HEAP_BYTES) as usize
    })
}

/// How long a callback may run, milliseconds.
pub fn callback_timeout_ms() -> u64 {
    static V: OnceLock<u64> = OnceLock::new();
    *V.get_or_init(|| env_num("SNOW_WS_CALLBACK_TIMEOUT_MS").unwrap_or(DEFAULT_CALLBACK_TIMEOUT_MS))
}

/// A positive integer from the environment (`None` when unset or invalid,
/// which is reported on stderr), as the server's other settings.
fn env_num(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            eprintln!("snow: ignoring {name}={v:?}: expected a positive integer");
            None
        }
    }
}
