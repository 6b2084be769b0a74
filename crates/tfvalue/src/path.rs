//! Attribute paths: where in a value something happened.
//!
//! These mirror tfplugin6 `AttributePath` steps so that a path built while walking a value can be
//! sent back in a diagnostic and Terraform points at the right configuration line.

use std::fmt;

/// One step of an [`AttributePath`], the same three kinds tfplugin6 `AttributePath.Step` has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute or nested block (`.name`).
    Attribute(String),
    /// A map element (`["key"]`).
    ElementKeyString(String),
    /// A list or tuple element by position (`[3]`). Set elements have no stable key on the wire;
    /// this crate uses their position in the value as held, which is only meaningful locally.
    ElementKeyInt(i64),
}

/// A path from the root of a value to one of its parts.
///
/// Displayed the way Terraform prints paths in messages, e.g. `router.hard_tenant_hashrings[0].tenants`
/// or `labels["app"]`; the root path displays as an empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath {
    /// The steps from the root, outermost first.
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    /// The empty path: the value itself.
    pub fn root() -> Self {
        Self::default()
    }

    /// Builds a path from its steps.
    pub fn new(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }

    /// The path of attribute `name` of the object at this path.
    #[must_use]
    pub fn attr(&self, name: impl Into<String>) -> Self {
        self.child(PathStep::Attribute(name.into()))
    }

    /// The path of the map element with key `k` of the map at this path.
    #[must_use]
    pub fn key(&self, k: impl Into<String>) -> Self {
        self.child(PathStep::ElementKeyString(k.into()))
    }

    /// The path of element `i` of the list or tuple at this path.
    #[must_use]
    pub fn index(&self, i: i64) -> Self {
        self.child(PathStep::ElementKeyInt(i))
    }

    /// This path extended by one step.
    #[must_use]
    pub fn child(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.steps.len() + 1);
        steps.extend_from_slice(&self.steps);
        steps.push(step);
        Self { steps }
    }

    /// Whether this is the root path (no steps).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.steps.split_last()?;
        Some(Self {
            steps: rest.to_vec(),
        })
    }

    /// The last step, if any.
    pub fn last(&self) -> Option<&PathStep> {
        self.steps.last()
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Attribute(name) => write!(f, ".{name}"),
            PathStep::ElementKeyString(k) => {
                f.write_str("[")?;
                write_quoted(f, k)?;
                f.write_str("]")
            }
            PathStep::ElementKeyInt(i) => write!(f, "[{i}]"),
        }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                // The leading attribute has no dot, as in `router.x`.
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                _ => write!(f, "{step}")?,
            }
        }
        Ok(())
    }
}

/// Writes `s` as a double-quoted string with JSON-style escapes (close to Go's `%q`).
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_terraform() {
        let cases = [
            (AttributePath::root(), ""),
            (AttributePath::root().attr("name"), "name"),
            (
                AttributePath::root()
                    .attr("router")
                    .attr("hard_tenant_hashrings")
                    .index(0)
                    .attr("tenants"),
                "router.hard_tenant_hashrings[0].tenants",
            ),
            (
                AttributePath::root().attr("labels").key("app"),
                "labels[\"app\"]",
            ),
            (
                AttributePath::root().attr("m").key("a\"b\\c\n"),
                "m[\"a\\\"b\\\\c\\n\"]",
            ),
            (AttributePath::root().index(2).attr("x"), "[2].x"),
            (AttributePath::root().key("k").index(-1), "[\"k\"][-1]"),
        ];
        for (path, want) in cases {
            assert_eq!(path.to_string(), want, "{path:?}");
        }
    }

    #[test]
    fn parent_and_is_empty() {
        let p = AttributePath::root().attr("a").index(1);
        assert!(!p.is_empty());
        assert_eq!(p.parent(), Some(AttributePath::root().attr("a")));
        assert_eq!(p.last(), Some(&PathStep::ElementKeyInt(1)));
        assert_eq!(AttributePath::root().parent(), None);
        assert!(AttributePath::root().is_empty());
    }
}
