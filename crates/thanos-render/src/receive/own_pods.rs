//! A receive whose rings list its own ingestor pods: recognising them in a ring, completing
//! a ring that selects them by label before they exist, and the ordered step an apply takes
//! first when such a receive changes its `replicas`.

use super::*;

/// The labels of this receive's EndpointSlices (what a ring's `endpoints_selector` is matched
/// against): its Service's labels, which the EndpointSlice controller copies, and the ones
/// it adds.
pub fn endpoint_slice_labels(
    name: &str,
    mode: Mode,
    user_labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = meta::object_labels(Kind::Receive, name, None, &mode.labels(), user_labels);
    labels.insert(
        crate::discovery::SERVICE_NAME_LABEL.to_owned(),
        service_name(name),
    );
    labels.insert(
        "endpointslice.kubernetes.io/managed-by".to_owned(),
        "endpointslice-controller.k8s.io".to_owned(),
    );
    labels.insert("service.kubernetes.io/headless".to_owned(), String::new());
    labels
}

/// Whether a ring's selector finds this receive's own ingestors: it searches this namespace
/// (no namespace selector, or one that selects every namespace) and matches the labels of
/// its EndpointSlices. Such a ring's own members follow `replicas`, not readiness.
pub fn selects_own(selector: &RingSelector, own_slice_labels: &BTreeMap<String, String>) -> bool {
    let own_namespace = selector
        .namespace_selector
        .as_ref()
        .is_none_or(|n| n.match_labels.is_empty() && n.match_expressions.is_empty());
    own_namespace
        && crate::discovery::selector_matches(&selector.endpoints_selector, own_slice_labels)
}

/// `discovered` with the rings that select this receive's own ingestors completed: their own
/// members are this receive's [`ingestor_endpoints`] for its `replicas` (known at plan time,
/// before any pod exists), whatever is Ready right now; members of other resources that the
/// selector finds are kept as discovered. So a router + ingestor whose ring selects its own
/// pods plans its ring offline, its first apply writes the ring of the pods it creates, and
/// the next plan (which discovers them Ready) is empty. Other rings are left as they are.
pub fn with_own_members(spec: &ReceiveSpec, discovered: &Discovered) -> Discovered {
    let mut out = discovered.clone();
    let mode = spec.mode();
    let (Some(router), true) = (spec.router.as_ref(), mode.is_ingestor() && mode.is_router())
    else {
        return out;
    };
    let c = &spec.common;
    let own_labels = endpoint_slice_labels(&c.name, mode, &c.labels);
    let own = ingestor_endpoints(&c.name, &c.namespace, spec.replicas.into(), mode);
    for (_, ring) in router.rings() {
        let Members::Selected(selector) = &ring.members else {
            continue;
        };
        if !selects_own(selector, &own_labels) {
            continue;
        }
        let mut members: Vec<String> = discovered
            .get(&ring.name)
            .into_iter()
            .flatten()
            .filter(|e| !is_own_endpoint(&c.name, &c.namespace, e))
            .cloned()
            .collect();
        members.extend(own.iter().cloned());
        out.insert(ring.name.clone(), members);
    }
    out
}

/// Whether `endpoint` names one of this receive's own ingestor pods (any ordinal): the form
/// of [`ingestor_endpoints`].
pub fn is_own_endpoint(name: &str, namespace: &str, endpoint: &str) -> bool {
    own_ordinal(name, namespace, endpoint).is_some()
}

/// The pod ordinal of `endpoint` when it names one of this receive's own ingestor pods.
pub fn own_ordinal(name: &str, namespace: &str, endpoint: &str) -> Option<i64> {
    let prefix = format!("{}-", workload_name(name));
    let suffix = format!(".{}.{namespace}.svc:{GRPC_PORT}", service_name(name));
    endpoint
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(&suffix))
        .filter(|ordinal| !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|ordinal| ordinal.parse().ok())
}

/// Which way an ordered change of a receive's own ring goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    /// Pods join: the StatefulSet grows first, and its rings list the new pods once they are
    /// Ready.
    Up,
    /// Pods leave: the rings stop listing them first, and the StatefulSet shrinks once every
    /// pod runs the smaller rings.
    Down,
}

/// The step an apply takes first when a router + ingestor changes its `replicas` while its
/// own rings (static endpoints or a selector completed by [`with_own_members`]) list its
/// pods: the StatefulSet at the larger of both sizes, with rings that list only the pods that
/// exist before and after. Growing, that is the new pods Ready under the old rings; shrinking,
/// the smaller rings on every pod while the leaving ones still run. The apply waits for it,
/// then applies `spec`. Rings become static lists (what they are at this step). `None` when
/// nothing needs ordering.
pub fn interim(
    spec: &ReceiveSpec,
    prior_replicas: i32,
    discovered: &Discovered,
) -> Option<(ReceiveSpec, Resize)> {
    let mode = spec.mode();
    if !(mode.is_router() && mode.is_ingestor()) || prior_replicas == spec.replicas {
        return None;
    }
    let keep = i64::from(prior_replicas.min(spec.replicas));
    if keep == 0 {
        return None;
    }
    let (name, namespace) = (spec.common.name.as_str(), spec.common.namespace.as_str());
    let completed = with_own_members(spec, discovered);
    let mut out = spec.clone();
    out.replicas = prior_replicas.max(spec.replicas);
    let mut lists_own = false;
    let router = out.router.as_mut()?;
    let rings = router
        .hard_tenant_hashrings
        .iter_mut()
        .chain(router.soft_tenant_hashring.as_mut());
    for ring in rings {
        let members = match &ring.members {
            Members::Static(eps) => eps.clone(),
            Members::Selected(_) => completed.get(&ring.name)?.clone(),
        };
        let before = members.len();
        let members: Vec<String> = members
            .into_iter()
            .filter(|e| own_ordinal(name, namespace, e).is_none_or(|o| o < keep))
            .collect();
        lists_own |=
            members.len() != before || members.iter().any(|e| is_own_endpoint(name, namespace, e));
        ring.members = Members::Static(members);
    }
    let resize = if spec.replicas > prior_replicas {
        Resize::Up
    } else {
        Resize::Down
    };
    lists_own.then_some((out, resize))
}
