//! The parser driver: lex, split the token stream into items, parse each item
//! (first with `fast.rs`, which gives the chumsky grammar's tree or gives up,
//! then with the chumsky grammar), and turn chumsky errors into
//! [`SyntaxError`]s (returned rendered, as [`Diagnostic`]s).
//!
//! Splitting into items first gives robust item-level recovery (an error in one
//! function never hides errors in the next) and keeps parsing linear: each
//! item starts at a line beginning with `fn name`, `pub`, `type`, `extern`,
//! `import` or `from`.

mod balance;
mod fast;
pub mod grammar;

use crate::ast::{Expr, ExprKind, FnDef, Item, Module};
use crate::diagnostic::{Diagnostic, Kind};
use crate::errors::{
    Reassignment, ServiceMember, SyntaxError, TooManyErrors, UnexpectedToken, UntypedExternParam,
    WhileLoop,
};
use crate::lexer::{self, TokSpan, Token};
use crate::span::{FileId, Span};
use chumsky::error::{RichPattern, RichReason};
use chumsky::input::Input as _;
use chumsky::prelude::*;

/// At most this many diagnostics are reported per file.
pub const MAX_DIAGNOSTICS: usize = 50;

/// Stack for the parser: one nesting level of the grammar can take more stack
/// than chumsky's own growth check allows for (64 KiB) in debug builds. The
/// nesting limit (`balance::MAX_DEPTH`) keeps real use far below this; pages
/// are only touched when used.
pub(crate) const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Parse one source file. Never panics; always returns a module.
pub fn parse(file: FileId, src: &str) -> (Module, Vec<Diagnostic>) {
    with_stack(|| parse_on_this_stack(file, src, Passes::All))
}

/// [`parse`] without the fast first passes: every item is parsed with rich
/// errors. Gives the same result as [`parse`] (tests check that); only slower.
#[doc(hidden)]
pub fn parse_rich_only(file: FileId, src: &str) -> (Module, Vec<Diagnostic>) {
    with_stack(|| parse_on_this_stack(file, src, Passes::RichOnly))
}

/// [`parse`] without the hand-written first pass (`fast.rs`): chumsky's
/// cheap-error parse, then the rich one. Gives the same result as [`parse`]
/// (tests check that).
#[doc(hidden)]
pub fn parse_chumsky_only(file: FileId, src: &str) -> (Module, Vec<Diagnostic>) {
    with_stack(|| parse_on_this_stack(file, src, Passes::Chumsky))
}

/// For each item of `src` (in source order, items too deeply nested left
/// out): what the hand-written first pass (`fast.rs`) gives, and what
/// chumsky's cheap-error pass gives when it succeeds without any error
/// (else `None`). The invariant tests check: whenever the first is `Some`,
/// it equals the second.
#[doc(hidden)]
pub fn first_passes(file: FileId, src: &str) -> Vec<(Option<Item>, Option<Item>)> {
    with_stack(|| {
        let (toks, _) = lexer::lex(file, src);
        let chunks = split_items(src, &toks);
        type In<'a, F> = chumsky::input::MappedInput<'a, Token, TokSpan, &'a [(Token, TokSpan)], F>;
        let cheap = grammar::item::<In<'_, _>, grammar::FastExtra>(file);
        let mut out = Vec::new();
        for range in &chunks {
            let chunk = &toks[range.clone()];
            if chunk.iter().all(|(t, _)| *t == Token::Newline)
                || balance::too_deep(file, chunk).is_some()
            {
                continue;
            }
            let chunk_end = chunk.last().map_or(0, |(_, s)| s.end);
            let eoi = TokSpan::from(chunk_end..chunk_end);
            let first = fast::item(file, chunk, chunk_end);
            let (o, errs) = cheap
                .parse(chunk.map(eoi, |(t, s)| (t, s)))
                .into_output_errors();
            out.push((first, o.filter(|_| errs.is_empty())));
        }
        out
    })
}

/// Runs `f` with at least [`PARSER_STACK`] of stack: on this thread when it
/// has that much left (the module loader's threads are made with it), else
/// on a new stack (a fresh stack for every file would cost a mapping and
/// fresh pages each time).
fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(PARSER_STACK, PARSER_STACK, f)
}

