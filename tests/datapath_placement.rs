//! The placement function agrees with real routers: a rendered router (replication factor 2)
//! in front of rendered ingestors, run as real `thanos` processes, takes many series for two
//! tenants, and every series is found on exactly the ingestors that
//! `thanos_render::placement` predicts, for a ketama ring with availability zones and for a
//! hashmod ring. The plan's ring-change share is computed with that function, so this is
//! what makes the share true of the real Thanos, not only of the vectors.
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
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use support::{Work, http_addr, logs, now_ms, parse_matrix, spec, start, stop_all, with};
use terraform_provider_thanos::resources::{query::Query, receive::Receive};
use thanos::{IpBlock, Process};
use thanos_render::placement::{Algorithm, Endpoint, Ring};
use thanos_render::{RenderContext, query, receive};

const NS: &str = "monitoring";
const TENANT_HEADER: &str = "THANOS-TENANT";
const METRIC: &str = "placement_samples";
const TENANTS: [&str; 2] = ["tenant-a", "tenant-b"];
/// Series written per tenant.
const SERIES: usize = 150;
const REPLICATION_FACTOR: u64 = 2;
const READY: Duration = Duration::from_secs(30);
const STORES_SEEN: Duration = Duration::from_secs(45);

/// Where each written series was found: `(tenant, series label)` → ingestor pod names.
type Placement = BTreeMap<(String, String), BTreeSet<String>>;

fn tenancy() -> serde_json::Value {
    serde_json::json!({
        "namespace": NS,
        "tenant_header": TENANT_HEADER,
        "tenant_label_name": "tenant_id",
    })
}

/// The ingestors' endpoints and, for a zoned ring, their zones (alternating `a`, `b`).
fn members(ingestors: i64, zoned: bool) -> (Vec<String>, BTreeMap<String, String>) {
    let endpoints = receive::ingestor_endpoints("ing", NS, ingestors, receive::Mode::IngestorOnly);
    let zones = if zoned {
        endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.clone(), ["a", "b"][i % 2].to_owned()))
            .collect()
    } else {
        BTreeMap::new()
    };
    (endpoints, zones)
}

