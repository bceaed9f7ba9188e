//! The Snow runtime (see docs/ABI.md for the contract with generated code).
