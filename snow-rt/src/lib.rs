//! The Snow runtime (see docs/ABI.md for the contract with generated code).
//!
//! Every `#[no_mangle] extern "C-unwind" fn snow_*` here is called by
//! generated code with `i64` words (docs/ABI.md "Values", "Calls"). The
//! internal Rust API used by the WebSocket server (`ws`) is:
//! [`region`] (`run_callback`, `pin_current`), [`value`] (strings, bytes,
//! constructors, Option), [`list`], [`map`], [`closure`] and [`panic`].

pub mod bytes;
pub mod closure;
pub mod entry;
pub mod env;
pub mod io;
pub mod list;
pub mod map;
pub mod number;
pub mod panic;
pub mod region;
pub mod string;
pub mod timer;
pub mod value;
