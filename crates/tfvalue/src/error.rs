//! The crate's single error type.
//!
//! Every variant carries the [`AttributePath`] where the problem was found, because the caller
//! usually turns the error into a Terraform diagnostic and Terraform needs the path to point at the
//! offending configuration or state line.

use std::fmt;

use crate::path::AttributePath;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a value, type or encoding was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The value (or the bytes) has a different kind than the type requires.
    #[error("{}expected {expected}, found {found}", At(.path))]
    TypeMismatch {
        /// Where.
        path: AttributePath,
        /// What the type asked for, e.g. `a string`.
        expected: String,
        /// What was there instead, e.g. `a bool`.
        found: String,
    },
    /// An object lacks a required attribute (only [`crate::Value::conforms`] is this strict; the
    /// decoders and encoders treat a missing attribute as null). The path ends with the attribute.
    #[error("{}attribute is required but missing", At(.path))]
    MissingAttribute {
        /// Path of the missing attribute.
        path: AttributePath,
    },
    /// An object has an attribute its type does not declare. The path ends with the attribute.
    #[error("{}unsupported attribute", At(.path))]
    UnsupportedAttribute {
        /// Path of the extra attribute.
        path: AttributePath,
    },
    /// A tuple has the wrong number of elements.
    #[error("{}expected a tuple of {expected} elements, found {found}", At(.path))]
    TupleLength {
        /// Where.
        path: AttributePath,
        /// Elements the tuple type has.
        expected: usize,
        /// Elements the value has.
        found: usize,
    },
    /// A number could not be parsed or represented.
    #[error("{}invalid number {text:?}: {reason}", At(.path))]
    InvalidNumber {
        /// Where.
        path: AttributePath,
        /// The offending text (or a rendering of the value).
        text: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Unknown values have no JSON representation (cty JSON cannot carry them).
    #[error("{}unknown values cannot be represented in JSON", At(.path))]
    UnknownInJson {
        /// Where the unknown value is.
        path: AttributePath,
    },
    /// A value stored under a `dynamic` type has no usable concrete type.
    #[error("{}dynamic value: {message}", At(.path))]
    Dynamic {
        /// Where.
        path: AttributePath,
        /// What is wrong.
        message: String,
    },
    /// A type JSON document is malformed.
    #[error("{}invalid type JSON: {message}", At(.path))]
    InvalidType {
        /// Where the type was found (the value path for a dynamic value, else the root).
        path: AttributePath,
        /// What is wrong.
        message: String,
    },
    /// The msgpack bytes are malformed (truncated, trailing bytes, bad marker, invalid UTF-8...).
    #[error("{}invalid msgpack: {message}", At(.path))]
    Msgpack {
        /// Where decoding was when it failed.
        path: AttributePath,
        /// What is wrong.
        message: String,
    },
    /// The JSON text is malformed.
    #[error("{}invalid JSON: {message}", At(.path))]
    Json {
        /// Where decoding was when it failed.
        path: AttributePath,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The path where the error happened.
    pub fn path(&self) -> &AttributePath {
        match self {
            Error::TypeMismatch { path, .. }
            | Error::MissingAttribute { path }
            | Error::UnsupportedAttribute { path }
            | Error::TupleLength { path, .. }
            | Error::InvalidNumber { path, .. }
            | Error::UnknownInJson { path }
            | Error::Dynamic { path, .. }
            | Error::InvalidType { path, .. }
            | Error::Msgpack { path, .. }
            | Error::Json { path, .. } => path,
        }
    }

    /// The message without the leading path, for diagnostics that carry the path separately.
    pub fn detail(&self) -> String {
        let mut bare = self.clone();
        *bare.path_mut() = AttributePath::root();
        bare.to_string()
    }

    /// The same error re-anchored at `path` (for errors raised by helpers that only see a part).
    pub(crate) fn at(mut self, path: &AttributePath) -> Self {
        *self.path_mut() = path.clone();
        self
    }

    fn path_mut(&mut self) -> &mut AttributePath {
        match self {
            Error::TypeMismatch { path, .. }
            | Error::MissingAttribute { path }
            | Error::UnsupportedAttribute { path }
            | Error::TupleLength { path, .. }
            | Error::InvalidNumber { path, .. }
            | Error::UnknownInJson { path }
            | Error::Dynamic { path, .. }
            | Error::InvalidType { path, .. }
            | Error::Msgpack { path, .. }
            | Error::Json { path, .. } => path,
        }
    }

    pub(crate) fn mismatch(
        path: &AttributePath,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::TypeMismatch {
            path: path.clone(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn msgpack(path: &AttributePath, message: impl Into<String>) -> Self {
        Error::Msgpack {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn json(path: &AttributePath, message: impl Into<String>) -> Self {
        Error::Json {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn dynamic(path: &AttributePath, message: impl Into<String>) -> Self {
        Error::Dynamic {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid_type(path: &AttributePath, message: impl Into<String>) -> Self {
        Error::InvalidType {
            path: path.clone(),
            message: message.into(),
        }
    }
}

/// Renders `PATH: ` before a message, or nothing at the root.
struct At<'a>(&'a AttributePath);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "{}: ", self.0)
        }
    }
}
