//! The real Envoy checks every Envoy configuration we render: `envoy --mode validate` (the
//! release the provider's default image runs) with the rendered sidecar's own arguments, the
//! ConfigMap's files at their mount path and real PEM files at every path they name, so a
//! configuration Envoy would refuse fails here, not in a rollout.
//!
//! The bootstrap reads its listeners and clusters from the LDS and CDS files through path
//! config sources, which `--mode validate` never subscribes to: validating the bootstrap alone
//! loads 0 listeners and 0 clusters. So each configuration is validated twice: the bootstrap as
//! rendered (its own fields, the watched files present), and the same bootstrap with the LDS
//! and CDS resources inlined as static resources (the only change: each resource loses the
//! `@type` that a discovery response needs and a static resource refuses), which makes Envoy
//! build every listener, route, cluster and TLS context, read every certificate and check
//! every route's cluster. Envoy's "loading N listener(s)" and "loading N cluster(s)" lines
//! prove it loaded them all.
//!
//! The `envoy` binary comes from `scripts/tools.sh` (version checked against the default
//! image); without it the tests print why and pass, except under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::Container;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use terraform_provider_thanos::resources::query::Query;
use thanos_render::{Object, Rendered, envoy, query};

use crate::support::*;

/// The envoy binary, checked to be the default image's release; `None` (with the reason
/// printed) when it is not installed, a failure under CI.
fn envoy_binary() -> Option<PathBuf> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/tools.sh"))
        .args(["path", "envoy"])
        .output()
        .expect("run scripts/tools.sh");
    if !out.status.success() {
        let why = format!(
            "the envoy binary is not installed ({}); run `scripts/tools.sh install envoy` (or `make tools`)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let bin = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let version = Command::new(&bin).arg("--version").output().unwrap();
    let tag = envoy::DEFAULT_ENVOY_IMAGE.rsplit_once(":v").unwrap().1;
    assert!(
        String::from_utf8_lossy(&version.stdout).contains(&format!("/{tag}/")),
        "{} is not Envoy {tag}",
        bin.display()
    );
    Some(bin)
}

/// Every query configuration that renders an envoy sidecar: the fixtures, and stores reached
/// by IP (a STATIC cluster) with an IP server name (no SNI, an IP SAN).
fn envoy_queries() -> Vec<(String, Rendered)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/render/fixtures");
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    for name in names {
        let json = fixture_json(&name);
        if json.get("stores").is_none() {
            continue;
        }
        let rendered = query::render(&spec::<Query>(json), &ctx()).unwrap();
        out.push((name, rendered));
    }
    let by_ip = spec::<Query>(serde_json::json!({
        "name": "by-ip",
        "tls_mode": "envoy",
        "stores": [
            {"address": "10.0.0.8:443", "secret_name": "ip-ca", "server_name": "10.0.0.8"},
            {"address": "[fd00::9]:10901", "secret_name": "ip-ca", "client_secret_name": "client", "strict": true},
        ],
    }));
    out.push(("by-ip".into(), query::render(&by_ip, &ctx()).unwrap()));
    out.retain(|(_, r)| {
        r.objects
            .iter()
            .any(|o| o.kind() == "ConfigMap" && o.name().ends_with("-envoy"))
    });
    out
}

/// A rendered sidecar laid out in a directory: its files, and the args it is run with.
struct Sidecar {
    _dir: tempfile::TempDir,
    root: PathBuf,
    args: Vec<String>,
    listeners: usize,
    clusters: usize,
}

