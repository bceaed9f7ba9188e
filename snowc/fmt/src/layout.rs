//! The syntax tree to a [`Doc`]: Snow's canonical layout.
//!
//! The tree is the parser's (`snowc_syntax::ast`); what it does not keep is
//! read back from the source through the spans and the token list:
//! - literals are printed as written (`0xFF`, `1_000`, a string with its
//!   escapes and interpolations byte for byte);
//! - sugar the parser removed: a pipe (`x |> f(a)` is a `Call` whose first
//!   argument comes before its callee), `&&`/`||`/`!` versus `and`/`or`/
//!   `not`, `()` versus `nil`, parentheses (a parenthesised expression's
//!   span covers its parentheses), `-> do ... end` arms, `x |> f` versus
//!   `x |> f()`, shorthand fields (`User { name }`);
//! - comments (the gaps between tokens, `snowc_syntax::trivia`) are taken
//!   from a cursor in source order as the printer walks the tree: the ones
//!   before a statement, arm, item, field or argument go on their own lines
//!   before it, the ones after it on its line stay at the end of its line,
//!   the ones before a block's `end` stay at the end of the block; a
//!   comment met anywhere else is printed before the next expression (on a
//!   line of its own, or at the end of the line for a trailing one), so no
//!   comment is ever lost. Blank lines between statements, arms, fields and
//!   comments are kept (at most one); items are separated by exactly one.

use crate::doc::Doc;
use snowc_syntax::ast::*;
use snowc_syntax::lexer::{lex_raw, Token};
use snowc_syntax::trivia::{comments, Comment};
use snowc_syntax::{FileId, Span};

pub const INDENT: usize = 2;

pub struct Layout<'a> {
    src: &'a str,
    /// Every token but newlines: (token, start, end).
    toks: Vec<(Token, usize, usize)>,
    comments: Vec<Comment>,
    /// The next comment not yet printed.
    next: usize,
}

/// One element of a list (statements, arms, arguments, fields...).
struct Elem {
    /// Comments at the end of the line before it (after an opening bracket
    /// or `do`): printed before the line break that precedes it.
    pre: Doc,
    /// Comments before it (on their own lines).
    lead: Doc,
    body: Doc,
    /// Comments after it on its line.
    trail: Doc,
    /// A blank line before it (or before its first comment) in the source.
    blank: bool,
}

fn txt(s: impl Into<String>) -> Doc {
    Doc::text(s)
}

fn cat(ds: Vec<Doc>) -> Doc {
    Doc::concat(ds)
}

/// Binding power of an expression as printed (higher binds tighter); the
/// levels of the parser's precedence chain.
fn prec_of_op(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne => 3,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
        BinOp::Concat => 6,
        BinOp::Add | BinOp::Sub => 7,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 8,
    }
}
const PIPE: u8 = 5;
const UNARY: u8 = 9;
const ATOM: u8 = 10;

fn is_pipe(callee: &Expr, args: &[Expr]) -> bool {
    args.first()
        .is_some_and(|a| a.span.start < callee.span.start)
}

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => prec_of_op(*op),
        ExprKind::Call { callee, args } if is_pipe(callee, args) => PIPE,
        ExprKind::Unary { .. } => UNARY,
        _ => ATOM,
    }
}

impl<'a> Layout<'a> {
    pub fn new(src: &'a str) -> Layout<'a> {
        let (toks, _) = lex_raw(FileId(0), src);
        let toks = toks
            .into_iter()
            .filter(|(t, _)| *t != Token::Newline)
            .map(|(t, s)| (t, s.start as usize, s.end as usize))
            .collect();
        Layout {
            src,
            toks,
            comments: comments(FileId(0), src),
            next: 0,
        }
    }

    // ---- tokens ----

    /// Index of the first token starting at or after `pos`.
    fn tok_index(&self, pos: usize) -> usize {
        self.toks.partition_point(|(_, s, _)| *s < pos)
    }

    fn tok_at(&self, pos: usize) -> Option<&Token> {
        self.toks
            .get(self.tok_index(pos))
            .filter(|(_, s, _)| *s == pos)
            .map(|(t, _, _)| t)
    }

    /// The first token at or after `pos` that is `t`: (start, end).
    fn find(&self, pos: usize, t: &Token) -> Option<(usize, usize)> {
        self.toks[self.tok_index(pos)..]
            .iter()
            .find(|(x, _, _)| x == t)
            .map(|(_, s, e)| (*s, *e))
    }

    /// The first token at or after `pos` that is one of `ts`.
    fn find_any(&self, pos: usize, ts: &[Token]) -> Option<(Token, usize, usize)> {
        self.toks[self.tok_index(pos)..]
            .iter()
            .find(|(x, _, _)| ts.contains(x))
            .cloned()
    }

    /// The last `end` keyword ending at or before `pos`: its start.
    fn end_kw(&self, pos: usize) -> usize {
        let i = self.toks.partition_point(|(_, _, e)| *e <= pos);
        self.toks[..i]
            .iter()
            .rev()
            .find(|(t, _, _)| *t == Token::End)
            .map_or(pos, |(_, s, _)| *s)
    }

    /// Tokens inside `span` (skipping nothing).
    fn toks_in(&self, span: Span) -> &[(Token, usize, usize)] {
        let a = self.tok_index(span.start as usize);
        let b = self
            .toks
            .partition_point(|(_, s, _)| *s < span.end as usize);
        &self.toks[a..b.max(a)]
    }

    /// The first token of `span` that is not `(`.
    fn first_inner(&self, span: Span) -> Option<&(Token, usize, usize)> {
        self.toks_in(span)
            .iter()
            .find(|(t, _, _)| *t != Token::LParen)
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.src[start..end]
    }

    // ---- comments ----

    fn blank_before(&self, pos: usize) -> bool {
        let b = self.src.as_bytes();
        let mut i = pos.min(b.len());
        let mut newlines = 0;
        while i > 0 && b[i - 1].is_ascii_whitespace() {
            if b[i - 1] == b'\n' {
                newlines += 1;
            }
            i -= 1;
        }
        newlines >= 2 && i > 0
    }

    fn peek_before(&self, pos: usize) -> Option<&Comment> {
        self.comments
            .get(self.next)
            .filter(|c| (c.span.start as usize) < pos)
    }

    /// One comment as a document: a trailing one at the end of the current
    /// line, an own-line one on its own line (after a blank line when it had
    /// one and `blank_ok`).
    ///
    /// `keep_line`: a trailing comment keeps its line broken (a comment
    /// after a list element keeps the list one element per line); one met
    /// elsewhere only moves to the end of the line it lands on.
    /// An own-line comment ends with a line break unless `dangling` (the
    /// line closing its list follows).
    fn comment_doc(&self, c: &Comment, blank_ok: bool, keep_line: bool) -> Doc {
        self.comment_doc_end(c, blank_ok, keep_line, false)
    }

    fn comment_doc_end(&self, c: &Comment, blank_ok: bool, keep_line: bool, dangling: bool) -> Doc {
        let text = c.text(self.src).trim_end().to_string();
        if c.trailing {
            let brk = if keep_line {
                Doc::break_parent()
            } else {
                Doc::nil()
            };
            cat(vec![Doc::suffix(format!(" {text}")), brk])
        } else {
            let blank = blank_ok && self.blank_before(c.span.start as usize);
            cat(vec![
                Doc::line_start(),
                if blank { Doc::hard() } else { Doc::nil() },
                txt(text),
                if dangling {
                    Doc::break_parent()
                } else {
                    Doc::hard()
                },
            ])
        }
    }

    /// The comments before `pos`, each on its own line (or at the end of
    /// the current one, for a trailing comment). `first`: nothing precedes
    /// them in their list (no blank line before the first).
    fn leading(&mut self, pos: usize, first: bool) -> Doc {
        let mut out = Vec::new();
        let mut i = 0;
        let mut own_line = false;
        while let Some(c) = self.peek_before(pos).cloned() {
            self.next += 1;
            out.push(self.comment_doc(&c, !(first && i == 0), false));
            own_line = !c.trailing;
            i += 1;
        }
        if own_line && self.blank_before(pos) {
            // A blank line between the comments and what they precede.
            out.push(Doc::hard());
        }
        cat(out)
    }

    /// Comments after `pos` on the same line, with only commas between:
    /// they stay at the end of that line.
    fn trailing(&mut self, pos: usize) -> Doc {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.next).cloned() {
            let cs = c.span.start as usize;
            if cs < pos || self.slice(pos, cs).contains('\n') {
                break;
            }
            let only_commas = self.toks[self.tok_index(pos)..]
                .iter()
                .take_while(|(_, s, _)| *s < cs)
                .all(|(t, _, _)| *t == Token::Comma);
            if !only_commas {
                break;
            }
            self.next += 1;
            out.push(self.comment_doc(&c, false, true));
        }
        cat(out)
    }

