//! The module graph: the entry file and the modules it imports, each read
//! and parsed once (stage 1b, between parsing one file and type checking).
//!
//! A file's path relative to the entry file's folder names its module
//! (`chat/rooms.snow` is `Chat.Rooms`), so `import Chat.Rooms` reads
//! `<root>/chat/rooms.snow` from any module of the program. A one-segment
//! import of a std module name (`import String`) is std's and reads nothing.
//!
//! Files are read through a [`Loader`] (the file system for `snowc`, open
//! editor buffers for the language server). The graph is built breadth
//! first; the files of one level are read and parsed in parallel when there
//! are several. Diagnostics: a module whose file does not exist, an import
//! cycle (with its path), and a user module named like a std module.

use crate::ast::{Item, ModPath, Module};
use crate::diagnostic::{Code, Diagnostic, Explanation, Kind};
use crate::span::{FileId, SourceMap, Span};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Where module files come from.
pub trait Loader: Sync {
    /// The text of the file at `path` (joined to the program's root).
    fn read(&self, path: &Path) -> Result<String, String>;
    /// Whether a file exists at `path`.
    fn exists(&self, path: &Path) -> bool;
}

/// The file system.
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &Path) -> Result<String, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "not valid UTF-8 (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })
    }
    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Files kept in memory by name relative to the root (tests, examples of
/// `snowc explain`, editor buffers over a fallback).
pub struct MemLoader<'a> {
    pub files: HashMap<PathBuf, String>,
    pub fallback: Option<&'a dyn Loader>,
}

impl Loader for MemLoader<'_> {
    fn read(&self, path: &Path) -> Result<String, String> {
        match self.files.get(path) {
            Some(t) => Ok(t.clone()),
            None => match self.fallback {
                Some(f) => f.read(path),
                None => Err("no such file".into()),
            },
        }
    }
    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path) || self.fallback.is_some_and(|f| f.exists(path))
    }
}

/// One module of the program.
#[derive(Debug)]
pub struct ModuleSource {
    /// `Chat.Rooms`; the entry module's name is empty.
    pub name: String,
    pub file: FileId,
    pub ast: Module,
    /// The user modules it imports (indices into [`Program::modules`]), in
    /// the order of its imports, each once.
    pub imports: Vec<usize>,
}

/// The modules of a program: `modules[0]` is the entry file; the others in
/// the order they were first imported (breadth first).
#[derive(Debug, Default)]
pub struct Program {
    pub modules: Vec<ModuleSource>,
}

impl Program {
    /// A program of one file (no imports of user modules are resolved).
    pub fn single(file: FileId, ast: Module) -> Program {
        Program {
            modules: vec![ModuleSource {
                name: String::new(),
                file,
                ast,
                imports: Vec::new(),
            }],
        }
    }

    /// The module named `name` (dotted).
    pub fn module(&self, name: &str) -> Option<usize> {
        self.modules.iter().position(|m| m.name == name)
    }
}

/// `Chat.Rooms` → `chat/rooms.snow` (each segment from CamelCase to snake_case).
pub fn module_file(path: &[&str]) -> PathBuf {
    let mut p = PathBuf::new();
    for (i, seg) in path.iter().enumerate() {
        let snake = snake_case(seg);
        if i + 1 == path.len() {
            p.push(format!("{snake}.snow"));
        } else {
            p.push(snake);
        }
    }
    p
}

/// `ChatRooms` → `chat_rooms`.
pub fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The display name of a module's file: the root as the entry was named
/// (`examples/chat-web/`) joined with its path in the program.
fn display_name(display_root: &str, rel: &Path) -> String {
    let rel = rel.to_string_lossy();
    if display_root.is_empty() {
        rel.into_owned()
    } else if display_root.ends_with('/') {
        format!("{display_root}{rel}")
    } else {
        format!("{display_root}/{rel}")
    }
}

