//! What an update changes, object by object and field by field: the objects a prior
//! configuration renders to against the ones the new configuration renders to, both offline.
//! A plan shows this so a reviewer reads `StatefulSet thanosreceive-x: spec.replicas: 2 → 3`
//! instead of comparing content hashes.
//!
//! Rules, so the text stays short and safe:
//! - objects are matched by kind and name; one that only one side has is `added` or `removed`;
//! - a Secret never shows a field, not even of its public form: only that it changed;
//! - lists of named items (containers, ports, volumes, env) are matched by `name`, so inserting
//!   one item does not show every later one as changed; other lists of objects by position;
//!   lists of scalars (arguments, ring members) as the values added and removed;
//! - a string holding a JSON document (`hashrings.json`) is compared as the document; a string
//!   of several lines (YAML files) as the lines added and removed;
//! - [`describe`] caps the text: a few fields per object, then `... and N more fields`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::object::Object;

/// One object that an update adds, removes or changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    pub kind: &'static str,
    pub name: String,
    pub change: Change,
}

/// What happens to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    /// The fields that differ, in document order.
    Fields(Vec<FieldChange>),
    /// A Secret changed: its fields are never shown.
    Secret,
}

/// One field that differs: where, and how (`2 → 3`, `+ "a", - "b"`, `added`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    pub how: String,
}

/// Scalar values longer than this are cut in the text (`"abc…"`).
const MAX_VALUE_CHARS: usize = 120;
/// Values listed per side of a list or line change before `and N more`.
const MAX_LISTED: usize = 3;

/// The objects that differ between `before` and `after`, in `after`'s order, removed ones
/// last. `skip`: objects to leave out by `(kind, name)` (e.g. one the plan shows otherwise).
pub fn objects(before: &[Object], after: &[Object], skip: &[(&str, &str)]) -> Vec<ObjectChange> {
    let skipped = |o: &Object| skip.iter().any(|(k, n)| *k == o.kind() && *n == o.name());
    let same = |a: &Object, b: &Object| a.kind() == b.kind() && a.name() == b.name();
    let mut out = Vec::new();
    for new in after.iter().filter(|o| !skipped(o)) {
        let change = match before.iter().find(|old| same(old, new)) {
            None => Change::Added,
            Some(old) => {
                let (old_json, new_json) = (old.to_json(), new.to_json());
                if old_json == new_json {
                    continue;
                }
                if matches!(new, Object::Secret(_)) {
                    Change::Secret
                } else {
                    let mut fields = Vec::new();
                    fields_of(&mut String::new(), &old_json, &new_json, &mut fields);
                    Change::Fields(fields)
                }
            }
        };
        out.push(ObjectChange {
            kind: new.kind(),
            name: new.name().to_owned(),
            change,
        });
    }
    for old in before.iter().filter(|o| !skipped(o)) {
        if !after.iter().any(|new| same(old, new)) {
            out.push(ObjectChange {
                kind: old.kind(),
                name: old.name().to_owned(),
                change: Change::Removed,
            });
        }
    }
    out
}

/// The changes as text, one line per object and an indented line per field (indented lines
/// are shown as they are, never re-wrapped, by Terraform and OpenTofu): at most `max_fields`
/// fields per object and `max_objects` objects, each cap followed by `... and N more`.
pub fn describe(changes: &[ObjectChange], max_fields: usize, max_objects: usize) -> String {
    let mut out = String::new();
    for change in changes.iter().take(max_objects) {
        let _ = write!(out, "{} {}:", change.kind, change.name);
        match &change.change {
            Change::Added => out.push_str(" added\n"),
            Change::Removed => out.push_str(" removed\n"),
            Change::Secret => out.push_str(" changed (contents not shown)\n"),
            Change::Fields(fields) => {
                out.push('\n');
                for f in fields.iter().take(max_fields) {
                    let _ = writeln!(out, "  {}: {}", f.path, f.how);
                }
                if fields.len() > max_fields {
                    let _ = writeln!(out, "  ... and {} more fields", fields.len() - max_fields);
                }
            }
        }
    }
    if changes.len() > max_objects {
        let _ = writeln!(out, "... and {} more objects", changes.len() - max_objects);
    }
    out.truncate(out.trim_end().len());
    out
}

