pub mod build;
pub mod interp;
