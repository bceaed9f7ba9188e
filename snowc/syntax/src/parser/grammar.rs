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
        let unit = just(Token::LParen)
            .then(just(Token::RParen))
            .to(TypeExprKind::Unit);
        let type_args = list
            .delimited_by(just(Token::Lt), just(Token::Gt))
            .or_not()
            .map(Option::unwrap_or_default);
        let named = upper(file)
            .then(type_args.clone())
            .map(|(name, args)| TypeExprKind::Named { name, args });
        // A type variable; `f<Int>` parses so that the checker can say that
        // a type variable takes no arguments.
        let var = lower(file)
            .then(type_args)
            .map(|(name, args)| TypeExprKind::Named { name, args });
        choice((fun, unit, named, var))
            .map_with(move |kind, e| TypeExpr {
                kind,
                span: sp(file, e.span()),
            })
            .labelled("a type")
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
        let ctor = upper(file)
            .then(
                pat.clone()
                    .separated_by(just(Token::Comma))
                    .allow_trailing()
                    .collect::<Vec<_>>()
                    .delimited_by(just(Token::LParen), just(Token::RParen))
                    .or_not()
                    .map(Option::unwrap_or_default),
            )
            .map(|(name, args)| PatternKind::Ctor { name, args });
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
        choice((num, string, lit, name, ctor, list))
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

        let list = expr
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .delimited_by(just(Token::LBracket), just(Token::RBracket))
            .map(ExprKind::List)
            .recover_with(via_parser(nested_delimiters(
                Token::LBracket,
                Token::RBracket,
                [(Token::LParen, Token::RParen)],
                |_| ExprKind::Error,
            )));

        let paren = expr
            .clone()
            .delimited_by(just(Token::LParen), just(Token::RParen))
            .map(|e: Expr| e.kind)
            .recover_with(via_parser(nested_delimiters(
                Token::LParen,
                Token::RParen,
                [(Token::LBracket, Token::RBracket)],
                |_| ExprKind::Error,
            )));
        let unit = just(Token::LParen)
            .then(just(Token::RParen))
            .to(ExprKind::Nil);

        let qualified = upper(file)
            .then_ignore(just(Token::Dot))
            .then(lower(file))
            .map(|(module, name)| ExprKind::Qualified {
                module: Box::new(module),
                name,
            });
        let ctor = upper(file).map(ExprKind::Ctor);
        let var = lower(file).map(ExprKind::Var);

        let let_ = just(Token::Let)
            .ignore_then(lower(file))
            .then(
                just(Token::ColonColon)
                    .ignore_then(type_expr(file))
                    .or_not(),
            )
            .then_ignore(just(Token::Eq))
            .then(expr.clone())
            .map(|((name, ty), value)| ExprKind::Let {
                name,
                ty: ty.map(Box::new),
                value: Box::new(value),
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
        let arm = pattern(file)
            .then(just(Token::When).ignore_then(expr.clone()).or_not())
            .then_ignore(just(Token::Arrow))
            .then(arm_body)
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
            .ignore_then(lower(file))
            .then_ignore(just(Token::In))
            .then(expr.clone())
            .then_ignore(just(Token::Do))
            .then(block.clone())
            .then_ignore(close())
            .map(|((var, iter), body)| ExprKind::For {
                var,
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
            literal, string, list, unit, paren, qualified, ctor, var, let_, if_, case, for_, lambda,
        ))
        .map_with(move |kind, e| mk(kind, sp(file, e.span())))
        .labelled("an expression");

        let call = atom.foldl_with(args.repeated(), move |callee, args, e| {
            mk(
                ExprKind::Call {
                    callee: Box::new(callee),
                    args,
                },
                sp(file, e.span()),
            )
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

    let import = just(Token::Import)
        .ignore_then(upper(file))
        .map_with(move |module, e| Item::Import {
            module,
            span: sp(file, e.span()),
        });
    let from = just(Token::From)
        .ignore_then(upper(file))
        .then_ignore(just(Token::Import))
        .then(
            lower(file)
                .separated_by(just(Token::Comma))
                .at_least(1)
                .collect::<Vec<_>>(),
        )
        .map_with(move |(module, names), e| Item::FromImport {
            module,
            names,
            span: sp(file, e.span()),
        });

    nls()
        .ignore_then(
            choice((fn_item, extern_item, type_item, import, from))
                .labelled("an item (fn, type, import, from)"),
        )
        .then_ignore(nls())
}
