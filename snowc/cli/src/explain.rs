//! `snowc explain CODE`: the explanation of a diagnostic code, from the text
//! kept beside each kind (`snowc_syntax::errors`, `snowc_syntax::graph`,
//! `snowc_types::diagnostics`).
//! This is the one registry of every stage's codes; its tests check that the
//! codes are unique and that every explanation's examples do what they say.

use crate::driver::CmdResult;
use snowc_syntax::{Explanation, GraphError, SyntaxError};
use snowc_types::diagnostics::{TypeError, TypeWarning};
use std::process::ExitCode;

/// Every explanation of every stage, sorted by code.
pub fn all() -> Vec<&'static Explanation> {
    let mut v: Vec<&'static Explanation> = SyntaxError::EXPLANATIONS
        .iter()
        .chain(GraphError::EXPLANATIONS)
        .chain(TypeError::EXPLANATIONS)
        .chain(TypeWarning::EXPLANATIONS)
        .collect();
    v.sort_by_key(|e| e.code);
    v
}

/// The explanation of `code` (any case: `e0003` is `E0003`).
pub fn find(code: &str) -> Option<&'static Explanation> {
    all()
        .into_iter()
        .find(|e| e.code.0.eq_ignore_ascii_case(code))
}

/// Greedy word wrap at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.chars().count();
    }
    out
}

fn indent(code: &str) -> String {
    code.trim_matches('\n')
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect()
}

/// The text `snowc explain` prints for one code.
pub fn render(e: &Explanation) -> String {
    format!(
        "{}: {}\n\n{}\n\nWrong:\n\n{}\nRight:\n\n{}",
        e.code,
        e.title,
        wrap(e.text, 78),
        indent(e.wrong),
        indent(e.right)
    )
}

