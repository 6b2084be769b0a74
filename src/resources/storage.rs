//! `thanos_storage`: a Thanos Store Gateway serving blocks from object storage, and the
//! compactor (always a single pod) that compacts, downsamples and applies retention.

use tfplugin::framework::{Attribute, Block, NestedBlock, Schema, Validator};

use super::fragments;

pub const TYPE_NAME: &str = "thanos_storage";

pub fn schema() -> Schema {
    let (placement_attrs, placement_blocks) = fragments::placement();
    let (lifecycle_attrs, lifecycle_blocks) = fragments::lifecycle();
    let block = Block::new(
        "Long-term storage for Thanos: a Store Gateway (`gateway`) that serves the blocks in an \
         object store to queriers, and a compactor (`compact`) that compacts, downsamples and \
         deletes blocks past their retention. The compactor must be the only one writing to the \
         bucket, so it always runs as exactly one pod.",
    )
    .attributes(fragments::identity_and_image("Thanos storage stack", "thanosstorage"))
    .attributes(placement_attrs)
    .attributes(lifecycle_attrs)
    .attribute(Attribute::string("store_endpoint").computed().description("Store API address of the gateway (`host:port`), for `thanos_query.stores`; null without a `gateway` block."))
    .block(fragments::object_storage_block(true, "the gateway and the compactor"))
    .block(NestedBlock::single(
        "gateway",
        Block::new("A Thanos Store Gateway StatefulSet serving the bucket's blocks over the Store API.")
            .attribute(
                Attribute::number("replicas")
                    .default(1i64)
                    .validate(Validator::int_at_least(0))
                    .description("Number of gateway pods. Defaults to `1`."),
            )
            .attribute(Attribute::string("min_time").description("Serve only blocks newer than this (`--min-time`): RFC 3339 time or a relative duration such as `-2w`."))
            .attribute(Attribute::string("max_time").description("Serve only blocks older than this (`--max-time`): RFC 3339 time or a relative duration such as `-2h`."))
            .block(fragments::resources_block("the gateway container"))
            .block(fragments::data_volume_block("the gateway's index cache")),
    ))
    .block(NestedBlock::single(
        "compact",
        Block::new("The Thanos compactor, always exactly one pod.")
            .attribute(Attribute::bool("downsampling_disable").description("Disable downsampling (`--downsampling.disable`). Defaults to `false`."))
            .block(NestedBlock::single(
                "retention",
                Block::new("How long blocks are kept per resolution; `0d` keeps them forever.")
                    .attribute(Attribute::string("raw").description("Retention of raw data (`--retention.resolution-raw`), a Prometheus duration such as `30d`."))
                    .attribute(Attribute::string("five_minutes").description("Retention of 5-minute downsampled data (`--retention.resolution-5m`)."))
                    .attribute(Attribute::string("one_hour").description("Retention of 1-hour downsampled data (`--retention.resolution-1h`).")),
            ))
            .block(fragments::resources_block("the compactor container"))
            .block(fragments::data_volume_block("the compactor's working directory")),
    ))
    .blocks(placement_blocks)
    .blocks(lifecycle_blocks);
    Schema::new(0, block)
}

/// `thanos_storage` as a rendered stack.
pub struct Storage;

impl super::stack::Stack for Storage {
    type Spec = thanos_render::storage::StorageSpec;
    const TYPE_NAME: &'static str = TYPE_NAME;
    const KIND: thanos_render::meta::Kind = thanos_render::meta::Kind::Storage;
    const COMPUTED: &'static [&'static str] = &["store_endpoint"];

    fn schema() -> Schema {
        schema()
    }

    fn validate(spec: &Self::Spec) -> Vec<thanos_render::Invalid> {
        thanos_render::storage::validate(spec)
    }

    fn render(
        spec: &Self::Spec,
        context: &thanos_render::RenderContext,
        _discovered: &super::stack::Discovered,
    ) -> Result<thanos_render::Rendered, thanos_render::Error> {
        thanos_render::storage::render(spec, context)
    }

    /// The gateway's and compactor's volumes are caches of the bucket (which keeps the data):
    /// they go with the resource.
    fn pvc_policy_on_delete(_state: &tfvalue::Value) -> thanos_cluster::PvcPolicy {
        thanos_cluster::PvcPolicy::Delete
    }

    fn computed(
        spec: &Self::Spec,
        _discovered: &super::stack::Discovered,
    ) -> Vec<(&'static str, tfvalue::Value)> {
        if spec.name.is_none() || spec.namespace.is_none() {
            return Vec::new();
        }
        // Without a gateway there is no store endpoint: a known null.
        let endpoint = thanos_render::storage::store_endpoint(spec);
        vec![(
            "store_endpoint",
            endpoint.map_or(tfvalue::Value::Null, tfvalue::Value::from),
        )]
    }
}
