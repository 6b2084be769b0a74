//! A scale-down held back across resources.
//!
//! A router's hashring usually lists the ingestors of another `thanos_receive` (its
//! `ingestor_endpoints`, or a selector that discovers them). Terraform applies the ingestors
//! first, because the router depends on them, so shrinking them in the same run as the ring
//! would stop pods the routers still write to: their remote-write fails its quorum until the
//! ring follows. So when a resource's workload would lose pods that a hashring of another
//! resource (as this provider wrote it, in the cluster) still lists, the plan keeps those pods
//! running and says so: the workload keeps the smallest size that still holds every listed
//! pod, while the resource publishes only its configured pods (`ingestor_endpoints` shrinks
//! at once, and its Service stops discovery publishing the held ones). Rings that use either
//! drop the leaving pods in the same apply, after the ingestors; the next plan finds no ring
//! that lists them and shrinks the workload.
//!
//! The decision is taken at plan time when the cluster can be reached, carried to the apply
//! in the plan's private state, and taken again by the apply: a hold larger than the planned
//! one (a ring listed the pods after the plan, or the plan could not read the cluster) stops
//! the apply before anything is written.

use tfplugin::framework::{Context, Diagnostic, Diagnostics};
use thanos_cluster::{CancellationToken, HashringFile, ObjectKey};
use thanos_render::hashring::HashringEntry;
use thanos_render::validate::{Invalid, Path};

use super::Env;
use crate::cluster::ClusterApi;

/// The pod ordinal an endpoint names, when it names one of the workload's pods.
pub type OrdinalOf = Box<dyn Fn(&str) -> Option<i64> + Send + Sync>;

/// Pods a configuration removes that hashrings of other resources may list.
pub struct Leaving {
    /// The workload (a StatefulSet) whose pods leave.
    pub workload: ObjectKey,
    /// How many pods it keeps: the configured size.
    pub keep: i32,
    /// The resource's own hashrings ConfigMap, if it has one: its rings are ordered by the
    /// apply's own first step (see `Kind::interim`), not held.
    pub own_rings: Option<ObjectKey>,
    pub ordinal: OrdinalOf,
}

/// A ring of another resource that lists leaving pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub config_map: ObjectKey,
    pub ring: String,
    /// The leaving pods' endpoints it lists, sorted.
    pub endpoints: Vec<String>,
}

/// What happens to the leaving pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing leaves: the workload does not exist, or is no larger than it will be.
    Nothing,
    /// The workload, now `live` pods, keeps `size` of them: `listed` rings still list some.
    Hold {
        live: i32,
        size: i32,
        listed: Vec<Listing>,
    },
    /// No ring lists them: the workload shrinks from `live` pods.
    Shrink { live: i32 },
}

impl Decision {
    /// The size the workload is held at.
    pub fn held(&self) -> Option<i32> {
        match self {
            Decision::Hold { size, .. } => Some(*size),
            _ => None,
        }
    }
}

/// Decides from the live workload and the rings this provider wrote (see
/// `Cluster::hashring_files`).
pub async fn decide(
    cluster: &dyn ClusterApi,
    leaving: &Leaving,
    cancel: &CancellationToken,
) -> Result<Decision, thanos_cluster::Error> {
    let live = cluster
        .get(&leaving.workload, cancel)
        .await?
        .and_then(|o| o.json.pointer("/spec/replicas").and_then(|r| r.as_i64()))
        .and_then(|r| i32::try_from(r).ok());
    let Some(live) = live.filter(|live| *live > leaving.keep) else {
        return Ok(Decision::Nothing);
    };
    let files = cluster
        .hashring_files(&leaving.workload.namespace, cancel)
        .await?;
    Ok(judge(leaving, live, &files))
}