/// Loads the program whose entry file is already in `sources` (as `entry`,
/// parsed as `ast`): `root` is the entry file's folder (for reading) and
/// `display_root` how files under it are named in diagnostics (the entry's
/// folder as given on the command line, so that every file is named
/// relative to where snowc ran, like the entry itself). `std_modules`: the
/// names of the std modules.
pub fn load(
    entry: FileId,
    ast: Module,
    root: &Path,
    display_root: &str,
    std_modules: &[&str],
    loader: &dyn Loader,
    sources: &mut SourceMap,
) -> (Program, Vec<Diagnostic>) {
    let mut program = Program::single(entry, ast);
    let mut diags: Vec<Diagnostic> = Vec::new();
    // Import edges with the span of the import, for the cycle check.
    let mut edges: Vec<Vec<(usize, Span)>> = vec![Vec::new()];
    let mut level = vec![0usize];
    // The loaded modules by name (`Program::module` is a linear search: a
    // program of a thousand modules would make this loop quadratic).
    let mut index: HashMap<String, usize> = HashMap::new();
    index.insert(program.modules[0].name.clone(), 0);
    // (importer, imported) pairs already recorded.
    let mut linked: HashSet<(usize, usize)> = HashSet::new();
    while !level.is_empty() {
        // The modules this level imports that are not loaded yet, in order.
        let mut wanted: Vec<(String, PathBuf, Span)> = Vec::new();
        let mut wanted_names: HashSet<String> = HashSet::new();
        let mut pending: Vec<(usize, String, Span)> = Vec::new();
        for &m in &level {
            for (path, span) in imports_of(&program.modules[m].ast) {
                let segs: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
                let dotted = segs.join(".");
                let rel = module_file(&segs);
                if segs.len() == 1 && std_modules.contains(&segs[0]) {
                    // Std's, whatever files the folder holds (a folder of
                    // programs may well have a `json.snow`).
                    continue;
                }
                if let Some(last) = segs.last().filter(|l| std_modules.contains(l)) {
                    diags.push(
                        StdModuleName {
                            span,
                            module: (*last).to_string(),
                            file: display_name(display_root, &rel),
                        }
                        .to_diagnostic(),
                    );
                    continue;
                }
                pending.push((m, dotted.clone(), span));
                if !index.contains_key(&dotted) && wanted_names.insert(dotted.clone()) {
                    wanted.push((dotted, rel, span));
                }
            }
        }
        // Read and parse this level's new files (in parallel when several).
        let texts: Vec<Result<String, String>> = read_all(loader, root, &wanted);
        let mut next = Vec::new();
        let mut new_files = Vec::new();
        for ((name, rel, span), text) in wanted.into_iter().zip(texts) {
            match text {
                Ok(text) => {
                    let file = sources.add(display_name(display_root, &rel), text);
                    new_files.push((name, file));
                }
                Err(why) => diags.push(
                    MissingModule {
                        span,
                        module: name,
                        file: display_name(display_root, &rel),
                        why,
                    }
                    .to_diagnostic(),
                ),
            }
        }
        let parsed = parse_all(sources, &new_files);
        for ((name, file), (ast, ds)) in new_files.into_iter().zip(parsed) {
            diags.extend(ds);
            index.insert(name.clone(), program.modules.len());
            program.modules.push(ModuleSource {
                name,
                file,
                ast,
                imports: Vec::new(),
            });
            edges.push(Vec::new());
            next.push(program.modules.len() - 1);
        }
        for (m, dotted, span) in pending {
            if let Some(&j) = index.get(&dotted) {
                if linked.insert((m, j)) {
                    program.modules[m].imports.push(j);
                    edges[m].push((j, span));
                }
            }
        }
        level = next;
    }
    if let Some(d) = find_cycle(&program, &edges, sources) {
        diags.push(d);
    }
    (program, diags)
}

/// Every `import`/`from` of a module: its path and the path's span.
fn imports_of(m: &Module) -> Vec<(&ModPath, Span)> {
    m.items
        .iter()
        .filter_map(|i| match i {
            Item::Import { path, .. } | Item::FromImport { path, .. } => Some((path, path.span)),
            _ => None,
        })
        .collect()
}

/// `f` over `items` on up to as many threads as there are cores, each
/// taking a contiguous run; results in the order of `items`. One thread
/// (the caller's) when there are fewer than two items.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(items.len());
    if threads < 2 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| {
                std::thread::Builder::new()
                    // The parser needs `PARSER_STACK`: given here, so that it
                    // does not map a stack of its own for every file.
                    .stack_size(crate::parser::PARSER_STACK + 4 * 1024 * 1024)
                    .spawn_scoped(s, move || chunk.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (h, chunk) in handles.into_iter().zip(items.chunks(per)) {
            match h {
                Ok(h) => out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
                // No thread to be had: do this run here.
                Err(_) => out.extend(chunk.iter().map(f)),
            }
        }
        out
    })
}

fn read_all(
    loader: &dyn Loader,
    root: &Path,
    wanted: &[(String, PathBuf, Span)],
) -> Vec<Result<String, String>> {
    in_parallel(wanted, |w| loader.read(&root.join(&w.1)))
}

fn parse_all(sources: &SourceMap, files: &[(String, FileId)]) -> Vec<(Module, Vec<Diagnostic>)> {
    in_parallel(files, |(_, f)| crate::parse(*f, &sources.get(*f).text))
}

/// The first import cycle (depth first from the entry), reported at the
/// import that closes it.
fn find_cycle(
    program: &Program,
    edges: &[Vec<(usize, Span)>],
    sources: &SourceMap,
) -> Option<Diagnostic> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Active,
        Done,
    }
    let n = program.modules.len();
    let mut state = vec![State::New; n];
    // Iterative DFS: (module, next edge index); the stack is the current path.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    state[0] = State::Active;
    while let Some(&mut (m, ref mut i)) = stack.last_mut() {
        if *i < edges[m].len() {
            let (j, span) = edges[m][*i];
            *i += 1;
            match state[j] {
                State::New => {
                    state[j] = State::Active;
                    stack.push((j, 0));
                }
                State::Active => {
                    let from = stack.iter().position(|&(k, _)| k == j).unwrap_or(0);
                    let mut files: Vec<String> = stack[from..]
                        .iter()
                        .map(|&(k, _)| sources.get(program.modules[k].file).name.clone())
                        .collect();
                    files.push(sources.get(program.modules[j].file).name.clone());
                    return Some(ImportCycle { span, files }.to_diagnostic());
                }
                State::Done => {}
            }
        } else {
            state[m] = State::Done;
            stack.pop();
        }
    }
    None
}

