//! Debug helper: `cargo run -p snowc_syntax --example parse -- file.snow` prints the
//! AST (S-expressions) and the rendered diagnostics; `-r TEXT N` parses
//! `fn main() = ` followed by TEXT repeated N times.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src = if args[1] == "-r" {
        format!("fn main() = {}", args[2].repeat(args[3].parse().unwrap()))
    } else {
        std::fs::read_to_string(&args[1]).unwrap()
    };
    let (m, d) = snowc_syntax::parse(snowc_syntax::FileId(0), &src);
    let mut sm = snowc_syntax::SourceMap::default();
    sm.add("x.snow", src.clone());
    print!("{}", snowc_syntax::sexpr::module(&m));
    print!("{}", snowc_syntax::render(&d, &sm, false));
}
