//! `thanos_rule` on a real API server with prometheus-operator's CRDs (installed by
//! `scripts/cluster.sh up`): inline rule groups and a PrometheusRule selector; the plan lists
//! the selected rules; a PrometheusRule added later shows in the next plan; an apply from a
//! saved plan whose selection changed since stops before writing; import; clean destroy.

use crate::cluster_support::{Kube, Namespace, kubeconfig};
use crate::harness::{Cli, REQUIRED_PROVIDERS, Workdir, clis};
use crate::lifecycle::{apply_step, args_of, assert_empty_plans, provider_block};

fn ruler(ns: &str) -> String {
    format!(
        r#"
resource "thanos_rule" "global" {{
  name      = "global"
  namespace = "{ns}"
  replicas  = 2

  query_endpoints = ["http://thanosquery-global-operated.{ns}.svc:10902"]
  alertmanagers   = [{{ url = "http://alertmanager.{ns}.svc:9093" }}]
  external_labels = {{ ruler = "global" }}

  rule_groups = {{
    slo = <<-EOT
      groups:
        - name: slo
          rules:
            - record: job:up:avg
              expr: avg by (job) (up)
    EOT
  }}

  prometheus_rule_selector {{
    match_labels = {{ federate = "true" }}
  }}
}}
"#
    )
}

/// A PrometheusRule labelled for federation, applied with kubectl as a team would.
fn prometheus_rule(kube: &Kube, work: &Workdir, ns: &str, name: &str, expr: &str) {
    let file = format!("{name}.prometheusrule.yaml");
    work.write(
        &file,
        &format!(
            r#"apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {name}
  namespace: {ns}
  labels:
    federate: "true"
spec:
  groups:
    - name: {name}
      rules:
        - alert: {name}Down
          expr: '{expr}'
          for: 5m
          labels:
            severity: page
"#
        ),
    );
    kube.ok(&["apply", "-f", &work.dir.join(file).display().to_string()]);
}

#[track_caller]
fn plan_text(work: &Workdir, cli: &Cli, expect_changes: bool) -> String {
    let run = work.run(
        cli,
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
    );
    let text = format!("{}{}", run.stdout(), run.stderr());
    assert_eq!(
        run.code(),
        Some(if expect_changes { 2 } else { 0 }),
        "{}: {text}",
        cli.name
    );
    text
}

#[test]
fn rule_federates_prometheus_rules_plan_apply_import_destroy() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "rule", cli.name);
        let work = Workdir::new("rule-lifecycle", &cli);
        prometheus_rule(&kube, &work, &ns.name, "node", "up{job=\"node\"} == 0");
        let config = format!(
            "{REQUIRED_PROVIDERS}{}{}",
            provider_block(&kube),
            ruler(&ns.name)
        );
        work.write("main.tf", &config);
        work.init(&cli);

        // The plan lists the selected PrometheusRule and its rules.
        let text = plan_text(&work, &cli, true);
        let key = format!("\"{}/node\"", ns.name);
        assert!(
            text.contains(&key),
            "{}: {key} not in the plan:\n{text}",
            cli.name
        );
        assert!(text.contains("nodeDown"), "{text}");

        // Create: the rule files are where the ruler reads them.
        apply_step(&work, &cli);
        let federated = kube
            .get(&ns.name, "configmap/thanosrule-global-prometheus-rules-0")
            .expect("PrometheusRule ConfigMap");
        let file = format!("{}.node.yaml", ns.name);
        assert!(
            federated["data"][&file]
                .as_str()
                .is_some_and(|t| t.contains("alert: \"nodeDown\"")),
            "{federated}"
        );
        let inline = kube
            .get(&ns.name, "configmap/thanosrule-global-rules")
            .expect("inline rules ConfigMap");
        assert!(inline["data"]["slo.yaml"].is_string(), "{inline}");
        let sts = kube
            .get(&ns.name, "statefulset/thanosrule-global")
            .expect("ruler StatefulSet");
        assert_eq!(sts["status"]["readyReplicas"], 2, "{}", cli.name);
        let args = args_of(&sts);
        for want in [
            "--rule-file=/etc/thanos/rules/*.yaml",
            "--rule-file=/etc/thanos/prometheus-rules/0/*.yaml",
            "--alert.label-drop=thanos_ruler_replica",
        ] {
            assert!(args.iter().any(|a| a == want), "{want}: {args:?}");
        }
        assert!(
            kube.get(&ns.name, "poddisruptionbudget/thanosrule-global")
                .is_some()
        );

        // A PrometheusRule added afterwards shows in the next plan, and the apply takes it.
        prometheus_rule(&kube, &work, &ns.name, "disk", "up{job=\"disk\"} == 0");
        let text = plan_text(&work, &cli, true);
        let key = format!("\"{}/disk\"", ns.name);
        assert!(
            text.contains(&key),
            "{}: {key} not in the plan:\n{text}",
            cli.name
        );
        apply_step(&work, &cli);
        let federated = kube
            .get(&ns.name, "configmap/thanosrule-global-prometheus-rules-0")
            .unwrap();
        assert!(
            federated["data"][format!("{}.disk.yaml", ns.name)].is_string(),
            "{federated}"
        );

        // A saved plan whose selection changed before the apply: the CLI re-plans before
        // applying, sees the selection differ from the saved plan and stops before anything
        // is written, naming the PrometheusRule whose rules changed; the next plan shows it.
        prometheus_rule(&kube, &work, &ns.name, "disk", "up{job=\"disk\"} == 1");
        work.run(
            &cli,
            &["plan", "-no-color", "-input=false", "-out=saved.tfplan"],
        )
        .success();
        prometheus_rule(&kube, &work, &ns.name, "disk", "up{job=\"disk\"} == 2");
        let run = work
            .run(
                &cli,
                &["apply", "-no-color", "-input=false", "saved.tfplan"],
            )
            .failure();
        let text = format!("{}{}", run.stdout(), run.stderr());
        let changed = format!(".prometheus_rules[\"{}/disk\"]", ns.name);
        assert!(
            text.contains("inconsistent final plan") && text.contains(&changed),
            "{}: {text}",
            cli.name
        );
        let federated = kube
            .get(&ns.name, "configmap/thanosrule-global-prometheus-rules-0")
            .unwrap();
        assert!(
            federated["data"][format!("{}.disk.yaml", ns.name)]
                .as_str()
                .is_some_and(|t| t.contains("== 0")),
            "{}: nothing may be written: {federated}",
            cli.name
        );
        apply_step(&work, &cli);
        let federated = kube
            .get(&ns.name, "configmap/thanosrule-global-prometheus-rules-0")
            .unwrap();
        assert!(
            federated["data"][format!("{}.disk.yaml", ns.name)]
                .as_str()
                .is_some_and(|t| t.contains("== 2")),
            "{federated}"
        );

        // Import into a fresh directory: the next plan is empty.
        let imported = Workdir::new("rule-import", &cli);
        imported.write("main.tf", &config);
        imported.init(&cli);
        imported
            .run(
                &cli,
                &[
                    "import",
                    "-no-color",
                    "-input=false",
                    "thanos_rule.global",
                    &format!("{}/global", ns.name),
                ],
            )
            .success();
        assert_empty_plans(&imported, &cli);

        // Destroy: nothing the resource created is left; the teams' PrometheusRules stay.
        work.run(
            &cli,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        )
        .success();
        let left = kube.owned(&ns.name);
        assert!(left.is_empty(), "{}: left behind: {left:?}", cli.name);
        assert!(kube.get(&ns.name, "prometheusrule/node").is_some());
    }
}
