//! The first parse of an item: a hand-written recursive-descent parser
//! that mirrors the chumsky grammar (`grammar.rs`, its fast variant)
//! combinator by combinator, with the same PEG semantics: alternatives are
//! tried in order (here mostly chosen by the next token, where the earlier
//! alternatives cannot start with it), an optional part or a repetition that
//! fails is rewound, `separated_by` rewinds or keeps a trailing separator
//! exactly as chumsky's does, and every node gets chumsky's span (from the
//! start of its first token to the end of the last token consumed, see
//! [`P::span_from`]). So for an item it accepts it builds exactly the tree
//! the grammar builds.
//!
//! It only answers for items the grammar accepts without any error: where
//! the grammar would report one even on success (its `validate`s: `while`,
//! reassignment, an untyped extern parameter, a second `init`) or would
//! recover from one (a bracket that fails to parse inside: chumsky's
//! `nested_delimiters`), it gives up (`None`) and the item goes to the
//! chumsky grammar, which reports the diagnostics. Giving up is always
//! safe, only slower; `tests/fast_path.rs` checks both parsers give the same
//! trees and diagnostics on the repository's programs and on mutated ones.
//!
//! Why: chumsky's generic combinators (token clones, alternative
//! bookkeeping) made parsing the largest part of `snowc check`; this parser
//! is several times faster on the same items.

use crate::ast::*;
use crate::lexer::{TokSpan, Token};
use crate::span::{FileId, Span};

/// Parse one item's tokens; `eoi` is the end of the item (chumsky's
/// end-of-input span). `None` when the item has an error, or when the
/// grammar would report one: the chumsky grammar then parses it.
pub(crate) fn item(file: FileId, toks: &[(Token, TokSpan)], eoi: u32) -> Option<Item> {
    let mut p = P {
        file,
        toks,
        pos: 0,
        eoi,
        errored: false,
        // Backtracking is rare and shallow on real code; a pathological
        // item gives up rather than spend more than this.
        fuel: 64 * toks.len() + 1024,
    };
    p.nls();
    let item = p.item_choice();
    p.nls();
    match item {
        Some(it) if !p.errored && p.pos == toks.len() => Some(it),
        _ => None,
    }
}

struct P<'t> {
    file: FileId,
    toks: &'t [(Token, TokSpan)],
    pos: usize,
    eoi: u32,
    /// The grammar would emit an error here (even if the parse succeeds):
    /// the item is given to it.
    errored: bool,
    fuel: usize,
}

/// Binding power of a binary operator (as `grammar::precedence`).
fn precedence(t: &Token) -> Option<u8> {
    Some(match t {
        Token::Or | Token::OrOr => 1,
        Token::And | Token::AndAnd => 2,
        Token::EqEq | Token::NotEq => 3,
        Token::Lt | Token::Le | Token::Gt | Token::Ge => 4,
        Token::Pipe => 5,
        Token::Concat => 6,
        Token::Plus | Token::Minus => 7,
        Token::Star | Token::Slash | Token::Percent => 8,
        _ => return None,
    })
}

fn binop(t: &Token) -> Option<BinOp> {
    Some(match t {
        Token::Plus => BinOp::Add,
        Token::Minus => BinOp::Sub,
        Token::Star => BinOp::Mul,
        Token::Slash => BinOp::Div,
        Token::Percent => BinOp::Rem,
        Token::EqEq => BinOp::Eq,
        Token::NotEq => BinOp::Ne,
        Token::Lt => BinOp::Lt,
        Token::Le => BinOp::Le,
        Token::Gt => BinOp::Gt,
        Token::Ge => BinOp::Ge,
        Token::And | Token::AndAnd => BinOp::And,
        Token::Or | Token::OrOr => BinOp::Or,
        Token::Concat => BinOp::Concat,
        _ => return None,
    })
}

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

/// `x |> f` is `f(x)`; `x |> f(a)` is `f(x, a)` (as `grammar::pipe`).
fn pipe(lhs: Expr, rhs: Expr, span: Span) -> Expr {
    match rhs.kind {
        ExprKind::Call { callee, mut args } => {
            args.insert(0, lhs);
            mk(ExprKind::Call { callee, args }, span)
        }
        _ => mk(
            ExprKind::Call {
                callee: Box::new(rhs),
                args: vec![lhs],
            },
            span,
        ),
    }
}

impl<'t> P<'t> {
    // ---- tokens ----