    /// Comments before `close` (a block's `end`, a bracket) after the last
    /// element: kept at the end of the list.
    fn dangling(&mut self, close: usize, after_elems: bool) -> Doc {
        let mut out = Vec::new();
        while let Some(c) = self.peek_before(close).cloned() {
            self.next += 1;
            let d = self.comment_doc_end(&c, after_elems || !out.is_empty(), true, true);
            // The caller ends the line.
            out.push(d);
        }
        if out.is_empty() {
            return Doc::nil();
        }
        // No hard break after the last comment: the closing line follows.
        cat(out)
    }

    /// Comments inside an element that no part of it printed (inside a
    /// type, a module path): at the end of the element's line.
    fn leftover(&mut self, end: usize) -> Doc {
        let mut out = Vec::new();
        while let Some(c) = self.peek_before(end).cloned() {
            self.next += 1;
            let text = c.text(self.src).trim_end().to_string();
            out.push(Doc::suffix(format!(" {text}")));
            out.push(Doc::break_parent());
        }
        cat(out)
    }

    /// Skip the comments inside a part printed as written (a string's
    /// interpolations).
    fn skip_comments(&mut self, end: usize) {
        while self.peek_before(end).is_some() {
            self.next += 1;
        }
    }

    fn elems<T>(
        &mut self,
        xs: &[T],
        span: impl Fn(&T) -> Span,
        mut print: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Vec<Elem> {
        let mut out = Vec::with_capacity(xs.len());
        for (i, x) in xs.iter().enumerate() {
            let s = span(x);
            let start = s.start as usize;
            let first_pos = self
                .peek_before(start)
                .map_or(start, |c| c.span.start as usize);
            let blank = i > 0 && self.blank_before(first_pos);
            let mut pre = Vec::new();
            while let Some(c) = self.peek_before(start).filter(|c| c.trailing).cloned() {
                self.next += 1;
                pre.push(self.comment_doc(&c, false, true));
            }
            let lead = self.leading(start, true);
            let body = print(self, x);
            let body = body.then(self.leftover(s.end as usize));
            let trail = self.trailing(s.end as usize);
            out.push(Elem {
                pre: cat(pre),
                lead,
                body,
                trail,
                blank,
            });
        }
        out
    }

    /// Elements one per line (hard breaks), blank lines kept, then the
    /// dangling comments.
    fn lines(&self, elems: Vec<Elem>, dangling: Doc) -> Doc {
        let mut parts = Vec::new();
        for (i, e) in elems.into_iter().enumerate() {
            parts.push(e.pre);
            if i > 0 {
                parts.push(Doc::hard());
                if e.blank {
                    parts.push(Doc::hard());
                }
            }
            parts.push(e.lead);
            parts.push(e.body);
            parts.push(e.trail);
        }
        parts.push(dangling);
        cat(parts)
    }

    /// `open elem, elem, ... close` in a group: flat on one line, or one
    /// element per line. `pad`: spaces inside the brackets when flat.
    fn comma_list(
        &self,
        open: Doc,
        elems: Vec<Elem>,
        dangling: Doc,
        close: &str,
        pad: bool,
    ) -> Doc {
        if elems.is_empty() {
            if dangling.is_nil() {
                return cat(vec![open, txt(close)]);
            }
            return cat(vec![
                open,
                dangling.nest(INDENT),
                Doc::line_start(),
                txt(close),
            ]);
        }
        let brk = || if pad { Doc::line() } else { Doc::softline() };
        let inner = comma_items(elems, brk(), dangling);
        cat(vec![open, inner.nest(INDENT), brk(), txt(close)]).group()
    }

    /// The statements of a block after its header (`do`, `->`, `|state|`)
    /// ending at `header_end`, up to `close` (its `end` or `else`): a
    /// trailing comment of the header, the statements indented, and the
    /// line break before `close`. Line breaks are `Doc::line()`: flat when
    /// the enclosing group is (`if c do a else b end`).
    fn block(&mut self, header_end: usize, stmts: &[Expr], close: usize) -> Doc {
        let trail = self.trailing(header_end);
        let elems = self.elems(stmts, |e| e.span, |f, e| f.expr(e));
        let dangling = self.dangling(close, !stmts.is_empty());
        let body = self.lines(elems, dangling);
        if body.is_nil() {
            return cat(vec![trail, Doc::line()]);
        }
        cat(vec![
            trail,
            cat(vec![Doc::line(), body]).nest(INDENT),
            Doc::line(),
        ])
    }

    // ---- module and items ----

    pub fn module(&mut self, m: &Module) -> Doc {
        let mut parts = Vec::new();
        let mut prev: Option<&Item> = None;
        for it in &m.items {
            let span = item_span(it);
            let start = span.start as usize;
            if let Some(p) = prev {
                parts.push(Doc::hard());
                let first_pos = self
                    .peek_before(start)
                    .map_or(start, |c| c.span.start as usize);
                let grouped = matches!(
                    (p, it),
                    (
                        Item::Import { .. } | Item::FromImport { .. },
                        Item::Import { .. } | Item::FromImport { .. }
                    ) | (Item::Extern(_), Item::Extern(_))
                );
                if !grouped || self.blank_before(first_pos) {
                    parts.push(Doc::hard());
                }
            }
            parts.push(self.leading(start, true));
            parts.push(self.item(it));
            parts.push(self.leftover(span.end as usize));
            parts.push(self.trailing(span.end as usize));
            prev = Some(it);
        }
        let rest = self.dangling(self.src.len() + 1, !m.items.is_empty());
        parts.push(rest);
        parts.push(Doc::hard());
        cat(parts)
    }

    fn item(&mut self, it: &Item) -> Doc {
        match it {
            Item::Fn(f) => self.fn_def(f),
            Item::Extern(x) => {
                let head = cat(vec![
                    txt(if x.public {
                        "pub extern fn "
                    } else {
                        "extern fn "
                    }),
                    txt(&x.name.name),
                ]);
                let params = self.params(&x.params, x.name.span.end as usize, x.span.end as usize);
                cat(vec![head, params, self.ret(&x.ret)])
            }
            Item::Type(t) => self.type_def(t),
            Item::Struct(s) => self.struct_def(s),
            Item::Service(s) => self.service(s),
            Item::Import { path, alias, .. } => {
                let mut d = vec![txt("import "), txt(path.dotted())];
                if let Some(a) = alias {
                    d.push(txt(format!(" as {}", a.name)));
                }
                cat(d)
            }
            Item::FromImport { path, names, span } => {
                let elems = self.elems(names, |n| n.span, |_, n| txt(&n.name));
                let dangling = self.dangling(span.end as usize, true);
                let inner = comma_items(elems, Doc::softline(), dangling);
                // Parentheses as written (always when broken); a list
                // written over several lines in parentheses stays so.
                let parens = self
                    .find(path.span.end as usize, &Token::Import)
                    .and_then(|(_, e)| self.toks.get(self.tok_index(e)))
                    .is_some_and(|(t, _, _)| *t == Token::LParen);
                let (open, close) = if parens {
                    (txt("("), txt(")"))
                } else {
                    (
                        Doc::if_break(txt("("), Doc::nil()),
                        Doc::if_break(txt(")"), Doc::nil()),
                    )
                };
                let d = cat(vec![
                    txt(format!("from {} import ", path.dotted())),
                    open,
                    inner.nest(INDENT),
                    Doc::softline(),
                    close,
                ]);
                if parens && !self.one_line(*span) {
                    d.broken_group()
                } else {
                    d.group()
                }
            }
        }
    }

    fn ret(&self, ret: &Option<TypeExpr>) -> Doc {
        match ret {
            Some(t) => txt(format!(" -> {}", ty(t))),
            None => Doc::nil(),
        }
    }

    /// `(a :: Int, b)`, the `(` being the first token at or after `from`
    /// (a handler may have no parentheses: `()` then).
    fn params(&mut self, ps: &[Param], from: usize, limit: usize) -> Doc {
        let opens = self
            .toks
            .get(self.tok_index(from))
            .is_some_and(|(t, _, _)| *t == Token::LParen);
        let close = if opens {
            self.find(
                ps.last().map_or(from, |p| p.span.end as usize),
                &Token::RParen,
            )
            .map_or(limit, |(s, _)| s)
        } else {
            from
        };
        let elems = self.elems(ps, |p| p.span, |f, p| f.param(p));
        let dangling = self.dangling(close, true);
        self.comma_list(txt("("), elems, dangling, ")", false)
    }

    fn param(&mut self, p: &Param) -> Doc {
        match &p.ty {
            Some(t) => txt(format!("{} :: {}", p.name.name, ty(t))),
            None => txt(&p.name.name),
        }
    }

    fn fn_def(&mut self, f: &FnDef) -> Doc {
        let head = cat(vec![
            txt(if f.public { "pub fn " } else { "fn " }),
            txt(&f.name.name),
        ]);
        let params = self.params(&f.params, f.name.span.end as usize, f.span.end as usize);
        let ret = self.ret(&f.ret);
        let body_start = f.body.span.start as usize;
        match &f.body.kind {
            ExprKind::Block(stmts) if self.tok_at(body_start) == Some(&Token::Do) => {
                let end = self.end_kw(f.body.span.end as usize);
                let block = self.block(body_start + 2, stmts, end);
                cat(vec![
                    head,
                    params,
                    ret,
                    txt(" do"),
                    block.broken_group(),
                    txt("end"),
                ])
            }
            _ => {
                let header = cat(vec![head, params, ret, txt(" =")]);
                let v = self.expr(&f.body);
                // A collection stays on the head's line; an `if` or `case`
                // goes to the next line when it does not fit.
                let block = self.block_like(&f.body)
                    && !matches!(
                        f.body.kind,
                        ExprKind::If { .. } | ExprKind::Case { .. } | ExprKind::For { .. }
                    );
                rhs(header, v, block)
            }
        }
    }

    /// `header value` where header ends with `=` (a `let`, a one-line
    /// function): a long operator chain goes to the next line, indented.
    fn binding(&mut self, header: Doc, value: &Expr) -> Doc {
        let chain = matches!(&value.kind, ExprKind::Binary { .. })
            || matches!(&value.kind, ExprKind::Call { callee, args } if is_pipe(callee, args));
        let v = self.expr(value);
        if chain && !self.parens(value) {
            rhs(header, v, false)
        } else {
            cat(vec![header, txt(" "), v])
        }
    }

    /// An `if`, `case`, `for` or closure (not in parentheses): starts on
    /// the line of what comes before it (`x -> case y do`).
    fn block_like(&self, e: &Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::If { .. }
                | ExprKind::Case { .. }
                | ExprKind::For { .. }
                | ExprKind::Lambda { .. }
                | ExprKind::List(_)
                | ExprKind::Cons { .. }
                | ExprKind::Tuple(_)
                | ExprKind::StructLit { .. }
        ) && !self.parens(e)
    }

