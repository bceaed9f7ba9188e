//! The Snow runtime (see docs/ABI.md for the contract with generated code,
//! docs/ARCHITECTURE.md "snow-rt" for the map).
//!
//! Every `#[no_mangle] extern "C-unwind" fn snow_*` here is called by
//! generated code with `i64` words (docs/ABI.md "Values", "Calls").
//!
//! # Layers
//! Three layers, each a folder; a file imports only from its own layer and
//! the layers below it (`tests/architecture.rs` checks it, and that no
//! files import each other in a circle):
//!
//! 1. [`rt`], the core: reading and building values, regions and the
//!    collector, threads and their stack limits, settings, stdout,
//!    panics, callbacks, the watchdog, safepoints, closures, the entry
//!    point. Its public API is what `rt/mod.rs` re-exports; its files are
//!    private to it.
//! 2. [`stdlib`], the std modules' runtime: one file per Snow std module,
//!    written against `rt`'s API only.
//! 3. [`ws`], the WebSocket server (`Ws`): built on `rt` and `stdlib`;
//!    `ws/mod.rs` wires its parts together.
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
//!   at exit and before a panic exit (`rt/stdout.rs`).

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod rt;
pub mod stdlib;
pub mod ws;

/// The value layouts, tags and type descriptors shared with the compiler
/// (`snow_rt::value::TD_*`, checked by `snowc/cli/tests/shared_names.rs`).
pub use rt::value;
