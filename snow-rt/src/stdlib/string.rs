//! `String` (std/string.snow) and the string runtime services of docs/ABI.md.
//!
//! Lengths and slices count Unicode scalar values; comparisons are by bytes.
//! Functions return their argument unchanged (no copy) when the result is
//! equal to it: strings are immutable.

use crate::rt::{
    bytes_ref, list_from_slice, list_to_vec, new_str, new_str_concat, option, runtime_panic,
    str_ref,
};

fn b(x: bool) -> i64 {
    x as i64
}

/// `<>` and interpolation.
#[no_mangle]
pub extern "C-unwind" fn snow_string_concat(a: i64, bb: i64) -> i64 {
    // SAFETY: String objects (ABI).
    let (x, y) = unsafe { (str_ref(a), str_ref(bb)) };
    if y.is_empty() {
        return a;
    }
    if x.is_empty() {
        return bb;
    }
    new_str_concat(&[x, y])
}

/// `==` on strings: 1 or 0.
#[no_mangle]
pub extern "C-unwind" fn snow_string_eq(a: i64, bb: i64) -> i64 {
    // SAFETY: String objects (ABI).
    b(a == bb || unsafe { bytes_ref(a) == bytes_ref(bb) })
}

/// Byte-order comparison: -1, 0 or 1.
#[no_mangle]
pub extern "C-unwind" fn snow_string_cmp(a: i64, bb: i64) -> i64 {
    // SAFETY: String objects (ABI).
    let (x, y) = unsafe { (bytes_ref(a), bytes_ref(bb)) };
    x.cmp(y) as i64
}

/// `String.length`: number of Unicode scalar values.
#[no_mangle]
pub extern "C-unwind" fn snow_string_length(s: i64) -> i64 {
    // SAFETY: a String object.
    unsafe { str_ref(s) }.chars().count() as i64
}

/// `String.byte_size`.
#[no_mangle]
pub extern "C-unwind" fn snow_string_byte_size(s: i64) -> i64 {
    // SAFETY: a String object.
    unsafe { bytes_ref(s) }.len() as i64
}

/// `String.contains` (the empty string is contained in every string).
#[no_mangle]
pub extern "C-unwind" fn snow_string_contains(s: i64, part: i64) -> i64 {
    // SAFETY: String objects.
    let (s, p) = unsafe { (str_ref(s), str_ref(part)) };
    b(s.contains(p))
}

/// `String.starts_with`.
#[no_mangle]
pub extern "C-unwind" fn snow_string_starts_with(s: i64, prefix: i64) -> i64 {
    // SAFETY: String objects.
    let (s, p) = unsafe { (bytes_ref(s), bytes_ref(prefix)) };
    b(s.starts_with(p))
}

/// `String.ends_with`.
#[no_mangle]
pub extern "C-unwind" fn snow_string_ends_with(s: i64, suffix: i64) -> i64 {
    // SAFETY: String objects.
    let (s, p) = unsafe { (bytes_ref(s), bytes_ref(suffix)) };
    b(s.ends_with(p))
}

/// `String.split(s, sep)`: the pieces between occurrences of `sep`
/// (`split("a,,b", ",")` = `["a", "", "b"]`, `split("", ",")` = `[""]`).
/// An empty `sep` splits into scalar values (`split("", "")` = `[]`).
#[no_mangle]
pub extern "C-unwind" fn snow_string_split(s: i64, sep: i64) -> i64 {
    // SAFETY: String objects.
    let (text, sep) = unsafe { (str_ref(s), str_ref(sep)) };
    let parts: Vec<i64> = if sep.is_empty() {
        let mut buf = [0u8; 4];
        text.chars()
            .map(|c| new_str(c.encode_utf8(&mut buf)))
            .collect()
    } else if !text.contains(sep) {
        vec![s]
    } else {
        text.split(sep).map(new_str).collect()
    };
    list_from_slice(&parts)
}

