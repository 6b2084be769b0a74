//! The rendered stack really runs: the containers `thanos-render` produces, run as local
//! processes of the real `thanos` binary (the version of the provider's default image), ingest
//! remote-write samples for two tenants and answer queries for them, deduplicated.
//!
//! kwok makes pods Ready without running them, so the acceptance tests prove the Kubernetes
//! side only; these tests prove that Thanos accepts what we render: every flag, every
//! generated file, and the hashring a router and its ingestors must agree on.
//!
//! Each pod becomes one process on its own loopback address with the rendered args. The small
//! translation from Kubernetes to local processes (pod addresses, `$(VAR)` expansion, volumes
//! as temp dirs, cluster DNS names as loopback addresses) is documented, rule by rule, in
//! `datapath/cluster.rs`; nothing else about the args is changed.
//!
//! The binary comes from `scripts/tools.sh path thanos` (or `$THANOS_BINARY`, e.g. another
//! build of the same version). When it is not built the tests print why and pass, except
//! under CI (`CI` set), where that is a failure.

#[path = "datapath/cluster.rs"]
mod cluster;
#[path = "datapath/remote_write.rs"]
mod remote_write;
#[path = "datapath/support.rs"]
mod support;
#[path = "datapath/thanos.rs"]
mod thanos;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use support::{Work, http_addr, now_ms, parse_matrix, spec, start, stop_all, with};
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use thanos::{IpBlock, Process};
use thanos_render::receive::{self, HASHRINGS_PATH};
use thanos_render::{RenderContext, Rendered, query, storage};

const NS: &str = "monitoring";
const OBJSTORE_SECRET: &str = "thanos-objstore";
const OBJSTORE_KEY: &str = "objstore.yaml";
const TENANT_HEADER: &str = "THANOS-TENANT";
const METRIC: &str = "datapath_samples";
/// How long a process may take to become ready.
const READY: Duration = Duration::from_secs(30);
/// How long a query may take to use its stores: those of its endpoint config (tls_mode native)
/// at its first endpoint update (5s); those of a store-sd file (tls_mode envoy) only on the
/// DNS-SD tick (`--store.sd-dns-interval`, 30s by default, not rendered), and the first tick
/// races the first read of the file, so up to 30s plus an endpoint update.
const STORES_SEEN: Duration = Duration::from_secs(45);

/// How the receive side is laid out.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// A router Deployment (1 replica) whose soft ring holds a separate 2-replica ingestor.
    RouterAndIngestors,
    /// One 2-replica router + ingestor StatefulSet whose ring holds its own pods: each pod
    /// must recognise itself in the ring through `--receive.local-endpoint`.
    RouterIngestor,
}

fn tenancy() -> serde_json::Value {
    serde_json::json!({
        "namespace": NS,
        "tenant_header": TENANT_HEADER,
        "default_tenant_id": "anonymous",
        "tenant_label_name": "tenant_id",
    })
}

fn ingestor_block() -> serde_json::Value {
    serde_json::json!({
        "local_tsdb_retention": "1d",
        "object_storage_config": {"name": OBJSTORE_SECRET, "key": OBJSTORE_KEY},
    })
}

