//! Rendering the seed quickstart stack (ingestor, router with a discovered soft ring, query)
//! must take well under a millisecond: plan renders every resource on every run.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use thanos_render::query::{self, QuerySpec};
use thanos_render::receive::{self, ReceiveSpec};
use thanos_render::{RenderContext, storage};

fn spec<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let ctx = RenderContext::default();
    let ingestor: ReceiveSpec = spec("quickstart_ingestor");
    let router: ReceiveSpec = spec("quickstart_router");
    let q: QuerySpec = spec("quickstart_query");
    let discovered = BTreeMap::from([(
        "test".to_owned(),
        receive::ingestor_endpoints(&ingestor).unwrap(),
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
    let mode1: QuerySpec = spec("usage_mode1_query");
    // Includes building and schema-validating the envoy config.
    c.bench_function("render query with TLS stores (envoy)", |b| {
        b.iter(|| query::render(black_box(&mode1), &ctx).unwrap())
    });
    let s: storage::StorageSpec = spec("storage");
    c.bench_function("render storage", |b| {
        b.iter(|| storage::render(black_box(&s), &ctx).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
