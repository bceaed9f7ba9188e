//! Checking is near-linear: a generated 50,000-line program checks quickly.
mod common;
use std::fmt::Write;

fn generate(fns: usize) -> String {
    let mut s = String::new();
    for i in 0..fns {
        let prev = if i == 0 {
            "0".to_string()
        } else {
            format!("f{}(n - 1, xs)", i - 1)
        };
        let _ = write!(
            s,
            "fn f{i}(n, xs) do
  let a = n + {i}
  let b = List.map(xs, fn(x) -> x * a end)
  let label = \"f{i}: ${{a}}\"
  let c = case List.head(b) do
    Some(h) when h > 0 -> h
    Some(_) -> 0
    None -> String.length(label)
  end
  if a > c do {prev} else a + c end
end
"
        );
    }
    let _ = write!(
        s,
        "fn main() do\n  println(Int.to_string(f{}(3, [1, 2, 3])))\nend\n",
        fns - 1
    );
    s
}

#[test]
fn fifty_thousand_lines() {
    let src = generate(5000);
    assert!(src.lines().count() >= 50_000);
    let mut sources = snowc_syntax::SourceMap::default();
    let file = sources.add("big.snow", src.as_str());
    let (module, pd) = snowc_syntax::parse(file, &src);
    assert!(pd.is_empty());
    let start = std::time::Instant::now();
    let (p, diags) = snowc_types::check(&mut sources, file, &module);
    assert!(!snowc_syntax::has_errors(&diags), "{diags:?}");
    let elapsed = start.elapsed();
    // 5001 user functions, List.head, List.map, List.map_rev.
    assert_eq!(p.functions.len(), 5001 + 3);
    // Generous bound for an unoptimised test build; release is far below a second.
    assert!(elapsed.as_secs_f64() < 20.0, "took {elapsed:?}");
    eprintln!("checked {} lines in {elapsed:?}", src.lines().count());
}
