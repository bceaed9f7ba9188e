//! `Map` (std/map.snow): immutable maps with insertion-ordered keys.
//!
//! Representation (opaque to generated code): one region object
//! `{ i64 td_k; i64 len; { u64 hash; i64 key; i64 value } entries[len] }`,
//! entries in insertion order. `get`/`has_key` scan the hashes (O(n), with a
//! cheap hash comparison before any key comparison); `put` and `delete` copy
//! the entry array (O(n) time and memory per update). This suits the small
//! maps of v1 programs (headers, per-connection state); a persistent
//! hash trie would make updates O(log n).
//!
//! Keys compare as Snow `==` does for their type descriptor (String/Bytes by
//! content, Float by value, others by word). The descriptor is recorded in
//! the map, so a generic call site (descriptor 0) still compares by content
//! once any call site that knew the key type has touched the map. `put` of an
//! existing key keeps its position in `keys`.

use crate::value::{self, eq_by, hash_by, join_td, TD_STRING};

const HEADER: usize = 2;
const ENTRY: usize = 3;

/// Allocates a map of `len` entries with descriptor `td`; entries uninitialized.
fn alloc_map(td: i64, len: usize) -> *mut i64 {
    let p = crate::region::alloc(8 * (HEADER + ENTRY * len)) as *mut i64;
    // SAFETY: room for the two header words.
    unsafe {
        *p = td;
        *p.add(1) = len as i64;
    }
    p
}

/// A view of a map object.
struct View {
    td: i64,
    entries: &'static [[i64; ENTRY]],
}

/// # Safety
/// `m` must be a map object built by this module.
unsafe fn view(m: i64) -> View {
    let p = m as *const i64;
    let len = *p.add(1) as usize;
    View {
        td: *p,
        entries: std::slice::from_raw_parts(p.add(HEADER) as *const [i64; ENTRY], len),
    }
}

/// A new map with the given entries.
fn build(td: i64, entries: impl ExactSizeIterator<Item = [i64; ENTRY]>) -> i64 {
    let p = alloc_map(td, entries.len());
    for (i, e) in entries.enumerate() {
        // SAFETY: `i` < len, room allocated above.
        unsafe { std::ptr::copy_nonoverlapping(e.as_ptr(), p.add(HEADER + ENTRY * i), ENTRY) };
    }
    p as i64
}

/// The index of `key` in `m` and the effective descriptor.
///
/// # Safety
/// `m` a map, `key` a value of the map's key type.
unsafe fn find(td_k: i64, m: i64, key: i64) -> (View, i64, u64, Option<usize>) {
    let v = view(m);
    let td = join_td(td_k, v.td);
    let h = hash_by(td, key);
    let idx = v.entries.iter().position(|e| e[0] as u64 == h && eq_by(td, e[1], key));
    (v, td, h, idx)
}

/// `Map.new()`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_new(td_k: i64, _td_v: i64) -> i64 {
    alloc_map(td_k, 0) as i64
}

/// `Map.put(m, key, value)`: O(n).
#[no_mangle]
pub extern "C-unwind" fn snow_map_put(td_k: i64, _td_v: i64, m: i64, key: i64, val: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe {
        let (v, td, h, idx) = find(td_k, m, key);
        match idx {
            Some(i) => {
                if v.entries[i][2] == val && td == v.td {
                    return m;
                }
                let it = v.entries.iter().enumerate().map(|(j, e)| if j == i { [e[0], e[1], val] } else { *e });
                build(td, it)
            }
            None => {
                let new = [h as i64, key, val];
                build(td, v.entries.iter().copied().chain(std::iter::once(new)).collect::<Vec<_>>().into_iter())
            }
        }
    }
}

/// `Map.get(m, key)`: `Some(value)` or `None`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_get(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe {
        let (v, _, _, idx) = find(td_k, m, key);
        value::option(idx.map(|i| v.entries[i][2]))
    }
}

/// `Map.has_key(m, key)`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_has_key(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe { find(td_k, m, key).3.is_some() as i64 }
}

/// `Map.delete(m, key)`: `m` itself when the key is absent; O(n).
#[no_mangle]
pub extern "C-unwind" fn snow_map_delete(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe {
        let (v, td, _, idx) = find(td_k, m, key);
        match idx {
            None => m,
            Some(i) => {
                let rest: Vec<[i64; ENTRY]> =
                    v.entries.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, e)| *e).collect();
                build(td, rest.into_iter())
            }
        }
    }
}

/// `Map.keys(m)`: in insertion order.
#[no_mangle]
pub extern "C-unwind" fn snow_map_keys(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    let v = unsafe { view(m) };
    let keys: Vec<i64> = v.entries.iter().map(|e| e[1]).collect();
    crate::list::from_slice(&keys)
}

/// `Map.size(m)`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_size(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    unsafe { view(m) }.entries.len() as i64
}

/// A `Map<String, String>` of `pairs` (in the current region; call it inside
/// `run_callback` when the map is for a callback). A later pair with the
/// same key replaces the earlier value.
pub fn from_string_pairs(pairs: &[(&str, &str)]) -> i64 {
    let mut m = snow_map_new(TD_STRING, TD_STRING);
    for (k, v) in pairs {
        m = snow_map_put(TD_STRING, TD_STRING, m, value::new_str(k), value::new_str(v));
    }
    m
}

/// The entries of a map as (key, value) words, in insertion order.
///
/// # Safety
/// `m` must be a map object.
pub unsafe fn entries(m: i64) -> Vec<(i64, i64)> {
    view(m).entries.iter().map(|e| (e[1], e[2])).collect()
}