/// Which parses an item goes through, until one succeeds.
#[derive(Clone, Copy, PartialEq)]
enum Passes {
    /// The hand-written parser, chumsky's cheap-error parse, the rich parse.
    All,
    /// chumsky's cheap-error parse, the rich parse.
    Chumsky,
    /// The rich parse only.
    RichOnly,
}

fn parse_on_this_stack(file: FileId, src: &str, passes: Passes) -> (Module, Vec<Diagnostic>) {
    let (toks, mut errors) = lexer::lex(file, src);
    let chunks = split_items(src, &toks);
    // Regions where parse errors are consequences of a lexical error: the rest
    // of the line after a bad character, everything after an unterminated string.
    let shadows: Vec<std::ops::Range<usize>> = errors
        .iter()
        .map(|e| {
            let start = e.span().start as usize;
            if let SyntaxError::UnterminatedString(_) = e {
                start..usize::MAX
            } else {
                let eol = src[start.min(src.len())..]
                    .find('\n')
                    .map_or(src.len(), |i| start + i);
                start..eol
            }
        })
        .collect();

    let cx = ChunkCx {
        file,
        src,
        toks: &toks,
        chunks: &chunks,
        shadows: &shadows,
        passes,
    };
    // Items are independent: a large file is parsed on all cores, each thread
    // taking a contiguous run of items; results are joined in source order,
    // so the output is the same as a sequential parse.
    let threads = if chunks.len() >= PARALLEL_MIN_ITEMS {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    } else {
        1
    };
    let per = chunks.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<(Vec<Item>, Vec<SyntaxError>)> = if threads <= 1 {
        vec![cx.parse_range(0..chunks.len())]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..chunks.len())
                .step_by(per)
                .map(|lo| {
                    let range = lo..(lo + per).min(chunks.len());
                    let cx = &cx;
                    std::thread::Builder::new()
                        .stack_size(PARSER_STACK)
                        .spawn_scoped(scope, move || cx.parse_range(range))
                })
                .collect();
            handles
                .into_iter()
                .zip((0..chunks.len()).step_by(per))
                .map(|(h, lo)| match h {
                    Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                    // No thread to be had: parse that run here.
                    Err(_) => cx.parse_range(lo..(lo + per).min(chunks.len())),
                })
                .collect()
        })
    };
    // One item per chunk at most: sized once (an item is 240 bytes).
    let mut items = Vec::with_capacity(chunks.len());
    for (its, es) in results {
        items.extend(its);
        errors.extend(es);
    }
    errors.sort_by_key(|e| {
        let s = e.span();
        (s.start, s.end)
    });
    let mut diags: Vec<Diagnostic> = errors.iter().map(SyntaxError::to_diagnostic).collect();
    dedup_diags(&mut diags);
    if diags.len() > MAX_DIAGNOSTICS {
        let span = diags[MAX_DIAGNOSTICS - 1].span;
        diags.truncate(MAX_DIAGNOSTICS - 1);
        diags.push(TooManyErrors { span }.to_diagnostic());
    }
    (Module { items }, diags)
}

/// Items smaller files than this are parsed on the calling thread.
const PARALLEL_MIN_ITEMS: usize = 512;

/// What parsing one item needs (shared read-only by the parsing threads).
struct ChunkCx<'a> {
    file: FileId,
    src: &'a str,
    toks: &'a [(Token, TokSpan)],
    chunks: &'a [std::ops::Range<usize>],
    shadows: &'a [std::ops::Range<usize>],
    passes: Passes,
}