    #[inline]
    fn peek(&self) -> Option<&'t Token> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    #[inline]
    fn peek_at(&self, k: usize) -> Option<&'t Token> {
        self.toks.get(self.pos + k).map(|(t, _)| t)
    }

    /// Consume the next token when it equals `t` (a token without data).
    #[inline]
    fn eat(&mut self, t: &Token) -> bool {
        match self.toks.get(self.pos) {
            Some((x, _)) if std::mem::discriminant(x) == std::mem::discriminant(t) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    #[inline]
    fn expect(&mut self, t: &Token) -> Option<()> {
        self.eat(t).then_some(())
    }

    /// Spends a unit of the item's budget; `None` once it is gone.
    #[inline]
    fn step(&mut self) -> Option<()> {
        if self.fuel == 0 {
            self.errored = true;
            return None;
        }
        self.fuel -= 1;
        Some(())
    }

    /// chumsky's span of a node that started at token `start` and ends
    /// here: from the start of that token to the end of the last token
    /// consumed (before `start` when nothing was: then empty, at its start,
    /// as `grammar::sp` makes it); at the end of the item, the end.
    fn span_from(&self, start: usize) -> Span {
        let (s, e) = match self.toks.get(start) {
            Some((_, ts)) => {
                let e = if self.pos > 0 {
                    self.toks[self.pos - 1].1.end
                } else {
                    self.eoi
                };
                (ts.start, e)
            }
            None => (self.eoi, self.eoi),
        };
        Span::new(self.file, s as usize, e.max(s) as usize)
    }

    fn tok_span(&self, i: usize) -> Span {
        let ts = self.toks[i].1;
        Span::new(self.file, ts.start as usize, ts.end.max(ts.start) as usize)
    }

    /// `p` tried: on failure the position is rewound.
    #[inline]
    fn opt<T>(&mut self, p: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let save = self.pos;
        let r = p(self);
        if r.is_none() {
            self.pos = save;
        }
        r
    }

    /// Optional newlines.
    fn nls(&mut self) {
        while self.eat(&Token::Newline) {}
    }

    /// One or more newlines.
    fn nls1(&mut self) -> bool {
        if !self.eat(&Token::Newline) {
            return false;
        }
        self.nls();
        true
    }

    /// chumsky's `item.separated_by(sep)` with `at_least` and
    /// `allow_trailing` (never `allow_leading`).
    fn sep_by<T>(
        &mut self,
        at_least: usize,
        allow_trailing: bool,
        mut item: impl FnMut(&mut Self) -> Option<T>,
        mut sep: impl FnMut(&mut Self) -> bool,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        loop {
            let before_sep = self.pos;
            if !out.is_empty() && !sep(self) {
                self.pos = before_sep;
                return (out.len() >= at_least).then_some(fit(out));
            }
            let before_item = self.pos;
            match item(self) {
                Some(x) => out.push(x),
                None => {
                    if out.len() < at_least {
                        self.pos = before_sep;
                        return None;
                    }
                    self.pos = if allow_trailing {
                        before_item
                    } else {
                        before_sep
                    };
                    return Some(fit(out));
                }
            }
        }
    }

    fn comma(&mut self) -> bool {
        self.eat(&Token::Comma)
    }

    // ---- names ----

    /// A lower-case name (`from` too: it is a keyword only at an item's start).
    fn lower(&mut self) -> Option<Ident> {
        let name = match self.peek()? {
            Token::Lower(s) => String::from(&**s),
            Token::From => "from".to_string(),
            _ => return None,
        };
        let span = self.tok_span(self.pos);
        self.pos += 1;
        Some(Ident { name, span })
    }

    fn upper(&mut self) -> Option<Ident> {
        let name = match self.peek()? {
            Token::Upper(s) => String::from(&**s),
            _ => return None,
        };
        let span = self.tok_span(self.pos);
        self.pos += 1;
        Some(Ident { name, span })
    }

    fn is_lower(t: Option<&Token>) -> bool {
        matches!(t, Some(Token::Lower(_) | Token::From))
    }

    fn is_lower_named(t: Option<&Token>, name: &str) -> bool {
        matches!(t, Some(Token::Lower(s)) if &**s == name)
    }

    // ---- types ----

    fn type_list(&mut self) -> Option<Vec<TypeExpr>> {
        self.sep_by(0, true, |p| p.type_expr(), |p| p.comma())
    }

    /// `(T, ...)`
    fn type_parens(&mut self) -> Option<Vec<TypeExpr>> {
        self.expect(&Token::LParen)?;
        let ts = self.type_list()?;
        self.expect(&Token::RParen)?;
        Some(ts)
    }

    /// `<T, ...>`, optional (empty when absent or failing).
    fn type_args(&mut self) -> Vec<TypeExpr> {
        self.opt(|p| {
            p.expect(&Token::Lt)?;
            let ts = p.type_list()?;
            p.expect(&Token::Gt)?;
            Some(ts)
        })
        .unwrap_or_default()
    }

    fn type_expr(&mut self) -> Option<TypeExpr> {
        self.step()?;
        let start = self.pos;
        let kind = match self.peek()? {
            Token::Upper(s) => {
                let fun = if &**s == "Fun" {
                    self.opt(|p| {
                        p.pos += 1;
                        let params = p.type_parens()?;
                        p.expect(&Token::Arrow)?;
                        let ret = p.type_expr()?;
                        Some(TypeExprKind::Fun {
                            params,
                            ret: Box::new(ret),
                        })
                    })
                } else {
                    None
                };
                match fun {
                    Some(k) => k,
                    None => {
                        let first = self.upper()?;
                        let second = self.opt(|p| {
                            p.expect(&Token::Dot)?;
                            p.upper()
                        });
                        let args = self.type_args();
                        match second {
                            Some(name) => TypeExprKind::Named {
                                module: Some(first),
                                name,
                                args,
                            },
                            None => TypeExprKind::Named {
                                module: None,
                                name: first,
                                args,
                            },
                        }
                    }
                }
            }
            Token::LParen => {
                let mut ts = self.type_parens()?;
                match ts.len() {
                    0 => TypeExprKind::Unit,
                    1 => ts.pop().map(|t| t.kind).unwrap_or(TypeExprKind::Unit),
                    _ => TypeExprKind::Tuple(ts),
                }
            }
            Token::Lower(_) | Token::From => {
                let name = self.lower()?;
                let args = self.type_args();
                TypeExprKind::Named {
                    module: None,
                    name,
                    args,
                }
            }
            _ => return None,
        };
        Some(TypeExpr {
            kind,
            span: self.span_from(start),
        })
    }

    /// `(name [:: T], ...)`
    fn params(&mut self) -> Option<Vec<Param>> {
        self.expect(&Token::LParen)?;
        let ps = self.sep_by(0, true, |p| p.param(), |p| p.comma())?;
        self.expect(&Token::RParen)?;
        Some(ps)
    }

    /// `name [:: T]`
    fn param(&mut self) -> Option<Param> {
        let start = self.pos;
        let name = self.lower()?;
        let ty = self.opt(|p| {
            p.expect(&Token::ColonColon)?;
            p.type_expr()
        });
        Some(Param {
            name,
            ty,
            span: self.span_from(start),
        })
    }

    // ---- patterns ----

    fn pattern(&mut self) -> Option<Pattern> {
        self.step()?;
        let start = self.pos;
        let kind = match self.peek()? {
            Token::Minus | Token::Int(_) | Token::Float(_) => {
                let neg = self.eat(&Token::Minus);
                let k = match self.peek()? {
                    Token::Int(n) => PatternKind::Int(if neg { n.wrapping_neg() } else { *n }),
                    Token::Float(x) => PatternKind::Float(if neg { -x } else { *x }),
                    _ => return None,
                };
                self.pos += 1;
                k
            }
            Token::StrStart => {
                self.pos += 1;
                let s = match self.peek() {
                    Some(Token::StrChunk(s)) => {
                        self.pos += 1;
                        String::from(&**s)
                    }
                    _ => String::new(),
                };
                self.expect(&Token::StrEnd)?;
                PatternKind::Str(s)
            }
            Token::True => {
                self.pos += 1;
                PatternKind::Bool(true)
            }
            Token::False => {
                self.pos += 1;
                PatternKind::Bool(false)
            }
            Token::Nil => {
                self.pos += 1;
                PatternKind::Nil
            }
            Token::Lower(_) | Token::From => {
                let id = self.lower()?;
                if id.name == "_" {
                    PatternKind::Wildcard
                } else {
                    PatternKind::Bind(id)
                }
            }
            Token::Upper(_) => {
                let first = self.upper()?;
                let second = self.opt(|p| {
                    p.expect(&Token::Dot)?;
                    p.upper()
                });
                let (module, name) = match second {
                    Some(name) => (Some(first), name),
                    None => (None, first),
                };
                match self.peek() {
                    Some(Token::LParen) => {
                        match self.opt(|p| {
                            p.pos += 1;
                            let ps = p.sep_by(0, true, |p| p.pattern(), |p| p.comma())?;
                            p.expect(&Token::RParen)?;
                            Some(ps)
                        }) {
                            Some(args) => PatternKind::Ctor { module, name, args },
                            None => PatternKind::Ctor {
                                module,
                                name,
                                args: Vec::new(),
                            },
                        }
                    }
                    Some(Token::LBrace) => {
                        match self.opt(|p| {
                            p.pos += 1;
                            let fs = p.sep_by(0, true, |p| p.field_pat(), |p| p.comma())?;
                            p.expect(&Token::RBrace)?;
                            Some(fs)
                        }) {
                            Some(fields) => PatternKind::Struct {
                                module,
                                name,
                                fields,
                            },
                            None => PatternKind::Ctor {
                                module,
                                name,
                                args: Vec::new(),
                            },
                        }
                    }
                    _ => PatternKind::Ctor {
                        module,
                        name,
                        args: Vec::new(),
                    },
                }
            }
            Token::LParen => {
                self.pos += 1;
                let mut ps = self.sep_by(0, true, |p| p.pattern(), |p| p.comma())?;
                self.expect(&Token::RParen)?;
                match ps.len() {
                    0 => PatternKind::Nil,
                    1 => ps.pop().map(|p| p.kind).unwrap_or(PatternKind::Nil),
                    _ => PatternKind::Tuple(ps),
                }
            }
            Token::LBracket => {
                self.pos += 1;
                let inner = self.opt(|p| {
                    let elems = p.sep_by(1, false, |p| p.pattern(), |p| p.comma())?;
                    let tail = p.opt(|p| {
                        p.expect(&Token::Bar)?;
                        p.pattern()
                    });
                    Some((elems, tail))
                });
                self.expect(&Token::RBracket)?;
                let whole = self.span_from(start);
                match inner {
                    None => PatternKind::EmptyList,
                    Some((elems, tail)) => {
                        let mut acc = tail.unwrap_or(Pattern {
                            kind: PatternKind::EmptyList,
                            span: Span::new(self.file, whole.end as usize - 1, whole.end as usize),
                        });
                        for p in elems.into_iter().rev() {
                            let span = p.span.to(acc.span);
                            acc = Pattern {
                                kind: PatternKind::Cons {
                                    head: Box::new(p),
                                    tail: Box::new(acc),
                                },
                                span,
                            };
                        }
                        acc.kind
                    }
                }
            }
            _ => return None,
        };
        Some(Pattern {
            kind,
            span: self.span_from(start),
        })
    }

    /// `field: pattern`, or `field` alone.
    fn field_pat(&mut self) -> Option<FieldPat> {
        let name = self.lower()?;
        let p = self.opt(|p| {
            p.expect(&Token::Colon)?;
            p.pattern()
        });
        let pattern = p.unwrap_or_else(|| Pattern {
            kind: if name.name == "_" {
                PatternKind::Wildcard
            } else {
                PatternKind::Bind(name.clone())
            },
            span: name.span,
        });
        Some(FieldPat { name, pattern })
    }

    // ---- expressions ----

    /// An expression (precedence climbing, as `grammar::climb`).
    fn expr(&mut self) -> Option<Expr> {
        self.climb(1)
    }

    fn climb(&mut self, min: u8) -> Option<Expr> {
        self.step()?;
        let start = self.pos;
        let mut lhs = self.unary()?;
        loop {
            let before = self.pos;
            let (op, prec) = match self.peek().and_then(|t| precedence(t).map(|p| (t, p))) {
                Some((t, p)) if p >= min => (t, p),
                _ => break,
            };
            self.pos += 1;
            match self.climb(prec + 1) {
                Some(rhs) => {
                    let span = self.span_from(start);
                    lhs = match binop(op) {
                        Some(op) => mk(
                            ExprKind::Binary {
                                op,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            },
                            span,
                        ),
                        None => pipe(lhs, rhs, span),
                    };
                }
                None => {
                    self.pos = before;
                    break;
                }
            }
        }
        Some(lhs)
    }

    /// Prefix operators, then a call chain.
    fn unary(&mut self) -> Option<Expr> {
        let first = self.pos;
        while matches!(self.peek(), Some(Token::Minus | Token::Bang | Token::Not)) {
            self.pos += 1;
        }
        let ops = first..self.pos;
        let mut e = self.call()?;
        for i in ops.rev() {
            let op = if self.toks[i].0 == Token::Minus {
                UnOp::Neg
            } else {
                UnOp::Not
            };
            let span = self.tok_span(i).to(e.span);
            e = mk(
                ExprKind::Unary {
                    op,
                    expr: Box::new(e),
                },
                span,
            );
        }
        Some(e)
    }

    /// An atom followed by calls `(args)` and field accesses `.name`.
    fn call(&mut self) -> Option<Expr> {
        let start = self.pos;
        let mut target = self.atom()?;
        loop {
            match self.peek() {
                Some(Token::LParen) => {
                    let before = self.pos;
                    match self.delimited_exprs(&Token::RParen) {
                        Some(args) => {
                            target = mk(
                                ExprKind::Call {
                                    callee: Box::new(target),
                                    args,
                                },
                                self.span_from(start),
                            );
                        }
                        None => {
                            // The grammar recovers here (and reports).
                            self.errored = true;
                            self.pos = before;
                            break;
                        }
                    }
                }
                Some(Token::Dot) => {
                    let before = self.pos;
                    self.pos += 1;
                    match self.lower() {
                        Some(field) => {
                            target = mk(
                                ExprKind::Field {
                                    expr: Box::new(target),
                                    field,
                                },
                                self.span_from(start),
                            );
                        }
                        None => {
                            self.pos = before;
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        Some(target)
    }

    /// `( e, ... )` or `[ e, ... ]` after the opening bracket's position.
    fn delimited_exprs(&mut self, close: &Token) -> Option<Vec<Expr>> {
        self.pos += 1;
        let es = self.sep_by(0, true, |p| p.expr(), |p| p.comma())?;
        self.expect(close)?;
        Some(es)
    }

    /// A sequence of newline-separated statements (a block's body).
    fn stmts(&mut self) -> Option<Vec<Expr>> {
        self.sep_by(0, true, |p| p.expr(), |p| p.nls1())
    }

    /// `nls stmts nls` as a `Block` spanning all of it.
    fn block(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.nls();
        let es = self.stmts()?;
        self.nls();
        Some(mk(ExprKind::Block(es), self.span_from(start)))
    }

    fn field_inits(&mut self) -> Option<Vec<FieldInit>> {
        self.sep_by(
            0,
            true,
            |p| {
                let name = p.lower()?;
                let value = p.opt(|p| {
                    p.expect(&Token::Colon)?;
                    p.expr()
                });
                let value = value.unwrap_or_else(|| mk(ExprKind::Var(name.clone()), name.span));
                Some(FieldInit { name, value })
            },
            |p| p.comma(),
        )
    }

    /// `{ field: value, ... }`, optional.
    fn struct_body(&mut self) -> Option<Vec<FieldInit>> {
        if self.peek() != Some(&Token::LBrace) {
            return None;
        }
        self.opt(|p| {
            p.pos += 1;
            let fs = p.field_inits()?;
            p.expect(&Token::RBrace)?;
            Some(fs)
        })
    }

    fn atom(&mut self) -> Option<Expr> {
        self.step()?;
        let start = self.pos;
        let kind = match self.peek()? {
            Token::Int(n) => {
                self.pos += 1;
                ExprKind::Int(*n)
            }
            Token::Float(x) => {
                self.pos += 1;
                ExprKind::Float(*x)
            }
            Token::True => {
                self.pos += 1;
                ExprKind::Bool(true)
            }
            Token::False => {
                self.pos += 1;
                ExprKind::Bool(false)
            }
            Token::Nil => {
                self.pos += 1;
                ExprKind::Nil
            }
            Token::StrStart => self.string()?,
            Token::LBracket => match self.opt(|p| p.list()) {
                Some(k) => k,
                None => {
                    self.errored = true;
                    return None;
                }
            },
            Token::LParen => match self.opt(|p| p.delimited_exprs(&Token::RParen)) {
                Some(mut es) => match es.len() {
                    0 => ExprKind::Nil,
                    1 => es.pop().map(|e| e.kind).unwrap_or(ExprKind::Nil),
                    _ => ExprKind::Tuple(es),
                },
                None => {
                    self.errored = true;
                    return None;
                }
            },
            Token::Upper(_) => {
                if self.peek_at(1) == Some(&Token::Dot) && Self::is_lower(self.peek_at(2)) {
                    let module = self.upper()?;
                    self.pos += 1;
                    let name = self.lower()?;
                    ExprKind::Qualified {
                        module: Box::new(module),
                        name,
                    }
                } else if self.peek_at(1) == Some(&Token::Dot)
                    && matches!(self.peek_at(2), Some(Token::Upper(_)))
                {
                    let module = self.upper()?;
                    self.pos += 1;
                    let name = self.upper()?;
                    match self.struct_body() {
                        Some(fields) => ExprKind::StructLit {
                            module: Some(Box::new(module)),
                            name,
                            fields,
                        },
                        None => ExprKind::QualifiedCtor {
                            module: Box::new(module),
                            name,
                        },
                    }
                } else {
                    let name = self.upper()?;
                    match self.struct_body() {
                        Some(fields) => ExprKind::StructLit {
                            module: None,
                            name,
                            fields,
                        },
                        None => ExprKind::Ctor(name),
                    }
                }
            }
            Token::Percent => {
                self.pos += 1;
                self.expect(&Token::LBrace)?;
                let e = self.expr()?;
                self.expect(&Token::Bar)?;
                let fields = self.field_inits()?;
                self.expect(&Token::RBrace)?;
                ExprKind::Update {
                    expr: Box::new(e),
                    fields,
                }
            }
            t @ (Token::Lower(_) | Token::From) => {
                // `while c do .. end` and `x = e` parse only to be reported.
                if Self::is_lower_named(Some(t), "while") || self.peek_at(1) == Some(&Token::Eq) {
                    self.errored = true;
                    return None;
                }
                ExprKind::Var(self.lower()?)
            }
            Token::Let => {
                self.pos += 1;
                let pattern = self.pattern()?;
                let ty = self.opt(|p| {
                    p.expect(&Token::ColonColon)?;
                    p.type_expr()
                });
                self.expect(&Token::Eq)?;
                let value = self.expr()?;
                ExprKind::Let {
                    pattern: Box::new(pattern),
                    ty: ty.map(Box::new),
                    value: Box::new(value),
                }
            }
            Token::If => {
                let e = self.if_chain()?;
                self.expect(&Token::End)?;
                e.kind
            }
            Token::Case => self.case()?,
            Token::For => {
                self.pos += 1;
                let pattern = self.pattern()?;
                self.expect(&Token::In)?;
                let iter = self.expr()?;
                self.expect(&Token::Do)?;
                let body = self.block()?;
                self.expect(&Token::End)?;
                ExprKind::For {
                    pattern: Box::new(pattern),
                    iter: Box::new(iter),
                    body: Box::new(body),
                }
            }
            Token::Fn => {
                self.pos += 1;
                let params = self.params()?;
                if !self.eat(&Token::Arrow) {
                    self.expect(&Token::Do)?;
                }
                let body = self.block()?;
                self.expect(&Token::End)?;
                ExprKind::Lambda {
                    params,
                    body: Box::new(body),
                }
            }
            _ => return None,
        };
        Some(mk(kind, self.span_from(start)))
    }

    /// `"text ${e} text"`
    fn string(&mut self) -> Option<ExprKind> {
        self.pos += 1;
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                Some(Token::StrChunk(s)) => {
                    self.pos += 1;
                    parts.push(StrPart::Lit(String::from(&**s)));
                }
                Some(Token::InterpStart) => {
                    match self.opt(|p| {
                        p.pos += 1;
                        p.nls();
                        let e = p.expr()?;
                        p.nls();
                        p.expect(&Token::InterpEnd)?;
                        Some(e)
                    }) {
                        Some(e) => parts.push(StrPart::Interp(e)),
                        None => break,
                    }
                }
                _ => break,
            }
        }
        self.expect(&Token::StrEnd)?;
        Some(ExprKind::Str(fit(parts)))
    }

    /// `[a, b]`, `[a, b | tail]`
    fn list(&mut self) -> Option<ExprKind> {
        self.pos += 1;
        let items = self.sep_by(0, true, |p| p.expr(), |p| p.comma())?;
        let tail = self.opt(|p| {
            p.expect(&Token::Bar)?;
            p.expr()
        });
        self.expect(&Token::RBracket)?;
        Some(match tail {
            Some(tail) if !items.is_empty() => ExprKind::Cons {
                items,
                tail: Box::new(tail),
            },
            Some(tail) => tail.kind,
            None => ExprKind::List(items),
        })
    }

    /// `if c do .. [else (if ..|..)]`, without the `end` (the outermost
    /// `if` of a chain takes it).
    fn if_chain(&mut self) -> Option<Expr> {
        self.step()?;
        let start = self.pos;
        self.expect(&Token::If)?;
        let cond = self.expr()?;
        self.expect(&Token::Do)?;
        let then = self.block()?;
        let else_ = self.opt(|p| {
            p.expect(&Token::Else)?;
            if p.peek() == Some(&Token::If) {
                if let Some(e) = p.opt(|p| p.if_chain()) {
                    return Some(e);
                }
            }
            p.block()
        });
        Some(mk(
            ExprKind::If {
                cond: Box::new(cond),
                then: Box::new(then),
                else_: else_.map(Box::new),
            },
            self.span_from(start),
        ))
    }

    fn case(&mut self) -> Option<ExprKind> {
        self.pos += 1;
        let scrutinee = self.expr()?;
        self.expect(&Token::Do)?;
        self.nls();
        let arms = self.sep_by(0, true, |p| p.arm(), |p| p.nls1())?;
        self.nls();
        self.expect(&Token::End)?;
        Some(ExprKind::Case {
            scrutinee: Box::new(scrutinee),
            arms,
        })
    }

    fn arm(&mut self) -> Option<Arm> {
        let start = self.pos;
        let pattern = self.pattern()?;
        let guard = self.opt(|p| {
            p.expect(&Token::When)?;
            p.expr()
        });
        self.expect(&Token::Arrow)?;
        let body = if self.peek() == Some(&Token::Do) {
            // `-> do ... end` (no statement starts with `do`).
            self.pos += 1;
            let b = self.block()?;
            self.expect(&Token::End)?;
            b
        } else {
            self.arm_body()?
        };
        Some(Arm {
            pattern,
            guard,
            body,
            span: self.span_from(start),
        })
    }

    /// Statements up to the next arm (a line starting `pattern ->` or
    /// `pattern when`): one is the body, more a `Block`.
    fn arm_body(&mut self) -> Option<Expr> {
        let start = self.pos;
        let mut es = self.sep_by(
            1,
            false,
            |p| p.expr(),
            |p| {
                if !p.eat(&Token::Newline) {
                    return false;
                }
                let after = p.pos;
                let starts_arm =
                    p.pattern().is_some() && matches!(p.peek(), Some(Token::Arrow | Token::When));
                p.pos = after;
                !starts_arm
            },
        )?;
        Some(if es.len() == 1 {
            es.pop()?
        } else {
            mk(ExprKind::Block(es), self.span_from(start))
        })
    }

    // ---- items ----

    fn item_choice(&mut self) -> Option<Item> {
        let kw = if self.peek() == Some(&Token::Pub) {
            self.peek_at(1)
        } else {
            self.peek()
        };
        match kw? {
            Token::Fn => self.fn_item().map(Item::Fn),
            Token::Extern => self.extern_item(),
            Token::Type => self.type_item(),
            Token::Struct => self.struct_item(),
            Token::Service => self.service_item(),
            Token::Import if self.peek() == Some(&Token::Import) => self.import(),
            Token::From if self.peek() == Some(&Token::From) => self.from_import(),
            _ => None,
        }
    }

    fn fn_item(&mut self) -> Option<FnDef> {
        let start = self.pos;
        let public = self.eat(&Token::Pub);
        self.expect(&Token::Fn)?;
        let name = self.lower()?;
        let params = self.params()?;
        let ret = self.opt(|p| {
            p.expect(&Token::Arrow)?;
            p.type_expr()
        });
        let body = match self.peek()? {
            Token::Do => {
                let s = self.pos;
                self.pos += 1;
                self.nls();
                let es = self.stmts()?;
                self.nls();
                self.expect(&Token::End)?;
                mk(ExprKind::Block(es), self.span_from(s))
            }
            Token::Eq => {
                self.pos += 1;
                self.expr()?
            }
            _ => return None,
        };
        Some(FnDef {
            public,
            name,
            params,
            ret,
            body,
            span: self.span_from(start),
        })
    }

    fn extern_item(&mut self) -> Option<Item> {
        let start = self.pos;
        let public = self.eat(&Token::Pub);
        self.expect(&Token::Extern)?;
        self.expect(&Token::Fn)?;
        let name = self.lower()?;
        let params = self.params()?;
        let ret = self.opt(|p| {
            p.expect(&Token::Arrow)?;
            p.type_expr()
        });
        if params.iter().any(|p| p.ty.is_none()) {
            // Reported by the grammar.
            self.errored = true;
        }
        Some(Item::Extern(ExternFn {
            public,
            name,
            params,
            ret,
            span: self.span_from(start),
        }))
    }

    /// `<a, b>`, optional.
    fn type_params(&mut self) -> Vec<Ident> {
        self.opt(|p| {
            p.expect(&Token::Lt)?;
            let ps = p.sep_by(0, true, |p| p.lower(), |p| p.comma())?;
            p.expect(&Token::Gt)?;
            Some(ps)
        })
        .unwrap_or_default()
    }

    fn type_item(&mut self) -> Option<Item> {
        let start = self.pos;
        let public = self.eat(&Token::Pub);
        self.expect(&Token::Type)?;
        let name = self.upper()?;
        let params = self.type_params();
        let variants = self.opt(|p| {
            p.expect(&Token::Do)?;
            p.nls();
            let mut vs = Vec::new();
            loop {
                let before = p.pos;
                match p.variant() {
                    Some(v) => {
                        vs.push(v);
                        p.nls();
                    }
                    None => {
                        p.pos = before;
                        break;
                    }
                }
            }
            p.expect(&Token::End)?;
            Some(vs)
        });
        Some(Item::Type(TypeDef {
            public,
            name,
            params,
            opaque: variants.is_none(),
            variants: variants.unwrap_or_default(),
            span: self.span_from(start),
        }))
    }

    fn variant(&mut self) -> Option<Variant> {
        let start = self.pos;
        let name = self.upper()?;
        let fields = self.opt(|p| p.type_parens()).unwrap_or_default();
        Some(Variant {
            name,
            fields,
            span: self.span_from(start),
        })
    }

    fn struct_item(&mut self) -> Option<Item> {
        let start = self.pos;
        let public = self.eat(&Token::Pub);
        self.expect(&Token::Struct)?;
        let name = self.upper()?;
        let params = self.type_params();
        self.expect(&Token::Do)?;
        self.nls();
        let fields = self.sep_by(
            0,
            true,
            |p| {
                let start = p.pos;
                let name = p.lower()?;
                p.expect(&Token::ColonColon)?;
                let ty = p.type_expr()?;
                Some(FieldDef {
                    name,
                    ty,
                    span: p.span_from(start),
                })
            },
            |p| p.nls1(),
        )?;
        self.nls();
        self.expect(&Token::End)?;
        Some(Item::Struct(StructDef {
            public,
            name,
            params,
            fields,
            span: self.span_from(start),
        }))
    }

    fn service_item(&mut self) -> Option<Item> {
        enum Member {
            Init(FnDef),
            Handler(Handler),
        }
        let start = self.pos;
        let public = self.eat(&Token::Pub);
        self.expect(&Token::Service)?;
        let name = self.upper()?;
        self.expect(&Token::Do)?;
        self.nls();
        let members = self.sep_by(
            0,
            true,
            |p| {
                if matches!(p.peek(), Some(Token::Pub | Token::Fn)) {
                    if let Some(f) = p.opt(|p| p.fn_item()) {
                        return Some(Member::Init(f));
                    }
                }
                p.handler().map(Member::Handler)
            },
            |p| p.nls1(),
        )?;
        self.nls();
        self.expect(&Token::End)?;
        let mut init: Option<FnDef> = None;
        let mut handlers = Vec::new();
        for m in members {
            match m {
                Member::Init(f) if f.name.name == "init" && init.is_none() => init = Some(f),
                Member::Init(_) => self.errored = true,
                Member::Handler(h) => handlers.push(h),
            }
        }
        Some(Item::Service(ServiceDef {
            public,
            name,
            init,
            handlers,
            span: self.span_from(start),
        }))
    }

    fn handler(&mut self) -> Option<Handler> {
        let start = self.pos;
        let kind = match self.peek()? {
            Token::Lower(s) if &**s == "call" => HandlerKind::Call,
            Token::Lower(s) if &**s == "cast" => HandlerKind::Cast,
            _ => return None,
        };
        self.pos += 1;
        let name = self.upper()?;
        let params = self.opt(|p| p.params()).unwrap_or_default();
        let reply = self.opt(|p| {
            p.expect(&Token::ColonColon)?;
            p.type_expr()
        });
        self.expect(&Token::Do)?;
        self.expect(&Token::Bar)?;
        let state = self.param()?;
        self.expect(&Token::Bar)?;
        self.nls();
        let s = self.pos;
        let es = self.stmts()?;
        let body = mk(ExprKind::Block(es), self.span_from(s));
        self.nls();
        self.expect(&Token::End)?;
        Some(Handler {
            kind,
            name,
            params,
            reply,
            state,
            body,
            span: self.span_from(start),
        })
    }

    fn mod_path(&mut self) -> Option<ModPath> {
        let start = self.pos;
        let segments = self.sep_by(1, false, |p| p.upper(), |p| p.eat(&Token::Dot))?;
        Some(ModPath {
            segments,
            span: self.span_from(start),
        })
    }

    fn import(&mut self) -> Option<Item> {
        let start = self.pos;
        self.expect(&Token::Import)?;
        let path = self.mod_path()?;
        let alias = self.opt(|p| {
            if !Self::is_lower_named(p.peek(), "as") {
                return None;
            }
            p.pos += 1;
            p.upper()
        });
        Some(Item::Import {
            path,
            alias,
            span: self.span_from(start),
        })
    }

    // `from M import ...` (a parser method, not a constructor).
    #[allow(clippy::wrong_self_convention)]
    fn from_import(&mut self) -> Option<Item> {
        let start = self.pos;
        self.expect(&Token::From)?;
        let path = self.mod_path()?;
        self.expect(&Token::Import)?;
        let names = |p: &mut Self| {
            p.sep_by(
                1,
                true,
                |p| {
                    if Self::is_lower(p.peek()) {
                        p.lower()
                    } else {
                        p.upper()
                    }
                },
                |p| p.comma(),
            )
        };
        let paren = if self.peek() == Some(&Token::LParen) {
            self.opt(|p| {
                p.pos += 1;
                let ns = names(p)?;
                p.expect(&Token::RParen)?;
                Some(ns)
            })
        } else {
            None
        };
        let names = match paren {
            Some(ns) => ns,
            None => names(self)?,
        };
        Some(Item::FromImport {
            path,
            names,
            span: self.span_from(start),
        })
    }
}

/// `v` without spare capacity. A `Vec` grown by `push` starts at four
/// elements, and most lists in a program (call arguments, parameters,
/// `case` arms) have one or two: the tree is allocated once and kept for
/// the whole compilation, so its slack is memory the kernel must clear for
/// nothing (bench/RESULTS-compiler.md, "Where the memory goes").
fn fit<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}
