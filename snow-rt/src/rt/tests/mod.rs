//! Tests of the core that go through several of its files (regions and
//! collections, callbacks and panics, the entry point). Unit tests of one
//! file's internals are at the end of that file.

mod collect;
mod entry;
mod regions;
mod services;
