//! The product on a real API server, step by step as terraform-plugin-testing runs a test:
//! apply, check the cluster and the state, then a plan that must be empty and a refresh-free
//! plan that must be empty. Each test runs with every available CLI.

use std::process::Command;

use crate::cluster_support::{Change, Kube, Namespace, Watch, first, kubeconfig};
use crate::harness::{Cli, REQUIRED_PROVIDERS, Workdir, clis};

pub(crate) fn provider_block(kube: &Kube) -> String {
    format!(
        "provider \"thanos\" {{\n  config_path = \"{}\"\n}}\n",
        kube.kubeconfig().display()
    )
}

fn quickstart(ns: &str) -> String {
    format!(
        r#"
resource "thanos_receive" "ingestor" {{
  name      = "ingestor"
  namespace = "{ns}"
  replicas  = 2
  ingestor {{
    data_volume {{
      pvc {{
        size = "5Gi"
      }}
    }}
  }}
}}

resource "thanos_receive" "router" {{
  name      = "router"
  namespace = "{ns}"
  replicas  = 2
  router {{
    soft_tenant_hashring {{
      name      = "test"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }}
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

/// terraform-plugin-testing's step contract: apply, then both plans empty.
#[track_caller]
pub(crate) fn apply_step(work: &Workdir, cli: &Cli) {
    work.run(
        cli,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    )
    .success();
    assert_empty_plans(work, cli);
}

/// The plan's warning about the objects an update changes (summary starting with
/// `summary`): each `(object line, field line)` shows, the field within the lines under its
/// object. Lines are compared without the CLI's box drawing and indentation.
#[track_caller]
fn assert_object_changes(said: &str, summary: &str, expected: &[(&str, &str)], cli: &str) {
    let lines: Vec<&str> = said
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵']).trim())
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(&format!("Warning: {summary}")))
        .unwrap_or_else(|| panic!("{cli}: no warning {summary:?} in:\n{said}"));
    let warning = &lines[start..];
    for (object, field) in expected {
        let at = warning
            .iter()
            .position(|l| l == object)
            .unwrap_or_else(|| panic!("{cli}: {object:?} not named in:\n{said}"));
        assert!(
            warning[at + 1..].iter().take(8).any(|l| l == field),
            "{cli}: {field:?} not under {object:?} in:\n{said}"
        );
    }
}

#[track_caller]
pub(crate) fn assert_empty_plans(work: &Workdir, cli: &Cli) {
    for args in [
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"][..],
        &[
            "plan",
            "-detailed-exitcode",
            "-no-color",
            "-input=false",
            "-refresh=false",
        ][..],
    ] {
        let run = work.run(cli, args);
        assert_eq!(
            run.code(),
            Some(0),
            "{}: `{}` is not empty:\n{}{}",
            cli.name,
            run.command,
            run.stdout(),
            run.stderr()
        );
    }
}

pub(crate) fn args_of(object: &serde_json::Value) -> Vec<String> {
    object["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn quickstart_apply_drift_import_destroy() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "quickstart", cli.name);
        let work = Workdir::new("quickstart-lifecycle", &cli);
        let config = format!(
            "{REQUIRED_PROVIDERS}{}{}",
            provider_block(&kube),
            quickstart(&ns.name)
        );
        work.write("main.tf", &config);
        work.init(&cli);

        // Step 1: create. Every expected object exists with our labels and the right args.
        apply_step(&work, &cli);
        let sts = kube
            .get(&ns.name, "statefulset/thanosreceive-ingestor")
            .expect("ingestor StatefulSet");
        assert_eq!(
            sts["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "terraform-provider-thanos"
        );
        assert_eq!(
            sts["metadata"]["labels"]["app.kubernetes.io/part-of"],
            "thanos-receive-ingestor"
        );
        assert_eq!(sts["status"]["readyReplicas"], 2, "{}", cli.name);
        let local = format!(
            "--receive.local-endpoint=$(NAME).thanosreceive-ingestor-operated.{}.svc:10901",
            ns.name
        );
        let ingestor_args = args_of(&sts);
        assert!(
            ingestor_args
                .iter()
                .any(|a| a == &local || a.starts_with("--receive.local-endpoint=")),
            "{ingestor_args:?}"
        );
        let hashrings = kube
            .get(&ns.name, "configmap/thanosreceive-router-hashrings")
            .expect("hashrings");
        let rings: serde_json::Value =
            serde_json::from_str(hashrings["data"]["hashrings.json"].as_str().unwrap()).unwrap();
        assert_eq!(rings[0]["hashring"], "test");
        assert_eq!(
            rings[0]["endpoints"][0],
            format!(
                "thanosreceive-ingestor-0.thanosreceive-ingestor-operated.{}.svc:10901",
                ns.name
            )
        );
        let query = kube
            .get(&ns.name, "deployment/thanosquery-sample")
            .expect("query Deployment");
        assert!(
            args_of(&query)
                .iter()
                .any(|a| a == "--query.replica-label=receive_replica")
        );
        for claim in [
            "thanosreceive-ingestor-tsdb-thanosreceive-ingestor-0",
            "thanosreceive-ingestor-tsdb-thanosreceive-ingestor-1",
        ] {
            let pvc = kube.get(&ns.name, &format!("pvc/{claim}")).expect("claim");
            assert_eq!(pvc["status"]["phase"], "Bound");
        }

        // Drift: one object edited, one deleted out of band; the plan reports both and the
        // next apply repairs them.
        kube.ok(&[
            "-n",
            &ns.name,
            "scale",
            "deployment/thanosreceive-router",
            "--replicas=3",
        ]);
        kube.ok(&[
            "-n",
            &ns.name,
            "delete",
            "configmap/thanosquery-sample-store-sd",
        ]);
        let plan = work.run(&cli, &["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(
            plan.code(),
            Some(2),
            "{}: drift must show:\n{}",
            cli.name,
            plan.stdout()
        );
        assert!(
            plan.stdout()
                .contains("changed in the cluster: /spec/replicas"),
            "{}",
            plan.stdout()
        );
        assert!(
            plan.stdout().contains("thanosquery-sample-store-sd"),
            "{}",
            plan.stdout()
        );
        apply_step(&work, &cli);
        let router = kube
            .get(&ns.name, "deployment/thanosreceive-router")
            .unwrap();
        assert_eq!(router["spec"]["replicas"], 2);
        assert!(
            kube.get(&ns.name, "configmap/thanosquery-sample-store-sd")
                .is_some()
        );

        // Import into a fresh directory: the next plan is empty.
        let imported = Workdir::new("quickstart-import", &cli);
        imported.write("main.tf", &config);
        imported.init(&cli);
        for (address, name) in [
            ("thanos_receive.ingestor", "ingestor"),
            ("thanos_receive.router", "router"),
            ("thanos_query.sample", "sample"),
        ] {
            imported
                .run(
                    &cli,
                    &[
                        "import",
                        "-no-color",
                        "-input=false",
                        address,
                        &format!("{}/{name}", ns.name),
                    ],
                )
                .success();
        }
        assert_empty_plans(&imported, &cli);

        // The cluster unreachable: planning still works from the recorded state, with a warning
        // that names the server, and shows no change.
        let unreachable = "provider \"thanos\" {\n  host     = \"https://127.0.0.1:1\"\n  token    = \"x\"\n  insecure = true\n}\n";
        work.write(
            "main.tf",
            &format!("{REQUIRED_PROVIDERS}{unreachable}{}", quickstart(&ns.name)),
        );
        let plan = work.run(
            &cli,
            &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
        );
        let text = format!("{}{}", plan.stdout(), plan.stderr());
        assert_eq!(
            plan.code(),
            Some(0),
            "{}: an unreachable cluster must not fail the plan:\n{text}",
            cli.name
        );
        assert!(
            text.contains("Warning") && text.contains("127.0.0.1:1"),
            "{text}"
        );
        work.write("main.tf", &config);

        // Destroy: nothing we created remains but the ingestor claims (retained by default),
        // and the destroy plan said what happens to the data the ingestors hold.
        let destroy = work
            .run(
                &cli,
                &["destroy", "-auto-approve", "-no-color", "-input=false"],
            )
            .success();
        let text = format!("{}{}", destroy.stdout(), destroy.stderr());
        assert!(
            text.contains("affects the data of its ingestors")
                && text.contains("Their volume claims are kept"),
            "{}: the destroy plan must warn about the ingestors' data:\n{text}",
            cli.name
        );
        let left: Vec<String> = kube
            .owned(&ns.name)
            .into_iter()
            .filter(|n| !n.starts_with("persistentvolumeclaim/"))
            .collect();
        assert!(left.is_empty(), "{}: left behind: {left:?}", cli.name);
    }
}

#[test]
fn update_steps_replicas_ingress_and_mode_switch() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "updates", cli.name);
        let work = Workdir::new("updates", &cli);
        let receive = |replicas: u32, ingress: bool, router: bool| {
            let ingress = if ingress {
                "    remote_write_ingress {\n      host = \"rw.example.com\"\n    }\n"
            } else {
                ""
            };
            let router = if router {
                format!(
                    "  router {{\n{ingress}    soft_tenant_hashring {{\n      name      = \"all\"\n      endpoints = [\"a-0:10901\"]\n    }}\n  }}\n"
                )
            } else {
                String::new()
            };
            format!(
                "{REQUIRED_PROVIDERS}{}\nresource \"thanos_receive\" \"r\" {{\n  name      = \"r\"\n  namespace = \"{}\"\n  replicas  = {replicas}\n{router}}}\n",
                provider_block(&kube),
                ns.name
            )
        };
        // Router only, with an ingress.
        work.write("main.tf", &receive(1, true, true));
        work.init(&cli);
        apply_step(&work, &cli);
        assert!(kube.get(&ns.name, "deployment/thanosreceive-r").is_some());
        assert!(
            kube.get(&ns.name, "ingress/thanosreceive-r-remote-write")
                .is_some()
        );
        // More replicas, ingress removed: the Ingress is deleted in the same apply.
        work.write("main.tf", &receive(3, false, true));
        apply_step(&work, &cli);
        assert_eq!(
            kube.get(&ns.name, "deployment/thanosreceive-r").unwrap()["spec"]["replicas"],
            3
        );
        assert!(
            kube.get(&ns.name, "ingress/thanosreceive-r-remote-write")
                .is_none(),
            "removed ingress must be pruned"
        );
        // Mode switch to ingestor only: the router's Deployment and hashrings are pruned.
        work.write("main.tf", &receive(2, false, false));
        apply_step(&work, &cli);
        assert!(
            kube.get(&ns.name, "deployment/thanosreceive-r").is_none(),
            "old mode's Deployment must be pruned"
        );
        assert!(
            kube.get(&ns.name, "configmap/thanosreceive-r-hashrings")
                .is_none()
        );
        assert!(kube.get(&ns.name, "statefulset/thanosreceive-r").is_some());
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}

#[test]
fn errors_name_the_object_and_the_reason() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    let cli = clis().into_iter().next().unwrap();
    let ns = Namespace::new(&kube, "errors", cli.name);
    // An object with our name that this provider did not create.
    kube.ok(&[
        "-n",
        &ns.name,
        "create",
        "configmap",
        "thanosquery-q-store-sd",
    ]);
    let work = Workdir::new("errors", &cli);
    work.write(
        "main.tf",
        &format!(
            "{REQUIRED_PROVIDERS}{}\nresource \"thanos_query\" \"q\" {{\n  name      = \"q\"\n  namespace = \"{}\"\n}}\n",
            provider_block(&kube),
            ns.name
        ),
    );
    work.init(&cli);
    let run = work
        .run(&cli, &["apply", "-auto-approve", "-no-color"])
        .failure();
    let text = format!("{}{}", run.stdout(), run.stderr());
    assert!(text.contains("thanosquery-q-store-sd"), "{text}");
    assert!(text.contains("adopt_existing"), "{text}");

    // An unreachable cluster: a clear diagnostic naming the server, not a hang.
    let unreachable = Workdir::new("unreachable", &cli);
    unreachable.write(
        "main.tf",
        &format!(
            "{REQUIRED_PROVIDERS}provider \"thanos\" {{\n  host     = \"https://127.0.0.1:1\"\n  token    = \"x\"\n  insecure = true\n}}\nresource \"thanos_query\" \"q\" {{\n  name = \"q\"\n}}\n"
        ),
    );
    unreachable.init(&cli);
    let run = unreachable
        .run(&cli, &["apply", "-auto-approve", "-no-color"])
        .failure();
    let text = format!("{}{}", run.stdout(), run.stderr());
    assert!(text.contains("127.0.0.1:1"), "{text}");
    // Nothing reached the server, so nothing is recorded: the next plan is the same create,
    // not the replacement of a tainted resource that never existed.
    let listed = unreachable.run(&cli, &["state", "list"]);
    assert!(
        !listed.stdout().contains("thanos_query.q"),
        "{}",
        listed.stdout()
    );
    let plan = unreachable
        .run(&cli, &["plan", "-no-color", "-input=false"])
        .success();
    assert!(
        plan.stdout()
            .contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout()
    );
    assert!(!plan.stdout().contains("tainted"), "{}", plan.stdout());
}

fn ingestor(ns: &str, replicas: u32, size: &str) -> String {
    format!(
        r#"
resource "thanos_receive" "ingestor" {{
  name      = "ingestor"
  namespace = "{ns}"
  replicas  = {replicas}
  ingestor {{
    data_volume {{
      pvc {{
        size = "{size}"
      }}
    }}
  }}
}}
"#
    )
}

#[test]
fn volume_size_change_is_planned_as_a_replacement_that_keeps_the_claims() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "resize", cli.name);
        let work = Workdir::new("resize", &cli);
        let head = format!("{REQUIRED_PROVIDERS}{}", provider_block(&kube));
        work.write(
            "main.tf",
            &format!("{head}{}", ingestor(&ns.name, 1, "5Gi")),
        );
        work.init(&cli);
        apply_step(&work, &cli);
        let claim = "pvc/thanosreceive-ingestor-tsdb-thanosreceive-ingestor-0";
        let uid = kube.get(&ns.name, claim).unwrap()["metadata"]["uid"].clone();

        work.write(
            "main.tf",
            &format!("{head}{}", ingestor(&ns.name, 1, "8Gi")),
        );
        let plan = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .success();
        let text = format!("{}{}", plan.stdout(), plan.stderr());
        assert!(
            text.contains("StatefulSet thanosreceive-ingestor will be replaced"),
            "{}: {text}",
            cli.name
        );
        assert!(text.contains("volume claim templates"), "{text}");
        apply_step(&work, &cli);
        let sts = kube
            .get(&ns.name, "statefulset/thanosreceive-ingestor")
            .unwrap();
        assert_eq!(
            sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "8Gi"
        );
        assert_eq!(
            kube.get(&ns.name, claim).unwrap()["metadata"]["uid"],
            uid,
            "the claim and its data are kept"
        );
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}

#[test]
fn scaling_the_ingestors_changes_the_discovered_hashring() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "discovery", cli.name);
        let work = Workdir::new("discovery", &cli);
        let config = |replicas: u32| {
            format!(
                r#"{REQUIRED_PROVIDERS}{}{}
resource "thanos_receive" "router" {{
  name       = "router"
  namespace  = "{ns}"
  depends_on = [thanos_receive.ingestor]
  router {{
    soft_tenant_hashring {{
      name = "all"
      endpoints_selector {{
        match_labels = {{
          "app.kubernetes.io/component" = "thanosreceive"
          "app.kubernetes.io/instance"  = "ingestor"
          "thanos.receive/ingestor"     = "true"
        }}
      }}
    }}
  }}
}}
"#,
                provider_block(&kube),
                ingestor(&ns.name, replicas, "5Gi"),
                ns = ns.name
            )
        };
        let ring_members = |kube: &Kube| kube.ring_endpoints(&ns.name, "router").len();
        // Created together: the ring is "known after apply" in the plan, discovered at apply
        // time once the ingestors are Ready.
        work.write("main.tf", &config(2));
        work.init(&cli);
        apply_step(&work, &cli);
        assert_eq!(ring_members(&kube), 2, "{}", cli.name);

        // Scale the ingestors: that apply does not touch the router, the next plan shows the
        // ring growing, and its apply writes it.
        work.write("main.tf", &config(3));
        work.run(&cli, &["apply", "-auto-approve", "-no-color"])
            .success();
        let plan = work.run(&cli, &["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(
            plan.code(),
            Some(2),
            "{}: the ring change must show:\n{}",
            cli.name,
            plan.stdout()
        );
        assert!(
            plan.stdout()
                .contains("thanosreceive-ingestor-2.thanosreceive-ingestor-operated"),
            "{}",
            plan.stdout()
        );
        // The plan prices the change: who joins, and the share of series that moves.
        let said = format!("{}{}", plan.stdout(), plan.stderr());
        assert!(
            said.contains("Hashring \"all\": 1 ingestor joining, 0 ingestors leaving")
                && said.contains("of this ring's series will be written to a different set"),
            "{}: {said}",
            cli.name
        );
        apply_step(&work, &cli);
        assert_eq!(ring_members(&kube), 3, "{}", cli.name);
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}

/// Ingestors shrinking while routers of other resources list them (issue: ordered
/// scale-down across resources). One router takes the ingestors' `ingestor_endpoints`, the
/// other selects them by label. Each run applies in the order that loses no write: the
/// StatefulSet keeps the leaving pod while any ring lists it, the rings drop it first (the
/// static one in the same run, the selector one in the run after, when it discovers the pod
/// unpublished), and only then does the StatefulSet shrink; the plan says so at each step.
#[test]
fn scale_down_waits_for_routers_of_other_resources() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "held", cli.name);
        let work = Workdir::new("held", &cli);
        let config = |replicas: u32| {
            format!(
                r#"{REQUIRED_PROVIDERS}{}{}
resource "thanos_receive" "listed" {{
  name      = "listed"
  namespace = "{ns}"
  router {{
    soft_tenant_hashring {{
      name      = "all"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }}
  }}
}}

resource "thanos_receive" "selected" {{
  name       = "selected"
  namespace  = "{ns}"
  depends_on = [thanos_receive.ingestor]
  router {{
    soft_tenant_hashring {{
      name = "all"
      endpoints_selector {{
        match_labels = {{
          "app.kubernetes.io/instance" = "ingestor"
          "thanos.receive/ingestor"    = "true"
        }}
      }}
    }}
  }}
}}
"#,
                provider_block(&kube),
                ingestor(&ns.name, replicas, "1Gi"),
                ns = ns.name
            )
        };
        // Pod names (the endpoints up to the first dot).
        let ring = |router: &str| -> Vec<String> {
            kube.ring_endpoints(&ns.name, router)
                .iter()
                .map(|e| e.split('.').next().unwrap().to_owned())
                .collect()
        };
        let pods = || -> i64 {
            kube.get(&ns.name, "statefulset/thanosreceive-ingestor")
                .expect("statefulset")["spec"]["replicas"]
                .as_i64()
                .unwrap()
        };
        let apply = |expected: &[&str]| {
            let run = work.run(
                &cli,
                &["apply", "-auto-approve", "-no-color", "-input=false"],
            );
            let said = format!("{}{}", run.stdout(), run.stderr());
            assert!(run.output.status.success(), "{}: {said}", cli.name);
            for expect in expected {
                assert!(
                    said.contains(expect),
                    "{}: no {expect:?} in:\n{said}",
                    cli.name
                );
            }
        };
        let (two, three) = (
            ["thanosreceive-ingestor-0", "thanosreceive-ingestor-1"],
            [
                "thanosreceive-ingestor-0",
                "thanosreceive-ingestor-1",
                "thanosreceive-ingestor-2",
            ],
        );
        work.write("main.tf", &config(3));
        work.init(&cli);
        apply_step(&work, &cli);
        assert_eq!(
            (ring("listed"), ring("selected")),
            (
                three.map(String::from).to_vec(),
                three.map(String::from).to_vec()
            )
        );

        // 3 -> 2. Run 1: the StatefulSet keeps pod 2, unpublished; the router that takes
        // ingestor_endpoints drops it after the ingestors are applied.
        work.write("main.tf", &config(2));
        // The routers reload rings in place; here the API server cannot reach the simulated
        // pods' metrics, so the apply restarts them instead, and says so.
        apply(&[
            "Scale-down held while hashrings list the leaving pods",
            "thanos_receive.listed: Modifications complete",
            "Restarted acc-held-",
            "/thanosreceive-listed to load the new hashrings.json",
        ]);
        let listed = kube
            .get(&ns.name, "deployment/thanosreceive-listed")
            .unwrap();
        assert!(
            listed["spec"]["template"]["metadata"]["annotations"]
                .get("thanos.paodin.io/restarted-at")
                .is_some(),
            "{}: {listed}",
            cli.name
        );
        assert_eq!(pods(), 3, "{}", cli.name);
        assert_eq!(
            ring("listed"),
            two.map(String::from).to_vec(),
            "{}",
            cli.name
        );
        let service = kube
            .get(&ns.name, "service/thanosreceive-ingestor-operated")
            .unwrap();
        assert_eq!(
            service["metadata"]["labels"]["thanos.paodin.io/published-below"], "2",
            "{}",
            cli.name
        );
        // Run 2: the selector ring discovers pod 2 unpublished and drops it; the pod still
        // runs, since that ring listed it when this run planned.
        apply(&[
            "Scale-down held while hashrings list the leaving pods",
            "thanos_receive.selected: Modifications complete",
        ]);
        assert_eq!(
            ring("selected"),
            two.map(String::from).to_vec(),
            "{}",
            cli.name
        );
        assert_eq!(pods(), 3, "{}", cli.name);
        // Run 3: no ring lists pod 2: the StatefulSet shrinks, and the plans after are empty.
        apply(&[
            "Held scale-down resumes",
            "thanos_receive.ingestor: Modifications complete",
        ]);
        assert_eq!(pods(), 2, "{}", cli.name);
        assert_empty_plans(&work, &cli);
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}

