//! The `objects` attribute: one entry per owned Kubernetes object with a hash of its rendered
//! content, so a plan shows which objects change. A refresh that finds an object changed out of
//! band writes a drift mark in place of its hash, so the next plan shows the repair; the apply
//! then takes exactly those objects back with force.

use tfplugin::framework::{Context, Diagnostic, Input};
use thanos_cluster::{Drift, ObjectKey};
use thanos_render::Object;

use super::settings::ObjectEntry;
use crate::cluster::ClusterApi;

/// Marks the `objects` entries of a state that a refresh found changed out of band. Worded
/// for every client (Terraform, OpenTofu, Pulumi).
pub const DRIFT_MARK: &str = "changed in the cluster: ";
/// The mark states refreshed by earlier versions carry; still read as drift.
const OLD_DRIFT_MARK: &str = "changed outside Terraform: ";

/// One entry per rendered object, in apply order.
pub fn entries(objects: &[Object]) -> Vec<ObjectEntry> {
    objects.iter().map(|o| entry(o, o.content_hash())).collect()
}

fn entry(o: &Object, hash: String) -> ObjectEntry {
    ObjectEntry {
        api_version: o.api_version().to_owned(),
        kind: o.kind().to_owned(),
        namespace: o.namespace().to_owned(),
        name: o.name().to_owned(),
        hash,
    }
}

/// The entries a refresh records: in-sync objects with their hash, drifted ones with the drift
/// mark and the changed paths; missing ones are left out.
pub fn refreshed(desired: &[Object], drift: &[Drift]) -> Vec<ObjectEntry> {
    desired
        .iter()
        .zip(drift)
        .filter_map(|(object, drift)| match drift {
            Drift::Missing => None,
            Drift::InSync => Some(entry(object, object.content_hash())),
            Drift::Drifted { paths } => {
                Some(entry(object, format!("{DRIFT_MARK}{}", paths.join(", "))))
            }
        })
        .collect()
}

/// `(kind, name)` of every object a state records as changed out of band.
pub fn drifted(objects: &Input<Vec<ObjectEntry>>) -> Vec<(String, String)> {
    objects
        .known()
        .into_iter()
        .flatten()
        .filter(|o| o.hash.starts_with(DRIFT_MARK) || o.hash.starts_with(OLD_DRIFT_MARK))
        .map(|o| (o.kind.clone(), o.name.clone()))
        .collect()
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
    prior: &[ObjectEntry],
    context: &Context,
) -> Result<bool, thanos_cluster::Error> {
    if !matches!(object, Object::Secret(_)) {
        return Ok(false);
    }
    let recorded = prior.iter().any(|e| {
        e.kind == object.kind() && e.name == object.name() && e.hash == object.content_hash()
    });
    if !recorded {
        return Ok(false);
    }
    let exists = cluster
        .get(&ObjectKey::of(object), &context.cancel)
        .await?
        .is_some();
    Ok(exists)
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