/// [`decide`] once the cluster is read: pure.
pub fn judge(leaving: &Leaving, live: i32, files: &[HashringFile]) -> Decision {
    let mut listed = Vec::new();
    let mut size = leaving.keep;
    for file in files {
        if leaving.own_rings.as_ref() == Some(&file.config_map) {
            continue;
        }
        // A file that does not parse is not one this provider wrote as it is now; routers
        // would refuse it too.
        let Ok(rings) = serde_json::from_str::<Vec<HashringEntry>>(&file.text) else {
            continue;
        };
        for ring in rings {
            let mut endpoints: Vec<String> = ring
                .addresses()
                .into_iter()
                .filter(|e| {
                    (leaving.ordinal)(e)
                        .is_some_and(|o| o >= i64::from(leaving.keep) && o < i64::from(live))
                })
                .collect();
            if endpoints.is_empty() {
                continue;
            }
            endpoints.sort();
            endpoints.dedup();
            for e in &endpoints {
                if let Some(o) = (leaving.ordinal)(e) {
                    size = size.max(i32::try_from(o + 1).unwrap_or(live));
                }
            }
            listed.push(Listing {
                config_map: file.config_map.clone(),
                ring: ring.name.clone(),
                endpoints,
            });
        }
    }
    if listed.is_empty() {
        Decision::Shrink { live }
    } else {
        Decision::Hold { live, size, listed }
    }
}

/// A plan's decision: best effort, as ring discovery (nothing without a configured or
/// reachable cluster; a warning when the rings cannot be read).
pub async fn plan(env: &Env, leaving: &Leaving, context: &Context) -> (Decision, Diagnostics) {
    if !env.clusters.is_configured() {
        return (Decision::Nothing, Diagnostics::new());
    }
    let Ok(cluster) = env.clusters.cluster().await else {
        return (Decision::Nothing, Diagnostics::new());
    };
    match decide(cluster.as_ref(), leaving, &context.cancel).await {
        Ok(d) => (d, Diagnostics::new()),
        Err(e) => (Decision::Nothing, unchecked(leaving, &e).into()),
    }
}

/// An apply's check: `now` may not hold more pods than the plan did (`planned`). Else the
/// error to stop with, before anything is written.
pub fn check_apply(
    now: &Decision,
    planned: Option<i32>,
    leaving: &Leaving,
) -> Result<(), Diagnostic> {
    let Decision::Hold { size, listed, .. } = now else {
        return Ok(());
    };
    if *size <= planned.unwrap_or(leaving.keep) {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Scale-down would stop ingestors a hashring still lists",
        format!(
            "{}\n\nNothing was applied. Plan again with the cluster reachable: the plan then keeps these pods running until no ring lists them (see the warning it shows at replicas).",
            listings(listed)
        ),
    )
    .at(tfvalue::AttributePath::root().attr("replicas")))
}

/// The plan's warning at `replicas` for a decision; `prior_held`: the size the last apply held
/// the workload at.
pub fn warning(decision: &Decision, leaving: &Leaving, prior_held: Option<i32>) -> Option<Invalid> {
    let keep = leaving.keep;
    let workload = &leaving.workload;
    let (summary, detail) = match decision {
        Decision::Nothing => return None,
        Decision::Hold { live, size, listed } => (
            "Scale-down held while hashrings list the leaving pods".to_owned(),
            format!(
                "{}\n\nThis apply keeps {size} of the {live} pods of StatefulSet {}/{} running and publishes only the first {keep} (ingestor_endpoints, and the endpoints that ring selectors discover), so the rings drop the others in this run. Plan and apply again once they have: the StatefulSet then shrinks to {keep}.",
                listings(listed),
                workload.namespace,
                workload.name
            ),
        ),
        Decision::Shrink { live } if prior_held.is_some() => (
            "Held scale-down resumes".to_owned(),
            format!(
                "No hashring lists the pods above {keep} of StatefulSet {}/{} any more: it shrinks from {live} to {keep} pods now.",
                workload.namespace, workload.name
            ),
        ),
        Decision::Shrink { .. } => return None,
    };
    Some(Invalid {
        path: Path::root().attr("replicas").0,
        summary,
        detail,
    })
}

