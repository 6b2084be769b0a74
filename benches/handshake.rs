//! What one provider launch costs: Terraform starts the provider 3 times per plan and 4 per
//! apply, so launch-to-handshake time and resident memory matter. Prints median, min and max
//! over repeated launches of the optimised binary. Reported, never asserted.
//!
//! Run with `cargo bench --bench handshake` (part of `make bench`).

use std::time::Duration;

use tfplugin::pb::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::pb::tfplugin6 as pb;

#[path = "../tests/support/plugin.rs"]
mod support;

const RUNS: usize = 30;

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn summary(name: &str, unit: &str, mut values: Vec<f64>) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = values[values.len() / 2];
    println!(
        "{name:<44} median {median:>8.2} {unit}   min {:>8.2}   max {:>8.2}   ({} runs)",
        values[0],
        values[values.len() - 1],
        values.len()
    );
}

#[tokio::main]
async fn main() {
    // Let cargo's bench filter arguments pass through harmlessly.
    let mut handshake_ms = Vec::new();
    let mut ready_ms = Vec::new();
    let mut rss_mib = Vec::new();
    let mut peak_mib = Vec::new();
    for _ in 0..RUNS {
        let start = std::time::Instant::now();
        let mut plugin = support::Plugin::launch();
        handshake_ms.push(plugin.handshake.as_secs_f64() * 1e3);
        let channel = plugin.channel().await;
        let mut client =
            tfplugin::pb::tfplugin6::provider_client::ProviderClient::new(channel.clone());
        client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .expect("schema");
        ready_ms.push(start.elapsed().as_secs_f64() * 1e3);
        let pid = plugin.child.id();
        rss_mib.push(rss_kib(pid, "VmRSS:") as f64 / 1024.0);
        peak_mib.push(rss_kib(pid, "VmHWM:") as f64 / 1024.0);
        GrpcControllerClient::new(channel)
            .shutdown(tfplugin::pb::plugin::Empty {})
            .await
            .expect("shutdown");
        plugin.wait_exit(Duration::from_secs(5)).expect("exit");
    }
    println!("provider launch ({})", support::BINARY);
    summary("spawn -> handshake line", "ms", handshake_ms);
    summary("spawn -> mTLS connected + schema loaded", "ms", ready_ms);
    summary("resident memory after schema (VmRSS)", "MiB", rss_mib);
    summary("peak resident memory (VmHWM)", "MiB", peak_mib);
}
