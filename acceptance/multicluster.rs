//! `examples/multi-cluster` as written, applied across two real API servers: the member stack
//! in the second cluster (`THANOS_TEST_KUBECONFIG_B`), the host stack in the first, wired
//! through the member module's outputs. With each CLI: the TLS preflight refuses the plan
//! while the host lacks the member's CA Secret, then warns about a CA that expires soon;
//! apply, objects checked in both clusters (and absent from the other), empty plans; the host
//! query switched to the envoy sidecar in place; destroy leaves nothing in either cluster but
//! the ingestors' claims, which are retained by default.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::cluster_support::{Kube, Namespace, kubeconfig, kubeconfig_b};
use crate::harness::{Cli, Workdir, clis};
use crate::lifecycle::{apply_step, assert_empty_plans};

fn example_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/multi-cluster"
    ))
}

/// A CA certificate (PEM) that expires `days` from now.
pub(crate) fn ca_expiring_in(days: u64) -> String {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "member-ca");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let until = SystemTime::now() + Duration::from_secs(days * 24 * 3600);
    p.not_after = time::OffsetDateTime::from(until);
    p.self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

/// The host's `member-ca` Secret holds `pem` (replacing what it held).
pub(crate) fn set_member_ca(host: &Kube, ns: &str, work: &Workdir, pem: &str) {
    let file = work.dir.join("member-ca.crt");
    std::fs::write(&file, pem).unwrap();
    let _ = host.run(&["-n", ns, "delete", "secret", "member-ca"]);
    host.ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "member-ca",
        &format!("--from-file=ca.crt={}", file.display()),
    ]);
}

fn tfvars(host: &Kube, member: &Kube, ns: &str, tls_mode: &str) -> String {
    format!(
        "host_kubeconfig   = \"{}\"\nmember_kubeconfig = \"{}\"\nnamespace         = \"{ns}\"\ntls_mode          = \"{tls_mode}\"\n",
        host.kubeconfig().display(),
        member.kubeconfig().display()
    )
}

/// `Kind ns/name` lines of an output, as kubectl `kind/name` arguments.
fn output_objects(work: &Workdir, cli: &Cli, output: &str) -> Vec<String> {
    let run = work
        .run(cli, &["output", "-no-color", "-json", output])
        .success();
    let list: Vec<String> = serde_json::from_str(&run.stdout()).unwrap();
    list.iter()
        .map(|line| {
            let (kind, rest) = line.split_once(' ').unwrap();
            let name = rest.split_once('/').unwrap().1;
            format!("{}/{name}", kind.to_lowercase())
        })
        .collect()
}

#[track_caller]
fn exists(kube: &Kube, ns: &str, object: &str) -> serde_json::Value {
    kube.get(ns, object)
        .unwrap_or_else(|| panic!("{object} is missing from namespace {ns}"))
}

#[test]
fn multi_cluster_example_across_two_clusters() {
    let (Some(host_config), Some(member_config)) = (kubeconfig(), kubeconfig_b()) else {
        return;
    };
    let (host, member) = (Kube::new(host_config), Kube::new(member_config));
    for cli in clis() {
        let host_ns = Namespace::new(&host, "multicluster", cli.name);
        let member_ns = Namespace::new(&member, "multicluster", cli.name);
        assert_eq!(host_ns.name, member_ns.name);
        let ns = host_ns.name.as_str();
        let work = Workdir::new("multicluster", &cli);
        work.copy_dir(example_dir());
        work.write("terraform.tfvars", &tfvars(&host, &member, ns, "native"));
        work.init(&cli);

        // The preflight: no CA Secret in the host cluster yet, so the plan stops at the store.
        let plan = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .failure();
        let text = plan.stderr();
        assert!(
            text.contains("TLS Secret not found")
                && text.contains(&format!("Secret {ns}/member-ca"))
                && text.contains("module.host.thanos_query.global"),
            "{}: {text}",
            cli.name
        );
        // A CA that expires in ten days: a warning with the date, not an error.
        set_member_ca(&host, ns, &work, &ca_expiring_in(10));
        let plan = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .success();
        let text = format!("{}{}", plan.stdout(), plan.stderr());
        assert!(
            text.contains("CA certificate expires soon"),
            "{}: {text}",
            cli.name
        );
        set_member_ca(&host, ns, &work, &ca_expiring_in(365));

        apply_step(&work, &cli);

        // Each stack in its own cluster, and only there.
        for object in output_objects(&work, &cli, "member_objects") {
            exists(&member, ns, &object);
        }
        for object in output_objects(&work, &cli, "host_objects") {
            exists(&host, ns, &object);
        }
        assert!(member.get(ns, "deployment/thanosquery-global").is_none());
        assert!(host.get(ns, "deployment/thanosquery-member").is_none());
        let ingress = exists(&member, ns, "ingress/thanosquery-member-grpc");
        assert_eq!(
            ingress["spec"]["rules"][0]["host"],
            "store.member.example.com"
        );
        // The host's query reaches the member natively: strict, with the CA at the mount.
        let endpoints = exists(&host, ns, "configmap/thanosquery-global-store-sd");
        let config: serde_json::Value =
            serde_json::from_str(endpoints["data"]["endpoints.yaml"].as_str().unwrap()).unwrap();
        let to_member = config["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["address"] == "store.member.example.com:443")
            .unwrap_or_else(|| panic!("{config}"));
        assert_eq!(to_member["strict"], true);
        assert_eq!(
            to_member["client_config"]["tls_config"]["ca_file"],
            "/etc/thanos-tls/member-ca/ca.crt"
        );
        let query = exists(&host, ns, "deployment/thanosquery-global");
        assert_eq!(query["status"]["readyReplicas"], 2, "{}", cli.name);
        assert_eq!(
            query["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(host.get(ns, "configmap/thanosquery-global-envoy").is_none());

        // Switching the host query to the sidecar: an in-place update whose plan shows the
        // sidecar's ConfigMap coming.
        work.write("terraform.tfvars", &tfvars(&host, &member, ns, "envoy"));
        let plan = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .success();
        let text = plan.stdout();
        assert!(
            text.contains("module.host.thanos_query.global will be updated in-place")
                && text.contains("\"native\" -> \"envoy\"")
                && text.contains("thanosquery-global-envoy")
                && text.contains("0 to add, 1 to change, 0 to destroy"),
            "{}: {text}",
            cli.name
        );
        apply_step(&work, &cli);
        exists(&host, ns, "configmap/thanosquery-global-envoy");
        let query = exists(&host, ns, "deployment/thanosquery-global");
        let containers = query["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers[1]["name"], "envoy-sidecar", "{}", cli.name);
        assert_empty_plans(&work, &cli);

        // Destroy: nothing left in either cluster but the retained claims.
        work.run(
            &cli,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        )
        .success();
        for (kube, what) in [(&host, "host"), (&member, "member")] {
            let left: Vec<String> = kube.owned(ns);
            let (claims, rest): (Vec<_>, Vec<_>) = left
                .into_iter()
                .partition(|n| n.starts_with("persistentvolumeclaim/"));
            assert!(
                rest.is_empty(),
                "{}: left in the {what} cluster: {rest:?}",
                cli.name
            );
            assert!(
                claims
                    .iter()
                    .all(|c| c.contains("thanosreceive-ingestor-tsdb-thanosreceive-ingestor-")),
                "{}: claims left in the {what} cluster: {claims:?}",
                cli.name
            );
        }
    }
}
