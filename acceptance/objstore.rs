//! `object_storage` with write-only keys, with the real CLIs on a real API server: the keys
//! reach the Secret the provider owns and nothing else (not the state, not `show -json`, not
//! a plan's output); a new key alone changes nothing; a new `credentials_wo_version` rewrites
//! the Secret and rolls the pods that read it; an import and a refresh judge the Secret
//! without the keys; an out-of-band edit of the file is drift that the next apply repairs.
//!
//! A CLI older than 1.11 (Terraform or OpenTofu) does not support write-only attributes: for
//! one, the test checks the provider's error instead.

use crate::cluster_support::{Kube, Namespace, kubeconfig};
use crate::harness::{Cli, REQUIRED_PROVIDERS, Run, Workdir, clis};

const ACCESS_KEY: &str = "AKIAACCEPTANCE7EXAMPLE";
const FIRST_SECRET: &str = "first-Secret-0f5b2c7d9e";
const SECOND_SECRET: &str = "second-Secret-8a1c3e5f7b";
const SECRET: &str = "thanosstorage-lts-objstore";

/// The version of a CLI as `(major, minor)`, from `version -json`.
fn version(work: &Workdir, cli: &Cli) -> (u64, u64) {
    let run = work.run(cli, &["version", "-json"]).success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).expect("version -json");
    let text = v["terraform_version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn config(kube: &Kube, ns: &str) -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "thanos" {{
  config_path = "{kubeconfig}"
}}

variable "access_key" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

variable "secret_key" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

variable "keys_version" {{
  type = number
}}

resource "thanos_storage" "lts" {{
  name      = "lts"
  namespace = "{ns}"
  object_storage {{
    prefix = "acceptance"
    s3 {{
      bucket                 = "thanos-metrics"
      endpoint               = "minio.minio.svc:9000"
      insecure               = true
      bucket_lookup_type     = "path"
      access_key_wo          = var.access_key
      secret_key_wo          = var.secret_key
      credentials_wo_version = var.keys_version
    }}
  }}
  gateway {{}}
}}
"#,
        kubeconfig = kube.kubeconfig().display()
    )
}

/// The variables as the environment gives them.
fn vars(secret: &str, version: i64) -> Vec<(&'static str, String)> {
    vec![
        ("TF_VAR_access_key", ACCESS_KEY.to_owned()),
        ("TF_VAR_secret_key", secret.to_owned()),
        ("TF_VAR_keys_version", version.to_string()),
    ]
}

fn run(work: &Workdir, cli: &Cli, args: &[&str], vars: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    work.run_env(cli, args, &env)
}

/// No credential anywhere in `text`.
#[track_caller]
fn assert_no_credential(what: &str, text: &str) {
    for c in [ACCESS_KEY, FIRST_SECRET, SECOND_SECRET] {
        assert!(!text.contains(c), "{what} contains a credential:\n{text}");
    }
}

