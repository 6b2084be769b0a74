//! `thanos_query`: a Thanos Querier Deployment and Service, the store-discovery ConfigMap, the
//! envoy sidecar that reaches TLS-protected stores, and optional Ingresses.

use tfplugin::framework::{Attribute, Block, NestedBlock, ObjectNesting, Schema, Validator};
use tfvalue::Value;

use super::fragments;

pub const TYPE_NAME: &str = "thanos_query";

pub fn schema() -> Schema {
    let (placement_attrs, placement_blocks) = fragments::placement();
    let (lifecycle_attrs, lifecycle_blocks) = fragments::lifecycle();
    let block = Block::new(
        "A Thanos Query (querier) deployment: it answers PromQL over every configured store. \
         Stores reached with TLS (`secret_name` set) go through an envoy sidecar that terminates \
         the query's plaintext gRPC and speaks TLS to the store.",
    )
    .attributes(fragments::identity_and_image("Thanos Query", "thanosquery"))
    .attribute(
        Attribute::number("replicas")
            .default(1i64)
            .validate(Validator::int_at_least(0))
            .description("Number of querier pods. Defaults to `1`."),
    )
    .attribute(
        Attribute::nested(
            "stores",
            ObjectNesting::List,
            [
                Attribute::string("address")
                    .required()
                    .validate(Validator::not_empty())
                    .description("Store API address: `host:port`, or a Thanos DNS discovery form (`dns+`, `dnssrv+`, `dnssrvnoa+`) for stores reached directly. A store with `secret_name` must be `host:port`."),
                Attribute::string("secret_name")
                    .validate(fragments::dns_label())
                    .description("Secret holding the CA that signs the store's certificate. Setting it routes this store through the envoy sidecar with TLS."),
                Attribute::string("ca_key")
                    .description("Key of the CA certificate in `secret_name`. Defaults to `ca.crt`."),
                Attribute::string("client_secret_name")
                    .validate(fragments::dns_label())
                    .description("Secret with `tls.crt` and `tls.key` presented to the store (mutual TLS). Needs `secret_name`."),
                Attribute::string("server_name")
                    .description("Name sent as SNI and checked against the store certificate's subject alternative names. Defaults to the host of `address`."),
            ],
        )
        .description("Store API endpoints the querier fans out to, in order."),
    )
    .attribute(
        Attribute::string_map("selector_labels")
            .description("Only query series matching these labels (`--selector-label`, rendered sorted)."),
    )
    .attribute(
        Attribute::string_list("replica_labels")
            .default(Value::list(["prometheus_replica", "receive_replica"]))
            .description("Labels that mark replicas of the same series, removed when deduplicating (`--query.replica-label`). Defaults to `[\"prometheus_replica\", \"receive_replica\"]`, which deduplicates Prometheus HA pairs and replicated Thanos Receive data."),
    )
    .attributes(placement_attrs)
    .attributes(lifecycle_attrs)
    .attribute(
        Attribute::string("grpc_endpoint")
            .computed()
            .description("The querier's Store API address inside the cluster (`host:port`), for a higher-level query."),
    )
    .attribute(
        Attribute::string("http_url")
            .computed()
            .description("The querier's HTTP API URL inside the cluster."),
    )
    .block(fragments::resources_block("the querier container"))
    .block(fragments::ingress_block("http_ingress", "the querier's HTTP API and UI (port 10902)"))
    .block(fragments::ingress_block("grpc_ingress", "the querier's Store API over gRPC (port 10901)"))
    .block(NestedBlock::single(
        "envoy",
        Block::new("The envoy sidecar, present only when some store has `secret_name`.")
            .attribute(Attribute::string("image").description("Envoy image. Defaults to the provider's `default_envoy_image`."))
            .attribute(
                Attribute::string("image_pull_policy")
                    .validate(Validator::one_of(fragments::PULL_POLICIES))
                    .description("Pull policy of the envoy image. Defaults to `IfNotPresent`."),
            )
            .block(fragments::resources_block("the envoy sidecar")),
    ))
    .blocks(placement_blocks)
    .blocks(lifecycle_blocks);
    Schema::new(0, block)
}

/// `thanos_query` as a rendered stack.
pub struct Query;

impl super::stack::Stack for Query {
    type Spec = thanos_render::query::QuerySpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const KIND: thanos_render::meta::Kind = thanos_render::meta::Kind::Query;
    const COMPUTED: &'static [&'static str] = &["grpc_endpoint", "http_url"];

    fn schema() -> Schema {
        schema()
    }

    fn validate(spec: &Self::Spec) -> Vec<thanos_render::Invalid> {
        thanos_render::query::validate(spec)
    }

    fn render(
        spec: &Self::Spec,
        context: &thanos_render::RenderContext,
        _discovered: &super::stack::Discovered,
    ) -> Result<thanos_render::Rendered, thanos_render::Error> {
        thanos_render::query::render(spec, context)
    }

    fn computed(
        spec: &Self::Spec,
        _discovered: &super::stack::Discovered,
    ) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        if let Some(v) = thanos_render::query::grpc_endpoint(spec) {
            out.push(("grpc_endpoint", Value::from(v)));
        }
        if let Some(v) = thanos_render::query::http_url(spec) {
            out.push(("http_url", Value::from(v)));
        }
        out
    }
}
