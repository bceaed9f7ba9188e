//! The standard library's runtime: one file per Snow std module (std/*.snow),
//! each `extern fn` of the module a `#[no_mangle] extern "C-unwind" fn
//! snow_<module>_<name>` here (docs/ABI.md "Calls"), plus the runtime
//! services generated code calls for these types (`<>`, `==` on strings,
//! interpolation, list literals).
//!
//! Every file is written against the core's public API (`crate::rt`) only:
//! values are read with its readers and built with its builders, never
//! allocated directly, and callbacks run through `rt::run_callback` (the
//! rule of Lua's `lstrlib.c`, built on `lua.h` alone). A std module may use
//! another (`json.rs` builds lists and maps); none uses the server.
//!
//! | file | module |
//! | --- | --- |
//! | `prelude.rs` | the prelude: `println`, `print`, `eprintln`; `Bool` in interpolation |
//! | `string.rs` | `String`, and `<>`, `==`, comparison |
//! | `int.rs` | `Int` |
//! | `float.rs` | `Float`, and `%` on floats |
//! | `list.rs` | `List`, and list literals |
//! | `map.rs` | `Map` (a persistent hash trie), and `==` on maps |
//! | `bytes.rs` | `Bytes` (and `==` on Bytes) |
//! | `env.rs` | `Env` |
//! | `file.rs` | `File` |
//! | `time.rs` | `Time` |
//! | `json.rs` | `Json` |
//! | `timer.rs` | `Timer` (one scheduler thread) |

pub mod bytes;
pub mod env;
pub mod file;
pub mod float;
pub mod int;
pub mod json;
pub mod list;
pub mod map;
pub mod prelude;
pub mod string;
pub mod time;
pub mod timer;

#[cfg(test)]
mod tests;
