//! `Json` (std/json.snow): `Json.parse` and `Json.encode`.
//!
//! Values are the `Json` sum type of std/json.snow, built and read here with
//! the tags of its declaration order (`TAG_*` below; a test checks them
//! against the std source). Lists are Snow lists, objects Snow maps
//! (`Map<String, Json>`, insertion-ordered).
//!
//! Both directions are iterative, with an explicit stack: no input and no
//! value, however deeply nested, can overflow the native stack (a server
//! callback runs on a 2 MiB worker stack).
//!
//! - `parse` drives [`jiter`]'s pull parser (it reads one token at a time and
//!   reports byte offsets) and builds the Snow value in document order, so an
//!   object's keys keep the document's order. Numbers are classified from
//!   their text: no fraction or exponent and in the Int range is `JInt`,
//!   anything else `JFloat` (so `-0` is `JInt(0)`). More than
//!   [`MAX_DEPTH`] nested arrays/objects is an error.
//! - `encode` writes compact RFC 8259 text (see [`escape_into`]).
//!
//! Decisions where the spec is silent are listed in docs/LANGUAGE-NOTES.md
//! "Json".

use crate::rt::{
    field, list_from_slice, list_iter, new_ctor, new_str, str_ref, tag, TAG_ERR, TAG_OK, TD_OTHER,
    TD_STRING,
};
use crate::stdlib::{float, map};
use jiter::{Jiter, JiterErrorType, JsonErrorType, Peek};

/// Constructor tags: the index of each constructor in `type Json`
/// (std/json.snow). Changing that order is an ABI break.
pub const TAG_JNULL: i64 = 0;
pub const TAG_JBOOL: i64 = 1;
pub const TAG_JINT: i64 = 2;
pub const TAG_JFLOAT: i64 = 3;
pub const TAG_JSTR: i64 = 4;
pub const TAG_JLIST: i64 = 5;
pub const TAG_JOBJ: i64 = 6;

/// Deepest nesting of arrays and objects `parse` accepts (the spec's 512).
pub const MAX_DEPTH: usize = 512;

/// The static `JNull` object `{ i64 tag = 0 }` (like a nullary constructor
/// constant in generated code).
static JNULL_OBJ: [i64; 1] = [TAG_JNULL];

/// `JNull` (no allocation).
pub fn jnull() -> i64 {
    JNULL_OBJ.as_ptr() as i64
}

/// A parse error: what went wrong and the byte offset where it was found.
#[derive(Debug, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl ParseError {
    fn new(message: impl Into<String>, offset: usize) -> Self {
        ParseError {
            message: message.into(),
            offset,
        }
    }
}

/// Our wording for the parser's error kinds (the Snow-facing messages are a
/// contract of their own, documented in docs/LANGUAGE-NOTES.md).
fn message(kind: &JiterErrorType) -> String {
    let JiterErrorType::JsonError(kind) = kind else {
        // Type errors only come from jiter's typed `next_*` calls, which
        // `parse` never makes.
        return kind.to_string();
    };
    match kind {
        JsonErrorType::EofWhileParsingList => "unexpected end of input in a list",
        JsonErrorType::EofWhileParsingObject => "unexpected end of input in an object",
        JsonErrorType::EofWhileParsingString => "unexpected end of input in a string",
        JsonErrorType::EofWhileParsingValue => "unexpected end of input, expected a value",
        JsonErrorType::ExpectedColon => "expected `:`",
        JsonErrorType::ExpectedListCommaOrEnd => "expected `,` or `]`",
        JsonErrorType::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
        JsonErrorType::ExpectedSomeIdent => "invalid literal, expected `true`, `false` or `null`",
        JsonErrorType::ExpectedSomeValue => "expected a value",
        JsonErrorType::InvalidEscape => "invalid escape",
        JsonErrorType::InvalidNumber => "invalid number",
        JsonErrorType::NumberOutOfRange => "number out of range",
        JsonErrorType::ControlCharacterWhileParsingString => {
            "unescaped control character in a string"
        }
        JsonErrorType::KeyMustBeAString => "expected a string key",
        JsonErrorType::LoneLeadingSurrogateInHexEscape
        | JsonErrorType::UnexpectedEndOfHexEscape => "unpaired surrogate in a \\u escape",
        JsonErrorType::TrailingComma => "trailing comma",
        JsonErrorType::TrailingCharacters => "unexpected characters after the value",
        other => return other.to_string(),
    }
    .to_string()
}

