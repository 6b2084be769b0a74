//! `thanos_receive`: Thanos Receive as a router (Deployment + hashring ConfigMap), an ingestor
//! (StatefulSet with TSDB volumes) or both in one StatefulSet, with its Service and optional
//! remote-write Ingress.

use tfplugin::framework::{Attribute, Block, NestedBlock, Schema, Validator};
use tfvalue::{Type, Value};

use super::fragments;

pub const TYPE_NAME: &str = "thanos_receive";

fn label_selector(name: &str, what: &str) -> NestedBlock {
    NestedBlock::single(
        name,
        Block::new(format!(
            "A Kubernetes label selector of {what}; all conditions must hold."
        ))
        .attribute(
            Attribute::string_map("match_labels")
                .description("Labels that must all be present with these values."),
        )
        .block(NestedBlock::list(
            "match_expressions",
            Block::new("A set-based requirement.")
                .attribute(
                    Attribute::string("key")
                        .required()
                        .description("Label key."),
                )
                .attribute(
                    Attribute::string("operator")
                        .required()
                        .validate(Validator::one_of(&[
                            "In",
                            "NotIn",
                            "Exists",
                            "DoesNotExist",
                        ]))
                        .description("`In`, `NotIn`, `Exists` or `DoesNotExist`."),
                )
                .attribute(Attribute::string_list("values").description(
                    "Values for `In` and `NotIn`; must be empty for `Exists` and `DoesNotExist`.",
                )),
        )),
    )
}

fn hashring_block(hard: bool) -> Block {
    let tenants = if hard {
        "Tenants this ring serves (required, at least one). A tenant may appear in only one ring."
    } else {
        "Must be empty: the soft ring serves every tenant no hard ring claims."
    };
    Block::new(if hard {
        "A hashring that serves only the listed tenants. Rings are matched in order; the soft ring comes last."
    } else {
        "The hashring that serves every tenant not claimed by a hard ring."
    })
    .attribute(Attribute::string("name").required().validate(Validator::not_empty()).description("Name of the hashring (`hashring` in `hashrings.json`)."))
    .attribute(
        Attribute::string_list("tenants")
            .default(Value::List(Vec::new()))
            .description(tenants),
    )
    .attribute(
        Attribute::string_list("endpoints")
            .description("Static ring members (`host:port` of the ingestors' gRPC port), e.g. another `thanos_receive`'s `ingestor_endpoints`. When set, the selectors are ignored."),
    )
    .block(label_selector("endpoints_selector", "the ingestor Services (their EndpointSlices) whose Ready pods are ring members, discovered at plan time"))
    .block(label_selector("endpoints_namespace_selector", "the namespaces searched by `endpoints_selector`; unset searches only this resource's namespace"))
}

pub fn schema() -> Schema {
    let (placement_attrs, placement_blocks) = fragments::placement();
    let (lifecycle_attrs, lifecycle_blocks) = fragments::lifecycle();
    let ring = Type::object([
        ("name", Type::String),
        ("tenants", Type::list(Type::String)),
        ("endpoints", Type::list(Type::String)),
    ]);
    let block = Block::new(
        "A Thanos Receive deployment. With a `router` block it routes remote-write requests to \
         ingestors through hashrings; with an `ingestor` block it stores samples in its local \
         TSDB (and ships blocks to object storage); with both, each pod does both; with \
         neither, it is an ingestor.",
    )
    .attributes(fragments::identity_and_image("Thanos Receive", "thanosreceive"))
    .attribute(
        Attribute::number("replicas")
            .default(1i64)
            .validate(Validator::int_at_least(0))
            .description("Number of receive pods. Defaults to `1`."),
    )
    .attribute(Attribute::string("tenant_header").description("HTTP header carrying the tenant ID (`--receive.tenant-header`). Unset uses Thanos's default `THANOS-TENANT`."))
    .attribute(Attribute::string("default_tenant_id").description("Tenant of requests without the tenant header (`--receive.default-tenant-id`)."))
    .attribute(Attribute::string("tenant_label_name").description("External label carrying the tenant (`--receive.tenant-label-name`)."))
    .attributes(placement_attrs)
    .attributes(lifecycle_attrs)
    .attribute(
        Attribute::new("hashrings", Type::list(ring))
            .computed()
            .description("The router's hashrings exactly as written to `hashrings.json`: hard rings in order, the soft ring last, endpoints sorted. Rings with `endpoints_selector` are discovered from the cluster at plan time, so the plan shows members joining or leaving."),
    )
    .attribute(
        Attribute::string_list("ingestor_endpoints")
            .computed()
            .description("Stable per-pod gRPC endpoints of this resource's ingestors (`<pod>.<service>.<namespace>.svc:10901`), known at plan time. Use them as another ring's `endpoints`."),
    )
    .attribute(Attribute::string("store_endpoint").computed().description("Store API address of the ingestors, for `thanos_query.stores`."))
    .attribute(Attribute::string("remote_write_url").computed().description("Prometheus remote-write URL of this receive inside the cluster."))
    .block(fragments::resources_block("the receive container"))
    .block(NestedBlock::single(
        "router",
        Block::new("Routes incoming remote-write requests to ingestors through hashrings.")
            .attribute(Attribute::string("hashrings_refresh_interval").description("How often the router re-reads `hashrings.json` (`--receive.hashrings-file-refresh-interval`), a Prometheus duration such as `1m`."))
            .attribute(
                Attribute::number("replication_factor")
                    .default(1i64)
                    .validate(Validator::int_at_least(1))
                    .description("Copies written of each series (`--receive.replication-factor`). Defaults to `1`. Every static ring needs at least this many endpoints."),
            )
            .block(fragments::ingress_block("remote_write_ingress", "the remote-write endpoint (port 19291)"))
            .block(NestedBlock::list("hard_tenant_hashrings", hashring_block(true)))
            .block(NestedBlock::single("soft_tenant_hashring", hashring_block(false))),
    ))
    .block(NestedBlock::single(
        "ingestor",
        Block::new("Stores received samples in a local TSDB and, with object storage, ships completed blocks.")
            .attribute(Attribute::string("local_tsdb_retention").description("How long blocks stay in the local TSDB (`--tsdb.retention`), a Prometheus duration such as `6h`."))
            .attribute(
                Attribute::string("pvc_retention_on_delete")
                    .default("Retain")
                    .validate(Validator::one_of(&["Retain", "Delete"]))
                    .description("What happens to the data claims when the resource is destroyed: `Retain` (default, the data survives) or `Delete`."),
            )
            .attribute(
                Attribute::string("pvc_retention_on_scale_down")
                    .default("Retain")
                    .validate(Validator::one_of(&["Retain", "Delete"]))
                    .description("What happens to the claims of pods removed by scaling down: `Retain` (default) or `Delete`."),
            )
            .block(fragments::object_storage_block(false, "the ingestors to ship blocks"))
            .block(fragments::data_volume_block("the ingestors' TSDB")),
    ))
    .blocks(placement_blocks)
    .blocks(lifecycle_blocks);
    Schema::new(0, block)
}

