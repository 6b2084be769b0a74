//! What a change to a receive does to the samples its ingestors hold: said before the change
//! (in the plan, and by a delete nobody planned), never discovered afterwards.
//!
//! An ingestor keeps its samples in its local TSDB and, with object storage, uploads each
//! completed block (and, on a graceful shutdown, its head). Without object storage the local
//! TSDB is the only copy: what happens to it is what happens to the volume claims.

use tfplugin::framework::{Diagnostic, Input};
use thanos_render::receive::{self as render, DEFAULT_PVC_RETENTION};
use thanos_render::validate::{Invalid, Path};

use super::{ReceiveModel, mode};

/// Warnings for destroying the receive of `m`.
pub fn destroy_warnings(m: &ReceiveModel) -> Vec<Diagnostic> {
    let Some(mode) = mode(m) else {
        return Vec::new();
    };
    if !mode.is_ingestor() || ships_blocks(m) {
        return Vec::new();
    }
    let name = m.common.name.known().cloned().unwrap_or_default();
    let replicas = m.replicas.known().copied().unwrap_or(1);
    let retention = m
        .ingestor
        .known()
        .and_then(|i| i.pvc_retention_on_delete.known())
        .map_or(DEFAULT_PVC_RETENTION, String::as_str);
    let claims = persistent(m);
    let detail = match (claims, retention) {
        (false, _) => format!(
            "The {replicas} ingestor pod(s) of thanos_receive {name:?} keep their samples in an \
             emptyDir and ship nothing to object storage: every sample they hold is lost when they \
             are deleted. Set ingestor.object_storage_config and let a block upload first to keep \
             the data."
        ),
        (true, "Delete") => format!(
            "The {replicas} ingestor pod(s) of thanos_receive {name:?} ship nothing to object \
             storage, and pvc_retention_on_delete = \"Delete\" deletes their volume claims: every \
             sample they hold is lost. Set pvc_retention_on_delete = \"Retain\" (or configure \
             object storage and let a block upload first) to keep the data."
        ),
        (true, _) => format!(
            "The {replicas} ingestor pod(s) of thanos_receive {name:?} ship nothing to object \
             storage. Their volume claims are kept (pvc_retention_on_delete = \"Retain\"): the data \
             stays on the volumes, but nothing serves it until a thanos_receive of the same name \
             binds them again. Delete the claims yourself once the data is no longer needed."
        ),
    };
    vec![Diagnostic::warning(
        format!("Destroying thanos_receive {name:?} affects the data of its ingestors"),
        detail,
    )]
}

/// Plan warnings for a scale-down of ingestors that ship nothing to object storage: the pods
/// that leave take the samples only they hold, or leave them on claims nothing serves. At
/// `replicas`; `prior`: the state.
pub fn scale_down_warnings(m: &ReceiveModel, prior: Option<&ReceiveModel>) -> Vec<Invalid> {
    let (Some(prior), Some(mode)) = (prior, mode(m)) else {
        return Vec::new();
    };
    let (Some(&before), Some(&after)) = (prior.replicas.known(), m.replicas.known()) else {
        return Vec::new();
    };
    if after >= before || !mode.is_ingestor() || ships_blocks(m) {
        return Vec::new();
    }
    let name = m.common.name.known().cloned().unwrap_or_default();
    let pods: Vec<String> = (after.max(0)..before)
        .map(|i| format!("{}-{i}", render::workload_name(&name)))
        .collect();
    let pods = pods.join(", ");
    let retention = m
        .ingestor
        .known()
        .and_then(|i| i.pvc_retention_on_scale_down.known())
        .map_or(DEFAULT_PVC_RETENTION, String::as_str);
    let detail = match (persistent(m), retention) {
        (false, _) => format!(
            "Scaling thanos_receive {name:?} from {before} to {after} ingestors deletes {pods}, \
             which keep their samples in an emptyDir and ship nothing to object storage: the \
             samples only they hold are lost (with a replication factor of 3 or more, other \
             ingestors hold a copy of every sample; with 2, Thanos confirms a write once one \
             copy is written, so some samples have no other copy). Set ingestor.object_storage (or \
             object_storage_config) and let a block upload first to keep them."
        ),
        (true, "Delete") => format!(
            "Scaling thanos_receive {name:?} from {before} to {after} ingestors deletes {pods}, \
             and pvc_retention_on_scale_down = \"Delete\" deletes their volume claims while \
             nothing ships them to object storage: the samples only they hold are lost. Set \
             pvc_retention_on_scale_down = \"Retain\", or configure object storage and let a \
             block upload first."
        ),
        (true, _) => format!(
            "Scaling thanos_receive {name:?} from {before} to {after} ingestors deletes {pods}, \
             which ship nothing to object storage. Their volume claims are kept \
             (pvc_retention_on_scale_down = \"Retain\"): the data stays on the volumes, but \
             nothing serves it until the receive grows again and the same pods bind them."
        ),
    };
    vec![Invalid {
        path: Path::root().attr("replicas").0,
        summary: format!("Scaling down thanos_receive {name:?} affects the data of its ingestors"),
        detail,
    }]
}

