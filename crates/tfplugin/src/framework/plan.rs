//! The schema-driven parts of validation and planning, identical for every resource.
//!
//! Terraform's rules (see the protocol reference, "plan rules"): a planned attribute may differ
//! from the configuration only if it is computed and unset in the configuration; everything the
//! provider will only decide at apply time must be planned as unknown; nested blocks keep their
//! count. This module applies defaults, keeps prior values where nothing changes, marks the rest
//! unknown, and collects "requires replacement" paths.

use std::collections::BTreeMap;

use tfvalue::{AttributePath, Value};

use super::diag::{Diagnostic, Diagnostics};
use super::schema::{Attribute, AttributeKind, Block, BlockNesting, ObjectNesting, Presence};

/// Checks a configuration against the schema's own rules: values for provider-set attributes,
/// deprecated attributes, and every attribute's validators. Unknown values are skipped.
pub fn validate_config(
    block: &Block,
    config: &Value,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    if !config.is_known() || config.is_null() {
        return;
    }
    validate_attributes(&block.attributes, config, path, diags);
    for nested in &block.blocks {
        let value = config.get_attr(&nested.name).unwrap_or(&Value::Null);
        let at = path.attr(&nested.name);
        for_each_element(nested.nesting, value, &at, &mut |element, element_path| {
            validate_config(&nested.block, element, element_path, diags);
        });
    }
}

fn validate_attributes(
    attributes: &[Attribute],
    config: &Value,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    for attribute in attributes {
        let value = config.get_attr(&attribute.name).unwrap_or(&Value::Null);
        let at = path.attr(&attribute.name);
        if value.is_null() || !value.is_known() {
            continue;
        }
        if attribute.presence == Presence::Computed {
            diags.push(
                Diagnostic::error(
                    "Value for unconfigurable attribute",
                    format!(
                        "`{}` is set by the provider and cannot be configured: remove it from the configuration.",
                        attribute.name
                    ),
                )
                .at(at),
            );
            continue;
        }
        if let Some(message) = &attribute.deprecation {
            diags.push(Diagnostic::warning("Deprecated attribute", message.clone()).at(at.clone()));
        }
        for validator in &attribute.validators {
            if let Some(problem) = (validator.check)(value) {
                diags.push(
                    Diagnostic::error(format!("Invalid value for {}", attribute.name), problem)
                        .at(at.clone()),
                );
            }
        }
        if let AttributeKind::Nested {
            nesting,
            attributes: nested,
        } = &attribute.kind
        {
            let nesting = match nesting {
                ObjectNesting::Single => BlockNesting::Single,
                ObjectNesting::List => BlockNesting::List,
                ObjectNesting::Set => BlockNesting::Set,
                ObjectNesting::Map => BlockNesting::Map,
            };
            for_each_element(nesting, value, &at, &mut |element, element_path| {
                if element.is_known() && !element.is_null() {
                    validate_attributes(nested, element, element_path, diags);
                }
            });
        }
    }
}

/// Calls `f` for each object of a nested collection with its path. Set elements cannot be
/// addressed, so their diagnostics point at the set itself.
fn for_each_element(
    nesting: BlockNesting,
    value: &Value,
    path: &AttributePath,
    f: &mut dyn FnMut(&Value, &AttributePath),
) {
    if !value.is_known() || value.is_null() {
        return;
    }
    match nesting {
        BlockNesting::Single | BlockNesting::Group => f(value, path),
        BlockNesting::List | BlockNesting::Set => {
            for (i, element) in value.as_list().unwrap_or_default().iter().enumerate() {
                let at = if nesting == BlockNesting::List {
                    path.index(i as i64)
                } else {
                    path.clone()
                };
                f(element, &at);
            }
        }
        BlockNesting::Map => {
            if let Some(map) = value.as_map() {
                for (key, element) in map {
                    f(element, &path.key(key.clone()));
                }
            }
        }
    }
}

