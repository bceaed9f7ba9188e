//! Programs of many files: private items and imports (Snow v2). The module
//! graph's own errors (missing files, cycles, std names) are
//! `snowc_syntax::GraphError`.

use super::hint::did_you_mean;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// An item of another user module that is not `pub`.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateItem {
    pub span: Span,
    /// `Chat.Rooms`
    pub module: String,
    pub name: String,
    /// `function`, `type`, `struct`, `constructor`, `service`
    pub what: &'static str,
}

impl Kind for PrivateItem {
    const CODE: Code = Code("E0054");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the item is private to its module",
        text: "Only `pub` items (`pub fn`, `pub type`, `pub struct`, `pub service`) are \
               visible outside the file that defines them; the rest are the module's own \
               helpers, and two modules may each have their own private item of one name. \
               Mark the item `pub` if other modules should use it.",
        wrong: r#"
import Util

fn main() = println(Util.helper())

# file: util.snow
fn helper() = "hi"
"#,
        right: r#"
import Util

fn main() = println(Util.helper())

# file: util.snow
pub fn helper() = "hi"
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!(
                "{} {} is private to module {}",
                self.what, self.name, self.module
            ),
        )
        .with_label(format!("not pub in {}", self.module))
        .with_help(format!(
            "mark it `pub` in {} to use it from other modules",
            self.module
        ))
    }
}

/// `from M import (x)` where `M` has no item `x`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownImport {
    pub span: Span,
    pub module: String,
    pub name: String,
    pub suggestion: Option<String>,
}

impl Kind for UnknownImport {
    const CODE: Code = Code("E0055");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the module has no such item to import",
        text: "`from M import (a, B)` brings public functions (lower-case) and types, \
               structs, constructors or services (capitalised) of `M` into scope \
               unqualified; each name must be one of `M`'s public items.",
        wrong: r#"
from Util import (greting)

fn main() = println(greeting())

# file: util.snow
pub fn greeting() = "hi"
"#,
        right: r#"
from Util import (greeting)

fn main() = println(greeting())

# file: util.snow
pub fn greeting() = "hi"
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("module {} has no item {}", self.module, self.name),
        )
        .with_label(format!("not in {}", self.module));
        did_you_mean(d, &self.suggestion)
    }
}
