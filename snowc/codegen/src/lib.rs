//! Stage 4 of snowc: MIR to LLVM IR (inkwell, LLVM 19), objects and linking.
