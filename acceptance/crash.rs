//! Crash consistency: an apply killed (the CLI, or the provider) while it waits for a rollout.
//! The next apply must converge to the configuration, with every object in the namespace that
//! carries our labels listed in the state (nothing orphaned, nothing twice), and then plan
//! nothing. (An API server restart mid-apply needs a cluster of its own: `spare.rs`.)
//!
//! A rollout is held open by a node selector no node matches until the test labels a node
//! (`Gate`): kwok makes a pod Ready as soon as it is scheduled (`scripts/lib/kwok-stages.yaml`).

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::cluster_support::{Kube, Namespace, kubeconfig};
use crate::harness::{Cli, REQUIRED_PROVIDERS, Workdir, clis};
use crate::lifecycle::{apply_step, assert_empty_plans, provider_block};

/// A node label that pods of one test select: closed until [`Gate::open`], removed on drop.
pub(crate) struct Gate<'a> {
    kube: &'a Kube,
    pub key: String,
}

impl<'a> Gate<'a> {
    pub fn new(kube: &'a Kube, namespace: &str) -> Self {
        Self {
            kube,
            key: format!("gate.acceptance.example.com/{namespace}"),
        }
    }

    /// Labels node kwok-0, so the held pods are scheduled (and kwok makes them Ready).
    pub fn open(&self) {
        self.kube.ok(&[
            "label",
            "node",
            "kwok-0",
            "--overwrite",
            &format!("{}=open", self.key),
        ]);
    }
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        let _ = self
            .kube
            .run(&["label", "node", "kwok-0", &format!("{}-", self.key)]);
    }
}

/// Ingestors (two pods, two claims) held at the gate, and a querier of them: when the apply is
/// stopped during the ingestors' rollout, the querier has not been created yet.
pub(crate) fn gated_stack(ns: &str, gate: &str) -> String {
    held_stack(ns, &format!("node_selector = {{ \"{gate}\" = \"open\" }}"))
}

/// [`gated_stack`] with `placement` (attribute lines of the ingestors, e.g. a node selector;
/// may be empty) instead of the gate.
pub(crate) fn held_stack(ns: &str, placement: &str) -> String {
    format!(
        r#"
resource "thanos_receive" "ingestor" {{
  name          = "ingestor"
  namespace     = "{ns}"
  replicas      = 2
  {placement}
  ingestor {{
    data_volume {{
      pvc {{
        size = "5Gi"
      }}
    }}
  }}
  timeouts {{
    create = "5m"
  }}
}}

resource "thanos_query" "sample" {{
  name      = "sample"
  namespace = "{ns}"
  stores    = [{{ address = thanos_receive.ingestor.store_endpoint }}]
}}
"#
    )
}

pub(crate) const APPLY: &[&str] = &["apply", "-auto-approve", "-no-color", "-input=false"];

/// Waits (generously: the machine is shared) until `ready` holds.
#[track_caller]
pub(crate) fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the apply is in the ingestors' rollout wait: the StatefulSet and the record
/// (written with the objects, before the wait) exist and a pod is Pending at the gate.
pub(crate) fn wait_for_rollout_wait(kube: &Kube, ns: &str, apply: &mut Child) {
    wait_until(
        "the apply waits for the ingestors' rollout",
        Duration::from_secs(120),
        || {
            if let Ok(Some(status)) = apply.try_wait() {
                let mut text = String::new();
                if let Some(mut out) = apply.stdout.take() {
                    let _ = std::io::Read::read_to_string(&mut out, &mut text);
                }
                if let Some(mut err) = apply.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut text);
                }
                panic!("the apply ended ({status}) before it waited for the rollout:\n{text}");
            }
            kube.get(ns, "configmap/thanosreceive-ingestor-terraform")
                .is_some()
                && kube
                    .get(ns, "pod/thanosreceive-ingestor-0")
                    .is_some_and(|p| p["status"]["phase"] == "Pending")
        },
    );
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

