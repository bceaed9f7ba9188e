//! Tests of the std modules through their exported `snow_*` functions, as
//! generated code calls them (with the core's test API, `rt::testing`).

mod files;
mod json;
mod lists;
mod maps;
mod numbers;
mod strings;
mod timers;
