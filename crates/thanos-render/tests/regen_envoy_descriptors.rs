//! Regenerates `envoy/envoy-api.binpb`, the trimmed Envoy API descriptor set that
//! `thanos_render::envoy` validates every rendered Envoy config against.
//!
//! Not part of the normal test run. To regenerate (e.g. after bumping the Envoy API version):
//!
//! ```text
//! ENVOY_DESCRIPTOR_SET=/path/to/full/FileDescriptorSet.bin \
//!   cargo test -p thanos-render --test regen_envoy_descriptors -- --ignored
//! ```
//!
//! The full set can be any `FileDescriptorSet` compiled from envoyproxy/data-plane-api, for
//! example `src/generated/types.bin` inside the `envoy-types` crate source
//! (`~/.cargo/registry/src/*/envoy-types-*/`).

use std::collections::BTreeSet;

use prost::Message;
use prost_reflect::{DescriptorPool, FileDescriptor};

#[test]
#[ignore = "regenerates a committed file; run by hand"]
fn regenerate_trimmed_envoy_descriptor_set() {
    let src = std::env::var("ENVOY_DESCRIPTOR_SET").expect("set ENVOY_DESCRIPTOR_SET");
    let full = std::fs::read(&src).expect("read full descriptor set");
    let pool = DescriptorPool::decode(full.as_slice()).expect("decode full descriptor set");

    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for root in thanos_render::envoy::SCHEMA_ROOT_MESSAGES {
        let msg = pool
            .get_message_by_name(root)
            .unwrap_or_else(|| panic!("{root} not in {src}"));
        collect(&msg.parent_file(), &mut wanted);
    }
    let files: Vec<_> = pool
        .files()
        .filter(|f| wanted.contains(f.name()))
        .map(|f| {
            // Comments are not needed to validate and would triple the file's size.
            let mut proto = f.file_descriptor_proto().clone();
            proto.source_code_info = None;
            proto
        })
        .collect();
    let set = prost_reflect::prost_types::FileDescriptorSet { file: files };
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/envoy/envoy-api.binpb");
    std::fs::write(out, set.encode_to_vec()).expect("write trimmed set");
    eprintln!("wrote {} files to {out}", wanted.len());
}

fn collect(file: &FileDescriptor, acc: &mut BTreeSet<String>) {
    if acc.insert(file.name().to_owned()) {
        for dep in file.dependencies() {
            collect(&dep, acc);
        }
    }
}
