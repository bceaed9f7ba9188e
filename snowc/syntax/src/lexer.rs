//! The lexer: source text to a flat list of [`Token`]s with byte spans.
//!
//! Normal tokens come from a logos automaton ([`Raw`]). Strings are scanned by
//! hand so that interpolation can nest: `"a ${f("b")} c"` becomes
//! `StrStart StrChunk("a ") InterpStart <tokens of f("b")> InterpEnd StrChunk(" c") StrEnd`,
//! and the grammar parses the inside of `${ }` like any other expression.
//! A mode stack (not recursion) tracks strings inside interpolations, so deep
//! nesting cannot overflow the stack.
//!
//! After lexing, [`filter_newlines`] keeps only the newlines that end an
//! expression (see the language spec, "Lexical").

use crate::errors::*;
use crate::span::{FileId, Span};
use logos::Logos;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A newline that ends an expression (after filtering).
    Newline,
    // Names and string text are reference-counted: the parser clones tokens
    // as it tries alternatives, which must not allocate.
    Lower(Arc<str>),
    Upper(Arc<str>),
    Int(i64),
    Float(f64),
    /// Opening `"` of a string literal.
    StrStart,
    /// Literal text of a string, escapes decoded.
    StrChunk(Arc<str>),
    /// `${` inside a string.
    InterpStart,
    /// The `}` closing an interpolation.
    InterpEnd,
    /// Closing `"`.
    StrEnd,
    // keywords
    Fn,
    Pub,
    Let,
    Do,
    End,
    If,
    Else,
    Case,
    When,
    True,
    False,
    Nil,
    Import,
    From,
    Extern,
    Type,
    Struct,
    Service,
    For,
    In,
    And,
    Or,
    Not,
    // operators and punctuation
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Concat,
    Pipe,
    Arrow,
    ColonColon,
    /// `:` of a struct field (`User { name: "ada" }`).
    Colon,
    Eq,
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Bar,
}

impl Token {
    /// A binary operator (including `|>`): a token that continues an
    /// expression with a right operand.
    pub fn is_binary_operator(&self) -> bool {
        matches!(
            self,
            Token::Plus
                | Token::Minus
                | Token::Star
                | Token::Slash
                | Token::Percent
                | Token::EqEq
                | Token::NotEq
                | Token::Lt
                | Token::Le
                | Token::Gt
                | Token::Ge
                | Token::AndAnd
                | Token::OrOr
                | Token::And
                | Token::Or
                | Token::Concat
                | Token::Pipe
        )
    }

    /// How the token is shown in messages (`')'`, `end`, `identifier x`).
    pub fn describe(&self) -> String {
        match self {
            Token::Newline => "end of line".into(),
            Token::Lower(s) => format!("identifier {s}"),
            Token::Upper(s) => format!("name {s}"),
            Token::Int(n) => format!("integer {n}"),
            Token::Float(x) => format!("float {x:?}"),
            Token::StrStart | Token::StrEnd => "string".into(),
            Token::StrChunk(_) => "string text".into(),
            Token::InterpStart => "'${'".into(),
            Token::InterpEnd => "'}'".into(),
            other => format!("'{}'", other.text()),
        }
    }

    /// Source text of fixed tokens (empty for tokens carrying data).
    pub fn text(&self) -> &'static str {
        use Token::*;
        match self {
            Fn => "fn",
            Pub => "pub",
            Let => "let",
            Do => "do",
            End => "end",
            If => "if",
            Else => "else",
            Case => "case",
            When => "when",
            True => "true",
            False => "false",
            Nil => "nil",
            Import => "import",
            From => "from",
            Extern => "extern",
            Type => "type",
            Struct => "struct",
            Service => "service",
            For => "for",
            In => "in",
            And => "and",
            Or => "or",
            Not => "not",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
            Bang => "!",
            Concat => "<>",
            Pipe => "|>",
            Arrow => "->",
            ColonColon => "::",
            Colon => ":",
            Eq => "=",
            Comma => ",",
            Dot => ".",
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            LBrace => "{",
            RBrace => "}",
            Bar => "|",
            InterpStart => "${",
            InterpEnd => "}",
            StrStart | StrEnd => "\"",
            Newline => "\\n",
            Lower(_) | Upper(_) | Int(_) | Float(_) | StrChunk(_) => "",
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The logos automaton for everything except the inside of strings.
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
enum Raw {
    #[token("\n")]
    Newline,
    #[regex(r"[a-z_][A-Za-z0-9_]*")]
    Lower,
    #[regex(r"[A-Z][A-Za-z0-9_]*")]
    Upper,
    #[regex(r"[0-9][0-9_]*")]
    Int,
    #[regex(r"0[xX][0-9a-fA-F_]+")]
    HexInt,
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?")]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9]+")]
    Float,
    #[token("\"")]
    Quote,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("!")]
    Bang,
    #[token("<>")]
    Concat,
    #[token("|>")]
    Pipe,
    #[token("->")]
    Arrow,
    #[token("::")]
    ColonColon,
    #[token(":")]
    Colon,
    #[token("=")]
    Eq,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("|")]
    Bar,
}