impl Sidecar {
    /// Writes the envoy ConfigMap's files and, for every path they name under a Secret mount
    /// of the sidecar, a real PEM file (a CA for a CA key, a client certificate and its key for
    /// `tls.crt`/`tls.key`); paths are moved under the directory.
    fn new(rendered: &Rendered) -> Sidecar {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let (deployment, config_map) = (
            rendered
                .objects
                .iter()
                .find(|o| o.kind() == "Deployment")
                .unwrap(),
            rendered
                .objects
                .iter()
                .find(|o| o.kind() == "ConfigMap" && o.name().ends_with("-envoy"))
                .unwrap(),
        );
        let Object::Deployment(d) = deployment else {
            unreachable!()
        };
        let pod = d.spec.clone().unwrap().template.spec.unwrap();
        let container: &Container = pod
            .containers
            .iter()
            .find(|c| c.name == "envoy-sidecar")
            .expect("the sidecar container");
        let secret_mounts: Vec<String> = container
            .volume_mounts
            .iter()
            .flatten()
            .filter(|m| {
                pod.volumes
                    .iter()
                    .flatten()
                    .any(|v| v.name == m.name && v.secret.is_some())
            })
            .map(|m| m.mount_path.clone())
            .collect();
        let Object::ConfigMap(cm) = config_map else {
            unreachable!()
        };
        let data = cm.data.clone().unwrap();
        let local = |p: &str| root.join(p.trim_start_matches('/'));
        let ca = ca_pem();
        let (client_crt, client_key) = client_pair();
        let mut counts = (0, 0);
        for (key, text) in &data {
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            for file in strings(&v)
                .into_iter()
                .filter(|s| s.starts_with(envoy::SECRETS_DIR))
            {
                let dir = Path::new(&file)
                    .parent()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(
                    secret_mounts.contains(&dir),
                    "{file} is not in a Secret mounted into the sidecar ({secret_mounts:?})"
                );
                let content = match file.rsplit('/').next().unwrap() {
                    "tls.crt" => &client_crt,
                    "tls.key" => &client_key,
                    _ => &ca,
                };
                std::fs::create_dir_all(local(&dir)).unwrap();
                std::fs::write(local(&file), content).unwrap();
            }
            relocate(&mut v, &root);
            if key == envoy::LDS_KEY {
                counts.0 = v["resources"].as_array().unwrap().len();
            }
            if key == envoy::CDS_KEY {
                counts.1 = v["resources"].as_array().unwrap().len();
            }
            let path = local(&format!("{}/{key}", envoy::CONFIG_DIR));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        }
        let args = container
            .args
            .clone()
            .unwrap()
            .into_iter()
            .map(|a| {
                if a.starts_with('/') {
                    local(&a).display().to_string()
                } else {
                    a
                }
            })
            .collect();
        Sidecar {
            _dir: dir,
            root,
            args,
            listeners: counts.0,
            clusters: counts.1,
        }
    }

    fn file(&self, key: &str) -> PathBuf {
        self.root
            .join(envoy::CONFIG_DIR.trim_start_matches('/'))
            .join(key)
    }

    /// The bootstrap with the LDS and CDS resources inlined as static resources; returns its
    /// path.
    fn inline(&self) -> PathBuf {
        let read = |key: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(self.file(key)).unwrap()).unwrap()
        };
        let mut boot = read(envoy::BOOTSTRAP_KEY);
        let statics = |key: &str| -> Vec<serde_json::Value> {
            read(key)["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.as_object_mut().unwrap().remove("@type");
                    r
                })
                .collect()
        };
        boot.as_object_mut().unwrap().remove("dynamic_resources");
        boot["static_resources"] = serde_json::json!({
            "listeners": statics(envoy::LDS_KEY),
            "clusters": statics(envoy::CDS_KEY),
        });
        let path = self.root.join("inlined.json");
        std::fs::write(&path, serde_json::to_string_pretty(&boot).unwrap()).unwrap();
        path
    }

    /// `envoy --mode validate` with the rendered args, `-c` pointing at `config`: Envoy's
    /// verdict and its output.
    fn validate(&self, bin: &Path, config: &Path) -> (bool, String) {
        let mut args = self.args.clone();
        let c = args.iter().position(|a| a == "-c").expect("-c");
        args[c + 1] = config.display().to_string();
        let out = Command::new(bin)
            .args(&args)
            .args(["--mode", "validate"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }
}

/// Every string in a JSON value.
fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::Object(m) => m.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Moves every absolute path of the sidecar's mounts under `root`.
fn relocate(v: &mut serde_json::Value, root: &Path) {
    match v {
        serde_json::Value::String(s)
            if s.starts_with(envoy::CONFIG_DIR) || s.starts_with(envoy::SECRETS_DIR) =>
        {
            *s = root.join(s.trim_start_matches('/')).display().to_string();
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|e| relocate(e, root)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|e| relocate(e, root)),
        _ => {}
    }
}

fn ca_pem() -> String {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "validate-ca");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.self_signed(&KeyPair::generate().unwrap()).unwrap().pem()
}