fn listings(listed: &[Listing]) -> String {
    listed
        .iter()
        .map(|l| {
            format!(
                "Hashring {:?} in ConfigMap {}/{} lists {}.",
                l.ring,
                l.config_map.namespace,
                l.config_map.name,
                l.endpoints.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The warning of a plan (or apply) that could not read the rings.
pub fn unchecked(leaving: &Leaving, error: &thanos_cluster::Error) -> Diagnostic {
    Diagnostic::warning(
        "Could not check which hashrings list the ingestors that leave",
        format!(
            "{error}\n\nThe plan shrinks StatefulSet {}/{} to {} pods; the apply checks again and stops, with nothing written, if a hashring of another resource still lists the pods that would stop.",
            leaving.workload.namespace, leaving.workload.name, leaving.keep
        ),
    )
    .at(tfvalue::AttributePath::root().attr("replicas"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaving(keep: i32) -> Leaving {
        Leaving {
            workload: ObjectKey::new("StatefulSet", "ns", "ing"),
            keep,
            own_rings: Some(ObjectKey::new("ConfigMap", "ns", "own")),
            ordinal: Box::new(|e: &str| {
                e.strip_prefix("ing-")?
                    .strip_suffix(".svc:10901")?
                    .parse()
                    .ok()
            }),
        }
    }

    fn file(name: &str, endpoints: &[&str]) -> HashringFile {
        let eps: Vec<String> = endpoints.iter().map(|e| format!("{e}.svc:10901")).collect();
        HashringFile {
            config_map: ObjectKey::new("ConfigMap", "ns", name),
            text: thanos_render::hashring::to_json_text(&[HashringEntry::new("r", &[], &eps)]),
        }
    }

    #[test]
    fn holds_at_the_size_that_keeps_every_listed_pod() {
        let files = [
            file("router", &["ing-0", "ing-1", "ing-2", "other-3"]),
            file("own", &["ing-0", "ing-1", "ing-2", "ing-3"]),
        ];
        let d = judge(&leaving(1), 4, &files);
        let Decision::Hold { live, size, listed } = &d else {
            panic!("{d:?}")
        };
        // ing-3 is listed only by the resource's own rings: not held for.
        assert_eq!((*live, *size), (4, 3));
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].endpoints,
            vec!["ing-1.svc:10901", "ing-2.svc:10901"]
        );
        let w = warning(&d, &leaving(1), None).unwrap();
        assert!(
            w.detail
                .contains("ConfigMap ns/router lists ing-1.svc:10901, ing-2.svc:10901"),
            "{w}"
        );
        assert!(w.detail.contains("keeps 3 of the 4 pods"), "{w}");
    }

    #[test]
    fn shrinks_when_no_ring_lists_the_leaving_pods() {
        let files = [file("router", &["ing-0", "ing-1"]), file("bad", &[])];
        let mut bad = files[1].clone();
        bad.text = "not json".into();
        let d = judge(&leaving(2), 4, &[files[0].clone(), bad]);
        assert_eq!(d, Decision::Shrink { live: 4 });
        // Said only when it ends a hold.
        assert!(warning(&d, &leaving(2), None).is_none());
        assert!(
            warning(&d, &leaving(2), Some(4))
                .unwrap()
                .summary
                .contains("resumes")
        );
    }

    #[test]
    fn an_apply_stops_only_when_it_would_hold_more_than_planned() {
        let d = Decision::Hold {
            live: 3,
            size: 3,
            listed: vec![Listing {
                config_map: ObjectKey::new("ConfigMap", "ns", "router"),
                ring: "r".into(),
                endpoints: vec!["ing-2.svc:10901".into()],
            }],
        };
        assert!(check_apply(&d, Some(3), &leaving(2)).is_ok());
        let e = check_apply(&d, None, &leaving(2)).unwrap_err();
        assert!(
            e.detail.contains("ConfigMap ns/router lists ing-2"),
            "{e:?}"
        );
        assert!(check_apply(&Decision::Shrink { live: 3 }, None, &leaving(2)).is_ok());
    }
}
