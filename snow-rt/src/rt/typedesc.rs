//! Type descriptors (docs/ABI.md "Type descriptors"): what the runtime
//! does with a value whose type it knows only from its descriptor word.
//!
//! A descriptor is a small number for a scalar (`TD_INT`, `TD_STRING`,
//! ...; 0 when the type was still generic at the call) or a pointer to a
//! static `{ kind, n, parts[n] }` for a compound type: a record (tuple or
//! struct: its fields'), a list (its element's), a map (key's, value's) or
//! a sum type (per constructor, a record descriptor of its fields or 0).
//! With it the runtime
//! - compares two values ([`eq`]: Snow's `==`; Float by IEEE, String and
//!   Bytes by their bytes, maps by their entries whatever the order in
//!   which they were made),
//! - hashes a value consistently with [`eq`] ([`hash`]),
//! - orders two values for sorting ([`cmp`]),
//! - copies a value into the current region ([`copy`]), and
//! - turns a value into an [`Owned`] form that belongs to no region (a
//!   message queued while no heap can hold it) and back ([`to_owned`],
//!   [`from_owned`]).
//!
//! **No recursion on data.** Lists are long and a program's own recursive
//! types can be deep, so every walk here keeps its pending work on an
//! explicit stack (a `Vec`) and runs in constant native stack whatever the
//! value's depth. The one exception is bounded by the *type*: comparing two
//! maps whose keys collide on their full 64-bit hash compares those keys
//! with a nested [`eq`].
//!
//! **Building.** [`copy`] and [`from_owned`] allocate an object with its
//! pointer fields zero and fill them in afterwards, as the list builders
//! do: every object written to was made by the same call, and no safepoint
//! (hence no collection) runs in between (docs/ABI.md "Memory").
//! Maps are copied node by node, so the copy keeps the original's hashes
//! (hashes depend only on content and on descriptors, which are static).
//! Values shared inside the original (the same string in two places) are
//! copied once per place: the copy is a tree.

use std::cmp::Ordering;
use std::hash::Hasher;

use super::builders::{list_onto, new_bytes, new_ctor, new_tuple, new_words};
use super::value::{
    bytes_ref, map_entry, map_entry_words, map_header, map_is_node, map_node, uncons, TD_BOOL,
    TD_BYTES, TD_FLOAT, TD_INT, TD_LIST, TD_MAP, TD_RECORD, TD_STRING, TD_SUM,
};

