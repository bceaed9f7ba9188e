//! Stage 3 of snowc: the typed program lowered to MIR.
//!
//! [`lower`] turns a type-checked [`snowc_types::tast::TProgram`] into a
//! [`mir::Program`]; [`printer`] gives MIR its text form (`snowc build --emit mir`).

mod lower;
pub mod mir;
pub mod printer;

pub use lower::{lower, lower_with, Options};
