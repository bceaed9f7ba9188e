//! The chumsky grammar of one item (a function, extern, type, import).
//!
//! The token stream has already been split into items (see `parser/mod.rs`),
//! so this grammar parses one item at a time; newlines in the stream are only
//! the significant ones (see `lexer::filter_newlines`).

use crate::ast::*;
use crate::lexer::{TokSpan, Token};
use crate::span::{FileId, Span};
use chumsky::extra::ParserExtra;
use chumsky::input::{Input, ValueInput};
use chumsky::label::LabelError;
use chumsky::prelude::*;

/// The extra type of the diagnostic parse: rich errors with expected tokens
/// and labels. Slow (chumsky tracks every alternative), so items are first
/// parsed with [`FastExtra`] and only re-parsed with this one when that fails.
pub type Extra<'src> = extra::Err<Rich<'src, Token, TokSpan>>;

/// The extra type of the fast first parse: errors carry no information.
pub type FastExtra = extra::Err<EmptyErr>;

/// The message of the grammar's one custom error, followed by the parameter's
/// name: an `extern fn` parameter without a type.
pub const UNTYPED_EXTERN_PARAM: &str = "untyped extern parameter: ";

/// The message of the custom error for a `while` loop (Snow has none).
pub const WHILE_LOOP: &str = "while loop";

/// The message of the custom error for `x = e` (bindings are immutable),
/// followed by the name.
pub const REASSIGNMENT: &str = "reassignment: ";

/// The message of the custom error for an item a `service` body may not
/// hold, followed by what was found.
pub const SERVICE_MEMBER: &str = "service member: ";

/// Errors the grammar can raise itself (besides chumsky's expected/found).
pub trait CustomError: Sized {
    /// Does this error type carry diagnostics (else it only signals failure)?
    const RICH: bool;
    fn custom(span: TokSpan, msg: String) -> Self;
}

impl CustomError for EmptyErr {
    const RICH: bool = false;
    fn custom(_: TokSpan, _: String) -> Self {
        EmptyErr::default()
    }
}

impl<'src> CustomError for Rich<'src, Token, TokSpan> {
    const RICH: bool = true;
    fn custom(span: TokSpan, msg: String) -> Self {
        Rich::custom(span, msg)
    }
}

/// What the grammar needs of its extra type ([`Extra`] or [`FastExtra`]).
pub trait GrammarExtra<'src, I: Input<'src>>:
    ParserExtra<'src, I, Error = Self::Err, State = (), Context = ()> + 'src
{
    type Err: chumsky::error::Error<'src, I>
        + LabelError<'src, I, &'static str>
        + CustomError
        + 'src;
}

impl<'src, I, X> GrammarExtra<'src, I> for extra::Err<X>
where
    I: Input<'src>,
    X: chumsky::error::Error<'src, I> + LabelError<'src, I, &'static str> + CustomError + 'src,
{
    type Err = X;
}

/// The span of a node. chumsky gives a node that consumed no token (an empty
/// `else` block) a span ending before it starts; such a node is empty, at
/// its start.
fn sp(file: FileId, s: TokSpan) -> Span {
    Span::new(file, s.start as usize, s.end.max(s.start) as usize)
}

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

/// `x |> f` is `f(x)`; `x |> f(a)` is `f(x, a)`.
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

pub fn lower<'src, I, E>(file: FileId) -> impl Parser<'src, I, Ident, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    // `from` is only a keyword at the start of an item; elsewhere it is a
    // name (std's `String.replace(s, from, to)`).
    select! { Token::Lower(s) => String::from(&*s), Token::From => "from".to_string() }
        .map_with(move |name, e| Ident {
            name,
            span: sp(file, e.span()),
        })
        .labelled("a name")
}

pub fn upper<'src, I, E>(file: FileId) -> impl Parser<'src, I, Ident, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    select! { Token::Upper(s) => String::from(&*s) }
        .map_with(move |name, e| Ident {
            name,
            span: sp(file, e.span()),
        })
        .labelled("a capitalised name")
}

/// Optional newlines.
fn nls<'src, I, E>() -> impl Parser<'src, I, (), E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    just(Token::Newline).repeated().ignored()
}

