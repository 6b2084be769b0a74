//! Offline plans (no cluster): what rendering lets a plan show before anything exists.

use crate::harness::{REQUIRED_PROVIDERS, Workdir, clis};

/// The seed quickstart with typed wiring: the router's ring takes the ingestor's
/// `ingestor_endpoints`, so the plan already shows the ring's members.
const QUICKSTART: &str = r#"
resource "thanos_receive" "ingestor" {
  name     = "ingestor"
  replicas = 2
  ingestor {
    data_volume {
      pvc {
        size = "5Gi"
      }
    }
  }
}

resource "thanos_receive" "router" {
  name     = "router"
  replicas = 2
  router {
    soft_tenant_hashring {
      name      = "test"
      endpoints = thanos_receive.ingestor.ingestor_endpoints
    }
  }
}

resource "thanos_query" "sample" {
  name   = "sample"
  stores = [{ address = thanos_receive.ingestor.store_endpoint }]
}
"#;

fn planned_values(work: &Workdir, cli: &crate::harness::Cli) -> serde_json::Value {
    work.run(cli, &["plan", "-no-color", "-input=false", "-out=plan.bin"])
        .success();
    let show = work.run(cli, &["show", "-json", "plan.bin"]).success();
    let plan: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    plan["planned_values"]["root_module"]["resources"].clone()
}

fn resource<'a>(resources: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    resources
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} not planned"))
}

/// The plugin's TCP listener (what Windows gets, where there are no Unix sockets), forced on
/// here: the CLI connects over TCP loopback with mTLS and plans as over the Unix socket.
#[test]
fn the_plugin_served_over_tcp_as_on_windows_plans_the_same() {
    for cli in clis() {
        let work = Workdir::new("tcp-plan", &cli);
        work.write("main.tf", &format!("{REQUIRED_PROVIDERS}{QUICKSTART}"));
        work.init(&cli);
        let tcp = [("TF_THANOS_PLUGIN_NETWORK", "tcp"), ("TF_LOG", "debug")];
        let plan = work
            .run_env(&cli, &["plan", "-no-color", "-input=false"], &tcp)
            .success();
        let log = plan.stderr();
        assert!(
            log.contains("network=tcp") && log.contains("address=127.0.0.1:"),
            "{}: the provider must have been reached over TCP loopback:\n{log}",
            cli.name
        );
        assert!(!log.contains("network=unix"), "{}: {log}", cli.name);
        assert!(
            plan.stdout()
                .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
            "{}: {}",
            cli.name,
            plan.stdout()
        );
    }
}

#[test]
fn quickstart_plan_shows_the_hashring_and_every_object() {
    for cli in clis() {
        let work = Workdir::new("quickstart-plan", &cli);
        work.write("main.tf", &format!("{REQUIRED_PROVIDERS}{QUICKSTART}"));
        work.init(&cli);
        let resources = planned_values(&work, &cli);
        let router = &resource(&resources, "thanos_receive.router")["values"];
        let ring = &router["hashrings"][0];
        assert_eq!(ring["name"], "test", "{}: {router}", cli.name);
        assert_eq!(
            ring["endpoints"],
            serde_json::json!([
                "thanosreceive-ingestor-0.thanosreceive-ingestor-operated.default.svc:10901",
                "thanosreceive-ingestor-1.thanosreceive-ingestor-operated.default.svc:10901",
            ]),
            "{}",
            cli.name
        );
        let ingestor = &resource(&resources, "thanos_receive.ingestor")["values"];
        let kinds: Vec<String> = ingestor["objects"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: objects is a map: {ingestor}", cli.name))
            .keys()
            .cloned()
            .collect();
        assert!(
            kinds.contains(&"StatefulSet/thanosreceive-ingestor".to_string()),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&"Service/thanosreceive-ingestor-operated".to_string()),
            "{kinds:?}"
        );
        let query = &resource(&resources, "thanos_query.sample")["values"];
        assert_eq!(
            query["grpc_endpoint"],
            "thanosquery-sample-operated.default.svc:10901"
        );
    }
}

#[test]
fn a_hard_hashring_without_tenants_is_an_error_at_its_block() {
    for cli in clis() {
        let work = Workdir::new("hard-ring-plan", &cli);
        work.write(
            "main.tf",
            &format!(
                r#"{REQUIRED_PROVIDERS}
resource "thanos_receive" "router" {{
  name = "router"
  router {{
    hard_tenant_hashrings {{
      name      = "team-a"
      endpoints = ["a-0:10901"]
    }}
    soft_tenant_hashring {{
      name      = "rest"
      endpoints = ["b-0:10901"]
    }}
  }}
}}
"#
            ),
        );
        work.init(&cli);
        let run = work.run(&cli, &["validate", "-no-color"]).failure();
        let text = format!("{}{}", run.stdout(), run.stderr());
        assert!(text.contains("tenants"), "{}: {text}", cli.name);
        assert!(
            text.contains("main.tf line 12"),
            "{}: the hard ring block starts on line 12: {text}",
            cli.name
        );
    }
}