/// `snowc explain [CODE]`: one explanation, or the list of every code.
pub fn explain(code: Option<&str>) -> CmdResult {
    let Some(code) = code else {
        let list: String = all()
            .iter()
            .map(|e| format!("{}  {}\n", e.code, e.title))
            .collect();
        crate::driver::write_stdout(&list)?;
        return Ok(ExitCode::SUCCESS);
    };
    match find(code) {
        Some(e) => {
            crate::driver::write_stdout(&render(e))?;
            Ok(ExitCode::SUCCESS)
        }
        None => Err(format!(
            "snowc: no diagnostic has the code {code}; `snowc explain` lists them all"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snowc_syntax::{has_errors, Code, Diagnostic, SourceMap};

    /// Parse and (when that succeeds) check `src`: its diagnostics, rendered
    /// too. An example of several files marks each one after the entry file
    /// with a line `# file: path.snow` (`snowc_syntax::graph::split_files`).
    fn diagnose(src: &str) -> (Vec<Diagnostic>, String) {
        use snowc_syntax::graph::{self, MemLoader};
        let (entry, files) = graph::split_files(src);
        let mut sources = SourceMap::default();
        let file = sources.add("example.snow", entry.as_str());
        let (module, mut diags) = snowc_syntax::parse(file, &entry);
        let loader = MemLoader {
            files: files.into_iter().collect(),
            fallback: None,
        };
        let names = snowc_types::std_lib::std_module_names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (program, more) = graph::load(
            file,
            module,
            std::path::Path::new(""),
            "",
            &names,
            &loader,
            &mut sources,
        );
        diags.extend(more);
        if diags.is_empty() {
            let (table, mut d) = snowc_types::std_lib::load(&mut sources);
            d.extend(snowc_types::check_program(&table, &sources, &program).1);
            diags = d;
        }
        let text = snowc_syntax::render(&diags, &sources, false);
        (diags, text)
    }

    /// Codes whose `wrong` example only sketches the input (too large to
    /// show); the test builds the input instead.
    fn generated_wrong(code: Code) -> Option<(String, &'static str)> {
        Some(match code.0 {
            "E0009" => (
                format!(
                    "fn main() = println(\"${{{}1{}}}\")\n",
                    "(".repeat(250),
                    ")".repeat(250)
                ),
                "250 nested parentheses",
            ),
            "E0010" => (
                format!("fn main() = println(\"${{{}1}}\")\n", "1 + ".repeat(300)),
                "300 additions in one expression",
            ),
            "E0011" => (
                (0..60).map(|i| format!("fn f{i}() = )\n")).collect(),
                "60 functions, each with a syntax error",
            ),
            "E0039" => (hard_case(), "a case over 24 Bools with 170 random arms"),
            _ => return None,
        })
    }

    /// An exhaustive `case` whose check exceeds the budget: 170 arms that
    /// each fix 3 of 24 Bool fields at random (a fixed pseudo-random
    /// sequence), i.e. a 3-DNF tautology, which takes exponential work.
    fn hard_case() -> String {
        let (n, m) = (24usize, 170);
        let mut state: u64 = 7;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % bound
        };
        let mut arms = String::new();
        for k in 0..m {
            let mut p = vec!["_"; n];
            let mut fixed = 0;
            while fixed < 3 {
                let i = next(n);
                if p[i] == "_" {
                    p[i] = if next(2) == 0 { "true" } else { "false" };
                    fixed += 1;
                }
            }
            arms.push_str(&format!("    P({}) -> {k}\n", p.join(", ")));
        }
        format!(
            "type T do\n  P({})\nend\n\nfn f(t :: T) -> Int do\n  case t do\n{arms}  end\nend\n\nfn main() = println(\"${{f(P({}))}}\")\n",
            vec!["Bool"; n].join(", "),
            vec!["true"; n].join(", ")
        )
    }

    /// Codes of declarations only std modules may have: their `right`
    /// example is not a program, and only has to parse.
    const STD_ONLY: &[&str] = &["E0008"];

    #[test]
    fn codes_are_unique_and_well_formed() {
        let all = all();
        assert!(all.len() >= 40, "{}", all.len());
        for w in all.windows(2) {
            assert_ne!(w[0].code, w[1].code, "code used twice");
        }
        for e in &all {
            let c = e.code.0;
            assert!(
                c.len() == 5
                    && (c.starts_with('E') || c.starts_with('W'))
                    && c[1..].chars().all(|d| d.is_ascii_digit()),
                "{c}"
            );
            assert!(!e.title.is_empty() && !e.text.is_empty(), "{c}");
            assert!(
                !e.wrong.trim().is_empty() && !e.right.trim().is_empty(),
                "{c}"
            );
            assert_ne!(e.wrong, e.right, "{c}");
        }
    }

    /// Every code's `wrong` example gets that code, and its `right` example
    /// compiles without any diagnostic; the wrong example and its rendered
    /// diagnostics are pinned, one snapshot per code.
    #[test]
    fn every_code_has_working_examples_and_a_snapshot() {
        for e in all() {
            let code = e.code;
            let (wrong, shown) = match generated_wrong(code) {
                Some((src, what)) => (
                    src,
                    format!("({what}, generated by the test; only the {code} diagnostics shown)"),
                ),
                None => (e.wrong.trim_start().to_string(), e.wrong.trim().to_string()),
            };
            let (diags, mut text) = diagnose(&wrong);
            if generated_wrong(code).is_some() {
                // Only the diagnostics of this code (the input is large).
                let mut sources = SourceMap::default();
                sources.add("example.snow", wrong.as_str());
                let own: Vec<Diagnostic> =
                    diags.iter().filter(|d| d.code == code).cloned().collect();
                text = snowc_syntax::render(&own, &sources, false);
            }
            assert!(
                diags.iter().any(|d| d.code == code),
                "{code}: the wrong example does not get {code}:\n{text}"
            );
            let right = e.right.trim_start();
            if STD_ONLY.contains(&code.0) {
                let (_, d) = snowc_syntax::parse(snowc_syntax::FileId(0), right);
                assert!(d.is_empty(), "{code}: {d:?}");
            } else {
                let (diags, text) = diagnose(right);
                assert!(
                    diags.is_empty(),
                    "{code}: the right example has diagnostics:\n{text}"
                );
            }
            if generated_wrong(code).is_none() {
                // Rendering the explanation works and shows both examples.
                let r = render(e);
                assert!(r.starts_with(&format!("{code}: ")) && r.contains("Wrong:"));
            }
            insta::with_settings!({
                snapshot_path => "../tests/snapshots/codes",
                prepend_module_to_snapshot => false,
            }, {
                insta::assert_snapshot!(
                    code.0,
                    format!("----- SOURCE\n{shown}\n----- DIAGNOSTICS\n{text}")
                );
            });
            if code.severity() == snowc_syntax::Severity::Warning {
                assert!(!has_errors(&diags), "{code}: a warning's example compiles");
            }
        }
    }

    #[test]
    fn lookup_ignores_case_and_wraps_text() {
        assert_eq!(find("e0012").map(|e| e.code.0), Some("E0012"));
        assert!(find("E9999").is_none());
        let w = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(w, "aaa bbb\nccc ddd");
    }
}
