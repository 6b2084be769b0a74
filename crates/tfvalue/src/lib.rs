//! Terraform's type system and values as they cross the plugin protocol (tfplugin6
//! `DynamicValue`), knowing nothing of gRPC or of any particular provider.
//!
//! The contract:
//! - [`Type`] mirrors cty types and round-trips Terraform's type JSON exactly (including the
//!   optional-attribute form of object types).
//! - [`Value`] holds null, unknown (with Terraform >= 1.6 refinements), known values and
//!   dynamically typed values; it is untyped until checked against a [`Type`].
//! - [`Number`] is an exact decimal, because Terraform numbers are arbitrary precision.
//! - [`msgpack`] decodes and encodes what Terraform actually sends and accepts (verified against
//!   Terraform 1.11.4): objects always carry every attribute, unknowns are extensions, dynamic
//!   values are `[type JSON, value]` pairs.
//! - [`json`] handles cty JSON, chiefly the raw state handed to `UpgradeResourceState`, where
//!   decoding is lenient about attributes that were added or removed from the schema.
//! - Every [`Error`] names the [`AttributePath`] where it happened, ready for a diagnostic.
//!
//! ```
//! use tfvalue::{msgpack, Type, Value};
//!
//! let ty = Type::object([("name", Type::String), ("size", Type::Number)]);
//! // Terraform's encoding of `{ name = <unknown, not null, prefix "b-">, size = 1.5 }`.
//! let bytes = [
//!     0x82, 0xa4, b'n', b'a', b'm', b'e', 0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'b',
//!     b'-', 0xa4, b's', b'i', b'z', b'e', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
//! ];
//! let v = msgpack::decode(&bytes, &ty)?;
//! let name = v.get_attr("name").unwrap();
//! assert!(name.is_unknown());
//! assert_eq!(name.refinements().unwrap().string_prefix.as_deref(), Some("b-"));
//! assert_eq!(v.get_attr("size").unwrap().as_number().unwrap().to_string(), "1.5");
//! assert_eq!(msgpack::encode(&v, &ty)?, bytes);
//! # Ok::<(), tfvalue::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod shape;
mod types;
mod value;

pub use error::{Error, Result};
pub use number::Number;
pub use path::{AttributePath, PathStep};
pub use types::{ObjectType, Type};
pub use value::{Refinements, Value};
