//! Resizing ingestors under load, on real Thanos: two routers (replication factor 3) in front
//! of ingestors take remote-write without pause while the ring grows by one ingestor and
//! shrinks back, in the order that loses nothing:
//!
//! - growing, the new ingestor starts and is Ready before any ring lists it; then every
//!   router loads the larger ring;
//! - shrinking, every router loads the smaller ring first (each reports the new file's
//!   `thanos_receive_config_hash`); only then does the leaving ingestor get SIGTERM.
//!
//! The routers load the new `hashrings.json` in place, as Thanos does when the kubelet
//! swaps a ConfigMap volume's files: the file is replaced by a rename (its old inode goes
//! away, which ends Thanos's watch on it) and picked up by the watcher's event or, after
//! that, its `--receive.hashrings-file-refresh-interval`. No router restarts.
//!
//! What must hold: no remote-write request fails (a router answers every one with 200), and
//! every sample written is queryable afterwards through a querier of the ingestors that stay,
//! in at least one of its copies (what deduplication returns): the ingestor that left took
//! only copies.
//!
//! This is the order, and the in-place reload, that the provider's apply drives: routers
//! reload in place (`router.hashrings_reload = "in_place"`, the default of new routers) and
//! the apply waits until each reports the new file, with the same check as here
//! (`thanos_render::hashring::RunningConfig::runs`); across two resources, a scale-down keeps
//! the leaving ingestor running until no ring lists it (`src/lifecycle/hold.rs`). See
//! "Resizing under load" in `docs/guides/hashrings.md`.
//!
//! Pods run as in `tests/datapath.rs` (the translation rules are in `datapath/cluster.rs`).
//! The ingestors set no `local_tsdb_retention`, so Thanos's tenant pruning (and its start-up
//! race in the first minute of every fourth hour, see `tests/datapath_s3.rs`) never runs.

#[path = "datapath/cluster.rs"]
mod cluster;
#[path = "datapath/remote_write.rs"]
mod remote_write;
#[path = "datapath/support.rs"]
mod support;
#[path = "datapath/thanos.rs"]
mod thanos;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use support::{Work, http_addr, logs, now_ms, parse_matrix, spec, start, stop_all};
use terraform_provider_thanos::resources::{query::Query, receive::Receive};
use thanos::{IpBlock, Process};
use thanos_render::{RenderContext, hashring, query, receive};

const NS: &str = "monitoring";
const TENANT_HEADER: &str = "THANOS-TENANT";
const TENANT: &str = "team-a";
const METRIC: &str = "resize_samples";
/// Series in every write request.
const SERIES: usize = 40;
/// Three copies: a router confirms a write once two hold it (`writeQuorum` in
/// `pkg/receive/handler.go` of the pinned Thanos), so a leaving ingestor always leaves a copy
/// behind. With two copies Thanos confirms after one (its quorum for 2 is 1), and a copy that
/// fails afterwards (an older sample arriving after a newer one, from the other router) can
/// leave a sample on the leaving ingestor alone: it is lost without object storage (found by
/// this test; `docs/guides/hashrings.md` says so).
const REPLICATION_FACTOR: i64 = 3;
/// Ingestors before and after; one more joins and leaves in between.
const INGESTORS: i64 = 3;
const ROUTERS: usize = 2;
/// How often a router re-reads its ring file besides the watcher's events.
const REFRESH: &str = "2s";
const READY: Duration = Duration::from_secs(60);
const LOADED: Duration = Duration::from_secs(60);
/// Writing goes on this long between the steps, so every step happens under load.
const UNDER_LOAD: Duration = Duration::from_secs(4);

/// One remote-write request the writer sent: its timestamp, and the answer (a status, or
/// why there was none).
#[derive(Debug, Clone)]
struct Sent {
    ts: i64,
    router: usize,
    answer: Result<u16, String>,
}

/// The ingestors' resource, rendered with `replicas` pods.
fn ingestors(replicas: i64) -> serde_json::Value {
    serde_json::json!({
        "name": "ing", "namespace": NS, "replicas": replicas,
        "tenant_header": TENANT_HEADER, "tenant_label_name": "tenant_id",
        "ingestor": {},
    })
}

/// The routers' resource with a ring of the first `members` ingestors.
fn routers(members: i64) -> serde_json::Value {
    serde_json::json!({
        "name": "router", "namespace": NS, "replicas": ROUTERS,
        "tenant_header": TENANT_HEADER, "tenant_label_name": "tenant_id",
        "router": {
            "replication_factor": REPLICATION_FACTOR,
            "hashrings_refresh_interval": REFRESH,
            "soft_tenant_hashring": {
                "name": "default",
                "algorithm": "ketama",
                "endpoints": receive::ingestor_endpoints("ing", NS, members, receive::Mode::IngestorOnly),
            },
        },
    })
}