/// Runs the stack, writes the series and returns where the query found each one, and the
/// address each ingestor has in the router's ring here: the local translation replaces the
/// rendered per-pod DNS names by the pods' loopback addresses (`datapath/cluster.rs`, rule 4),
/// and a ring places series by the addresses it lists.
fn observe(
    algorithm: Algorithm,
    ingestors: i64,
    zoned: bool,
) -> Option<(Placement, BTreeMap<String, String>)> {
    let bin = thanos::binary()?;
    thanos::assert_release_build(&bin);
    let work = Work::new();
    let block = IpBlock::acquire();
    let ctx = RenderContext::default();
    let none = BTreeMap::new();
    let (endpoints, zones) = members(ingestors, zoned);
    let ingestor = spec::<Receive>(with(
        tenancy(),
        serde_json::json!({"name": "ing", "replicas": ingestors, "ingestor": {}}),
    ));
    let router = spec::<Receive>(with(
        tenancy(),
        serde_json::json!({"name": "router", "replicas": 1, "router": {
            "replication_factor": REPLICATION_FACTOR,
            "soft_tenant_hashring": {
                "name": "default",
                "algorithm": algorithm.as_str(),
                "endpoints": endpoints,
                "endpoint_zones": zones,
            },
        }}),
    ));
    let q = spec::<Query>(serde_json::json!({
        "name": "pq",
        "namespace": NS,
        "stores": [{"address": format!("dnssrv+_grpc._tcp.{}.{NS}.svc", receive::service_name("ing"))}],
    }));
    let mut c = Cluster::new(work.path(), block.ips.clone());
    c.add(&receive::render(&ingestor, &ctx, &none).unwrap());
    c.add(&receive::render(&router, &ctx, &none).unwrap());
    c.add(&query::render(&q, &ctx).unwrap());

    let mut pods: Vec<String> = (0..ingestors)
        .map(|i| format!("thanosreceive-ing-{i}"))
        .collect();
    let addresses: BTreeMap<String, String> = endpoints
        .iter()
        .zip(&pods)
        .map(|(e, pod)| (e.clone(), format!("{}:10901", c.pod(pod).ip)))
        .collect();
    pods.push("thanosreceive-router-0".to_owned());
    pods.push("thanosquery-pq-0".to_owned());
    let launches: Vec<Launch> = pods.iter().map(|p| c.launch(p)).collect();
    let mut procs: Vec<Process> = launches
        .iter()
        .map(|l| start(&bin, work.path(), l))
        .collect();
    let deadline = Instant::now() + READY;
    for (p, l) in procs.iter_mut().zip(&launches) {
        p.wait_ready(&http_addr(l), deadline);
    }

    let url = format!(
        "http://{}:19291/api/v1/receive",
        c.pod("thanosreceive-router-0").ip
    );
    let t0 = now_ms() - 30_000;
    for tenant in TENANTS {
        let series: Vec<String> = (0..SERIES).map(|i| i.to_string()).collect();
        let req = remote_write::WriteRequest {
            timeseries: series
                .iter()
                .map(|s| remote_write::series(&[("__name__", METRIC), ("series", s)], &[(t0, 1.0)]))
                .collect(),
        };
        loop {
            let (status, body) = remote_write::send(&url, TENANT_HEADER, tenant, &req);
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "remote write for {tenant} answered {status}: {body}\n{}",
                logs(&procs)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    // Every copy of every series, each labelled with the ingestor that holds it.
    let query = launches.last().unwrap();
    let range = format!("{METRIC}[5m]");
    let copies = TENANTS.len() * SERIES * REPLICATION_FACTOR as usize;
    let query_deadline = Instant::now() + STORES_SEEN;
    let raw = loop {
        let at = format!("{:.3}", (now_ms() + 1000) as f64 / 1000.0);
        let last = match remote_write::query(
            &http_addr(query),
            &[("query", &range), ("time", &at), ("dedup", "false")],
        )
        .map(|d| parse_matrix(&d))
        {
            Ok(got) if got.len() == copies => break got,
            Ok(got) => format!("{} of {copies} series copies", got.len()),
            Err(e) => e,
        };
        assert!(
            Instant::now() < query_deadline,
            "the query never returned every copy; last answer: {last}\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    stop_all(&mut procs);
    let mut found = Placement::new();
    for (labels, _) in raw {
        found
            .entry((labels["tenant_id"].clone(), labels["series"].clone()))
            .or_default()
            .insert(labels["receive_replica"].clone());
    }
    Some((found, addresses))
}

/// Where `thanos_render::placement` puts every written series, for a ring of the rendered
/// endpoints listed under `addresses` (rendered endpoint → address in the ring).
fn predict(
    algorithm: Algorithm,
    ingestors: i64,
    zoned: bool,
    addresses: &BTreeMap<String, String>,
) -> Placement {
    let (endpoints, zones) = members(ingestors, zoned);
    let pod_of: BTreeMap<&str, &str> = endpoints
        .iter()
        .map(|e| (addresses[e].as_str(), e.split('.').next().unwrap()))
        .collect();
    let ring = Ring::new(
        algorithm,
        endpoints
            .iter()
            .map(|e| match zones.get(e) {
                Some(z) => Endpoint::with_az(&addresses[e], z),
                None => Endpoint::new(&addresses[e]),
            })
            .collect(),
        REPLICATION_FACTOR,
    )
    .unwrap();
    let mut out = Placement::new();
    for tenant in TENANTS {
        for i in 0..SERIES {
            let series = i.to_string();
            // The labels as the write request lists them (sorted by name).
            let labels = [("__name__", METRIC), ("series", series.as_str())];
            let pods = ring
                .ingestors(tenant, &labels)
                .into_iter()
                .map(|address| pod_of[address].to_owned())
                .collect();
            out.insert((tenant.to_owned(), series), pods);
        }
    }
    out
}

fn assert_agrees(algorithm: Algorithm, ingestors: i64, zoned: bool, other: Algorithm) {
    let Some((found, addresses)) = observe(algorithm, ingestors, zoned) else {
        return;
    };
    let predicted = predict(algorithm, ingestors, zoned, &addresses);
    let wrong: Vec<_> = predicted
        .iter()
        .filter(|(k, v)| found.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: predicted {v:?}, found {:?}", found.get(k)))
        .collect();
    assert!(
        wrong.is_empty() && found.len() == predicted.len(),
        "{} of {} series placed elsewhere than predicted:\n{}",
        wrong.len(),
        predicted.len(),
        wrong.join("\n")
    );
    // The comparison tells placements apart: the other algorithm's prediction disagrees.
    assert!(
        predict(other, ingestors, false, &addresses) != found,
        "{other:?} predicts the same placement: the test could not fail"
    );
}

#[test]
fn ketama_with_zones_places_series_where_the_function_predicts() {
    assert_agrees(Algorithm::Ketama, 4, true, Algorithm::Hashmod);
}

#[test]
fn hashmod_places_series_where_the_function_predicts() {
    assert_agrees(Algorithm::Hashmod, 3, false, Algorithm::Ketama);
}
