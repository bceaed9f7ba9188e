//! The core of the runtime: values, memory, threads, panics and callbacks.
//! The standard library (`stdlib/`) and the server (`ws/`) are written
//! against the items re-exported here and nothing else (as Lua's libraries
//! are written against `lua.h`); the files below are private to the core.
//!
//! # The core's files, bottom up
//! Each file imports only files above it in this list
//! (`snow-rt/tests/architecture.rs` checks it):
//!
//! | file | concern |
//! | --- | --- |
//! | `value.rs` | reading values: layouts, tags, type descriptors, equality; never allocates |
//! | `settings.rs` | every `SNOW_*` environment variable, parsed once |
//! | `stdout.rs` | the buffered stdout and its flushes |
//! | `gc.rs` | the heap of one region: chunks, bump allocation, mark-sweep |
//! | `metrics.rs` | the core's numbers for the metrics endpoint (heap, collections, callbacks, services) |
//! | `stack.rs` (+ `stack.c`) | registered threads, their stack limits and signals |
//! | `panic.rs` | Snow panics, [`Abort`], [`catch`] |
//! | `region.rs` | regions, allocation, pins, own regions, collection at a safepoint |
//! | `builders.rs` | building values (the only allocation outside `region.rs`) |
//! | `typedesc.rs` | type descriptors: `==`, hashing, order, deep copies and the owned form of any value |
//! | `closure.rs` | calling Snow closures from Rust |
//! | `watchdog.rs` | the callback time limit |
//! | `callback.rs` | [`run_callback`]: a callback in its own region, its limits, its [`Abort`] |
//! | `safepoint.rs` | `snow_check`: the slow path of generated code's safepoints |
//! | `service.rs` | services: a state on its own heap, handlers run one at a time by their callers |
//! | `entry.rs` | `snow_rt_main`, the program's arguments |
//!
//! # Invariants
//! What the pieces above rely on, stated once (the details are in
//! docs/ABI.md "Memory" and "Stack" and in each file):
//!
//! 1. **Values are immutable, so an object only points to older objects.**
//!    A builder finishes an object before handing it out; the only writes
//!    after an allocation are into objects the same builder call made
//!    (`builders.rs`). Hence an enclosing region never points into the
//!    current one, and an object that survived a collection only points to
//!    objects that survived too (sticky marks, generations for free).
//! 2. **A collection runs only at a safepoint of generated code**
//!    (`snow_check`), never inside a runtime function, and collects only
//!    the current region. So runtime code may hold Snow values anywhere in
//!    Rust memory while it allocates; what the runtime keeps across calls
//!    into Snow code is [`pin`]ned.
//! 3. **Roots are conservative and nothing moves.** The stack, the
//!    callee-saved registers and the pins are scanned word by word; any
//!    word that points into an object keeps it. A wrong guess keeps
//!    garbage, never frees a live object.
//! 4. **Every object's extent is exact.** Objects are laid out one after
//!    another in a chunk and every gap is a filler, so an object ends where
//!    the next start bit is (`gc.rs`; `Heap::verify` checks this and 1).
//! 5. **A region belongs to one thread while it is current**: the root
//!    region to its thread, a callback region to the callback, an
//!    [`OwnRegion`] to whoever runs [`with_region`] with it. Other threads
//!    only read objects that a pin keeps alive and marked.
//! 6. **The stack limit is the one signal word** of a thread: overflow
//!    (the real limit), a collection wanted and a callback timed out (both
//!    `u64::MAX` plus a pending bit). `snow_check` swaps the real limit
//!    back before anything else, so a signal is seen once and an overflow
//!    hidden behind a signal is caught by the next safepoint.
//! 7. **A Snow panic unwinds only to a [`catch`]** (a callback); elsewhere
//!    it flushes stdout and exits with status 101. A callback's failure is
//!    a value ([`Abort`]), never a string to compare.

mod builders;
mod callback;
mod closure;
mod entry;
mod gc;
mod metrics;
mod panic;
mod region;
mod safepoint;
mod service;
mod settings;
mod stack;
mod stdout;
mod typedesc;
pub mod value;
mod watchdog;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use builders::{
    cons, list_from_slice, list_onto, new_bytes, new_ctor, new_str, new_str_concat, new_tuple,
    new_words, option, some,
};
pub use callback::run_callback;
pub use closure::{call0, call1, call2, call3, call4};
pub use entry::args;
pub use metrics::{core_metrics, service_started, service_stopped, CoreMetrics};
pub use panic::{catch, install_hook, runtime_panic, Abort};
pub use region::{pin, pin_forever, stats, with_region, OwnRegion, Pin, Stats, CHUNK_SIZE};
pub use service::{service_stats, BUDGET as SERVICE_BUDGET};
pub use settings::{get as settings, Settings};
pub use stack::{register_current_thread, CALLBACK_STACK_SIZE};
pub use stdout::{flush_stdout, write_stdout};
pub use typedesc::{
    cmp as cmp_by, copy as copy_by, eq as eq_by, from_owned, hash as hash_by, is_flat, key_class,
    key_td, maps_eq, shape, to_owned, Owned, Shape,
};
pub use value::{
    bytes_ref, field, join_td, list_iter, list_to_vec, map_entries, map_entry, map_entry_words,
    map_header, map_is_node, map_node, none, option_get, str_ref, tag, uncons, word, MapHeader,
    StaticStr, TAG_BINARY, TAG_ERR, TAG_NONE, TAG_OK, TAG_SOME, TAG_TEXT, TD_BOOL, TD_BYTES,
    TD_CONN, TD_FLOAT, TD_INT, TD_LIST, TD_MAP, TD_OTHER, TD_RECORD, TD_STRING, TD_SUM, TD_UNIT,
    TD_UNKNOWN,
};