pub fn type_expr<'src, I, E>(file: FileId) -> impl Parser<'src, I, TypeExpr, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    recursive(move |ty| {
        let list = ty
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>();
        let fun = just(Token::Upper("Fun".into()))
            .ignore_then(
                list.clone()
                    .delimited_by(just(Token::LParen), just(Token::RParen)),
            )
            .then_ignore(just(Token::Arrow))
            .then(ty.clone())
            .map(|(params, ret)| TypeExprKind::Fun {
                params,
                ret: Box::new(ret),
            });
        // `()`, `(T)` (a parenthesised type) and tuples `(T, U, ...)`.
        let paren = list
            .clone()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map(|mut ts: Vec<TypeExpr>| match ts.len() {
                0 => TypeExprKind::Unit,
                1 => ts.pop().map(|t| t.kind).unwrap_or(TypeExprKind::Unit),
                _ => TypeExprKind::Tuple(ts),
            });
        let type_args = list
            .delimited_by(just(Token::Lt), just(Token::Gt))
            .or_not()
            .map(Option::unwrap_or_default);
        // `Int`, `List<a>`, or `Rooms.Room<a>` (a type of an imported module).
        let named = upper(file)
            .then(just(Token::Dot).ignore_then(upper(file)).or_not())
            .then(type_args.clone())
            .map(|((first, second), args)| match second {
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
            });
        // A type variable; `f<Int>` parses so that the checker can say that
        // a type variable takes no arguments.
        let var = lower(file)
            .then(type_args)
            .map(|(name, args)| TypeExprKind::Named {
                module: None,
                name,
                args,
            });
        choice((fun, paren, named, var))
            .map_with(move |kind, e| TypeExpr {
                kind,
                span: sp(file, e.span()),
            })
            .labelled("a type")
    })
}

/// `Name` or `Module.Name` (capitalised): `(module, name)`.
fn qualified_upper<'src, I, E>(
    file: FileId,
) -> impl Parser<'src, I, (Option<Ident>, Ident), E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    upper(file)
        .then(just(Token::Dot).ignore_then(upper(file)).or_not())
        .map(|(first, second)| match second {
            Some(name) => (Some(first), name),
            None => (None, first),
        })
}

pub fn pattern<'src, I, E>(file: FileId) -> impl Parser<'src, I, Pattern, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    recursive(move |pat| {
        let num = just(Token::Minus).or_not().then(select! {
            Token::Int(n) => PatternKind::Int(n),
            Token::Float(x) => PatternKind::Float(x),
        });
        let num = num.map(|(neg, k)| match (neg.is_some(), k) {
            (true, PatternKind::Int(n)) => PatternKind::Int(n.wrapping_neg()),
            (true, PatternKind::Float(x)) => PatternKind::Float(-x),
            (_, k) => k,
        });
        let string = just(Token::StrStart)
            .ignore_then(select! { Token::StrChunk(s) => String::from(&*s) }.or_not())
            .then_ignore(just(Token::StrEnd))
            .map(|s| PatternKind::Str(s.unwrap_or_default()));
        let lit = select! {
            Token::True => PatternKind::Bool(true),
            Token::False => PatternKind::Bool(false),
            Token::Nil => PatternKind::Nil,
        };
        let name = lower(file).map(|id| {
            if id.name == "_" {
                PatternKind::Wildcard
            } else {
                PatternKind::Bind(id)
            }
        });
        let ctor_args = pat
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(just(Token::LParen), just(Token::RParen));
        // `field: pattern`, or `field` alone: a binding of that name.
        let field_pat = lower(file)
            .then(just(Token::Colon).ignore_then(pat.clone()).or_not())
            .map(|(name, p)| {
                let pattern = p.unwrap_or_else(|| Pattern {
                    kind: if name.name == "_" {
                        PatternKind::Wildcard
                    } else {
                        PatternKind::Bind(name.clone())
                    },
                    span: name.span,
                });
                FieldPat { name, pattern }
            });
        let struct_fields = field_pat
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(just(Token::LBrace), just(Token::RBrace));
        let ctor = qualified_upper(file)
            .then(
                ctor_args
                    .map(|a| (Some(a), None))
                    .or(struct_fields.map(|f| (None, Some(f))))
                    .or_not(),
            )
            .map(|((module, name), rest)| match rest {
                Some((_, Some(fields))) => PatternKind::Struct {
                    module,
                    name,
                    fields,
                },
                Some((args, None)) => PatternKind::Ctor {
                    module,
                    name,
                    args: args.unwrap_or_default(),
                },
                None => PatternKind::Ctor {
                    module,
                    name,
                    args: Vec::new(),
                },
            });
        // `()`, `(p)` and tuples `(p, q, ...)`.
        let paren = pat
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<Pattern>>()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map(|mut ps| match ps.len() {
                0 => PatternKind::Nil,
                1 => ps.pop().map(|p| p.kind).unwrap_or(PatternKind::Nil),
                _ => PatternKind::Tuple(ps),
            });
        let list = pat
            .clone()
            .separated_by(just(Token::Comma))
            .at_least(1)
            .collect::<Vec<Pattern>>()
            .then(just(Token::Bar).ignore_then(pat.clone()).or_not())
            .or_not()
            .delimited_by(just(Token::LBracket), just(Token::RBracket))
            .map_with(move |inner, e| {
                let whole = sp(file, e.span());
                let Some((elems, tail)) = inner else {
                    return PatternKind::EmptyList;
                };
                let mut acc = tail.unwrap_or(Pattern {
                    kind: PatternKind::EmptyList,
                    span: Span::new(file, whole.end as usize - 1, whole.end as usize),
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
                // The outermost cons spans the brackets.
                acc.kind
            });
        choice((num, string, lit, name, ctor, paren, list))
            .map_with(move |kind, e| Pattern {
                kind,
                span: sp(file, e.span()),
            })
            .labelled("a pattern")
    })
}

fn params<'src, I, E>(file: FileId) -> impl Parser<'src, I, Vec<Param>, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    lower(file)
        .then(
            just(Token::ColonColon)
                .ignore_then(type_expr(file))
                .or_not(),
        )
        .map_with(move |(name, ty), e| Param {
            name,
            ty,
            span: sp(file, e.span()),
        })
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LParen), just(Token::RParen))
}

