//! Stdout: the buffer behind `println` and `print` (std/prelude.snow,
//! `stdlib/prelude.rs`) and the runtime's flushes.
//!
//! Stdout goes through one process-wide buffer. When stdout is a terminal it
//! is written out after every call. Otherwise (a pipe or file) it is written
//! when it reaches 64 KiB, every 50 ms by a background `snow-stdout` thread,
//! at exit (`snow_rt_main`, an `atexit` handler) and before a panic exit, so
//! nothing printed is lost and a reader of a pipe sees output promptly.
//! Stderr is unbuffered.

use parking_lot::Mutex;
use std::io::{IsTerminal, Write};
use std::sync::{Once, OnceLock};
use std::time::Duration;

const FLUSH_AT: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(50);

static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn is_tty() -> bool {
    static TTY: OnceLock<bool> = OnceLock::new();
    *TTY.get_or_init(|| std::io::stdout().is_terminal())
}

fn start_flusher() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("snow-stdout".into())
            .spawn(|| loop {
                std::thread::sleep(FLUSH_EVERY);
                flush_stdout();
            });
    });
}

fn write_fd1(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    // Errors (closed pipe, ...) are ignored: printing never fails in Snow.
    let _ = out.write_all(buf);
    let _ = out.flush();
    buf.clear();
}

/// Appends `parts` to stdout.
pub fn write_stdout(parts: &[&[u8]]) {
    let mut buf = OUT.lock();
    for p in parts {
        buf.extend_from_slice(p);
    }
    if is_tty() || buf.len() >= FLUSH_AT {
        write_fd1(&mut buf);
    } else {
        drop(buf);
        start_flusher();
    }
}

/// Writes out buffered stdout. Gives up after a short wait if another thread
/// holds the buffer (so a panic path can never deadlock here).
pub fn flush_stdout() {
    if let Some(mut buf) = OUT.try_lock_for(Duration::from_millis(200)) {
        write_fd1(&mut buf);
    }
}

extern "C" fn flush_at_exit() {
    flush_stdout();
}

/// Registers the `atexit` flush (once).
pub fn register_exit_flush() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe {
            libc::atexit(flush_at_exit);
        }
    });
}
