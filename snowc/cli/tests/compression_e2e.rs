//! permessage-deflate (RFC 7692) end to end: tests/ws/limits.snow compiled
//! by snowc, driven by independent compressing clients
//! (tests/ws/deflate_client.py: the PyPI package `websockets`, and raw
//! clients on Python's zlib, installed by scripts/pyclients.sh): a
//! compressed broadcast reaches a mix of compressing and non-compressing
//! members intact, a decompression bomb is closed with 1009 without the
//! server holding more than the message limit, corrupt or unnegotiated
//! compressed data is closed with 1007 / 1002, and other connections carry
//! on.

mod common;

use common::wsproc::*;
use std::process::Command;
use std::sync::OnceLock;

const LIMITS: &str = "tests/ws/limits.snow";

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python with `websockets` (made once per test binary).
fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new(repo().join("scripts/pyclients.sh"))
            .output()
            .expect("running scripts/pyclients.sh");
        assert!(
            out.status.success(),
            "scripts/pyclients.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// Runs a scenario of the client script against `port`; its output.
fn client(what: &str, port: u16) -> String {
    let out = Command::new(python())
        .arg(repo().join("tests/ws/deflate_client.py"))
        .args([what, &port.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_compressed_broadcast_reaches_compressing_and_plain_members_intact() {
    let p = start_server(LIMITS, &[]);
    let out = client("mixed", p.port);
    assert!(out.starts_with("mixed ok: "), "{out}");
}

#[test]
fn a_decompression_bomb_is_closed_1009_holding_no_more_than_the_limit() {
    let p = start_server(LIMITS, &[]);
    let (_, _, mut bystander, _) = trio(&p);
    let before = p.rss_kib();
    let out = client("bomb", p.port);
    assert!(out.trim_end().ends_with("close 1009"), "{out}");
    // 64 MiB inflated would be 64 MiB; the 16 MiB limit stops it (the
    // worker's inflate buffer, then released).
    let grown = p.hwm_kib().saturating_sub(before);
    assert!(grown < 24 * 1024, "the server grew by {grown} KiB");
    carries_on(&mut bystander);
}

#[test]
fn corrupt_or_unnegotiated_compressed_data_is_closed_and_others_carry_on() {
    let p = start_server(LIMITS, &[]);
    let (_, _, mut bystander, _) = trio(&p);
    assert!(client("corrupt", p.port).trim_end().ends_with("close 1007"));
    assert!(client("unasked", p.port).trim_end().ends_with("close 1002"));
    // The worker's shared inflater was reset: compression still works.
    assert!(client("mixed", p.port).starts_with("mixed ok: "));
    carries_on(&mut bystander);
}

#[test]
fn with_compression_off_no_offer_is_accepted() {
    let p = start_server(LIMITS, &[("SNOW_WS_COMPRESSION", "off")]);
    // The raw client asserts the server answered its offer; with
    // compression off the handshake has no extension, so it fails there.
    let out = Command::new(python())
        .arg(repo().join("tests/ws/deflate_client.py"))
        .args(["corrupt", &p.port.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AssertionError"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