impl From<jiter::JiterError> for ParseError {
    fn from(e: jiter::JiterError) -> Self {
        ParseError::new(message(&e.error_type), e.index)
    }
}

/// An array or object being parsed.
enum Open {
    /// The elements so far, in order.
    List(Vec<i64>),
    /// The map so far and the key whose value is being parsed.
    Obj { map: i64, key: i64 },
}

fn new_map() -> i64 {
    map::snow_map_new(TD_STRING, TD_OTHER)
}

/// `map` with `key` set to `value`: a repeated key keeps its first position
/// and takes the last value (`Map.put`).
fn map_put(map: i64, key: i64, value: i64) -> i64 {
    map::snow_map_put(TD_STRING, TD_OTHER, map, key, value)
}

/// A number from its JSON text (already validated by the parser).
fn number(text: &str, offset: usize) -> Result<i64, ParseError> {
    let integral = !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if integral {
        if let Ok(n) = text.parse::<i64>() {
            return Ok(new_ctor(TAG_JINT, &[n]));
        }
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(new_ctor(TAG_JFLOAT, &[x.to_bits() as i64])),
        _ => Err(ParseError::new("number out of range", offset)),
    }
}

/// Parses one JSON text into a Snow `Json` value (in the current region).
pub fn parse(text: &str) -> Result<i64, ParseError> {
    let mut jiter = Jiter::new(text.as_bytes());
    let mut open: Vec<Open> = Vec::new();
    let mut peek = jiter.peek()?;
    loop {
        // Read the value that starts at `peek`; an array or object that is
        // not empty is pushed onto `open` and its first element read next.
        let at = jiter.current_index();
        let mut done = match peek {
            Peek::Null => {
                jiter.known_null()?;
                jnull()
            }
            Peek::True | Peek::False => {
                let b = jiter.known_bool(peek)?;
                new_ctor(TAG_JBOOL, &[b as i64])
            }
            Peek::String => new_ctor(TAG_JSTR, &[new_str(jiter.known_str()?)]),
            Peek::Array | Peek::Object if open.len() == MAX_DEPTH => {
                return Err(ParseError::new(
                    format!("nesting deeper than {MAX_DEPTH}"),
                    at,
                ));
            }
            Peek::Array => match jiter.known_array()? {
                Some(first) => {
                    open.push(Open::List(Vec::new()));
                    peek = first;
                    continue;
                }
                None => new_ctor(TAG_JLIST, &[0]),
            },
            Peek::Object => match jiter.known_object()? {
                Some(key) => {
                    let key = new_str(key);
                    open.push(Open::Obj {
                        map: new_map(),
                        key,
                    });
                    peek = jiter.peek()?;
                    continue;
                }
                None => new_ctor(TAG_JOBJ, &[new_map()]),
            },
            _ if peek == Peek::Minus || peek.into_inner().is_ascii_digit() => {
                // "Out of range" always names the number's first byte
                // (jiter names where it stopped reading a very long one).
                let bytes = jiter.known_number_bytes(peek).map_err(|e| {
                    let out_of_range = matches!(
                        e.error_type,
                        JiterErrorType::JsonError(JsonErrorType::NumberOutOfRange)
                    );
                    let mut e = ParseError::from(e);
                    if out_of_range {
                        e.offset = at;
                    }
                    e
                })?;
                // A number the parser accepted is ASCII.
                let text = std::str::from_utf8(bytes).expect("JSON number text is ASCII");
                number(text, at)?
            }
            _ => return Err(ParseError::new("expected a value", at)),
        };
        // `done` is a complete value: add it to the innermost open container
        // and close every container that ends here.
        loop {
            match open.last_mut() {
                None => {
                    jiter.finish()?;
                    return Ok(done);
                }
                Some(Open::List(items)) => {
                    items.push(done);
                    match jiter.array_step()? {
                        Some(next) => {
                            peek = next;
                            break;
                        }
                        None => {
                            let list = list_from_slice(items);
                            open.pop();
                            done = new_ctor(TAG_JLIST, &[list]);
                        }
                    }
                }
                Some(Open::Obj { map, key }) => {
                    *map = map_put(*map, *key, done);
                    match jiter.next_key()? {
                        Some(next) => {
                            *key = new_str(next);
                            peek = jiter.peek()?;
                            break;
                        }
                        None => {
                            let map = *map;
                            open.pop();
                            done = new_ctor(TAG_JOBJ, &[map]);
                        }
                    }
                }
            }
        }
    }
}

