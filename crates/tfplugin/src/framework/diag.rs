//! Diagnostics: the user-facing channel for every problem. Lower layers return their own error
//! types; resources turn them into diagnostics with a summary that names what failed and a
//! detail that says what to do. Protocol handlers never turn problems into gRPC errors.

use std::fmt;

use tfvalue::AttributePath;

/// What every diagnostic that reports a bug of the provider (or of its client), never a
/// mistake of the user, says: "This is a bug in the provider; please report it." Tests and the
/// fuzz targets assert that no input, however wrong, gets such a diagnostic: a wrong input is
/// the user's to fix, and deserves an error that says how.
pub const INTERNAL_ERROR_MARK: &str = "please report it";

/// Whether a diagnostic's text reports a bug of the provider (see [`INTERNAL_ERROR_MARK`]).
pub fn is_internal_text(summary: &str, detail: &str) -> bool {
    summary.contains(INTERNAL_ERROR_MARK) || detail.contains(INTERNAL_ERROR_MARK)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// Paragraphs: what happened, why, and what to do.
    pub detail: String,
    /// Where in the configuration; Terraform then points at the line.
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// An error that only a bug of the provider can cause: `detail` says what went wrong,
    /// and the diagnostic asks for a report (it carries [`INTERNAL_ERROR_MARK`]).
    pub fn internal(summary: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::error(
            summary,
            format!("{detail}. This is a bug in the provider; please report it."),
        )
    }

    /// Whether this diagnostic reports a bug of the provider.
    pub fn is_internal(&self) -> bool {
        is_internal_text(&self.summary, &self.detail)
    }

    pub fn at(mut self, path: AttributePath) -> Self {
        self.path = Some(path);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.summary)?;
        if let Some(path) = &self.path {
            write!(f, " (at {path})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// An ordered collection of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}
