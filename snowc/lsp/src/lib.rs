//! `snowc lsp`: the Snow language server (Language Server Protocol over
//! stdin/stdout), on `lsp-server` + `lsp-types`, the crates rust-analyzer
//! is built on (docs/ARCHITECTURE.md says why).
//!
//! Threads:
//! - the **main loop** reads every message, keeps the open documents
//!   (incremental sync), and never computes anything itself: a change bumps
//!   the revision and queues an analysis; a request goes to a worker with
//!   the documents as they are at that revision;
//! - the **analysis thread** takes the latest queued revision (older ones
//!   are skipped), analyses the programs of the changed files as `snowc
//!   check` would, stores the result and publishes the diagnostics (unless
//!   a newer revision arrived meanwhile);
//! - **request workers** answer: formatting and completion from the text,
//!   hover and definition from the analysis of their revision (they wait for
//!   it; a request overtaken by an edit is answered `ContentModified`, a
//!   cancelled one `RequestCancelled`). A panic in any of them becomes an
//!   error reply or a log line: the server keeps answering.

pub mod analysis;
pub mod completion;
pub mod queries;
pub mod signature;
pub mod text;

use analysis::{Analysis, Docs};
use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::*;
use snowc_syntax::{Severity, Span};
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use text::LineIndex;

/// Serve on stdin/stdout until the client exits; the exit status.
pub fn run() -> i32 {
    let (conn, io) = Connection::stdio();
    let status = match serve(conn) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("snowc lsp: {e}");
            1
        }
    };
    let _ = io.join();
    status
}

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..Default::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct State {
    docs: Arc<Docs>,
    rev: u64,
    /// The revision of the last finished analysis round.
    analyzed: u64,
    /// Per entry file: its latest analysis and the revision it saw.
    analyses: HashMap<PathBuf, (u64, Arc<Analysis>)>,
    /// The URIs each entry last published diagnostics for.
    published: HashMap<PathBuf, HashSet<Url>>,
    cancelled: HashSet<RequestId>,
    /// The workspace folder (std files are looked for under it).
    root: Option<PathBuf>,
}

struct Shared {
    state: Mutex<State>,
    analyzed: Condvar,
    sender: Sender<Message>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn send(&self, m: Message) {
        let _ = self.sender.send(m);
    }
}

struct Job {
    rev: u64,
    docs: Arc<Docs>,
    paths: Vec<PathBuf>,
}

struct Task {
    req: Request,
    rev: u64,
    docs: Arc<Docs>,
}

/// The protocol over an established connection (tests use an in-memory
/// one). Returns when the client has shut the server down and exited, or
/// closed the connection.
pub fn serve(conn: Connection) -> Result<(), BoxError> {
    let caps = serde_json::to_value(capabilities())?;
    let init = conn.initialize(caps)?;
    let init: InitializeParams = serde_json::from_value(init).unwrap_or_default();
    #[allow(deprecated)]
    let root = init
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or(init.root_uri.clone())
        .and_then(|u| u.to_file_path().ok());
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            docs: Arc::new(Docs::new()),
            rev: 0,
            analyzed: 0,
            analyses: HashMap::new(),
            published: HashMap::new(),
            cancelled: HashSet::new(),
            root,
        }),
        analyzed: Condvar::new(),
        sender: conn.sender.clone(),
    });
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (task_tx, task_rx) = crossbeam_channel::unbounded::<Task>();
    let mut threads = Vec::new();
    {
        let shared = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("analysis".into())
                .stack_size(256 << 20)
                .spawn(move || analysis_loop(&shared, job_rx))?,
        );
    }
    for i in 0..2 {
        let shared = shared.clone();
        let rx = task_rx.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("requests-{i}"))
                .stack_size(64 << 20)
                .spawn(move || worker_loop(&shared, rx))?,
        );
    }
    drop(task_rx);
    let result = main_loop(&conn, &shared, &job_tx, &task_tx);
    drop(job_tx);
    drop(task_tx);
    {
        // Wake workers waiting for an analysis that will not come.
        let mut st = shared.lock();
        st.analyzed = u64::MAX;
        shared.analyzed.notify_all();
    }
    for t in threads {
        let _ = t.join();
    }
    result
}

fn path_of(uri: &Url) -> Option<PathBuf> {
    uri.to_file_path().ok()
}

