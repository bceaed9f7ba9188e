//! The Snow runtime (see docs/ABI.md for the contract with generated code).
//!
//! Every `#[no_mangle] extern "C-unwind" fn snow_*` here is called by
//! generated code with `i64` words (docs/ABI.md "Values", "Calls"). The
//! internal Rust API used by the WebSocket server (`ws`) is:
//! [`region`] (`run_callback`, `pin_current`), [`value`] (strings, bytes,
//! constructors, Option), [`list`], [`map`], [`closure`] and [`panic`].
//!
//! Decisions where the spec is silent (documented at each function):
//! - `Float.to_string`: shortest round-trip digits, always a decimal point
//!   (`3.0`, `1.0e21`, `1.5e-7`); `NaN`, `Infinity`, `-Infinity`.
//! - `String.split(s, "")` splits into scalar values (`split("", "")` = `[]`);
//!   `split("", ",")` = `[""]`. `String.slice` clamps a negative start or
//!   length to 0. `String.replace(s, "", t)` inserts `t` around every scalar.
//! - `String.trim` removes Unicode whitespace; `to_upper`/`to_lower` use the
//!   full Unicode mappings (`"ß"` → `"SS"`).
//! - `Int.parse` accepts `[+-]?[0-9]+` only (no spaces, `_` or hex).
//! - `Map.keys` is in insertion order; re-`put` keeps a key's position.
//! - Stdout is buffered when it is not a terminal and flushed every 50 ms,
//!   at exit and before a panic exit (`io`).

pub mod bytes;
pub mod closure;
pub mod entry;
pub mod env;
pub mod gc;
pub mod io;
pub mod json;
pub mod limits;
pub mod list;
pub mod map;
pub mod number;
pub mod panic;
pub mod region;
pub mod stack;
pub mod string;
pub mod timer;
pub mod value;
pub mod watchdog;
pub mod ws;

#[cfg(test)]
mod tests;