/// Error recovery of the diagnostic parse: the rest of a statement that
/// failed to parse, up to (not including) the next newline or `end` (or
/// `else`, in an `if` branch: `in_if`) outside the blocks it opens itself,
/// as an `Error` expression. The statements after it are then parsed, and
/// their own errors reported, instead of the whole item failing at its
/// first error. Fails without consuming anything at such a token or at the
/// end of the item, so a block's normal end is not taken for an error.
fn skip_statement<'src, I, E>(file: FileId, in_if: bool) -> impl Parser<'src, I, Expr, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    custom(move |inp| skip_to_statement_end(file, in_if, inp))
}

fn skip_to_statement_end<'src, 'parse, I, E>(
    file: FileId,
    in_if: bool,
    inp: &mut chumsky::input::InputRef<'src, 'parse, I, E>,
) -> Result<Expr, E::Error>
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    let start = inp.cursor();
    // Blocks the statement opened itself (`do`, a lambda's `->`, `${`),
    // closed by `end` (`}`). Brackets need no counting: the lexer keeps no
    // newline inside a bracket (an unclosed one ends at its line).
    let mut depth = 0usize;
    // Paren depths at which a lambda's parameter list opened, and whether
    // the last token closed one (then its `->` opens its body).
    let mut lambda_parens: Vec<usize> = Vec::new();
    let mut parens = 0usize;
    let mut prev_fn = false;
    let mut closed_lambda_params = false;
    let mut consumed = false;
    // `if`, `case` or `for` whose `do` is missing: its block still ends
    // with an `end`, so the statement does too.
    let mut wants_do = false;
    while let Some(t) = inp.peek_maybe() {
        let t: Token = t.into_inner();
        let after_params = std::mem::take(&mut closed_lambda_params);
        if !consumed {
            wants_do = matches!(t, Token::If | Token::Case | Token::For);
        }
        if t == Token::Do {
            wants_do = false;
        }
        match t {
            Token::Newline if depth == 0 && wants_do => {
                wants_do = false;
                depth += 1;
            }
            Token::Newline | Token::End if depth == 0 => break,
            Token::Else if depth == 0 && in_if => break,
            Token::End | Token::InterpEnd => depth = depth.saturating_sub(1),
            Token::Do | Token::InterpStart => depth += 1,
            Token::Arrow if after_params => depth += 1,
            Token::LParen => {
                if prev_fn {
                    lambda_parens.push(parens);
                }
                parens += 1;
            }
            Token::RParen => {
                parens = parens.saturating_sub(1);
                if lambda_parens.last() == Some(&parens) {
                    lambda_parens.pop();
                    closed_lambda_params = true;
                }
            }
            _ => {}
        }
        prev_fn = t == Token::Fn;
        inp.skip();
        consumed = true;
    }
    if !consumed {
        // Nothing to skip: fail (the original error stands).
        inp.parse(empty().not())?;
    }
    Ok(mk(ExprKind::Error, sp(file, inp.span_since(&start))))
}

/// A statement of a block: an expression, which in the diagnostic parse
/// recovers from an error by skipping the rest of the statement. A
/// statement ends at a newline or `end` (or `else` in an `if` branch:
/// `in_if`); an expression followed by anything else is an error there,
/// recovered from too. (The fast parse needs no recovery: an item with an
/// error is parsed again.)
fn statement<'src, I, E, P>(file: FileId, expr: P, in_if: bool) -> Boxed<'src, 'src, I, Expr, E>
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
    P: Parser<'src, I, Expr, E> + Clone + 'src,
{
    if <E::Err as CustomError>::RICH {
        let enders = if in_if {
            vec![Token::Newline, Token::End, Token::Else]
        } else {
            vec![Token::Newline, Token::End]
        };
        // (The end of the item also ends a statement, without showing in
        // "expected" lists.)
        let enders = one_of(enders).ignored();
        let ends = custom(move |inp| match inp.peek_maybe() {
            None => Ok(()),
            Some(_) => inp.parse(&enders),
        });
        expr.then_ignore(ends.rewind())
            .recover_with(via_parser(skip_statement(file, in_if)))
            .boxed()
    } else {
        expr.boxed()
    }
}