/// What a descriptor says about its values.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// The word is the value: Int, Bool, `()`, `Conn`, service handles,
    /// and anything not known (descriptors 0 and 8: compared by identity).
    Word,
    /// IEEE bits.
    Float,
    /// A String or Bytes object.
    Bytes,
    /// A tuple or struct: its fields' descriptors.
    Record(&'static [i64]),
    /// A list: its element's descriptor.
    List(i64),
    /// A map: its key's and value's descriptors.
    Map(i64, i64),
    /// A sum type: per constructor, a record descriptor or 0.
    Sum(&'static [i64]),
}

/// The shape of the values of descriptor `td`.
#[inline]
pub fn shape(td: i64) -> Shape {
    match td {
        TD_FLOAT => Shape::Float,
        TD_STRING | TD_BYTES => Shape::Bytes,
        t if t > TD_SUM => {
            // SAFETY: a descriptor word above the small numbers points to a
            // static `{ kind, n, parts[n] }` (docs/ABI.md), emitted by snowc
            // (or leaked by tests): it lives for the whole process.
            unsafe {
                let p = t as *const i64;
                let n = (*p.add(1)).max(0) as usize;
                let parts: &'static [i64] = std::slice::from_raw_parts(p.add(2), n);
                match *p {
                    TD_RECORD => Shape::Record(parts),
                    TD_LIST if n == 1 => Shape::List(parts[0]),
                    TD_MAP if n == 2 => Shape::Map(parts[0], parts[1]),
                    TD_SUM => Shape::Sum(parts),
                    _ => Shape::Word,
                }
            }
        }
        _ => Shape::Word,
    }
}

/// Whether values of `td` are one word holding no pointer (copying them is
/// copying the word).
#[inline]
pub fn is_flat(td: i64) -> bool {
    matches!(shape(td), Shape::Word | Shape::Float)
}

/// Whether values of `td` hold no pointer to follow: flat values, and
/// records of flat fields (a record itself is a pointer to its words).
pub fn has_flat_parts(td: i64) -> bool {
    match shape(td) {
        Shape::Word | Shape::Float => true,
        Shape::Record(fields) => fields.iter().all(|&f| is_flat(f)),
        _ => false,
    }
}

/// The record descriptor of constructor `tag` of a sum type (its fields),
/// empty for a constructor without fields.
fn variant(parts: &'static [i64], tag: i64) -> &'static [i64] {
    match parts.get(tag as usize) {
        Some(&rec) if rec != 0 => match shape(rec) {
            Shape::Record(fields) => fields,
            _ => &[],
        },
        _ => &[],
    }
}

/// The descriptor to use for a map's keys: the caller's, or the one
/// recorded in the map when the caller's is not known.
pub fn key_td(td_k: i64, recorded: i64) -> i64 {
    if td_k != 0 {
        td_k
    } else {
        recorded
    }
}

/// The hashing class of a key descriptor: two descriptors of the same class
/// hash every value alike, so a map's recorded hashes stay valid.
pub fn key_class(td: i64) -> i64 {
    match shape(td) {
        Shape::Word => 0,
        Shape::Bytes => 1,
        Shape::Float => 2,
        // A compound type hashes with its own descriptor (one per type in a
        // program; a more or less precise one is another class).
        _ => td,
    }
}

// ---------------------------------------------------------------------------
// Equality
// ---------------------------------------------------------------------------

/// Snow `==` for two values of descriptor `td`.
///
/// # Safety
/// Both words must be values of the type `td` describes (any word for
/// descriptors 0 and 8).
pub unsafe fn eq(td: i64, a: i64, b: i64) -> bool {
    match shape(td) {
        Shape::Word => a == b,
        Shape::Float => f64::from_bits(a as u64) == f64::from_bits(b as u64),
        // SAFETY: String/Bytes objects (the caller's promise).
        Shape::Bytes => a == b || unsafe { bytes_ref(a) == bytes_ref(b) },
        // SAFETY: as promised.
        _ => unsafe { eq_compound(td, a, b) },
    }
}

/// [`eq`] of two maps of keys `td_k` and values `td_v` (`==` on maps in
/// generated code, which has no map descriptor at hand).
///
/// # Safety
/// Two map objects of those types.
pub unsafe fn maps_eq(td_k: i64, td_v: i64, a: i64, b: i64) -> bool {
    let mut todo = Vec::new();
    // SAFETY: as promised.
    unsafe { map_eq(td_k, td_v, a, b, &mut todo) && eq_all(todo) }
}

/// [`eq`] of compound values: pairs still to compare on a stack.
///
/// # Safety
/// As [`eq`].
unsafe fn eq_compound(td: i64, a: i64, b: i64) -> bool {
    // SAFETY: as promised.
    unsafe { eq_all(vec![(td, a, b)]) }
}

/// Whether every pair of `todo` (and of what comparing them queues) is equal.
///
/// # Safety
/// As [`eq`], for each pair.
unsafe fn eq_all(mut todo: Vec<(i64, i64, i64)>) -> bool {
    while let Some((td, a, b)) = todo.pop() {
        // SAFETY: each pair is two values of `td` (the caller's promise,
        // then the descriptors' parts for the parts of values).
        let same = unsafe {
            match shape(td) {
                Shape::Word | Shape::Float | Shape::Bytes => eq(td, a, b),
                Shape::Record(fields) => {
                    fields_eq(fields, a as *const i64, b as *const i64, &mut todo)
                }
                Shape::Sum(parts) => {
                    let (ta, tb) = (*(a as *const i64), *(b as *const i64));
                    ta == tb
                        && fields_eq(
                            variant(parts, ta),
                            (a as *const i64).add(1),
                            (b as *const i64).add(1),
                            &mut todo,
                        )
                }
                Shape::List(elem) => {
                    let (mut x, mut y) = (a, b);
                    loop {
                        if x == 0 || y == 0 {
                            break x == y;
                        }
                        let ((hx, tx), (hy, ty)) = (uncons(x), uncons(y));
                        if is_flat(elem) {
                            if !eq(elem, hx, hy) {
                                break false;
                            }
                        } else {
                            todo.push((elem, hx, hy));
                        }
                        (x, y) = (tx, ty);
                    }
                }
                Shape::Map(k, v) => map_eq(k, v, a, b, &mut todo),
            }
        };
        if !same {
            return false;
        }
    }
    true
}

/// Compares the flat fields of two records at once and queues the others.
///
/// # Safety
/// `a` and `b` point to `fields.len()` words of values of those descriptors.
unsafe fn fields_eq(
    fields: &[i64],
    a: *const i64,
    b: *const i64,
    todo: &mut Vec<(i64, i64, i64)>,
) -> bool {
    for (i, &f) in fields.iter().enumerate() {
        // SAFETY: as promised.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if is_flat(f) {
            // SAFETY: flat values are their words.
            if !unsafe { eq(f, x, y) } {
                return false;
            }
        } else {
            todo.push((f, x, y));
        }
    }
    true
}

/// The entries of the trie under child word `w` whose full hash is `hash`.
///
/// # Safety
/// `w` must be a child word of a map.
unsafe fn entries_with_hash(mut w: i64, hash: u64, out: &mut Vec<[i64; 4]>) {
    let mut shift = 0u32;
    // SAFETY: a child word of a map (the caller's promise) and its children.
    unsafe {
        loop {
            if w == 0 {
                return;
            }
            if !map_is_node(w) {
                let e = map_entry(w);
                if e[0] as u64 == hash {
                    out.push(e);
                }
                return;
            }
            let (head, children) = map_node(w);
            if head < 0 {
                out.extend(
                    children
                        .iter()
                        .map(|&c| map_entry(c))
                        .filter(|e| e[0] as u64 == hash),
                );
                return;
            }
            let bit = 1u64 << ((hash >> shift) & 31);
            if head as u64 & bit == 0 {
                return;
            }
            w = children[(head as u64 & (bit - 1)).count_ones() as usize];
            shift += 5;
        }
    }
}

/// Two maps are equal when they have the same keys with equal values,
/// whatever the order the keys were added in. Queues the comparisons of
/// matched keys and values; answers false at once when sizes differ or a
/// key has no candidate.
///
/// # Safety
/// Two map objects of keys `td_k` and values `td_v`.
unsafe fn map_eq(td_k: i64, td_v: i64, a: i64, b: i64, todo: &mut Vec<(i64, i64, i64)>) -> bool {
    // SAFETY: map objects (the caller's promise).
    unsafe {
        let (ha, hb) = (map_header(a), map_header(b));
        if ha.size != hb.size {
            return false;
        }
        let td = key_td(key_td(td_k, ha.td), hb.td);
        let class = key_class(td);
        let mut mine = Vec::with_capacity(ha.size.max(0) as usize);
        map_entry_words(ha.root, &mut mine);
        // The recorded hashes serve when both maps were hashed for `td`'s
        // class; otherwise hash the other map's keys again.
        let rehash = key_class(ha.td) != class || key_class(hb.td) != class;
        let others: Option<rustc_hash::FxHashMap<u64, Vec<[i64; 4]>>> = rehash.then(|| {
            let mut ws = Vec::new();
            map_entry_words(hb.root, &mut ws);
            let mut by_hash: rustc_hash::FxHashMap<u64, Vec<[i64; 4]>> = Default::default();
            for w in ws {
                let e = map_entry(w);
                by_hash.entry(hash(td, e[2])).or_default().push(e);
            }
            by_hash
        });
        let mut cands = Vec::new();
        for w in mine {
            let e = map_entry(w);
            cands.clear();
            match &others {
                Some(by_hash) => {
                    if let Some(es) = by_hash.get(&hash(td, e[2])) {
                        cands.extend_from_slice(es);
                    }
                }
                None => entries_with_hash(hb.root, e[0] as u64, &mut cands),
            }
            let other = match cands.len() {
                0 => return false,
                1 => {
                    todo.push((td, e[2], cands[0][2]));
                    cands[0]
                }
                // Full-hash collisions: find the equal key now.
                _ => match cands.iter().find(|c| eq(td, e[2], c[2])) {
                    Some(c) => *c,
                    None => return false,
                },
            };
            todo.push((td_v, e[3], other[3]));
        }
        true
    }
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

const K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(K)
}

fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    h.write_usize(b.len());
    h.finish()
}

