//! Installing the provider the way HCP Terraform workspaces and shared modules do: from a
//! registry over HTTPS, never from a local directory. The release that `make release` builds
//! (`scripts/release.sh`, signed with a throwaway GPG key) is served on loopback through
//!
//! - the provider registry protocol: service discovery, the versions list and the download
//!   endpoint with the SHA256SUMS, its signature and the signing key; and
//! - the provider network mirror protocol (what `terraform providers mirror` writes),
//!
//! and both CLIs must install it, verify it, lock both of its hashes, reinstall it from the lock
//! file alone, and refuse an archive or a signature that is not the release's.

mod hashes;
mod release;
mod server;

use serde_json::json;

use crate::harness::{Cli, PROVIDER_VERSION, REQUIRED_PROVIDERS, Workdir, clis, platform};
use release::{Release, manifest_name, signature_name, sums_name};
use server::Server;

/// The registry hosts `paodin/thanos` means to Terraform and to OpenTofu: a network mirror
/// serves the provider under both.
const DEFAULT_HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];
const PROVIDER: &str = "paodin/thanos";

/// What a registry serves for `<host>/paodin/thanos`, with `download_url` and
/// `shasums_signature_url` pointing at `/files/` on the same server.
fn serve_registry(server: &Server, release: &Release) {
    let (os, arch) = platform()
        .split_once('_')
        .map(|(o, a)| (o.to_owned(), a.to_owned()))
        .unwrap();
    let sums = String::from_utf8(release.read(&sums_name())).unwrap();
    server.put(
        "/.well-known/terraform.json",
        json!({ "providers.v1": "/v1/providers/" }).to_string(),
    );
    // Every platform the release has a zip for, as listed in SHA256SUMS.
    let platforms: Vec<_> = sums
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, name)| name))
        .filter_map(|name| name.strip_suffix(".zip"))
        .filter_map(|name| {
            let (rest, arch) = name.rsplit_once('_')?;
            let (_, os) = rest.rsplit_once('_')?;
            Some(json!({ "os": os, "arch": arch }))
        })
        .collect();
    server.put(
        &format!("/v1/providers/{PROVIDER}/versions"),
        json!({ "versions": [{
            "version": PROVIDER_VERSION,
            "protocols": ["6.0"],
            "platforms": platforms,
        }]})
        .to_string(),
    );
    let zip = release.zip_name();
    server.put(
        &format!("/v1/providers/{PROVIDER}/{PROVIDER_VERSION}/download/{os}/{arch}"),
        json!({
            "protocols": ["6.0"],
            "os": os,
            "arch": arch,
            "filename": zip,
            "download_url": server.url(&format!("/files/{zip}")),
            "shasums_url": server.url(&format!("/files/{}", sums_name())),
            "shasums_signature_url": server.url(&format!("/files/{}", signature_name())),
            "shasum": hashes::sha256_hex(&release.zip()),
            "signing_keys": { "gpg_public_keys": [{
                "key_id": release.key_id,
                "ascii_armor": release.public_key,
            }]},
        })
        .to_string(),
    );
    for name in [zip, sums_name(), signature_name(), manifest_name()] {
        server.put(&format!("/files/{name}"), release.read(&name));
    }
}

/// What `terraform providers mirror <dir>` writes, served below `/mirror/`: per host an
/// `index.json` of versions and a `<version>.json` of archives with their `h1:` hashes, the
/// archive beside them (its URL relative to the JSON document).
fn serve_mirror(server: &Server, release: &Release) {
    let zip = release.zip();
    for host in DEFAULT_HOSTS {
        let base = format!("/mirror/{host}/{PROVIDER}");
        server.put(
            &format!("{base}/index.json"),
            json!({ "versions": { PROVIDER_VERSION: {} } }).to_string(),
        );
        server.put(
            &format!("{base}/{PROVIDER_VERSION}.json"),
            json!({ "archives": { platform(): {
                "url": release.zip_name(),
                "hashes": [hashes::h1(&zip)],
            }}})
            .to_string(),
        );
        server.put(&format!("{base}/{}", release.zip_name()), zip.clone());
    }
}

/// A zip that unpacks to a provider-named file that is not the release's binary.
fn impostor_zip() -> Vec<u8> {
    hashes::stored_zip(
        &format!("terraform-provider-thanos_v{PROVIDER_VERSION}"),
        b"#!/bin/sh\necho not the release\nexit 1\n",
    )
}

