//! The hint shared by the kinds of unknown names.

/// `did you mean x?`
pub(crate) fn did_you_mean(
    d: snowc_syntax::Diagnostic,
    suggestion: &Option<String>,
) -> snowc_syntax::Diagnostic {
    match suggestion {
        Some(s) => d.with_help(format!("did you mean {s}?")),
        None => d,
    }
}