/// Everything the stack renders, as the provider would render it. Returns the rendered
/// resources, the pod that takes remote writes and the name of the receive Service that holds
/// the data.
fn render(layout: Layout) -> (Vec<Rendered>, String, String) {
    let ctx = RenderContext::default();
    let none = BTreeMap::new();
    let mut out = Vec::new();
    let (writer, data_service) = match layout {
        Layout::RouterAndIngestors => {
            let ingestor = spec::<Receive>(with(
                tenancy(),
                serde_json::json!({"name": "ingestor", "replicas": 2, "ingestor": ingestor_block()}),
            ));
            let endpoints = ingestor_endpoints(&ingestor);
            let router = spec::<Receive>(with(
                tenancy(),
                serde_json::json!({
                    "name": "router",
                    "replicas": 1,
                    "router": {
                        "replication_factor": 2,
                        "hashrings_refresh_interval": "1m",
                        "soft_tenant_hashring": {"name": "default", "endpoints": endpoints},
                    },
                }),
            ));
            out.push(receive::render(&ingestor, &ctx, &none).unwrap());
            out.push(receive::render(&router, &ctx, &none).unwrap());
            (
                "thanosreceive-router-0".to_owned(),
                receive::service_name("ingestor"),
            )
        }
        Layout::RouterIngestor => {
            // The ring lists the resource's own pods: their endpoints come from its name,
            // namespace and replicas alone.
            let endpoints =
                receive::ingestor_endpoints("ring", NS, 2, receive::Mode::RouterIngestor);
            let ring = spec::<Receive>(with(
                tenancy(),
                serde_json::json!({
                    "name": "ring",
                    "replicas": 2,
                    "ingestor": ingestor_block(),
                    "router": {
                        "replication_factor": 2,
                        "soft_tenant_hashring": {"name": "default", "endpoints": endpoints},
                    },
                }),
            ));
            out.push(receive::render(&ring, &ctx, &none).unwrap());
            (
                "thanosreceive-ring-0".to_owned(),
                receive::service_name("ring"),
            )
        }
    };
    // Both store forms users write: a fully qualified dnssrv+ name and a short dnssrvnoa+ one.
    // `dp` lists them as a new query does (the endpoint config of tls_mode native), `dpe` as
    // a query with tls_mode envoy does (the store-sd file).
    let stores = serde_json::json!([
        {"address": format!("dnssrv+_grpc._tcp.{data_service}.{NS}.svc")},
        {"address": format!("dnssrvnoa+_grpc._tcp.{}", storage::service_name("fs", "gateway"))},
    ]);
    for (name, mode) in [("dp", "native"), ("dpe", "envoy")] {
        let query = spec::<Query>(serde_json::json!({
            "name": name,
            "namespace": NS,
            "tls_mode": mode,
            "stores": stores,
        }));
        out.push(query::render(&query, &ctx).unwrap());
    }
    let storage = spec::<Storage>(serde_json::json!({
        "name": "fs",
        "namespace": NS,
        "object_storage_config": {"name": OBJSTORE_SECRET, "key": OBJSTORE_KEY},
        "gateway": {"replicas": 1, "min_time": "-8w"},
        "compact": {
            "downsampling_disable": true,
            "retention": {"raw": "30d", "five_minutes": "90d", "one_hour": "1y"},
        },
    }));
    out.push(storage::render(&storage, &ctx));
    (out, writer, data_service)
}

/// The per-pod endpoints of a receive's ingestors.
fn ingestor_endpoints(r: &receive::ReceiveSpec) -> Vec<String> {
    receive::ingestor_endpoints(
        &r.common.name,
        &r.common.namespace,
        i64::from(r.replicas),
        r.mode(),
    )
}

/// The rendered stack as a local cluster, with the objstore Secret pointing at a FILESYSTEM
/// bucket in the work dir.
fn cluster(work: &Path, block: &IpBlock, layout: Layout) -> (Cluster, String, String) {
    let (rendered, writer, data_service) = render(layout);
    let mut c = Cluster::new(work, block.ips.clone());
    c.add_secret(NS, OBJSTORE_SECRET, OBJSTORE_KEY, &objstore_yaml(work));
    for r in &rendered {
        c.add(r);
    }
    (c, writer, data_service)
}

fn bucket_dir(work: &Path) -> PathBuf {
    work.join("bucket")
}

fn objstore_yaml(work: &Path) -> String {
    format!(
        "type: FILESYSTEM\nconfig:\n  directory: {}\n",
        bucket_dir(work).display()
    )
}