/// A router + ingestor whose ring selects its own pods (the operator's router + ingestor
/// mode, its selector written as the operator's README writes it): the first apply ends with a
/// ring of its own pods and the plans after it are empty; growing it plans the new member and
/// what the change costs.
#[test]
fn a_ring_of_its_own_pods() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "ownring", cli.name);
        let work = Workdir::new("ownring", &cli);
        let config = |replicas: u32| {
            format!(
                r#"{REQUIRED_PROVIDERS}{}
resource "thanos_receive" "both" {{
  name      = "both"
  namespace = "{ns}"
  replicas  = {replicas}
  ingestor {{}}
  router {{
    replication_factor = 2
    soft_tenant_hashring {{
      name = "default"
      endpoints_selector {{
        match_labels = {{
          "app.kubernetes.io/instance" = "both"
          "thanos.receive/ingestor"    = "true"
        }}
      }}
    }}
  }}
}}
"#,
                provider_block(&kube),
                ns = ns.name
            )
        };
        let ring = |kube: &Kube| -> Vec<String> {
            let rings = kube.hashrings(&ns.name, "both");
            assert_eq!(rings[0]["algorithm"], "ketama", "{rings}");
            kube.ring_endpoints(&ns.name, "both")
        };
        let own = |i: u32| {
            format!(
                "thanosreceive-both-{i}.thanosreceive-both-operated.{}.svc:10901",
                ns.name
            )
        };
        work.write("main.tf", &config(2));
        work.init(&cli);
        apply_step(&work, &cli);
        assert_eq!(ring(&kube), [own(0), own(1)], "{}", cli.name);

        work.write("main.tf", &config(3));
        let plan = work.run(&cli, &["plan", "-detailed-exitcode", "-no-color"]);
        assert_eq!(plan.code(), Some(2), "{}: {}", cli.name, plan.stdout());
        let said = format!("{}{}", plan.stdout(), plan.stderr());
        assert!(
            said.contains("Hashring \"default\": 1 ingestor joining, 0 ingestors leaving")
                && said.contains(&own(2)),
            "{}: {said}",
            cli.name
        );
        // The objects that change, field by field: the StatefulSet's replicas and the ring's
        // new member in its ConfigMap (each field on a line of its own under its object).
        assert_object_changes(
            &said,
            &format!("thanos_receive {}/both: ", ns.name),
            &[
                ("StatefulSet thanosreceive-both:", "spec.replicas: 2 → 3"),
                (
                    "ConfigMap thanosreceive-both-hashrings:",
                    &format!("data[\"hashrings.json\"][0].endpoints: + \"{}\"", own(2)),
                ),
            ],
            cli.name,
        );
        let watches = order_watches(&kube, &ns.name);
        apply_step(&work, &cli);
        assert_eq!(ring(&kube), [own(0), own(1), own(2)], "{}", cli.name);
        // Growing, in the cluster: the StatefulSet grows, the new pod is Ready, and only then
        // does the ring list it.
        let [sts, pods, cms] = stop_watches(watches);
        let grown = first(&sts, |o| o["spec"]["replicas"] == 3);
        let ready = first(&pods, |o| {
            o["metadata"]["name"] == "thanosreceive-both-2" && pod_ready(o)
        });
        let listed = first(&cms, |o| ring_lists(o, &own(2)));
        assert!(
            matches!((grown, ready, listed), (Some(a), Some(b), Some(c)) if a < b && b < c),
            "{}: StatefulSet grown at {grown:?}, pod 2 Ready at {ready:?}, ring lists it at {listed:?}",
            cli.name
        );

        // Back to two: the ring leaves out the third pod, then the StatefulSet shrinks.
        work.write("main.tf", &config(2));
        let plan = work.run(&cli, &["plan", "-no-color"]);
        let said = format!("{}{}", plan.stdout(), plan.stderr());
        assert!(
            said.contains("Hashring \"default\": 0 ingestors joining, 1 ingestor leaving"),
            "{}: {said}",
            cli.name
        );
        let watches = order_watches(&kube, &ns.name);
        apply_step(&work, &cli);
        assert_eq!(ring(&kube), [own(0), own(1)], "{}", cli.name);
        let sts = kube
            .get(&ns.name, "statefulset/thanosreceive-both")
            .unwrap();
        assert_eq!(sts["spec"]["replicas"], 2, "{}", cli.name);
        // Shrinking, in the cluster: the ring stops listing pod 2, every pod runs that ring
        // (the StatefulSet's pods all updated and Ready at 3), and only then does it shrink.
        let [sts, _, cms] = stop_watches(watches);
        let unlisted = first(&cms, |o| {
            o["data"]["hashrings.json"].is_string() && !ring_lists(o, &own(2))
        });
        let rolled = unlisted.and_then(|after| {
            sts.iter()
                .filter(|c| c.rv > after)
                .find(|c| {
                    let st = &c.object["status"];
                    c.object["spec"]["replicas"] == 3
                        && st["updatedReplicas"] == 3
                        && st["readyReplicas"] == 3
                        && st["currentRevision"] == st["updateRevision"]
                })
                .map(|c| c.rv)
        });
        let shrunk = first(&sts, |o| o["spec"]["replicas"] == 2);
        assert!(
            matches!((unlisted, rolled, shrunk), (Some(a), Some(b), Some(c)) if a < b && b < c),
            "{}: ring without pod 2 at {unlisted:?}, every pod on it at {rolled:?}, StatefulSet shrunk at {shrunk:?}",
            cli.name
        );
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}

