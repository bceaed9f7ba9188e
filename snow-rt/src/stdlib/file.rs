//! `File` (std/file.snow): whole text files. Errors are `Err` values whose
//! message names the path: `not found: PATH`, `permission denied: PATH`,
//! `not UTF-8: PATH`, `is a directory: PATH`, otherwise the system's short
//! reason (`read-only file system: PATH`).

use std::io::{ErrorKind, Write};

use crate::rt::{new_ctor, new_str, str_ref, TAG_ERR, TAG_OK};

/// The message of an I/O error on `path`.
fn reason(e: &std::io::Error, path: &str) -> String {
    let what = match e.kind() {
        ErrorKind::NotFound => "not found".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => {
            // "Read-only file system (os error 30)" → "read-only file system".
            let text = e.to_string();
            let short = text.split(" (os error").next().unwrap_or(&text);
            let mut c = short.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => "error".to_string(),
            }
        }
    };
    format!("{what}: {path}")
}

fn ok(w: i64) -> i64 {
    new_ctor(TAG_OK, &[w])
}

fn err(e: &std::io::Error, path: &str) -> i64 {
    new_ctor(TAG_ERR, &[new_str(&reason(e, path))])
}

/// `File.read(path)`: `Ok` of the file's text, or `Err` saying why not.
#[no_mangle]
pub extern "C-unwind" fn snow_file_read(path: i64) -> i64 {
    // SAFETY: a String object.
    let p = unsafe { str_ref(path) };
    match std::fs::read(p) {
        Ok(bytes) => match std::str::from_utf8(&bytes) {
            Ok(text) => ok(new_str(text)),
            Err(_) => new_ctor(TAG_ERR, &[new_str(&format!("not UTF-8: {p}"))]),
        },
        Err(e) => err(&e, p),
    }
}

/// `File.write(path, text)`: creates or replaces the file; `Ok(())`.
#[no_mangle]
pub extern "C-unwind" fn snow_file_write(path: i64, text: i64) -> i64 {
    // SAFETY: String objects.
    let (p, t) = unsafe { (str_ref(path), str_ref(text)) };
    match std::fs::write(p, t) {
        Ok(()) => ok(0),
        Err(e) => err(&e, p),
    }
}

/// `File.append(path, text)`: adds `text` at the end (creating the file).
#[no_mangle]
pub extern "C-unwind" fn snow_file_append(path: i64, text: i64) -> i64 {
    // SAFETY: String objects.
    let (p, t) = unsafe { (str_ref(path), str_ref(text)) };
    let r = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(p)
        .and_then(|mut f| f.write_all(t.as_bytes()));
    match r {
        Ok(()) => ok(0),
        Err(e) => err(&e, p),
    }
}

/// `File.exists(path)`: whether anything (a file, a folder) is there.
#[no_mangle]
pub extern "C-unwind" fn snow_file_exists(path: i64) -> i64 {
    // SAFETY: a String object.
    let p = unsafe { str_ref(path) };
    std::path::Path::new(p).exists() as i64
}
