//! A pretend cluster on loopback: rendered objects in, `thanos` command lines out.
//!
//! This is the whole translation from Kubernetes to local processes. Everything not listed
//! here is passed to Thanos exactly as rendered, so a flag Thanos rejects fails the test.
//!
//! 1. Pods. Every Deployment/StatefulSet replica is one pod with its own loopback address
//!    (127.0.0.x from an [`crate::thanos::IpBlock`]), so every process keeps the rendered ports.
//!    StatefulSet pods are `<name>-<ordinal>` as in Kubernetes; Deployment pods are
//!    `<name>-<i>` (Kubernetes adds a random ReplicaSet suffix instead; only uniqueness
//!    matters). The pod's labels are its template's labels.
//! 2. Environment. The container's `env` is resolved as the kubelet would (`status.podIP` →
//!    the pod's address, `metadata.name` → the pod name, literal `value`s as written; any other
//!    source panics) and `$(VAR)` in args is expanded with Kubernetes' rules (`$$` escapes,
//!    unknown names stay). The variables are not put in the process environment: the rendered
//!    args are the only thing Thanos sees.
//! 3. Volumes. Every mount path becomes `<tmp>/pods/<pod><mountPath>`. ConfigMap volumes get
//!    the ConfigMap's keys as files, exactly as rendered (only rule 4 applied); Secret volumes
//!    get the keys of the secrets the test supplies (`add_secret`) or the rendered owned
//!    Secrets' sealed data (what an apply writes), honouring `items`;
//!    emptyDir and volume claim templates are empty directories. An absolute path in a flag
//!    value is rewritten to the same place under the pod root and must lie inside a mount (the
//!    rendered containers have a read-only root filesystem), else the translation panics.
//! 4. Cluster DNS. Names that only resolve in a cluster are replaced by the loopback addresses
//!    of what they name, in args and in the JSON files of ConfigMaps (`hashrings.json`,
//!    `store-sd.yaml`, `endpoints.yaml`), consistently, so a receive still finds itself in its hashring when the
//!    rendered ring and its `--receive.local-endpoint` agree (and does not when they do not):
//!    - `<pod>.<svc>.<ns>.svc[.cluster.local]:<port>` → `<pod ip>:<port>` (the pod must be a
//!      StatefulSet pod whose `serviceName` is `<svc>`, and `<svc>` must select it);
//!    - `dnssrv+_<port>._tcp.<svc>[.<ns>[.svc[.cluster.local]]]` and `dnssrvnoa+…` → one
//!      `<ip>:<port>` per pod the Service selects, `<port>` being the Service port of that
//!      name (short names resolve in the namespace of the pod that uses them);
//!    - `dns+<svc>[.<ns>…]:<port>` → one `<ip>:<port>` per selected pod;
//!    - `http[s]://<svc>.<ns>.svc[.cluster.local]:<port>[/<path>]` (a query's `http_url`) →
//!      one `http[s]://<ip>:<port>[/<path>]` per selected pod.
//!
//!    One name may become several addresses: in a JSON array the element is replaced by all
//!    of them, and an object of an array whose `address` names several (an entry of the
//!    query's endpoint config, `endpoints.yaml`) by one copy per address; in a flag the flag
//!    is repeated once per address. A `.svc` name that matches nothing panics.
//! 5. Network namespace. Pods have their own; these processes share one. A listener whose
//!    default is every interface and that the rendered args leave unset would collide between
//!    pods (and leave loopback), so it is set to the pod address with its default port. There
//!    is exactly one: `receive --receive.capnproto-address` (default `0.0.0.0:19391`, the
//!    Cap'n Proto replication server, which listens even when replication uses gRPC). This
//!    and rule 4's repetition are the only args the translation adds. For the same reason the
//!    pod's own loopback address, `127.0.0.1` (where the envoy sidecar listens for the query
//!    beside it), becomes the pod address, in args and in JSON files.
//! 6. Containers. Every container of a pod can be launched ([`Cluster::launch_container`]);
//!    they share the pod's address and its root directory, as containers of one pod share its
//!    network namespace and volumes. Paths are mapped as in rule 3 also where a container takes
//!    them as a separate argument (envoy's `-c <path>`) and inside the JSON files it reads
//!    (envoy's bootstrap names its LDS/CDS files and the mounted certificates).

