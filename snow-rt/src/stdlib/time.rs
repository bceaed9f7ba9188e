//! `Time` (std/time.snow): the wall clock and a monotonic clock.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// `Time.now_ms()`: Unix time in milliseconds (negative before 1970).
#[no_mangle]
pub extern "C-unwind" fn snow_time_now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// `Time.monotonic_ms()`: milliseconds since the first call in this process
/// (a clock that never goes back).
#[no_mangle]
pub extern "C-unwind" fn snow_time_monotonic_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}