fn keyword(s: &str) -> Option<Token> {
    use Token::*;
    Some(match s {
        "fn" => Fn,
        "pub" => Pub,
        "let" => Let,
        "do" => Do,
        "end" => End,
        "if" => If,
        "else" => Else,
        "case" => Case,
        "when" => When,
        "true" => True,
        "false" => False,
        "nil" => Nil,
        "import" => Import,
        "from" => From,
        "extern" => Extern,
        "type" => Type,
        "struct" => Struct,
        "service" => Service,
        "for" => For,
        "in" => In,
        "and" => And,
        "or" => Or,
        "not" => Not,
        _ => return None,
    })
}

fn simple(raw: Raw) -> Token {
    use Token::*;
    match raw {
        Raw::Plus => Plus,
        Raw::Minus => Minus,
        Raw::Star => Star,
        Raw::Slash => Slash,
        Raw::Percent => Percent,
        Raw::EqEq => EqEq,
        Raw::NotEq => NotEq,
        Raw::Lt => Lt,
        Raw::Le => Le,
        Raw::Gt => Gt,
        Raw::Ge => Ge,
        Raw::AndAnd => AndAnd,
        Raw::OrOr => OrOr,
        Raw::Bang => Bang,
        Raw::Concat => Concat,
        Raw::Pipe => Pipe,
        Raw::Arrow => Arrow,
        Raw::ColonColon => ColonColon,
        Raw::Colon => Colon,
        Raw::Eq => Eq,
        Raw::Comma => Comma,
        Raw::Dot => Dot,
        Raw::LParen => LParen,
        Raw::RParen => RParen,
        Raw::LBracket => LBracket,
        Raw::RBracket => RBracket,
        Raw::LBrace => LBrace,
        Raw::RBrace => RBrace,
        Raw::Bar => Bar,
        Raw::Newline => Newline,
        // handled by the caller
        Raw::Lower | Raw::Upper | Raw::Int | Raw::HexInt | Raw::Float | Raw::Quote => Newline,
    }
}

/// A token's byte range. 32-bit offsets, like [`Span`]'s: a token is 32
/// bytes, not 40 (a 50,000-line file has about 400,000 tokens).
pub type TokSpan = chumsky::span::SimpleSpan<u32>;

pub type Spanned = (Token, TokSpan);

fn tok_span(r: Range<usize>) -> TokSpan {
    TokSpan::from(r.start as u32..r.end as u32)
}

enum Mode {
    /// Normal tokens; `depth` counts `{` opened inside this context.
    Code { depth: u32, interp: bool },
    /// Inside a string literal that started at `start`.
    Str { start: usize },
}

struct Lexer<'a> {
    src: &'a str,
    file: FileId,
    out: Vec<Spanned>,
    diags: Vec<SyntaxError>,
    /// Span of a run of bad characters not yet reported.
    bad: Option<Range<usize>>,
}