// Shared by several test binaries (datapath, crosscluster): not all use every item.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, Service, Volume};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use thanos_render::{Object, Rendered};

/// One pod of a rendered workload.
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub ip: Ipv4Addr,
    pub labels: BTreeMap<String, String>,
    /// The headless Service a StatefulSet pod's hostname lives under.
    pub subdomain: Option<String>,
    pub spec: PodSpec,
    /// Names of the StatefulSet's volume claim templates (mounted as empty directories).
    pub claims: Vec<String>,
}

/// A pod's container turned into a command line.
#[derive(Debug, Clone)]
pub struct Launch {
    pub pod: String,
    /// `<pod>` for the pod's first (Thanos) container, `<pod>/<container>` for the others.
    pub name: String,
    pub ip: Ipv4Addr,
    /// The translated container args (`args[0]` is the Thanos subcommand).
    pub args: Vec<String>,
    /// Where the pod's files live (`<root><mountPath>`).
    pub root: PathBuf,
}

impl Launch {
    /// The local path of an in-container path (which must be inside a mount).
    pub fn path(&self, container_path: &str) -> PathBuf {
        self.root.join(container_path.trim_start_matches('/'))
    }

    /// The value of the first `--flag=value` arg.
    pub fn flag(&self, flag: &str) -> Option<&str> {
        let prefix = format!("{flag}=");
        self.args.iter().find_map(|a| a.strip_prefix(&prefix))
    }
}

#[derive(Default)]
pub struct Cluster {
    dir: PathBuf,
    ips: Vec<Ipv4Addr>,
    services: Vec<Service>,
    config_maps: Vec<ConfigMap>,
    /// (namespace, name) → key → content.
    secrets: BTreeMap<(String, String), BTreeMap<String, String>>,
    pods: Vec<Pod>,
}

impl Cluster {
    /// `ips`: the addresses pods get, in order of [`Cluster::add`].
    pub fn new(dir: &Path, ips: Vec<Ipv4Addr>) -> Cluster {
        Cluster {
            dir: dir.to_owned(),
            ips,
            ..Default::default()
        }
    }

    pub fn add_secret(&mut self, namespace: &str, name: &str, key: &str, content: &str) {
        self.secrets
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default()
            .insert(key.to_owned(), content.to_owned());
    }

    /// Adds every object of a rendered resource; each workload replica becomes a pod.
    pub fn add(&mut self, rendered: &Rendered) {
        for o in &rendered.objects {
            match o {
                // An owned Secret as the apply writes it: its sealed data (the objstore file
                // with its credentials), which the test must have rendered with them.
                Object::Secret(s) => {
                    let sealed = s
                        .sealed()
                        .expect("an owned Secret rendered without its write-only values");
                    let name = sealed.metadata.name.clone().unwrap_or_default();
                    let ns = sealed.metadata.namespace.clone().unwrap_or_default();
                    for (key, value) in sealed.data.unwrap_or_default() {
                        let text = String::from_utf8(value.0).expect("UTF-8 Secret data");
                        self.add_secret(&ns, &name, &key, &text);
                    }
                }
                Object::Service(s) => self.services.push(s.clone()),
                Object::ConfigMap(c) => self.config_maps.push(c.clone()),
                Object::Deployment(d) => self.add_deployment(d),
                Object::StatefulSet(s) => self.add_stateful_set(s),
                // PDBs, Ingresses, ServiceAccounts and ServiceMonitors have no local meaning.
                Object::PodDisruptionBudget(_)
                | Object::Ingress(_)
                | Object::ServiceAccount(_)
                | Object::ServiceMonitor(_) => {}
            }
        }
    }

    fn next_ip(&mut self) -> Ipv4Addr {
        assert!(!self.ips.is_empty(), "the test's IP block is too small");
        self.ips.remove(0)
    }

