//! `Map` (std/map.snow): immutable maps with insertion-ordered keys.
//!
//! Representation (opaque to generated code): a persistent hash array mapped
//! trie (HAMT) in the current region. `get`, `has_key`, `put` and `delete`
//! are O(log32 n) (path copying: an update allocates at most ~13 nodes of at
//! most 33 words, usually 2 or 3); `size` is O(1); `keys` is O(n log n)
//! (entries carry an insertion number and are sorted by it).
//!
//! Layout: the core's map object (`rt/value.rs`, where the core reads it
//! to compare, hash and copy maps inside any value); this file builds it.
//!
//! Keys compare as Snow `==` does for their type descriptor (String/Bytes by
//! content, Float by value, tuples, structs, lists, sum types and maps by
//! their parts, `rt::eq_by`; service handles and unknown types by word). The descriptor is recorded in
//! the map, so a generic call site (descriptor 0) still compares by content
//! once any call site that knew the key type has built the map. `put` of an
//! existing key keeps its position in `keys`; `delete` then `put` moves it
//! to the end.

use crate::rt::{
    eq_by, hash_by, key_class as class, list_from_slice, list_iter, map_entries,
    map_entry as entry, map_entry_words, map_header, map_is_node as is_node, map_node as node,
    new_str, new_tuple, new_words, option, MapHeader as Header, TD_STRING,
};

const BITS: u32 = 5;
const MASK: u64 = 31;

fn new_header(td: i64, size: i64, next_seq: i64, root: i64) -> i64 {
    new_tuple(&[td, size, next_seq, root])
}

/// # Safety
/// `m` must be a map built by this module.
unsafe fn header(m: i64) -> Header {
    // SAFETY: the caller passes a map.
    unsafe { map_header(m) }
}

fn new_entry(hash: u64, seq: i64, key: i64, val: i64) -> i64 {
    new_tuple(&[hash as i64, seq, key, val])
}

fn new_node(head: i64, children: &[i64]) -> i64 {
    new_words(&[&[head], children]) | 1
}

/// The full hash of any non-empty child word (all entries under a collision
/// node share it; for a bitmap node it is not needed).
///
/// # Safety
/// `w` must be an entry or a collision node.
unsafe fn child_hash(w: i64) -> u64 {
    // SAFETY: an entry, or a collision node of entries (the caller's promise).
    unsafe {
        if is_node(w) {
            entry(node(w).1[0])[0] as u64
        } else {
            entry(w)[0] as u64
        }
    }
}

fn digit(h: u64, shift: u32) -> u64 {
    (h >> shift) & MASK
}

/// A subtree holding two child words with hashes `ha != hb` or two entries
/// with equal hashes, at depth `shift`.
fn merge(a: i64, ha: u64, b: i64, hb: u64, shift: u32) -> i64 {
    if ha == hb {
        return new_node(-2, &[a, b]);
    }
    let (da, db) = (digit(ha, shift), digit(hb, shift));
    if da == db {
        let sub = merge(a, ha, b, hb, shift + BITS);
        new_node(1 << da, &[sub])
    } else {
        let pair = if da < db { [a, b] } else { [b, a] };
        new_node(((1u64 << da) | (1u64 << db)) as i64, &pair)
    }
}

struct Ins {
    td: i64,
    hash: u64,
    key: i64,
    /// The value of a new key (and of an existing one without `update`).
    val: i64,
    seq: i64,
    /// `Map.update`'s `f` (a `Fun(v) -> v` closure), or 0: an existing
    /// key's value becomes `f(old)`, called where the walk finds the key.
    update: i64,
}

impl Ins {
    /// The value an existing entry whose value is `old` gets.
    ///
    /// Snow code may run here (`f`), and with it a collection of the
    /// current region (docs/ABI.md "Runtime functions that call Snow
    /// code"): the callers hold the map's nodes only in their frames (the
    /// node being walked, its children slice, the entry), which the
    /// conservative scan of the stack and registers finds, and build the
    /// new path only after `f` returned.
    ///
    /// # Safety
    /// `update` is 0 or a closure of one parameter.
    unsafe fn value_for(&self, old: i64) -> i64 {
        if self.update == 0 {
            self.val
        } else {
            // SAFETY: a `Fun(v) -> v` closure (the caller's promise).
            unsafe { crate::rt::call1(self.update, old) }
        }
    }
}

