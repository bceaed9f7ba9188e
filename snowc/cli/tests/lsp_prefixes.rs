//! `snowc lsp` never stops answering: every prefix of several example
//! files is sent as successive incremental edits (one character at a
//! time, as typed), each followed by a request (hover, completion,
//! definition, formatting in turn); every request must be answered (a
//! result, or an error such as ContentModified for one overtaken by the
//! next edit), the process must still be running at the end, answer a last
//! hover with a real result, and exit with status 0 after shutdown.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn send(stdin: &mut impl Write, v: &Value) {
    let body = v.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
    stdin.flush().unwrap();
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

#[test]
fn every_prefix_of_example_files_is_answered() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = [
        "examples/chat.snow",
        "examples/wordfreq.snow",
        "tests/programs/patterns.snow",
        "tests/programs/closures.snow",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_snowc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        while let Some(m) = read_message(&mut r) {
            if tx.send(m).is_err() {
                break;
            }
        }
    });
    let mut next_id = 0;
    let mut request = |stdin: &mut std::process::ChildStdin, method: &str, params: Value| {
        next_id += 1;
        send(
            stdin,
            &json!({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}),
        );
        next_id
    };
    let root_uri = format!("file://{}", dir.path().display());
    request(
        &mut stdin,
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
    );
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );

    let mut sent = Vec::new();
    let mut last = (String::new(), 0u32, 0u32);
    for (k, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        let uri = format!("file://{}/f{k}.snow", dir.path().display());
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "snow", "version": 0, "text": ""}}}),
        );
        let (mut line, mut col) = (0u32, 0u32);
        for (i, c) in text.chars().enumerate() {
            send(
                &mut stdin,
                &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": i + 1},
                "contentChanges": [{"range": {"start": {"line": line, "character": col},
                                              "end": {"line": line, "character": col}},
                                    "text": c.to_string()}]}}),
            );
            if c == '\n' {
                line += 1;
                col = 0;
            } else {
                col += c.len_utf16() as u32;
            }
            let pos = json!({"line": line, "character": col.saturating_sub(1)});
            let doc = json!({"uri": uri});
            let id = match i % 4 {
                0 => request(
                    &mut stdin,
                    "textDocument/hover",
                    json!({"textDocument": doc, "position": pos}),
                ),
                1 => request(
                    &mut stdin,
                    "textDocument/completion",
                    json!({"textDocument": doc, "position": {"line": line, "character": col}}),
                ),
                2 => request(
                    &mut stdin,
                    "textDocument/definition",
                    json!({"textDocument": doc, "position": pos}),
                ),
                _ => request(
                    &mut stdin,
                    "textDocument/formatting",
                    json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
                ),
            };
            sent.push(id);
        }
        last = (uri, 0, 0);
    }
    // Every request answered.
    let mut answered = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    while answered.len() < sent.len() + 1 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(m) = rx.recv_timeout(left) else {
            break;
        };
        if let Some(id) = m.get("id").and_then(Value::as_i64) {
            if m.get("method").is_none() {
                answered.insert(id);
            }
        }
    }
    let missing: Vec<i64> = sent
        .iter()
        .map(|i| *i as i64)
        .filter(|i| !answered.contains(i))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} requests unanswered",
        missing.len(),
        sent.len()
    );
    assert!(child.try_wait().unwrap().is_none(), "the server exited");

    // Quiet now: a hover is answered with a result (`fn` on line 1 of
    // closures.snow's last prefix, the whole file).
    let id = request(
        &mut stdin,
        "textDocument/hover",
        json!({"textDocument": {"uri": last.0}, "position": {"line": 10, "character": 4}}),
    );
    let reply = loop {
        let m = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a reply to the last hover");
        if m.get("id").and_then(Value::as_i64) == Some(id as i64) && m.get("method").is_none() {
            break m;
        }
    };
    assert!(reply.get("error").is_none(), "{reply}");

    let id = request(&mut stdin, "shutdown", Value::Null);
    loop {
        let m = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("shutdown reply");
        if m.get("id").and_then(Value::as_i64) == Some(id as i64) {
            break;
        }
    }
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit status {status}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}