    fn add_deployment(&mut self, d: &Deployment) {
        let spec = d.spec.as_ref().expect("deployment spec");
        for i in 0..spec.replicas.unwrap_or(1) {
            let ip = self.next_ip();
            self.pods.push(Pod {
                name: format!("{}-{i}", d.metadata.name.as_deref().unwrap_or_default()),
                namespace: d.metadata.namespace.clone().unwrap_or_default(),
                ip,
                labels: template_labels(spec.template.metadata.as_ref()),
                subdomain: None,
                spec: spec.template.spec.clone().expect("pod spec"),
                claims: Vec::new(),
            });
        }
    }

    fn add_stateful_set(&mut self, s: &StatefulSet) {
        let spec = s.spec.as_ref().expect("statefulset spec");
        let claims = spec
            .volume_claim_templates
            .iter()
            .flatten()
            .filter_map(|c| c.metadata.name.clone())
            .collect::<Vec<_>>();
        for i in 0..spec.replicas.unwrap_or(1) {
            let ip = self.next_ip();
            self.pods.push(Pod {
                name: format!("{}-{i}", s.metadata.name.as_deref().unwrap_or_default()),
                namespace: s.metadata.namespace.clone().unwrap_or_default(),
                ip,
                labels: template_labels(spec.template.metadata.as_ref()),
                subdomain: spec.service_name.clone(),
                spec: spec.template.spec.clone().expect("pod spec"),
                claims: claims.clone(),
            });
        }
    }