    fn type_params(params: &[Ident]) -> String {
        if params.is_empty() {
            String::new()
        } else {
            let ps: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            format!("<{}>", ps.join(", "))
        }
    }

    fn type_def(&mut self, t: &TypeDef) -> Doc {
        let head = format!(
            "{}type {}{}",
            if t.public { "pub " } else { "" },
            t.name.name,
            Self::type_params(&t.params)
        );
        if t.opaque {
            return txt(head);
        }
        let do_end = self
            .find(t.name.span.end as usize, &Token::Do)
            .map_or(t.name.span.end as usize, |(_, e)| e);
        let end = self.end_kw(t.span.end as usize);
        let trail = self.trailing(do_end);
        let elems = self.elems(
            &t.variants,
            |v| v.span,
            |_, v| {
                if v.fields.is_empty() {
                    txt(&v.name.name)
                } else {
                    let fs: Vec<String> = v.fields.iter().map(ty).collect();
                    txt(format!("{}({})", v.name.name, fs.join(", ")))
                }
            },
        );
        let dangling = self.dangling(end, !t.variants.is_empty());
        self.do_lines(txt(head), trail, elems, dangling)
    }

    /// `head do` lines `end`, always broken.
    fn do_lines(&self, head: Doc, trail: Doc, elems: Vec<Elem>, dangling: Doc) -> Doc {
        let body = self.lines(elems, dangling);
        let inner = if body.is_nil() {
            Doc::nil()
        } else {
            cat(vec![Doc::hard(), body]).nest(INDENT)
        };
        cat(vec![
            head,
            txt(" do"),
            trail,
            inner,
            Doc::hard(),
            txt("end"),
        ])
    }

