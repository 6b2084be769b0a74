//! Declarative schemas: what Terraform shows in `providers schema -json`, what our docs are
//! generated from, and what drives the generic parts of validation and planning.
//!
//! Every attribute and block carries a markdown description (the docs generator and the
//! registry read them), and may carry plan behaviour: a default, "requires replacement",
//! "use state for unknown", and value validators that skip unknown values.

use std::fmt;
use std::sync::Arc;

use tfvalue::{ObjectType, Type, Value};

/// A resource's or the provider's schema.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Stored in state as `schema_version`; bump it when the state shape changes.
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }

    /// The type every value of this schema has on the wire.
    pub fn value_type(&self) -> Type {
        self.block.implied_type()
    }
}

/// An object made of attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecation: Option<String>,
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn attributes(mut self, attributes: impl IntoIterator<Item = Attribute>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn blocks(mut self, blocks: impl IntoIterator<Item = NestedBlock>) -> Self {
        self.blocks.extend(blocks);
        self
    }

    pub fn get_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn get_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Terraform's implied type: an object with every attribute and block type as a key.
    pub fn implied_type(&self) -> Type {
        Type::Object(self.implied_object_type())
    }

    pub fn implied_object_type(&self) -> ObjectType {
        let mut attrs: Vec<(String, Type)> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.kind.value_type()))
            .collect();
        attrs.extend(self.blocks.iter().map(|b| (b.name.clone(), b.value_type())));
        ObjectType::new(attrs)
    }
}

/// Whether the user must, may, or cannot set an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Set by the provider only; a configured value is an error.
    Computed,
    /// The user may set it; otherwise the provider decides (a default, or a derived value).
    OptionalComputed,
}

/// The value shape of an attribute.
#[derive(Clone, Debug)]
pub enum AttributeKind {
    Type(Type),
    /// Nested attributes (`attr = { ... }` / `attr = [{ ... }]` syntax).
    Nested {
        nesting: ObjectNesting,
        attributes: Vec<Attribute>,
    },
}

impl AttributeKind {
    pub fn value_type(&self) -> Type {
        match self {
            AttributeKind::Type(t) => t.clone(),
            AttributeKind::Nested {
                nesting,
                attributes,
            } => {
                let object = Type::Object(ObjectType::new(
                    attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.kind.value_type())),
                ));
                match nesting {
                    ObjectNesting::Single => object,
                    ObjectNesting::List => Type::list(object),
                    ObjectNesting::Set => Type::set(object),
                    ObjectNesting::Map => Type::map(object),
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectNesting {
    Single,
    List,
    Set,
    Map,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockNesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

/// The function behind a [`Validator`]: the problem in words, or `None`.
pub type CheckFn = dyn Fn(&Value) -> Option<String> + Send + Sync;

/// A check of one known, non-null value. Returns the problem in words, or `None`.
#[derive(Clone)]
pub struct Validator {
    /// Shown in the docs ("must be one of `a`, `b`").
    pub description: String,
    pub check: Arc<CheckFn>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("description", &self.description)
            .finish()
    }
}

impl Validator {
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    /// The string must be one of `allowed`.
    pub fn one_of(allowed: &'static [&'static str]) -> Self {
        let listed = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        Self::new(format!("must be one of {listed}"), move |v| {
            let s = v.as_str()?;
            if allowed.contains(&s) {
                None
            } else {
                Some(format!("{s:?} is not allowed: use one of {listed}."))
            }
        })
    }

    /// The number must be a whole number of at least `min`.
    pub fn int_at_least(min: i64) -> Self {
        Self::new(
            format!("must be a whole number of at least {min}"),
            move |v| {
                let n = v.as_number()?;
                match n.to_i64() {
                    Some(i) if n.is_integer() && i >= min => None,
                    None if n.is_integer() && !n.is_negative() => Some(format!(
                        "{n} is too large: whole numbers here go up to {}.",
                        i64::MAX
                    )),
                    _ => Some(format!("{n} is not a whole number of at least {min}.")),
                }
            },
        )
    }

    /// The string must not be empty.
    pub fn not_empty() -> Self {
        Self::new("must not be empty", |v| {
            v.as_str()
                .filter(|s| s.is_empty())
                .map(|_| "The value must not be empty.".to_string())
        })
    }
}

/// One attribute of a block or of a nested attribute object.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeKind,
    pub description: String,
    pub presence: Presence,
    pub sensitive: bool,
    /// Write-only (Terraform and OpenTofu 1.11+): the value is sent with the configuration at
    /// validation, plan and apply, and is never stored: every state and plan the provider
    /// returns holds null here (the server enforces it, see [`Block::null_write_only`]).
    pub write_only: bool,
    pub deprecation: Option<String>,
    /// Changing the value replaces the whole resource.
    pub requires_replace: bool,
    /// Planned when the configuration leaves the attribute null (needs `OptionalComputed`).
    pub default: Option<Value>,
    /// When the configuration leaves a computed attribute null, keep the prior value in the plan
    /// instead of "known after apply" (for values that never change once set).
    pub use_state_for_unknown: bool,
    pub validators: Vec<Validator>,
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self {
            name: name.into(),
            kind: AttributeKind::Type(ty),
            description: String::new(),
            presence: Presence::Optional,
            sensitive: false,
            write_only: false,
            deprecation: None,
            requires_replace: false,
            default: None,
            use_state_for_unknown: false,
            validators: Vec::new(),
        }
    }

    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn string_list(name: impl Into<String>) -> Self {
        Self::new(name, Type::list(Type::String))
    }
    pub fn string_map(name: impl Into<String>) -> Self {
        Self::new(name, Type::map(Type::String))
    }