impl Lexer<'_> {
    fn span(&self, r: Range<usize>) -> Span {
        Span::new(self.file, r.start, r.end)
    }

    fn flush_bad(&mut self) {
        if let Some(r) = self.bad.take() {
            let text = self.src[r.clone()].to_string();
            self.diags.push(
                UnexpectedCharacter {
                    span: self.span(r),
                    text,
                }
                .into(),
            );
        }
    }

    fn push(&mut self, t: Token, r: Range<usize>) {
        self.flush_bad();
        self.out.push((t, tok_span(r)));
    }

    /// Lex one normal token at `pos`; returns the new position and whether a
    /// string starts (the quote is consumed).
    fn code_token(&mut self, pos: usize, modes: &mut Vec<Mode>) -> usize {
        let rest = &self.src[pos..];
        let mut lex = Raw::lexer(rest);
        let Some(res) = lex.next() else {
            return self.src.len();
        };
        let r = lex.span();
        let range = pos + r.start..pos + r.end;
        let text = &rest[r.clone()];
        let end = range.end;
        match res {
            Err(()) => match &mut self.bad {
                Some(b) if b.end == range.start => b.end = range.end,
                _ => {
                    self.flush_bad();
                    self.bad = Some(range);
                }
            },
            Ok(Raw::Lower) => match keyword(text) {
                Some(k) => self.push(k, range),
                None => self.push(Token::Lower(text.into()), range),
            },
            Ok(Raw::Upper) => self.push(Token::Upper(text.into()), range),
            Ok(Raw::Int) | Ok(Raw::HexInt) => {
                let hex = matches!(res, Ok(Raw::HexInt));
                let body = if hex { &text[2..] } else { text };
                let radix = if hex { 16 } else { 10 };
                let v = if body.is_empty() {
                    None
                } else if !body.contains('_') {
                    i64::from_str_radix(body, radix).ok()
                } else {
                    let digits: String = body.chars().filter(|c| *c != '_').collect();
                    if digits.is_empty() {
                        None
                    } else {
                        i64::from_str_radix(&digits, radix).ok()
                    }
                };
                let v = v.unwrap_or_else(|| {
                    let span = self.span(range.clone());
                    self.diags.push(IntegerTooLarge { span }.into());
                    0
                });
                self.push(Token::Int(v), range);
            }
            Ok(Raw::Float) => {
                let digits: String = text.chars().filter(|c| *c != '_').collect();
                let v = digits.parse::<f64>().unwrap_or(0.0);
                self.push(Token::Float(v), range);
            }
            Ok(Raw::Quote) => {
                self.push(Token::StrStart, range.clone());
                modes.push(Mode::Str { start: range.start });
            }
            Ok(Raw::LBrace) => {
                if let Some(Mode::Code { depth, .. }) = modes.last_mut() {
                    *depth += 1;
                }
                self.push(Token::LBrace, range);
            }
            Ok(Raw::RBrace) => match modes.last_mut() {
                Some(Mode::Code {
                    depth: 0,
                    interp: true,
                }) => {
                    modes.pop();
                    self.push(Token::InterpEnd, range);
                }
                Some(Mode::Code { depth, .. }) => {
                    *depth = depth.saturating_sub(1);
                    self.push(Token::RBrace, range);
                }
                _ => self.push(Token::RBrace, range),
            },
            Ok(raw) => self.push(simple(raw), range),
        }
        end
    }

    /// Scan string contents from `pos` until the closing quote, an
    /// interpolation, or the end of input.
    fn string_part(&mut self, mut pos: usize, start: usize, modes: &mut Vec<Mode>) -> usize {
        let src = self.src;
        let bytes = src.as_bytes();
        let mut chunk = String::new();
        let mut chunk_start = pos;
        loop {
            if pos >= src.len() {
                if !chunk.is_empty() {
                    self.push(Token::StrChunk(chunk.into()), chunk_start..pos);
                }
                // The string stays open; `lex_raw` closes it and reports it once.
                let _ = start;
                return pos;
            }
            match bytes[pos] {
                b'"' => {
                    if !chunk.is_empty() {
                        self.push(Token::StrChunk(chunk.into()), chunk_start..pos);
                    }
                    self.push(Token::StrEnd, pos..pos + 1);
                    modes.pop();
                    return pos + 1;
                }
                b'$' if bytes.get(pos + 1) == Some(&b'{') => {
                    if !chunk.is_empty() {
                        self.push(Token::StrChunk(chunk.into()), chunk_start..pos);
                    }
                    self.push(Token::InterpStart, pos..pos + 2);
                    modes.push(Mode::Code {
                        depth: 0,
                        interp: true,
                    });
                    return pos + 2;
                }
                b'\\' => {
                    if chunk.is_empty() {
                        chunk_start = pos;
                    }
                    pos = self.escape(pos, &mut chunk);
                }
                _ => {
                    if chunk.is_empty() {
                        chunk_start = pos;
                    }
                    // pos is always on a char boundary
                    let c = src[pos..].chars().next().unwrap_or('\u{FFFD}');
                    chunk.push(c);
                    pos += c.len_utf8();
                }
            }
        }
    }

    /// Decode the escape at `pos` (a backslash) into `out`; returns the next position.
    fn escape(&mut self, pos: usize, out: &mut String) -> usize {
        let src = self.src;
        let Some(c) = src[pos + 1..].chars().next() else {
            return pos + 1; // lone backslash at end of input: unterminated string follows
        };
        let simple = match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '$' => Some('$'),
            '0' => Some('\0'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return pos + 2;
        }
        if c == 'u' {
            let rest = &src[pos + 2..];
            if let Some(body) = rest.strip_prefix('{') {
                if let Some(close) = body.find('}') {
                    let hex = &body[..close];
                    let end = pos + 2 + 1 + close + 1;
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if !hex.is_empty() && hex.len() <= 6 => out.push(ch),
                        _ => self.diags.push(
                            InvalidUnicodeEscape {
                                span: self.span(pos..end),
                                digits: Some(hex.to_string()),
                            }
                            .into(),
                        ),
                    }
                    return end;
                }
            }
            self.diags.push(
                InvalidUnicodeEscape {
                    span: self.span(pos..pos + 2),
                    digits: None,
                }
                .into(),
            );
            return pos + 2;
        }
        let end = pos + 1 + c.len_utf8();
        self.diags.push(
            UnknownEscape {
                span: self.span(pos..end),
                escape: c,
            }
            .into(),
        );
        out.push(c);
        end
    }
}