    pub fn pod(&self, name: &str) -> &Pod {
        self.pods
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| {
                let names: Vec<_> = self.pods.iter().map(|p| &p.name).collect();
                panic!("no pod {name:?}; pods: {names:?}")
            })
    }

    /// Writes the volumes of the pod's first (Thanos) container under `<dir>/pods/<pod>` and
    /// returns its translated command line (rules 2–5 of the module doc).
    pub fn launch(&self, pod_name: &str) -> Launch {
        let pod = self.pod(pod_name);
        self.launch_container(pod_name, &pod.spec.containers[0].name)
    }

    /// The same for the container named `container` of the pod (rule 6), e.g. the query's
    /// `envoy-sidecar`.
    pub fn launch_container(&self, pod_name: &str, container: &str) -> Launch {
        let pod = self.pod(pod_name);
        let container = pod
            .spec
            .containers
            .iter()
            .find(|c| c.name == container)
            .unwrap_or_else(|| panic!("pod {pod_name} has no container {container:?}"));
        let root = self.dir.join("pods").join(&pod.name);
        let mounts = self.write_volumes(pod, container, &root);
        let env = resolve_env(pod, container);
        let mut args = Vec::new();
        for raw in container.args.iter().flatten() {
            let arg = expand(raw, &env);
            for arg in self.translate_arg(pod, &arg) {
                args.push(map_path(&arg, &mounts, &root));
            }
        }
        if args.first().map(String::as_str) == Some("receive")
            && !args
                .iter()
                .any(|a| a.starts_with("--receive.capnproto-address"))
        {
            args.push(format!("--receive.capnproto-address={}:19391", pod.ip));
        }
        for a in &args {
            assert!(
                !a.contains("$("),
                "{pod_name}: unexpanded variable in {a:?}"
            );
        }
        let first = pod.spec.containers[0].name == container.name;
        Launch {
            pod: pod.name.clone(),
            name: if first {
                pod.name.clone()
            } else {
                format!("{}/{}", pod.name, container.name)
            },
            ip: pod.ip,
            args,
            root,
        }
    }

    fn write_volumes(&self, pod: &Pod, container: &Container, root: &Path) -> Vec<String> {
        let paths: Vec<String> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.clone())
            .collect();
        let files = Files {
            mounts: &paths,
            root,
        };
        for m in container.volume_mounts.iter().flatten() {
            let dir = root.join(m.mount_path.trim_start_matches('/'));
            std::fs::create_dir_all(&dir).unwrap();
            let volume = pod.spec.volumes.iter().flatten().find(|v| v.name == m.name);
            match volume {
                Some(v) => self.fill_volume(pod, v, &dir, &files),
                None => assert!(
                    pod.claims.contains(&m.name),
                    "{}: mount {:?} names no volume and no claim template",
                    pod.name,
                    m.name
                ),
            }
        }
        paths
    }

    fn fill_volume(&self, pod: &Pod, v: &Volume, dir: &Path, files: &Files<'_>) {
        if let Some(src) = &v.config_map {
            let cm = self
                .config_maps
                .iter()
                .find(|c| {
                    c.metadata.name.as_deref() == Some(&src.name)
                        && c.metadata.namespace.as_deref() == Some(&pod.namespace)
                })
                .unwrap_or_else(|| panic!("{}: no ConfigMap {:?}", pod.name, src.name));
            let data = cm.data.clone().unwrap_or_default();
            for (key, path) in items(&data, src.items.as_deref()) {
                let text = self.translate_file(pod, &data[&key], files);
                std::fs::write(dir.join(path), text).unwrap();
            }
        } else if let Some(src) = &v.secret {
            let name = src.secret_name.clone().unwrap_or_default();
            let data = self
                .secrets
                .get(&(pod.namespace.clone(), name.clone()))
                .unwrap_or_else(|| panic!("{}: no Secret {name:?} given", pod.name));
            for (key, path) in items(data, src.items.as_deref()) {
                std::fs::write(dir.join(path), &data[&key]).unwrap();
            }
        } else {
            assert!(
                v.empty_dir.is_some(),
                "{}: volume {:?} has a source this translation does not know",
                pod.name,
                v.name
            );
        }
    }

    /// Rules 4–6 on a file: JSON files have every string translated (cluster names and the
    /// pod's loopback, then paths inside the container's mounts); other text must not mention
    /// a cluster name.
    fn translate_file(&self, pod: &Pod, text: &str, files: &Files<'_>) -> String {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => {
                let v = files.map_json(self.translate_json(pod, v));
                let mut s = serde_json::to_string_pretty(&v).unwrap();
                s.push('\n');
                s
            }
            Err(_) => {
                assert!(
                    !text.contains(".svc"),
                    "{}: a non-JSON file names a cluster address; teach the translation:\n{text}",
                    pod.name
                );
                text.to_owned()
            }
        }
    }

    fn translate_json(&self, pod: &Pod, v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Array(a) => Value::Array(
                a.into_iter()
                    .flat_map(|e| match e {
                        Value::String(s) => match self.translate_address(pod, &s) {
                            Some(list) => list.into_iter().map(Value::String).collect(),
                            None => vec![Value::String(s)],
                        },
                        Value::Object(mut m) => {
                            let many = m
                                .get("address")
                                .and_then(Value::as_str)
                                .and_then(|a| self.translate_address(pod, a));
                            match many {
                                Some(list) => list
                                    .into_iter()
                                    .map(|a| {
                                        m.insert("address".into(), Value::String(a));
                                        self.translate_json(pod, Value::Object(m.clone()))
                                    })
                                    .collect(),
                                None => vec![self.translate_json(pod, Value::Object(m))],
                            }
                        }
                        other => vec![self.translate_json(pod, other)],
                    })
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, self.translate_json(pod, v)))
                    .collect(),
            ),
            Value::String(s) => match self.translate_address(pod, &s) {
                Some(mut list) if list.len() == 1 => Value::String(list.remove(0)),
                Some(list) => panic!("{s:?} names {} pods where one is expected", list.len()),
                None => Value::String(s),
            },
            other => other,
        }
    }

    /// Rule 4 on one arg: `--flag=<cluster address>` → one `--flag=<ip:port>` per address.
    fn translate_arg(&self, pod: &Pod, arg: &str) -> Vec<String> {
        let Some((flag, value)) = arg.split_once('=') else {
            return vec![arg.to_owned()];
        };
        match self.translate_address(pod, value) {
            Some(list) => list.into_iter().map(|a| format!("{flag}={a}")).collect(),
            None => vec![arg.to_owned()],
        }
    }

    /// The addresses a cluster DNS name (or the pod's own loopback address) stands for, or
    /// `None` if `s` is not one.
    pub fn translate_address(&self, from: &Pod, s: &str) -> Option<Vec<String>> {
        if s == "127.0.0.1" {
            return Some(vec![from.ip.to_string()]);
        }
        if let Some(port) = s.strip_prefix("127.0.0.1:") {
            return Some(vec![format!("{}:{port}", from.ip)]);
        }
        if let Some(rest) = s
            .strip_prefix("dnssrvnoa+")
            .or_else(|| s.strip_prefix("dnssrv+"))
        {
            let (port_name, name) = rest
                .strip_prefix('_')
                .and_then(|r| r.split_once("._tcp."))
                .unwrap_or_else(|| panic!("{s:?}: not _<port>._tcp.<name>"));
            let svc = self.service_named(from, name)?;
            return Some(
                self.selected(svc)
                    .map(|p| format!("{}:{}", p.ip, service_port(svc, port_name, p)))
                    .collect(),
            );
        }
        if let Some(rest) = s.strip_prefix("dns+") {
            let (host, port) = rest.rsplit_once(':')?;
            let svc = self.service_named(from, host)?;
            return Some(
                self.selected(svc)
                    .map(|p| format!("{}:{port}", p.ip))
                    .collect(),
            );
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            let (host_port, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let (host, port) = host_port.rsplit_once(':')?;
            cluster_name(host)?;
            let svc = self.service_named(from, host)?;
            return Some(
                self.selected(svc)
                    .map(|p| format!("{scheme}://{}:{port}{path}", p.ip))
                    .collect(),
            );
        }
        let (host, port) = s.rsplit_once(':')?;
        let parts = cluster_name(host)?;
        let [pod_name, svc_name, ns] = parts.as_slice() else {
            panic!(
                "{s:?}: only per-pod names <pod>.<svc>.<ns>.svc are translated without a dns+ prefix"
            );
        };
        let pod = self
            .pods
            .iter()
            .find(|p| &p.name == pod_name && &p.namespace == ns)
            .unwrap_or_else(|| panic!("{s:?}: no pod {pod_name:?} in {ns:?}"));
        assert_eq!(
            pod.subdomain.as_deref(),
            Some(svc_name.as_str()),
            "{s:?}: pod {pod_name} has no hostname under Service {svc_name} (its StatefulSet's serviceName)"
        );
        let svc = self
            .service(ns, svc_name)
            .unwrap_or_else(|| panic!("{s:?}: no Service {svc_name} in {ns}"));
        assert!(
            self.selected(svc).any(|p| p.name == pod.name),
            "{s:?}: Service {svc_name} does not select pod {pod_name}, so it has no DNS record"
        );
        Some(vec![format!("{}:{port}", pod.ip)])
    }

    /// A Service by a DNS name as seen from `from`: `<svc>`, `<svc>.<ns>`,
    /// `<svc>.<ns>.svc[.cluster.local]`. `None` for a name outside the cluster.
    fn service_named(&self, from: &Pod, name: &str) -> Option<&Service> {
        let parts: Vec<String> = match cluster_name(name) {
            Some(p) => p,
            None if name.split('.').count() <= 2 => name.split('.').map(str::to_owned).collect(),
            None => return None,
        };
        let (svc, ns) = match parts.as_slice() {
            [svc] => (svc.as_str(), from.namespace.as_str()),
            [svc, ns] => (svc.as_str(), ns.as_str()),
            _ => panic!("{name:?}: not a Service name"),
        };
        Some(
            self.service(ns, svc)
                .unwrap_or_else(|| panic!("{name:?}: no Service {svc} in {ns}")),
        )
    }

    fn service(&self, ns: &str, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| {
            s.metadata.name.as_deref() == Some(name) && s.metadata.namespace.as_deref() == Some(ns)
        })
    }

    /// The pods a Service selects (same namespace, every selector label matches).
    pub fn selected<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Pod> + 'a {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        assert!(!selector.is_empty(), "Service without selector");
        self.pods.iter().filter(move |p| {
            p.namespace == ns && selector.iter().all(|(k, v)| p.labels.get(k) == Some(v))
        })
    }
}