fn main_tf(source: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    thanos = {{\n      source  = \"{source}\"\n      version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n\nprovider \"thanos\" {{}}\n"
    )
}

/// The CLI configuration for installing from registries only (no implied local mirrors).
const DIRECT: &str = "provider_installation {\n  direct {}\n}\n";

fn network_mirror(server: &Server) -> String {
    format!(
        "provider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n",
        server.url("/mirror/")
    )
}

struct Env {
    ca: String,
}

impl Env {
    fn of(server: &Server) -> Env {
        Env {
            ca: server.ca_file.display().to_string(),
        }
    }

    /// `init` trusting the test CA (Go reads SSL_CERT_FILE on Linux).
    fn init(&self, work: &Workdir, cli: &Cli) -> crate::harness::Run {
        work.run_env(
            cli,
            &["init", "-no-color", "-input=false"],
            &[("SSL_CERT_FILE", &self.ca)],
        )
    }
}

/// The lock file's hash list for one provider must hold exactly the expected `zh:` and `h1:`
/// values among what it has.
#[track_caller]
fn assert_locked(cli: &Cli, lock: &str, address: &str, expected: &[String]) {
    assert!(
        lock.contains(&format!("provider \"{address}\"")),
        "{}: no entry for {address} in the lock file:\n{lock}",
        cli.name
    );
    assert!(
        lock.contains(&format!("= \"{PROVIDER_VERSION}\"")),
        "{}: lock file:\n{lock}",
        cli.name
    );
    for hash in expected {
        assert!(
            lock.contains(&format!("\"{hash}\"")),
            "{}: {hash} missing from the lock file:\n{lock}",
            cli.name
        );
    }
}

/// Everything the CLI printed, with runs of white space made one space: the CLIs wrap their
/// error messages to the width they think the terminal has.
fn output(run: &crate::harness::Run) -> String {
    format!("{}{}", run.stdout(), run.stderr())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn registry_install_verifies_the_signature_and_locks_both_hashes() {
    let clis = clis();
    let release = Release::get();
    let scratch = crate::harness::scratch_dir("registry-install");
    let server = Server::start(&scratch);
    serve_registry(&server, release);
    let env = Env::of(&server);
    let source = format!("{}/{PROVIDER}", server.host());
    let zip = release.zip();
    let expected = [hashes::zh(&zip), hashes::h1(&zip)];

    for cli in &clis {
        let work = Workdir::new("registry-install", cli);
        work.write_cli_config(DIRECT);
        work.write("main.tf", &main_tf(&source));
        let run = env.init(&work, cli).success();
        let out = output(&run);
        eprintln!("{}: installed from the registry:\n{out}", cli.name);
        assert!(
            out.contains(&format!("Installed {source} v{PROVIDER_VERSION}")),
            "{}: {out}",
            cli.name
        );
        // Self-signed: the CLI names the key it verified SHA256SUMS with.
        assert!(
            out.contains(&format!("key ID {}", release.key_id)),
            "{}: {out}",
            cli.name
        );
        let asked = server.take_log();
        for path in [
            "/.well-known/terraform.json".to_owned(),
            format!("/v1/providers/{PROVIDER}/versions"),
            format!("/files/{}", signature_name()),
            format!("/files/{}", release.zip_name()),
        ] {
            assert!(
                asked.contains(&path),
                "{}: never asked for {path}: {asked:?}",
                cli.name
            );
        }
        let lock = work.read(".terraform.lock.hcl");
        assert_locked(cli, &lock, &source, &expected);

        // The lock file alone, in another clean directory: the same provider installs again
        // and the lock file is left as it was.
        let again = Workdir::new("registry-relock", cli);
        again.write_cli_config(DIRECT);
        again.write("main.tf", &main_tf(&source));
        again.write(".terraform.lock.hcl", &lock);
        env.init(&again, cli).success();
        assert_eq!(again.read(".terraform.lock.hcl"), lock, "{}", cli.name);
    }
}

#[test]
fn registry_refuses_an_archive_that_differs_from_the_signed_checksums() {
    let clis = clis();
    let release = Release::get();
    let scratch = crate::harness::scratch_dir("registry-tampered");
    let server = Server::start(&scratch);
    serve_registry(&server, release);
    // The signed SHA256SUMS and the download's `shasum` still name the release's zip.
    server.put(&format!("/files/{}", release.zip_name()), impostor_zip());
    let env = Env::of(&server);
    let source = format!("{}/{PROVIDER}", server.host());
    for cli in &clis {
        let work = Workdir::new("registry-tampered", cli);
        work.write_cli_config(DIRECT);
        work.write("main.tf", &main_tf(&source));
        let out = output(&env.init(&work, cli).failure());
        eprintln!("{}: tampered archive:\n{out}", cli.name);
        let refusal = format!(
            "Failed to install provider Error while installing {source} v{PROVIDER_VERSION}: \
             archive has incorrect checksum {} (expected {})",
            hashes::zh(&impostor_zip()),
            hashes::zh(&release.zip())
        );
        assert!(out.contains(&refusal), "{}: {out}", cli.name);
        assert!(
            !work.dir.join(".terraform.lock.hcl").exists(),
            "{}",
            cli.name
        );
    }
}

#[test]
fn registry_refuses_checksums_signed_by_another_key() {
    let clis = clis();
    let release = Release::get();
    let scratch = crate::harness::scratch_dir("registry-foreign-key");
    let server = Server::start(&scratch);
    serve_registry(&server, release);
    server.put(
        &format!("/files/{}", signature_name()),
        release.foreign_signature.clone(),
    );
    let env = Env::of(&server);
    let source = format!("{}/{PROVIDER}", server.host());
    for cli in &clis {
        let work = Workdir::new("registry-foreign-key", cli);
        work.write_cli_config(DIRECT);
        work.write("main.tf", &main_tf(&source));
        let out = output(&env.init(&work, cli).failure());
        eprintln!("{}: signature by another key:\n{out}", cli.name);
        assert!(
            out.contains(&format!(
                "Failed to install provider Error while installing {source} v{PROVIDER_VERSION}:"
            )) && out.contains("authentication signature from unknown issuer"),
            "{}: {out}",
            cli.name
        );
        assert!(
            !work.dir.join(".terraform.lock.hcl").exists(),
            "{}",
            cli.name
        );
    }
}

#[test]
fn network_mirror_install_locks_the_hash_and_refuses_a_tampered_archive() {
    let clis = clis();
    let release = Release::get();
    let scratch = crate::harness::scratch_dir("network-mirror");
    let server = Server::start(&scratch);
    serve_mirror(&server, release);
    let env = Env::of(&server);
    let zip = release.zip();
    let h1 = hashes::h1(&zip);

    for cli in &clis {
        let host = if cli.name == "tofu" {
            DEFAULT_HOSTS[1]
        } else {
            DEFAULT_HOSTS[0]
        };
        let work = Workdir::new("network-mirror", cli);
        work.write_cli_config(&network_mirror(&server));
        work.write("main.tf", REQUIRED_PROVIDERS);
        let out = output(&env.init(&work, cli).success());
        eprintln!("{}: installed from the network mirror:\n{out}", cli.name);
        assert!(
            out.contains(&format!("Installed {PROVIDER} v{PROVIDER_VERSION}")),
            "{}: {out}",
            cli.name
        );
        let asked = server.take_log();
        let archive = format!("/mirror/{host}/{PROVIDER}/{}", release.zip_name());
        assert!(asked.contains(&archive), "{}: {asked:?}", cli.name);
        let lock = work.read(".terraform.lock.hcl");
        assert_locked(
            cli,
            &lock,
            &format!("{host}/{PROVIDER}"),
            std::slice::from_ref(&h1),
        );
    }

    for host in DEFAULT_HOSTS {
        server.put(
            &format!("/mirror/{host}/{PROVIDER}/{}", release.zip_name()),
            impostor_zip(),
        );
    }
    for cli in &clis {
        let work = Workdir::new("network-mirror-tampered", cli);
        work.write_cli_config(&network_mirror(&server));
        work.write("main.tf", REQUIRED_PROVIDERS);
        let out = output(&env.init(&work, cli).failure());
        eprintln!("{}: tampered mirror archive:\n{out}", cli.name);
        let refusal = format!(
            "Failed to install provider Error while installing {PROVIDER} v{PROVIDER_VERSION}: \
             provider package doesn't match the expected checksum \"{h1}\""
        );
        assert!(out.contains(&refusal), "{}: {out}", cli.name);
    }
}

/// `make release` twice gives the same zips and SHA256SUMS even when the binary's file time,
/// the time zone and the umask differ between the runs (only the signature differs).
#[test]
fn release_zips_and_checksums_are_reproducible() {
    let release = Release::get();
    let dir = crate::harness::scratch_dir("registry-rebuild");
    let copy = dir.join("terraform-provider-thanos");
    std::fs::copy(&release.binary, &copy).unwrap();
    let touched = std::process::Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06"])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(touched.success());
    let dist = dir.join("dist");
    // A POSIX TZ string, so no time zone database is needed for it to take effect.
    release::run_release_of(&copy, &dist, &[("TZ", "XYZ-14")], "077", None);
    for name in [sums_name(), release.zip_name(), manifest_name()] {
        let again = std::fs::read(dist.join(&name)).unwrap();
        assert!(
            again == release.read(&name),
            "{name} differs between two releases"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&release.read(&manifest_name())).unwrap();
    assert_eq!(manifest["metadata"]["protocol_versions"], json!(["6.0"]));
    assert!(!dist.join(signature_name()).exists());
}
