//! The production fields with the real CLIs on a real API server: a storage and a query that
//! use all of them (a created and annotated ServiceAccount and an existing one, image pull
//! secrets, pod annotations, a priority class, changed security contexts, a Secret, a
//! ConfigMap and an emptyDir mounted, a query frontend, ServiceMonitors) are applied and
//! checked in the objects (and in the pods, which the API server's admission only creates
//! when the ServiceAccount and the PriorityClass exist); the plans after the apply are empty;
//! removing the `frontend` and `service_monitor` blocks prunes what they rendered; the destroy
//! leaves nothing behind.
//!
//! A cluster without prometheus-operator's CRDs is covered by the lifecycle's unit test
//! against the fake cluster (`src/lifecycle/tests/production.rs`) and by the cluster crate's
//! test of an unserved kind (`crates/thanos-cluster/tests/select.rs`): the local clusters all
//! serve ServiceMonitors, and deleting the CRD would break any test applying them meanwhile.

use crate::cluster_support::{Kube, Namespace, kubeconfig};
use crate::harness::{Cli, REQUIRED_PROVIDERS, Workdir, clis};
use crate::lifecycle::{apply_step, args_of, assert_empty_plans, provider_block};

const ROLE: &str = "arn:aws:iam::123456789012:role/thanos";

/// The pod fields both resources share.
fn pod_fields(priority_class: &str) -> String {
    format!(
        r#"
  image_pull_secrets  = ["registry-credentials"]
  pod_annotations     = {{ "sidecar.istio.io/inject" = "false" }}
  priority_class_name = "{priority_class}"
  security_context {{
    pod       = jsonencode({{ runAsUser = null, runAsGroup = null, fsGroup = null }})
    container = jsonencode({{ capabilities = {{ drop = ["ALL"], add = ["NET_BIND_SERVICE"] }} }})
  }}
  extra_volumes {{
    name       = "tracing"
    mount_path = "/etc/thanos-tracing"
    config_map {{
      name = "thanos-tracing"
    }}
  }}
  extra_volumes {{
    name       = "http"
    mount_path = "/etc/thanos-http"
    secret {{
      name  = "thanos-http"
      items = {{ "web.yaml" = "config.yaml" }}
    }}
  }}
  extra_volumes {{
    name       = "scratch"
    mount_path = "/tmp/scratch"
    empty_dir {{
      size_limit = "64Mi"
    }}
  }}
"#
    )
}

/// The stack; `full` adds the `frontend` and `service_monitor` blocks.
fn config(kube: &Kube, ns: &str, priority_class: &str, full: bool) -> String {
    let fields = pod_fields(priority_class);
    let monitor = if full {
        "service_monitor {\n    interval = \"30s\"\n    labels   = { release = \"prom\" }\n  }"
    } else {
        ""
    };
    let frontend = if full {
        r#"frontend {
    replicas           = 2
    split_interval     = "12h"
    max_retries        = 3
    downstream_timeout = "1m"
    results_cache {
      in_memory_max_size = "128MB"
    }
  }"#
    } else {
        ""
    };
    format!(
        r#"{REQUIRED_PROVIDERS}
{provider}

resource "thanos_storage" "lts" {{
  name      = "lts"
  namespace = "{ns}"
  object_storage_config {{
    name = "thanos-objstore"
    key  = "objstore.yaml"
  }}
  service_account {{
    create      = true
    annotations = {{ "eks.amazonaws.com/role-arn" = "{ROLE}" }}
  }}
{fields}
  {monitor}
  gateway {{}}
  compact {{}}
}}

resource "thanos_query" "global" {{
  name      = "global"
  namespace = "{ns}"
  stores    = [{{ address = thanos_storage.lts.store_endpoint }}]
  service_account {{
    name = "thanos-existing"
  }}
{fields}
  http_ingress {{
    host = "thanos.example.com"
  }}
  {frontend}
  {monitor}
}}

output "http_url" {{
  value = thanos_query.global.http_url
}}
"#,
        provider = provider_block(kube),
    )
}

/// What the stack needs that a platform team provides: the pull Secret, the mounted Secret
/// and ConfigMap, the existing ServiceAccount (in the namespace) and a PriorityClass (of the
/// cluster: named after the namespace, deleted by the returned guard).
fn prerequisites<'a>(kube: &'a Kube, ns: &str) -> PriorityClass<'a> {
    kube.ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "docker-registry",
        "registry-credentials",
        "--docker-server=registry.example.com",
        "--docker-username=user",
        "--docker-password=pass",
    ]);
    kube.ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "thanos-http",
        "--from-literal=web.yaml=tls_server_config: {}",
    ]);
    kube.ok(&[
        "-n",
        ns,
        "create",
        "configmap",
        "thanos-tracing",
        "--from-literal=tracing.yaml=type: OTLP",
    ]);
    kube.ok(&["-n", ns, "create", "serviceaccount", "thanos-existing"]);
    let name = format!("{ns}-critical");
    kube.ok(&["create", "priorityclass", &name, "--value=1000000"]);
    PriorityClass { kube, name }
}