/// Inserts into the subtree `w` at depth `shift`; returns the new subtree
/// and whether the key was new.
///
/// # Safety
/// `w` a child word of a map whose keys match `ins.td`.
unsafe fn insert(w: i64, shift: u32, ins: &Ins) -> (i64, bool) {
    // SAFETY: the caller passes a child word of a map whose keys match `ins.td`;
    // every word read below is that subtree's (an entry or a node).
    unsafe {
        if w == 0 {
            return (new_entry(ins.hash, ins.seq, ins.key, ins.val), true);
        }
        if !is_node(w) {
            let e = entry(w);
            if e[0] as u64 == ins.hash && eq_by(ins.td, e[2], ins.key) {
                let val = ins.value_for(e[3]);
                return (new_entry(ins.hash, e[1], e[2], val), false);
            }
            let n = new_entry(ins.hash, ins.seq, ins.key, ins.val);
            return (merge(w, e[0] as u64, n, ins.hash, shift), true);
        }
        let (head, children) = node(w);
        if head < 0 {
            let ch = child_hash(w);
            if ch != ins.hash {
                let n = new_entry(ins.hash, ins.seq, ins.key, ins.val);
                return (merge(w, ch, n, ins.hash, shift), true);
            }
            match children
                .iter()
                .position(|&e| eq_by(ins.td, entry(e)[2], ins.key))
            {
                Some(i) => {
                    let old = entry(children[i]);
                    // `f` runs before the copy (no Snow word in Rust heap
                    // memory while Snow code runs).
                    let val = ins.value_for(old[3]);
                    let mut es = children.to_vec();
                    es[i] = new_entry(ins.hash, old[1], old[2], val);
                    return (new_node(head, &es), false);
                }
                None => {
                    let mut es = children.to_vec();
                    es.push(new_entry(ins.hash, ins.seq, ins.key, ins.val));
                    return (new_node(-(es.len() as i64), &es), true);
                }
            }
        }
        let bitmap = head as u64;
        let bit = 1u64 << digit(ins.hash, shift);
        let pos = (bitmap & (bit - 1)).count_ones() as usize;
        // The new node's children are built on the stack (a bitmap node has
        // at most 32): no Rust allocation per level of an insert.
        let n = children.len();
        let mut cs = [0i64; 1 << BITS];
        if bitmap & bit == 0 {
            cs[..pos].copy_from_slice(&children[..pos]);
            cs[pos] = new_entry(ins.hash, ins.seq, ins.key, ins.val);
            cs[pos + 1..=n].copy_from_slice(&children[pos..]);
            return (new_node((bitmap | bit) as i64, &cs[..=n]), true);
        }
        let (sub, added) = insert(children[pos], shift + BITS, ins);
        cs[..n].copy_from_slice(children);
        cs[pos] = sub;
        (new_node(head, &cs[..n]), added)
    }
}

/// A node of `children` after removing one, collapsed to its only entry
/// when possible (0 when nothing is left).
fn shrink(head: i64, children: Vec<i64>) -> i64 {
    match children.len() {
        0 => 0,
        1 if !is_node(children[0]) => children[0],
        _ => new_node(head, &children),
    }
}

/// Removes `key` from subtree `w`: `None` when absent, else the new subtree.
///
/// # Safety
/// As [`insert`].
unsafe fn remove(w: i64, shift: u32, td: i64, hash: u64, key: i64) -> Option<i64> {
    // SAFETY: as in `insert`: `w` is a child word of a map of such keys.
    unsafe {
        if w == 0 {
            return None;
        }
        if !is_node(w) {
            let e = entry(w);
            return (e[0] as u64 == hash && eq_by(td, e[2], key)).then_some(0);
        }
        let (head, children) = node(w);
        if head < 0 {
            let i = children
                .iter()
                .position(|&e| entry(e)[0] as u64 == hash && eq_by(td, entry(e)[2], key))?;
            let mut es = children.to_vec();
            es.remove(i);
            return Some(shrink(-(es.len() as i64), es));
        }
        let bitmap = head as u64;
        let bit = 1u64 << digit(hash, shift);
        if bitmap & bit == 0 {
            return None;
        }
        let pos = (bitmap & (bit - 1)).count_ones() as usize;
        let sub = remove(children[pos], shift + BITS, td, hash, key)?;
        let mut cs = children.to_vec();
        if sub == 0 {
            cs.remove(pos);
            Some(shrink((bitmap & !bit) as i64, cs))
        } else {
            cs[pos] = sub;
            Some(shrink(head, cs))
        }
    }
}