    /// Nested attributes with the given nesting.
    pub fn nested(
        name: impl Into<String>,
        nesting: ObjectNesting,
        attributes: impl IntoIterator<Item = Attribute>,
    ) -> Self {
        let mut a = Self::new(name, Type::Bool);
        a.kind = AttributeKind::Nested {
            nesting,
            attributes: attributes.into_iter().collect(),
        };
        a
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    pub fn required(mut self) -> Self {
        self.presence = Presence::Required;
        self
    }
    pub fn optional(mut self) -> Self {
        self.presence = Presence::Optional;
        self
    }
    pub fn computed(mut self) -> Self {
        self.presence = Presence::Computed;
        self
    }
    pub fn optional_computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// See [`Attribute::write_only`]; [`Block::write_only_problems`] lists the options it
    /// cannot be combined with.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation = Some(message.into());
        self
    }
    /// A default implies optional + computed: Terraform must allow the provider to fill it in.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self.presence = Presence::OptionalComputed;
        self
    }
    pub fn validate(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }

    /// Whether the user may write this attribute at all.
    pub fn is_configurable(&self) -> bool {
        !matches!(self.presence, Presence::Computed)
    }
}

/// A nested block type (`name { ... }` syntax).
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: BlockNesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

impl NestedBlock {
    pub fn single(name: impl Into<String>, block: Block) -> Self {
        Self {
            name: name.into(),
            nesting: BlockNesting::Single,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    pub fn list(name: impl Into<String>, block: Block) -> Self {
        Self {
            nesting: BlockNesting::List,
            ..Self::single(name, block)
        }
    }

    /// A single block that must be present.
    pub fn required(mut self) -> Self {
        if self.nesting == BlockNesting::Single {
            self.min_items = 1;
            self.max_items = 1;
        } else {
            self.min_items = self.min_items.max(1);
        }
        self
    }

    pub fn max_items(mut self, max: i64) -> Self {
        self.max_items = max;
        self
    }

    pub fn value_type(&self) -> Type {
        let object = self.block.implied_type();
        match self.nesting {
            BlockNesting::Single | BlockNesting::Group => object,
            // Terraform types a list of blocks containing a dynamic attribute as a tuple.
            BlockNesting::List if object.has_dynamic() => Type::Tuple(Vec::new()),
            BlockNesting::List => Type::list(object),
            BlockNesting::Set => Type::set(object),
            BlockNesting::Map => Type::map(object),
        }
    }

    /// The value of an absent block, as Terraform sends it: null for single blocks, an empty
    /// collection otherwise.
    pub fn absent_value(&self) -> Value {
        match self.nesting {
            BlockNesting::Single => Value::Null,
            BlockNesting::Group => Value::null_object(&self.block.implied_object_type()),
            BlockNesting::List => Value::List(Vec::new()),
            BlockNesting::Set => Value::Set(Vec::new()),
            BlockNesting::Map => Value::Map(Default::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_has_every_attribute_and_block() {
        let block = Block::new("x")
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::number("replicas").default(1i64))
            .block(NestedBlock::single(
                "router",
                Block::new("r").attribute(Attribute::string_list("tenants")),
            ))
            .block(NestedBlock::list(
                "rings",
                Block::new("ring").attribute(Attribute::string("name")),
            ));
        let ty = block.implied_type();
        assert_eq!(
            ty.to_json(),
            serde_json::json!(["object", {
                "name": "string",
                "replicas": "number",
                "router": ["object", {"tenants": ["list", "string"]}],
                "rings": ["list", ["object", {"name": "string"}]],
            }])
        );
    }

    #[test]
    fn validators_skip_nothing_they_cannot_judge() {
        let v = Validator::one_of(&["a", "b"]);
        assert!((v.check)(&Value::from("a")).is_none());
        assert!((v.check)(&Value::from("c")).unwrap().contains("`a`, `b`"));
        let n = Validator::int_at_least(1);
        assert!((n.check)(&Value::from(0i64)).is_some());
        assert!((n.check)(&Value::from(3i64)).is_none());
        let huge = (n.check)(&Value::Number("1e30".parse().unwrap())).unwrap();
        assert!(huge.contains("too large"), "{huge}");
        let fraction = (n.check)(&Value::Number("1.5".parse().unwrap())).unwrap();
        assert!(fraction.contains("not a whole number"), "{fraction}");
    }
}
