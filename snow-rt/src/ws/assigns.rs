//! Per-connection state for Snow programs (like Phoenix's socket assigns):
//! `Ws.set(conn, key, value)` and `Ws.get(conn, key)`. Snow values are
//! immutable, so a chat's nickname or a client's current channel lives here.
//! The strings are copied into the connection (never region pointers) and
//! dropped with it.

use super::conn::lookup;
use crate::rt::{new_str, none, some, str_ref};

/// `Ws.set(conn, key, value)`: 0, or -1 for an unknown or closed connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_set(conn: i64, key: i64, value: i64) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    if c.is_closed() {
        return -1;
    }
    // SAFETY: String words (docs/ABI.md).
    let (key, value) = unsafe { (str_ref(key), str_ref(value)) };
    c.assigns.lock().insert(key.to_owned(), value.to_owned());
    0
}

/// `Ws.get(conn, key) -> Option<String>`: None when unset or for an unknown connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_get(conn: i64, key: i64) -> i64 {
    let Some(c) = lookup(conn) else { return none() };
    // SAFETY: a String word.
    let key = unsafe { str_ref(key) };
    let assigns = c.assigns.lock();
    match assigns.get(key) {
        Some(v) => some(new_str(v)),
        None => none(),
    }
}