/// The pretend cluster with the ingestors at `INGESTORS + 1` pods (the joining one has its
/// address from the start, as its DNS name would), routers whose ring lists `members`, and a
/// querier of the ingestors. The same IP block and order give every pod the same address in
/// every such cluster.
fn cluster(dir: &Path, block: &IpBlock, members: i64) -> Cluster {
    let ctx = RenderContext::default();
    let none = BTreeMap::new();
    let mut c = Cluster::new(dir, block.ips.clone());
    let ing = spec::<Receive>(ingestors(INGESTORS + 1));
    let router = spec::<Receive>(routers(members));
    // The querier reads the ingestors that stay, by their pod addresses.
    let stores: Vec<serde_json::Value> =
        receive::ingestor_endpoints("ing", NS, INGESTORS, receive::Mode::IngestorOnly)
            .into_iter()
            .map(|address| serde_json::json!({ "address": address }))
            .collect();
    let q = spec::<Query>(serde_json::json!({"name": "rq", "namespace": NS, "stores": stores}));
    c.add(&receive::render(&ing, &ctx, &none).unwrap());
    c.add(&receive::render(&router, &ctx, &none).unwrap());
    c.add(&query::render(&q, &ctx).unwrap());
    c
}

fn router_pod(i: usize) -> String {
    format!("thanosreceive-router-{i}")
}

