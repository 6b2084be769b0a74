//! The `objects` attribute: one entry per owned Kubernetes object, `<kind>/<name>` to a short
//! hash of its rendered content, so a create prints one line per object and an update the
//! objects that change (the plan's warning from [`thanos_render::diff`] names their fields). A
//! refresh that finds an object changed out of band writes a drift mark in place of its hash,
//! so the next plan shows the repair; the apply then takes exactly those objects back with
//! force. Schema version 0 kept a list of `{api_version, kind, namespace, name, hash}`
//! objects; [`upgrade_v0`] turns it into the map.

use serde_json::Value as Json;
use tfplugin::framework::{Context, Diagnostic, Input};
use thanos_cluster::{Drift, ObjectKey};
use thanos_render::Object;

use super::settings::Objects;
use crate::cluster::ClusterApi;

/// Marks the `objects` entries of a state that a refresh found changed out of band. Worded
/// for every client (Terraform, OpenTofu, Pulumi).
pub const DRIFT_MARK: &str = "changed in the cluster: ";
/// The mark states refreshed by earlier versions carry; still read as drift.
const OLD_DRIFT_MARK: &str = "changed outside Terraform: ";
/// Hex digits of the content hash kept in `objects`: 48 bits tell a changed object from an
/// unchanged one (the hash only detects change; nothing trusts it for integrity), and a
/// 12-digit value keeps a create's plan at one short line per object.
pub const HASH_DIGITS: usize = 12;

/// The key of `object` in `objects`: `<kind>/<name>` (every object of a resource lives in
/// its namespace, and no two of our kinds share a name).
pub fn key(object: &Object) -> String {
    format!("{}/{}", object.kind(), object.name())
}

/// The short content hash `objects` records for `object`.
pub fn hash(object: &Object) -> String {
    short(&object.content_hash()).to_owned()
}

fn short(full: &str) -> &str {
    full.get(..HASH_DIGITS).unwrap_or(full)
}

/// One entry per rendered object.
pub fn entries(objects: &[Object]) -> Objects {
    objects.iter().map(|o| (key(o), hash(o))).collect()
}

/// The entries a refresh records: in-sync objects with their hash, drifted ones with the drift
/// mark and the changed paths; missing ones are left out.
pub fn refreshed(desired: &[Object], drift: &[Drift]) -> Objects {
    desired
        .iter()
        .zip(drift)
        .filter_map(|(object, drift)| match drift {
            Drift::Missing => None,
            Drift::InSync => Some((key(object), hash(object))),
            Drift::Drifted { paths } => {
                Some((key(object), format!("{DRIFT_MARK}{}", paths.join(", "))))
            }
        })
        .collect()
}

/// `(kind, name)` of every object a state records as changed out of band.
pub fn drifted(objects: &Input<Objects>) -> Vec<(String, String)> {
    objects
        .known()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.starts_with(DRIFT_MARK) || v.starts_with(OLD_DRIFT_MARK))
        .filter_map(|(k, _)| k.split_once('/'))
        .map(|(kind, name)| (kind.to_owned(), name.to_owned()))
        .collect()
}

/// A version 0 state's `objects` (a list of `{api_version, kind, namespace, name, hash}`) as
/// the map: the key from kind and name, a hash shortened to [`HASH_DIGITS`] (so the next plan
/// of an unchanged configuration is empty), a drift mark kept as it is (so the repair still
/// shows). Null stays null; an entry without kind or name is dropped (the next plan or
/// refresh writes every entry again from what is rendered).
pub fn upgrade_v0(objects: &Json) -> Json {
    let Some(list) = objects.as_array() else {
        return Json::Null;
    };
    let map = list
        .iter()
        .filter_map(|entry| {
            let kind = entry.get("kind")?.as_str()?;
            let name = entry.get("name")?.as_str()?;
            let value = entry.get("hash").and_then(Json::as_str).unwrap_or_default();
            let value = if value.starts_with(DRIFT_MARK) || value.starts_with(OLD_DRIFT_MARK) {
                value
            } else {
                short(value)
            };
            Some((format!("{kind}/{name}"), Json::String(value.to_owned())))
        })
        .collect();
    Json::Object(map)
}

/// Whether an apply leaves `object` alone because it holds write-only values that did not
/// change: an owned Secret whose public form (the bucket and the credentials' versions) is the
/// one the state records, and which exists. Its data came from the credentials of the apply
/// that wrote it; writing the credentials the configuration holds now, without a new version,
/// would change them behind the pods' back (they read the file at start and would not roll),
/// and against the write-only contract: only a new version rewrites them. A Secret that is
/// missing or was found drifted is written.
pub async fn write_only_unchanged(
    cluster: &dyn ClusterApi,
    object: &Object,
    prior: &Objects,
    context: &Context,
) -> Result<bool, thanos_cluster::Error> {
    if !matches!(object, Object::Secret(_)) {
        return Ok(false);
    }
    let recorded = prior.get(&key(object)) == Some(&hash(object));
    if !recorded {
        return Ok(false);
    }
    let exists = cluster
        .get(&ObjectKey::of(object), &context.cancel)
        .await?
        .is_some();
    Ok(exists)
}