/// Watches of the StatefulSets, pods and ConfigMaps of `namespace`, in that order.
fn order_watches(kube: &Kube, namespace: &str) -> [Watch; 3] {
    ["statefulsets", "pods", "configmaps"].map(|kind| Watch::start(kube, namespace, kind))
}

fn stop_watches(watches: [Watch; 3]) -> [Vec<Change>; 3] {
    watches.map(Watch::stop)
}

fn pod_ready(pod: &serde_json::Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Whether a hashrings ConfigMap lists `endpoint` in any ring.
fn ring_lists(cm: &serde_json::Value, endpoint: &str) -> bool {
    let Some(text) = cm["data"]["hashrings.json"].as_str() else {
        return false;
    };
    let rings: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    rings.as_array().into_iter().flatten().any(|r| {
        r["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e == endpoint || e["address"] == endpoint)
    })
}

#[test]
fn forbidden_namespace_and_unfinishable_rollout_name_the_object_and_reason() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    let cli = clis().into_iter().next().unwrap();
    let allowed = Namespace::new(&kube, "allowed", cli.name);
    let other = Namespace::new(&kube, "other", cli.name);
    // A service account that may do anything in `allowed` and nothing elsewhere.
    kube.ok(&["-n", &allowed.name, "create", "serviceaccount", "deployer"]);
    kube.ok(&[
        "-n",
        &allowed.name,
        "create",
        "rolebinding",
        "deployer",
        "--clusterrole=admin",
        &format!("--serviceaccount={}:deployer", allowed.name),
    ]);
    let token = kube
        .ok(&["-n", &allowed.name, "create", "token", "deployer"])
        .trim()
        .to_string();
    let server = kube.ok(&[
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ]);
    let ca = kube.ok(&[
        "config",
        "view",
        "--minify",
        "--raw",
        "-o",
        "jsonpath={.clusters[0].cluster.certificate-authority-data}",
    ]);
    let work = Workdir::new("forbidden", &cli);
    work.write(
        "main.tf",
        &format!(
            r#"{REQUIRED_PROVIDERS}
provider "thanos" {{
  host                   = "{server}"
  token                  = "{token}"
  cluster_ca_certificate = base64decode("{ca}")
}}

resource "thanos_query" "q" {{
  name      = "q"
  namespace = "{}"
}}
"#,
            other.name
        ),
    );
    work.init(&cli);
    let run = work
        .run(&cli, &["apply", "-auto-approve", "-no-color"])
        .failure();
    let text = format!("{}{}", run.stdout(), run.stderr());
    assert!(text.to_lowercase().contains("forbidden"), "{text}");
    assert!(text.contains(&other.name), "{text}");

    // A rollout that cannot finish: no node matches, so the apply fails early with the
    // scheduler's reason and the pod, well before the timeout.
    let stuck = Workdir::new("stuck", &cli);
    stuck.write(
        "main.tf",
        &format!(
            r#"{REQUIRED_PROVIDERS}{}
resource "thanos_query" "stuck" {{
  name          = "stuck"
  namespace     = "{}"
  node_selector = {{ "example.com/no-such-node" = "true" }}
  timeouts {{
    create = "2m"
  }}
}}
"#,
            provider_block(&kube),
            allowed.name
        ),
    );
    stuck.init(&cli);
    let started = std::time::Instant::now();
    let run = stuck
        .run(&cli, &["apply", "-auto-approve", "-no-color"])
        .failure();
    let text = format!("{}{}", run.stdout(), run.stderr());
    assert!(text.contains("thanosquery-stuck"), "{text}");
    assert!(
        text.contains("Unschedulable") || text.contains("FailedScheduling"),
        "{text}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(100),
        "failed early, not at the timeout"
    );
    // The half-created resource is in state (tainted) and destroy cleans it up.
    stuck
        .run(&cli, &["destroy", "-auto-approve", "-no-color"])
        .success();
    assert!(kube.owned(&allowed.name).is_empty());
}

#[test]
fn storage_stack_and_tls_query_apply_import_and_destroy_cleanly() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "storage", cli.name);
        let work = Workdir::new("storage", &cli);
        let config = format!(
            r#"{REQUIRED_PROVIDERS}{}
resource "thanos_storage" "lts" {{
  name      = "lts"
  namespace = "{ns}"
  object_storage_config {{
    name = "objstore"
    key  = "objstore.yaml"
  }}
  gateway {{
    replicas = 2
  }}
  compact {{
    downsampling_disable = true
    retention {{
      raw          = "30d"
      five_minutes = "90d"
      one_hour     = "1y"
    }}
  }}
}}

resource "thanos_query" "global" {{
  name      = "global"
  namespace = "{ns}"
  tls_mode  = "envoy"
  stores = [
    {{ address = thanos_storage.lts.store_endpoint }},
    {{ address = "store.member.example.com:443", secret_name = "member-ca" }},
  ]
}}
"#,
            provider_block(&kube),
            ns = ns.name
        );
        work.write("main.tf", &config);
        work.init(&cli);
        // The CA the TLS store is verified with: the plan's preflight checks it is there.
        crate::multicluster::set_member_ca(
            &kube,
            &ns.name,
            &work,
            &crate::multicluster::ca_expiring_in(365),
        );
        apply_step(&work, &cli);

        let compact = kube
            .get(&ns.name, "statefulset/thanosstorage-lts-compact")
            .expect("compactor");
        assert_eq!(
            compact["spec"]["replicas"], 1,
            "the compactor is a singleton"
        );
        let args = args_of(&compact);
        for expected in [
            "--data-dir=/thanos",
            "--downsampling.disable",
            "--retention.resolution-raw=30d",
            "--retention.resolution-5m=90d",
            "--retention.resolution-1h=1y",
        ] {
            assert!(
                args.iter().any(|a| a == expected),
                "{expected} missing from {args:?}"
            );
        }
        let gateway = kube
            .get(&ns.name, "statefulset/thanosstorage-lts-gateway")
            .expect("gateway");
        assert_eq!(gateway["status"]["readyReplicas"], 2);
        assert!(
            kube.get(&ns.name, "configmap/thanosquery-global-envoy")
                .is_some(),
            "TLS store needs the envoy config"
        );
        let query = kube.get(&ns.name, "deployment/thanosquery-global").unwrap();
        let containers: Vec<&str> = query["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(containers.len(), 2, "query + envoy sidecar: {containers:?}");

        let imported = Workdir::new("storage-import", &cli);
        imported.write("main.tf", &config);
        imported.init(&cli);
        for (address, name) in [
            ("thanos_storage.lts", "lts"),
            ("thanos_query.global", "global"),
        ] {
            imported
                .run(
                    &cli,
                    &[
                        "import",
                        "-no-color",
                        "-input=false",
                        address,
                        &format!("{}/{name}", ns.name),
                    ],
                )
                .success();
        }
        assert_empty_plans(&imported, &cli);

        // Destroy: nothing remains, the envoy ConfigMap included; the storage caches go too.
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
        assert!(
            kube.owned(&ns.name).is_empty(),
            "{}: left behind: {:?}",
            cli.name,
            kube.owned(&ns.name)
        );
    }
}