/// The value of `key` in subtree `w`.
///
/// # Safety
/// As [`insert`].
unsafe fn lookup(mut w: i64, td: i64, hash: u64, key: i64) -> Option<i64> {
    // SAFETY: as in `insert`: `w` is a child word of a map of such keys.
    unsafe {
        let mut shift = 0;
        loop {
            if w == 0 {
                return None;
            }
            if !is_node(w) {
                let e = entry(w);
                return (e[0] as u64 == hash && eq_by(td, e[2], key)).then_some(e[3]);
            }
            let (head, children) = node(w);
            if head < 0 {
                return children
                    .iter()
                    .map(|&e| entry(e))
                    .find(|e| e[0] as u64 == hash && eq_by(td, e[2], key))
                    .map(|e| e[3]);
            }
            let bit = 1u64 << digit(hash, shift);
            if head as u64 & bit == 0 {
                return None;
            }
            w = children[((head as u64) & (bit - 1)).count_ones() as usize];
            shift += BITS;
        }
    }
}

/// All entries of subtree `w` (any order).
///
/// # Safety
/// `w` a child word.
unsafe fn collect(w: i64, out: &mut Vec<[i64; 4]>) {
    let mut ws = Vec::new();
    // SAFETY: `w` is a child word (the caller's promise).
    unsafe {
        map_entry_words(w, &mut ws);
        out.extend(ws.into_iter().map(|e| entry(e)));
    }
}

/// Entries in insertion order.
///
/// # Safety
/// `m` a map.
unsafe fn ordered(m: i64) -> Vec<[i64; 4]> {
    // SAFETY: `m` is a map (the caller's promise).
    unsafe { map_entries(m) }
}

/// The map `m` with its key hashes recomputed for descriptor `td` (when a
/// map built by generic code meets a call site that knows the key type).
///
/// # Safety
/// `m` a map with keys of descriptor `td`.
unsafe fn upgrade(m: i64, td_k: i64) -> Header {
    // SAFETY: `m` is a map whose keys have descriptor `td_k` (the caller's promise).
    unsafe {
        let h = header(m);
        let td = if h.td == 0 { td_k } else { h.td };
        if class(td) == class(h.td) {
            return Header { td, ..h };
        }
        let mut root = 0;
        let mut size = 0;
        for e in ordered(m) {
            let ins = Ins {
                td,
                hash: hash_by(td, e[2]),
                key: e[2],
                val: e[3],
                seq: e[1],
                update: 0,
            };
            let (r, added) = insert(root, 0, &ins);
            root = r;
            size += added as i64;
        }
        Header {
            td,
            size,
            next_seq: h.next_seq,
            root,
        }
    }
}

/// `Map.new()`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_new(td_k: i64, _td_v: i64) -> i64 {
    new_header(td_k, 0, 0, 0)
}

/// `Map.put(m, key, value)`: O(log n).
#[no_mangle]
pub extern "C-unwind" fn snow_map_put(td_k: i64, _td_v: i64, m: i64, key: i64, val: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe { put_or_update(td_k, m, key, val, 0) }
}

/// `Map.update(m, key, default, f)`: `key`'s value replaced by `f(old)`, or
/// `default` when `key` is absent, in one walk (one hash of the key, no
/// `Option` in between, as `get` then `put` took).
#[no_mangle]
pub extern "C-unwind" fn snow_map_update(
    td_k: i64,
    _td_v: i64,
    m: i64,
    key: i64,
    default: i64,
    f: i64,
) -> i64 {
    // SAFETY: a map, a key of its type and a `Fun(v) -> v` closure.
    unsafe { put_or_update(td_k, m, key, default, f) }
}

/// # Safety
/// `m` a map with keys like `key`; `update` 0 or a closure of one parameter.
unsafe fn put_or_update(td_k: i64, m: i64, key: i64, val: i64, update: i64) -> i64 {
    // SAFETY: the caller's promise.
    unsafe {
        let h = upgrade(m, td_k);
        let ins = Ins {
            td: h.td,
            hash: hash_by(h.td, key),
            key,
            val,
            seq: h.next_seq,
            update,
        };
        let (root, added) = insert(h.root, 0, &ins);
        new_header(h.td, h.size + added as i64, h.next_seq + added as i64, root)
    }
}

