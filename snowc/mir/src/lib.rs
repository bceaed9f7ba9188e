//! Stage 3 of snowc: the typed program lowered to MIR.

pub mod mir;
