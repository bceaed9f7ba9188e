use crate::rt::testing::{rs, s};
use crate::rt::{field, tag, TAG_ERR, TAG_OK};
use crate::stdlib::file::*;

/// `Ok(text)` or `Err(message)` as a Rust result.
fn result(w: i64) -> Result<i64, String> {
    // SAFETY: a Result object.
    unsafe {
        match tag(w) {
            TAG_OK => Ok(field(w, 0)),
            TAG_ERR => Err(rs(field(w, 0))),
            t => panic!("tag {t}"),
        }
    }
}

#[test]
fn write_append_read_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let p = s(path.to_str().unwrap());
    assert_eq!(snow_file_exists(p), 0);
    assert_eq!(result(snow_file_write(p, s("one\n"))), Ok(0));
    assert_eq!(result(snow_file_append(p, s("two\n"))), Ok(0));
    assert_eq!(snow_file_exists(p), 1);
    assert_eq!(
        result(snow_file_read(p)).map(rs),
        Ok("one\ntwo\n".to_string())
    );
    assert_eq!(result(snow_file_write(p, s("new"))), Ok(0));
    assert_eq!(result(snow_file_read(p)).map(rs), Ok("new".to_string()));
}

#[test]
fn errors_say_why_and_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let missing = format!("{d}/missing.txt");
    assert_eq!(
        result(snow_file_read(s(&missing))),
        Err(format!("not found: {missing}"))
    );
    assert_eq!(
        result(snow_file_read(s(&d))),
        Err(format!("is a directory: {d}"))
    );
    assert_eq!(
        result(snow_file_write(s(&d), s("x"))),
        Err(format!("is a directory: {d}"))
    );
    let bin = format!("{d}/bin");
    std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
    assert_eq!(
        result(snow_file_read(s(&bin))),
        Err(format!("not UTF-8: {bin}"))
    );
    let nested = format!("{d}/no/such/dir/f.txt");
    assert_eq!(
        result(snow_file_append(s(&nested), s("x"))),
        Err(format!("not found: {nested}"))
    );
    // Permissions (root reads everything: only checked as a normal user).
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        let locked = format!("{d}/locked");
        std::fs::write(&locked, "x").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        assert_eq!(
            result(snow_file_read(s(&locked))),
            Err(format!("permission denied: {locked}"))
        );
    }
}
