//! Names and numbers the compiler's stages and the runtime (snow-rt) agree
//! on, written once: the built-in and std types the compiler itself knows,
//! the prelude, the rule that names an `extern fn`'s runtime symbol, the
//! runtime services generated code calls that no std file declares, and the
//! type descriptor numbers. (Std *functions* are not here: they are the
//! `.snow` files, read into the module table.)
//!
//! The runtime's own copies (`snow_rt::value::TD_*`, the `snow_*` symbols it
//! exports) are compared with these by `snowc/cli/tests/shared_names.rs`.

use crate::tast::Ty;

/// Built-in types: no std file declares them; the language and the runtime
/// implement them. A program may not declare a type of these names.
pub const INT: &str = "Int";
pub const FLOAT: &str = "Float";
pub const BOOL: &str = "Bool";
pub const STRING: &str = "String";
pub const LIST: &str = "List";
pub const MAP: &str = "Map";

/// The internal name of tuple types: `(Int, String)` is
/// `Ty::Con(TUPLE, [Int, String])` (no source name can be this).
pub const TUPLE: &str = "(,)";

/// The tuple type of `elems`.
pub fn tuple(elems: Vec<Ty>) -> Ty {
    Ty::Con(TUPLE.to_string(), elems)
}

/// The element types of a tuple type.
pub fn tuple_elems(ty: &Ty) -> Option<&[Ty]> {
    match ty {
        Ty::Con(n, args) if n == TUPLE => Some(args),
        _ => None,
    }
}

/// Every built-in type with its number of type parameters.
pub const BUILTIN_TYPES: [(&str, usize); 6] = [
    (INT, 0),
    (FLOAT, 0),
    (BOOL, 0),
    (STRING, 0),
    (LIST, 1),
    (MAP, 2),
];

/// Std types (declared in `std/`, opaque) that the compiler treats
/// specially: `==` works on a `Conn` (a connection is a number), and both
/// have their own type descriptor.
pub const CONN: &str = "Conn";
pub const BYTES: &str = "Bytes";

/// The prelude's `panic(msg)`: its runtime function is the panic service
/// `snow_panic(msg, file, line, col)`, so lowering passes the call's
/// position after the message.
pub const PANIC: &str = "panic";

/// The std module whose items need no qualification (`std/prelude.snow`).
pub const PRELUDE: &str = "Prelude";
/// The file (or folder) name of the prelude under `std/`.
pub const PRELUDE_FILE: &str = "prelude";

/// How a std function is named in messages: `List.map`, but `f` for the
/// prelude's `Prelude.f` (called unqualified).
pub fn display_name(qualified: &str) -> &str {
    qualified
        .strip_prefix(PRELUDE)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(qualified)
}

/// The runtime symbol an `extern fn name` of std module `module` binds to
/// (the spec's rule): `snow_<module lower-cased>_<name>`, and `snow_<name>`
/// in the prelude (`module`: `None`).
pub fn runtime_symbol(module: Option<&str>, name: &str) -> String {
    match module {
        Some(m) => format!("snow_{}_{name}", m.to_lowercase()),
        None => format!("snow_{name}"),
    }
}

/// The runtime symbol of an extern by its qualified name (`Ws.join`,
/// `println` for the prelude): [`runtime_symbol`] applied to it.
pub fn runtime_symbol_of(qualified: &str) -> String {
    match qualified.split_once('.') {
        Some((module, name)) => runtime_symbol(Some(module), name),
        None => runtime_symbol(None, qualified),
    }
}

/// Runtime functions that MIR lowering calls directly (operators,
/// interpolation, list literals, `for`). Those that std also declares
/// follow [`runtime_symbol`]; the others are runtime services with no std
/// name. (Codegen's own services, such as `snow_alloc`, are declared in
/// `snowc_codegen`'s `module.rs`.)
pub mod rt {
    /// `"${n}"` of an Int (also `Int.to_string`).
    pub const INT_TO_STRING: &str = "snow_int_to_string";
    /// `"${x}"` of a Float (also `Float.to_string`).
    pub const FLOAT_TO_STRING: &str = "snow_float_to_string";
    /// `"${b}"` of a Bool.
    pub const BOOL_TO_STRING: &str = "snow_bool_to_string";
    /// `a <> b`, and the pieces of an interpolation.
    pub const STRING_CONCAT: &str = "snow_string_concat";
    /// `==` on Strings, and String patterns.
    pub const STRING_EQ: &str = "snow_string_eq";
    /// `<` and friends on Strings (byte order).
    pub const STRING_CMP: &str = "snow_string_cmp";
    /// `%` on Floats (C's `fmod`).
    pub const FLOAT_REM: &str = "snow_float_rem";
    /// A list literal's cells, and the results of a `for`.
    pub const LIST_CONS: &str = "snow_list_cons";
    /// A `for`'s results, built backwards (also `List.reverse`).
    pub const LIST_REVERSE: &str = "snow_list_reverse";
    /// `==` on Bytes.
    pub const BYTES_EQ: &str = "snow_bytes_eq";
    /// `==` on Maps: `(td_key, td_value, a, b)`, same keys and equal values.
    pub const MAP_EQ: &str = "snow_map_eq";
    /// `Service.start(...)`: `(init_entry, td_args, args, td_state, name) -> handle`
    /// (`name` a String: the service's name, for messages).
    pub const SERVICE_START: &str = "snow_service_start";
    /// A call: `(handle, handler_entry, td_args, args, td_reply) -> reply`.
    pub const SERVICE_CALL: &str = "snow_service_call";
    /// A cast: `(handle, handler_entry, td_args, args) -> ()`.
    pub const SERVICE_CAST: &str = "snow_service_cast";

