//! Rollout waits against the real cluster: success, early failure with the Kubernetes reason
//! (unschedulable, a simulated ImagePullBackOff, ProgressDeadlineExceeded), the timeout
//! message, and prompt cancellation.
//!
//! kwok makes every scheduled pod Running and Ready whatever its image, so image pull
//! failures cannot happen by themselves here: the ImagePullBackOff test pins its pod to a
//! node that does not exist (nothing schedules or runs it) and writes the status a kubelet
//! would write.

mod common;

use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use thanos_cluster::{ApplyOptions, CancellationToken, Error, ObjectKey, WaitOptions};
use thanos_render::Object;

fn unschedulable_query(ns: &str) -> thanos_render::Rendered {
    let mut spec = query_spec(ns, "stuck", 1);
    spec.common.placement.node_selector =
        [("example.com/no-such-node".to_owned(), "true".to_owned())].into();
    thanos_render::query::render(&spec, &ctx()).unwrap()
}

fn deployment_key(r: &thanos_render::Rendered) -> ObjectKey {
    ObjectKey::of(r.objects.iter().find(|o| o.kind() == "Deployment").unwrap())
}

#[tokio::test]
async fn rollout_succeeds() {
    let Some(path) = kubeconfig("rollout_succeeds") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-ok").await;
    let q = query(&ns.name, "q", 2, false);
    let applied = apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let rolled_out = ns
        .cluster
        .wait_for_rollout(
            &rollout_targets(&applied),
            WaitOptions::with_timeout(SHORT),
            &ns.cancel,
        )
        .await
        .unwrap();
    // The workload as the wait last saw it: rolled out, with what its controller added.
    let [deployment] = &rolled_out[..] else {
        panic!("{rolled_out:?}")
    };
    assert_eq!(deployment.key, deployment_key(&q));
    let json = &deployment.json;
    assert_eq!(json["status"]["readyReplicas"], 2, "{json}");
    assert_eq!(
        json["status"]["observedGeneration"], json["metadata"]["generation"],
        "{json}"
    );
    assert!(
        json["metadata"]["annotations"]["deployment.kubernetes.io/revision"].is_string(),
        "{json}"
    );
    assert_eq!(json["kind"], "Deployment", "{json}");
}

