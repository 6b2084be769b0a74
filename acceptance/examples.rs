//! Every example under `examples/` is validated and planned (offline) by every CLI, so the
//! documentation never shows a configuration that does not work.

use std::path::{Path, PathBuf};

use crate::harness::{Workdir, clis};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Values for the examples' variables that have none (the write-only keys of
/// `resources/thanos_storage`); the environment gives them as a user would.
const VARIABLES: &[(&str, &str)] = &[
    ("TF_VAR_s3_access_key", "AKIAEXAMPLE"),
    ("TF_VAR_s3_secret_key", "example-secret-key"),
];

fn plan(work: &Workdir, cli: &crate::harness::Cli) {
    work.init(cli);
    work.run(cli, &["validate", "-no-color"]).success();
    let run = work
        .run_env(
            cli,
            &["plan", "-no-color", "-input=false", "-lock=false"],
            VARIABLES,
        )
        .success();
    assert!(
        run.stdout().contains("to add"),
        "{}: {}",
        cli.name,
        run.stdout()
    );
}

#[test]
fn scenario_examples_validate_and_plan() {
    for scenario in [
        "quickstart",
        "multi-cluster",
        "long-term-storage",
        "multi-cluster-alerting",
        "workload-identity",
    ] {
        for cli in clis() {
            let work = Workdir::new(&format!("example-{scenario}"), &cli);
            work.copy_dir(&examples_dir().join(scenario));
            plan(&work, &cli);
        }
    }
}

#[test]
fn registry_resource_examples_validate_and_plan_with_the_provider_example() {
    let provider = std::fs::read_to_string(examples_dir().join("provider/provider.tf")).unwrap();
    for resource in [
        "thanos_query",
        "thanos_receive",
        "thanos_storage",
        "thanos_rule",
    ] {
        let dir = examples_dir().join("resources").join(resource);
        let text = std::fs::read_to_string(dir.join("resource.tf")).unwrap();
        let import = std::fs::read_to_string(dir.join("import.sh")).unwrap();
        assert!(
            import.contains(&format!("import {resource}.")),
            "{resource}/import.sh"
        );
        for cli in clis() {
            let work = Workdir::new(&format!("example-{resource}"), &cli);
            work.write("provider.tf", &provider);
            work.write("main.tf", &text);
            plan(&work, &cli);
        }
    }
}