/// The framework's plan: `proposed` (Terraform's merge of config and prior state) with defaults
/// applied, computed values kept or marked unknown, and replacement paths collected.
pub struct PlannedChange {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

pub fn plan_change(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    proposed: &Value,
) -> PlannedChange {
    // A resource whose configuration did not change keeps every computed value; one that
    // changes gets "known after apply" for computed values the resource cannot predict.
    let changed = match prior {
        None => true,
        Some(prior) => !proposed.is_wholly_known() || prior != proposed,
    };
    let mut planner = Planner {
        changed,
        has_prior: prior.is_some(),
        requires_replace: Vec::new(),
    };
    let planned = planner.block(block, prior, config, proposed, &AttributePath::root());
    PlannedChange {
        planned,
        requires_replace: planner.requires_replace,
    }
}

struct Planner {
    changed: bool,
    has_prior: bool,
    requires_replace: Vec<AttributePath>,
}

impl Planner {
    fn block(
        &mut self,
        block: &Block,
        prior: Option<&Value>,
        config: &Value,
        proposed: &Value,
        path: &AttributePath,
    ) -> Value {
        if proposed.is_null() || !proposed.is_known() {
            return proposed.clone();
        }
        let mut out = BTreeMap::new();
        self.attributes(&block.attributes, prior, config, proposed, path, &mut out);
        for nested in &block.blocks {
            let at = path.attr(&nested.name);
            let get = |v: Option<&Value>| v.and_then(|v| v.get_attr(&nested.name)).cloned();
            let proposed_b = get(Some(proposed)).unwrap_or_else(|| nested.absent_value());
            let config_b = get(Some(config)).unwrap_or(Value::Null);
            let prior_b = get(prior);
            let planned = match nested.nesting {
                BlockNesting::Single | BlockNesting::Group => {
                    self.block(&nested.block, prior_b.as_ref(), &config_b, &proposed_b, &at)
                }
                BlockNesting::List => match proposed_b.as_list() {
                    Some(elements) if proposed_b.is_known() => Value::List(
                        elements
                            .iter()
                            .enumerate()
                            .map(|(i, element)| {
                                self.block(
                                    &nested.block,
                                    list_element(prior_b.as_ref(), i),
                                    list_element(Some(&config_b), i).unwrap_or(&Value::Null),
                                    element,
                                    &at.index(i as i64),
                                )
                            })
                            .collect(),
                    ),
                    _ => proposed_b,
                },
                // Set elements cannot be correlated with prior ones; Map blocks are not used by
                // our schemas. Terraform's proposal is kept as is.
                BlockNesting::Set | BlockNesting::Map => proposed_b,
            };
            out.insert(nested.name.clone(), planned);
        }
        Value::Object(out)
    }

    fn attributes(
        &mut self,
        attributes: &[Attribute],
        prior: Option<&Value>,
        config: &Value,
        proposed: &Value,
        path: &AttributePath,
        out: &mut BTreeMap<String, Value>,
    ) {
        for attribute in attributes {
            let at = path.attr(&attribute.name);
            let config_v = config.get_attr(&attribute.name).unwrap_or(&Value::Null);
            let proposed_v = proposed.get_attr(&attribute.name).unwrap_or(&Value::Null);
            let prior_v = prior.and_then(|p| p.get_attr(&attribute.name));
            let planned = if attribute.is_computed() && config_v.is_null() {
                if let Some(default) = &attribute.default {
                    default.clone()
                } else if !self.changed {
                    prior_v.cloned().unwrap_or_else(|| proposed_v.clone())
                } else if attribute.use_state_for_unknown && prior_v.is_some_and(|p| !p.is_null()) {
                    prior_v.cloned().unwrap_or(Value::Null)
                } else {
                    Value::unknown()
                }
            } else if let AttributeKind::Nested {
                nesting,
                attributes: nested,
            } = &attribute.kind
            {
                self.nested_attribute(*nesting, nested, prior_v, config_v, proposed_v, &at)
            } else {
                proposed_v.clone()
            };
            if attribute.requires_replace && self.has_prior {
                let before = prior_v.unwrap_or(&Value::Null);
                if !planned.is_wholly_known() || before != &planned {
                    self.requires_replace.push(at.clone());
                }
            }
            out.insert(attribute.name.clone(), planned);
        }
    }