/// Lex `src` into tokens (with every newline kept) and lexical diagnostics.
pub fn lex_raw(file: FileId, src: &str) -> (Vec<Spanned>, Vec<SyntaxError>) {
    let mut lx = Lexer {
        src,
        file,
        // Sized once for dense code (typical code has a token per three
        // bytes; capacity only reserves address space until written): growing a
        // large file's vector by doubling would copy it each time.
        out: Vec::with_capacity(src.len() / 2 + 16),
        diags: Vec::new(),
        bad: None,
    };
    let mut modes = vec![Mode::Code {
        depth: 0,
        interp: false,
    }];
    let mut pos = 0;
    while pos < src.len() {
        match modes.last() {
            Some(Mode::Str { start }) => {
                let start = *start;
                pos = lx.string_part(pos, start, &mut modes);
            }
            Some(Mode::Code { .. }) => pos = lx.code_token(pos, &mut modes),
            None => {
                modes.push(Mode::Code {
                    depth: 0,
                    interp: false,
                });
            }
        }
    }
    lx.flush_bad();
    // Close what the end of input left open; report the outermost open string.
    let mut open_string: Option<usize> = None;
    while let Some(m) = modes.pop() {
        match m {
            Mode::Str { start } => {
                open_string = Some(start);
                lx.out.push((Token::StrEnd, tok_span(src.len()..src.len())));
            }
            Mode::Code { interp: true, .. } => {
                lx.out
                    .push((Token::InterpEnd, tok_span(src.len()..src.len())));
            }
            Mode::Code { .. } => {}
        }
    }
    if let Some(start) = open_string {
        let span = lx.span(start..start + 1);
        lx.diags.push(UnterminatedString { span }.into());
    }
    (lx.out, lx.diags)
}

/// Lex and filter newlines: the token stream the parser reads.
pub fn lex(file: FileId, src: &str) -> (Vec<Spanned>, Vec<SyntaxError>) {
    let (toks, diags) = lex_raw(file, src);
    (filter_newlines(src, toks), diags)
}

/// Can a line end after this token without the expression continuing?
fn continues_after(t: &Token) -> bool {
    use Token::*;
    matches!(
        t,
        Plus | Minus
            | Star
            | Slash
            | Percent
            | EqEq
            | NotEq
            | Lt
            | Le
            | Ge
            | AndAnd
            | OrOr
            | Bang
            | Concat
            | Pipe
            | Arrow
            | ColonColon
            | Colon
            | Eq
            | Comma
            | Dot
            | LParen
            | LBracket
            | LBrace
            | Bar
            | Do
            | If
            | Case
            | When
            | For
            | In
            | Let
            | And
            | Or
            | Not
            | Pub
            | Extern
            | Import
            | Type
            | Struct
            | Service
            | InterpStart
            | StrStart
            | StrChunk(_)
    )
}