fn template_labels(
    m: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
) -> BTreeMap<String, String> {
    m.and_then(|m| m.labels.clone()).unwrap_or_default()
}

/// `host` without `.svc[.cluster.local]`, split at dots; `None` if it has no such suffix.
fn cluster_name(host: &str) -> Option<Vec<String>> {
    let h = host.strip_suffix(".cluster.local").unwrap_or(host);
    let h = h.strip_suffix(".svc")?;
    Some(h.split('.').map(str::to_owned).collect())
}

/// The port a pod serves a Service's port `name` on (its `targetPort`: a number, or the name
/// of one of the pod's container ports).
fn service_port(svc: &Service, name: &str, pod: &Pod) -> i32 {
    let p = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .and_then(|ps| ps.iter().find(|p| p.name.as_deref() == Some(name)))
        .unwrap_or_else(|| panic!("Service {:?} has no port {name:?}", svc.metadata.name));
    match &p.target_port {
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(target)) => {
            pod.spec
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|cp| cp.name.as_deref() == Some(target))
                .unwrap_or_else(|| panic!("pod {} has no container port {target:?}", pod.name))
                .container_port
        }
        None => p.port,
    }
}

/// `(key, file name)` of a ConfigMap/Secret volume: `items` if given, else every key.
fn items(
    data: &BTreeMap<String, String>,
    items: Option<&[k8s_openapi::api::core::v1::KeyToPath]>,
) -> Vec<(String, String)> {
    match items {
        Some(items) => items
            .iter()
            .map(|i| {
                assert!(data.contains_key(&i.key), "volume item {:?} missing", i.key);
                (i.key.clone(), i.path.clone())
            })
            .collect(),
        None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
    }
}