/// Appends the differences between `old` and `new` at `path`.
fn fields_of(path: &mut String, old: &Json, new: &Json, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let at = path.len();
                push_key(path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => fields_of(path, x, y, out),
                    (None, Some(y)) => field(out, path, format!("added {}", show(y))),
                    (Some(_), None) => field(out, path, "removed".into()),
                    (None, None) => {}
                }
                path.truncate(at);
            }
        }
        (Json::Array(a), Json::Array(b)) => arrays(path, a, b, out),
        (Json::String(a), Json::String(b)) => strings(path, a, b, out),
        _ => field(out, path, format!("{} → {}", show(old), show(new))),
    }
}

fn arrays(path: &mut String, a: &[Json], b: &[Json], out: &mut Vec<FieldChange>) {
    // (Both empty would be equal: never here.)
    let named = |v: &[Json]| {
        v.iter()
            .all(|x| x.get("name").and_then(Json::as_str).is_some())
    };
    if named(a) && named(b) {
        let name = |x: &Json| x["name"].as_str().unwrap_or_default().to_owned();
        let names: Vec<String> = {
            let mut seen = BTreeSet::new();
            b.iter()
                .chain(a)
                .map(name)
                .filter(|n| seen.insert(n.clone()))
                .collect()
        };
        for n in names {
            let at = path.len();
            let _ = write!(path, "[{n}]");
            let find = |v: &[Json]| v.iter().find(|x| name(x) == n).cloned();
            match (find(a), find(b)) {
                (Some(x), Some(y)) => fields_of(path, &x, &y, out),
                (None, Some(_)) => field(out, path, "added".into()),
                (Some(_), None) => field(out, path, "removed".into()),
                (None, None) => {}
            }
            path.truncate(at);
        }
    } else if a.iter().chain(b).all(is_scalar) {
        let how = added_removed(
            b.iter().filter(|x| !a.contains(x)).map(show),
            a.iter().filter(|x| !b.contains(x)).map(show),
        );
        // Same values, another order.
        let how = if how.is_empty() {
            "reordered".to_owned()
        } else {
            how
        };
        field(out, path, how);
    } else {
        for i in 0..a.len().max(b.len()) {
            let at = path.len();
            let _ = write!(path, "[{i}]");
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => fields_of(path, x, y, out),
                (None, Some(y)) => field(out, path, format!("added {}", show(y))),
                (Some(_), None) => field(out, path, "removed".into()),
                (None, None) => {}
            }
            path.truncate(at);
        }
    }
}

fn strings(path: &mut String, a: &str, b: &str, out: &mut Vec<FieldChange>) {
    let document = |s: &str| {
        let t = s.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            serde_json::from_str::<Json>(s).ok()
        } else {
            None
        }
    };
    if let (Some(x), Some(y)) = (document(a), document(b)) {
        let at = path.len();
        fields_of(path, &x, &y, out);
        path.truncate(at);
    } else if a.contains('\n') || b.contains('\n') {
        let (old, new): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let how = added_removed(
            new.iter()
                .filter(|l| !old.contains(l))
                .map(|l| show(&Json::from(l.trim()))),
            old.iter()
                .filter(|l| !new.contains(l))
                .map(|l| show(&Json::from(l.trim()))),
        );
        let how = if how.is_empty() {
            "lines reordered".to_owned()
        } else {
            format!("lines {how}")
        };
        field(out, path, how);
    } else {
        field(
            out,
            path,
            format!("{} → {}", show(&a.into()), show(&b.into())),
        );
    }
}

/// `+ "a", + "b", - "c"`, listing at most [`MAX_LISTED`] of each side.
fn added_removed(
    added: impl Iterator<Item = String>,
    removed: impl Iterator<Item = String>,
) -> String {
    let mut parts = Vec::new();
    for (sign, values) in [("+", added.collect::<Vec<_>>()), ("-", removed.collect())] {
        parts.extend(
            values
                .iter()
                .take(MAX_LISTED)
                .map(|v| format!("{sign} {v}")),
        );
        if values.len() > MAX_LISTED {
            parts.push(format!("{sign} {} more", values.len() - MAX_LISTED));
        }
    }
    parts.join(", ")
}

fn field(out: &mut Vec<FieldChange>, path: &str, how: String) {
    let path = path.strip_prefix('.').unwrap_or(path);
    out.push(FieldChange {
        path: if path.is_empty() {
            "(value)".into()
        } else {
            path.into()
        },
        how,
    });
}

/// `.key`, or `["key"]` when the key is not a plain identifier (`hashrings.json`, labels).
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        let _ = write!(path, "[{}]", Json::from(key));
    }
}