impl ChunkCx<'_> {
    /// Parse the items `range` (indices into `chunks`) in order.
    fn parse_range(&self, range: std::ops::Range<usize>) -> (Vec<Item>, Vec<SyntaxError>) {
        let ChunkCx {
            file,
            src,
            toks,
            chunks,
            shadows,
            passes,
        } = *self;
        type In<'a, F> = chumsky::input::MappedInput<'a, Token, TokSpan, &'a [(Token, TokSpan)], F>;
        // The chumsky grammars are built when first needed: building one
        // costs about as much as parsing a small file with `fast.rs` (a
        // program of a thousand small modules spent 14 % of `snowc check`
        // building grammars that no item needed).
        let mut cheap = None;
        let mut rich = None;
        let mut items = Vec::with_capacity(range.len());
        let mut diags = Vec::new();
        for ci in range {
            let range = &chunks[ci];
            let chunk = &toks[range.clone()];
            if chunk.iter().all(|(t, _)| *t == Token::Newline) {
                continue;
            }
            let chunk_start = chunk[0].1.start as usize;
            let chunk_end = chunk
                .last()
                .map(|(_, s)| s.end as usize)
                .unwrap_or(chunk_start);
            // What follows the chunk, to describe "end of input" in messages.
            let next = chunks
                .get(ci + 1)
                .and_then(|r| toks.get(r.start))
                .map(|(t, s)| (t.clone(), *s));

            if let Some(d) = balance::too_deep(file, chunk) {
                diags.push(d);
                items.push(error_item(file, chunk_start, chunk_end));
                continue;
            }

            let eoi = TokSpan::from(chunk_end as u32..chunk_end as u32);
            // Fast path: most items are well-formed, and chumsky's rich-error
            // bookkeeping dominates parsing time. Only an item whose cheap parse
            // reports an error is parsed again for diagnostics (and recovery).
            if passes == Passes::All {
                if let Some(item) = fast::item(file, chunk, chunk_end as u32) {
                    items.push(item);
                    continue;
                }
            }
            if passes != Passes::RichOnly {
                let (out, errs) = cheap
                    .get_or_insert_with(|| grammar::item::<In<'_, _>, grammar::FastExtra>(file))
                    .parse(chunk.map(eoi, |(t, s)| (t, s)))
                    .into_output_errors();
                if let (Some(item), true) = (out, errs.is_empty()) {
                    items.push(item);
                    continue;
                }
            }
            let input = chunk.map(eoi, |(t, s)| (t, s));
            let (out, errs) = rich
                .get_or_insert_with(|| grammar::item::<In<'_, _>, grammar::Extra<'_>>(file))
                .parse(input)
                .into_output_errors();
            let mut chunk_diags: Vec<SyntaxError> = Vec::new();
            if !errs.is_empty() {
                let unclosed = balance::unclosed(file, src, chunk);
                let mut errs = errs;
                let in_string = shadows
                    .iter()
                    .any(|r| r.end == usize::MAX && r.start >= chunk_start && r.start <= chunk_end);
                if let Some(d) = unclosed.filter(|_| !in_string) {
                    // Errors at the end of the item are consequences of the missing `end`.
                    errs.retain(|e| e.found().is_some() && (e.span().start as usize) < chunk_end);
                    chunk_diags.push(d);
                }
                let brackets = OpenBrackets::new(chunk);
                for e in errs {
                    let d = convert_error(file, &e, &brackets, next.as_ref(), src.len());
                    let pos = d.span().start as usize;
                    if !shadows.iter().any(|r| r.contains(&pos)) {
                        chunk_diags.push(d);
                    }
                }
            }
            // Every error is reported: the grammar recovers at the next
            // statement (or arm), and the lexer ends an unclosed bracket at
            // its line, so an error does not cascade into the next lines.
            diags.extend(chunk_diags);
            match out {
                Some(item) => items.push(item),
                None => items.push(error_item(file, chunk_start, chunk_end)),
            }
        }
        (items, diags)
    }
}

fn dedup_diags(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.span.start, d.span.end, d.message.clone())));
}

/// A placeholder for an item that failed to parse, so later stages can skip it:
/// a function named `<error>` whose body is an `Error` expression.
fn error_item(file: FileId, start: usize, end: usize) -> Item {
    let span = Span::new(file, start, end);
    Item::Fn(FnDef {
        public: false,
        name: crate::ast::Ident {
            name: "<error>".into(),
            span,
        },
        params: Vec::new(),
        ret: None,
        body: Expr {
            kind: ExprKind::Error,
            span,
        },
        span,
    })
}

/// The indentation (spaces and tabs) of the line holding byte `pos`.
fn line_indent(src: &str, pos: usize) -> usize {
    let bytes = src.as_bytes();
    let pos = pos.min(bytes.len());
    let start = bytes[..pos]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[start..]
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()
}

