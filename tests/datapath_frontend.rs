//! The rendered query frontend really runs, with the real `thanos` binary (see `datapath.rs`
//! for how pods become local processes): samples remote-written to a receive, a querier that
//! reads them, and `thanos query-frontend` in front of the querier exactly as a `thanos_query`
//! with a `frontend` block renders it (split interval, retries, an in-memory results cache,
//! a downstream timeout).
//!
//! - A PromQL range query through the frontend returns the same series and samples as the
//!   same query sent to the querier itself (the frontend split it into several intervals and
//!   merged the answers).
//! - The same query again is answered from the frontend's results cache: its cache counts a
//!   hit (`cortex_cache_hits_total` on its `/metrics`), and the querier serves no range query
//!   for it (`http_requests_total{handler="query_range"}` on the querier's `/metrics` stays
//!   the same). Negative control: the first query was a miss that reached the querier, once
//!   per split interval.

#[path = "datapath/cluster.rs"]
mod cluster;
#[path = "datapath/remote_write.rs"]
mod remote_write;
#[path = "datapath/support.rs"]
mod support;
#[path = "datapath/thanos.rs"]
mod thanos;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use support::{
    Series, Work, http_addr, logs, now_ms, outside_receive_prune_minute, parse_matrix, spec, start,
    stop_all,
};
use terraform_provider_thanos::resources::{query::Query, receive::Receive};
use thanos::{IpBlock, Process};
use thanos_render::{RenderContext, Rendered, query, receive};

const NS: &str = "monitoring";
const READY: Duration = Duration::from_secs(30);
/// How long the querier may take to reach its store (its endpoint config is read at its first
/// endpoint update) and serve the written samples.
const SERVED: Duration = Duration::from_secs(60);
const METRIC: &str = "frontend_datapath_samples";
/// The frontend's split interval: the queried range spans several.
const SPLIT: &str = "2m";
const INGESTOR: &str = "thanosreceive-ingestor-0";
const QUERIER: &str = "thanosquery-dp-0";
const FRONTEND: &str = "thanosquery-dp-frontend-0";

/// The receive and the query with its frontend, as the provider renders them.
fn render() -> Vec<Rendered> {
    let ctx = RenderContext::default();
    let ingestor = spec::<Receive>(serde_json::json!({
        "name": "ingestor", "namespace": NS, "replicas": 1, "ingestor": {},
    }));
    let query = spec::<Query>(serde_json::json!({
        "name": "dp",
        "namespace": NS,
        "stores": [
            {"address": receive::store_endpoint("ingestor", NS, receive::Mode::IngestorOnly).unwrap()},
        ],
        "frontend": {
            "split_interval": SPLIT,
            "max_retries": 2,
            "downstream_timeout": "1m",
            "results_cache": {"in_memory_max_size": "64MB"},
        },
    }));
    vec![
        receive::render(&ingestor, &ctx, &BTreeMap::new()).unwrap(),
        query::render(&query, &ctx).unwrap(),
    ]
}

/// GET `…/api/v1/query_range`; the JSON `data` on success, else the error text.
fn query_range(http: &str, params: &[(&str, &str)]) -> Result<serde_json::Value, String> {
    remote_write::api_get(http, "query_range", params)
}

/// The sum of every sample of the metric `name` on a process's `/metrics` whose labels
/// contain each of `having` (text exposition format, e.g. `handler="query_range"`).
fn metric_sum(http: &str, name: &str, having: &[&str]) -> f64 {
    let text = remote_write::metrics(http).unwrap_or_else(|e| panic!("{e}"));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| having.iter().all(|h| l.contains(h)))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("not a sample line: {l}"))
        })
        .sum()
}

/// The series of a matrix, sorted by their labels.
fn sorted(mut series: Vec<Series>) -> Vec<Series> {
    series.sort_by(|a, b| a.0.cmp(&b.0));
    series
}

