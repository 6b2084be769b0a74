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
fn providers_schema_lists_the_three_resources_with_descriptions() {
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
            ["thanos_query", "thanos_receive", "thanos_storage"],
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
