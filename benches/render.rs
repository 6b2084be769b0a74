//! Rendering the seed quickstart stack (ingestor, router with a discovered soft ring, query)
//! must take well under a millisecond: plan renders every resource on every run.

//!
//! The specs are made from the rendering tests' fixtures the way a plan makes them (defaults,
//! model, validation); only rendering is measured.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use terraform_provider_thanos::lifecycle::Kind;
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use terraform_provider_thanos::testing;
use thanos_render::{RenderContext, query, receive, storage};

fn spec<K: Kind>(name: &str) -> K::Spec {
    let path = format!(
        "{}/tests/render/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    testing::spec::<K>(&json).unwrap()
}

fn bench(c: &mut Criterion) {
    let ctx = RenderContext::default();
    let ingestor = spec::<Receive>("quickstart_ingestor");
    let router = spec::<Receive>("quickstart_router");
    let q = spec::<Query>("quickstart_query");
    let discovered = BTreeMap::from([(
        "test".to_owned(),
        receive::ingestor_endpoints(
            &ingestor.common.name,
            &ingestor.common.namespace,
            i64::from(ingestor.replicas),
            ingestor.mode(),
        ),
    )]);
    let empty = BTreeMap::new();
    c.bench_function("render quickstart stack", |b| {
        b.iter(|| {
            let a = receive::render(black_box(&ingestor), &ctx, &empty).unwrap();
            let r = receive::render(black_box(&router), &ctx, &discovered).unwrap();
            let qq = query::render(black_box(&q), &ctx).unwrap();
            (a, r, qq)
        })
    });
    let mode1 = spec::<Query>("usage_mode1_query");
    // Includes building and schema-validating the envoy config.
    c.bench_function("render query with TLS stores (envoy)", |b| {
        b.iter(|| query::render(black_box(&mode1), &ctx).unwrap())
    });
    let s = spec::<Storage>("storage");
    c.bench_function("render storage", |b| {
        b.iter(|| storage::render(black_box(&s), &ctx))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