/// Appends `s` as a JSON string: `"` and `\` escaped, the control characters
/// U+0000 to U+001F as `\b \f \n \r \t` or `\u00XX` (lower-case hex), every
/// other character (DEL and all non-ASCII included) as its UTF-8 bytes.
pub fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// An array or object being written: the members still to write (a key for
/// objects) and whether one has been written (for the commas).
struct Writing {
    rest: std::vec::IntoIter<(Option<i64>, i64)>,
    close: char,
    first: bool,
}

/// Compact JSON text of a Snow `Json` value.
///
/// # Safety
/// `j` must be a `Json` value (guaranteed by the type system).
pub unsafe fn encode(j: i64) -> String {
    let mut out = String::new();
    let mut open: Vec<Writing> = Vec::new();
    let mut next = Some(j);
    loop {
        if let Some(v) = next.take() {
            // SAFETY: `v` is `j` or an element or field of a list or object
            // inside it, so a `Json` value whose constructor's fields have
            // the types of std/json.snow.
            unsafe { write_one(v, &mut out, &mut open) };
        }
        let Some(top) = open.last_mut() else {
            return out;
        };
        match top.rest.next() {
            Some((key, v)) => {
                if !top.first {
                    out.push(',');
                }
                top.first = false;
                if let Some(k) = key {
                    // SAFETY: an object's keys are Strings.
                    escape_into(&mut out, unsafe { str_ref(k) });
                    out.push(':');
                }
                next = Some(v);
            }
            None => {
                out.push(top.close);
                open.pop();
            }
        }
    }
}

/// Writes `v` (a scalar), or the opening of a list or object whose
/// elements are pushed on `open`.
///
/// # Safety
/// `v` must be a `Json` value.
unsafe fn write_one(v: i64, out: &mut String, open: &mut Vec<Writing>) {
    // SAFETY: a Json value: its tag says which constructor, and so which
    // field follows (a Bool, Int, Float bits, String, List<Json> or
    // Map<String, Json>).
    unsafe {
        match tag(v) {
            TAG_JNULL => out.push_str("null"),
            TAG_JBOOL => out.push_str(if field(v, 0) != 0 { "true" } else { "false" }),
            TAG_JINT => out.push_str(&field(v, 0).to_string()),
            TAG_JFLOAT => {
                let x = f64::from_bits(field(v, 0) as u64);
                if x.is_finite() {
                    out.push_str(&float::format_float(x));
                } else {
                    out.push_str("null");
                }
            }
            TAG_JSTR => escape_into(out, str_ref(field(v, 0))),
            TAG_JLIST => {
                out.push('[');
                let items: Vec<_> = list_iter(field(v, 0)).map(|x| (None, x)).collect();
                open.push(Writing {
                    rest: items.into_iter(),
                    close: ']',
                    first: true,
                });
            }
            TAG_JOBJ => {
                out.push('{');
                let fields: Vec<_> = map::entries(field(v, 0))
                    .into_iter()
                    .map(|(k, x)| (Some(k), x))
                    .collect();
                open.push(Writing {
                    rest: fields.into_iter(),
                    close: '}',
                    first: true,
                });
            }
            t => unreachable!("Json value with tag {t}"),
        }
    }
}

/// `Json.parse(s)`: `Ok(json)` or `Err("<what> at byte <offset>")`.
#[no_mangle]
pub extern "C-unwind" fn snow_json_parse(s: i64) -> i64 {
    // SAFETY: a String object.
    match parse(unsafe { str_ref(s) }) {
        Ok(j) => new_ctor(TAG_OK, &[j]),
        Err(e) => new_ctor(TAG_ERR, &[new_str(&e.to_string())]),
    }
}

/// `Json.encode(j)`.
#[no_mangle]
pub extern "C-unwind" fn snow_json_encode(j: i64) -> i64 {
    // SAFETY: a Json value.
    new_str(&unsafe { encode(j) })
}