fn main_loop(
    conn: &Connection,
    shared: &Arc<Shared>,
    jobs: &Sender<Job>,
    tasks: &Sender<Task>,
) -> Result<(), BoxError> {
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req)? {
                    return Ok(());
                }
                let (rev, docs) = {
                    let st = shared.lock();
                    (st.rev, st.docs.clone())
                };
                let _ = tasks.send(Task { req, rev, docs });
            }
            Message::Response(_) => {}
            Message::Notification(n) => on_notification(shared, jobs, n),
        }
    }
    Ok(())
}

fn on_notification(shared: &Arc<Shared>, jobs: &Sender<Job>, n: Notification) {
    use lsp_types::notification::*;
    let mut changed: Option<PathBuf> = None;
    let mut st = shared.lock();
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                if let Some(path) = path_of(&p.text_document.uri) {
                    Arc::make_mut(&mut st.docs).insert(path.clone(), p.text_document.text);
                    changed = Some(path);
                }
            }
        }
        DidChangeTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                if let Some(path) = path_of(&p.text_document.uri) {
                    let docs = Arc::make_mut(&mut st.docs);
                    let text = docs.entry(path.clone()).or_default();
                    for c in &p.content_changes {
                        text::apply_change(text, c);
                    }
                    changed = Some(path);
                }
            }
        }
        DidSaveTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) {
                changed = path_of(&p.text_document.uri);
            }
        }
        DidCloseTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                if let Some(path) = path_of(&p.text_document.uri) {
                    Arc::make_mut(&mut st.docs).remove(&path);
                    // Its diagnostics go with it.
                    shared.send(publish(p.text_document.uri, Vec::new()));
                }
            }
        }
        Cancel::METHOD => {
            if let Ok(p) = serde_json::from_value::<CancelParams>(n.params) {
                let id: RequestId = match p.id {
                    NumberOrString::Number(n) => n.into(),
                    NumberOrString::String(s) => s.into(),
                };
                st.cancelled.insert(id);
                shared.analyzed.notify_all();
            }
        }
        _ => {}
    }
    if let Some(path) = changed {
        st.rev += 1;
        let _ = jobs.send(Job {
            rev: st.rev,
            docs: st.docs.clone(),
            paths: vec![path],
        });
    }
}

fn publish(uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) -> Message {
    Message::Notification(Notification::new(
        lsp_types::notification::PublishDiagnostics::METHOD.to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    ))
}

fn analysis_loop(shared: &Arc<Shared>, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        // Only the latest revision matters: merge what is queued.
        let mut job = first;
        let mut paths: Vec<PathBuf> = std::mem::take(&mut job.paths);
        while let Ok(mut next) = jobs.try_recv() {
            paths.append(&mut next.paths);
            job = next;
        }
        paths.sort();
        paths.dedup();
        let Job { rev, docs, .. } = job;
        let mut entries: Vec<PathBuf> = Vec::new();
        for p in &paths {
            let e = catch_unwind(AssertUnwindSafe(|| analysis::entry_for(p, &docs)))
                .unwrap_or(p.clone());
            if !entries.contains(&e) {
                entries.push(e);
            }
        }
        for entry in entries {
            let result = catch_unwind(AssertUnwindSafe(|| analysis::analyze(&entry, &docs)));
            let Ok(a) = result else {
                eprintln!("snowc lsp: the analysis of {} panicked", entry.display());
                continue;
            };
            let a = Arc::new(a);
            let mut st = shared.lock();
            if st.rev == rev {
                let diags = diagnostics_by_uri(&a);
                let before = st.published.remove(&entry).unwrap_or_default();
                let mut now = HashSet::new();
                for (uri, ds) in diags {
                    now.insert(uri.clone());
                    shared.send(publish(uri, ds));
                }
                for uri in before.difference(&now) {
                    shared.send(publish(uri.clone(), Vec::new()));
                }
                st.published.insert(entry.clone(), now);
            }
            st.analyses.insert(entry, (rev, a));
        }
        let mut st = shared.lock();
        st.analyzed = st.analyzed.max(rev);
        shared.analyzed.notify_all();
    }
}

