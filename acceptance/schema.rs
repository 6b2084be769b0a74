//! The provider as the CLIs see it before any cluster exists: installation from a filesystem
//! mirror with a lock file, the schema, validation diagnostics at the right line, and offline
//! planning.

use crate::harness::{REQUIRED_PROVIDERS, Workdir, clis};

#[test]
fn init_from_the_filesystem_mirror_records_the_provider_in_the_lock_file() {
    for cli in clis() {
        let work = Workdir::new("init", &cli);
        work.write(
            "main.tf",
            &format!("{REQUIRED_PROVIDERS}\nprovider \"thanos\" {{}}\n"),
        );
        work.init(&cli);
        let lock = work.read(".terraform.lock.hcl");
        assert!(
            lock.contains("/paodin/thanos\""),
            "{}: lock file:\n{lock}",
            cli.name
        );
        assert!(
            lock.contains("\"h1:"),
            "{}: lock file has no h1 hash:\n{lock}",
            cli.name
        );
    }
}

#[test]
fn providers_schema_lists_every_resource_with_descriptions() {
    for cli in clis() {
        let work = Workdir::new("schema", &cli);
        work.write("main.tf", REQUIRED_PROVIDERS);
        work.init(&cli);
        let run = work.run(&cli, &["providers", "schema", "-json"]).success();
        let schema: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        let providers = schema["provider_schemas"].as_object().unwrap();
        let (address, provider) = providers
            .iter()
            .find(|(k, _)| k.ends_with("/paodin/thanos"))
            .unwrap_or_else(|| panic!("{}: provider missing from {providers:?}", cli.name));
        let resources = provider["resource_schemas"].as_object().unwrap();
        let mut names: Vec<&String> = resources.keys().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "thanos_query",
                "thanos_receive",
                "thanos_rule",
                "thanos_storage"
            ],
            "{address}"
        );

        fn check(block: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
            for (name, attr) in block["attributes"].as_object().into_iter().flatten() {
                if attr["description"].as_str().unwrap_or("").is_empty() {
                    missing.push(format!("{at}.{name}"));
                }
            }
            for (name, nested) in block["block_types"].as_object().into_iter().flatten() {
                check(&nested["block"], &format!("{at}.{name}"), missing);
            }
        }
        let mut missing = Vec::new();
        check(&provider["provider"]["block"], "provider", &mut missing);
        for (name, resource) in resources {
            check(&resource["block"], name, &mut missing);
        }
        assert!(
            missing.is_empty(),
            "{}: no description: {missing:?}",
            cli.name
        );
    }
}

#[test]
fn validate_points_at_the_line_of_an_invalid_value() {
    for cli in clis() {
        let work = Workdir::new("validate", &cli);
        work.write(
            "main.tf",
            &format!(
                r#"{REQUIRED_PROVIDERS}
resource "thanos_receive" "router" {{
  name = "router"

  router {{
    replication_factor = 0
    soft_tenant_hashring {{
      name = "soft"
    }}
  }}
}}
"#
            ),
        );
        work.init(&cli);
        let run = work.run(&cli, &["validate", "-no-color"]).failure();
        let text = format!("{}{}", run.stdout(), run.stderr());
        assert!(
            text.contains("Invalid value for replication_factor"),
            "{}: {text}",
            cli.name
        );
        assert!(text.contains("main.tf line 13"), "{}: {text}", cli.name);
        assert!(
            text.contains("replication_factor = 0"),
            "{}: {text}",
            cli.name
        );
    }
}

#[test]
fn plan_works_offline_with_an_empty_provider_block() {
    for cli in clis() {
        let work = Workdir::new("offline-plan", &cli);
        work.write(
            "main.tf",
            &format!(
                r#"{REQUIRED_PROVIDERS}
provider "thanos" {{}}

resource "thanos_query" "sample" {{
  name   = "sample"
  stores = [{{ address = "dnssrvnoa+_grpc._tcp.thanosreceive-ingestor-operated" }}]
}}
"#
            ),
        );
        work.init(&cli);
        let run = work
            .run(&cli, &["plan", "-no-color", "-input=false"])
            .success();
        let out = run.stdout();
        assert!(
            out.contains("thanos_query.sample will be created"),
            "{}: {out}",
            cli.name
        );
        assert!(
            out.contains("id  ") && out.contains("\"default/sample\""),
            "{}: {out}",
            cli.name
        );
    }
}

/// `--debug` serves without Terraform and prints `TF_REATTACH_PROVIDERS`; both CLIs attach to
/// the one running process (for attaching a debugger), and Ctrl-C stops it.
#[test]
fn debug_mode_serves_both_clis_through_tf_reattach_providers() {
    use std::io::BufRead as _;
    let mut provider = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-thanos"))
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = provider.stdout.take().unwrap();
    let reattach = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.trim()
                .strip_prefix("TF_REATTACH_PROVIDERS='")
                .and_then(|rest| rest.strip_suffix('\''))
                .map(str::to_owned)
        })
        .expect("debug mode prints TF_REATTACH_PROVIDERS");
    for cli in clis() {
        let work = Workdir::new("debug", &cli);
        work.write(
            "main.tf",
            &format!(
                "{REQUIRED_PROVIDERS}\nresource \"thanos_query\" \"q\" {{\n  name = \"q\"\n}}\n"
            ),
        );
        let env = [("TF_REATTACH_PROVIDERS", reattach.as_str())];
        work.run_env(&cli, &["init", "-no-color", "-input=false"], &env)
            .success();
        let plan = work
            .run_env(&cli, &["plan", "-no-color", "-input=false"], &env)
            .success();
        assert!(
            plan.stdout().contains("1 to add"),
            "{}: {}",
            cli.name,
            plan.stdout()
        );
    }
    // In debug mode Ctrl-C is how the developer stops the provider.
    std::process::Command::new("kill")
        .args(["-INT", &provider.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = provider.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the debug provider ignored Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