/// Does a line starting with this token continue the previous line?
fn continues_before(t: &Token) -> bool {
    use Token::*;
    matches!(t, Pipe | RParen | RBracket | InterpEnd | RBrace)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ctx {
    /// `(` or `[`: newlines are insignificant. `unclosed`: the bracket has
    /// no closing one (see [`unclosed_brackets`]); then it ends at the first
    /// line that is not indented more than the line it opened on, with the
    /// indentation of that line.
    Bracket {
        lambda_params: bool,
        unclosed: Option<usize>,
    },
    /// `do`, lambda `->` body, `${`: newlines are significant.
    Block,
    Interp,
}

/// [`indent_at`] for positions met in increasing order, in linear time
/// overall (a line of many tokens is not scanned once per token).
struct Indents<'a> {
    src: &'a str,
    /// The last position asked about, and the indentation of its line.
    last: usize,
    indent: usize,
}

impl Indents<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        if pos < self.last || self.src.as_bytes()[self.last..pos].contains(&b'\n') || self.last == 0
        {
            self.indent = indent_at(self.src, pos);
        }
        self.last = pos;
        self.indent
    }
}

/// Indentation (in bytes of spaces and tabs) of the line holding byte `pos`.
fn indent_at(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    let start = src.as_bytes()[..pos]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    src.as_bytes()[start..]
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()
}