/// Gives every router the ring of the first `members` ingestors as the kubelet updates a
/// ConfigMap volume (a new file renamed over the old one), and waits until each reports the
/// new file's hash.
fn change_ring(work: &Path, block: &IpBlock, members: i64, routers: &[Launch], procs: &[Process]) {
    let scratch = work.join(format!("ring-{members}"));
    let next = cluster(&scratch, block, members);
    let path = receive::HASHRINGS_PATH;
    let mut contents = Vec::new();
    for (i, live) in routers.iter().enumerate() {
        let staged = next.launch(&router_pod(i)).path(path);
        let content = std::fs::read_to_string(&staged).unwrap();
        let target = live.path(path);
        let tmp = target.with_extension("json.next");
        std::fs::write(&tmp, &content).unwrap();
        std::fs::rename(&tmp, &target).unwrap();
        contents.push(content);
    }
    // What the provider's apply waits for (`thanos_cluster::reload`): each router's metrics
    // report the file it runs, read here directly instead of through the API server's proxy.
    let deadline = Instant::now() + LOADED;
    for (live, content) in routers.iter().zip(contents) {
        loop {
            let running = remote_write::metrics(&http_addr(live))
                .map(|text| hashring::running_config(&text))
                .ok();
            if running.is_some_and(|r| r.runs(&content)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} never loaded the ring of {members} (it reports {running:?}, want config hash {})\n{}",
                live.name,
                hashring::config_hash_metric(&content),
                logs(procs)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Forwards that failed, summed over the routers (`thanos_receive_forward_requests_total`;
/// Thanos leaves out a copy refused as already written or out of order).
fn forward_errors(routers: &[Launch], procs: &[Process]) -> f64 {
    routers
        .iter()
        .map(|l| {
            metric(
                &http_addr(l),
                "thanos_receive_forward_requests_total{result=\"error\"}",
            )
            .unwrap_or_else(|| panic!("{} reports no failed forwards\n{}", l.name, logs(procs)))
        })
        .sum()
}

/// [`forward_errors`] once it has not changed for a second.
fn settle(routers: &[Launch], procs: &[Process]) -> f64 {
    let deadline = Instant::now() + LOADED;
    let mut last = forward_errors(routers, procs);
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_secs(1) {
        assert!(
            Instant::now() < deadline,
            "the routers' failed forwards never stopped growing ({last})\n{}",
            logs(procs)
        );
        std::thread::sleep(Duration::from_millis(100));
        let now = forward_errors(routers, procs);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    last
}

/// The value of a sample (`name` with its labels, as exposed) on a process's `/metrics`.
fn metric(http: &str, name: &str) -> Option<f64> {
    let text = remote_write::metrics(http).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Writes `SERIES` series without pause, one request at a time, to the routers in turn, until
/// `stop`; each request's samples have a timestamp of their own (increasing).
fn writer(urls: Vec<String>, stop: Arc<AtomicBool>, sent: Arc<Mutex<Vec<Sent>>>) {
    let mut last = 0;
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let ts = now_ms().max(last + 1);
        last = ts;
        let series: Vec<String> = (0..SERIES).map(|i| i.to_string()).collect();
        let req = remote_write::WriteRequest {
            timeseries: series
                .iter()
                .map(|s| {
                    remote_write::series(&[("__name__", METRIC), ("series", s)], &[(ts, n as f64)])
                })
                .collect(),
        };
        let router = n % urls.len();
        let answer =
            remote_write::try_send(&urls[router], TENANT_HEADER, TENANT, &req).map(|(s, b)| {
                if s != 200 {
                    eprintln!("router {router} answered {s}: {b}");
                }
                s
            });
        sent.lock().unwrap().push(Sent { ts, router, answer });
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ingestors_join_and_leave_under_remote_write_without_a_failed_request() {
    let Some(bin) = thanos::binary() else { return };
    thanos::assert_release_build(&bin);
    let work = Work::new();
    let block = IpBlock::acquire();
    let c = cluster(work.path(), &block, INGESTORS);

    let ingestor = |i: i64| format!("thanosreceive-ing-{i}");
    let mut pods: Vec<String> = (0..INGESTORS).map(ingestor).collect();
    pods.extend((0..ROUTERS).map(router_pod));
    pods.push("thanosquery-rq-0".to_owned());
    let launches: Vec<Launch> = pods.iter().map(|p| c.launch(p)).collect();
    let mut procs: Vec<Process> = launches
        .iter()
        .map(|l| start(&bin, work.path(), l))
        .collect();
    let deadline = Instant::now() + READY;
    for (p, l) in procs.iter_mut().zip(&launches) {
        p.wait_ready(&http_addr(l), deadline);
    }
    let first_router = INGESTORS as usize;
    let router_launches = launches[first_router..first_router + ROUTERS].to_vec();
    let querier = launches.last().unwrap().clone();

    let urls = router_launches
        .iter()
        .map(|l| format!("http://{}:19291/api/v1/receive", l.ip))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let handle = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || writer(urls, stop, sent))
    };
    std::thread::sleep(UNDER_LOAD);

    // Growing: the new ingestor is Ready before a ring lists it.
    let joining = c.launch(&ingestor(INGESTORS));
    let mut newcomer = start(&bin, work.path(), &joining);
    newcomer.wait_ready(&http_addr(&joining), Instant::now() + READY);
    procs.push(newcomer);
    std::thread::sleep(UNDER_LOAD);
    change_ring(work.path(), &block, INGESTORS + 1, &router_launches, &procs);
    std::thread::sleep(UNDER_LOAD);

    // Shrinking: every router runs the smaller ring before the ingestor leaves.
    change_ring(work.path(), &block, INGESTORS, &router_launches, &procs);
    let mut leaving = procs.pop().unwrap();
    stop_all(std::slice::from_mut(&mut leaving));
    // Requests cannot show the order: a write with three copies succeeds with two, so it
    // survives one missing ingestor whatever the order. The routers' failed forwards can: a
    // copy already on its way when the ingestor stopped may fail (its write had its quorum
    // without it), and so may the first copies a new ingestor gets while it opens the
    // tenant's TSDB; once those settle, no router sends the leaving ingestor anything more.
    let settled = settle(&router_launches, &procs);
    std::thread::sleep(UNDER_LOAD);
    assert_eq!(
        forward_errors(&router_launches, &procs),
        settled,
        "routers still forward to the ingestor that left\n{}",
        logs(&procs)
    );

    // Control: a ring that lists the ingestor that left (the wrong order) shows up there.
    change_ring(work.path(), &block, INGESTORS + 1, &router_launches, &procs);
    let control = Instant::now() + LOADED;
    while forward_errors(&router_launches, &procs) == settled {
        assert!(
            Instant::now() < control,
            "a ring listing a stopped ingestor caused no failed forward: the checks above cannot fail"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let sent = sent.lock().unwrap().clone();
    let failed: Vec<&Sent> = sent.iter().filter(|s| s.answer != Ok(200)).collect();
    assert!(
        failed.is_empty(),
        "{} of {} remote-write requests failed: {failed:#?}\n{}",
        failed.len(),
        sent.len(),
        logs(&procs)
    );
    // Both routers took writes in every phase (the writer alternates).
    assert!(sent.len() > 20, "only {} requests were sent", sent.len());
    assert!(sent.iter().any(|s| s.router == 1));

    // Every sample of every series, in at least one of its copies: the union of the copies
    // is what deduplication may return. (Not the querier's own `dedup=true`: its penalty
    // algorithm skips samples closer together than its penalty when it switches copies,
    // `pkg/dedup/iter.go` of the pinned Thanos, and these are 20 ms apart.)
    let want: BTreeSet<i64> = sent.iter().map(|s| s.ts).collect();
    let (from, to) = (*want.first().unwrap(), *want.last().unwrap());
    let range = format!("{METRIC}[{}ms]", to - from + 1_000);
    let at = format!("{:.3}", (to + 1) as f64 / 1000.0);
    let query_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let last = match remote_write::query(
            &http_addr(&querier),
            &[("query", &range), ("time", &at), ("dedup", "false")],
        )
        .map(|d| parse_matrix(&d))
        {
            Ok(copies) => {
                let mut union: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
                for (labels, samples) in copies {
                    union
                        .entry(labels["series"].clone())
                        .or_default()
                        .extend(samples.iter().map(|(ts, _)| *ts));
                }
                let incomplete: Vec<String> = union
                    .iter()
                    .filter(|(_, got)| **got != want)
                    .map(|(series, got)| {
                        format!(
                            "series {series}: {} of {} samples, {} missing",
                            got.len(),
                            want.len(),
                            want.difference(got).count()
                        )
                    })
                    .collect();
                if union.len() == SERIES && incomplete.is_empty() {
                    break;
                }
                format!(
                    "{} of {SERIES} series; incomplete: {incomplete:?}",
                    union.len()
                )
            }
            Err(e) => e,
        };
        assert!(
            Instant::now() < query_deadline,
            "not every written sample is queryable; last answer: {last}\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    stop_all(&mut procs);
}