    fn struct_def(&mut self, s: &StructDef) -> Doc {
        let head = format!(
            "{}struct {}{}",
            if s.public { "pub " } else { "" },
            s.name.name,
            Self::type_params(&s.params)
        );
        let do_end = self
            .find(s.name.span.end as usize, &Token::Do)
            .map_or(s.name.span.end as usize, |(_, e)| e);
        let end = self.end_kw(s.span.end as usize);
        let trail = self.trailing(do_end);
        let elems = self.elems(
            &s.fields,
            |f| f.span,
            |_, f| txt(format!("{} :: {}", f.name.name, ty(&f.ty))),
        );
        let dangling = self.dangling(end, !s.fields.is_empty());
        self.do_lines(txt(head), trail, elems, dangling)
    }

    fn service(&mut self, s: &ServiceDef) -> Doc {
        let head = format!(
            "{}service {}",
            if s.public { "pub " } else { "" },
            s.name.name
        );
        let do_end = self
            .find(s.name.span.end as usize, &Token::Do)
            .map_or(s.name.span.end as usize, |(_, e)| e);
        let end = self.end_kw(s.span.end as usize);
        let trail = self.trailing(do_end);
        enum Member<'m> {
            Init(&'m FnDef),
            Handler(&'m Handler),
        }
        let mut members: Vec<(Span, Member)> = Vec::new();
        if let Some(f) = &s.init {
            members.push((f.span, Member::Init(f)));
        }
        for h in &s.handlers {
            members.push((h.span, Member::Handler(h)));
        }
        members.sort_by_key(|(sp, _)| sp.start);
        let elems = self.elems(
            &members,
            |(sp, _)| *sp,
            |f, (_, m)| match m {
                Member::Init(d) => f.fn_def(d),
                Member::Handler(h) => f.handler(h),
            },
        );
        let dangling = self.dangling(end, !members.is_empty());
        self.do_lines(txt(head), trail, elems, dangling)
    }

    fn handler(&mut self, h: &Handler) -> Doc {
        let kw = match h.kind {
            HandlerKind::Call => "call ",
            HandlerKind::Cast => "cast ",
        };
        let params = self.params(&h.params, h.name.span.end as usize, h.span.end as usize);
        let reply = match &h.reply {
            Some(t) => txt(format!(" :: {}", ty(t))),
            None => Doc::nil(),
        };
        let bar_end = self
            .find(h.state.span.end as usize, &Token::Bar)
            .map_or(h.state.span.end as usize, |(_, e)| e);
        let state = txt(format!(" do |{}|", self.param_text(&h.state)));
        let end = self.end_kw(h.span.end as usize);
        let stmts = block_stmts(&h.body);
        let block = self.block(bar_end, stmts, end);
        cat(vec![
            txt(kw),
            txt(&h.name.name),
            params,
            reply,
            state,
            block.broken_group(),
            txt("end"),
        ])
    }

    fn param_text(&self, p: &Param) -> String {
        match &p.ty {
            Some(t) => format!("{} :: {}", p.name.name, ty(t)),
            None => p.name.name.clone(),
        }
    }

    // ---- expressions ----

    /// Is `e` in parentheses in the source? (A parenthesised expression's
    /// span covers its parentheses.)
    fn parens(&self, e: &Expr) -> bool {
        let s = e.span.start as usize;
        if self.tok_at(s) != Some(&Token::LParen) {
            return false;
        }
        match &e.kind {
            ExprKind::Binary { lhs, .. } => lhs.span.start as usize > s,
            ExprKind::Call { callee, args } => {
                let first = args
                    .first()
                    .map_or(callee.span.start, |a| a.span.start.min(callee.span.start));
                first as usize > s
            }
            ExprKind::Field { expr, .. } => expr.span.start as usize > s,
            ExprKind::Tuple(es) => {
                let first = es.first().map_or(e.span.end, |x| x.span.start) as usize;
                self.toks[self.tok_index(s)..]
                    .iter()
                    .take_while(|(_, a, _)| *a < first)
                    .filter(|(t, _, _)| *t == Token::LParen)
                    .count()
                    >= 2
            }
            ExprKind::Nil => self.toks_in(e.span).len() > 2,
            // An arm's body of several lines (no `do`) starts where its
            // first statement starts, which may be a `(`.
            ExprKind::Block(stmts) => stmts.first().is_some_and(|x| x.span.start as usize > s),
            _ => true,
        }
    }

    /// `e` with parentheses when it binds looser than `min` (and the source
    /// had none: those are kept anyway).
    fn expr_min(&mut self, e: &Expr, min: u8) -> Doc {
        let d = self.expr(e);
        if prec(e) < min && !self.parens(e) {
            cat(vec![txt("("), d, txt(")")])
        } else {
            d
        }
    }

    pub fn expr(&mut self, e: &Expr) -> Doc {
        // A comment found inside an expression (not before a statement,
        // argument or element): before the expression, so none is lost.
        let lead = if self.peek_before(e.span.start as usize).is_some() {
            self.leading(e.span.start as usize, true)
        } else {
            Doc::nil()
        };
        let paren = self.parens(e);
        let inner = self.expr_kind(e);
        let d = if paren {
            let close = self.trailing_dangling(e.span.end as usize);
            cat(vec![txt("("), inner, close, txt(")")])
        } else {
            inner
        };
        lead.then(d)
    }

    /// Comments left before the `)` of a parenthesised expression.
    fn trailing_dangling(&mut self, end: usize) -> Doc {
        if self.peek_before(end).is_some() {
            cat(vec![
                self.dangling(end.saturating_sub(1), true),
                Doc::line_start(),
            ])
        } else {
            Doc::nil()
        }
    }

    fn literal(&self, e: &Expr) -> Doc {
        match self.first_inner(e.span) {
            Some((_, s, end)) => txt(self.slice(*s, *end)),
            None => txt(self.slice(e.span.start as usize, e.span.end as usize)),
        }
    }

    fn string(&mut self, span: Span) -> Doc {
        let toks = self.toks_in(span);
        let start = toks
            .iter()
            .find(|(t, _, _)| *t == Token::StrStart)
            .map_or(span.start as usize, |(_, s, _)| *s);
        let end = toks
            .iter()
            .rev()
            .find(|(t, _, _)| *t == Token::StrEnd)
            .map_or(span.end as usize, |(_, _, e)| *e);
        self.skip_comments(end);
        txt(self.slice(start, end))
    }

    fn expr_kind(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) => self.literal(e),
            ExprKind::Str(_) => self.string(e.span),
            ExprKind::Bool(b) => txt(if *b { "true" } else { "false" }),
            ExprKind::Nil => {
                if self
                    .toks_in(e.span)
                    .iter()
                    .any(|(t, _, _)| *t == Token::Nil)
                {
                    txt("nil")
                } else {
                    txt("()")
                }
            }
            ExprKind::Var(id) | ExprKind::Ctor(id) => txt(&id.name),
            ExprKind::QualifiedCtor { module, name } | ExprKind::Qualified { module, name } => {
                txt(format!("{}.{}", module.name, name.name))
            }
            ExprKind::List(items) => {
                let close = self.list_close(e);
                let elems = self.elems(items, |x| x.span, |f, x| f.expr(x));
                let dangling = self.dangling(close, true);
                let commented = !dangling.is_nil()
                    || elems
                        .iter()
                        .any(|e| !e.pre.is_nil() || !e.lead.is_nil() || !e.trail.is_nil());
                if items.len() > 1 && !commented && items.iter().all(simple) {
                    // Short elements fill their lines instead of one per line.
                    let mut parts = Vec::new();
                    let n = elems.len();
                    for (i, el) in elems.into_iter().enumerate() {
                        parts.push(if i + 1 < n {
                            el.body.then(txt(","))
                        } else {
                            el.body
                        });
                        if i + 1 < n {
                            parts.push(Doc::line());
                        }
                    }
                    return cat(vec![
                        txt("["),
                        cat(vec![Doc::softline(), Doc::fill(parts)]).nest(INDENT),
                        Doc::softline(),
                        txt("]"),
                    ])
                    .group();
                }
                self.comma_list(txt("["), elems, dangling, "]", false)
            }
            ExprKind::Cons { items, tail } => {
                let close = self.list_close(e);
                let mut elems = self.elems(items, |x| x.span, |f, x| f.expr(x));
                let t = self.expr(tail);
                if let Some(last) = elems.last_mut() {
                    last.body = cat(vec![last.body.clone(), txt(" | "), t]);
                    let more = self.trailing(tail.span.end as usize);
                    last.trail = cat(vec![last.trail.clone(), more]);
                }
                let dangling = self.dangling(close, true);
                self.comma_list(txt("["), elems, dangling, "]", false)
            }
            ExprKind::Tuple(items) => {
                let close = e.span.end as usize - 1;
                let elems = self.elems(items, |x| x.span, |f, x| f.expr(x));
                let dangling = self.dangling(close, true);
                self.comma_list(txt("("), elems, dangling, ")", false)
            }
            ExprKind::StructLit {
                module,
                name,
                fields,
            } => {
                let head = match module {
                    Some(m) => format!("{}.{} {{", m.name, name.name),
                    None => format!("{} {{", name.name),
                };
                let close = self.last_tok_before(e.span.end as usize, &Token::RBrace);
                let elems = self.elems(fields, field_span, |f, fi| f.field_init(fi));
                let dangling = self.dangling(close, true);
                self.comma_list(txt(head), elems, dangling, "}", true)
            }
            ExprKind::Update { expr, fields } => {
                let target = self.expr(expr);
                let close = self.last_tok_before(e.span.end as usize, &Token::RBrace);
                let elems = self.elems(fields, field_span, |f, fi| f.field_init(fi));
                let dangling = self.dangling(close, true);
                let open = cat(vec![txt("%{"), target, txt(" |")]);
                let inner = comma_items(elems, Doc::line(), dangling);
                cat(vec![open, inner.nest(INDENT), Doc::softline(), txt("}")]).group()
            }
            ExprKind::Field { expr, field } => {
                let target = self.expr_min(expr, ATOM);
                cat(vec![target, txt(format!(".{}", field.name))])
            }
            ExprKind::Call { callee, args } => {
                if is_pipe(callee, args) {
                    self.pipe_chain(e)
                } else {
                    let c = self.expr_min(callee, ATOM);
                    let open_from = callee.span.end as usize;
                    self.call_args(c, args, open_from, e.span.end as usize)
                }
            }
            ExprKind::Binary { op, .. } => self.binary_chain(e, *op),
            ExprKind::Unary { op, expr } => {
                let op_text = match self.first_inner(e.span).map(|(t, _, _)| t) {
                    Some(Token::Bang) => "!",
                    Some(Token::Not) => "not ",
                    _ => match op {
                        UnOp::Neg => "-",
                        UnOp::Not => "not ",
                    },
                };
                let operand = self.expr_min(expr, UNARY);
                cat(vec![txt(op_text), operand])
            }
            ExprKind::Let {
                pattern,
                ty: t,
                value,
            } => {
                let p = self.pat(pattern);
                let mut head = vec![txt("let "), p];
                if let Some(t) = t {
                    head.push(txt(format!(" :: {}", ty(t))));
                }
                head.push(txt(" ="));
                self.binding(cat(head), value)
            }
            ExprKind::Block(stmts) => {
                // Not reached through the grammar outside bodies; print
                // it as a `do` block anyway.
                let block = self.block(e.span.start as usize, stmts, e.span.end as usize);
                cat(vec![txt("do"), block.broken_group(), txt("end")])
            }
            ExprKind::If { .. } => {
                // One line when written on one line and it fits; else broken.
                let end = self.end_kw(e.span.end as usize);
                let d = self.if_chain(e, end);
                if self.one_line(e.span) {
                    d.group()
                } else {
                    d.broken_group()
                }
            }
            ExprKind::Case { scrutinee, arms } => {
                let s = self.expr(scrutinee);
                let do_end = self
                    .find(scrutinee.span.end as usize, &Token::Do)
                    .map_or(scrutinee.span.end as usize, |(_, x)| x);
                let end = self.end_kw(e.span.end as usize);
                let trail = self.trailing(do_end);
                let elems = self.elems(arms, |a| a.span, |f, a| f.arm(a));
                let dangling = self.dangling(end, !arms.is_empty());
                self.do_lines(cat(vec![txt("case "), s]), trail, elems, dangling)
            }
            ExprKind::For {
                pattern,
                iter,
                body,
            } => {
                let p = self.pat(pattern);
                let it = self.expr(iter);
                let do_end = self
                    .find(iter.span.end as usize, &Token::Do)
                    .map_or(iter.span.end as usize, |(_, x)| x);
                let end = self.end_kw(e.span.end as usize);
                let block = self.block(do_end, block_stmts(body), end);
                let d = cat(vec![
                    txt("for "),
                    p,
                    txt(" in "),
                    it,
                    txt(" do"),
                    block,
                    txt("end"),
                ]);
                if self.one_line(e.span) {
                    d.group()
                } else {
                    d.broken_group()
                }
            }
            ExprKind::Lambda { params, body } => {
                let params_end = params
                    .last()
                    .map_or(e.span.start as usize, |p| p.span.end as usize);
                let fn_end = self
                    .first_inner(e.span)
                    .map_or(e.span.start as usize, |t| t.2);
                let params_doc = self.params(params, fn_end, e.span.end as usize);
                let (kw, _, head_end) = self
                    .find_any(params_end, &[Token::Arrow, Token::Do])
                    .unwrap_or((Token::Do, params_end, params_end));
                let end = self.end_kw(e.span.end as usize);
                let stmts = block_stmts(body);
                if stmts.len() == 1 {
                    // `fn(x) -> e end` or `fn(x) do e end` as written: on
                    // one line when written so and it fits.
                    let block = self.block(head_end, stmts, end);
                    let kw = if kw == Token::Arrow { " ->" } else { " do" };
                    let d = cat(vec![txt("fn"), params_doc, txt(kw), block, txt("end")]);
                    if self.one_line(e.span) {
                        d.group()
                    } else {
                        d.broken_group()
                    }
                } else {
                    let block = self.block(head_end, stmts, end);
                    cat(vec![
                        txt("fn"),
                        params_doc,
                        txt(" do"),
                        block.broken_group(),
                        txt("end"),
                    ])
                    .group()
                }
            }
            ExprKind::Error => txt(self.slice(e.span.start as usize, e.span.end as usize)),
        }
    }

    /// Is `span` on one line of the source?
    fn one_line(&self, span: Span) -> bool {
        !self
            .slice(span.start as usize, span.end as usize)
            .contains('\n')
    }

    fn last_tok_before(&self, end: usize, t: &Token) -> usize {
        let i = self.toks.partition_point(|(_, _, e)| *e <= end);
        self.toks[..i]
            .iter()
            .rev()
            .find(|(x, _, _)| x == t)
            .map_or(end, |(_, s, _)| *s)
    }

    fn list_close(&self, e: &Expr) -> usize {
        self.last_tok_before(e.span.end as usize, &Token::RBracket)
    }

    fn field_init(&mut self, fi: &FieldInit) -> Doc {
        if fi.value.span == fi.name.span {
            // `name` alone
            txt(&fi.name.name)
        } else {
            let v = self.expr(&fi.value);
            cat(vec![txt(format!("{}: ", fi.name.name)), v])
        }
    }

    /// `(args)` after the callee: the arguments on one line; or, when the
    /// last one is a closure, the others on the call's line and the
    /// closure's body broken (`List.map(xs, fn(x) do ... end)`); or one
    /// argument per line.
    fn call_args(&mut self, callee: Doc, args: &[Expr], open_from: usize, limit: usize) -> Doc {
        let close = match args.last() {
            Some(a) => self
                .find(a.span.end as usize, &Token::RParen)
                .map_or(limit, |(s, _)| s),
            None => self
                .find(open_from, &Token::RParen)
                .map_or(limit, |(s, _)| s),
        };
        let elems = self.elems(args, |a| a.span, |f, a| f.expr(a));
        let dangling = self.dangling(close, true);
        if let ([a], [el]) = (args, &elems[..]) {
            // One literal or name: breaking around it gains nothing.
            let simple = matches!(
                a.kind,
                ExprKind::Str(_)
                    | ExprKind::Int(_)
                    | ExprKind::Float(_)
                    | ExprKind::Var(_)
                    | ExprKind::Ctor(_)
                    | ExprKind::Qualified { .. }
                    | ExprKind::Bool(_)
                    | ExprKind::Nil
            );
            if simple
                && el.pre.is_nil()
                && el.lead.is_nil()
                && el.trail.is_nil()
                && dangling.is_nil()
            {
                return cat(vec![callee, txt("("), el.body.clone(), txt(")")]);
            }
        }
        let commented = !dangling.is_nil()
            || elems
                .iter()
                .any(|e| !e.pre.is_nil() || !e.lead.is_nil() || !e.trail.is_nil());
        let last_is_closure = args
            .last()
            .is_some_and(|a| matches!(a.kind, ExprKind::Lambda { .. }) && !self.parens(a));
        if !commented && last_is_closure {
            let bodies: Vec<Doc> = elems.iter().map(|e| e.body.clone()).collect();
            let (last, init) = bodies.split_last().expect("a last argument");
            if !init.iter().any(Doc::is_hard) {
                let mut hug = vec![callee.clone(), txt("(")];
                for d in init {
                    hug.push(d.clone());
                    hug.push(txt(", "));
                }
                hug.push(last.force_break());
                hug.push(txt(")"));
                let list = self.comma_list(txt("("), elems, dangling, ")", false);
                let all = cat(vec![callee, list]);
                return Doc::choice(vec![all.clone(), cat(hug), all.force_break()]);
            }
        }
        let list = self.comma_list(txt("("), elems, dangling, ")", false);
        cat(vec![callee, list])
    }

    /// `x |> f(a) |> g`: the segments on one line, or one per line, each
    /// starting with `|>` under the first operand.
    fn pipe_chain(&mut self, e: &Expr) -> Doc {
        // Unfold the left-nested pipes: base, then (callee, rest args, span).
        let mut segs: Vec<&Expr> = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Call { callee, args }
                    if is_pipe(callee, args) && (std::ptr::eq(cur, e) || !self.parens(cur)) =>
                {
                    segs.push(cur);
                    cur = &args[0];
                }
                _ => break,
            }
        }
        let base = self.expr_min(cur, PIPE);
        let mut parts = vec![base];
        let mut rest = Vec::new();
        for seg in segs.iter().rev() {
            let ExprKind::Call { callee, args } = &seg.kind else {
                continue;
            };
            // A comment at the end of the previous segment's line stays there.
            let after_prev = self.trailing(args[0].span.end as usize);
            rest.push(after_prev);
            rest.push(Doc::line());
            // Comments between two segments: on their own lines before `|>`.
            let pipe_pos = self
                .find(args[0].span.end as usize, &Token::Pipe)
                .map_or(callee.span.start as usize, |(s, _)| s);
            if self.peek_before(pipe_pos).is_some() {
                let lead = self.leading(pipe_pos, true);
                rest.push(lead);
            }
            rest.push(txt("|> "));
            let c = self.expr_min(callee, PIPE + 1);
            let after = callee.span.end as usize;
            let has_parens = args.len() > 1
                || self
                    .toks
                    .get(self.tok_index(after))
                    .is_some_and(|(t, s, _)| *t == Token::LParen && *s < seg.span.end as usize);
            if has_parens {
                rest.push(self.call_args(c, &args[1..], after, seg.span.end as usize));
            } else {
                rest.push(c);
            }
        }
        parts.push(cat(rest));
        cat(parts).group()
    }

    /// `a + b - c`: operands of one precedence level; broken after the
    /// operators (a line may end with an operator), continuation lines
    /// indented. `>` never ends a line (it closes type arguments).
    fn binary_chain(&mut self, e: &Expr, op: BinOp) -> Doc {
        let p = prec_of_op(op);
        let mut ops: Vec<(&Expr, BinOp, &Expr)> = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Binary { op: o, lhs, rhs }
                    if prec_of_op(*o) == p && (std::ptr::eq(cur, e) || !self.parens(cur)) =>
                {
                    ops.push((lhs, *o, rhs));
                    cur = lhs;
                }
                _ => break,
            }
        }
        let first = self.expr_min(cur, p);
        // `<>` and arithmetic fill their lines; `and`, `or`, comparisons
        // break at every operator.
        let fill = matches!(
            op,
            BinOp::Concat | BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem
        );
        let mut parts = vec![first];
        for (lhs, o, rhs) in ops.iter().rev() {
            let (op_text, op_end) = self.op_text(lhs, rhs, *o);
            let last = parts.pop().unwrap_or_else(Doc::nil);
            // A comment after the operator stays at the end of its line.
            let after = self.trailing_loose(op_end);
            parts.push(cat(vec![last, txt(format!(" {op_text}")), after]));
            parts.push(if *o == BinOp::Gt {
                txt(" ")
            } else {
                Doc::line()
            });
            parts.push(self.expr_min(rhs, p + 1));
        }
        if fill {
            Doc::fill(parts).nest(INDENT)
        } else {
            let mut it = parts.into_iter();
            let first = it.next().unwrap_or_else(Doc::nil);
            cat(vec![first, cat(it.collect()).nest(INDENT)]).group()
        }
    }

    /// The operator as written (`&&` or `and`) and where it ends.
    fn op_text(&self, lhs: &Expr, rhs: &Expr, op: BinOp) -> (&'static str, usize) {
        let between = &self.toks[self.tok_index(lhs.span.end as usize)..];
        let t = between
            .iter()
            .take_while(|(_, s, _)| *s < rhs.span.start as usize)
            .find(|(t, _, _)| t.is_binary_operator());
        let end = t.map_or(lhs.span.end as usize, |(_, _, e)| *e);
        let text = match t.map(|(t, _, _)| t) {
            Some(Token::AndAnd) => "&&",
            Some(Token::OrOr) => "||",
            _ => op.symbol(),
        };
        (text, end)
    }

    /// Comments right after `pos` on its line, at the end of the line they
    /// land on (without forcing a line break).
    fn trailing_loose(&mut self, pos: usize) -> Doc {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.next).cloned() {
            let cs = c.span.start as usize;
            if cs < pos
                || self.slice(pos, cs).contains('\n')
                || self.tok_index(pos) != self.tok_index(cs)
            {
                break;
            }
            self.next += 1;
            out.push(self.comment_doc(&c, false, false));
        }
        cat(out)
    }

    /// `if c do .. else if c2 do .. else .. end` (one `end`, at `end`).
    fn if_chain(&mut self, e: &Expr, end: usize) -> Doc {
        let ExprKind::If { cond, then, else_ } = &e.kind else {
            return self.expr(e);
        };
        let c = self.expr(cond);
        let do_end = self
            .find(cond.span.end as usize, &Token::Do)
            .map_or(cond.span.end as usize, |(_, x)| x);
        let then_stmts = block_stmts(then);
        let then_last = then_stmts.last().map_or(do_end, |s| s.span.end as usize);
        let else_pos = match else_ {
            Some(_) => self.find(then_last, &Token::Else).map_or(end, |(s, _)| s),
            None => end,
        };
        let then_block = self.block(do_end, then_stmts, else_pos);
        let mut parts = vec![txt("if "), c, txt(" do"), then_block];
        match else_.as_deref() {
            None => parts.push(txt("end")),
            Some(el) => {
                parts.push(txt("else"));
                if let ExprKind::If { .. } = &el.kind {
                    if !self.parens(el) {
                        parts.push(txt(" "));
                        parts.push(self.if_chain(el, end));
                        return cat(parts);
                    }
                }
                let block = self.block(else_pos + 4, block_stmts(el), end);
                parts.push(block);
                parts.push(txt("end"));
            }
        }
        cat(parts)
    }

    fn arm(&mut self, a: &Arm) -> Doc {
        let mut head = vec![self.pat(&a.pattern)];
        let mut before_arrow = a.pattern.span.end as usize;
        if let Some(g) = &a.guard {
            head.push(txt(" when "));
            head.push(self.expr(g));
            before_arrow = g.span.end as usize;
        }
        let head = cat(head);
        let arrow_end = self
            .find(before_arrow, &Token::Arrow)
            .map_or(before_arrow, |(_, e)| e);
        let do_form = self
            .toks
            .get(self.tok_index(arrow_end))
            .is_some_and(|(t, _, _)| *t == Token::Do);
        match &a.body.kind {
            ExprKind::Block(stmts) if do_form => {
                let do_end = self
                    .toks
                    .get(self.tok_index(arrow_end))
                    .map_or(arrow_end, |(_, _, e)| *e);
                let end = self.end_kw(a.span.end as usize);
                let block = self.block(do_end, stmts, end);
                cat(vec![head, txt(" -> do"), block.broken_group(), txt("end")])
            }
            ExprKind::Block(stmts) if !self.parens(&a.body) => {
                let trail = self.trailing(arrow_end);
                let elems = self.elems(stmts, |e| e.span, |f, e| f.expr(e));
                let body = self.lines(elems, Doc::nil());
                cat(vec![
                    head,
                    txt(" ->"),
                    trail,
                    cat(vec![Doc::hard(), body]).nest(INDENT),
                ])
            }
            _ => {
                let trail = self.trailing(arrow_end);
                let b = self.expr(&a.body);
                if !trail.is_nil() {
                    cat(vec![
                        head,
                        txt(" ->"),
                        trail,
                        cat(vec![Doc::hard(), b]).nest(INDENT),
                    ])
                } else {
                    let block = self.block_like(&a.body);
                    rhs(cat(vec![head, txt(" ->")]), b, block)
                }
            }
        }
    }

    // ---- patterns ----

    fn pat(&mut self, p: &Pattern) -> Doc {
        let lead = if self.peek_before(p.span.start as usize).is_some() {
            self.leading(p.span.start as usize, true)
        } else {
            Doc::nil()
        };
        let d = self.pat_kind(p);
        lead.then(d)
    }

    fn pat_kind(&mut self, p: &Pattern) -> Doc {
        match &p.kind {
            PatternKind::Wildcard => txt("_"),
            PatternKind::Bind(id) => txt(&id.name),
            PatternKind::Int(_) | PatternKind::Float(_) => {
                let toks: Vec<&str> = self
                    .toks_in(p.span)
                    .iter()
                    .filter(|(t, _, _)| !matches!(t, Token::LParen | Token::RParen))
                    .map(|(_, s, e)| self.slice(*s, *e))
                    .collect();
                txt(toks.concat())
            }
            PatternKind::Str(_) => self.string(p.span),
            PatternKind::Bool(b) => txt(if *b { "true" } else { "false" }),
            PatternKind::Nil => {
                if self
                    .toks_in(p.span)
                    .iter()
                    .any(|(t, _, _)| *t == Token::Nil)
                {
                    txt("nil")
                } else {
                    txt("()")
                }
            }
            PatternKind::Ctor { module, name, args } => {
                let head = match module {
                    Some(m) => format!("{}.{}", m.name, name.name),
                    None => name.name.clone(),
                };
                if args.is_empty() {
                    txt(head)
                } else {
                    let close = self.last_tok_before(p.span.end as usize, &Token::RParen);
                    let elems = self.elems(args, |a| a.span, |f, a| f.pat(a));
                    let dangling = self.dangling(close, true);
                    self.comma_list(txt(format!("{head}(")), elems, dangling, ")", false)
                }
            }
            PatternKind::Tuple(ps) => {
                let close = self.last_tok_before(p.span.end as usize, &Token::RParen);
                let elems = self.elems(ps, |a| a.span, |f, a| f.pat(a));
                let dangling = self.dangling(close, true);
                self.comma_list(txt("("), elems, dangling, ")", false)
            }
            PatternKind::Struct {
                module,
                name,
                fields,
            } => {
                let head = match module {
                    Some(m) => format!("{}.{} {{", m.name, name.name),
                    None => format!("{} {{", name.name),
                };
                let close = self.last_tok_before(p.span.end as usize, &Token::RBrace);
                let elems = self.elems(
                    fields,
                    |f| f.name.span.to(f.pattern.span),
                    |f, fp| {
                        if fp.pattern.span == fp.name.span {
                            txt(&fp.name.name)
                        } else {
                            let d = f.pat(&fp.pattern);
                            cat(vec![txt(format!("{}: ", fp.name.name)), d])
                        }
                    },
                );
                let dangling = self.dangling(close, true);
                self.comma_list(txt(head), elems, dangling, "}", true)
            }
            PatternKind::EmptyList => txt("[]"),
            PatternKind::Cons { .. } => {
                // `[a, b | t]` is Cons(a, Cons(b, t)); `[a, b]` ends in an
                // EmptyList spanning the `]`. A tail written as a list of
                // its own (`[a | [b]]`) starts with its own bracket.
                let mut heads: Vec<&Pattern> = Vec::new();
                let mut cur = p;
                let tail: Option<&Pattern> = loop {
                    match &cur.kind {
                        PatternKind::Cons { head, tail }
                            if std::ptr::eq(cur, p) || cur.span.start == head.span.start =>
                        {
                            heads.push(head);
                            cur = tail;
                        }
                        PatternKind::EmptyList
                            if self.tok_at(cur.span.start as usize) == Some(&Token::RBracket) =>
                        {
                            break None;
                        }
                        _ => break Some(cur),
                    }
                };
                let close = self.last_tok_before(p.span.end as usize, &Token::RBracket);
                let mut elems = self.elems(&heads, |h| h.span, |f, h| f.pat(h));
                if let Some(t) = tail {
                    let td = self.pat(t);
                    if let Some(last) = elems.last_mut() {
                        last.body = cat(vec![last.body.clone(), txt(" | "), td]);
                    }
                }
                let dangling = self.dangling(close, true);
                self.comma_list(txt("["), elems, dangling, "]", false)
            }
        }
    }
}

