//! Unit tests of the runtime core (std functions, regions, panics).

mod collect;
mod entry;
mod json;
mod lists;
mod maps;
mod numbers;
mod regions;
mod strings;
mod timers;

use crate::value;

/// A String object.
pub fn s(text: &str) -> i64 {
    value::new_str(text)
}

/// The text of a String object.
pub fn rs(w: i64) -> String {
    unsafe { value::str_ref(w) }.to_string()
}

/// The texts of a List<String>.
pub fn rl(xs: i64) -> Vec<String> {
    unsafe { crate::list::to_vec(xs) }
        .into_iter()
        .map(rs)
        .collect()
}

/// The elements of a list.
pub fn ints(xs: i64) -> Vec<i64> {
    unsafe { crate::list::to_vec(xs) }
}

/// Decodes an Option.
pub fn opt(w: i64) -> Option<i64> {
    unsafe { value::option_get(w) }
}
