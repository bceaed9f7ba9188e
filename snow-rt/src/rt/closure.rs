//! Calling Snow closures from the runtime (docs/ABI.md "Calls").
//!
//! A closure is a pointer to `{ ptr c_entry; ptr tail_entry; i64 captures[n] }`.
//! The runtime calls `c_entry`, `i64 (ptr self, i64 a1, ..., i64 an)` with
//! the C calling convention and `self` = the closure; `tail_entry` is the
//! same function in LLVM's `tailcc` convention, for generated code only.

type Code0 = extern "C-unwind" fn(*const u8) -> i64;
type Code1 = extern "C-unwind" fn(*const u8, i64) -> i64;
type Code2 = extern "C-unwind" fn(*const u8, i64, i64) -> i64;
type Code3 = extern "C-unwind" fn(*const u8, i64, i64, i64) -> i64;
type Code4 = extern "C-unwind" fn(*const u8, i64, i64, i64, i64) -> i64;

/// Loads the code pointer (word 0) of closure `clo` as function type `F`.
///
/// # Safety
/// `clo` must be a closure object whose code takes exactly the arguments of `F`.
unsafe fn code<F: Copy>(clo: i64) -> F {
    debug_assert_eq!(std::mem::size_of::<F>(), 8);
    // SAFETY: word 0 of a closure object is its C entry, a function of
    // type `F` (the caller's promise); `F` is a function pointer, one word.
    unsafe {
        let p = *(clo as *const *const u8);
        std::mem::transmute_copy::<*const u8, F>(&p)
    }
}

/// Calls a closure of no arguments.
///
/// # Safety
/// `clo` must be a closure of type `Fun() -> _`.
pub unsafe fn call0(clo: i64) -> i64 {
    // SAFETY: a closure of this arity (the caller's promise).
    unsafe { code::<Code0>(clo)(clo as *const u8) }
}

/// Calls a closure of one argument.
///
/// # Safety
/// `clo` must be a closure of one parameter.
pub unsafe fn call1(clo: i64, a: i64) -> i64 {
    // SAFETY: a closure of this arity (the caller's promise).
    unsafe { code::<Code1>(clo)(clo as *const u8, a) }
}

/// Calls a closure of two arguments.
///
/// # Safety
/// `clo` must be a closure of two parameters.
pub unsafe fn call2(clo: i64, a: i64, b: i64) -> i64 {
    // SAFETY: a closure of this arity (the caller's promise).
    unsafe { code::<Code2>(clo)(clo as *const u8, a, b) }
}

/// Calls a closure of three arguments.
///
/// # Safety
/// `clo` must be a closure of three parameters.
pub unsafe fn call3(clo: i64, a: i64, b: i64, c: i64) -> i64 {
    // SAFETY: a closure of this arity (the caller's promise).
    unsafe { code::<Code3>(clo)(clo as *const u8, a, b, c) }
}

/// Calls a closure of four arguments.
///
/// # Safety
/// `clo` must be a closure of four parameters.
pub unsafe fn call4(clo: i64, a: i64, b: i64, c: i64, d: i64) -> i64 {
    // SAFETY: a closure of this arity (the caller's promise).
    unsafe { code::<Code4>(clo)(clo as *const u8, a, b, c, d) }
}