fn is_scalar(v: &Json) -> bool {
    !matches!(v, Json::Array(_) | Json::Object(_))
}

/// A value in one short piece: as JSON when short, long strings cut, digests to their first
/// 12 digits, long lists and objects by their size.
fn show(v: &Json) -> String {
    match v {
        Json::Array(_) | Json::Object(_) if v.to_string().chars().count() <= MAX_VALUE_CHARS => {
            v.to_string()
        }
        Json::Array(items) => match items.len() {
            1 => "a list of 1 item".to_owned(),
            n => format!("a list of {n} items"),
        },
        Json::Object(fields) => match fields.len() {
            1 => "an object of 1 field".to_owned(),
            n => format!("an object of {n} fields"),
        },
        // A digest (a pod template's config hash): its start tells one from another.
        Json::String(s) if s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("\"{}…\"", &s[..12])
        }
        // A file (YAML, JSON): how long, not its text.
        Json::String(s) if s.trim_end().contains('\n') => {
            format!("{} lines", s.trim_end().lines().count())
        }
        Json::String(s) if s.chars().count() > MAX_VALUE_CHARS => {
            let cut: String = s.chars().take(MAX_VALUE_CHARS).chain(['…']).collect();
            Json::from(cut).to_string()
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(old: Json, new: Json) -> Vec<(String, String)> {
        let mut out = Vec::new();
        fields_of(&mut String::new(), &old, &new, &mut out);
        out.into_iter().map(|f| (f.path, f.how)).collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(p, h)| (p.to_string(), h.to_string()))
            .collect()
    }

    #[test]
    fn fields_say_where_and_how() {
        let cases = [
            (
                json!({"spec": {"replicas": 2}}),
                json!({"spec": {"replicas": 3}}),
                pairs(&[("spec.replicas", "2 → 3")]),
            ),
            // Named items are matched by name, also when one side has none.
            (
                json!({"volumes": []}),
                json!({"volumes": [{"name": "data", "emptyDir": {}}]}),
                pairs(&[("volumes[data]", "added")]),
            ),
            (
                json!({"c": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}]}),
                json!({"c": [{"name": "b", "image": "y"}, {"name": "a", "image": "x:2"}]}),
                pairs(&[("c[a].image", "\"x:1\" → \"x:2\"")]),
            ),
            // Scalars: what was added and removed, or only the order.
            (
                json!({"args": ["--a", "--b=1"]}),
                json!({"args": ["--a", "--b=2"]}),
                pairs(&[("args", "+ \"--b=2\", - \"--b=1\"")]),
            ),
            (
                json!(["x", "y"]),
                json!(["y", "x"]),
                pairs(&[("(value)", "reordered")]),
            ),
            // Keys that are not identifiers are quoted; a removed key says only that.
            (
                json!({"labels": {"app.kubernetes.io/name": "a", "gone": "x"}}),
                json!({"labels": {"app.kubernetes.io/name": "b"}}),
                pairs(&[
                    ("labels[\"app.kubernetes.io/name\"]", "\"a\" → \"b\""),
                    ("labels.gone", "removed"),
                ]),
            ),
            // Files: lines added and removed, never the whole text.
            (
                json!({"data": {"rules.yaml": "groups:\n- name: a\n  interval: 1m\n"}}),
                json!({"data": {"rules.yaml": "groups:\n- name: a\n  interval: 2m\n"}}),
                pairs(&[(
                    "data[\"rules.yaml\"]",
                    "lines + \"interval: 2m\", - \"interval: 1m\"",
                )]),
            ),
            (
                json!({"data": {}}),
                json!({"data": {"a.yaml": "a: 1\nb: 2\n"}}),
                pairs(&[("data[\"a.yaml\"]", "added 2 lines")]),
            ),
        ];
        for (old, new, expected) in cases {
            assert_eq!(diff(old.clone(), new.clone()), expected, "{old} → {new}");
        }
    }

    #[test]
    fn long_values_and_digests_are_shortened() {
        let long = "x".repeat(200);
        assert_eq!(show(&json!(long)).chars().count(), MAX_VALUE_CHARS + 3);
        assert_eq!(show(&json!("ab".repeat(32))), "\"abababababab…\"");
        assert_eq!(show(&json!([1, 2])), "[1,2]");
        assert_eq!(
            show(&json!((0..100).collect::<Vec<_>>())),
            "a list of 100 items"
        );
    }
}