    fn nested_attribute(
        &mut self,
        nesting: ObjectNesting,
        attributes: &[Attribute],
        prior: Option<&Value>,
        config: &Value,
        proposed: &Value,
        path: &AttributePath,
    ) -> Value {
        if proposed.is_null() || !proposed.is_known() {
            return proposed.clone();
        }
        let object = |this: &mut Self,
                      prior: Option<&Value>,
                      config: &Value,
                      proposed: &Value,
                      at: &AttributePath| {
            if proposed.is_null() || !proposed.is_known() {
                return proposed.clone();
            }
            let mut out = BTreeMap::new();
            this.attributes(attributes, prior, config, proposed, at, &mut out);
            Value::Object(out)
        };
        match nesting {
            ObjectNesting::Single => object(self, prior, config, proposed, path),
            ObjectNesting::List => Value::List(
                proposed
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, element)| {
                        object(
                            self,
                            list_element(prior, i),
                            list_element(Some(config), i).unwrap_or(&Value::Null),
                            element,
                            &path.index(i as i64),
                        )
                    })
                    .collect(),
            ),
            ObjectNesting::Set | ObjectNesting::Map => proposed.clone(),
        }
    }
}

/// The configuration with schema defaults filled in where the user left an attribute null
/// (never where it is unknown). Resources validate this, so a rule about a defaulted value
/// (an empty list, say) is reported by `terraform validate` just as the plan would see it.
pub fn with_defaults(block: &Block, config: &Value) -> Value {
    let Value::Object(attrs) = config else {
        return config.clone();
    };
    let mut out = attrs.clone();
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default {
            let slot = out.entry(attribute.name.clone()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = default.clone();
            }
        }
    }
    for nested in &block.blocks {
        let Some(value) = out.get(&nested.name) else {
            continue;
        };
        let filled = match (nested.nesting, value) {
            (BlockNesting::Single | BlockNesting::Group, v) if v.is_known() && !v.is_null() => {
                with_defaults(&nested.block, v)
            }
            (BlockNesting::List, Value::List(items)) => Value::List(
                items
                    .iter()
                    .map(|v| with_defaults(&nested.block, v))
                    .collect(),
            ),
            (_, v) => v.clone(),
        };
        out.insert(nested.name.clone(), filled);
    }
    Value::Object(out)
}

/// The `i`th element of a list value, if there is one. Terraform correlates list blocks and
/// list nested attributes by index, so prior and config elements pair up this way.
fn list_element(value: Option<&Value>, i: usize) -> Option<&Value> {
    value.and_then(|v| v.as_list()).and_then(|l| l.get(i))
}

/// Makes a partial object whole: missing attributes become null and missing blocks their
/// absent value (null for single blocks, empty for collections). Used for imported and
/// upgraded states, which Terraform requires to match the schema exactly.
pub fn fill_absent(block: &Block, value: Value) -> Value {
    let Value::Object(mut attrs) = value else {
        return value;
    };
    for attribute in &block.attributes {
        attrs.entry(attribute.name.clone()).or_insert(Value::Null);
    }
    for nested in &block.blocks {
        let current = attrs.remove(&nested.name).unwrap_or(Value::Null);
        let filled = match (nested.nesting, current) {
            (BlockNesting::Single, Value::Null) => Value::Null,
            (_, Value::Null) => nested.absent_value(),
            (BlockNesting::Single | BlockNesting::Group, v) => fill_absent(&nested.block, v),
            (BlockNesting::List, Value::List(items)) => Value::List(
                items
                    .into_iter()
                    .map(|v| fill_absent(&nested.block, v))
                    .collect(),
            ),
            (BlockNesting::Set, Value::Set(items)) => Value::Set(
                items
                    .into_iter()
                    .map(|v| fill_absent(&nested.block, v))
                    .collect(),
            ),
            (_, other) => other,
        };
        attrs.insert(nested.name.clone(), filled);
    }
    Value::Object(attrs)
}