#[tokio::test]
async fn unschedulable_fails_early_with_the_scheduler_message() {
    let Some(path) = kubeconfig("unschedulable_fails_early_with_the_scheduler_message") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-sched").await;
    let q = unschedulable_query(&ns.name);
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let opts = WaitOptions {
        timeout: Duration::from_secs(120),
        poll: Duration::from_millis(500),
        unschedulable_grace: Duration::from_secs(3),
    };
    let start = Instant::now();
    let e = ns
        .cluster
        .wait_for_rollout(&[deployment_key(&q)], opts, &ns.cancel)
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    let Error::RolloutFailed {
        workload,
        pod,
        reason,
        message,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(workload.name, "thanosquery-stuck");
    assert!(pod.starts_with("thanosquery-stuck-"), "{pod}");
    assert!(reason.contains("Unschedulable"), "{reason}");
    assert!(message.contains("node"), "{message}");
    let text = e.to_string();
    assert!(
        text.contains("thanosquery-stuck") && text.contains(pod.as_str()),
        "{text}"
    );
}

#[tokio::test]
async fn timeout_says_what_is_missing() {
    let Some(path) = kubeconfig("timeout_says_what_is_missing") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-timeout").await;
    let q = unschedulable_query(&ns.name);
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let opts = WaitOptions {
        timeout: Duration::from_secs(3),
        poll: Duration::from_millis(500),
        unschedulable_grace: Duration::from_secs(600),
    };
    let e = ns
        .cluster
        .wait_for_rollout(&[deployment_key(&q)], opts, &ns.cancel)
        .await
        .unwrap_err();
    let Error::Timeout { missing, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(missing.contains("0 of 1 pods ready"), "{missing}");
    assert!(missing.contains("pod thanosquery-stuck-"), "{missing}");
    assert!(missing.contains("Unschedulable"), "{missing}");
    assert!(e.to_string().contains("timeouts"), "{e}");
}

#[tokio::test]
async fn cancellation_returns_promptly() {
    let Some(path) = kubeconfig("cancellation_returns_promptly") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-cancel").await;
    let q = unschedulable_query(&ns.name);
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        trigger.cancel();
    });
    let opts = WaitOptions {
        timeout: Duration::from_secs(600),
        poll: Duration::from_secs(5),
        unschedulable_grace: Duration::from_secs(600),
    };
    let start = Instant::now();
    let e = ns
        .cluster
        .wait_for_rollout(&[deployment_key(&q)], opts, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // Every other long call honours the token too.
    let owner = owner(thanos_render::meta::Kind::Query, "stuck", &ns.name);
    let e = ns
        .cluster
        .delete_all(&owner, thanos_cluster::PvcPolicy::Retain, SHORT, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
}

#[tokio::test]
async fn progress_deadline_exceeded_fails_early() {
    let Some(path) = kubeconfig("progress_deadline_exceeded_fails_early") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-deadline").await;
    let mut q = unschedulable_query(&ns.name);
    for o in &mut q.objects {
        if let Object::Deployment(d) = o {
            d.spec.as_mut().unwrap().progress_deadline_seconds = Some(1);
        }
    }
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let opts = WaitOptions {
        timeout: Duration::from_secs(120),
        poll: Duration::from_millis(500),
        unschedulable_grace: Duration::from_secs(600),
    };
    let start = Instant::now();
    let e = ns
        .cluster
        .wait_for_rollout(&[deployment_key(&q)], opts, &ns.cancel)
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let Error::RolloutFailed { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(reason, "ProgressDeadlineExceeded");
}

#[tokio::test]
async fn image_pull_back_off_fails_early() {
    let Some(path) = kubeconfig("image_pull_back_off_fails_early") else {
        return;
    };
    let ns = TestNs::new(&path, "wait-image").await;
    let mut q = query(&ns.name, "img", 1, false);
    for o in &mut q.objects {
        if let Object::Deployment(d) = o {
            let pod = d.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
            // Bound to a node nobody runs: no scheduler, no kwok; we play the kubelet.
            pod.node_name = Some("tc-no-such-node".into());
        }
    }
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let key = deployment_key(&q);
    let pods: Api<Pod> = Api::namespaced(ns.cluster.client().clone(), &ns.name);
    let kubelet = async {
        loop {
            let list = pods.list(&ListParams::default()).await.unwrap();
            if let Some(p) = list.items.first() {
                let name = p.metadata.name.clone().unwrap();
                let container = p.spec.as_ref().unwrap().containers[0].name.clone();
                let status = serde_json::json!({ "status": {
                    "phase": "Pending",
                    "containerStatuses": [{
                        "name": container,
                        "image": "quay.io/thanos/thanos:doesnotexist",
                        "imageID": "",
                        "ready": false,
                        "restartCount": 0,
                        "state": { "waiting": {
                            "reason": "ImagePullBackOff",
                            "message": "Back-off pulling image \"quay.io/thanos/thanos:doesnotexist\""
                        } }
                    }]
                } });
                pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                    .unwrap();
                return name;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let opts = WaitOptions {
        timeout: Duration::from_secs(60),
        poll: Duration::from_millis(300),
        ..Default::default()
    };
    let (pod_name, result) = tokio::join!(
        kubelet,
        ns.cluster
            .wait_for_rollout(std::slice::from_ref(&key), opts, &ns.cancel)
    );
    let e = result.unwrap_err();
    let Error::RolloutFailed {
        workload,
        pod,
        reason,
        message,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(workload, &key);
    assert_eq!(pod, &pod_name);
    assert_eq!(reason, "ImagePullBackOff");
    assert!(message.contains("doesnotexist"), "{message}");
    // No kubelet will ever confirm this pod's deletion: remove it by force so the namespace
    // goes away at once.
    let n = ns.name.as_str();
    let (ok, out) = ns.kubectl(
        &["-n", n, "delete", "deployment", "--all", "--wait=false"],
        None,
    );
    assert!(ok, "{out}");
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "delete",
            "pods",
            "--all",
            "--force",
            "--grace-period=0",
        ],
        None,
    );
    assert!(ok, "{out}");
}