/// The value of `key`, comparing with descriptor `td_k` when the map's own
/// is not known.
///
/// # Safety
/// A map and a key of its type.
unsafe fn get(td_k: i64, m: i64, key: i64) -> Option<i64> {
    // SAFETY: a map and a key of its type (the caller's promise).
    unsafe {
        let h = header(m);
        let td = if h.td == 0 { td_k } else { h.td };
        if class(td) != class(h.td) {
            // Hashes are by word: scan.
            let mut es = Vec::new();
            collect(h.root, &mut es);
            return es.iter().find(|e| eq_by(td, e[2], key)).map(|e| e[3]);
        }
        lookup(h.root, td, hash_by(td, key), key)
    }
}

/// `Map.get(m, key)`: `Some(value)` or `None`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_get(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    option(unsafe { get(td_k, m, key) })
}

/// `Map.has_key(m, key)`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_has_key(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe { get(td_k, m, key) }.is_some() as i64
}

/// `Map.delete(m, key)`: `m` itself when the key is absent; O(log n).
#[no_mangle]
pub extern "C-unwind" fn snow_map_delete(td_k: i64, _td_v: i64, m: i64, key: i64) -> i64 {
    // SAFETY: a map and a key of its type.
    unsafe {
        let h = upgrade(m, td_k);
        match remove(h.root, 0, h.td, hash_by(h.td, key), key) {
            None if h.root == header(m).root => m,
            None => new_header(h.td, h.size, h.next_seq, h.root),
            Some(root) => new_header(h.td, h.size - 1, h.next_seq, root),
        }
    }
}

/// `Map.keys(m)`: in insertion order.
#[no_mangle]
pub extern "C-unwind" fn snow_map_keys(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    let keys: Vec<i64> = unsafe { ordered(m) }.iter().map(|e| e[2]).collect();
    list_from_slice(&keys)
}

/// `Map.size(m)`.
#[no_mangle]
pub extern "C-unwind" fn snow_map_size(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    unsafe { header(m) }.size
}

/// `Map.to_list(m)`: the `(key, value)` pairs (tuples of two words) in
/// insertion order.
#[no_mangle]
pub extern "C-unwind" fn snow_map_to_list(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    let pairs: Vec<i64> = unsafe { ordered(m) }
        .iter()
        .map(|e| new_tuple(&[e[2], e[3]]))
        .collect();
    list_from_slice(&pairs)
}

/// `Map.values(m)`: in insertion order.
#[no_mangle]
pub extern "C-unwind" fn snow_map_values(_td_k: i64, _td_v: i64, m: i64) -> i64 {
    // SAFETY: a map.
    let values: Vec<i64> = unsafe { ordered(m) }.iter().map(|e| e[3]).collect();
    list_from_slice(&values)
}

/// `Map.from_list(pairs)`: the pairs put in order (a later duplicate key's
/// value wins, in the first one's position). An extern rather than Snow so
/// that it gets the key's descriptor: a map made inside generic Snow code
/// compares its keys by identity until a call that knows the key type.
#[no_mangle]
pub extern "C-unwind" fn snow_map_from_list(td_k: i64, td_v: i64, pairs: i64) -> i64 {
    let mut m = snow_map_new(td_k, td_v);
    // SAFETY: a list of two-word tuples.
    for p in unsafe { list_iter(pairs) } {
        // SAFETY: a tuple (key, value).
        let (k, v) = unsafe { (*(p as *const i64), *(p as *const i64).add(1)) };
        m = snow_map_put(td_k, td_v, m, k, v);
    }
    m
}

/// `==` on maps (generated code, docs/ABI.md): the same keys with equal
/// values, whatever the order they were put in; 1 or 0.
#[no_mangle]
pub extern "C-unwind" fn snow_map_eq(td_k: i64, td_v: i64, a: i64, b: i64) -> i64 {
    // SAFETY: two maps of these keys and values.
    unsafe { crate::rt::maps_eq(td_k, td_v, a, b) as i64 }
}

/// A `Map<String, String>` of `pairs` (in the current region; call it inside
/// `run_callback` when the map is for a callback). A later pair with the
/// same key replaces the earlier value (keeping the earlier position).
pub fn from_string_pairs(pairs: &[(&str, &str)]) -> i64 {
    let mut m = snow_map_new(TD_STRING, TD_STRING);
    for (k, v) in pairs {
        m = snow_map_put(TD_STRING, TD_STRING, m, new_str(k), new_str(v));
    }
    m
}