/// Paths of every unknown value left in `value` (an applied state must have none).
pub fn unknown_paths(value: &Value) -> Vec<AttributePath> {
    let mut found = Vec::new();
    value.walk(&mut |path, v| {
        if v.is_unknown() {
            found.push(path.clone());
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock};

    fn schema() -> Block {
        Block::new("test")
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::number("replicas").default(1i64))
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("status").computed())
            .attribute(Attribute::string("note").optional())
            .block(NestedBlock::list(
                "ingress",
                Block::new("i")
                    .attribute(Attribute::string("host").required())
                    .attribute(Attribute::string("path").default("/")),
            ))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    #[test]
    fn create_applies_defaults_and_marks_computed_unknown() {
        let config = obj(&[
            ("name", "a".into()),
            ("replicas", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
            ("note", Value::Null),
            (
                "ingress",
                Value::List(vec![obj(&[("host", "h".into()), ("path", Value::Null)])]),
            ),
        ]);
        let plan = plan_change(&schema(), None, &config, &config);
        let p = &plan.planned;
        assert_eq!(p.get_attr("replicas"), Some(&Value::from(1i64)));
        assert!(p.get_attr("id").unwrap().is_unknown());
        assert!(p.get_attr("status").unwrap().is_unknown());
        assert_eq!(p.get_attr("note"), Some(&Value::Null));
        let ingress = p.get_attr("ingress").unwrap().as_list().unwrap();
        assert_eq!(ingress[0].get_attr("path"), Some(&Value::from("/")));
        assert!(plan.requires_replace.is_empty(), "never on create");
    }

    #[test]
    fn unchanged_resource_keeps_prior_computed_values() {
        let prior = obj(&[
            ("name", "a".into()),
            ("replicas", 1i64.into()),
            ("id", "ns/a".into()),
            ("status", "ok".into()),
            ("note", Value::Null),
            ("ingress", Value::List(vec![])),
        ]);
        let config = obj(&[
            ("name", "a".into()),
            ("replicas", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
            ("note", Value::Null),
            ("ingress", Value::List(vec![])),
        ]);
        let plan = plan_change(&schema(), Some(&prior), &config, &prior);
        assert_eq!(plan.planned, prior);
    }

    #[test]
    fn change_marks_computed_unknown_except_use_state_and_collects_replacements() {
        let prior = obj(&[
            ("name", "a".into()),
            ("replicas", 1i64.into()),
            ("id", "ns/a".into()),
            ("status", "ok".into()),
            ("note", Value::Null),
            ("ingress", Value::List(vec![])),
        ]);
        let config = obj(&[
            ("name", "b".into()),
            ("replicas", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
            ("note", "x".into()),
            ("ingress", Value::List(vec![])),
        ]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("name".into(), "b".into());
            m.insert("note".into(), "x".into());
        }
        let plan = plan_change(&schema(), Some(&prior), &config, &proposed);
        assert_eq!(plan.planned.get_attr("id"), Some(&Value::from("ns/a")));
        assert!(plan.planned.get_attr("status").unwrap().is_unknown());
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root().attr("name")]
        );
    }

    #[test]
    fn validation_reports_paths_and_skips_unknowns() {
        let block = Block::new("t")
            .attribute(Attribute::string("id").computed())
            .attribute(
                Attribute::string("mode")
                    .validate(super::super::schema::Validator::one_of(&["a", "b"])),
            )
            .block(NestedBlock::list(
                "items",
                Block::new("i").attribute(
                    Attribute::string("kind")
                        .validate(super::super::schema::Validator::one_of(&["x"])),
                ),
            ));
        let config = obj(&[
            ("id", "set-by-user".into()),
            ("mode", Value::unknown()),
            (
                "items",
                Value::List(vec![
                    obj(&[("kind", "x".into())]),
                    obj(&[("kind", "y".into())]),
                ]),
            ),
        ]);
        let mut diags = Diagnostics::new();
        validate_config(&block, &config, &AttributePath::root(), &mut diags);
        let paths: Vec<String> = diags
            .iter()
            .map(|d| d.path.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, vec!["id".to_string(), "items[1].kind".to_string()]);
    }

    #[test]
    fn defaults_fill_nulls_but_not_unknowns() {
        let config = obj(&[
            ("name", "a".into()),
            ("replicas", Value::Null),
            (
                "ingress",
                Value::List(vec![obj(&[
                    ("host", "h".into()),
                    ("path", Value::unknown()),
                ])]),
            ),
        ]);
        let filled = with_defaults(&schema(), &config);
        assert_eq!(filled.get_attr("replicas"), Some(&Value::from(1i64)));
        let ingress = filled.get_attr("ingress").unwrap().as_list().unwrap();
        assert!(ingress[0].get_attr("path").unwrap().is_unknown());
    }

    #[test]
    fn fill_absent_completes_blocks() {
        let filled = fill_absent(&schema(), obj(&[("name", "a".into())]));
        assert_eq!(filled.get_attr("ingress"), Some(&Value::List(vec![])));
        assert_eq!(filled.get_attr("status"), Some(&Value::Null));
    }
}