/// Is the byte at `pos` the first non-blank character of its line?
fn at_line_start(src: &str, pos: usize) -> bool {
    let bytes = src.as_bytes();
    let mut i = pos.min(bytes.len());
    while i > 0 {
        match bytes[i - 1] {
            b'\n' => return true,
            b' ' | b'\t' | b'\r' => i -= 1,
            _ => return false,
        }
    }
    true
}

/// Split the tokens into item chunks: a new item starts at a line beginning
/// with `pub`, `type`, `extern`, `import`, `from`, or `fn <name>`.
fn split_items(src: &str, toks: &[(Token, TokSpan)]) -> Vec<std::ops::Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    // Inside a `service` item (the indentation of its line): its `fn init`
    // starts no item unless indented no more than the service.
    let mut service_indent: Option<usize> = None;
    for i in 0..toks.len() {
        let (t, s) = &toks[i];
        let starts_item = match t {
            Token::Pub
            | Token::Type
            | Token::Extern
            | Token::Import
            | Token::Struct
            | Token::Service => true,
            Token::From => matches!(toks.get(i + 1), Some((Token::Upper(_), _))),
            Token::Fn => matches!(toks.get(i + 1), Some((Token::Lower(_), _))),
            _ => false,
        };
        // `pub extern fn`: split only at the first keyword.
        let prev_is_item_kw = i > 0 && matches!(toks[i - 1].0, Token::Pub | Token::Extern);
        let at_start = starts_item && !prev_is_item_kw && at_line_start(src, s.start as usize);
        if at_start && *t == Token::Fn {
            if let Some(indent) = service_indent {
                if line_indent(src, s.start as usize) > indent {
                    continue;
                }
            }
        }
        if at_start {
            service_indent = None;
        }
        if at_start && i > start {
            chunks.push(start..i);
            start = i;
        }
        if *t == Token::Service && (i == start || prev_is_item_kw) {
            service_indent = Some(line_indent(src, s.start as usize));
        }
    }
    if start < toks.len() {
        chunks.push(start..toks.len());
    }
    chunks
}

/// Short description of an expected pattern, `None` to leave it out of the list.
fn describe_pattern(p: &RichPattern<'_, Token>) -> Option<String> {
    Some(match p {
        RichPattern::Token(t) => {
            let t: &Token = t;
            match t {
                // Operators that could continue an expression are noise in
                // "expected ..." lists.
                t if t.is_binary_operator() || *t == Token::Dot => return None,
                Token::Newline => "a new line".into(),
                Token::StrStart => "a string".into(),
                t => format!("'{}'", t.text()),
            }
        }
        RichPattern::Label(l) => l.to_string(),
        RichPattern::Identifier(s) => format!("'{s}'"),
        RichPattern::Any => "more input".into(),
        RichPattern::SomethingElse => return None,
        RichPattern::EndOfInput => "the end of the item".into(),
        _ => return None,
    })
}

fn found_text(t: &Token) -> String {
    match t {
        Token::Newline => "end of line".into(),
        Token::Lower(s) => format!("name '{s}'"),
        Token::Upper(s) => format!("name '{s}'"),
        Token::Int(n) => format!("number {n}"),
        Token::Float(x) => format!("number {x:?}"),
        Token::StrStart | Token::StrEnd | Token::StrChunk(_) => "string".into(),
        Token::InterpStart => "'${'".into(),
        Token::InterpEnd => "'}'".into(),
        t if t.text().chars().all(|c| c.is_ascii_lowercase()) => format!("keyword '{}'", t.text()),
        t => format!("token '{}'", t.text()),
    }
}

