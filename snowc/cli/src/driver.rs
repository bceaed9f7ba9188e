//! The pipeline, stage by stage: source → AST → typed program → MIR → LLVM → executable.
//! Each stage returns its errors as values; this is the one place that renders them.

use snowc_codegen::{DebugInfo, OptLevel, Options};
use snowc_syntax::{render, Diagnostic, Severity, SourceMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The result of a command: an exit code, or a rendered error message (exit status 1).
pub type CmdResult = Result<ExitCode, String>;

struct FrontEnd {
    sources: SourceMap,
    /// The typed program (`None` for `snowc check`, which needs only the
    /// diagnostics).
    program: Option<snowc_types::tast::TProgram>,
    /// Wall time of parsing and of type checking.
    parse_time: Duration,
    check_time: Duration,
}

fn read_source(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("snowc: cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "snowc: {} is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The entry file of a program: `dir/` means `dir/main.snow`.
pub fn entry_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("main.snow")
    } else {
        path.to_path_buf()
    }
}

/// Parse the entry file and the modules it imports, then type check.
/// Syntax errors (and errors in the module graph: a missing module file, an
/// import cycle) stop before type checking (their recovered trees would
/// only add follow-on errors). Warnings are printed on stderr and
/// compilation goes on, unless `deny_warnings` makes them errors. Without
/// `typed` only the diagnostics are made (the checker drops each typed
/// body once checked).
fn front_end(path: &Path, deny_warnings: bool, typed: bool) -> Result<FrontEnd, String> {
    let path = entry_file(path);
    let text = read_source(&path)?;
    let mut sources = SourceMap::default();
    let file = sources.add(path.display().to_string(), text);
    let t0 = Instant::now();
    let (module, mut diags) = snowc_syntax::parse(file, &sources.get(file).text);
    // Modules are read relative to the entry file's folder, and named in
    // diagnostics as that folder was given (like the entry itself).
    let root = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let display_root = path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let std_names = snowc_types::std_lib::std_module_names();
    let std_names: Vec<&str> = std_names.iter().map(String::as_str).collect();
    let (program, more) = snowc_syntax::graph::load(
        file,
        module,
        &root,
        &display_root,
        &std_names,
        &snowc_syntax::graph::FsLoader,
        &mut sources,
    );
    diags.extend(more);
    let parse_time = t0.elapsed();
    if !diags.is_empty() {
        return Err(render_diagnostics(&diags, &sources));
    }
    let t1 = Instant::now();
    let (table, mut diags) = snowc_types::std_lib::load(&mut sources);
    let program_t = if typed {
        let (program_t, more) = snowc_types::check_program(&table, &sources, &program);
        diags.extend(more);
        Some(program_t)
    } else {
        diags.extend(snowc_types::check_program_diagnostics(&table, &program));
        None
    };
    let program = {
        // snowc is a one-shot process: freeing the syntax trees node by
        // node would only cost time (the OS takes the memory back at exit).
        std::mem::forget(program);
        std::mem::forget(table);
        program_t
    };
    if deny_warnings {
        for d in &mut diags {
            d.severity = Severity::Error;
        }
    }
    if snowc_syntax::has_errors(&diags) {
        return Err(render_diagnostics(&diags, &sources));
    }
    if !diags.is_empty() {
        eprint!("{}", render_diagnostics(&diags, &sources));
    }
    Ok(FrontEnd {
        sources,
        program,
        parse_time,
        check_time: t1.elapsed(),
    })
}

/// The diagnostics as text for stderr, then a summary line.
fn render_diagnostics(diags: &[Diagnostic], sources: &SourceMap) -> String {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = render::render_capped(diags, sources, color, render::FULL_DIAGNOSTICS);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if diags.len() > render::FULL_DIAGNOSTICS {
        out.push_str(&format!(
            "snowc: the first {} diagnostics in full (errors first), the other {} one line each\n",
            render::FULL_DIAGNOSTICS,
            diags.len() - render::FULL_DIAGNOSTICS
        ));
    }
    if errors == 0 {
        out.push_str(&format!("snowc: {}\n", plural(diags.len(), "warning")));
    } else if diags.iter().any(|d| d.code.severity() == Severity::Warning) {
        out.push_str(&format!(
            "snowc: {} found (warnings are errors with --deny-warnings)\n",
            plural(errors, "error")
        ));
    } else {
        out.push_str(&format!("snowc: {} found\n", plural(errors, "error")));
    }
    out
}

fn mir_of(path: &Path, deny_warnings: bool) -> Result<snowc_mir::mir::Program, String> {
    let fe = front_end(path, deny_warnings, true)?;
    let program = fe
        .program
        .ok_or("snowc: internal error: no typed program after the check")?;
    Ok(snowc_mir::lower(&program, &fe.sources))
}

/// How to generate code: the command line's `-O` and `-g`.
#[derive(Clone, Copy, Debug)]
pub struct Codegen {
    pub o2: bool,
    pub debug_info: bool,
}

impl Codegen {
    fn options(self) -> Result<Options, String> {
        let opt = if self.o2 { OptLevel::O2 } else { OptLevel::O0 };
        let debug_info = if self.debug_info {
            let dir = std::env::current_dir().map_err(|e| {
                format!("snowc: cannot read the current directory (for debug information): {e}")
            })?;
            Some(DebugInfo {
                comp_dir: dir.display().to_string(),
            })
        } else {
            None
        };
        Ok(Options { opt, debug_info })
    }
}

pub fn check(path: &Path, deny_warnings: bool, timings: bool) -> CmdResult {
    let fe = front_end(path, deny_warnings, false)?;
    if timings {
        eprintln!("parse: {:.1} ms", fe.parse_time.as_secs_f64() * 1000.0);
        eprintln!("check: {:.1} ms", fe.check_time.as_secs_f64() * 1000.0);
    }
    // The process ends now: freeing the whole tree node by node would only cost time.
    std::mem::forget(fe);
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to stdout. A reader that went away (`snowc ... | head`)
/// is not an error; any other failure is reported, never a panic.
pub fn write_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("snowc: cannot write to standard output: {e}")),
    }
}

