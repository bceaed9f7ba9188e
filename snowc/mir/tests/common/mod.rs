pub mod build;
pub mod interp;
pub mod validate;