/// `head value` (a head ending in `=` or `->`): on one line when it fits;
/// else an `if`, `case`, `for` or closure (`block`) stays on the head's
/// line, broken (`x -> case y do`); anything else goes to the next line,
/// indented. A `Choice`, so that a value broken because it did not fit and
/// the same value written broken are laid out alike (idempotence).
fn rhs(head: Doc, v: Doc, block: bool) -> Doc {
    let flat = cat(vec![head.clone(), txt(" "), v.clone()]);
    let next = cat(vec![
        head.clone(),
        cat(vec![Doc::hard(), v.clone()]).nest(INDENT),
    ]);
    let mut alts = vec![flat];
    if block {
        alts.push(cat(vec![head.clone(), txt(" "), v.force_break()]));
    }
    if head.is_hard() {
        // A head broken over lines (a comment in the parameters): the value
        // follows its last line.
        alts.push(cat(vec![head, txt(" "), v]));
    }
    alts.push(next);
    Doc::choice(alts)
}

/// A short element: a literal, a name, or a constructor or call of such.
fn simple(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Nil
        | ExprKind::Var(_)
        | ExprKind::Ctor(_)
        | ExprKind::Qualified { .. }
        | ExprKind::QualifiedCtor { .. } => true,
        ExprKind::Unary { expr, .. } => simple(expr),
        ExprKind::Call { callee, args } => {
            matches!(callee.kind, ExprKind::Ctor(_) | ExprKind::Var(_) | ExprKind::QualifiedCtor { .. })
                && args.len() <= 2
                && args.iter().all(|a| {
                    matches!(
                        a.kind,
                        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Var(_) | ExprKind::Bool(_)
                    ) || matches!(&a.kind, ExprKind::Unary { expr, .. } if matches!(expr.kind, ExprKind::Int(_) | ExprKind::Float(_)))
                })
        }
        _ => false,
    }
}