/// The `end` closing a block. The diagnostic parse accepts its absence at
/// the end of the item (reporting it), so that the item's other errors are
/// kept: the block whose `end` is missing is found and reported by
/// `balance::unclosed`, and this error is then dropped as its consequence.
fn close<'src, I, E>() -> Boxed<'src, 'src, I, (), E>
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    if <E::Err as CustomError>::RICH {
        // At the end of the item the recovery succeeds; elsewhere it fails
        // like `end` itself, so "expected" lists do not grow.
        let at_end = custom(|inp| match inp.peek_maybe() {
            None => Ok(()),
            Some(_) => inp.parse(just(Token::End).ignored()),
        });
        just(Token::End)
            .ignored()
            .recover_with(via_parser(at_end))
            .boxed()
    } else {
        just(Token::End).ignored().boxed()
    }
}

pub fn expr<'src, I, E>(file: FileId) -> impl Parser<'src, I, Expr, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    recursive(move |expr| {
        let err_expr = move |s: TokSpan| mk(ExprKind::Error, sp(file, s));

        // A sequence of newline-separated expressions, up to (not including) `end`/`else`.
        let stmt = statement(file, expr.clone(), false);
        let block_of = move |stmt: Boxed<'src, 'src, I, Expr, E>| {
            nls()
                .ignore_then(
                    stmt.separated_by(just(Token::Newline).repeated().at_least(1))
                        .allow_trailing()
                        .collect::<Vec<Expr>>(),
                )
                .then_ignore(nls())
                .map_with(move |es, e| mk(ExprKind::Block(es), sp(file, e.span())))
        };
        let block = block_of(stmt.clone());
        // The branches of an `if`, which also end at `else`.
        let if_block = block_of(statement(file, expr.clone(), true));

        let args = expr
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<Expr>>()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .recover_with(via_parser(nested_delimiters(
                Token::LParen,
                Token::RParen,
                [(Token::LBracket, Token::RBracket)],
                move |s| vec![err_expr(s)],
            )));

        let literal = select! {
            Token::Int(n) => ExprKind::Int(n),
            Token::Float(x) => ExprKind::Float(x),
            Token::True => ExprKind::Bool(true),
            Token::False => ExprKind::Bool(false),
            Token::Nil => ExprKind::Nil,
        };

        let interp = just(Token::InterpStart)
            .ignore_then(nls())
            .ignore_then(expr.clone())
            .then_ignore(nls())
            .then_ignore(just(Token::InterpEnd))
            .map(StrPart::Interp);
        let string = just(Token::StrStart)
            .ignore_then(
                select! { Token::StrChunk(s) => StrPart::Lit(String::from(&*s)) }
                    .or(interp)
                    .repeated()
                    .collect::<Vec<_>>(),
            )
            .then_ignore(just(Token::StrEnd))
            .map(ExprKind::Str);

        // `[a, b]`, and `[a, b | tail]` (prepend).
        let list = expr
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .then(just(Token::Bar).ignore_then(expr.clone()).or_not())
            .delimited_by(just(Token::LBracket), just(Token::RBracket))
            .map(|(items, tail)| match tail {
                Some(tail) if !items.is_empty() => ExprKind::Cons {
                    items,
                    tail: Box::new(tail),
                },
                // `[| t]` has nothing to prepend: an error, reported as a
                // missing element by the checker's caller (the parser
                // keeps the tree); treat it as `t`.
                Some(tail) => tail.kind,
                None => ExprKind::List(items),
            })
            .recover_with(via_parser(nested_delimiters(
                Token::LBracket,
                Token::RBracket,
                [(Token::LParen, Token::RParen)],
                |_| ExprKind::Error,
            )));

        // `()`, `(e)` and tuples `(a, b, ...)`.
        let paren = expr
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<Expr>>()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map(|mut es| match es.len() {
                0 => ExprKind::Nil,
                1 => es.pop().map(|e| e.kind).unwrap_or(ExprKind::Nil),
                _ => ExprKind::Tuple(es),
            })
            .recover_with(via_parser(nested_delimiters(
                Token::LParen,
                Token::RParen,
                [(Token::LBracket, Token::RBracket)],
                |_| ExprKind::Error,
            )));

        // `name: value` (or `name` alone: `name: name`) in struct literals and updates.
        let field_init = lower(file)
            .then(just(Token::Colon).ignore_then(expr.clone()).or_not())
            .map_with(move |(name, value), _e| {
                let value = value.unwrap_or_else(|| mk(ExprKind::Var(name.clone()), name.span));
                FieldInit { name, value }
            });
        let field_inits = field_init
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>();
        let struct_body = field_inits
            .clone()
            .delimited_by(just(Token::LBrace), just(Token::RBrace));

        // `Module.name`, `Module.Ctor` and `Module.Struct { .. }`.
        let qualified = upper(file)
            .then_ignore(just(Token::Dot))
            .then(lower(file))
            .map(|(module, name)| ExprKind::Qualified {
                module: Box::new(module),
                name,
            });
        let qualified_ctor = upper(file)
            .then_ignore(just(Token::Dot))
            .then(upper(file))
            .then(struct_body.clone().or_not())
            .map(|((module, name), fields)| match fields {
                Some(fields) => ExprKind::StructLit {
                    module: Some(Box::new(module)),
                    name,
                    fields,
                },
                None => ExprKind::QualifiedCtor {
                    module: Box::new(module),
                    name,
                },
            });
        let ctor =
            upper(file)
                .then(struct_body.clone().or_not())
                .map(|(name, fields)| match fields {
                    Some(fields) => ExprKind::StructLit {
                        module: None,
                        name,
                        fields,
                    },
                    None => ExprKind::Ctor(name),
                });
        let var = lower(file).map(ExprKind::Var);

        // `%{u | age: 1}`
        let update = just(Token::Percent)
            .ignore_then(just(Token::LBrace))
            .ignore_then(expr.clone())
            .then_ignore(just(Token::Bar))
            .then(field_inits)
            .then_ignore(just(Token::RBrace))
            .map(|(e, fields)| ExprKind::Update {
                expr: Box::new(e),
                fields,
            });

        let let_ = just(Token::Let)
            .ignore_then(pattern(file))
            .then(
                just(Token::ColonColon)
                    .ignore_then(type_expr(file))
                    .or_not(),
            )
            .then_ignore(just(Token::Eq))
            .then(expr.clone())
            .map(|((pattern, ty), value)| ExprKind::Let {
                pattern: Box::new(pattern),
                ty: ty.map(Box::new),
                value: Box::new(value),
            });

        // What Snow does not have, recognised so that the error says what
        // to do instead: `while c do .. end` and `x = e`.
        let while_ = just(Token::Lower("while".into()))
            .map_with(|_, e| e.span())
            .then_ignore(expr.clone())
            .then_ignore(just(Token::Do))
            .then_ignore(block.clone())
            .then_ignore(close())
            .validate(|kw: TokSpan, _, emitter| {
                emitter.emit(E::Err::custom(kw, WHILE_LOOP.to_string()));
                ExprKind::Error
            });
        let reassign = lower(file)
            .then_ignore(just(Token::Eq))
            .then_ignore(expr.clone())
            .validate(|name, e, emitter| {
                emitter.emit(E::Err::custom(
                    e.span(),
                    format!("{REASSIGNMENT}{}", name.name),
                ));
                ExprKind::Error
            });

        // `if c do .. else if c2 do .. else .. end`: one `end` for the chain.
        let if_chain = recursive(|if_chain| {
            just(Token::If)
                .ignore_then(expr.clone())
                .then_ignore(just(Token::Do))
                .then(if_block.clone())
                .then(
                    just(Token::Else)
                        .ignore_then(if_chain.or(if_block.clone()))
                        .or_not(),
                )
                .map_with(move |((cond, then), else_), e| {
                    mk(
                        ExprKind::If {
                            cond: Box::new(cond),
                            then: Box::new(then),
                            else_: else_.map(Box::new),
                        },
                        sp(file, e.span()),
                    )
                })
        });
        let if_ = if_chain.then_ignore(close()).map(|e: Expr| e.kind);

        // A new arm starts at `pattern ->` or `pattern when`.
        let arm_start = pattern(file).then(just(Token::Arrow).or(just(Token::When)));
        let arm_body = stmt
            .clone()
            .separated_by(just(Token::Newline).then(arm_start.not()))
            .at_least(1)
            .collect::<Vec<Expr>>()
            .map_with(move |mut es, e| {
                if es.len() == 1 {
                    es.pop()
                        .unwrap_or_else(|| mk(ExprKind::Error, sp(file, e.span())))
                } else {
                    mk(ExprKind::Block(es), sp(file, e.span()))
                }
            });
        // `pattern -> do ... end`: a block as the arm's body.
        let arm_do = just(Token::Do)
            .ignore_then(block.clone())
            .then_ignore(close());
        let arm = pattern(file)
            .then(just(Token::When).ignore_then(expr.clone()).or_not())
            .then_ignore(just(Token::Arrow))
            .then(arm_do.or(arm_body))
            .map_with(move |((pattern, guard), body), e| Arm {
                pattern,
                guard,
                body,
                span: sp(file, e.span()),
            });
        // An arm that fails to parse is skipped like a statement (its
        // placeholder pattern never reaches the checker: a file with
        // syntax errors is not checked).
        let arm = if <E::Err as CustomError>::RICH {
            arm.recover_with(via_parser(skip_statement(file, false).map(|body| Arm {
                pattern: Pattern {
                    kind: PatternKind::Wildcard,
                    span: body.span,
                },
                guard: None,
                span: body.span,
                body,
            })))
            .boxed()
        } else {
            arm.boxed()
        };
        let case = just(Token::Case)
            .ignore_then(expr.clone())
            .then_ignore(just(Token::Do))
            .then_ignore(nls())
            .then(
                arm.separated_by(just(Token::Newline).repeated().at_least(1))
                    .allow_trailing()
                    .collect::<Vec<_>>(),
            )
            .then_ignore(nls())
            .then_ignore(close())
            .map(|(scrutinee, arms)| ExprKind::Case {
                scrutinee: Box::new(scrutinee),
                arms,
            });

        let for_ = just(Token::For)
            .ignore_then(pattern(file))
            .then_ignore(just(Token::In))
            .then(expr.clone())
            .then_ignore(just(Token::Do))
            .then(block.clone())
            .then_ignore(close())
            .map(|((pattern, iter), body)| ExprKind::For {
                pattern: Box::new(pattern),
                iter: Box::new(iter),
                body: Box::new(body),
            });

        let lambda = just(Token::Fn)
            .ignore_then(params(file))
            .then_ignore(just(Token::Arrow).or(just(Token::Do)))
            .then(block.clone())
            .then_ignore(close())
            .map(|(params, body)| ExprKind::Lambda {
                params,
                body: Box::new(body),
            });

        let atom = choice((
            literal,
            string,
            list,
            paren,
            qualified,
            qualified_ctor,
            ctor,
            update,
            while_,
            reassign,
            var,
            let_,
            if_,
            case,
            for_,
            lambda,
        ))
        .map_with(move |kind, e| mk(kind, sp(file, e.span())))
        .labelled("an expression");

        // Postfix: calls `f(x)` and field accesses `u.name`, left to right.
        enum Postfix {
            Args(Vec<Expr>),
            Field(Ident),
        }
        let postfix = args.map(Postfix::Args).or(just(Token::Dot)
            .ignore_then(lower(file))
            .map(Postfix::Field));
        let call = atom.foldl_with(postfix.repeated(), move |target, post, e| {
            let kind = match post {
                Postfix::Args(args) => ExprKind::Call {
                    callee: Box::new(target),
                    args,
                },
                Postfix::Field(field) => ExprKind::Field {
                    expr: Box::new(target),
                    field,
                },
            };
            mk(kind, sp(file, e.span()))
        });

        let unary_op = select! {
            Token::Minus => UnOp::Neg,
            Token::Bang => UnOp::Not,
            Token::Not => UnOp::Not,
        };
        let unary = unary_op
            .map_with(move |op, e| (op, sp(file, e.span())))
            .repeated()
            .foldr_with(call, move |(op, s), operand: Expr, _e| {
                let span = s.to(operand.span);
                mk(
                    ExprKind::Unary {
                        op,
                        expr: Box::new(operand),
                    },
                    span,
                )
            })
            .boxed();

        fn level<'src, I, E, P, O>(
            file: FileId,
            operand: P,
            ops: O,
        ) -> Boxed<'src, 'src, I, Expr, E>
        where
            I: ValueInput<'src, Token = Token, Span = TokSpan>,
            E: GrammarExtra<'src, I>,
            P: Parser<'src, I, Expr, E> + Clone + 'src,
            O: Parser<'src, I, Token, E> + Clone + 'src,
        {
            operand
                .clone()
                .foldl_with(ops.then(operand).repeated(), move |lhs, (op, rhs), e| {
                    let span = sp(file, e.span());
                    match binop(&op) {
                        Some(op) => mk(
                            ExprKind::Binary {
                                op,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            },
                            span,
                        ),
                        None => pipe(lhs, rhs, span),
                    }
                })
                .boxed()
        }

        if !<E::Err as CustomError>::RICH {
            // Fast parse: one precedence-climbing loop instead of eight
            // nested levels. Accepts exactly the language (and builds exactly
            // the tree and spans) of the chain below, which only the
            // diagnostic parse uses, for its expected-token bookkeeping.
            return custom(move |inp| climb(file, inp, &unary, 1))
                .labelled("an expression")
                .boxed();
        }
        let product = level(
            file,
            unary,
            one_of([Token::Star, Token::Slash, Token::Percent]),
        );
        let sum = level(file, product, one_of([Token::Plus, Token::Minus]));
        let concat = level(file, sum, just(Token::Concat));
        let piped = level(file, concat, just(Token::Pipe));
        let cmp = level(
            file,
            piped,
            one_of([Token::Lt, Token::Le, Token::Gt, Token::Ge]),
        );
        let eq = level(file, cmp, one_of([Token::EqEq, Token::NotEq]));
        let and = level(file, eq, one_of([Token::And, Token::AndAnd]));
        level(file, and, one_of([Token::Or, Token::OrOr]))
            .labelled("an expression")
            .boxed()
    })
}

