//! Names, labels and annotations shared by every rendered object.
//!
//! Ownership: every owned object carries [`MANAGED_BY`] = [`MANAGER`] and [`PART_OF`] =
//! `thanos-<query|receive|storage|rule>-<name>`; read/prune find exactly one resource's objects by
//! these two labels in its namespace. Workload selectors use only the fixed selector labels
//! (component, instance and, for storage, subcomponent), never mode labels or user labels, so a
//! mode or label change never touches an immutable selector.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "terraform-provider-thanos";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const COMPONENT: &str = "app.kubernetes.io/component";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const SUBCOMPONENT: &str = "app.kubernetes.io/subcomponent";
pub const RECEIVE_ROUTER: &str = "thanos.receive/router";
pub const RECEIVE_INGESTOR: &str = "thanos.receive/ingestor";
/// Pod-template annotation: sha256 of every mounted ConfigMap's content and of the referenced
/// Secret names and keys, so a config change rolls the pods.
pub const CONFIG_HASH: &str = "thanos.paodin.io/config-hash";

/// Labels the user's `labels` may not set.
pub const RESERVED_LABELS: &[&str] = &[
    MANAGED_BY,
    PART_OF,
    COMPONENT,
    INSTANCE,
    SUBCOMPONENT,
    RECEIVE_ROUTER,
    RECEIVE_INGESTOR,
];

pub const GRPC_PORT: i32 = 10901;
pub const HTTP_PORT: i32 = 10902;
pub const REMOTE_WRITE_PORT: i32 = 19291;

/// Which resource type owns an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Receive,
    Storage,
    Rule,
}

impl Kind {
    /// `thanosquery`, `thanosreceive`, `thanosstorage` (and `thanosrule`): the seed's name stem
    /// and component label.
    pub fn component(self) -> &'static str {
        match self {
            Kind::Query => "thanosquery",
            Kind::Receive => "thanosreceive",
            Kind::Storage => "thanosstorage",
            Kind::Rule => "thanosrule",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Receive => "receive",
            Kind::Storage => "storage",
            Kind::Rule => "rule",
        }
    }
}

/// The value of [`PART_OF`] for a resource: `thanos-<query|receive|storage|rule>-<name>`.
pub fn part_of(kind: Kind, name: &str) -> String {
    format!("thanos-{}-{name}", kind.short())
}

/// The two labels that identify every object one resource owns (for read, drift and prune).
pub fn ownership_labels(kind: Kind, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (PART_OF.to_owned(), part_of(kind, name)),
    ])
}

/// The fixed selector labels of a component's pods.
pub fn selector_labels(
    kind: Kind,
    name: &str,
    subcomponent: Option<&str>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([
        (COMPONENT.to_owned(), kind.component().to_owned()),
        (INSTANCE.to_owned(), name.to_owned()),
    ]);
    if let Some(s) = subcomponent {
        m.insert(SUBCOMPONENT.to_owned(), s.to_owned());
    }
    m
}

/// Labels on an owned object: user labels, then selector labels, extra (mode) labels and
/// ownership labels (ours win; validation forbids users from setting them anyway).
pub fn object_labels(
    kind: Kind,
    name: &str,
    subcomponent: Option<&str>,
    extra: &BTreeMap<String, String>,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut m = user.clone();
    m.extend(selector_labels(kind, name, subcomponent));
    m.extend(extra.clone());
    m.extend(ownership_labels(kind, name));
    m
}

/// Object metadata with the resource-wide `annotations`.
pub fn object_meta(
    name: String,
    namespace: &str,
    labels: BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels),
        annotations: Some(annotations.clone()).filter(|a| !a.is_empty()),
        ..Default::default()
    }
}

/// A name Kubernetes derives from ours, and the limit it must respect.
pub struct DerivedName {
    pub name: String,
    pub limit: usize,
    pub what: &'static str,
}

/// Reports the derived names that are too long, as one error on the `name` attribute (one
/// problem, one fix: a shorter name), naming each and how much shorter the name must be.
pub fn check_derived_names(r: &mut crate::validate::Report, names: &[DerivedName]) {
    let long: Vec<&DerivedName> = names.iter().filter(|d| d.name.len() > d.limit).collect();
    let Some(over) = long.iter().map(|d| d.name.len() - d.limit).max() else {
        return;
    };
    let each: Vec<String> = long
        .iter()
        .map(|d| {
            format!(
                "the {} {:?} would be {} characters long (Kubernetes allows at most {})",
                d.what,
                d.name,
                d.name.len(),
                d.limit
            )
        })
        .collect();
    r.push(
        &crate::validate::Path::root().attr("name"),
        "Name too long",
        format!(
            "{}. Shorten the name by at least {over} character{}.",
            each.join("; "),
            if over == 1 { "" } else { "s" }
        ),
    );
}

/// Go `strconv.Quote`: what Thanos expects after `--selector-label=name=` and `--label=name=`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let v = c as u32;
                if v <= 0xffff {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_like_strconv() {
        assert_eq!(go_quote("eu-1"), r#""eu-1""#);
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote("a\nb\t\u{1}"), r#""a\nb\t\x01""#);
        assert_eq!(go_quote("é"), "\"é\"");
    }
}
