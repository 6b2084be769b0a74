//! The query frontend of a `thanos_query` (its `frontend` block): a `thanos query-frontend`
//! Deployment and headless Service in front of the querier. It splits long range queries into
//! intervals run in parallel, retries failed ones and caches their results; with it, the
//! query's `http_url` and HTTP Ingress serve the frontend, which sends every request it cannot
//! answer from its cache to the querier's own Service.
//!
//! Flags (all from `cmd/thanos/query_frontend.go` and `pkg/queryfrontend/config.go`, Thanos
//! v0.42.5):
//! - `--query-frontend.downstream-url`: the querier's HTTP URL. Its Service is headless, so
//!   each new connection resolves the name to the querier pods (the cluster DNS shuffles them);
//! - `--query-range.split-interval` (Go duration; Thanos refuses 0 with a results cache);
//! - `--query-range.max-retries-per-request`, `--query.max-retries-per-request` and
//!   `--labels.max-retries-per-request`: one `max_retries` for range, instant and label
//!   requests;
//! - `--query-range.response-cache-config`: the cache configuration inline (`NewCacheConfig`
//!   reads `type` IN-MEMORY, MEMCACHED or REDIS and its `config`; IN-MEMORY's `max_size` is
//!   parsed by go-humanize, e.g. `256MB`, `1GiB`);
//! - `--query-frontend.downstream-tripper-config`: inline, `response_header_timeout` (a
//!   Prometheus duration, `DownstreamTripperConfig`): how long the frontend waits for the
//!   querier's answer to begin.
//!
//! Its selector labels name another component (`thanosquery-frontend`), so the querier's
//! Service, which selects `thanosquery`, never sends the querier's traffic to a frontend pod.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;

use crate::args::{self, Denied};
use crate::common::{self, Common, RenderContext, Resources};
use crate::meta::{self, COMPONENT, HTTP_PORT, INSTANCE, Kind};
use crate::object::Object;
use crate::workload::{self, ThanosContainer};

/// A validated `frontend` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    pub replicas: i32,
    pub resources: Resources,
    /// Go duration; `None`: Thanos's default (24h).
    pub split_interval: Option<String>,
    /// `None`: Thanos's default (5).
    pub max_retries: Option<i64>,
    pub results_cache: ResultsCache,
    /// Prometheus duration; `None`: no limit beyond the querier's own `--query.timeout`.
    pub downstream_timeout: Option<String>,
    /// `query-frontend` flags (the resource's `extra_args` are the querier's).
    pub extra_args: Vec<String>,
}

/// Where the frontend caches query results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultsCache {
    /// In the frontend's memory, at most `max_size` (go-humanize bytes, `256MB`).
    InMemory { max_size: String },
    /// A Thanos response cache configuration (YAML), as written.
    Config(String),
}

/// The in-memory cache of a `frontend` block without `results_cache`.
pub const DEFAULT_CACHE_SIZE: &str = "256MB";

impl Default for ResultsCache {
    fn default() -> Self {
        ResultsCache::InMemory {
            max_size: DEFAULT_CACHE_SIZE.to_owned(),
        }
    }
}

/// The response cache types Thanos knows (`ResponseCacheProvider`, matched case-insensitively).
pub const CACHE_TYPES: &[&str] = &["IN-MEMORY", "MEMCACHED", "REDIS"];

/// Checks a response cache configuration as Thanos's `NewCacheConfig` starts reading it: one
/// YAML document, a mapping with a known `type` and, if any, a `config` mapping, nothing else
/// (it is decoded strictly). What the `config` of each type holds is left to Thanos (a
/// mistake there makes the frontend exit at start, which the apply reports).
pub fn check_cache_config(text: &str) -> Result<(), String> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let [Yaml::Hash(map)] = docs.as_slice() else {
        return Err("must be one YAML mapping with `type` and `config`, e.g. yamlencode({ type = \"MEMCACHED\", config = { addresses = [\"dnssrv+_client._tcp.memcached.monitoring.svc\"] } })".into());
    };
    for (k, v) in map {
        match k.as_str() {
            Some("type") => {
                let t = v.as_str().unwrap_or_default();
                if !CACHE_TYPES.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                    return Err(format!("type {t:?} is not one of {CACHE_TYPES:?}"));
                }
            }
            Some("config") => {
                if !matches!(v, Yaml::Hash(_) | Yaml::Null) {
                    return Err("config must be a mapping (the settings of the cache type)".into());
                }
            }
            other => {
                return Err(format!(
                    "unknown field {:?}: a cache configuration has only `type` and `config`",
                    other.unwrap_or("(not a string)")
                ));
            }
        }
    }
    if !map.contains_key(&Yaml::String("type".into())) {
        return Err(format!("type must be set, one of {CACHE_TYPES:?}"));
    }
    Ok(())
}

/// The component label of the frontend's pods and objects.
pub const COMPONENT_NAME: &str = "thanosquery-frontend";

/// Object names.
pub fn deployment_name(name: &str) -> String {
    format!("thanosquery-{name}-frontend")
}
pub fn service_name(name: &str) -> String {
    format!("thanosquery-{name}-frontend-operated")
}

/// The frontend's HTTP URL inside the cluster: the query's `http_url` when it has one.
pub fn http_url(name: &str, namespace: &str) -> String {
    format!("http://{}.{namespace}.svc:{HTTP_PORT}", service_name(name))
}