/// The entries of a map as (key, value) words, in insertion order.
///
/// # Safety
/// `m` must be a map object.
pub unsafe fn entries(m: i64) -> Vec<(i64, i64)> {
    // SAFETY: `m` is a map (the caller's promise).
    unsafe { ordered(m).iter().map(|e| (e[2], e[3])).collect() }
}

#[cfg(test)]
mod tests {
    //! Hash-structure cases that real hashes rarely hit: full collisions and
    //! hashes that differ only in the last digit.
    use super::*;
    use crate::rt::TD_INT;

    unsafe fn put_with_hash(root: i64, hash: u64, key: i64, val: i64) -> (i64, bool) {
        // SAFETY: a child word of an Int-keyed map (test).

        unsafe {
            insert(
                root,
                0,
                &Ins {
                    td: TD_INT,
                    hash,
                    key,
                    val,
                    seq: key,
                    update: 0,
                },
            )
        }
    }

    /// A closure object (docs/ABI.md "Calls") whose code adds 100.
    extern "C-unwind" fn add_100(_self: *const u8, v: i64) -> i64 {
        v + 100
    }

    #[test]
    fn update_calls_f_on_the_found_entry_also_in_a_collision_node() {
        let clo: [usize; 2] = [add_100 as *const () as usize, 0];
        let f = clo.as_ptr() as i64;
        // SAFETY: child words built by `insert`; `f` a closure of one
        // parameter.
        unsafe {
            let mut root = 0;
            for k in [1i64, 2, 3] {
                root = put_with_hash(root, 42, k, k * 10).0;
            }
            root = put_with_hash(root, 7, 4, 40).0;
            let update = |root: i64, hash: u64, key: i64| {
                let ins = Ins {
                    td: TD_INT,
                    hash,
                    key,
                    val: -1,
                    seq: 9,
                    update: f,
                };
                insert(root, 0, &ins)
            };
            // In the collision node of hash 42, in a plain entry, and absent.
            let (r, added) = update(root, 42, 2);
            assert!(!added);
            assert_eq!(lookup(r, TD_INT, 42, 2), Some(120));
            assert_eq!(lookup(r, TD_INT, 42, 1), Some(10));
            let (r, added) = update(r, 7, 4);
            assert!(!added);
            assert_eq!(lookup(r, TD_INT, 7, 4), Some(140));
            let (r, added) = update(r, 42, 5);
            assert!(added, "an absent key is added");
            assert_eq!(lookup(r, TD_INT, 42, 5), Some(-1), "with the default");
            assert_eq!(
                lookup(root, TD_INT, 42, 2),
                Some(20),
                "the old map is unchanged"
            );
        }
    }

    #[test]
    fn collisions_and_deep_splits() {
        // SAFETY: every word below is a child word built by `insert`.
        unsafe {
            let hashes = [42u64, 42, 42, 42 | (1 << 62), 42 | (1 << 61), 7];
            let mut root = 0;
            for (k, h) in hashes.iter().enumerate() {
                let (r, added) = put_with_hash(root, *h, k as i64, 100 + k as i64);
                assert!(added);
                root = r;
            }
            for (k, h) in hashes.iter().enumerate() {
                assert_eq!(
                    lookup(root, TD_INT, *h, k as i64),
                    Some(100 + k as i64),
                    "key {k}"
                );
            }
            assert_eq!(lookup(root, TD_INT, 42, 99), None);
            // Replace inside the collision node.
            let (r2, added) = put_with_hash(root, 42, 1, 555);
            assert!(!added);
            assert_eq!(lookup(r2, TD_INT, 42, 1), Some(555));
            assert_eq!(lookup(root, TD_INT, 42, 1), Some(101));
            // Remove from the collision node down to one entry, then none.
            let mut r = root;
            for k in [0i64, 1, 2] {
                r = remove(r, 0, TD_INT, 42, k).expect("present");
                assert_eq!(lookup(r, TD_INT, 42, k), None);
                assert_eq!(remove(r, 0, TD_INT, 42, k), None);
            }
            for (k, h) in hashes.iter().enumerate().skip(3) {
                assert_eq!(lookup(r, TD_INT, *h, k as i64), Some(100 + k as i64));
            }
            let mut es = Vec::new();
            collect(r, &mut es);
            assert_eq!(es.len(), 3);
        }
    }
}