fn convert_error(
    file: FileId,
    e: &Rich<'_, Token, TokSpan>,
    brackets: &OpenBrackets,
    next: Option<&(Token, TokSpan)>,
    src_len: usize,
) -> SyntaxError {
    let span = *e.span();
    match e.reason() {
        RichReason::Custom(msg) => {
            let span = Span::new(file, span.start as usize, span.end as usize);
            if let Some(name) = msg.strip_prefix(grammar::UNTYPED_EXTERN_PARAM) {
                UntypedExternParam {
                    span,
                    name: name.to_string(),
                }
                .into()
            } else if let Some(name) = msg.strip_prefix(grammar::REASSIGNMENT) {
                Reassignment {
                    span,
                    name: name.to_string(),
                }
                .into()
            } else if let Some(found) = msg.strip_prefix(grammar::SERVICE_MEMBER) {
                ServiceMember {
                    span,
                    found: found.to_string(),
                }
                .into()
            } else if msg == grammar::WHILE_LOOP {
                WhileLoop { span }.into()
            } else {
                // The grammar raises no other custom error.
                UnexpectedToken {
                    span,
                    found: msg.clone(),
                    expected: Vec::new(),
                    unclosed: None,
                }
                .into()
            }
        }
        RichReason::ExpectedFound { .. } => {
            let (found, span) = match e.found() {
                Some(t) => (found_text(t), span),
                None => match next {
                    Some((t, s)) => (found_text(t), *s),
                    None => (
                        "end of file".to_string(),
                        TokSpan::from(src_len as u32..src_len as u32),
                    ),
                },
            };
            let mut expected: Vec<String> = Vec::new();
            for p in e.expected() {
                if let Some(d) = describe_pattern(p) {
                    if !expected.contains(&d) {
                        expected.push(d);
                    }
                }
            }
            // A call's '(' is noise next to other options.
            if expected.len() > 1 {
                expected.retain(|s| s != "'('");
            }
            // Labels (an expression, a type) first, then tokens.
            expected.sort_by_key(|s| !s.starts_with('a'));
            expected.truncate(6);
            let at_line_end = e.found() == Some(&Token::Newline);
            let unclosed = brackets
                .unclosed(span.start as usize, &expected, at_line_end)
                .map(|(t, s)| {
                    (
                        Span::new(file, s.start as usize, s.end as usize),
                        t.text().to_string(),
                    )
                });
            UnexpectedToken {
                span: Span::new(file, span.start as usize, span.end as usize),
                found,
                expected,
                unclosed,
            }
            .into()
        }
    }
}

/// For each token of an item, the innermost `(` or `[` open before it and
/// whether a block opened or closed after that bracket: computed once per
/// item with errors, so that each error looks it up in logarithmic time.
struct OpenBrackets {
    before: Vec<BracketState>,
}

/// (token start, the bracket open before the token, whether a block opened
/// inside that bracket).
type BracketState = (usize, Option<(Token, TokSpan)>, bool);

impl OpenBrackets {
    fn new(chunk: &[(Token, TokSpan)]) -> OpenBrackets {
        let mut stack: Vec<(Token, TokSpan, bool)> = Vec::new();
        let mut before = Vec::with_capacity(chunk.len());
        for (t, s) in chunk {
            let top = stack.last().map(|(t, s, b)| (Some((t.clone(), *s)), *b));
            let (open, block) = top.unwrap_or((None, false));
            before.push((s.start as usize, open, block));
            match t {
                Token::LParen | Token::LBracket => stack.push((t.clone(), *s, false)),
                Token::RParen | Token::RBracket => {
                    stack.pop();
                }
                Token::Do | Token::End | Token::Arrow => {
                    if let Some(top) = stack.last_mut() {
                        top.2 = true;
                    }
                }
                _ => {}
            }
        }
        // The state after the last token, for errors at the end of the item.
        let top = stack.last().map(|(t, s, b)| (Some((t.clone(), *s)), *b));
        let (open, block) = top.unwrap_or((None, false));
        before.push((usize::MAX, open, block));
        OpenBrackets { before }
    }

    /// The innermost `(` or `[` still open before `pos`, when the error
    /// expected its closing bracket, or is at the end of a line with it open
    /// (a newline inside a bracket is only kept when the bracket is never
    /// closed, see `lexer::filter_newlines`), unless a block opened inside.
    fn unclosed(
        &self,
        pos: usize,
        expected: &[String],
        at_line_end: bool,
    ) -> Option<(Token, TokSpan)> {
        // The first token starting at or after `pos`: the state before it.
        let i = self.before.partition_point(|(start, _, _)| *start < pos);
        let (_, open, block_inside) = self.before.get(i)?;
        let (t, s) = open.clone()?;
        let closer = if t == Token::LParen { "')'" } else { "']'" };
        let expects_closer = expected.iter().any(|e| e == closer);
        (expects_closer || (at_line_end && !block_inside)).then_some((t, s))
    }
}