/// `e1, e2, ...` with the line break `first` before the first element and
/// a `Doc::line()` after each comma; then the dangling comments.
fn comma_items(elems: Vec<Elem>, first: Doc, dangling: Doc) -> Doc {
    let mut inner = Vec::new();
    for (i, e) in elems.into_iter().enumerate() {
        if i > 0 {
            inner.push(txt(","));
        }
        inner.push(e.pre);
        inner.push(if i > 0 { Doc::line() } else { first.clone() });
        inner.push(e.lead);
        inner.push(e.body);
        inner.push(e.trail);
    }
    inner.push(dangling);
    cat(inner)
}

fn field_span(fi: &FieldInit) -> Span {
    fi.name.span.to(fi.value.span)
}

fn block_stmts(e: &Expr) -> &[Expr] {
    match &e.kind {
        ExprKind::Block(stmts) => stmts,
        _ => std::slice::from_ref(e),
    }
}

fn item_span(it: &Item) -> Span {
    match it {
        Item::Fn(f) => f.span,
        Item::Extern(x) => x.span,
        Item::Type(t) => t.span,
        Item::Struct(s) => s.span,
        Item::Service(s) => s.span,
        Item::Import { span, .. } | Item::FromImport { span, .. } => *span,
    }
}

/// A type as written, on one line (a newline inside `<...>` would end the
/// line).
pub fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named { module, name, args } => {
            let mut s = match module {
                Some(m) => format!("{}.{}", m.name, name.name),
                None => name.name.clone(),
            };
            if !args.is_empty() {
                let a: Vec<String> = args.iter().map(ty).collect();
                s.push('<');
                s.push_str(&a.join(", "));
                s.push('>');
            }
            s
        }
        TypeExprKind::Unit => "()".into(),
        TypeExprKind::Tuple(ts) => {
            let a: Vec<String> = ts.iter().map(ty).collect();
            format!("({})", a.join(", "))
        }
        TypeExprKind::Fun { params, ret } => {
            let a: Vec<String> = params.iter().map(ty).collect();
            format!("Fun({}) -> {}", a.join(", "), ty(ret))
        }
    }
}