/// Binding power of a binary operator (higher binds tighter); all are
/// left-associative. Must match the levels of the chain in [`expr`].
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

/// Precedence climbing over `operand (op operand)*` for the fast parse: the
/// operators binding at least `min`. Like the chain of `foldl`s, an operator
/// whose right operand fails to parse is left unconsumed.
fn climb<'src, 'parse, I, E, P>(
    file: FileId,
    inp: &mut chumsky::input::InputRef<'src, 'parse, I, E>,
    operand: &P,
    min: u8,
) -> Result<Expr, E::Error>
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
    P: Parser<'src, I, Expr, E>,
{
    let start = inp.cursor();
    let mut lhs = inp.parse(operand)?;
    loop {
        let before = inp.save();
        let (op, prec) = match inp.peek_maybe() {
            Some(t) => match precedence(&t) {
                Some(p) if p >= min => (t.into_inner(), p),
                _ => break,
            },
            None => break,
        };
        inp.skip();
        match climb(file, inp, operand, prec + 1) {
            Ok(rhs) => {
                let span = sp(file, inp.span_since(&start));
                lhs = match binop(&op) {
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
            Err(_) => {
                inp.rewind(before);
                break;
            }
        }
    }
    Ok(lhs)
}

/// One top-level item, surrounded by optional newlines.
pub fn item<'src, I, E>(file: FileId) -> impl Parser<'src, I, Item, E> + Clone
where
    I: ValueInput<'src, Token = Token, Span = TokSpan>,
    E: GrammarExtra<'src, I>,
{
    let public = just(Token::Pub).or_not().map(|p| p.is_some());
    let ret = just(Token::Arrow).ignore_then(type_expr(file)).or_not();

    let body_block = just(Token::Do)
        .ignore_then(nls())
        .ignore_then(
            statement(file, expr(file), false)
                .separated_by(just(Token::Newline).repeated().at_least(1))
                .allow_trailing()
                .collect::<Vec<Expr>>(),
        )
        .then_ignore(nls())
        .then_ignore(close())
        .map_with(move |es, e| mk(ExprKind::Block(es), sp(file, e.span())));
    let body_expr = just(Token::Eq).ignore_then(expr(file));

    let fn_item = public
        .clone()
        .then_ignore(just(Token::Fn))
        .then(lower(file))
        .then(params(file))
        .then(ret.clone())
        .then(body_block.or(body_expr))
        .map_with(move |((((public, name), params), ret), body), e| {
            Item::Fn(FnDef {
                public,
                name,
                params,
                ret,
                body,
                span: sp(file, e.span()),
            })
        });

    let extern_item = public
        .clone()
        .then_ignore(just(Token::Extern))
        .then_ignore(just(Token::Fn))
        .then(lower(file))
        .then(params(file))
        .then(ret)
        .validate(move |(((public, name), params), ret), e, emitter| {
            for p in &params {
                if p.ty.is_none() {
                    let s = TokSpan::from(p.span.start..p.span.end);
                    emitter.emit(E::Err::custom(
                        s,
                        format!("{UNTYPED_EXTERN_PARAM}{}", p.name.name),
                    ));
                }
            }
            let _ = e;
            (((public, name), params), ret)
        })
        .map_with(move |(((public, name), params), ret), e| {
            Item::Extern(ExternFn {
                public,
                name,
                params,
                ret,
                span: sp(file, e.span()),
            })
        });

    let variant = upper(file)
        .then(
            type_expr(file)
                .separated_by(just(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(just(Token::LParen), just(Token::RParen))
                .or_not()
                .map(Option::unwrap_or_default),
        )
        .map_with(move |(name, fields), e| Variant {
            name,
            fields,
            span: sp(file, e.span()),
        });
    let type_item = public
        .clone()
        .then_ignore(just(Token::Type))
        .then(upper(file))
        .then(
            lower(file)
                .separated_by(just(Token::Comma))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(just(Token::Lt), just(Token::Gt))
                .or_not()
                .map(Option::unwrap_or_default),
        )
        .then(
            just(Token::Do)
                .ignore_then(nls())
                .ignore_then(variant.then_ignore(nls()).repeated().collect::<Vec<_>>())
                .then_ignore(just(Token::End))
                .or_not(),
        )
        .map_with(move |(((public, name), params), variants), e| {
            Item::Type(TypeDef {
                public,
                name,
                params,
                opaque: variants.is_none(),
                variants: variants.unwrap_or_default(),
                span: sp(file, e.span()),
            })
        });

    let field = lower(file)
        .then_ignore(just(Token::ColonColon))
        .then(type_expr(file))
        .map_with(move |(name, ty), e| FieldDef {
            name,
            ty,
            span: sp(file, e.span()),
        });
    let type_params = lower(file)
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::Lt), just(Token::Gt))
        .or_not()
        .map(Option::unwrap_or_default);
    let struct_item = public
        .clone()
        .then_ignore(just(Token::Struct))
        .then(upper(file))
        .then(type_params)
        .then_ignore(just(Token::Do))
        .then_ignore(nls())
        .then(
            field
                .separated_by(just(Token::Newline).repeated().at_least(1))
                .allow_trailing()
                .collect::<Vec<_>>(),
        )
        .then_ignore(nls())
        .then_ignore(close())
        .map_with(move |(((public, name), params), fields), e| {
            Item::Struct(StructDef {
                public,
                name,
                params,
                fields,
                span: sp(file, e.span()),
            })
        });

    // A service: `fn init(..)` and `call`/`cast` handlers.
    let handler_kind = select! {
        Token::Lower(s) if &*s == "call" => HandlerKind::Call,
        Token::Lower(s) if &*s == "cast" => HandlerKind::Cast,
    };
    let state_param = lower(file)
        .then(
            just(Token::ColonColon)
                .ignore_then(type_expr(file))
                .or_not(),
        )
        .map_with(move |(name, ty), e| Param {
            name,
            ty,
            span: sp(file, e.span()),
        })
        .delimited_by(just(Token::Bar), just(Token::Bar));
    let handler_body = just(Token::Do)
        .ignore_then(state_param)
        .then(
            nls().ignore_then(
                statement(file, expr(file), false)
                    .separated_by(just(Token::Newline).repeated().at_least(1))
                    .allow_trailing()
                    .collect::<Vec<Expr>>()
                    .map_with(move |es, e| mk(ExprKind::Block(es), sp(file, e.span()))),
            ),
        )
        .then_ignore(nls())
        .then_ignore(close());
    let handler = handler_kind
        .then(upper(file))
        .then(params(file).or_not().map(Option::unwrap_or_default))
        .then(
            just(Token::ColonColon)
                .ignore_then(type_expr(file))
                .or_not(),
        )
        .then(handler_body)
        .map_with(
            move |((((kind, name), params), reply), (state, body)), e| Handler {
                kind,
                name,
                params,
                reply,
                state,
                body,
                span: sp(file, e.span()),
            },
        );
    enum Member {
        Init(FnDef),
        Handler(Handler),
    }
    let member = fn_item
        .clone()
        .map(|it| match it {
            Item::Fn(f) => Member::Init(f),
            _ => unreachable!("fn_item gives functions"),
        })
        .or(handler.map(Member::Handler));
    let service_item = public
        .clone()
        .then_ignore(just(Token::Service))
        .then(upper(file))
        .then_ignore(just(Token::Do))
        .then_ignore(nls())
        .then(
            member
                .separated_by(just(Token::Newline).repeated().at_least(1))
                .allow_trailing()
                .collect::<Vec<_>>(),
        )
        .then_ignore(nls())
        .then_ignore(close())
        .validate(move |((public, name), members), e, emitter| {
            let mut init: Option<FnDef> = None;
            let mut handlers = Vec::new();
            for m in members {
                match m {
                    Member::Init(f) if f.name.name == "init" && init.is_none() => init = Some(f),
                    Member::Init(f) => {
                        let s = TokSpan::from(f.name.span.start..f.name.span.end);
                        emitter.emit(E::Err::custom(
                            s,
                            format!("{SERVICE_MEMBER}fn {}", f.name.name),
                        ));
                    }
                    Member::Handler(h) => handlers.push(h),
                }
            }
            ServiceDef {
                public,
                name,
                init,
                handlers,
                span: sp(file, e.span()),
            }
        })
        .map(Item::Service);

    let mod_path = upper(file)
        .separated_by(just(Token::Dot))
        .at_least(1)
        .collect::<Vec<_>>()
        .map_with(move |segments, e| ModPath {
            segments,
            span: sp(file, e.span()),
        });
    let import = just(Token::Import)
        .ignore_then(mod_path.clone())
        .then(
            just(Token::Lower("as".into()))
                .ignore_then(upper(file))
                .or_not(),
        )
        .map_with(move |(path, alias), e| Item::Import {
            path,
            alias,
            span: sp(file, e.span()),
        });
    let import_name = lower(file).or(upper(file));
    let import_names = import_name
        .separated_by(just(Token::Comma))
        .at_least(1)
        .allow_trailing()
        .collect::<Vec<_>>();
    let from = just(Token::From)
        .ignore_then(mod_path)
        .then_ignore(just(Token::Import))
        .then(
            import_names
                .clone()
                .delimited_by(just(Token::LParen), just(Token::RParen))
                .or(import_names),
        )
        .map_with(move |(path, names), e| Item::FromImport {
            path,
            names,
            span: sp(file, e.span()),
        });

    nls()
        .ignore_then(
            choice((
                fn_item,
                extern_item,
                type_item,
                struct_item,
                service_item,
                import,
                from,
            ))
            .labelled("an item (fn, type, struct, service, import, from)"),
        )
        .then_ignore(nls())
}