pub fn emit_mir(path: &Path, deny_warnings: bool) -> CmdResult {
    write_stdout(&mir_of(path, deny_warnings)?.to_string())?;
    Ok(ExitCode::SUCCESS)
}

pub fn emit_llvm_ir(path: &Path, cg: Codegen, deny_warnings: bool) -> CmdResult {
    let mir = mir_of(path, deny_warnings)?;
    let ir = snowc_codegen::emit_llvm_ir(&mir, cg.options()?)
        .map_err(|e| format!("snowc: internal error in LLVM code generation: {e}"))?;
    write_stdout(&ir)?;
    Ok(ExitCode::SUCCESS)
}

/// Compile `path` into the executable `out`; returns the time per phase.
fn compile(
    path: &Path,
    out: &Path,
    cg: Codegen,
    deny_warnings: bool,
) -> Result<[(&'static str, Duration); 3], String> {
    let options = cg.options()?;
    let t0 = Instant::now();
    let mir = mir_of(path, deny_warnings)?;
    let t1 = Instant::now();
    let runtime = crate::runtime_lib::find()?;
    let obj_dir = tempfile::tempdir()
        .map_err(|e| format!("snowc: cannot create a temporary directory: {e}"))?;
    let obj = obj_dir.path().join("program.o");
    snowc_codegen::emit_object(&mir, options, &obj)
        .map_err(|e| format!("snowc: internal error in LLVM code generation: {e}"))?;
    let t2 = Instant::now();
    snowc_codegen::link(&[obj], &runtime, out)
        .map_err(|e| format!("snowc: linking failed: {e}"))?;
    let t3 = Instant::now();
    Ok([("front end", t1 - t0), ("llvm", t2 - t1), ("link", t3 - t2)])
}

pub fn build(
    path: &Path,
    output: Option<PathBuf>,
    cg: Codegen,
    deny_warnings: bool,
    timings: bool,
) -> CmdResult {
    let out = match output {
        Some(out) => out,
        None => {
            let out = default_output(path);
            if same_file(&out, path) {
                return Err(format!(
                    "snowc: the executable would overwrite the source {}; name it with -o",
                    path.display()
                ));
            }
            out
        }
    };
    let phases = compile(path, &out, cg, deny_warnings)?;
    if timings {
        for (name, d) in phases {
            eprintln!("{name}: {:.1} ms", d.as_secs_f64() * 1000.0);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The executable `build` writes without `-o`: the source file's name
/// without `.snow`, in the current directory (as rustc, go build and gcc do).
fn default_output(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_else(|| "a.out".into());
    PathBuf::from(stem)
}

/// Do `a` and `b` name one existing file?
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub fn run(path: &Path, cg: Codegen, deny_warnings: bool, args: &[String]) -> CmdResult {
    let dir = tempfile::tempdir()
        .map_err(|e| format!("snowc: cannot create a temporary directory: {e}"))?;
    let exe = dir.path().join(
        default_output(path)
            .file_name()
            .unwrap_or("program".as_ref()),
    );
    compile(path, &exe, cg, deny_warnings)?;
    let mut child = Command::new(&exe)
        .args(args)
        .spawn()
        .map_err(|e| format!("snowc: cannot run {}: {e}", exe.display()))?;
    forward_signals_to(child.id());
    let status = child
        .wait()
        .map_err(|e| format!("snowc: waiting for {}: {e}", exe.display()))?;
    Ok(exit_code_of(status))
}

static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(std::sync::atomic::Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// While the program runs, SIGINT and SIGTERM sent to snowc go to the program
/// (so a server shuts down gracefully: close 1001, on_close, exit 0) instead
/// of killing snowc and leaving the temporary executable behind.
fn forward_signals_to(pid: u32) {
    CHILD.store(pid as i32, std::sync::atomic::Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only calls an async-signal-safe function.
        unsafe {
            libc::signal(
                sig,
                forward as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    }
}

/// Pass the program's exit status through; a death by signal N becomes 128 + N, as shells do.
fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(c as u8),
        (None, Some(sig)) => ExitCode::from((128 + sig) as u8),
        _ => ExitCode::from(1),
    }
}
