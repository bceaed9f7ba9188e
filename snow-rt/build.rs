//! Compiles `src/rt/stack.c` (the thread-local stack limit that generated code
//! reads, docs/ABI.md "Stack") into the runtime library.

fn main() {
    println!("cargo:rerun-if-changed=src/rt/stack.c");
    cc::Build::new()
        .file("src/rt/stack.c")
        .flag_if_supported("-ftls-model=initial-exec")
        .compile("snow_rt_stack");
}