#[test]
fn ctrl_c_stops_a_rollout_wait_promptly() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "interrupt", cli.name);
        let work = Workdir::new("interrupt", &cli);
        work.write(
            "main.tf",
            &format!(
                r#"{REQUIRED_PROVIDERS}{}
resource "thanos_query" "stuck" {{
  name          = "stuck"
  namespace     = "{}"
  node_selector = {{ "example.com/no-such-node" = "true" }}
  timeouts {{
    create = "10m"
  }}
}}
"#,
                provider_block(&kube),
                ns.name
            ),
        );
        work.init(&cli);
        // The provider's log says when the apply starts waiting for the rollout (after its
        // writes and its prune): the interrupt must land in that wait, whatever the load.
        let log = work.dir.join("interrupt.log");
        let apply = work.spawn_env(
            &cli,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            &[
                ("TF_LOG_PROVIDER", "INFO"),
                ("TF_LOG_PATH", log.to_str().unwrap()),
            ],
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&format!("{}/stuck: waiting for the rollout", ns.name))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the apply never started its rollout wait"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // What a terminal Ctrl-C does to Terraform: it asks the provider to stop (StopProvider).
        let interrupted = std::time::Instant::now();
        let status = Command::new("kill")
            .args(["-INT", &apply.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = apply.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // The pod would be reported unschedulable after a 10 s grace; the interrupt must end the
        // wait well before that.
        assert!(
            interrupted.elapsed() < std::time::Duration::from_secs(8),
            "{}: the apply took {:?} to stop after Ctrl-C:\n{text}",
            cli.name,
            interrupted.elapsed()
        );
        assert!(!output.status.success(), "{text}");
        assert!(
            text.contains("the rollout did not finish"),
            "{}: {text}",
            cli.name
        );
        assert!(
            text.contains("cancelled: work on Deployment"),
            "{}: {text}",
            cli.name
        );
        work.run(&cli, &["destroy", "-auto-approve", "-no-color"])
            .success();
    }
}
