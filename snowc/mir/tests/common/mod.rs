pub mod build;
pub mod interp;
pub mod source;
pub mod validate;