fn float_key(bits: i64) -> u64 {
    let x = f64::from_bits(bits as u64);
    // 0.0 and -0.0 are equal, so they must hash alike.
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

/// A hash of a value consistent with [`eq`] for the same descriptor (and
/// for every descriptor of the same [`key_class`]).
///
/// # Safety
/// As [`eq`].
pub unsafe fn hash(td: i64, a: i64) -> u64 {
    match shape(td) {
        Shape::Word => {
            let mut h = rustc_hash::FxHasher::default();
            h.write_i64(a);
            h.finish()
        }
        Shape::Float => {
            let mut h = rustc_hash::FxHasher::default();
            h.write_u64(float_key(a));
            h.finish()
        }
        // SAFETY: a String/Bytes object (the caller's promise).
        Shape::Bytes => hash_bytes(unsafe { bytes_ref(a) }),
        // SAFETY: as promised.
        _ => unsafe { hash_compound(td, a) },
    }
}

enum HashStep {
    Value(i64, i64),
    /// A map's entries are summed (their order does not matter): a new
    /// accumulator for the sum, one per entry, then the sum folded into
    /// the enclosing accumulator.
    MapStart,
    EntryStart,
    EntryEnd,
    MapEnd,
}

/// [`hash`] of compound values: a stack of steps and one of accumulators.
///
/// # Safety
/// As [`eq`].
unsafe fn hash_compound(td: i64, a: i64) -> u64 {
    const SEED: u64 = 0x243f_6a88_85a3_08d3;
    let mut acc: Vec<u64> = vec![SEED];
    let mut steps = vec![HashStep::Value(td, a)];
    while let Some(step) = steps.pop() {
        let top = acc.last_mut().expect("an accumulator");
        match step {
            HashStep::MapStart => acc.push(0),
            HashStep::EntryStart => acc.push(SEED),
            HashStep::EntryEnd => {
                let e = acc.pop().expect("entry");
                let sum = acc.last_mut().expect("map");
                *sum = sum.wrapping_add(mix(e, 1));
            }
            HashStep::MapEnd => {
                let s = acc.pop().expect("map");
                let top = acc.last_mut().expect("enclosing");
                *top = mix(*top, s);
            }
            // SAFETY: a value of `td` (the caller's promise, then parts).
            HashStep::Value(td, w) => unsafe {
                match shape(td) {
                    Shape::Word => *top = mix(*top, w as u64),
                    Shape::Float => *top = mix(*top, float_key(w)),
                    Shape::Bytes => *top = mix(*top, hash_bytes(bytes_ref(w))),
                    Shape::Record(fields) => {
                        for (i, &f) in fields.iter().enumerate().rev() {
                            steps.push(HashStep::Value(f, *(w as *const i64).add(i)));
                        }
                    }
                    Shape::Sum(parts) => {
                        let p = w as *const i64;
                        *top = mix(*top, *p as u64);
                        for (i, &f) in variant(parts, *p).iter().enumerate().rev() {
                            steps.push(HashStep::Value(f, *p.add(1 + i)));
                        }
                    }
                    Shape::List(elem) => {
                        let start = steps.len();
                        let mut x = w;
                        let mut n = 0u64;
                        while x != 0 {
                            let (h, t) = uncons(x);
                            steps.push(HashStep::Value(elem, h));
                            x = t;
                            n += 1;
                        }
                        steps[start..].reverse();
                        *top = mix(*top, n);
                    }
                    Shape::Map(k, v) => {
                        let h = map_header(w);
                        let kt = key_td(k, h.td);
                        let mut es = Vec::new();
                        map_entry_words(h.root, &mut es);
                        *top = mix(*top, h.size as u64);
                        steps.push(HashStep::MapEnd);
                        for e in es {
                            let e = map_entry(e);
                            steps.push(HashStep::EntryEnd);
                            steps.push(HashStep::Value(v, e[3]));
                            steps.push(HashStep::Value(kt, e[2]));
                            steps.push(HashStep::EntryStart);
                        }
                        steps.push(HashStep::MapStart);
                    }
                }
            },
        }
    }
    acc[0]
}

// ---------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------

/// Floats in ascending order with every NaN last (NaNs equal to each other).
fn float_cmp(a: i64, b: i64) -> Ordering {
    let (x, y) = (f64::from_bits(a as u64), f64::from_bits(b as u64));
    match (x.is_nan(), y.is_nan()) {
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (a_nan, b_nan) => a_nan.cmp(&b_nan),
    }
}

/// The order `List.sort` uses: Int and Bool (false < true) by value, Float
/// ascending with NaN last, String and Bytes by their bytes, records
/// element by element; any other values are equal (a stable sort keeps
/// their order).
///
/// # Safety
/// As [`eq`].
pub unsafe fn cmp(td: i64, a: i64, b: i64) -> Ordering {
    match td {
        TD_INT | TD_BOOL => return a.cmp(&b),
        TD_FLOAT => return float_cmp(a, b),
        // SAFETY: String/Bytes objects (the caller's promise).
        TD_STRING | TD_BYTES => return unsafe { bytes_ref(a).cmp(bytes_ref(b)) },
        _ => {}
    }
    let Shape::Record(_) = shape(td) else {
        return Ordering::Equal;
    };
    let mut todo = vec![(td, a, b)];
    while let Some((td, a, b)) = todo.pop() {
        let o = match shape(td) {
            Shape::Record(fields) => {
                for (i, &f) in fields.iter().enumerate().rev() {
                    // SAFETY: records of these fields (as promised).
                    let (x, y) = unsafe { (*(a as *const i64).add(i), *(b as *const i64).add(i)) };
                    todo.push((f, x, y));
                }
                Ordering::Equal
            }
            // SAFETY: values of `td`.
            _ => unsafe { cmp(td, a, b) },
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------
// Copying into the current region
// ---------------------------------------------------------------------------

/// A value (or a map's child word) still to be copied or decoded, and the
/// word of the new object its copy goes into.
enum Part {
    Value(i64, i64),
    /// A child word of a map: key and value descriptors, the word.
    MapChild(i64, i64, i64),
}

/// A deep copy of `w` (a value of `td`) in the current region. Flat values
/// are returned as they are.
///
/// # Safety
/// `w` must be a value of the type `td` describes, alive for the call.
pub unsafe fn copy(td: i64, w: i64) -> i64 {
    match shape(td) {
        Shape::Word | Shape::Float => return w,
        Shape::Record(fields) if !fields.is_empty() && fields.iter().all(|&f| is_flat(f)) => {
            // SAFETY: a record of `fields.len()` words (as promised).
            return new_tuple(unsafe { std::slice::from_raw_parts(w as *const i64, fields.len()) });
        }
        _ => {}
    }
    let mut out = 0i64;
    let mut todo: Vec<(Part, *mut i64)> = vec![(Part::Value(td, w), &mut out)];
    while let Some((part, dst)) = todo.pop() {
        // SAFETY: `dst` is `out` or a word of an object this call made;
        // the part is a value of its descriptor (as promised).
        unsafe { *dst = copy_one(part, &mut todo) };
    }
    out
}

/// Copies one object; queues its pointer fields.
///
/// # Safety
/// As [`copy`].
unsafe fn copy_one(part: Part, todo: &mut Vec<(Part, *mut i64)>) -> i64 {
    // SAFETY: the part is a value of its descriptor (or a map child word);
    // the objects written are the ones made here.
    unsafe {
        match part {
            Part::MapChild(k, v, w) => {
                if w == 0 {
                    return 0;
                }
                if !map_is_node(w) {
                    let e = map_entry(w);
                    let n = new_tuple(&e) as *mut i64;
                    queue(todo, k, e[2], n.add(2));
                    queue(todo, v, e[3], n.add(3));
                    return n as i64;
                }
                let (head, children) = map_node(w);
                let n = new_words(&[&[head], children]) as *mut i64;
                for (i, &c) in children.iter().enumerate() {
                    todo.push((Part::MapChild(k, v, c), n.add(1 + i)));
                }
                n as i64 | 1
            }
            Part::Value(td, w) => match shape(td) {
                Shape::Word | Shape::Float => w,
                Shape::Bytes => new_bytes(bytes_ref(w)),
                Shape::Record(fields) => {
                    if fields.is_empty() {
                        return 0;
                    }
                    let src = std::slice::from_raw_parts(w as *const i64, fields.len());
                    let n = new_tuple(src) as *mut i64;
                    for (i, &f) in fields.iter().enumerate() {
                        queue(todo, f, src[i], n.add(i));
                    }
                    n as i64
                }
                Shape::Sum(parts) => {
                    let tag = *(w as *const i64);
                    let fields = variant(parts, tag);
                    let src = std::slice::from_raw_parts((w as *const i64).add(1), fields.len());
                    let n = new_ctor(tag, src) as *mut i64;
                    for (i, &f) in fields.iter().enumerate() {
                        queue(todo, f, src[i], n.add(1 + i));
                    }
                    n as i64
                }
                Shape::List(elem) => {
                    let heads = ListHeads(w);
                    let first = list_onto(heads, 0);
                    if !is_flat(elem) {
                        let mut c = first;
                        while c != 0 {
                            let cell = c as *mut i64;
                            todo.push((Part::Value(elem, *cell), cell));
                            c = *cell.add(1);
                        }
                    }
                    first
                }
                Shape::Map(k, v) => {
                    let h = map_header(w);
                    let n = new_tuple(&[h.td, h.size, h.next_seq, 0]) as *mut i64;
                    let kt = key_td(k, h.td);
                    todo.push((Part::MapChild(kt, v, h.root), n.add(3)));
                    n as i64
                }
            },
        }
    }
}

/// Queues the copy of field value `w` of descriptor `td` into `dst` (a flat
/// value is already in place: the new object was made from the old words).
fn queue(todo: &mut Vec<(Part, *mut i64)>, td: i64, w: i64, dst: *mut i64) {
    if !is_flat(td) {
        todo.push((Part::Value(td, w), dst));
    }
}

/// The heads of a list, as an iterator for `list_onto`.
struct ListHeads(i64);

impl Iterator for ListHeads {
    type Item = i64;
    fn next(&mut self) -> Option<i64> {
        if self.0 == 0 {
            return None;
        }
        // SAFETY: a list (the promise of whoever made this iterator).
        let (h, t) = unsafe { uncons(self.0) };
        self.0 = t;
        Some(h)
    }
}

// ---------------------------------------------------------------------------
// The owned form
// ---------------------------------------------------------------------------

/// A value in a form that belongs to no region: plain words in Rust memory,
/// safe to keep while any region is collected or freed and to send to
/// another thread (a queued message). [`from_owned`] rebuilds the value.
///
/// The words are the value in pre-order: a scalar is its word; a String
/// its length and its bytes packed in words; a record its fields; a sum
/// value its tag and its constructor's fields; a list its length and its
/// elements; a map its header (`td_k`, size, next sequence number) and its
/// trie (a child word as 0, or `1 hash seq key value`, or `2 header`
/// followed by its children). Decoding reads the same order with the same
/// descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    td: i64,
    words: Vec<i64>,
}

impl Owned {
    /// The descriptor of the value.
    pub fn td(&self) -> i64 {
        self.td
    }

    /// Bytes of memory the words take.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// The owned form of `w`, a value of `td`.
///
/// # Safety
/// As [`copy`].
pub unsafe fn to_owned(td: i64, w: i64) -> Owned {
    let mut words = Vec::new();
    if is_flat(td) {
        words.push(w);
        return Owned { td, words };
    }
    let mut todo = vec![Part::Value(td, w)];
    while let Some(part) = todo.pop() {
        // SAFETY: a value of its descriptor (as promised) or a map child.
        unsafe { encode_one(part, &mut words, &mut todo) };
    }
    Owned { td, words }
}

/// Writes one object's words; queues its parts (in reverse, so they are
/// encoded in order).
///
/// # Safety
/// As [`copy`].
unsafe fn encode_one(part: Part, out: &mut Vec<i64>, todo: &mut Vec<Part>) {
    let start = todo.len();
    // SAFETY: the part is a value of its descriptor or a map child word.
    unsafe {
        match part {
            Part::MapChild(k, v, w) => {
                if w == 0 {
                    out.push(0);
                } else if !map_is_node(w) {
                    let e = map_entry(w);
                    out.extend_from_slice(&[1, e[0], e[1]]);
                    todo.push(Part::Value(k, e[2]));
                    todo.push(Part::Value(v, e[3]));
                } else {
                    let (head, children) = map_node(w);
                    out.extend_from_slice(&[2, head]);
                    todo.extend(children.iter().map(|&c| Part::MapChild(k, v, c)));
                }
            }
            Part::Value(td, w) => match shape(td) {
                Shape::Word | Shape::Float => out.push(w),
                Shape::Bytes => {
                    let b = bytes_ref(w);
                    out.push(b.len() as i64);
                    for chunk in b.chunks(8) {
                        let mut word = [0u8; 8];
                        word[..chunk.len()].copy_from_slice(chunk);
                        out.push(i64::from_le_bytes(word));
                    }
                }
                Shape::Record(fields) => {
                    for (i, &f) in fields.iter().enumerate() {
                        todo.push(Part::Value(f, *(w as *const i64).add(i)));
                    }
                }
                Shape::Sum(parts) => {
                    let p = w as *const i64;
                    out.push(*p);
                    for (i, &f) in variant(parts, *p).iter().enumerate() {
                        todo.push(Part::Value(f, *p.add(1 + i)));
                    }
                }
                Shape::List(elem) => {
                    let len_at = out.len();
                    out.push(0);
                    let mut n = 0;
                    for h in ListHeads(w) {
                        todo.push(Part::Value(elem, h));
                        n += 1;
                    }
                    out[len_at] = n;
                }
                Shape::Map(k, v) => {
                    let h = map_header(w);
                    out.extend_from_slice(&[h.td, h.size, h.next_seq]);
                    todo.push(Part::MapChild(key_td(k, h.td), v, h.root));
                }
            },
        }
    }
    todo[start..].reverse();
}

/// The value `o` holds, built in the current region.
pub fn from_owned(o: &Owned) -> i64 {
    if is_flat(o.td) {
        return o.words[0];
    }
    let mut out = 0i64;
    let mut at = 0usize;
    let mut todo: Vec<(Part, *mut i64)> = vec![(Part::Value(o.td, 0), &mut out)];
    while let Some((part, dst)) = todo.pop() {
        let start = todo.len();
        let w = decode_one(part, &o.words, &mut at, &mut todo);
        todo[start..].reverse();
        // SAFETY: `dst` is `out` or a word of an object this call made.
        unsafe { *dst = w };
    }
    out
}

/// Reads one object from `words` at `*at` and builds it; queues its parts
/// (the caller reverses them, so they are decoded in order).
fn decode_one(part: Part, words: &[i64], at: &mut usize, todo: &mut Vec<(Part, *mut i64)>) -> i64 {
    let mut next = || {
        let w = words[*at];
        *at += 1;
        w
    };
    // SAFETY: every pointer written through is a word of an object made
    // here with room for it.
    unsafe {
        match part {
            Part::MapChild(k, v, _) => match next() {
                0 => 0,
                1 => {
                    let (hash, seq) = (next(), next());
                    let n = new_tuple(&[hash, seq, 0, 0]) as *mut i64;
                    todo.push((Part::Value(k, 0), n.add(2)));
                    todo.push((Part::Value(v, 0), n.add(3)));
                    n as i64
                }
                _ => {
                    let head = next();
                    let count = if head >= 0 {
                        (head as u64).count_ones() as usize
                    } else {
                        head.unsigned_abs() as usize
                    };
                    let n = new_words(&[&[head], &vec![0; count]]) as *mut i64;
                    for i in 0..count {
                        todo.push((Part::MapChild(k, v, 0), n.add(1 + i)));
                    }
                    n as i64 | 1
                }
            },
            Part::Value(td, _) => match shape(td) {
                Shape::Word | Shape::Float => next(),
                Shape::Bytes => {
                    let len = next() as usize;
                    let nw = len.div_ceil(8);
                    let mut buf = Vec::with_capacity(nw * 8);
                    for w in &words[*at..*at + nw] {
                        buf.extend_from_slice(&w.to_le_bytes());
                    }
                    *at += nw;
                    new_bytes(&buf[..len])
                }
                Shape::Record(fields) => {
                    if fields.is_empty() {
                        return 0;
                    }
                    let n = new_tuple(&vec![0; fields.len()]) as *mut i64;
                    for (i, &f) in fields.iter().enumerate() {
                        todo.push((Part::Value(f, 0), n.add(i)));
                    }
                    n as i64
                }
                Shape::Sum(parts) => {
                    let tag = next();
                    let fields = variant(parts, tag);
                    let n = new_ctor(tag, &vec![0; fields.len()]) as *mut i64;
                    for (i, &f) in fields.iter().enumerate() {
                        todo.push((Part::Value(f, 0), n.add(1 + i)));
                    }
                    n as i64
                }
                Shape::List(elem) => {
                    let len = next() as usize;
                    let first = list_onto(std::iter::repeat_n(0, len), 0);
                    let mut c = first;
                    while c != 0 {
                        let cell = c as *mut i64;
                        todo.push((Part::Value(elem, 0), cell));
                        c = *cell.add(1);
                    }
                    first
                }
                Shape::Map(k, v) => {
                    let (td_k, size, next_seq) = (next(), next(), next());
                    let n = new_tuple(&[td_k, size, next_seq, 0]) as *mut i64;
                    todo.push((Part::MapChild(key_td(k, td_k), v, 0), n.add(3)));
                    n as i64
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::builders::{cons, list_from_slice, new_str};
    use crate::rt::value::{list_to_vec, str_ref, word, TD_UNIT};

    use crate::rt::testing::desc;

    fn s(t: &str) -> i64 {
        new_str(t)
    }

    #[test]
    fn records_compare_hash_and_order_by_their_fields() {
        let pair = desc(TD_RECORD, &[TD_INT, TD_STRING]);
        let a = new_tuple(&[1, s("x")]);
        let b = new_tuple(&[1, s("x")]);
        let c = new_tuple(&[1, s("y")]);
        // SAFETY: values of their descriptors.
        unsafe {
            assert!(eq(pair, a, b));
            assert!(!eq(pair, a, c));
            assert_eq!(hash(pair, a), hash(pair, b));
            assert_eq!(cmp(pair, a, c), Ordering::Less);
            assert_eq!(cmp(pair, c, a), Ordering::Greater);
            assert_eq!(cmp(pair, a, b), Ordering::Equal);
        }
    }

    #[test]
    fn floats_compare_by_ieee_and_hash_zeroes_alike() {
        let t = desc(TD_RECORD, &[TD_FLOAT, TD_FLOAT]);
        let nan = f64::NAN.to_bits() as i64;
        let z = 0.0f64.to_bits() as i64;
        let nz = (-0.0f64).to_bits() as i64;
        let a = new_tuple(&[z, 1]);
        let b = new_tuple(&[nz, 1]);
        let n = new_tuple(&[nan, 1]);
        // SAFETY: values of their descriptors.
        unsafe {
            assert!(eq(t, a, b));
            assert_eq!(hash(t, a), hash(t, b));
            assert!(
                !eq(t, n, n),
                "NaN is not equal to itself, even in one tuple"
            );
            assert_eq!(cmp(TD_FLOAT, nan, z), Ordering::Greater, "NaN last");
            assert_eq!(cmp(TD_FLOAT, nan, nan), Ordering::Equal);
            assert_eq!(cmp(TD_FLOAT, nz, z), Ordering::Equal);
        }
    }

    fn int_map(pairs: &[(i64, i64)]) -> i64 {
        // A map built as stdlib/map.rs would for distinct small keys: a
        // bitmap node of entries (enough for the readers).
        let td = TD_INT;
        let mut es: Vec<(u64, i64)> = pairs
            .iter()
            .enumerate()
            // SAFETY: Int keys.
            .map(|(i, &(k, v))| (unsafe { hash(td, k) }, new_tuple(&[0, i as i64, k, v])))
            .collect();
        for (h, e) in &es {
            // SAFETY: the entry just made.
            unsafe { *(*e as *mut i64) = *h as i64 };
        }
        es.sort_by_key(|(h, _)| h & 31);
        let mut bitmap = 0u64;
        for (h, _) in &es {
            assert_eq!(
                bitmap & (1 << (h & 31)),
                0,
                "test keys must differ in digit 0"
            );
            bitmap |= 1 << (h & 31);
        }
        let children: Vec<i64> = es.iter().map(|(_, e)| *e).collect();
        let root = new_words(&[&[bitmap as i64], &children]) | 1;
        new_tuple(&[td, pairs.len() as i64, pairs.len() as i64, root])
    }

    fn distinct_digit_keys(n: usize) -> Vec<i64> {
        let mut seen = 0u64;
        let mut out = Vec::new();
        let mut k = 0;
        while out.len() < n {
            // SAFETY: Int keys.
            let d = unsafe { hash(TD_INT, k) } & 31;
            if seen & (1 << d) == 0 {
                seen |= 1 << d;
                out.push(k);
            }
            k += 1;
        }
        out
    }

    #[test]
    fn maps_are_equal_whatever_their_insertion_order() {
        let ks = distinct_digit_keys(3);
        let m = desc(TD_MAP, &[TD_INT, TD_STRING]);
        let a = int_map(&[(ks[0], s("a")), (ks[1], s("b")), (ks[2], s("c"))]);
        let b = int_map(&[(ks[2], s("c")), (ks[0], s("a")), (ks[1], s("b"))]);
        let c = int_map(&[(ks[2], s("c")), (ks[0], s("a")), (ks[1], s("B"))]);
        let d = int_map(&[(ks[0], s("a")), (ks[1], s("b"))]);
        // SAFETY: maps of Int to String.
        unsafe {
            assert!(eq(m, a, b));
            assert_eq!(hash(m, a), hash(m, b));
            assert!(!eq(m, a, c));
            assert!(!eq(m, a, d));
            // Recorded with descriptor 0 (generic code): hashed again.
            *(b as *mut i64) = 0;
            assert!(eq(m, a, b));
            assert_eq!(hash(m, a), hash(m, b));
        }
    }

    /// `type Tree do Leaf Node(Tree, Int, Tree) end`: a recursive descriptor.
    fn tree_desc() -> i64 {
        let sum = desc(TD_SUM, &[0, 0]);
        let node = desc(TD_RECORD, &[sum, TD_INT, sum]);
        // SAFETY: patching the leaked descriptor's second part.
        unsafe { *(sum as *mut i64).add(3) = node };
        sum
    }

    fn leaf() -> i64 {
        new_ctor(0, &[])
    }

    #[test]
    fn deep_values_take_no_native_stack() {
        // A tree a million levels deep (to the left) and a list of a
        // million strings: compared, hashed, ordered, copied and encoded
        // on a small thread stack.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let tree = tree_desc();
                let mut t = leaf();
                for i in 0..1_000_000 {
                    t = new_ctor(1, &[t, i, leaf()]);
                }
                let strings = desc(TD_LIST, &[TD_STRING]);
                let words: Vec<i64> = (0..1_000_000).map(|i| s(&i.to_string())).collect();
                let xs = list_from_slice(&words);
                // SAFETY: values of their descriptors.
                unsafe {
                    let t2 = copy(tree, t);
                    assert_ne!(t2, t);
                    assert!(eq(tree, t, t2));
                    assert_eq!(hash(tree, t), hash(tree, t2));
                    let t3 = from_owned(&to_owned(tree, t));
                    assert!(eq(tree, t, t3));
                    let ys = copy(strings, xs);
                    assert!(eq(strings, xs, ys));
                    assert_eq!(hash(strings, xs), hash(strings, ys));
                    let zs = from_owned(&to_owned(strings, xs));
                    assert!(eq(strings, xs, zs));
                    assert_eq!(str_ref(list_to_vec(zs)[999_999]), "999999");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn copies_are_deep_and_equal() {
        // Result<List<(String, Float)>, ()>, a map of lists, a struct
        // without fields.
        let pair = desc(TD_RECORD, &[TD_STRING, TD_FLOAT]);
        let list = desc(TD_LIST, &[pair]);
        let ok = desc(TD_RECORD, &[list]);
        let err = desc(TD_RECORD, &[TD_UNIT]);
        let result = desc(TD_SUM, &[ok, err]);
        let xs = list_from_slice(&[
            new_tuple(&[s("a"), 1.5f64.to_bits() as i64]),
            new_tuple(&[s("b"), (-2.0f64).to_bits() as i64]),
        ]);
        let v = new_ctor(0, &[xs]);
        // SAFETY: values of their descriptors.
        unsafe {
            let c = copy(result, v);
            assert!(eq(result, v, c));
            let cxs = word(c, 1);
            assert_ne!(cxs, xs, "the list is copied");
            let (c0, x0) = (list_to_vec(cxs)[0], list_to_vec(xs)[0]);
            assert_ne!(word(c0, 0), word(x0, 0), "so are the strings");
            assert_eq!(str_ref(word(c0, 0)), "a");
            let o = to_owned(result, v);
            assert!(eq(result, v, from_owned(&o)));
            let e = new_ctor(1, &[0]);
            assert!(eq(result, e, copy(result, e)));
            assert!(!eq(result, e, v));
            let empty = desc(TD_RECORD, &[]);
            assert_eq!(copy(empty, 0), 0);
            assert_eq!(from_owned(&to_owned(empty, 0)), 0);
            // A map of Int to lists of strings.
            let ks = distinct_digit_keys(2);
            let strs = desc(TD_LIST, &[TD_STRING]);
            let md = desc(TD_MAP, &[TD_INT, strs]);
            let m = int_map(&[
                (ks[0], list_from_slice(&[s("x"), s("y")])),
                (ks[1], cons(s("z"), 0)),
            ]);
            let m2 = copy(md, m);
            assert!(eq(md, m, m2));
            assert!(eq(md, m, from_owned(&to_owned(md, m))));
            assert_eq!(hash(md, m), hash(md, m2));
        }
    }

    #[test]
    fn flat_values_are_their_words() {
        // SAFETY: scalar descriptors.
        unsafe {
            assert_eq!(copy(TD_INT, 42), 42);
            assert_eq!(from_owned(&to_owned(TD_FLOAT, 7)), 7);
            assert_eq!(to_owned(TD_INT, 3).bytes(), 8);
            assert!(eq(0, 5, 5) && !eq(0, 5, 6), "unknown: by identity");
            assert_eq!(cmp(0, 1, 2), Ordering::Equal, "unknown: no order");
        }
    }
}