/// The provider process the CLI `cli_pid` runs now.
pub(crate) fn provider_pid(cli_pid: u32) -> u32 {
    let mut found = None;
    wait_until(
        "the CLI has started the provider",
        Duration::from_secs(60),
        || {
            found = children(cli_pid).into_iter().find(|pid| {
                alive(*pid)
                    && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
                        exe.to_string_lossy().contains("terraform-provider-thanos")
                    })
            });
            found.is_some()
        },
    );
    found.unwrap()
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purpose (it runs nothing, its parent has not reaped it yet).
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn kill9(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

pub(crate) fn output_text(child: Child) -> (bool, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// `(namespace, "<Kind>/<name>")` of every object that the state's resources, in the root
/// module and its child modules, list in `objects` (a map of `<Kind>/<name>` to a content
/// hash, in the resource's namespace).
pub(crate) fn state_objects(work: &Workdir, cli: &Cli) -> BTreeSet<(String, String)> {
    let show = work.run(cli, &["show", "-json", "-no-color"]).success();
    let state: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    let root = &state["values"]["root_module"];
    let modules =
        std::iter::once(root).chain(root["child_modules"].as_array().into_iter().flatten());
    let mut found = BTreeSet::new();
    for module in modules {
        for resource in module["resources"].as_array().into_iter().flatten() {
            let namespace = resource["values"]["namespace"].as_str().unwrap();
            for key in resource["values"]["objects"].as_object().unwrap().keys() {
                found.insert((namespace.to_owned(), key.clone()));
            }
        }
    }
    found
}

/// `kind/name` of every object in `ns` that carries our managed-by label, claims included.
fn labelled_objects(kube: &Kube, ns: &str) -> BTreeSet<String> {
    kube.owned(ns)
        .into_iter()
        .map(|name| {
            // kubectl writes `statefulset.apps/x`: keep the kind only.
            let (kind, name) = name.split_once('/').unwrap();
            format!("{}/{name}", kind.split('.').next().unwrap())
        })
        .collect()
}

/// The stack converged: both resources are in the state; the objects carrying our labels are
/// exactly the ones the state lists plus the ingestors' two claims; each workload runs the pods
/// it asks for, once; and both plans are empty.
pub(crate) fn assert_converged(kube: &Kube, ns: &str, work: &Workdir, cli: &Cli) {
    let listed = work
        .run(cli, &["state", "list", "-no-color"])
        .success()
        .stdout();
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(
        listed,
        ["thanos_query.sample", "thanos_receive.ingestor"],
        "{}",
        cli.name
    );
    let mut expected: BTreeSet<String> = state_objects(work, cli)
        .into_iter()
        .map(|(_, key)| {
            let (kind, name) = key.split_once('/').unwrap();
            format!("{}/{name}", kind.to_lowercase())
        })
        .collect();
    assert!(
        expected.contains("configmap/thanosreceive-ingestor-terraform")
            && expected.contains("configmap/thanosquery-sample-terraform"),
        "both records are in the state: {expected:?}"
    );
    for i in 0..2 {
        expected.insert(format!(
            "persistentvolumeclaim/thanosreceive-ingestor-tsdb-thanosreceive-ingestor-{i}"
        ));
    }
    assert_eq!(
        labelled_objects(kube, ns),
        expected,
        "{}: the objects with our labels are not the ones the state lists",
        cli.name
    );
    for (workload, pods) in [
        ("statefulset/thanosreceive-ingestor", 2),
        ("deployment/thanosquery-sample", 1),
    ] {
        let live = kube.get(ns, workload).unwrap();
        assert_eq!(live["status"]["readyReplicas"], pods, "{workload}");
        assert_eq!(
            live["status"]["replicas"], pods,
            "{workload}: no surplus pods"
        );
    }
    // One ReplicaSet of the querier with pods (a second would be a rollout the plan did not
    // show).
    let sets = kube.ok(&[
        "-n",
        ns,
        "get",
        "replicasets",
        "-o",
        "jsonpath={range .items[*]}{.spec.replicas}{\"\\n\"}{end}",
    ]);
    assert_eq!(
        sets.lines().filter(|r| *r != "0").count(),
        1,
        "{}: ReplicaSets: {sets}",
        cli.name
    );
    assert_empty_plans(work, cli);
}

/// Destroy, after which nothing with our labels is left but the ingestors' claims (kept by
/// default).
pub(crate) fn destroy_clean(kube: &Kube, ns: &str, work: &Workdir, cli: &Cli) {
    work.run(cli, &["destroy", "-auto-approve", "-no-color"])
        .success();
    let left: Vec<String> = labelled_objects(kube, ns)
        .into_iter()
        .filter(|o| !o.starts_with("persistentvolumeclaim/"))
        .collect();
    assert!(left.is_empty(), "{}: left behind: {left:?}", cli.name);
}

/// Which process a test kills during the rollout wait.
#[derive(Clone, Copy, Debug)]
enum Victim {
    Cli,
    Provider,
}

fn killed_during_rollout_wait_then_apply_converges(victim: Victim) {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    let test = match victim {
        Victim::Cli => "kill-cli",
        Victim::Provider => "kill-provider",
    };
    for cli in clis() {
        let ns = Namespace::new(&kube, test, cli.name);
        let gate = Gate::new(&kube, &ns.name);
        let work = Workdir::new(test, &cli);
        work.write(
            "main.tf",
            &format!(
                "{REQUIRED_PROVIDERS}{}{}",
                provider_block(&kube),
                gated_stack(&ns.name, &gate.key)
            ),
        );
        work.init(&cli);
        let mut apply = work.spawn(&cli, APPLY);
        wait_for_rollout_wait(&kube, &ns.name, &mut apply);
        // Found now: the CLI starts a provider process per phase (validate, plan, apply).
        let provider = provider_pid(apply.id());
        match victim {
            Victim::Cli => {
                kill9(apply.id());
                let (ok, _) = output_text(apply);
                assert!(!ok);
                // Without its client the provider has nothing left to do: it stops instead of
                // carrying on with an apply nobody will record.
                wait_until(
                    "the provider exits after its CLI was killed",
                    Duration::from_secs(30),
                    || !alive(provider),
                );
            }
            Victim::Provider => {
                kill9(provider);
                let (ok, text) = output_text(apply);
                assert!(
                    !ok,
                    "{}: the apply succeeded without its provider",
                    cli.name
                );
                // Terraform words the same event in three ways, depending on where its gRPC
                // client was when the plugin's connection closed: a plugin that "did not
                // respond", one that "crashed", or the in-flight ApplyResourceChange "request
                // was cancelled" (nothing else cancels that request in this test: the CLI
                // itself is not interrupted).
                let cancelled = text.contains("Request cancelled")
                    && text.contains("ApplyResourceChange request was cancelled");
                assert!(
                    text.contains("Plugin did not respond")
                        || text.contains("plugin crashed")
                        || cancelled,
                    "{}: the CLI does not report the crash:\n{text}",
                    cli.name
                );
            }
        }
        // Terraform records a resource when its apply returns: the ingestors' objects exist,
        // the state knows nothing of them.
        let listed = work.run(&cli, &["state", "list", "-no-color"]).stdout();
        assert!(
            listed.trim().is_empty(),
            "{}: state after the kill: {listed}",
            cli.name
        );
        assert!(
            kube.get(&ns.name, "statefulset/thanosreceive-ingestor")
                .is_some(),
            "{}: the killed apply created the ingestors",
            cli.name
        );

        // The next apply takes the objects the killed one wrote as its own (they carry this
        // resource's ownership labels) and finishes the rollout.
        gate.open();
        apply_step(&work, &cli);
        assert_converged(&kube, &ns.name, &work, &cli);
        destroy_clean(&kube, &ns.name, &work, &cli);
    }
}

#[test]
fn kill_9_of_the_cli_during_a_rollout_wait_then_apply_converges() {
    killed_during_rollout_wait_then_apply_converges(Victim::Cli);
}

#[test]
fn kill_9_of_the_provider_during_a_rollout_wait_then_apply_converges() {
    killed_during_rollout_wait_then_apply_converges(Victim::Provider);
}
