//! Development helper: format files to stdout (`cargo run -p snowc_fmt --example fmt -- f.snow`).
fn main() {
    for p in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&p).unwrap();
        match snowc_fmt::format(&src) {
            Ok(s) => print!("{s}"),
            Err(e) => eprintln!("{p}: {e:?}"),
        }
    }
}