/// Each file Thanos reads from what we render, parsed by the real binary, with a broken copy
/// as negative control (so this test can fail):
/// - `hashrings.json`: a router started with it becomes ready (it only is once its ring is
///   loaded); a truncated file makes it exit with a parse error;
/// - `endpoints.yaml` (a new query's store list) and `store-sd.yaml` (with tls_mode envoy): a
///   query started with it dials every target the file names (each translated target is a
///   listener here, which must see a connection); a broken file is reported;
/// - the objstore config at the path the rendered `--objstore.config-file` names, through the
///   Secret volume's items: `thanos tools bucket ls` reads it; a broken one fails.
#[test]
fn rendered_files_parse() {
    let Some(bin) = thanos::binary() else { return };
    let work = Work::new();
    let block = IpBlock::acquire();
    let (c, writer, _) = cluster(work.path(), &block, Layout::RouterAndIngestors);

    // hashrings.json
    let router = c.launch(&writer);
    let mut p = start(&bin, work.path(), &router);
    p.wait_ready(&http_addr(&router), Instant::now() + READY);
    stop_all(std::slice::from_mut(&mut p));
    drop(p);
    let ring_file = router.path(HASHRINGS_PATH);
    let good = std::fs::read_to_string(&ring_file).unwrap();
    std::fs::write(&ring_file, &good[..good.len() / 2]).unwrap();
    let mut p = Process::start(
        &bin,
        "router-with-broken-ring",
        &router.args,
        &work.path().join("broken-ring.log"),
    );
    let status = p
        .wait_exit(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("a broken hashrings.json was accepted\n{}", p.log_tail()));
    assert!(!status.success(), "{}", p.log_tail());
    assert!(
        p.log_text().contains("failed to parse configuration file"),
        "{}",
        p.log_tail()
    );

    // The store lists: endpoints.yaml (native) and store-sd.yaml (envoy).
    let endpoint_targets = |text: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        v["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["address"].as_str().unwrap().to_owned())
            .collect()
    };
    let sd_targets = |text: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["targets"].as_array().unwrap().clone())
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let endpoints = StoreList {
        pod: "thanosquery-dp-0",
        flag: "--endpoint.sd-config-file",
        targets: &endpoint_targets,
        broken: "{\"endpoints\": [{\"address\": ",
        // Read once at startup: the query refuses to start.
        reported: "unable to load config file",
    };
    let store_sd = StoreList {
        pod: "thanosquery-dpe-0",
        flag: "--store.sd-files",
        targets: &sd_targets,
        broken: "[{\"targets\": [\"a:1\"",
        // Read by file SD, which logs and retries.
        reported: "Error reading file",
    };
    for list in [endpoints, store_sd] {
        list.check(&bin, &c, work.path());
    }

    // objstore config, where the rendered flag says it is.
    let gw = c.launch("thanosstorage-fs-gateway-0");
    let os_flag = gw
        .flag("--objstore.config-file")
        .expect("--objstore.config-file")
        .to_owned();
    let ls = |what: &str| {
        std::process::Command::new(&bin)
            .args(["tools", "bucket", "ls"])
            .arg(format!("--objstore.config-file={os_flag}"))
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    let out = ls("bucket ls");
    assert!(
        out.status.success(),
        "thanos tools bucket ls rejected the objstore config at {os_flag}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&os_flag, "type: FILESYSTEM\nconfig: [\n").unwrap();
    let out = ls("bucket ls (broken)");
    assert!(
        !out.status.success(),
        "a broken objstore config was accepted"
    );
}

/// A query's store list file, checked by `rendered_files_parse`.
struct StoreList<'a> {
    pod: &'a str,
    /// The flag that names the file.
    flag: &'a str,
    /// The addresses the file lists.
    targets: &'a dyn Fn(&str) -> Vec<String>,
    /// A broken copy, and what the query logs about it.
    broken: &'a str,
    reported: &'a str,
}

impl StoreList<'_> {
    /// The query dials every target of the file (each translated target is a listener here,
    /// which must see a connection), and reports a broken file.
    fn check(&self, bin: &Path, c: &Cluster, work: &Path) {
        let q = c.launch(self.pod);
        let path = PathBuf::from(q.flag(self.flag).unwrap_or_else(|| panic!("{}", self.flag)));
        let targets = (self.targets)(&std::fs::read_to_string(&path).unwrap());
        // Two receive replicas and one gateway.
        assert_eq!(
            targets.len(),
            3,
            "{}: translated targets {targets:?}",
            self.pod
        );
        let listeners: Vec<TcpListener> = targets
            .iter()
            .map(|t| {
                let l = TcpListener::bind(t.as_str()).unwrap();
                l.set_nonblocking(true).unwrap();
                l
            })
            .collect();
        let mut p = start(bin, work, &q);
        p.wait_ready(&http_addr(&q), Instant::now() + READY);
        let deadline = Instant::now() + STORES_SEEN;
        let mut dialed = vec![false; targets.len()];
        while dialed.iter().any(|d| !d) {
            for (i, l) in listeners.iter().enumerate() {
                if l.accept().is_ok() {
                    dialed[i] = true;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the query never dialed {:?} from {}\n{}",
                targets
                    .iter()
                    .zip(&dialed)
                    .filter(|(_, d)| !**d)
                    .map(|(t, _)| t)
                    .collect::<Vec<_>>(),
                path.display(),
                p.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(listeners);
        // Unreachable endpoints are warnings, not errors: the query must still log no error.
        stop_all(std::slice::from_mut(&mut p));
        drop(p);
        std::fs::write(&path, self.broken).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let p = Process::start(
            bin,
            &format!("{}-with-broken-store-list", self.pod),
            &q.args,
            &work.join(format!("{}-broken.log", self.pod)),
        );
        while !p.log_text().contains(self.reported) {
            assert!(
                Instant::now() < deadline,
                "a broken {} was not reported\n{}",
                path.display(),
                p.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(p);
    }
}

/// Remote write → router → two ingestors (replication factor 2) → query, for two tenants.
/// Proves that every rendered flag and file is accepted, that the router's ring reaches the
/// ingestors, that each series is stored twice (once per `receive_replica`) and that the
/// query's rendered replica labels deduplicate them: with `dedup=true` each tenant's series
/// comes back once with exactly the samples written; with `dedup=false` twice. Then every
/// process stops cleanly on SIGTERM.
#[test]
fn remote_write_and_query_back_deduplicated() {
    write_and_query_back(Layout::RouterAndIngestors);
}

/// The same through one router + ingestor StatefulSet whose ring lists its own pods: each pod
/// must recognise itself through `--receive.local-endpoint` (else it forwards to itself or
/// fails the write), and replicate to the other.
#[test]
fn router_ingestor_recognises_itself() {
    write_and_query_back(Layout::RouterIngestor);
}

fn write_and_query_back(layout: Layout) {
    let Some(bin) = thanos::binary() else { return };
    thanos::assert_release_build(&bin);
    let work = Work::new();
    let block = IpBlock::acquire();
    let (c, writer, _) = cluster(work.path(), &block, layout);
    let pods: Vec<&str> = match layout {
        Layout::RouterAndIngestors => vec![
            "thanosreceive-ingestor-0",
            "thanosreceive-ingestor-1",
            "thanosreceive-router-0",
            "thanosstorage-fs-gateway-0",
            "thanosquery-dp-0",
        ],
        Layout::RouterIngestor => vec![
            "thanosreceive-ring-0",
            "thanosreceive-ring-1",
            "thanosstorage-fs-gateway-0",
            "thanosquery-dp-0",
        ],
    };
    let launches: Vec<Launch> = pods.iter().map(|p| c.launch(p)).collect();
    let mut procs: Vec<Process> = launches
        .iter()
        .map(|l| start(&bin, work.path(), l))
        .collect();
    let deadline = Instant::now() + READY;
    for (p, l) in procs.iter_mut().zip(&launches) {
        p.wait_ready(&http_addr(l), deadline);
    }

    // Write three samples per tenant through the router's remote-write port.
    let w = c.pod(&writer);
    let url = format!("http://{}:19291/api/v1/receive", w.ip);
    let t0 = now_ms() - 60_000;
    let written: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::from([
        (
            "tenant-a",
            vec![(t0, 1.0), (t0 + 15_000, 2.0), (t0 + 30_000, 3.0)],
        ),
        (
            "tenant-b",
            vec![(t0, 10.0), (t0 + 15_000, 20.0), (t0 + 30_000, 30.0)],
        ),
    ]);
    for (tenant, samples) in &written {
        let req = remote_write::WriteRequest {
            timeseries: vec![remote_write::series(
                &[("__name__", METRIC), ("job", "datapath")],
                samples,
            )],
        };
        // A ring that is not fully up answers 503 for a moment; retry until the deadline.
        loop {
            let (status, body) = remote_write::send(&url, TENANT_HEADER, tenant, &req);
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "remote write for {tenant} answered {status}: {body}\n{}",
                procs
                    .iter()
                    .map(Process::log_tail)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    // Read them back through the query, deduplicated and not.
    let q = launches
        .iter()
        .find(|l| l.pod.starts_with("thanosquery"))
        .unwrap();
    let at = format!("{:.3}", (now_ms() + 1000) as f64 / 1000.0);
    let range = format!("{METRIC}[5m]");
    let read = |dedup: &str| {
        remote_write::query(
            &http_addr(q),
            &[("query", &range), ("time", &at), ("dedup", dedup)],
        )
    };
    let want: BTreeMap<String, Vec<(i64, f64)>> = written
        .iter()
        .map(|(t, s)| ((*t).to_owned(), s.clone()))
        .collect();
    let query_deadline = Instant::now() + STORES_SEEN;
    loop {
        let last = match read("true").map(|d| parse_matrix(&d)) {
            Ok(got) if got.len() == 2 => {
                assert_eq!(
                    got.iter()
                        .map(|(labels, s)| (labels["tenant_id"].clone(), s.clone()))
                        .collect::<BTreeMap<_, _>>(),
                    want,
                    "deduplicated result: {got:?}"
                );
                for (labels, _) in &got {
                    assert!(
                        !labels.contains_key("receive_replica"),
                        "the replica label survived deduplication: {labels:?}"
                    );
                    assert_eq!(labels["job"], "datapath");
                }
                break;
            }
            other => format!("{other:?}"),
        };
        assert!(
            Instant::now() < query_deadline,
            "the query never returned both tenants' series once; last answer: {last}\n{}",
            procs
                .iter()
                .map(Process::log_tail)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Without deduplication each series is there once per ingestor replica.
    let raw = parse_matrix(&read("false").unwrap());
    let mut replicas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (labels, samples) in &raw {
        let tenant = labels["tenant_id"].clone();
        assert_eq!(samples, &want[&tenant], "{labels:?}");
        replicas
            .entry(tenant)
            .or_default()
            .push(labels["receive_replica"].clone());
    }
    // The pods that ingest: every receive pod except a router-only one.
    let ingestors: Vec<String> = launches
        .iter()
        .map(|l| l.pod.clone())
        .filter(|p| p.starts_with("thanosreceive-") && !p.starts_with("thanosreceive-router-"))
        .collect();
    for tenant in want.keys() {
        let mut got = replicas.get(tenant).cloned().unwrap_or_default();
        got.sort();
        assert_eq!(got, ingestors, "replicas of {tenant}'s series: {raw:?}");
    }

    stop_all(&mut procs);

    // On shutdown every ingestor flushes its head and uploads one block per tenant through
    // the rendered --objstore.config-file, labelled with its replica and the tenant.
    let mut uploaded = Vec::new();
    for entry in std::fs::read_dir(bucket_dir(work.path())).unwrap() {
        let meta = entry.unwrap().path().join("meta.json");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
        let labels = &meta["thanos"]["labels"];
        uploaded.push((
            labels["receive_replica"].as_str().unwrap().to_owned(),
            labels["tenant_id"].as_str().unwrap().to_owned(),
        ));
    }
    uploaded.sort();
    let expected: Vec<(String, String)> = ingestors
        .iter()
        .flat_map(|i| want.keys().map(move |t| (i.clone(), t.clone())))
        .collect();
    assert_eq!(uploaded, expected, "blocks in the bucket (replica, tenant)");
}

/// The rendered compactor (`--wait`, downsampling disabled, retention per resolution) on the
/// filesystem bucket: it accepts its flags with the meaning we intend (the log states each
/// retention and that downsampling is disabled), completes one compaction and retention pass
/// (then waits, as `--wait` says), and exits cleanly on SIGTERM.
#[test]
fn compactor_runs_one_pass() {
    let Some(bin) = thanos::binary() else { return };
    let work = Work::new();
    let block = IpBlock::acquire();
    let (c, _, _) = cluster(work.path(), &block, Layout::RouterAndIngestors);
    let l = c.launch("thanosstorage-fs-compact-0");
    assert!(l.args.iter().any(|a| a == "--wait"), "{:?}", l.args);
    let mut p = start(&bin, work.path(), &l);
    p.wait_ready(&http_addr(&l), Instant::now() + READY);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !p.log_text().contains(PASS_DONE) {
        assert!(
            Instant::now() < deadline && p.exited().is_none(),
            "the compactor did not complete a pass (no {PASS_DONE:?} in its log)\n{}",
            p.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = p.log_text();
    for want in [
        "msg=\"compaction iterations done\"",
        "msg=\"downsampling was explicitly disabled\"",
        "msg=\"retention policy of raw samples is enabled\" duration=720h0m0s",
        "msg=\"retention policy of 5 min aggregated samples is enabled\" duration=2160h0m0s",
        "msg=\"retention policy of 1 hour aggregated samples is enabled\" duration=8760h0m0s",
    ] {
        assert!(
            log.contains(want),
            "no {want:?} in the compactor's log\n{}",
            p.log_tail()
        );
    }
    // `--wait`: still running after the pass, until told to stop.
    assert!(p.exited().is_none(), "{}", p.log_tail());
    stop_all(std::slice::from_mut(&mut p));
}

/// What the compactor logs when the retention step, the last of a pass, is done.
const PASS_DONE: &str = "msg=\"optional retention apply done\"";
