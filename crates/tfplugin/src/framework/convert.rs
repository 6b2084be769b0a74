//! Conversions between the generated protocol types and ours. The only place that knows both.

use tfvalue::{AttributePath, PathStep, Type, Value};

use super::diag::{Diagnostic, Diagnostics, Severity};
use super::resource::Deferral;
use super::schema::{Attribute, AttributeKind, Block, BlockNesting, ObjectNesting, Schema};
use crate::pb::tfplugin6 as pb;

/// Decodes a DynamicValue: msgpack when present (Terraform always sends it), else JSON, else
/// null, which is how Terraform itself reads an empty value.
pub fn decode_value(dv: Option<&pb::DynamicValue>, ty: &Type) -> tfvalue::Result<Value> {
    match dv {
        Some(dv) if !dv.msgpack.is_empty() => tfvalue::msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => tfvalue::json::decode(&dv.json, ty),
        _ => Ok(Value::Null),
    }
}

/// Always msgpack: JSON cannot carry unknown values.
pub fn encode_value(value: &Value, ty: &Type) -> tfvalue::Result<pb::DynamicValue> {
    Ok(pb::DynamicValue {
        msgpack: tfvalue::msgpack::encode(value, ty)?,
        json: Vec::new(),
    })
}

pub fn path_to_pb(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diagnostics_to_pb(diagnostics: &Diagnostics) -> Vec<pb::Diagnostic> {
    diagnostics.iter().map(diagnostic_to_pb).collect()
}

fn diagnostic_to_pb(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().filter(|p| !p.is_empty()).map(path_to_pb),
    }
}

pub fn deferred_to_pb(deferral: Deferral) -> pb::Deferred {
    use pb::deferred::Reason;
    pb::Deferred {
        reason: match deferral {
            Deferral::ProviderConfigUnknown => Reason::ProviderConfigUnknown,
            Deferral::ResourceConfigUnknown => Reason::ResourceConfigUnknown,
            Deferral::AbsentPrerequisite => Reason::AbsentPrereq,
        } as i32,
    }
}

pub fn schema_to_pb(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_pb(&schema.block)),
    }
}

fn block_to_pb(block: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute_to_pb).collect(),
        block_types: block
            .blocks
            .iter()
            .map(|nested| {
                use pb::schema::nested_block::NestingMode;
                pb::schema::NestedBlock {
                    type_name: nested.name.clone(),
                    block: Some(block_to_pb(&nested.block)),
                    nesting: match nested.nesting {
                        BlockNesting::Single => NestingMode::Single,
                        BlockNesting::List => NestingMode::List,
                        BlockNesting::Set => NestingMode::Set,
                        BlockNesting::Map => NestingMode::Map,
                        BlockNesting::Group => NestingMode::Group,
                    } as i32,
                    min_items: nested.min_items,
                    max_items: nested.max_items,
                }
            })
            .collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: block.deprecation.is_some(),
        deprecation_message: block.deprecation.clone().unwrap_or_default(),
    }
}

fn attribute_to_pb(attribute: &Attribute) -> pb::schema::Attribute {
    use super::schema::Presence;
    let (ty, nested_type) = match &attribute.kind {
        AttributeKind::Type(t) => (t.to_json_bytes(), None),
        AttributeKind::Nested {
            nesting,
            attributes,
        } => {
            use pb::schema::object::NestingMode;
            (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attributes.iter().map(attribute_to_pb).collect(),
                    nesting: match nesting {
                        ObjectNesting::Single => NestingMode::Single,
                        ObjectNesting::List => NestingMode::List,
                        ObjectNesting::Set => NestingMode::Set,
                        ObjectNesting::Map => NestingMode::Map,
                    } as i32,
                    ..Default::default()
                }),
            )
        }
    };
    pb::schema::Attribute {
        name: attribute.name.clone(),
        r#type: ty,
        nested_type,
        description: attribute.description.clone(),
        required: attribute.presence == Presence::Required,
        optional: matches!(
            attribute.presence,
            Presence::Optional | Presence::OptionalComputed
        ),
        computed: attribute.is_computed(),
        sensitive: attribute.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: attribute.deprecation.is_some(),
        write_only: attribute.write_only,
        deprecation_message: attribute.deprecation.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_protocol_steps() {
        let path = AttributePath::root()
            .attr("router")
            .attr("rings")
            .index(2)
            .key("a");
        let pb = path_to_pb(&path);
        assert_eq!(pb.steps.len(), 4);
        use pb::attribute_path::step::Selector;
        assert_eq!(pb.steps[2].selector, Some(Selector::ElementKeyInt(2)));
        assert_eq!(
            pb.steps[3].selector,
            Some(Selector::ElementKeyString("a".into()))
        );
    }

    #[test]
    fn severities_are_never_invalid() {
        let mut d = Diagnostics::new();
        d.error("e", "");
        d.warning("w", "");
        let pb = diagnostics_to_pb(&d);
        assert_eq!(pb[0].severity, 1);
        assert_eq!(pb[1].severity, 2);
    }

    #[test]
    fn empty_dynamic_value_is_null() {
        assert_eq!(decode_value(None, &Type::String).unwrap(), Value::Null);
        let empty = pb::DynamicValue::default();
        assert_eq!(
            decode_value(Some(&empty), &Type::String).unwrap(),
            Value::Null
        );
    }
}