/// A PriorityClass (cluster-scoped) deleted when dropped.
struct PriorityClass<'a> {
    kube: &'a Kube,
    name: String,
}

impl Drop for PriorityClass<'_> {
    fn drop(&mut self) {
        let _ = self.kube.run(&["delete", "priorityclass", &self.name]);
    }
}

fn get(kube: &Kube, ns: &str, what: &str) -> serde_json::Value {
    kube.get(ns, what)
        .unwrap_or_else(|| panic!("{ns}: no {what}"))
}

/// Names of the ServiceAccounts and ServiceMonitors in `ns` that carry our managed-by label
/// (the acceptance helper `Kube::owned` lists the kinds every resource renders).
fn owned_accounts_and_monitors(kube: &Kube, ns: &str) -> Vec<String> {
    let text = kube.ok(&[
        "-n",
        ns,
        "get",
        "serviceaccounts,servicemonitors",
        "-l",
        "app.kubernetes.io/managed-by=terraform-provider-thanos",
        "-o",
        "name",
    ]);
    let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
    names.sort();
    names
}

fn output(work: &Workdir, cli: &Cli, name: &str) -> String {
    work.run(cli, &["output", "-raw", name])
        .success()
        .stdout()
        .trim()
        .to_owned()
}

/// The pod fields of a workload's template, and of one of its pods (admitted by the API
/// server with them).
#[track_caller]
fn assert_pod_fields(
    kube: &Kube,
    ns: &str,
    workload: &str,
    account: &str,
    priority_class: &str,
    extra_mounts: bool,
) {
    let object = get(kube, ns, workload);
    let template = &object["spec"]["template"];
    let spec = &template["spec"];
    let at = format!("{ns}/{workload}");
    assert_eq!(spec["serviceAccountName"], account, "{at}");
    assert_eq!(spec["automountServiceAccountToken"], false, "{at}");
    assert_eq!(
        spec["imagePullSecrets"],
        serde_json::json!([{"name": "registry-credentials"}]),
        "{at}"
    );
    assert_eq!(spec["priorityClassName"], priority_class, "{at}");
    assert_eq!(
        template["metadata"]["annotations"]["sidecar.istio.io/inject"], "false",
        "{at}"
    );
    let psc = &spec["securityContext"];
    assert!(
        psc.get("runAsUser").is_none() && psc.get("fsGroup").is_none(),
        "{at}: {psc}"
    );
    assert_eq!(psc["runAsNonRoot"], true, "{at}: {psc}");
    for c in spec["containers"].as_array().unwrap() {
        assert_eq!(
            c["securityContext"]["capabilities"]["add"],
            serde_json::json!(["NET_BIND_SERVICE"]),
            "{at}: {}",
            c["name"]
        );
    }
    if extra_mounts {
        let mounts = &spec["containers"][0]["volumeMounts"];
        for (name, path) in [
            ("extra-tracing", "/etc/thanos-tracing"),
            ("extra-http", "/etc/thanos-http"),
            ("extra-scratch", "/tmp/scratch"),
        ] {
            assert!(
                mounts
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == name && m["mountPath"] == path),
                "{at}: {name} at {path}: {mounts}"
            );
        }
        let volumes = spec["volumes"].to_string();
        assert!(
            volumes.contains(r#""secretName":"thanos-http""#)
                && volumes.contains(r#""name":"thanos-tracing""#)
                && volumes.contains(r#""sizeLimit":"64Mi""#),
            "{at}: {volumes}"
        );
    }
    // A pod exists: the ServiceAccount and PriorityClass admission plugins let it in.
    let selector = object["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect::<Vec<_>>()
        .join(",");
    let pods: serde_json::Value =
        serde_json::from_str(&kube.ok(&["-n", ns, "get", "pods", "-l", &selector, "-o", "json"]))
            .unwrap();
    let pod = &pods["items"][0];
    assert_eq!(pod["spec"]["serviceAccountName"], account, "{at}: {pods}");
    assert!(
        pod["spec"]["priority"].as_i64() == Some(1_000_000),
        "{at}: the pod has not the class's priority: {}",
        pod["spec"]
    );
}

#[test]
fn production_fields_frontend_and_service_monitors_apply_prune_and_destroy() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "production", cli.name);
        let priority = prerequisites(&kube, &ns.name);
        let class = priority.name.clone();
        let work = Workdir::new("production", &cli);
        work.write("main.tf", &config(&kube, &ns.name, &class, true));
        work.init(&cli);

        // 1. Apply everything; both plans after it are empty.
        apply_step(&work, &cli);

        // The ServiceAccount the storage created, with the cloud's annotation; the query's
        // existing one is named only.
        let sa = get(&kube, &ns.name, "serviceaccount/thanosstorage-lts");
        assert_eq!(
            sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], ROLE,
            "{sa}"
        );
        assert_eq!(
            sa["metadata"]["labels"]["app.kubernetes.io/managed-by"], "terraform-provider-thanos",
            "{sa}"
        );
        assert_eq!(sa["automountServiceAccountToken"], false, "{sa}");
        let existing = get(&kube, &ns.name, "serviceaccount/thanos-existing");
        assert!(
            existing["metadata"].get("labels").is_none(),
            "the existing ServiceAccount is not ours: {existing}"
        );
        for sts in [
            "statefulset/thanosstorage-lts-gateway",
            "statefulset/thanosstorage-lts-compact",
        ] {
            assert_pod_fields(&kube, &ns.name, sts, "thanosstorage-lts", &class, true);
        }
        for deployment in [
            "deployment/thanosquery-global",
            "deployment/thanosquery-global-frontend",
        ] {
            assert_pod_fields(&kube, &ns.name, deployment, "thanos-existing", &class, true);
        }

        // The frontend: in front of the querier, serving http_url and the HTTP Ingress.
        let frontend = get(&kube, &ns.name, "deployment/thanosquery-global-frontend");
        assert_eq!(frontend["spec"]["replicas"], 2);
        let args = args_of(&frontend);
        for flag in [
            format!(
                "--query-frontend.downstream-url=http://thanosquery-global-operated.{}.svc:10902",
                ns.name
            ),
            "--query-range.split-interval=12h".to_owned(),
            "--query-range.max-retries-per-request=3".to_owned(),
            r#"--query-range.response-cache-config={"config":{"max_size":"128MB"},"type":"IN-MEMORY"}"#.to_owned(),
            r#"--query-frontend.downstream-tripper-config={"response_header_timeout":"1m"}"#.to_owned(),
        ] {
            assert!(args.contains(&flag), "{flag}: {args:?}");
        }
        let service = get(
            &kube,
            &ns.name,
            "service/thanosquery-global-frontend-operated",
        );
        assert_eq!(
            service["spec"]["selector"]["app.kubernetes.io/component"],
            "thanosquery-frontend"
        );
        let frontend_url = format!(
            "http://thanosquery-global-frontend-operated.{}.svc:10902",
            ns.name
        );
        assert_eq!(output(&work, &cli, "http_url"), frontend_url);
        let ingress = get(&kube, &ns.name, "ingress/thanosquery-global-http");
        assert_eq!(
            ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "thanosquery-global-frontend-operated"
        );
        assert!(
            get(
                &kube,
                &ns.name,
                "poddisruptionbudget/thanosquery-global-frontend"
            )
            .is_object()
        );

        // The ServiceMonitors: one per Service, with the user's labels, scraping `http`.
        let expected = |monitors: bool| {
            let mut names = vec!["serviceaccount/thanosstorage-lts".to_owned()];
            if monitors {
                for m in [
                    "thanosquery-global",
                    "thanosquery-global-frontend",
                    "thanosstorage-lts-compact",
                    "thanosstorage-lts-gateway",
                ] {
                    names.push(format!("servicemonitor.monitoring.coreos.com/{m}"));
                }
            }
            names.sort();
            names
        };
        assert_eq!(owned_accounts_and_monitors(&kube, &ns.name), expected(true));
        let monitor = get(&kube, &ns.name, "servicemonitor/thanosstorage-lts-gateway");
        assert_eq!(
            monitor["metadata"]["labels"]["release"], "prom",
            "{monitor}"
        );
        assert_eq!(
            monitor["spec"]["endpoints"],
            serde_json::json!([{"port": "http", "path": "/metrics", "interval": "30s"}]),
        );
        assert_eq!(
            monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
            "thanosstorage"
        );

        // 2. Without the frontend and service_monitor blocks: what they rendered is pruned,
        //    the querier serves http_url and the Ingress again.
        work.write("main.tf", &config(&kube, &ns.name, &class, false));
        let plan = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .success();
        assert!(
            plan.stdout().contains("thanosquery-global-frontend"),
            "the plan does not show the frontend going:\n{}",
            plan.stdout()
        );
        apply_step(&work, &cli);
        assert_eq!(
            owned_accounts_and_monitors(&kube, &ns.name),
            expected(false)
        );
        for gone in [
            "deployment/thanosquery-global-frontend",
            "service/thanosquery-global-frontend-operated",
            "poddisruptionbudget/thanosquery-global-frontend",
        ] {
            assert!(kube.get(&ns.name, gone).is_none(), "{gone} is still there");
        }
        assert_eq!(
            output(&work, &cli, "http_url"),
            format!("http://thanosquery-global-operated.{}.svc:10902", ns.name)
        );
        let ingress = get(&kube, &ns.name, "ingress/thanosquery-global-http");
        assert_eq!(
            ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "thanosquery-global-operated"
        );
        assert_empty_plans(&work, &cli);

        // 3. Destroy: nothing of ours is left, the existing ServiceAccount stays.
        work.run(
            &cli,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        )
        .success();
        assert!(
            kube.owned(&ns.name).is_empty(),
            "{}: left behind: {:?}",
            cli.name,
            kube.owned(&ns.name)
        );
        assert_eq!(
            owned_accounts_and_monitors(&kube, &ns.name),
            Vec::<String>::new()
        );
        assert!(
            kube.get(&ns.name, "serviceaccount/thanos-existing")
                .is_some()
        );
    }
}