/// Whether the ingestors upload their blocks (`ingestor.object_storage` or
/// `ingestor.object_storage_config` set).
fn ships_blocks(m: &ReceiveModel) -> bool {
    m.ingestor
        .known()
        .is_some_and(|i| !i.object_storage_config.is_null() || !i.object_storage.is_null())
}

/// Whether the TSDB lives on volume claims (`data_volume.pvc`) rather than an emptyDir.
fn persistent(m: &ReceiveModel) -> bool {
    m.ingestor
        .known()
        .and_then(|i| i.data_volume.known())
        .is_some_and(|dv| matches!(dv.pvc, Input::Known(_)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::receive::Receive;
    use crate::testing::{Absent, model};

    fn warnings(config: serde_json::Value) -> Vec<String> {
        destroy_warnings(&model::<Receive>(&config, Absent::Null))
            .into_iter()
            .map(|d| d.detail)
            .collect()
    }

    #[test]
    fn ingestors_without_object_storage_say_what_happens_to_their_data() {
        let pvc = json!({"name": "i", "replicas": 2, "ingestor": {"data_volume": {"pvc": {"size": "5Gi"}}}});
        assert!(warnings(pvc.clone())[0].contains("claims are kept"));
        let mut delete = pvc.clone();
        delete["ingestor"]["pvc_retention_on_delete"] = "Delete".into();
        assert!(warnings(delete)[0].contains("every sample they hold is lost"));
        let empty_dir = json!({"name": "i", "ingestor": {}});
        assert!(warnings(empty_dir)[0].contains("emptyDir"));
        // Neither block is an ingestor too.
        assert_eq!(warnings(json!({"name": "i"})).len(), 1);
    }

    fn scale_down(config: serde_json::Value, from: i64, to: i64) -> Vec<String> {
        let mut before = config.clone();
        before["replicas"] = from.into();
        let mut after = config;
        after["replicas"] = to.into();
        let prior = model::<Receive>(&before, Absent::Null);
        scale_down_warnings(&model::<Receive>(&after, Absent::Null), Some(&prior))
            .into_iter()
            .map(|w| {
                assert_eq!(thanos_render::validate::display_path(&w.path), "replicas");
                w.detail
            })
            .collect()
    }

    #[test]
    fn scaling_down_ingestors_without_object_storage_says_what_is_lost() {
        let pvc = json!({"name": "i", "ingestor": {"data_volume": {"pvc": {"size": "5Gi"}}}});
        let w = scale_down(pvc.clone(), 3, 1);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("thanosreceive-i-1, thanosreceive-i-2"),
            "{}",
            w[0]
        );
        assert!(w[0].contains("claims are kept"), "{}", w[0]);
        let mut delete = pvc.clone();
        delete["ingestor"]["pvc_retention_on_scale_down"] = "Delete".into();
        let w = scale_down(delete, 2, 1);
        assert!(
            w[0].contains("pvc_retention_on_scale_down = \"Delete\""),
            "{}",
            w[0]
        );
        assert!(w[0].contains("are lost"), "{}", w[0]);
        assert!(scale_down(json!({"name": "i", "ingestor": {}}), 2, 1)[0].contains("emptyDir"));
        // Growing, or shipping blocks, loses nothing.
        assert!(scale_down(pvc, 1, 2).is_empty());
        let shipping =
            json!({"name": "i", "ingestor": {"object_storage_config": {"name": "os", "key": "k"}}});
        assert!(scale_down(shipping, 2, 1).is_empty());
        let routing = json!({"name": "r", "router": {"soft_tenant_hashring": {"name": "s", "endpoints": ["a:1"]}}});
        assert!(scale_down(routing, 2, 1).is_empty());
    }

    #[test]
    fn routers_and_shipping_ingestors_lose_nothing() {
        let shipping =
            json!({"name": "i", "ingestor": {"object_storage_config": {"name": "os", "key": "k"}}});
        assert!(warnings(shipping).is_empty());
        let router = json!({"name": "r", "router": {"soft_tenant_hashring": {"name": "s", "endpoints": ["a:1"]}}});
        assert!(warnings(router).is_empty());
    }
}