/// `String.join(parts, sep)`.
#[no_mangle]
pub extern "C-unwind" fn snow_string_join(parts: i64, sep: i64) -> i64 {
    // SAFETY: a List<String> and a String.
    unsafe {
        let items = list_to_vec(parts);
        if items.len() == 1 {
            return items[0];
        }
        let sep = str_ref(sep);
        let mut pieces: Vec<&str> = Vec::with_capacity(items.len() * 2);
        for (i, w) in items.iter().enumerate() {
            if i > 0 {
                pieces.push(sep);
            }
            pieces.push(str_ref(*w));
        }
        new_str_concat(&pieces)
    }
}

/// `String.trim`: removes leading and trailing Unicode whitespace.
#[no_mangle]
pub extern "C-unwind" fn snow_string_trim(s: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    let t = text.trim();
    if t.len() == text.len() {
        s
    } else {
        new_str(t)
    }
}

/// `String.to_upper` (full Unicode mapping: "ß" becomes "SS").
#[no_mangle]
pub extern "C-unwind" fn snow_string_to_upper(s: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    if text.is_ascii() && !text.bytes().any(|c| c.is_ascii_lowercase()) {
        return s;
    }
    new_str(&text.to_uppercase())
}

/// `String.to_lower` (full Unicode mapping).
#[no_mangle]
pub extern "C-unwind" fn snow_string_to_lower(s: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    if text.is_ascii() && !text.bytes().any(|c| c.is_ascii_uppercase()) {
        return s;
    }
    new_str(&text.to_lowercase())
}

/// `String.replace(s, from, to)`: every non-overlapping occurrence, left to
/// right. An empty `from` inserts `to` before every scalar value and at the
/// end (`replace("ab", "", "-")` = `"-a-b-"`).
#[no_mangle]
pub extern "C-unwind" fn snow_string_replace(s: i64, from: i64, to: i64) -> i64 {
    // SAFETY: String objects.
    let (text, from, to) = unsafe { (str_ref(s), str_ref(from), str_ref(to)) };
    if !from.is_empty() && !text.contains(from) {
        return s;
    }
    new_str(&text.replace(from, to))
}

/// `String.slice(s, start, len)`: `len` scalar values from scalar index
/// `start`. A negative `start` counts as 0, a negative `len` as 0, and the
/// range is cut at the end of the string.
#[no_mangle]
pub extern "C-unwind" fn snow_string_slice(s: i64, start: i64, len: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    let start = start.max(0) as usize;
    let len = len.max(0) as usize;
    let byte_at = |n: usize| -> usize {
        text.char_indices()
            .nth(n)
            .map(|(i, _)| i)
            .unwrap_or(text.len())
    };
    let from = byte_at(start);
    let rest = &text[from..];
    let to = rest
        .char_indices()
        .nth(len)
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    let out = &rest[..to];
    if out.len() == text.len() {
        s
    } else {
        new_str(out)
    }
}

/// `String.index_of(s, part)`: `Some` of the position (in scalar values) of
/// the first occurrence of `part`, `None` when there is none (an empty
/// `part` is at 0).
#[no_mangle]
pub extern "C-unwind" fn snow_string_index_of(s: i64, part: i64) -> i64 {
    // SAFETY: String objects.
    let (text, part) = unsafe { (str_ref(s), str_ref(part)) };
    option(text.find(part).map(|at| text[..at].chars().count() as i64))
}

/// `String.repeat(s, n)`: `s` repeated `n` times (empty when `n <= 0`); a
/// result that would not fit in memory's address space panics.
#[no_mangle]
pub extern "C-unwind" fn snow_string_repeat(s: i64, n: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    if n <= 0 || text.is_empty() {
        return new_str("");
    }
    if n == 1 {
        return s;
    }
    match text.len().checked_mul(n as usize) {
        Some(total) if total <= isize::MAX as usize / 2 => {
            let parts = vec![text; n as usize];
            new_str_concat(&parts)
        }
        _ => runtime_panic("String.repeat: the result is too large"),
    }
}