    /// Every symbol above.
    pub const ALL: [&str; 14] = [
        INT_TO_STRING,
        FLOAT_TO_STRING,
        BOOL_TO_STRING,
        STRING_CONCAT,
        STRING_EQ,
        STRING_CMP,
        FLOAT_REM,
        LIST_CONS,
        LIST_REVERSE,
        BYTES_EQ,
        MAP_EQ,
        SERVICE_START,
        SERVICE_CALL,
        SERVICE_CAST,
    ];
}

/// Type descriptors (docs/ABI.md "Generic externs"): the word passed to a
/// generic extern per type variable. snow-rt has the same numbers as
/// `snow_rt::value::TD_*`.
pub mod td {
    /// A type still generic at the call.
    pub const UNKNOWN: i64 = 0;
    pub const INT: i64 = 1;
    pub const FLOAT: i64 = 2;
    pub const BOOL: i64 = 3;
    pub const STRING: i64 = 4;
    pub const UNIT: i64 = 5;
    pub const CONN: i64 = 6;
    pub const BYTES: i64 = 7;
    /// Any other type (compared by identity): functions, opaque types.
    pub const OTHER: i64 = 8;
    /// Kinds of the static descriptors of compound types (a pointer to
    /// `{ i64 kind, i64 n, i64 parts[n] }`, docs/ABI.md): a tuple or struct
    /// (parts: its fields' descriptors), a list (its element's), a map (its
    /// key's and value's), a sum type (per constructor, a record
    /// descriptor of its fields, or 0 when it has none).
    pub const RECORD: i64 = 9;
    pub const LIST: i64 = 10;
    pub const MAP: i64 = 11;
    pub const SUM: i64 = 12;
}

/// The type descriptor of a type.
pub fn type_descriptor(ty: &Ty) -> i64 {
    match ty {
        Ty::Var(_) => td::UNKNOWN,
        Ty::Int => td::INT,
        Ty::Float => td::FLOAT,
        Ty::Bool => td::BOOL,
        Ty::String => td::STRING,
        Ty::Unit => td::UNIT,
        Ty::Con(name, args) if name == CONN && args.is_empty() => td::CONN,
        Ty::Con(name, args) if name == BYTES && args.is_empty() => td::BYTES,
        _ => td::OTHER,
    }
}

/// Is `ty` the std `Conn` type?
pub fn is_conn(ty: &Ty) -> bool {
    matches!(ty, Ty::Con(name, args) if name == CONN && args.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_display_names() {
        assert_eq!(runtime_symbol(Some("Ws"), "join"), "snow_ws_join");
        assert_eq!(runtime_symbol(None, "println"), "snow_println");
        assert_eq!(runtime_symbol_of("String.length"), "snow_string_length");
        assert_eq!(runtime_symbol_of("println"), "snow_println");
        // The services std also declares follow the rule.
        assert_eq!(runtime_symbol_of("Int.to_string"), rt::INT_TO_STRING);
        assert_eq!(runtime_symbol_of("List.reverse"), rt::LIST_REVERSE);
        assert_eq!(display_name("Prelude.greet"), "greet");
        assert_eq!(display_name("List.map"), "List.map");
        assert_eq!(display_name("Preludes.x"), "Preludes.x");
    }

    #[test]
    fn descriptors() {
        assert_eq!(type_descriptor(&Ty::Con(CONN.into(), vec![])), td::CONN);
        assert_eq!(
            type_descriptor(&Ty::Con(LIST.into(), vec![Ty::Int])),
            td::OTHER
        );
        assert!(is_conn(&Ty::Con(CONN.into(), vec![])));
        assert!(!is_conn(&Ty::Con(BYTES.into(), vec![])));
    }
}
