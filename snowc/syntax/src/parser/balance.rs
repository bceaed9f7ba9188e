//! Bracket-balance passes over one item's tokens: a nesting limit (so no later
//! stage can overflow its stack on a pathological input) and the detection of
//! a `do`/`fn` block whose `end` is missing.

use crate::errors::{ExpressionTooLong, NestedTooDeeply, SyntaxError, UnclosedBlock};
use crate::lexer::TokSpan;
use crate::lexer::Token;
use crate::span::{FileId, Span};

/// Nesting deeper than this (brackets, blocks, interpolations, prefix
/// operators) is rejected with a diagnostic.
pub const MAX_DEPTH: usize = 200;

/// At most this many left-nesting operators (binary operators, call
/// suffixes) in one expression.
pub const MAX_CHAIN: usize = 256;

pub fn too_deep(file: FileId, toks: &[(Token, TokSpan)]) -> Option<SyntaxError> {
    let mut depth: usize = 0;
    let mut unary_run: usize = 0;
    let mut chain: usize = 0;
    let mut angles: usize = 0;
    // For each open `(`: does it start a lambda's parameter list?
    let mut parens: Vec<bool> = Vec::new();
    let mut closed_lambda_params = false;
    for (i, (t, s)) in toks.iter().enumerate() {
        let after_lambda_params = std::mem::take(&mut closed_lambda_params);
        match t {
            Token::LParen => {
                parens.push(i > 0 && toks[i - 1].0 == Token::Fn);
                depth += 1
            }
            Token::RParen => {
                closed_lambda_params = parens.pop().unwrap_or(false);
                depth = depth.saturating_sub(1)
            }
            // `fn(x) -> body end` opens a block closed by `end`.
            Token::Arrow if after_lambda_params => depth += 1,
            Token::LBracket | Token::LBrace | Token::Do | Token::InterpStart => depth += 1,
            Token::RBracket | Token::RBrace | Token::End | Token::InterpEnd => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
        // Binary operators and call suffixes `f(a)(b)` nest to the left: limit
        // how many one expression chains (reset at `,`, newlines, brackets).
        let chains = t.is_binary_operator()
            || (*t == Token::LParen && i > 0 && toks[i - 1].0 == Token::RParen);
        // `List<Map<k, v>>`: type-argument brackets are not comparisons.
        let type_angle = match t {
            Token::Lt if i > 0 && matches!(toks[i - 1].0, Token::Upper(_)) => {
                angles += 1;
                true
            }
            Token::Gt if angles > 0 => {
                angles -= 1;
                true
            }
            _ => false,
        };
        let chains = chains && !type_angle;
        if chains {
            chain += 1;
        } else if matches!(
            t,
            Token::Comma | Token::Newline | Token::LBracket | Token::RBracket
        ) {
            chain = 0;
        }
        if chain > MAX_CHAIN {
            return Some(
                ExpressionTooLong {
                    span: Span::new(file, s.start as usize, s.end as usize),
                    limit: MAX_CHAIN,
                }
                .into(),
            );
        }
        if matches!(t, Token::Minus | Token::Bang | Token::Not) {
            unary_run += 1;
        } else {
            unary_run = 0;
        }
        if depth + unary_run > MAX_DEPTH {
            return Some(
                NestedTooDeeply {
                    span: Span::new(file, s.start as usize, s.end as usize),
                    limit: MAX_DEPTH,
                }
                .into(),
            );
        }
    }
    None
}

/// Indentation (in columns) of the line containing byte `pos`.
fn line_indent(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    let line_start = src.as_bytes()[..pos]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    src.as_bytes()[line_start..]
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()
}

fn first_on_line(src: &str, pos: usize) -> bool {
    let pos = pos.min(src.len());
    let line_start = src.as_bytes()[..pos]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    src.as_bytes()[line_start..pos]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t' || *b == b'\r')
}

#[derive(Clone, Copy)]
struct Opener {
    span: TokSpan,
    indent: usize,
    lambda: bool,
}

/// Find the block whose `end` is missing, if any: a `do` (or lambda `fn`)
/// left open at the end of the item, or one that an `end` with less
/// indentation than the opening line skips over.
pub fn unclosed(file: FileId, src: &str, toks: &[(Token, TokSpan)]) -> Option<SyntaxError> {
    let mut stack: Vec<Opener> = Vec::new();
    let mut suspicious: Option<Opener> = None;
    // Lambda `fn` tokens whose parameter list we are in: (fn span, paren depth).
    let mut paren_depth = 0usize;
    let mut lambda_fns: Vec<(TokSpan, usize)> = Vec::new();
    let mut pending_lambda: Option<TokSpan> = None;
    for (i, (t, s)) in toks.iter().enumerate() {
        let prev = if i > 0 { Some(&toks[i - 1].0) } else { None };
        match t {
            Token::LParen => {
                if prev == Some(&Token::Fn) {
                    lambda_fns.push((toks[i - 1].1, paren_depth));
                }
                paren_depth += 1;
            }
            Token::RParen => {
                paren_depth = paren_depth.saturating_sub(1);
                if let Some((fs, d)) = lambda_fns.last().copied() {
                    if d == paren_depth {
                        lambda_fns.pop();
                        pending_lambda = Some(fs);
                        continue;
                    }
                }
            }
            Token::Do | Token::Arrow => {
                let lambda = pending_lambda.take();
                if *t == Token::Arrow && lambda.is_none() {
                    continue;
                }
                let span = lambda.unwrap_or(*s);
                stack.push(Opener {
                    span,
                    indent: line_indent(src, span.start as usize),
                    lambda: lambda.is_some(),
                });
                continue;
            }
            Token::End => {
                let first = first_on_line(src, s.start as usize);
                let end_indent = line_indent(src, s.start as usize);
                while stack.len() > 1 {
                    let top = stack[stack.len() - 1];
                    if first && end_indent < top.indent {
                        suspicious.get_or_insert(top);
                        stack.pop();
                    } else {
                        break;
                    }
                }
                stack.pop();
            }
            _ => {}
        }
        pending_lambda = None;
    }
    let open = suspicious.or_else(|| stack.last().copied())?;
    Some(
        UnclosedBlock {
            span: Span::new(file, open.span.start as usize, open.span.end as usize),
            lambda: open.lambda,
        }
        .into(),
    )
}