/// The diagnostics of an analysis for each user file of its program (an
/// empty list for a file without any, so an editor clears the old ones).
fn diagnostics_by_uri(a: &Analysis) -> Vec<(Url, Vec<lsp_types::Diagnostic>)> {
    let mut out = Vec::new();
    for (path, file) in &a.files {
        let Ok(uri) = Url::from_file_path(path) else {
            continue;
        };
        let text = a.text(*file);
        let idx = LineIndex::new(text);
        let ds = a
            .diagnostics
            .iter()
            .filter(|d| d.span.file == *file)
            .map(|d| to_lsp_diagnostic(a, &idx, d))
            .collect();
        out.push((uri, ds));
    }
    out
}

fn to_lsp_diagnostic(
    a: &Analysis,
    idx: &LineIndex<'_>,
    d: &snowc_syntax::Diagnostic,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if !d.label.is_empty() && d.label != d.message {
        message.push_str(&format!(" ({})", d.label));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: location(a, l.span, None)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: idx.range(d.span.start as usize, d.span.end as usize),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            _ => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.0.to_string())),
        source: Some("snowc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// A span of an analysis as a location: user files by their path, std files
/// in the repository's `std/` (or a copy of the embedded sources).
fn location(a: &Analysis, span: Span, root: Option<&Path>) -> Option<Location> {
    let name = &a.sources.get(span.file).name;
    let path = match name.strip_prefix("std/") {
        Some(rel) => std_path(rel, root)?,
        None => PathBuf::from(name),
    };
    let idx = LineIndex::new(a.text(span.file));
    Some(Location {
        uri: Url::from_file_path(path).ok()?,
        range: idx.range(span.start as usize, span.end as usize),
    })
}

/// Where std file `rel` (`ws/ws.snow`) can be opened: the workspace's or
/// snowc's own repository `std/` when its text is the embedded one, else a
/// copy of the embedded sources in the temporary folder.
pub fn std_path(rel: &str, root: Option<&Path>) -> Option<PathBuf> {
    let files = snowc_types::std_lib::std_files();
    let embedded = files.iter().find(|(r, _)| *r == rel)?.1;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../std");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(r) = root {
        candidates.push(r.join("std"));
    }
    candidates.push(repo);
    for dir in candidates {
        let p = dir.join(rel);
        if std::fs::read_to_string(&p).is_ok_and(|t| t == embedded) {
            return Some(p.canonicalize().unwrap_or(p));
        }
    }
    // A copy, named by a hash of every std file (a newer snowc gets its own).
    let mut h: u64 = 0xcbf29ce484222325;
    for (r, t) in files {
        for b in r.bytes().chain(t.bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    let dir = std::env::temp_dir().join(format!("snowc-std-{h:016x}"));
    let p = dir.join(rel);
    if std::fs::read_to_string(&p).ok().as_deref() != Some(embedded) {
        std::fs::create_dir_all(p.parent()?).ok()?;
        std::fs::write(&p, embedded).ok()?;
    }
    Some(p)
}

fn worker_loop(shared: &Arc<Shared>, tasks: Receiver<Task>) {
    while let Ok(task) = tasks.recv() {
        let id = task.req.id.clone();
        let result = catch_unwind(AssertUnwindSafe(|| handle(shared, &task)));
        let response = match result {
            Ok(Ok(value)) => Response::new_ok(id.clone(), value),
            Ok(Err((code, msg))) => Response::new_err(id.clone(), code as i32, msg),
            Err(_) => Response::new_err(
                id.clone(),
                ErrorCode::InternalError as i32,
                "snowc lsp: internal error (this request panicked)".into(),
            ),
        };
        shared.lock().cancelled.remove(&id);
        shared.send(Message::Response(response));
    }
}

type Reply = Result<serde_json::Value, (ErrorCode, String)>;

fn params<P: serde::de::DeserializeOwned>(req: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn doc_text<'a>(task: &'a Task, uri: &Url) -> Result<(PathBuf, &'a str), (ErrorCode, String)> {
    let path = path_of(uri).ok_or((ErrorCode::InvalidParams, "not a file URI".to_string()))?;
    let text = task.docs.get(&path).ok_or((
        ErrorCode::InvalidParams,
        "the document is not open".to_string(),
    ))?;
    Ok((path, text.as_str()))
}

fn cancelled(shared: &Shared, id: &RequestId) -> bool {
    shared.lock().cancelled.contains(id)
}

/// The analysis of the program of `path` at the task's revision (waiting
/// for it), or the reason there is none.
fn analysis_for(
    shared: &Shared,
    task: &Task,
    path: &Path,
) -> Result<Arc<Analysis>, (ErrorCode, String)> {
    let mut st = shared.lock();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if st.cancelled.contains(&task.req.id) {
            return Err((ErrorCode::RequestCanceled, "cancelled".into()));
        }
        if st.rev > task.rev {
            return Err((ErrorCode::ContentModified, "the document changed".into()));
        }
        if st.analyzed >= task.rev {
            break;
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err((
                ErrorCode::RequestFailed,
                "the analysis did not finish in time".into(),
            ));
        }
        st = shared
            .analyzed
            .wait_timeout(st, deadline - now)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
    let found = st
        .analyses
        .values()
        .filter(|(rev, a)| *rev == task.rev && a.file_id(path).is_some())
        .map(|(_, a)| a.clone())
        .next();
    match found {
        Some(a) => Ok(a),
        None => {
            // Not analysed at this revision (another file changed): do it
            // now, on this worker.
            drop(st);
            let entry = analysis::entry_for(path, &task.docs);
            let a = Arc::new(analysis::analyze(&entry, &task.docs));
            Ok(a)
        }
    }
}

fn handle(shared: &Shared, task: &Task) -> Reply {
    use lsp_types::request::*;
    let req = &task.req;
    if cancelled(shared, &req.id) {
        return Err((ErrorCode::RequestCanceled, "cancelled".into()));
    }
    let root = shared.lock().root.clone();
    match req.method.as_str() {
        Formatting::METHOD => {
            let p: DocumentFormattingParams = params(req)?;
            let (_, text) = doc_text(task, &p.text_document.uri)?;
            match snowc_fmt::format(text) {
                Ok(out) if out == text => Ok(serde_json::json!([])),
                Ok(out) => {
                    let idx = LineIndex::new(text);
                    let edit = TextEdit {
                        range: idx.range(0, text.len()),
                        new_text: out,
                    };
                    Ok(serde_json::to_value(vec![edit]).unwrap_or_default())
                }
                Err(snowc_fmt::Error::Syntax(_)) => Err((
                    ErrorCode::RequestFailed,
                    "snowc fmt: the file does not parse (see its diagnostics)".into(),
                )),
                Err(snowc_fmt::Error::Internal(m)) => {
                    Err((ErrorCode::RequestFailed, format!("snowc fmt: {m}")))
                }
            }
        }
        Completion::METHOD => {
            let p: CompletionParams = params(req)?;
            let (path, text) = doc_text(task, &p.text_document_position.text_document.uri)?;
            let off = LineIndex::new(text).offset(p.text_document_position.position);
            let items = completion::complete(text, off, &path, &task.docs).unwrap_or_default();
            Ok(serde_json::to_value(CompletionResponse::Array(items)).unwrap_or_default())
        }
        HoverRequest::METHOD => {
            let p: HoverParams = params(req)?;
            let (path, text) = doc_text(task, &p.text_document_position_params.text_document.uri)?;
            let off = LineIndex::new(text).offset(p.text_document_position_params.position);
            let a = analysis_for(shared, task, &path)?;
            let Some(file) = a.file_id(&path) else {
                return Ok(serde_json::Value::Null);
            };
            match queries::hover(&a, file, off) {
                Some((md, span)) => {
                    let idx = LineIndex::new(a.text(file));
                    let hover = Hover {
                        contents: HoverContents::Markup(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: md,
                        }),
                        range: Some(idx.range(span.start as usize, span.end as usize)),
                    };
                    Ok(serde_json::to_value(hover).unwrap_or_default())
                }
                None => Ok(serde_json::Value::Null),
            }
        }
        GotoDefinition::METHOD => {
            let p: GotoDefinitionParams = params(req)?;
            let (path, text) = doc_text(task, &p.text_document_position_params.text_document.uri)?;
            let off = LineIndex::new(text).offset(p.text_document_position_params.position);
            let a = analysis_for(shared, task, &path)?;
            let Some(file) = a.file_id(&path) else {
                return Ok(serde_json::Value::Null);
            };
            match queries::definition(&a, file, off).and_then(|s| location(&a, s, root.as_deref()))
            {
                Some(loc) => {
                    Ok(serde_json::to_value(GotoDefinitionResponse::Scalar(loc))
                        .unwrap_or_default())
                }
                None => Ok(serde_json::Value::Null),
            }
        }
        _ => Err((
            ErrorCode::MethodNotFound,
            format!("unsupported request {}", req.method),
        )),
    }
}
