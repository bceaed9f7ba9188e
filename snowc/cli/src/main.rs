//! `snowc`: the Snow compiler command line.
//!
//! ```text
//! snowc check app.snow                      # parse and type check only
//! snowc build app.snow [-o app] [-O0|-O2] [-g|-g0]  # native executable (./app by default;
//!                                           # DWARF by default at -O0, -g/-g0 decide)
//! snowc build app.snow --emit mir|llvm-ir   # print the IR instead of linking
//! snowc run app.snow [-- args]              # build to a temp dir and run
//! snowc explain E0012                       # what a diagnostic code means
//! snowc fmt [--check] [files or folders]    # format in place (snowc_fmt)
//! snowc lsp                                 # language server on stdin/stdout (snowc_lsp)
//! ```
//! Every error is rendered by `snowc_syntax::render` and exits with status 1.

mod driver;
mod explain;
mod runtime_lib;

// The front end allocates many small nodes (tokens, AST, types); mimalloc
// makes `snowc check` of a large program markedly faster than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "snowc", version, about = "The Snow compiler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type check a program.
    Check {
        file: PathBuf,
        #[command(flatten)]
        diag: DiagArgs,
        /// Print the time spent parsing and type checking on stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Compile a program to a native executable, by default in the current
    /// directory (or print its IR with --emit).
    Build {
        file: PathBuf,
        /// Output executable (default: the source file's name without
        /// `.snow`, in the current directory).
        #[arg(short = 'o')]
        output: Option<PathBuf>,
        #[command(flatten)]
        opt: OptArgs,
        #[command(flatten)]
        diag: DiagArgs,
        /// Print an intermediate representation instead of linking.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// Print the time spent in each phase on stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Build into a temporary directory and run, passing the exit status through.
    Run {
        file: PathBuf,
        #[command(flatten)]
        opt: OptArgs,
        #[command(flatten)]
        diag: DiagArgs,
        /// Arguments for the program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Explain a diagnostic code (E0012, W0001) with a wrong and a right
    /// example; without a code, list every code.
    Explain { code: Option<String> },
    /// Format files in place into the one canonical layout (every `.snow`
    /// under the current folder when none is named). A file that does not
    /// parse is left untouched (exit status 1).
    Fmt {
        /// Change nothing; list the files that would change (exit status 1
        /// when there is one).
        #[arg(long)]
        check: bool,
        paths: Vec<PathBuf>,
    },
    /// The language server (Language Server Protocol on stdin/stdout).
    Lsp,
}

#[derive(Args, Clone)]
struct OptArgs {
    /// Optimisation level: -O0 (default, fastest build) or -O2 (LLVM's default<O2> pipeline).
    #[arg(short = 'O', value_name = "LEVEL", default_value = "0", value_parser = ["0", "2"])]
    level: String,
    /// Emit DWARF debug information (gdb, perf and addr2line see Snow source
    /// lines). The default for an executable at -O0; -g0 turns it off.
    #[arg(short = 'g', overrides_with = "no_debug")]
    debug: bool,
    /// `-g0` (see `g0_for_clap`).
    #[arg(long = "g0", hide = true, overrides_with = "debug")]
    no_debug: bool,
}

impl OptArgs {
    fn o2(&self) -> bool {
        self.level == "2"
    }

    /// How to generate code; `executable` when building one (not `--emit`),
    /// where debug information is on by default at -O0 (docs/ARCHITECTURE.md
    /// "Debug information" has the measurement behind this default).
    fn codegen(&self, executable: bool) -> driver::Codegen {
        let debug_info = if self.debug {
            true
        } else if self.no_debug {
            false
        } else {
            executable && !self.o2()
        };
        driver::Codegen {
            o2: self.o2(),
            debug_info,
        }
    }
}

#[derive(Args, Clone)]
struct DiagArgs {
    /// Treat warnings as errors (exit status 1, nothing built).
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    Mir,
    LlvmIr,
}

/// `-g0` (no debug information, as in gcc and clang) becomes `--g0`: clap's
/// short options take an attached value only if they always take one, and
/// `-g` takes none. Arguments after `--` (a program's, for `run`) are left alone.
fn g0_for_clap(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut seen_dashdash = false;
    args.map(|a| {
        seen_dashdash |= a == "--";
        if !seen_dashdash && a == "-g0" {
            "--g0".into()
        } else {
            a
        }
    })
    .collect()
}

fn main() -> ExitCode {
    // Usage errors exit with status 1 like every other snowc error (clap's
    // default is 2); --help and --version still exit 0.
    let cli = match Cli::try_parse_from(g0_for_clap(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Check {
            file,
            diag,
            timings,
        } => driver::check(&file, diag.deny_warnings, timings),
        Command::Build {
            file,
            output,
            opt,
            diag,
            emit,
            timings,
        } => match emit {
            Some(Emit::Mir) => driver::emit_mir(&file, diag.deny_warnings),
            Some(Emit::LlvmIr) => {
                driver::emit_llvm_ir(&file, opt.codegen(false), diag.deny_warnings)
            }
            None => driver::build(
                &file,
                output,
                opt.codegen(true),
                diag.deny_warnings,
                timings,
            ),
        },
        Command::Run {
            file,
            opt,
            diag,
            args,
        } => driver::run(&file, opt.codegen(true), diag.deny_warnings, &args),
        Command::Explain { code } => explain::explain(code.as_deref()),
        Command::Fmt { check, paths } => {
            let status = snowc_fmt::files::run(
                &paths,
                check,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            );
            Ok(ExitCode::from(status as u8))
        }
        Command::Lsp => Ok(ExitCode::from(snowc_lsp::run() as u8)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprint!("{message}");
            if !message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(1)
        }
    }
}
