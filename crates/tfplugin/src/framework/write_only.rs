//! Write-only attributes (tfplugin 6.8, Terraform 1.11 and OpenTofu 1.11 on): values Terraform
//! sends with the configuration at ValidateResourceConfig, PlanResourceChange and
//! ApplyResourceChange, and never stores. Every state and plan a provider returns must hold
//! null in them; Terraform rejects anything else ("Provider produced invalid plan", and
//! OpenTofu's `plugin6/validation/write_only.go` checks planned, applied, read, imported and
//! upgraded states alike).
//!
//! What this module gives the server and the resources:
//! - [`Block::null_write_only`]: a value with every write-only attribute null, applied by the
//!   server to every value it returns (and to Terraform's proposed new state before planning,
//!   so a configured secret never makes a resource look changed);
//! - [`Block::merge_write_only`]: a planned value with the configuration's write-only values
//!   put back, for resources that need them (rendering a Secret at plan and apply);
//! - [`Block::withhold_write_only`]: a stored value (a state) with every write-only attribute
//!   unknown: "a value was perhaps given, and it is not ours to see";
//! - [`Block::write_only_values`]: where a configuration sets write-only values (the server
//!   refuses them from a CLI that does not support write-only attributes);
//! - [`Block::write_only_problems`]: the schema rules Terraform applies to write-only attributes,
//!   checked before the schema is served.

use tfvalue::{AttributePath, Value};

use super::schema::{Attribute, AttributeKind, Block, BlockNesting, ObjectNesting};

/// What to put in a write-only slot: `(path, current value, the other value's slot)`.
type SlotFn<'a> = dyn FnMut(&AttributePath, &Value, Option<&Value>) -> Value + 'a;

impl Block {
    /// Whether any attribute, at any depth, is write-only.
    pub fn has_write_only(&self) -> bool {
        self.attributes.iter().any(attribute_has_write_only)
            || self.blocks.iter().any(|b| b.block.has_write_only())
    }

    /// `value` with every write-only attribute null.
    pub fn null_write_only(&self, value: &Value) -> Value {
        if !self.has_write_only() {
            return value.clone();
        }
        map_block(self, value, None, &AttributePath::root(), &mut |_, _, _| {
            Value::Null
        })
    }

    /// `planned` with the write-only values of `config` (Terraform's configuration of the same
    /// object) in their places. Nested blocks correlate by position, as Terraform plans them.
    pub fn merge_write_only(&self, planned: &Value, config: &Value) -> Value {
        if !self.has_write_only() {
            return planned.clone();
        }
        map_block(
            self,
            planned,
            Some(config),
            &AttributePath::root(),
            &mut |_, _, from_config| from_config.cloned().unwrap_or(Value::Null),
        )
    }

    /// `value` with every write-only attribute unknown: what a stored value says about them.
    pub fn withhold_write_only(&self, value: &Value) -> Value {
        if !self.has_write_only() {
            return value.clone();
        }
        map_block(self, value, None, &AttributePath::root(), &mut |_, _, _| {
            Value::unknown()
        })
    }

    /// Paths of the write-only attributes `config` sets (known or not yet known).
    pub fn write_only_values(&self, config: &Value) -> Vec<AttributePath> {
        let mut found = Vec::new();
        if self.has_write_only() {
            map_block(
                self,
                config,
                None,
                &AttributePath::root(),
                &mut |path, v, _| {
                    if !v.is_null() {
                        found.push(path.clone());
                    }
                    v.clone()
                },
            );
        }
        found
    }

    /// Schema rules for write-only attributes, as Terraform and OpenTofu check them (and
    /// terraform-plugin-framework's `fwschema` before them): a write-only attribute is
    /// configured, never computed (so it has no default and cannot keep a prior value), cannot
    /// force a replacement (Terraform cannot compare values it never stores), and cannot sit in
    /// a set, whose elements are identified by their whole value. Each problem names the
    /// attribute's path.
    pub fn write_only_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        block_problems(self, "", false, &mut out);
        out
    }
}

fn attribute_has_write_only(a: &Attribute) -> bool {
    a.write_only
        || matches!(&a.kind, AttributeKind::Nested { attributes, .. }
            if attributes.iter().any(attribute_has_write_only))
}

fn block_problems(block: &Block, prefix: &str, in_set: bool, out: &mut Vec<String>) {
    for a in &block.attributes {
        attribute_problems(a, prefix, in_set, out);
    }
    for nested in &block.blocks {
        let name = format!("{prefix}{}", nested.name);
        block_problems(
            &nested.block,
            &format!("{name}."),
            in_set || nested.nesting == BlockNesting::Set,
            out,
        );
    }
}