/// The indices (into `toks`) of the `(` and `[` that are never closed: the
/// `end` of their block, the end of their interpolation or the end of the
/// file comes first. The same nesting rules as [`filter_newlines`].
fn unclosed_brackets(toks: &[Spanned]) -> Vec<bool> {
    let mut unclosed = vec![false; toks.len()];
    // (context, index of its opening token)
    let mut stack: Vec<(Ctx, usize)> = Vec::new();
    let mut after_lambda_params = false;
    let mut prev: Option<&Token> = None;
    let bracket = |lambda_params| Ctx::Bracket {
        lambda_params,
        unclosed: None,
    };
    for (i, (t, _)) in toks.iter().enumerate() {
        if *t == Token::Newline {
            continue;
        }
        let was_after_lambda = std::mem::take(&mut after_lambda_params);
        let after_fn = prev == Some(&Token::Fn);
        prev = Some(t);
        match t {
            Token::LParen => stack.push((bracket(after_fn), i)),
            Token::LBracket | Token::LBrace => stack.push((bracket(false), i)),
            Token::RParen | Token::RBracket | Token::RBrace => {
                if let Some((Ctx::Bracket { lambda_params, .. }, _)) = stack.last().copied() {
                    stack.pop();
                    after_lambda_params = lambda_params && *t == Token::RParen;
                }
            }
            Token::Arrow if was_after_lambda => stack.push((Ctx::Block, i)),
            Token::Do => stack.push((Ctx::Block, i)),
            Token::InterpStart => stack.push((Ctx::Interp, i)),
            Token::InterpEnd | Token::End => {
                let until = if *t == Token::End {
                    Ctx::Block
                } else {
                    Ctx::Interp
                };
                while let Some((c, j)) = stack.pop() {
                    match c {
                        Ctx::Bracket { .. } => unclosed[j] = true,
                        c if c == until => break,
                        // `end` inside an interpolation: leave it to the parser.
                        c => {
                            stack.push((c, j));
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (c, j) in stack {
        if let Ctx::Bracket { .. } = c {
            unclosed[j] = true;
        }
    }
    unclosed
}

/// Keep only the newlines that end an expression (see the spec's rules):
/// none inside `()`/`[]`, none after a token that continues the line, none
/// before a token that continues the previous line, never two in a row.
///
/// A bracket that is never closed would swallow every newline after it, and
/// the parser would report one error for the rest of the block. Instead it
/// ends (for newlines) at the first following line indented no more than
/// the line it opened on, so the parser reports the missing `)` or `]` there
/// and recovers at the next line.
pub fn filter_newlines(src: &str, mut toks: Vec<Spanned>) -> Vec<Spanned> {
    let unclosed = unclosed_brackets(&toks);
    // For each newline, where the next token starts (for the indentation
    // rule); only needed, and computed, when a bracket is never closed.
    let next_real: Vec<Option<usize>> = if unclosed.contains(&true) {
        let mut v = vec![None; toks.len()];
        let mut next = None;
        for (i, (t, r)) in toks.iter().enumerate().rev() {
            v[i] = next;
            if *t != Token::Newline {
                next = Some(r.start as usize);
            }
        }
        v
    } else {
        Vec::new()
    };
    // Filtered in place: `toks[..w]` is the output so far. Only newlines are
    // dropped, and a pending newline is written back at most where it was
    // read, so the write index never passes the read index (a large file's
    // token vector is not copied into a second one).
    let mut w = 0;
    let mut stack: Vec<Ctx> = Vec::new();
    let mut indents = Indents {
        src,
        last: 0,
        indent: 0,
    };
    // Set when the `)` closing a lambda's parameter list was just seen.
    let mut after_lambda_params = false;
    let mut pending_newline: Option<TokSpan> = None;
    // A newline that ends unclosed brackets: kept whatever surrounds it.
    let mut forced_newline = false;
    for i in 0..toks.len() {
        let (t, r) = std::mem::replace(&mut toks[i], (Token::Newline, TokSpan::from(0..0)));
        if t == Token::Newline {
            // Unclosed brackets end here when the next line is not indented
            // more than the line they opened on.
            let next_indent = next_real
                .get(i)
                .copied()
                .flatten()
                .map(|p| indent_at(src, p));
            while let Some(Ctx::Bracket {
                unclosed: Some(opener_indent),
                ..
            }) = stack.last().copied()
            {
                if next_indent.is_some_and(|n| n > opener_indent) {
                    break;
                }
                stack.pop();
                forced_newline = true;
            }
            let in_bracket = matches!(stack.last(), Some(Ctx::Bracket { .. }));
            let prev_ok = w > 0 && {
                let p = &toks[w - 1].0;
                !continues_after(p) && *p != Token::Newline
            };
            if !in_bracket && (prev_ok || forced_newline) && pending_newline.is_none() {
                pending_newline = Some(r);
            }
            continue;
        }
        if let Some(nl) = pending_newline.take() {
            if std::mem::take(&mut forced_newline) || !continues_before(&t) {
                toks[w] = (Token::Newline, nl);
                w += 1;
            }
        }
        forced_newline = false;
        let was_after_lambda = std::mem::take(&mut after_lambda_params);
        match &t {
            Token::LParen => {
                let lambda = w > 0 && toks[w - 1].0 == Token::Fn;
                stack.push(Ctx::Bracket {
                    lambda_params: lambda,
                    unclosed: unclosed[i].then(|| indents.at(r.start as usize)),
                });
            }
            Token::LBracket | Token::LBrace => stack.push(Ctx::Bracket {
                lambda_params: false,
                unclosed: unclosed[i].then(|| indents.at(r.start as usize)),
            }),
            Token::RParen | Token::RBracket | Token::RBrace => {
                if let Some(Ctx::Bracket { lambda_params, .. }) = stack.last().copied() {
                    stack.pop();
                    after_lambda_params = lambda_params && t == Token::RParen;
                }
            }
            Token::Arrow if was_after_lambda => stack.push(Ctx::Block),
            Token::Do => {
                // `fn(x) -> .. do` cannot happen; `do` always opens a block.
                stack.push(Ctx::Block);
            }
            Token::InterpStart => stack.push(Ctx::Interp),
            Token::InterpEnd => {
                while let Some(c) = stack.pop() {
                    if c == Ctx::Interp {
                        break;
                    }
                }
            }
            Token::End => {
                // Pop unclosed brackets (an error the parser reports), then the block.
                while let Some(c) = stack.pop() {
                    if c == Ctx::Block {
                        break;
                    }
                    if c == Ctx::Interp {
                        stack.push(c);
                        break;
                    }
                }
            }
            _ => {}
        }
        toks[w] = (t, r);
        w += 1;
    }
    toks.truncate(w);
    toks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Token> {
        lex(FileId(0), src).0.into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("42 1_000_000 0xFF 1.5 2.0e3"),
            vec![
                Token::Int(42),
                Token::Int(1_000_000),
                Token::Int(255),
                Token::Float(1.5),
                Token::Float(2000.0)
            ]
        );
        let (_, d) = lex(FileId(0), "99999999999999999999");
        assert_eq!(d.len(), 1);
        assert!(matches!(d[0], SyntaxError::IntegerTooLarge(_)), "{d:?}");
    }

    #[test]
    fn string_escapes_and_interpolation() {
        use Token::*;
        assert_eq!(
            toks(r#""a\n\t\"\\\$\u{1F600}""#),
            vec![StrStart, StrChunk("a\n\t\"\\$\u{1F600}".into()), StrEnd]
        );
        assert_eq!(
            toks(r#""Hi ${name}! ${Map.has_key(m, "b")}""#),
            vec![
                StrStart,
                StrChunk("Hi ".into()),
                InterpStart,
                Lower("name".into()),
                InterpEnd,
                StrChunk("! ".into()),
                InterpStart,
                Upper("Map".into()),
                Dot,
                Lower("has_key".into()),
                LParen,
                Lower("m".into()),
                Comma,
                StrStart,
                StrChunk("b".into()),
                StrEnd,
                RParen,
                InterpEnd,
                StrEnd
            ]
        );
    }

    #[test]
    fn braces_inside_interpolation() {
        use Token::*;
        assert_eq!(
            toks(r#""${ {x} }""#),
            vec![
                StrStart,
                InterpStart,
                LBrace,
                Lower("x".into()),
                RBrace,
                InterpEnd,
                StrEnd
            ]
        );
    }

    #[test]
    fn bad_chars_and_unterminated() {
        let (t, d) = lex(FileId(0), "x @@ y\n\"abc");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            matches!(&d[0], SyntaxError::UnexpectedCharacter(c) if c.text == "@@"),
            "{d:?}"
        );
        assert_eq!(d[0].to_diagnostic().message, "unexpected characters '@@'");
        assert!(matches!(d[1], SyntaxError::UnterminatedString(_)));
        assert_eq!(t.last().unwrap().0, Token::StrEnd);
    }

    #[test]
    fn an_unclosed_bracket_ends_at_its_line() {
        use Token::*;
        let l = |s: &str| Lower(s.into());
        // Never closed: the newline before a line indented no more than the
        // bracket's line is kept (even after a comma).
        assert_eq!(
            toks("  f(a,\n  g\n"),
            vec![l("f"), LParen, l("a"), Comma, Newline, l("g")]
        );
        // A more indented line continues the bracket.
        assert_eq!(
            toks("f(a,\n  b\ng"),
            vec![l("f"), LParen, l("a"), Comma, l("b"), Newline, l("g")]
        );
        // Closed on a line of its own indentation: no newline kept.
        assert_eq!(
            toks("f([\n  1\n])"),
            vec![l("f"), LParen, LBracket, Int(1), RBracket, RParen]
        );
    }

    #[test]
    fn newline_rules() {
        use Token::*;
        let l = |s: &str| Lower(s.into());
        // inside parens: no newline; after operator: none; before |>: none
        assert_eq!(
            toks("f(a,\n b)\nx +\n y\nz\n |> g\n\n\nw"),
            vec![
                l("f"),
                LParen,
                l("a"),
                Comma,
                l("b"),
                RParen,
                Newline,
                l("x"),
                Plus,
                l("y"),
                Newline,
                l("z"),
                Pipe,
                l("g"),
                Newline,
                l("w")
            ]
        );
        // a lambda body inside parens keeps its newlines
        assert_eq!(
            toks("f(fn(x) do\na\nb\nend)"),
            vec![
                l("f"),
                LParen,
                Fn,
                LParen,
                l("x"),
                RParen,
                Do,
                l("a"),
                Newline,
                l("b"),
                Newline,
                End,
                RParen
            ]
        );
        assert_eq!(
            toks("[fn(x) -> a\nb end]"),
            vec![
                LBracket,
                Fn,
                LParen,
                l("x"),
                RParen,
                Arrow,
                l("a"),
                Newline,
                l("b"),
                End,
                RBracket
            ]
        );
    }
}
