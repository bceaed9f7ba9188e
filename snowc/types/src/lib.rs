//! Stage 2 of snowc: the std module table and type checking.

pub mod tast;
