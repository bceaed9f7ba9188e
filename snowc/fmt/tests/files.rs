//! `snowc fmt` over files: in place, `--check`, and refusal of a file that
//! does not parse (left untouched, exit status 1, its diagnostic).

use snowc_fmt::files::run;
use std::path::PathBuf;

fn run_on(paths: &[PathBuf], check: bool) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = run(paths, check, &mut out, &mut err);
    (
        status,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn formats_in_place_and_check_lists_what_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let ugly = dir.path().join("ugly.snow");
    let fine = dir.path().join("sub/fine.snow");
    std::fs::create_dir_all(fine.parent().unwrap()).unwrap();
    std::fs::write(&ugly, "fn main() do\n    println(\"hi\")\nend").unwrap();
    std::fs::write(&fine, "fn main() do\n  println(\"hi\")\nend\n").unwrap();

    // --check: nothing changes, the file that would is listed, status 1.
    let (status, out, _) = run_on(&[dir.path().to_path_buf()], true);
    assert_eq!(status, 1);
    assert_eq!(out.trim(), ugly.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&ugly).unwrap(),
        "fn main() do\n    println(\"hi\")\nend"
    );

    // In place: the folder is walked, the file rewritten.
    let (status, _, err) = run_on(&[dir.path().to_path_buf()], false);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&ugly).unwrap(),
        "fn main() do\n  println(\"hi\")\nend\n"
    );
    let (status, out, _) = run_on(&[dir.path().to_path_buf()], true);
    assert_eq!((status, out.as_str()), (0, ""));
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.snow");
    let text = "fn main() do\n  let x = (1 +\n    println(\"a\")\nend\n";
    std::fs::write(&bad, text).unwrap();
    for check in [false, true] {
        let (status, _, err) = run_on(std::slice::from_ref(&bad), check);
        assert_eq!(status, 1);
        assert!(err.contains("error[E0006]"), "{err}");
        assert!(err.contains("does not parse"), "{err}");
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), text);
    }
    let (status, _, err) = run_on(&[dir.path().join("missing.snow")], false);
    assert_eq!(status, 1);
    assert!(err.contains("no such file"), "{err}");
}