/// Fields listed per object, and objects listed, in the warning of [`changes`].
const MAX_FIELDS: usize = 6;
const MAX_OBJECTS: usize = 12;

/// The plan's warning that says what an update changes in the cluster, object by object and
/// field by field (`thanos_render::diff`; a Secret only as changed), at `objects`, whose
/// changed hashes it explains. Nothing when no object changes. The record is left out: it
/// holds the configuration, whose change the plan already shows attribute by attribute.
/// Pulumi's bridge drops warnings: there the `objects` hashes are what shows the change.
///
/// The summary names the resource by type, namespace and name: Terraform shows warnings with
/// the same summary once, with "and N more similar warnings", which would hide every other
/// resource's changes.
pub fn changes(
    (type_name, owner): (&str, thanos_render::meta::Kind),
    (name, namespace): (&str, &str),
    before: &[Object],
    after: &[Object],
) -> Option<Diagnostic> {
    let record = super::record::name(owner, name);
    let changes = thanos_render::diff::objects(before, after, &[("ConfigMap", &record)]);
    if changes.is_empty() {
        return None;
    }
    let summary = match changes.len() {
        1 => format!("{type_name} {namespace}/{name}: 1 Kubernetes object changes"),
        n => format!("{type_name} {namespace}/{name}: {n} Kubernetes objects change"),
    };
    let detail = thanos_render::diff::describe(&changes, MAX_FIELDS, MAX_OBJECTS);
    Some(
        Diagnostic::warning(summary, detail)
            .at(tfvalue::AttributePath::root().attr("objects".to_owned())),
    )
}

/// StatefulSet fields Kubernetes refuses to change in place.
const IMMUTABLE_STATEFULSET_FIELDS: &[(&str, &str)] = &[
    (
        "/spec/volumeClaimTemplates",
        "volume claim templates (data volume size, class or access modes)",
    ),
    ("/spec/selector", "selector"),
    ("/spec/serviceName", "service name"),
    ("/spec/podManagementPolicy", "pod management policy"),
];

/// A warning for each StatefulSet whose change Kubernetes cannot apply in place, so the plan
/// says what the apply will do (replace it, keeping pods' claims) instead of the apply failing.
pub fn statefulset_replacements(before: &[Object], after: &[Object]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for new in after.iter().filter(|o| o.kind() == "StatefulSet") {
        let Some(old) = before
            .iter()
            .find(|o| o.kind() == "StatefulSet" && o.name() == new.name())
        else {
            continue;
        };
        let (old_json, new_json) = (old.to_json(), new.to_json());
        let changed: Vec<&str> = IMMUTABLE_STATEFULSET_FIELDS
            .iter()
            .filter(|(pointer, _)| old_json.pointer(pointer) != new_json.pointer(pointer))
            .map(|(_, what)| *what)
            .collect();
        if !changed.is_empty() {
            out.push(Diagnostic::warning(
                format!("StatefulSet {} will be replaced", new.name()),
                format!(
                    "Kubernetes cannot change the {} of a StatefulSet in place, so the apply deletes \
                     StatefulSet {}/{} without deleting its pods or claims and creates it again; its \
                     pods then roll. Existing PersistentVolumeClaims are kept as they are (with their \
                     data and their current size); claims for new replicas use the new template.",
                    changed.join(" and "),
                    new.namespace(),
                    new.name()
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn version_0_objects_become_the_map() {
        let full = "ab".repeat(32);
        let cases = [
            (json!(null), json!(null)),
            (json!([]), json!({})),
            (
                json!([{"api_version": "apps/v1", "kind": "StatefulSet", "namespace": "mon",
                        "name": "thanosreceive-i", "hash": full}]),
                json!({"StatefulSet/thanosreceive-i": "abababababab"}),
            ),
            // Drift marks, old and new wording, stay whole: the repair still shows.
            (
                json!([
                    {"kind": "Service", "name": "s", "hash": "changed outside Terraform: /spec/ports"},
                    {"kind": "ConfigMap", "name": "c", "hash": "changed in the cluster: /data/x"},
                ]),
                json!({
                    "Service/s": "changed outside Terraform: /spec/ports",
                    "ConfigMap/c": "changed in the cluster: /data/x",
                }),
            ),
            // What cannot be keyed is dropped; the next plan writes every entry again.
            (
                json!([{"kind": "Service"}, {"name": "n"}, 7, {"kind": "Service", "name": "t"}]),
                json!({"Service/t": ""}),
            ),
            (json!("not a list"), json!(null)),
        ];
        for (old, new) in cases {
            assert_eq!(upgrade_v0(&old), new, "{old}");
        }
    }

    #[test]
    fn drift_marks_are_read_from_keys() {
        let objects = Input::Known(Objects::from([
            (
                "Deployment/d".to_owned(),
                format!("{DRIFT_MARK}/spec/replicas"),
            ),
            ("Service/s".to_owned(), "0123456789ab".to_owned()),
            ("ConfigMap/c".to_owned(), format!("{OLD_DRIFT_MARK}/data")),
        ]));
        assert_eq!(
            drifted(&objects),
            [
                ("ConfigMap".to_owned(), "c".to_owned()),
                ("Deployment".to_owned(), "d".to_owned()),
            ]
        );
    }
}
