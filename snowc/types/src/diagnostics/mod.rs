//! The type checker's diagnostics as data: the kinds of [`TypeError`], each a
//! type holding its facts (spans, names, types) with its code, rendering and
//! explanation in one place (see `snowc_syntax::diagnostic`).
//!
//! - `names.rs`: names that resolve to nothing (variables, modules, types, ...).
//! - `items.rs`: the program's items: duplicates, `main`, annotations.
//! - `mismatch.rs`: types that do not fit: mismatches, arities, operators.
//! - `cases.rs`: `case` and patterns.
//! - `warnings.rs`: the kinds of [`TypeWarning`].
//!
//! Codes `E0012`-`E0039`, `E0046`-`E0055`, `W0001`-`W0004`.
//! - `structs.rs`: structs, tuples, fields, destructuring, equality.
//! - `modules.rs`: private items and imports across the program's modules.

mod cases;
mod hint;
mod items;
mod mismatch;
mod modules;
mod names;
mod services;
mod structs;
mod warnings;

pub use cases::*;
pub use items::*;
pub use mismatch::*;
pub use modules::*;
pub use names::*;
pub use services::*;
pub use structs::*;
pub use warnings::*;

snowc_syntax::diagnostic_kinds! {
    /// An error found by the type checker (or while building the std module table).
    pub enum TypeError {
        UnknownName,
        UnknownModule,
        UnknownModuleFunction,
        PrivateFunction,
        UnknownConstructor,
        UnknownType,
        UnknownTypeVariable,
        DuplicateFunction,
        DuplicateType,
        DuplicateConstructor,
        BuiltinTypeName,
        MissingMain,
        MainWithParameters,
        ExternInProgram,
        TypeArgumentCount,
        TypeVariableWithArguments,
        TypeMismatch,
        FunctionArityMismatch,
        InfiniteType,
        IfBranchesDiffer,
        CaseArmsDiffer,
        ArgumentCount,
        NotAFunction,
        PatternFieldCount,
        UnsupportedOperand,
        CannotInterpolate,
        NonExhaustiveCase,
        CaseTooComplex,
        MissingField,
        UnknownField,
        RepeatedField,
        RefutableLet,
        FieldOfUnknownType,
        NotAStruct,
        FunctionEquality,
        ForPatternNotTuple,
        PrivateItem,
        UnknownImport,
        ServiceHandlerResult,
        DuplicateHandler,
        ServiceWithoutInit,
        StateTypeUnknown,
        FunctionInService,
        SwappedArguments,
    }
}

snowc_syntax::diagnostic_kinds! {
    /// A warning of the type checker: the program compiles, but probably
    /// not as meant.
    pub enum TypeWarning {
        UnusedVariable,
        UnusedFunction,
        UnreachableArm,
        ShadowedLet,
    }
}