/// `thanos_receive` as a rendered stack.
pub struct Receive;

impl super::stack::Stack for Receive {
    type Spec = thanos_render::receive::ReceiveSpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const KIND: thanos_render::meta::Kind = thanos_render::meta::Kind::Receive;
    const COMPUTED: &'static [&'static str] = &[
        "hashrings",
        "ingestor_endpoints",
        "store_endpoint",
        "remote_write_url",
    ];

    fn schema() -> Schema {
        schema()
    }

    fn validate(spec: &Self::Spec) -> Vec<thanos_render::Invalid> {
        thanos_render::receive::validate(spec)
    }

    fn render(
        spec: &Self::Spec,
        context: &thanos_render::RenderContext,
        discovered: &super::stack::Discovered,
    ) -> Result<thanos_render::Rendered, thanos_render::Error> {
        thanos_render::receive::render(spec, context, discovered)
    }

    fn computed(
        spec: &Self::Spec,
        discovered: &super::stack::Discovered,
    ) -> Vec<(&'static str, Value)> {
        use thanos_render::receive as r;
        let mut out = Vec::new();
        // Without a known name nothing below can be decided.
        if spec.name.is_none() || spec.namespace.is_none() {
            return out;
        }
        if let Some(v) = r::remote_write_url(spec) {
            out.push(("remote_write_url", Value::from(v)));
        }
        // A router-only receive has no store and no ingestors: known null / empty, not unknown.
        out.push((
            "store_endpoint",
            r::store_endpoint(spec).map_or(Value::Null, Value::from),
        ));
        if spec.replicas.is_some() {
            let endpoints = r::ingestor_endpoints(spec).unwrap_or_default();
            out.push(("ingestor_endpoints", Value::list(endpoints)));
        }
        // Rings that select members, or whose endpoints come from resources not yet known,
        // stay "known after apply".
        if let Ok(rings) = r::hashrings(spec, discovered) {
            let rings = rings.into_iter().map(|ring| {
                Value::object([
                    ("name", Value::from(ring.name)),
                    ("tenants", Value::list(ring.tenants)),
                    ("endpoints", Value::list(ring.endpoints)),
                ])
            });
            out.push(("hashrings", Value::List(rings.collect())));
        }
        out
    }

    fn selector_rings(spec: &Self::Spec) -> Vec<thanos_render::receive::Hashring> {
        let Some(router) = &spec.router else {
            return Vec::new();
        };
        router
            .hard_tenant_hashrings
            .iter()
            .flatten()
            .chain(router.soft_tenant_hashring.iter())
            .filter(|ring| ring.endpoints.is_none() && ring.endpoints_selector.is_some())
            .cloned()
            .collect()
    }

    /// Routers discover exactly these names, so an apply is complete once they are published.
    fn published_endpoints(spec: &Self::Spec) -> Vec<String> {
        thanos_render::receive::ingestor_endpoints(spec).unwrap_or_default()
    }

    /// The ingestors' TSDB claims follow `ingestor.pvc_retention_on_delete` (default Retain:
    /// data not yet shipped survives a destroy).
    fn pvc_policy_on_delete(state: &Value) -> thanos_cluster::PvcPolicy {
        state
            .get_attr("ingestor")
            .and_then(|i| i.get_attr("pvc_retention_on_delete"))
            .and_then(Value::as_str)
            .and_then(thanos_cluster::PvcPolicy::parse)
            .unwrap_or(thanos_cluster::PvcPolicy::Retain)
    }

    fn warnings(
        spec: &Self::Spec,
        discovered: &super::stack::Discovered,
    ) -> Vec<thanos_render::Invalid> {
        thanos_render::receive::discovery_warnings(spec, discovered)
    }
}