fn attribute_problems(a: &Attribute, prefix: &str, in_set: bool, out: &mut Vec<String>) {
    let name = format!("{prefix}{}", a.name);
    if a.write_only {
        let mut wrong = Vec::new();
        if a.is_computed() {
            wrong.push("it cannot be computed or have a default");
        }
        if a.requires_replace {
            wrong.push("it cannot force a replacement");
        }
        if a.use_state_for_unknown {
            wrong.push("it cannot keep its prior value");
        }
        if in_set {
            wrong.push("it cannot sit inside a set");
        }
        if !wrong.is_empty() {
            out.push(format!("write-only attribute {name}: {}", wrong.join("; ")));
        }
    }
    if let AttributeKind::Nested {
        nesting,
        attributes,
    } = &a.kind
    {
        if a.is_computed() && attributes.iter().any(attribute_has_write_only) {
            out.push(format!(
                "computed nested attribute {name} cannot contain write-only attributes"
            ));
        }
        for inner in attributes {
            attribute_problems(
                inner,
                &format!("{name}."),
                in_set || *nesting == ObjectNesting::Set,
                out,
            );
        }
    }
}

/// `value` (an object of `block`) with `f`'s answer in every write-only slot. `other` is the
/// same object in another value (configuration), walked alongside.
fn map_block(
    block: &Block,
    value: &Value,
    other: Option<&Value>,
    path: &AttributePath,
    f: &mut SlotFn<'_>,
) -> Value {
    let Value::Object(attrs) = value else {
        return value.clone();
    };
    let mut out = attrs.clone();
    for a in &block.attributes {
        if !attribute_has_write_only(a) {
            continue;
        }
        let Some(slot) = out.get_mut(&a.name) else {
            continue;
        };
        let other_v = other.and_then(|o| o.get_attr(&a.name));
        let at = path.attr(&a.name);
        *slot = map_attribute(a, slot, other_v, &at, f);
    }
    for nested in &block.blocks {
        if !nested.block.has_write_only() {
            continue;
        }
        let Some(slot) = out.get_mut(&nested.name) else {
            continue;
        };
        let other_v = other.and_then(|o| o.get_attr(&nested.name));
        let at = path.attr(&nested.name);
        *slot = match nested.nesting {
            BlockNesting::Single | BlockNesting::Group => {
                map_block(&nested.block, slot, other_v, &at, f)
            }
            BlockNesting::List => map_list(
                slot,
                other_v,
                &at,
                &mut |v, o, p, f| map_block(&nested.block, v, o, p, f),
                f,
            ),
            BlockNesting::Map => map_map(
                slot,
                other_v,
                &at,
                &mut |v, o, p, f| map_block(&nested.block, v, o, p, f),
                f,
            ),
            // No write-only attribute may sit in a set (write_only_problems).
            BlockNesting::Set => slot.clone(),
        };
    }
    Value::Object(out)
}

fn map_attribute(
    a: &Attribute,
    value: &Value,
    other: Option<&Value>,
    path: &AttributePath,
    f: &mut SlotFn<'_>,
) -> Value {
    if a.write_only {
        return f(path, value, other);
    }
    let AttributeKind::Nested {
        nesting,
        attributes,
    } = &a.kind
    else {
        return value.clone();
    };
    let object = |v: &Value, o: Option<&Value>, p: &AttributePath, f: &mut SlotFn<'_>| {
        let Value::Object(attrs) = v else {
            return v.clone();
        };
        let mut out = attrs.clone();
        for inner in attributes {
            if let Some(slot) = out.get_mut(&inner.name) {
                let other_v = o.and_then(|o| o.get_attr(&inner.name));
                *slot = map_attribute(inner, slot, other_v, &p.attr(&inner.name), f);
            }
        }
        Value::Object(out)
    };
    match nesting {
        ObjectNesting::Single => object(value, other, path, f),
        ObjectNesting::List => {
            map_list(value, other, path, &mut |v, o, p, f| object(v, o, p, f), f)
        }
        ObjectNesting::Map => map_map(value, other, path, &mut |v, o, p, f| object(v, o, p, f), f),
        ObjectNesting::Set => value.clone(),
    }
}

type ElementFn<'a> =
    dyn FnMut(&Value, Option<&Value>, &AttributePath, &mut SlotFn<'_>) -> Value + 'a;

fn map_list(
    value: &Value,
    other: Option<&Value>,
    path: &AttributePath,
    element: &mut ElementFn<'_>,
    f: &mut SlotFn<'_>,
) -> Value {
    let (Value::List(items) | Value::Tuple(items)) = value else {
        return value.clone();
    };
    let mapped = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let o = other.and_then(|o| o.as_list()).and_then(|l| l.get(i));
            element(v, o, &path.index(i as i64), f)
        })
        .collect();
    match value {
        Value::Tuple(_) => Value::Tuple(mapped),
        _ => Value::List(mapped),
    }
}