fn client_pair() -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["query.test".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

#[track_caller]
fn assert_loaded(text: &str, what: &str, n: usize) {
    assert!(
        text.contains(&format!("loading {n} {what}(s)")),
        "Envoy did not load {n} {what}(s):\n{text}"
    );
}

#[test]
fn envoy_accepts_every_rendered_configuration() {
    let Some(bin) = envoy_binary() else { return };
    let queries = envoy_queries();
    assert!(
        queries.len() >= 3,
        "{:?}",
        queries.iter().map(|q| &q.0).collect::<Vec<_>>()
    );
    for (name, rendered) in &queries {
        let sidecar = Sidecar::new(rendered);
        assert!(sidecar.listeners > 0 && sidecar.listeners == sidecar.clusters);
        let (ok, text) = sidecar.validate(&bin, &sidecar.file(envoy::BOOTSTRAP_KEY));
        assert!(ok, "{name}: Envoy refuses the rendered bootstrap:\n{text}");
        let (ok, text) = sidecar.validate(&bin, &sidecar.inline());
        assert!(
            ok,
            "{name}: Envoy refuses the rendered listeners or clusters:\n{text}"
        );
        assert_loaded(&text, "listener", sidecar.listeners);
        assert_loaded(&text, "cluster", sidecar.clusters);
    }
}

/// A change to one rendered file, and what Envoy says about it.
struct Breakage {
    key: &'static str,
    what: &'static str,
    change: fn(&mut serde_json::Value),
    says: &'static str,
}

/// The check can fail: configurations that Envoy's protobuf schema (our own render-time check)
/// accepts but Envoy refuses, and a CA file that is not a certificate.
#[test]
fn envoy_refuses_a_broken_configuration() {
    let Some(bin) = envoy_binary() else { return };
    let rendered = query::render(&query("usage_mode1_query"), &ctx()).unwrap();
    let sidecar = Sidecar::new(&rendered);

    // Each change passes the schema check the renderer makes, and Envoy refuses it.
    let rendered_file = |key: &str| config_map_data(&rendered, "thanosquery-sample-envoy", key);
    let broken = [
        Breakage {
            key: envoy::LDS_KEY,
            what: "a route to a cluster that does not exist",
            change: |v| {
                v["resources"][0]["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
                    ["virtual_hosts"][0]["routes"][0]["route"]["cluster"] = "nowhere".into();
            },
            says: "unknown cluster 'nowhere'",
        },
        Breakage {
            key: envoy::CDS_KEY,
            what: "a connect timeout of zero (a constraint of Envoy's own validation rules)",
            change: |v| v["resources"][0]["connect_timeout"] = "0s".into(),
            says: "ConnectTimeout",
        },
    ];
    for Breakage {
        key,
        what,
        change,
        says,
    } in broken
    {
        let mut files = envoy::EnvoyFiles {
            bootstrap: rendered_file(envoy::BOOTSTRAP_KEY),
            lds: rendered_file(envoy::LDS_KEY),
            cds: rendered_file(envoy::CDS_KEY),
        };
        let text = if key == envoy::LDS_KEY {
            &mut files.lds
        } else {
            &mut files.cds
        };
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        change(&mut v);
        *text = v.to_string();
        envoy::validate_files(&files)
            .unwrap_or_else(|e| panic!("{what}: the schema check refuses it already: {e}"));
        let path = sidecar.file(key);
        let good = std::fs::read_to_string(&path).unwrap();
        let mut local: serde_json::Value = serde_json::from_str(&good).unwrap();
        change(&mut local);
        std::fs::write(&path, local.to_string()).unwrap();
        let (ok, text) = sidecar.validate(&bin, &sidecar.inline());
        assert!(!ok && text.contains(says), "{what} was accepted:\n{text}");
        std::fs::write(&path, good).unwrap();
    }
    let (ok, text) = sidecar.validate(&bin, &sidecar.inline());
    assert!(ok, "{text}");

    let cds = sidecar.file(envoy::CDS_KEY);
    // A CA file that holds no certificate.
    let ca = strings(&serde_json::from_str(&std::fs::read_to_string(&cds).unwrap()).unwrap())
        .into_iter()
        .find(|s| s.ends_with("/ca.crt"))
        .unwrap();
    std::fs::write(&ca, "not a certificate").unwrap();
    let (ok, text) = sidecar.validate(&bin, &sidecar.inline());
    assert!(
        !ok && text.contains("Failed to load trusted CA certificates"),
        "{text}"
    );
}