/// The container's environment as the kubelet resolves it (rule 2).
fn resolve_env(pod: &Pod, c: &Container) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for e in c.env.iter().flatten() {
        let v = if let Some(v) = &e.value {
            expand(v, &env)
        } else {
            let field = e
                .value_from
                .as_ref()
                .and_then(|f| f.field_ref.as_ref())
                .map(|f| f.field_path.as_str());
            match field {
                Some("status.podIP") => pod.ip.to_string(),
                Some("metadata.name") => pod.name.clone(),
                Some("metadata.namespace") => pod.namespace.clone(),
                other => panic!(
                    "{}: env {} from {other:?} is not translated",
                    pod.name, e.name
                ),
            }
        };
        env.insert(e.name.clone(), v);
    }
    env
}

/// Kubernetes' `$(VAR)` expansion: defined names are replaced, `$$` is a literal `$`,
/// anything else is kept as written.
pub fn expand(s: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("$$") {
            out.push('$');
            rest = t;
        } else if let Some((name, t)) = tail
            .strip_prefix("$(")
            .and_then(|t| t.split_once(')'))
            .filter(|(n, _)| env.contains_key(*n))
        {
            out.push_str(&env[name]);
            rest = t;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Rules 3 and 6 on one arg: an absolute path, as `--flag=/path` or as an argument of its
/// own, moves under the pod root.
fn map_path(arg: &str, mounts: &[String], root: &Path) -> String {
    let (prefix, value) = match arg.split_once('=') {
        Some((flag, value)) => (format!("{flag}="), value),
        None => (String::new(), arg),
    };
    if !value.starts_with('/') {
        return arg.to_owned();
    }
    assert!(
        inside_mount(value, mounts),
        "{arg:?}: the path is on no volume (the root filesystem is read-only)"
    );
    format!(
        "{prefix}{}",
        root.join(value.trim_start_matches('/')).display()
    )
}

fn inside_mount(path: &str, mounts: &[String]) -> bool {
    mounts
        .iter()
        .any(|m| path == m || path.starts_with(&format!("{}/", m.trim_end_matches('/'))))
}

/// What a container sees of the files of its pod: its mount paths, and where the pod's root
/// is locally.
struct Files<'a> {
    mounts: &'a [String],
    root: &'a Path,
}

impl Files<'_> {
    /// Rule 6 on a JSON file: every string that is a path inside one of the container's
    /// mounts moves under the pod root (other strings, `/` among them, stay).
    fn map_json(&self, v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) if s.starts_with('/') && inside_mount(&s, self.mounts) => {
                Value::String(
                    self.root
                        .join(s.trim_start_matches('/'))
                        .display()
                        .to_string(),
                )
            }
            Value::Array(a) => Value::Array(a.into_iter().map(|e| self.map_json(e)).collect()),
            Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, self.map_json(v))).collect())
            }
            other => other,
        }
    }
}

#[test]
fn expand_follows_kubernetes() {
    let env = BTreeMap::from([("A".to_owned(), "x".to_owned())]);
    assert_eq!(expand("$(A).$(B)-$$(A)-$", &env), "x.$(B)-$(A)-$");
}