fn map_map(
    value: &Value,
    other: Option<&Value>,
    path: &AttributePath,
    element: &mut ElementFn<'_>,
    f: &mut SlotFn<'_>,
) -> Value {
    let Value::Map(items) = value else {
        return value.clone();
    };
    Value::Map(
        items
            .iter()
            .map(|(k, v)| {
                let o = other.and_then(|o| o.as_map()).and_then(|m| m.get(k));
                (k.clone(), element(v, o, &path.key(k.clone()), f))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::NestedBlock;

    fn schema() -> Block {
        Block::new("t")
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("token_wo").write_only())
            .block(NestedBlock::single(
                "bucket",
                Block::new("b")
                    .attribute(Attribute::string("bucket").required())
                    .attribute(Attribute::string("secret_wo").write_only())
                    .attribute(Attribute::number("secret_wo_version")),
            ))
            .block(NestedBlock::list(
                "keys",
                Block::new("k").attribute(Attribute::string("key_wo").write_only()),
            ))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    fn config() -> Value {
        obj(&[
            ("name", "a".into()),
            ("token_wo", "t0p".into()),
            (
                "bucket",
                obj(&[
                    ("bucket", "b".into()),
                    ("secret_wo", "s3cr3t".into()),
                    ("secret_wo_version", 1i64.into()),
                ]),
            ),
            (
                "keys",
                Value::List(vec![
                    obj(&[("key_wo", "k1".into())]),
                    obj(&[("key_wo", Value::Null)]),
                ]),
            ),
        ])
    }

    #[test]
    fn nulls_every_write_only_value_and_nothing_else() {
        let nulled = schema().null_write_only(&config());
        assert_eq!(nulled.get_attr("token_wo"), Some(&Value::Null));
        let bucket = nulled.get_attr("bucket").unwrap();
        assert_eq!(bucket.get_attr("secret_wo"), Some(&Value::Null));
        assert_eq!(bucket.get_attr("bucket"), Some(&Value::from("b")));
        assert_eq!(
            bucket.get_attr("secret_wo_version"),
            Some(&Value::from(1i64))
        );
        let keys = nulled.get_attr("keys").unwrap().as_list().unwrap();
        assert_eq!(keys[0].get_attr("key_wo"), Some(&Value::Null));
        assert_eq!(nulled.get_attr("name"), Some(&Value::from("a")));
        // Absent blocks stay absent.
        let mut sparse = config();
        *sparse.get_attr_mut("bucket").unwrap() = Value::Null;
        assert_eq!(
            schema().null_write_only(&sparse).get_attr("bucket"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn merge_puts_the_configured_values_back() {
        let s = schema();
        let planned = s.null_write_only(&config());
        assert_eq!(s.merge_write_only(&planned, &config()), config());
        // A block only in the plan gets null, never a value from elsewhere.
        let mut config_without_keys = config();
        *config_without_keys.get_attr_mut("keys").unwrap() = Value::List(vec![]);
        let merged = s.merge_write_only(&planned, &config_without_keys);
        let keys = merged.get_attr("keys").unwrap().as_list().unwrap();
        assert_eq!(keys[0].get_attr("key_wo"), Some(&Value::Null));
    }

    #[test]
    fn withheld_values_are_unknown_and_paths_are_reported() {
        let s = schema();
        let withheld = s.withhold_write_only(&s.null_write_only(&config()));
        assert!(withheld.get_attr("token_wo").unwrap().is_unknown());
        let paths: Vec<String> = s
            .write_only_values(&config())
            .iter()
            .map(ToString::to_string)
            .collect();
        // In schema order: attributes, then blocks.
        assert_eq!(paths, ["token_wo", "bucket.secret_wo", "keys[0].key_wo"]);
        assert!(
            s.write_only_values(&s.null_write_only(&config()))
                .is_empty()
        );
    }

    #[test]
    fn schema_rules() {
        assert!(schema().write_only_problems().is_empty());
        let bad = Block::new("t")
            .attribute(Attribute::string("a_wo").write_only().computed())
            .attribute(Attribute::string("b_wo").write_only().requires_replace())
            .block(NestedBlock {
                nesting: BlockNesting::Set,
                ..NestedBlock::single(
                    "set",
                    Block::new("s").attribute(Attribute::string("c_wo").write_only()),
                )
            });
        assert_eq!(
            bad.write_only_problems(),
            [
                "write-only attribute a_wo: it cannot be computed or have a default",
                "write-only attribute b_wo: it cannot force a replacement",
                "write-only attribute set.c_wo: it cannot sit inside a set",
            ]
        );
    }
}