/// Both plans (with and without refresh) are empty; neither output shows a credential.
#[track_caller]
fn assert_empty_plans(work: &Workdir, cli: &Cli, vars: &[(&'static str, String)]) {
    for extra in [&[][..], &["-refresh=false"][..]] {
        let mut args = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
        args.extend_from_slice(extra);
        let r = run(work, cli, &args, vars);
        let text = format!("{}{}", r.stdout(), r.stderr());
        assert_eq!(
            r.code(),
            Some(0),
            "{}: `{}` is not empty:\n{text}",
            cli.name,
            r.command
        );
        assert_no_credential("a plan", &text);
    }
}

/// The objstore file in the cluster (the Secret's data, decoded by kubectl).
fn live_file(kube: &Kube, ns: &str) -> String {
    kube.ok(&[
        "-n",
        ns,
        "get",
        "secret",
        SECRET,
        "-o",
        "go-template={{index .data \"objstore.yaml\" | base64decode}}",
    ])
}

fn config_hash(object: &serde_json::Value, template: bool) -> String {
    let meta = if template {
        &object["spec"]["template"]["metadata"]
    } else {
        &object["metadata"]
    };
    meta["annotations"]["thanos.paodin.io/config-hash"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn write_only_keys_rotate_by_version_and_never_reach_the_state() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let kube = Kube::new(kubeconfig);
    for cli in clis() {
        let ns = Namespace::new(&kube, "objstore", cli.name);
        let work = Workdir::new("objstore", &cli);
        work.write("main.tf", &config(&kube, &ns.name));
        work.init(&cli);
        let first = vars(FIRST_SECRET, 1);

        if version(&work, &cli) < (1, 11) {
            // This CLI would store the keys: the provider refuses them, saying which
            // versions support write-only attributes.
            let r = run(&work, &cli, &["plan", "-no-color", "-input=false"], &first).failure();
            let text = format!("{}{}", r.stdout(), r.stderr());
            assert!(
                text.contains("Write-only attribute not supported")
                    && text.contains("Terraform 1.11 and OpenTofu 1.11"),
                "{}: {text}",
                cli.name
            );
            assert_no_credential("the error", &text);
            continue;
        }

        // 1. Create: the keys are in the Secret, and nowhere in the state or the outputs.
        let applied = run(
            &work,
            &cli,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            &first,
        )
        .success();
        assert_no_credential(
            "the apply output",
            &format!("{}{}", applied.stdout(), applied.stderr()),
        );
        let file = live_file(&kube, &ns.name);
        assert!(
            file.contains(&format!("  access_key: \"{ACCESS_KEY}\"\n"))
                && file.contains(&format!("  secret_key: \"{FIRST_SECRET}\"\n"))
                && file.contains("prefix: \"acceptance\""),
            "{file}"
        );
        let state = work.read("terraform.tfstate");
        assert!(state.contains("thanosstorage-lts-objstore"), "{state}");
        assert_no_credential("the state file", &state);
        let show = run(&work, &cli, &["show", "-json"], &first).success();
        assert_no_credential("show -json", &show.stdout());
        let shown: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
        let s3 = &shown["values"]["root_module"]["resources"][0]["values"]["object_storage"]["s3"];
        assert_eq!(s3["bucket"], "thanos-metrics", "{shown}");
        assert_eq!(s3["secret_key_wo"], serde_json::Value::Null, "{s3}");
        assert_eq!(s3["credentials_wo_version"], 1, "{s3}");
        assert_empty_plans(&work, &cli, &first);
        let sts = kube
            .get(&ns.name, "statefulset/thanosstorage-lts-gateway")
            .unwrap();
        let hash_v1 = config_hash(&sts, true);
        assert!(!hash_v1.is_empty());

        // 2. A new key without a new version: Terraform cannot see it, nothing changes.
        let second_v1 = vars(SECOND_SECRET, 1);
        assert_empty_plans(&work, &cli, &second_v1);
        run(
            &work,
            &cli,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            &second_v1,
        )
        .success();
        assert!(live_file(&kube, &ns.name).contains(FIRST_SECRET));

        // 3. A new version: the Secret is rewritten and the gateway's pods roll.
        let second = vars(SECOND_SECRET, 2);
        let plan = run(
            &work,
            &cli,
            &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
            &second,
        );
        assert_eq!(plan.code(), Some(2), "{}", plan.stdout());
        assert_no_credential("the rotation plan", &plan.stdout());
        run(
            &work,
            &cli,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            &second,
        )
        .success();
        let file = live_file(&kube, &ns.name);
        assert!(
            file.contains(SECOND_SECRET) && !file.contains(FIRST_SECRET),
            "{file}"
        );
        let sts = kube
            .get(&ns.name, "statefulset/thanosstorage-lts-gateway")
            .unwrap();
        let hash_v2 = config_hash(&sts, true);
        assert_ne!(hash_v1, hash_v2, "the pod template did not change");
        let pod = kube
            .get(&ns.name, "pod/thanosstorage-lts-gateway-0")
            .expect("gateway pod");
        assert_eq!(config_hash(&pod, false), hash_v2, "the pod did not roll");
        assert_no_credential("the state file", &work.read("terraform.tfstate"));
        assert_empty_plans(&work, &cli, &second);

        // 4. Import into a fresh state: judged without the keys, the plan is empty.
        let imported = Workdir::new("objstore-import", &cli);
        imported.write("main.tf", &config(&kube, &ns.name));
        imported.init(&cli);
        run(
            &imported,
            &cli,
            &[
                "import",
                "-no-color",
                "-input=false",
                "thanos_storage.lts",
                &format!("{}/lts", ns.name),
            ],
            &second,
        )
        .success();
        assert_no_credential("the imported state", &imported.read("terraform.tfstate"));
        assert_empty_plans(&imported, &cli, &second);

        // 5. The file edited out of band (another bucket): drift, repaired by the next apply
        //    with the keys of the configuration.
        let edited = file.replace("thanos-metrics", "someone-elses-bucket");
        let patch = serde_json::json!({"stringData": {"objstore.yaml": edited}}).to_string();
        kube.ok(&[
            "-n",
            &ns.name,
            "patch",
            "secret",
            SECRET,
            "--type=merge",
            "-p",
            &patch,
        ]);
        let plan = run(
            &work,
            &cli,
            &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
            &second,
        );
        assert_eq!(
            plan.code(),
            Some(2),
            "the edit is not drift:\n{}",
            plan.stdout()
        );
        assert!(
            plan.stdout()
                .contains("changed in the cluster: /data/objstore.yaml"),
            "{}",
            plan.stdout()
        );
        run(
            &work,
            &cli,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
            &second,
        )
        .success();
        let file = live_file(&kube, &ns.name);
        assert!(
            file.contains("thanos-metrics") && file.contains(SECOND_SECRET),
            "{file}"
        );
        assert_empty_plans(&work, &cli, &second);

        // 6. Destroy: the Secret goes with the rest.
        run(
            &work,
            &cli,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
            &second,
        )
        .success();
        assert!(
            kube.owned(&ns.name).is_empty(),
            "{}: left behind: {:?}",
            cli.name,
            kube.owned(&ns.name)
        );
    }
}