#[test]
fn range_queries_through_the_frontend_match_the_querier_and_repeat_from_its_cache() {
    let Some(bin) = thanos::binary() else { return };
    let work = Work::new();
    let block = IpBlock::acquire();
    let mut c = Cluster::new(work.path(), block.ips.clone());
    for r in &render() {
        c.add(r);
    }
    let launches: Vec<Launch> = [INGESTOR, QUERIER, FRONTEND]
        .iter()
        .map(|p| c.launch(p))
        .collect();
    let frontend = &launches[2];
    assert_eq!(frontend.args[0], "query-frontend", "{:?}", frontend.args);
    // The frontend's downstream is the querier's pod (its Service's only one).
    assert_eq!(
        frontend.flag("--query-frontend.downstream-url"),
        Some(format!("http://{}", http_addr(&launches[1])).as_str()),
        "{:?}",
        frontend.args
    );
    outside_receive_prune_minute();
    let mut procs: Vec<Process> = launches
        .iter()
        .map(|l| start(&bin, work.path(), l))
        .collect();
    let deadline = Instant::now() + READY;
    for (p, l) in procs.iter_mut().zip(&launches) {
        p.wait_ready(&http_addr(l), deadline);
    }

    // Two series, a sample every 15s from 9 to 3 minutes ago: old enough for the results
    // cache, which leaves out the most recent minute (`--query-range.response-cache-max-freshness`).
    let now = now_ms();
    let (from, to) = (now - 9 * 60_000, now - 3 * 60_000);
    let samples = |scale: f64| -> Vec<(i64, f64)> {
        (0..)
            .map(|i| from + i * 15_000)
            .take_while(|t| *t <= to)
            .enumerate()
            .map(|(i, t)| (t, scale * i as f64))
            .collect()
    };
    let req = remote_write::WriteRequest {
        timeseries: vec![
            remote_write::series(&[("__name__", METRIC), ("job", "a")], &samples(1.0)),
            remote_write::series(&[("__name__", METRIC), ("job", "b")], &samples(10.0)),
        ],
    };
    let url = format!("http://{}:19291/api/v1/receive", launches[0].ip);
    loop {
        let (status, body) = remote_write::send(&url, "THANOS-TENANT", "team-a", &req);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "remote write answered {status}: {body}\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // Start and end on multiples of the step, as Grafana sends them: the frontend evaluates
    // each split interval at the step's multiples, so an unaligned range would be answered
    // at other timestamps than the querier's (an intended difference, not this test's).
    const STEP_MS: i64 = 30_000;
    let (start, end) = ((from / STEP_MS + 1) * STEP_MS, to / STEP_MS * STEP_MS);
    let steps = usize::try_from((end - start) / STEP_MS + 1).unwrap();
    let seconds = |ms: i64| (ms / 1000).to_string();
    let (start_s, end_s) = (seconds(start), seconds(end));
    let params: [(&str, &str); 4] = [
        ("query", METRIC),
        ("start", &start_s),
        ("end", &end_s),
        ("step", "30"),
    ];
    let querier = http_addr(&launches[1]);
    let front = http_addr(frontend);

    // The querier serves both series once it reaches its store.
    let served = Instant::now() + SERVED;
    let direct = loop {
        match query_range(&querier, &params).map(|d| sorted(parse_matrix(&d))) {
            Ok(found) if found.len() == 2 => break found,
            other => assert!(
                Instant::now() < served,
                "the querier never served both series; last answer: {other:?}\n{}",
                logs(&procs)
            ),
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        direct.iter().all(|(_, s)| s.len() == steps),
        "unexpected querier result: {direct:?}"
    );

    // 1. Through the frontend: the same answer, from several downstream queries (one per
    //    split interval), none from the cache.
    let handled = |p: &str| metric_sum(p, "http_requests_total", &[r#"handler="query_range""#]);
    let hits = || metric_sum(&front, "cortex_cache_hits_total", &[]);
    let fetched = || metric_sum(&front, "cortex_cache_fetched_keys_total", &[]);
    let (downstream_before, hits_before, fetched_before) = (handled(&querier), hits(), fetched());
    let through = sorted(parse_matrix(
        &query_range(&front, &params).unwrap_or_else(|e| panic!("{e}\n{}", logs(&procs))),
    ));
    assert_eq!(
        through, direct,
        "the frontend's answer is not the querier's"
    );
    let downstream_first = handled(&querier) - downstream_before;
    assert!(
        downstream_first >= 3.0,
        "a 6-minute range split every {SPLIT} should reach the querier at least 3 times, reached it {downstream_first} times\n{}",
        logs(&procs)
    );
    assert!(
        fetched() > fetched_before,
        "the frontend did not look in its cache"
    );
    assert_eq!(hits(), hits_before, "a first query cannot hit the cache");

    // 2. The same query again: the same answer, from the cache alone.
    let again = sorted(parse_matrix(
        &query_range(&front, &params).unwrap_or_else(|e| panic!("{e}\n{}", logs(&procs))),
    ));
    assert_eq!(again, direct, "the cached answer is not the querier's");
    assert!(
        hits() >= hits_before + downstream_first,
        "the repeated query did not hit the cache for every split interval (hits {} → {})\n{}",
        hits_before,
        hits(),
        logs(&procs)
    );
    assert_eq!(
        handled(&querier) - downstream_before,
        downstream_first,
        "the repeated query reached the querier"
    );

    stop_all(&mut procs);
}