crate::diagnostic_kinds! {
    /// An error in the module graph (the program's files and imports).
    pub enum GraphError {
        MissingModule,
        ImportCycle,
        StdModuleName,
    }
}

/// `import Chat.Rooms` where `chat/rooms.snow` does not exist (or cannot be read).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingModule {
    pub span: Span,
    pub module: String,
    /// The file looked for.
    pub file: String,
    /// Why it could not be read.
    pub why: String,
}

impl Kind for MissingModule {
    const CODE: Code = Code("E0043");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the file of an imported module is missing",
        text: "A module is a file: `import Chat.Rooms` reads `chat/rooms.snow` in the folder \
               of the program's entry file (each segment of the name in snake_case). The \
               file must exist and be readable UTF-8. Std modules (`String`, `List`, `Ws`, \
               ...) need no file.",
        wrong: r#"
import Util

fn main() = println(Util.greeting())
"#,
        right: r#"
import Util

fn main() = println(Util.greeting())

# file: util.snow
pub fn greeting() = "hello"
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!(
                "cannot find module {}: no file {} ({})",
                self.module, self.file, self.why
            ),
        )
        .with_label(format!("looked for {}", self.file))
        .with_help(
            "a module `A.B` is the file `a/b.snow` in the folder of the entry file; \
             std modules need no import",
        )
    }
}

/// Modules importing each other in a circle.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportCycle {
    /// The import that closes the cycle.
    pub span: Span,
    /// The files of the cycle, the first repeated at the end.
    pub files: Vec<String>,
}

impl Kind for ImportCycle {
    const CODE: Code = Code("E0044");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "modules import each other in a cycle",
        text: "The imports of a program must form no cycle: a module can use another only \
               if that one does not (directly or through others) import it back. Move what \
               both need into a third module that imports neither.",
        wrong: r#"
import A

fn main() = println(A.name())

# file: a.snow
import B
pub fn name() = "a"
pub fn both() = B.name()

# file: b.snow
import A
pub fn name() = "b"
pub fn other() = A.name()
"#,
        right: r#"
import A

fn main() = println(A.name())

# file: a.snow
import B
pub fn name() = "a"
pub fn both() = B.name()

# file: b.snow
pub fn name() = "b"
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("import cycle: {}", self.files.join(" -> ")),
        )
        .with_label("this import closes the cycle")
        .with_help("move what the modules share into a module that imports neither")
    }
}

/// A user module named like a std module.
#[derive(Clone, Debug, PartialEq)]
pub struct StdModuleName {
    pub span: Span,
    /// The std name (`List`).
    pub module: String,
    /// The user's file of that name.
    pub file: String,
}

impl Kind for StdModuleName {
    const CODE: Code = Code("E0045");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a module may not be named like a std module",
        text: "Std modules (`String`, `List`, `Map`, `Ws`, ...) are reachable everywhere by \
               their names, so a user module may not take one: `import String` always means \
               std's, and a module whose last segment is a std name could not be told apart \
               from it. Rename the file.",
        wrong: r#"
import Text.String

fn main() = println(String.trim(" hi "))

# file: text/string.snow
pub fn shout(s) = s <> "!"
"#,
        right: r#"
import Text.Strings

fn main() = println(Strings.shout(String.trim(" hi ")))

# file: text/strings.snow
pub fn shout(s) = s <> "!"
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!(
                "module {} is a std module; {} cannot be a module of the program",
                self.module, self.file
            ),
        )
        .with_label("std's name")
        .with_help("rename the file (and the import) to a name no std module has")
    }
}

/// Splits an example or test program written as one text into files:
/// lines `# file: path.snow` start a new file; the text before the first
/// marker is the entry file. (Used by `snowc explain` tests and test helpers.)
pub fn split_files(text: &str) -> (String, Vec<(PathBuf, String)>) {
    let mut entry = String::new();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(p) = line.trim_end().strip_prefix("# file: ") {
            files.push((PathBuf::from(p.trim()), String::new()));
            continue;
        }
        match files.last_mut() {
            Some((_, t)) => t.push_str(line),
            None => entry.push_str(line),
        }
    }
    (entry, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_files() {
        assert_eq!(
            module_file(&["Chat", "Rooms"]),
            PathBuf::from("chat/rooms.snow")
        );
        assert_eq!(
            module_file(&["ChatRooms"]),
            PathBuf::from("chat_rooms.snow")
        );
        assert_eq!(snake_case("HTTPServer"), "h_t_t_p_server");
    }

    #[test]
    fn split() {
        let (e, fs) = split_files("a\n# file: b.snow\nb\n# file: c/d.snow\nd\n");
        assert_eq!(e, "a\n");
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[1].0, PathBuf::from("c/d.snow"));
        assert_eq!(fs[1].1, "d\n");
    }
}
