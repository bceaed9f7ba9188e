//! One program analysed as `snowc check` does it: the entry file and the
//! modules it imports (open editor buffers first, the disk otherwise),
//! stopping at syntax and module errors, then type checking against the std
//! module table. Everything the queries need is kept: the source map, the
//! typed program, the table.

use snowc_syntax::graph::{self, Loader};
use snowc_syntax::{Diagnostic, FileId, SourceMap};
use snowc_types::tast::TProgram;
use snowc_types::ModuleTable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The open documents by absolute path (what the editor has, saved or not).
pub type Docs = HashMap<PathBuf, String>;

/// Open buffers over the file system.
struct DocsLoader<'a> {
    docs: &'a Docs,
}

impl Loader for DocsLoader<'_> {
    fn read(&self, path: &Path) -> Result<String, String> {
        match self.docs.get(path) {
            Some(t) => Ok(t.clone()),
            None => graph::FsLoader.read(path),
        }
    }
    fn exists(&self, path: &Path) -> bool {
        self.docs.contains_key(path) || graph::FsLoader.exists(path)
    }
}

pub struct Analysis {
    pub entry: PathBuf,
    pub sources: SourceMap,
    /// The user files of the program (entry first) and their ids.
    pub files: Vec<(PathBuf, FileId)>,
    /// Every diagnostic (of every file, std's included), as `snowc check`.
    pub diagnostics: Vec<Diagnostic>,
    /// The typed program, when the program parsed (type errors or not).
    pub program: Option<TProgram>,
    pub table: Arc<ModuleTable>,
}

impl Analysis {
    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, f)| *f)
    }
    pub fn path_of(&self, file: FileId) -> Option<&Path> {
        self.files
            .iter()
            .find(|(_, f)| *f == file)
            .map(|(p, _)| p.as_path())
    }
    pub fn text(&self, file: FileId) -> &str {
        &self.sources.get(file).text
    }
}

fn read(docs: &Docs, path: &Path) -> Option<String> {
    DocsLoader { docs }.read(path).ok()
}

/// The entry file of the program `path` belongs to: the nearest `main.snow`
/// in its folder or above whose program imports it, else the file itself.
pub fn entry_for(path: &Path, docs: &Docs) -> PathBuf {
    let mut dir = path.parent();
    let mut depth = 0;
    while let Some(d) = dir {
        let main = d.join("main.snow");
        let loader = DocsLoader { docs };
        if main != path
            && loader.exists(&main)
            && program_files(&main, docs).iter().any(|p| p == path)
        {
            return main;
        }
        depth += 1;
        if depth > 6 {
            break;
        }
        dir = d.parent();
    }
    path.to_path_buf()
}

/// The files of the program of `entry` (parsing only).
fn program_files(entry: &Path, docs: &Docs) -> Vec<PathBuf> {
    let Some(text) = read(docs, entry) else {
        return Vec::new();
    };
    let mut sources = SourceMap::default();
    let file = sources.add(entry.display().to_string(), text);
    let (module, _) = snowc_syntax::parse(file, &sources.get(file).text);
    let (program, _) = load_graph(entry, file, module, docs, &mut sources);
    program
        .modules
        .iter()
        .map(|m| PathBuf::from(&sources.get(m.file).name))
        .collect()
}

fn load_graph(
    entry: &Path,
    file: FileId,
    module: snowc_syntax::ast::Module,
    docs: &Docs,
    sources: &mut SourceMap,
) -> (graph::Program, Vec<Diagnostic>) {
    let root = entry.parent().unwrap_or(Path::new("/")).to_path_buf();
    let display_root = root.display().to_string();
    let std_names = snowc_types::std_lib::std_module_names();
    let std_names: Vec<&str> = std_names.iter().map(String::as_str).collect();
    graph::load(
        file,
        module,
        &root,
        &display_root,
        &std_names,
        &DocsLoader { docs },
        sources,
    )
}

/// The std module table and std's source files, loaded once (the files
/// are added first to every analysis' source map, in the same order, so the
/// table's spans are valid there).
pub fn std_table() -> (Arc<ModuleTable>, Arc<Vec<snowc_syntax::SourceFile>>) {
    type Std = (Arc<ModuleTable>, Arc<Vec<snowc_syntax::SourceFile>>);
    static STD: std::sync::OnceLock<Std> = std::sync::OnceLock::new();
    STD.get_or_init(|| {
        let mut sm = SourceMap::default();
        let table = snowc_types::std_lib::load(&mut sm).0;
        (Arc::new(table), Arc::new(sm.files))
    })
    .clone()
}

/// Analyse the program whose entry is `entry`.
pub fn analyze(entry: &Path, docs: &Docs) -> Analysis {
    let (table, std_files) = std_table();
    let mut sources = SourceMap::default();
    // The std files first, as `std_lib::load` adds them (ids 0..n): the
    // table's spans point at them.
    for f in std_files.iter() {
        sources.add(f.name.clone(), f.text.clone());
    }
    let text = read(docs, entry).unwrap_or_default();
    let file = sources.add(entry.display().to_string(), text);
    let (module, mut diags) = snowc_syntax::parse(file, &sources.get(file).text);
    let (program, more) = load_graph(entry, file, module, docs, &mut sources);
    diags.extend(more);
    let files: Vec<(PathBuf, FileId)> = program
        .modules
        .iter()
        .map(|m| (PathBuf::from(&sources.get(m.file).name), m.file))
        .collect();
    let mut analysis = Analysis {
        entry: entry.to_path_buf(),
        sources,
        files,
        diagnostics: Vec::new(),
        program: None,
        table: table.clone(),
    };
    if !diags.is_empty() {
        // As `snowc check`: syntax and module errors stop here.
        analysis.diagnostics = diags;
        return analysis;
    }
    let (typed, diags) = snowc_types::check_program(&table, &analysis.sources, &program);
    analysis.diagnostics = diags;
    analysis.program = Some(typed);
    analysis
}