/// Flags of the frontend container that `frontend.extra_args` may not set, besides
/// [`args::DENY_ALWAYS`].
pub const DENY_FRONTEND: &[Denied] = &[
    Denied {
        flag: "--query-frontend.downstream-url",
        why: "the frontend's downstream is this resource's querier",
    },
    Denied {
        flag: "--query-range.response-cache-config",
        why: "the results cache is configured by frontend.results_cache",
    },
    Denied {
        flag: "--query-range.response-cache-config-file",
        why: "the results cache is configured by frontend.results_cache",
    },
];

/// Also denied when `downstream_timeout` is set, which renders the tripper configuration.
pub const DENY_FRONTEND_TIMEOUT: &[Denied] = &[
    Denied {
        flag: "--query-frontend.downstream-tripper-config",
        why: "downstream_timeout is rendered into it; set the timeout there, or remove downstream_timeout to configure the tripper yourself",
    },
    Denied {
        flag: "--query-frontend.downstream-tripper-config-file",
        why: "downstream_timeout is rendered into --query-frontend.downstream-tripper-config (Thanos refuses both); remove downstream_timeout to configure the tripper yourself",
    },
];

/// The fixed selector labels of the frontend's pods.
pub fn selector_labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (COMPONENT.to_owned(), COMPONENT_NAME.to_owned()),
        (INSTANCE.to_owned(), name.to_owned()),
    ])
}

/// The response cache configuration the frontend gets (`--query-range.response-cache-config`).
pub fn cache_config(cache: &ResultsCache) -> String {
    match cache {
        ResultsCache::InMemory { max_size } => serde_json::json!({
            "type": "IN-MEMORY",
            "config": {"max_size": max_size},
        })
        .to_string(),
        ResultsCache::Config(text) => text.trim().to_owned(),
    }
}

/// The container args of the frontend in front of the querier `downstream`.
pub fn args(c: &Common, f: &Frontend, downstream: &str) -> Vec<String> {
    let mut a = vec![
        "query-frontend".to_owned(),
        format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
        format!("--query-frontend.downstream-url={downstream}"),
    ];
    if let Some(i) = &f.split_interval {
        a.push(format!("--query-range.split-interval={i}"));
    }
    if let Some(n) = f.max_retries {
        for flag in [
            "--query-range.max-retries-per-request",
            "--query.max-retries-per-request",
            "--labels.max-retries-per-request",
        ] {
            a.push(format!("{flag}={n}"));
        }
    }
    a.push(format!(
        "--query-range.response-cache-config={}",
        cache_config(&f.results_cache)
    ));
    if let Some(t) = &f.downstream_timeout {
        a.push(format!(
            "--query-frontend.downstream-tripper-config={}",
            serde_json::json!({"response_header_timeout": t})
        ));
    }
    a.extend(workload::log_args(&c.log_level, &c.log_format));
    args::merge_extra_args(a, &f.extra_args)
}

/// The frontend's objects, in apply order: its Service, its Deployment and, with more than one
/// replica, its PodDisruptionBudget.
pub(crate) fn render(
    c: &Common,
    f: &Frontend,
    downstream: &str,
    ctx: &RenderContext,
) -> (Object, Object, Option<Object>) {
    let name = c.name.as_str();
    let selector = selector_labels(name);
    let mut labels = c.labels.clone();
    labels.extend(selector.clone());
    labels.extend(meta::ownership_labels(Kind::Query, name));
    let om = |n: String| meta::object_meta(n, &c.namespace, labels.clone(), &c.annotations);
    let container = ThanosContainer {
        name: "query-frontend",
        image: c.image(ctx),
        image_pull_policy: c.image_pull_policy.clone(),
        args: args(c, f, downstream),
        ports: vec![workload::port("http", HTTP_PORT)],
        pod_name_env: false,
        resources: common::resource_requirements(&f.resources),
        mounts: Vec::new(),
    }
    .build();
    // Everything the frontend reads is in its args: the pods roll when they change.
    let template = workload::pod_template(
        c,
        labels.clone(),
        &selector,
        None,
        vec![container],
        Vec::new(),
    );
    let deployment = apps::Deployment {
        metadata: om(deployment_name(name)),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(f.replicas),
            selector: workload::selector(selector.clone()),
            template,
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = workload::headless_service(
        om(service_name(name)),
        selector.clone(),
        &[("http", HTTP_PORT)],
    );
    let pdb = (f.replicas > 1).then(|| {
        Object::PodDisruptionBudget(workload::pdb(om(deployment_name(name)), selector, 1))
    });
    (
        Object::Service(service),
        Object::Deployment(deployment),
        pdb,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_configs_as_thanos_starts_reading_them() {
        for ok in [
            "type: IN-MEMORY\nconfig:\n  max_size: 1GB\n",
            "type: memcached\nconfig:\n  addresses: [a:11211]\n",
            "{\"type\": \"REDIS\", \"config\": {\"addr\": \"redis:6379\"}}",
            "type: REDIS\n",
        ] {
            assert_eq!(check_cache_config(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("type: [", "not valid YAML"),
            ("- a", "one YAML mapping"),
            ("type: DISK", "is not one of"),
            ("config: {}", "type must be set"),
            ("type: REDIS\nconfig: [1]", "config must be a mapping"),
            (
                "type: REDIS\nexpiration: 1h",
                "unknown field \"expiration\"",
            ),
        ] {
            let e = check_cache_config(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
