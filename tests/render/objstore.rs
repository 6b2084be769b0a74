//! `object_storage`: the bucket configured in Terraform. Validation with attribute paths (every
//! rule of the objstore file, the write-only credentials and their version, the choice between
//! `object_storage` and `object_storage_config`), and golden objects: the Secret the provider
//! owns (in its public form, as plans and the state see it) and the pods that mount it.

use terraform_provider_thanos::resources::{receive::Receive, storage::Storage};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_render::validate::display_path;
use thanos_render::{Object, receive, storage};

use crate::support::*;

/// A storage whose `object_storage` block is `block`; attributes left out of it are unknown
/// (only what is written is judged), blocks written as `null` are unset.
fn storage_with(block: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"name": "s", "namespace": "monitoring", "object_storage": block, "gateway": {}})
}

/// `(path, summary)` of every finding about `object_storage`, paths relative to the block.
fn block_findings(block: serde_json::Value) -> Vec<(String, String)> {
    findings::<Storage>(&storage_with(block), Absent::Unknown)
        .into_iter()
        .map(|i| (display_path(&i.path), i.summary))
        .filter_map(|(p, s)| {
            p.strip_prefix("object_storage")
                .map(|rest| (rest.trim_start_matches('.').to_owned(), s))
        })
        .collect()
}

#[test]
fn unknown_values_are_skipped() {
    for v in [
        serde_json::json!({"s3": {}}),
        serde_json::json!({"s3": {"sse": {}}}),
        serde_json::json!({"gcs": {}}),
        serde_json::json!({"azure": {}}),
        serde_json::json!({"filesystem": {}}),
    ] {
        assert_eq!(block_findings(v.clone()), Vec::new(), "{v}");
    }
}

/// What no provider block being set looks like in a configuration.
fn only(provider: &str, value: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({"s3": null, "gcs": null, "azure": null, "filesystem": null});
    v[provider] = value;
    v
}

/// Each row: an `object_storage` block, and exactly the findings it must produce (path below
/// the block, summary).
#[test]
fn validation_table() {
    let keys = |access: &str, secret: &str| serde_json::json!({"access_key_wo": access, "secret_key_wo": secret, "credentials_wo_version": 1});
    let with = |mut base: serde_json::Value, extra: serde_json::Value| {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let rows: Vec<(serde_json::Value, Vec<(&str, &str)>)> = vec![
        // provider count
        (
            serde_json::json!({"s3": null, "gcs": null, "azure": null, "filesystem": null}),
            vec![("", "Exactly one object storage provider")],
        ),
        (
            serde_json::json!({"s3": {}, "gcs": {}}),
            vec![("", "Exactly one object storage provider")],
        ),
        // prefix
        (
            serde_json::json!({"prefix": "/a/", "filesystem": {}}),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "a//b", "filesystem": {}}),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "a/../b", "filesystem": {}}),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "", "filesystem": {}}),
            vec![("prefix", "Invalid prefix")],
        ),
        // S3 names, endpoint, region
        (
            serde_json::json!({"s3": {"bucket": "Thanos_Blocks"}}),
            vec![("s3.bucket", "Invalid S3 bucket name")],
        ),
        (
            serde_json::json!({"s3": {"bucket": "192.168.1.1"}}),
            vec![("s3.bucket", "Invalid S3 bucket name")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "https://s3.amazonaws.com"}}),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "minio:9000/thanos"}}),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"bucket": "metrics", "endpoint": "metrics.s3.amazonaws.com"}}),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "bucket.storage.googleapis.com"}}),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "s3.amazonaws.com", "region": "auto"}}),
            vec![("s3.region", "Invalid region")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "s3.eu-west-1.amazonaws.com", "region": "us-east-1"}}),
            vec![("s3.region", "Region does not match the endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "abc.r2.cloudflarestorage.com", "region": "auto"}}),
            vec![],
        ),
        (
            serde_json::json!({"s3": {"region": "eu west"}}),
            vec![("s3.region", "Invalid region")],
        ),
        (
            serde_json::json!({"s3": {"bucket_lookup_type": "dns"}}),
            vec![("s3.bucket_lookup_type", "Invalid value")],
        ),
        // S3 SSE
        (
            serde_json::json!({"s3": {"sse": {"type": "AES256"}}}),
            vec![("s3.sse.type", "Invalid value")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-KMS", "kms_key_id": null}}}),
            vec![("s3.sse.kms_key_id", "Missing kms_key_id")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-C", "encryption_key_file": null}}}),
            vec![("s3.sse.encryption_key_file", "Missing encryption_key_file")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-C", "encryption_key_file": "key"}}}),
            vec![("s3.sse.encryption_key_file", "Invalid encryption_key_file")],
        ),
        (
            serde_json::json!({"s3": {"insecure": true, "sse": {"type": "SSE-C", "encryption_key_file": "/k"}}}),
            vec![("s3.sse.type", "SSE-C needs HTTPS")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-S3", "kms_key_id": "k", "encryption_key_file": "/k"}}}),
            vec![
                ("s3.sse.kms_key_id", "Not used"),
                ("s3.sse.encryption_key_file", "Not used"),
            ],
        ),
        // S3 credentials: a pair with its version, all or nothing.
        (
            serde_json::json!({"s3": {"access_key_wo": "a", "secret_key_wo": null, "credentials_wo_version": 1}}),
            vec![("s3.secret_key_wo", "Missing secret_key_wo")],
        ),
        (
            serde_json::json!({"s3": {"access_key_wo": null, "secret_key_wo": "s", "credentials_wo_version": 1}}),
            vec![("s3.access_key_wo", "Missing access_key_wo")],
        ),
        (
            serde_json::json!({"s3": {"access_key_wo": "a", "secret_key_wo": "s", "credentials_wo_version": null}}),
            vec![(
                "s3.credentials_wo_version",
                "Missing credentials_wo_version",
            )],
        ),
        (
            serde_json::json!({"s3": {"access_key_wo": null, "secret_key_wo": null, "credentials_wo_version": 2}}),
            vec![("s3.credentials_wo_version", "Version without credentials")],
        ),
        (
            serde_json::json!({"s3": with(keys("a", "s"), serde_json::json!({"aws_sdk_auth": true}))}),
            vec![("s3.aws_sdk_auth", "Conflicting credentials")],
        ),
        (
            serde_json::json!({"s3": keys("a", "secret\n")}),
            vec![("s3.secret_key_wo", "Credential with surrounding whitespace")],
        ),
        (
            serde_json::json!({"s3": keys("", "s")}),
            vec![("s3.access_key_wo", "Empty credential")],
        ),
        // Thanos' $(VAR) expansion
        (
            serde_json::json!({"s3": keys("a", "abc$(HOME)def")}),
            vec![("s3.secret_key_wo", "Unsupported $(...) reference")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-KMS", "kms_key_id": "k", "kms_encryption_context": {"k": "$(X)"}}}}),
            vec![(
                "s3.sse.kms_encryption_context[\"k\"]",
                "Unsupported $(...) reference",
            )],
        ),
        (
            serde_json::json!({"s3": {"bucket": "$(BUCKET)"}}),
            vec![
                ("s3.bucket", "Invalid S3 bucket name"),
                ("s3.bucket", "Unsupported $(...) reference"),
            ],
        ),
        // GCS
        (
            serde_json::json!({"gcs": {"bucket": "my-google-metrics"}}),
            vec![("gcs.bucket", "Invalid GCS bucket name")],
        ),
        (
            serde_json::json!({"gcs": {"bucket": "gs://metrics"}}),
            vec![("gcs.bucket", "Invalid GCS bucket name")],
        ),
        (
            serde_json::json!({"gcs": {"service_account_wo": "/var/secrets/sa.json"}}),
            vec![("gcs.service_account_wo", "Invalid service account JSON")],
        ),
        (
            serde_json::json!({"gcs": {"service_account_wo": null, "credentials_wo_version": 1}}),
            vec![("gcs.credentials_wo_version", "Version without credentials")],
        ),
        // Azure
        (
            serde_json::json!({"azure": {"storage_account": "Thanos-Metrics", "container": "Blocks"}}),
            vec![
                ("azure.storage_account", "Invalid storage account name"),
                ("azure.container", "Invalid container name"),
            ],
        ),
        (
            serde_json::json!({"azure": {"storage_account": "thanos", "endpoint": "thanos.blob.core.windows.net"}}),
            vec![("azure.endpoint", "Invalid Azure endpoint")],
        ),
        (
            serde_json::json!({"azure": {"endpoint": "https://blob.core.windows.net"}}),
            vec![("azure.endpoint", "Invalid Azure endpoint")],
        ),
        (
            serde_json::json!({"azure": {"user_assigned_id": "thanos-identity", "storage_account_key_wo": "YWJj"}}),
            vec![
                ("azure.user_assigned_id", "Invalid user_assigned_id"),
                ("azure.user_assigned_id", "Conflicting credentials"),
            ],
        ),
        (
            serde_json::json!({"azure": {"storage_account_key_wo": "not base64!"}}),
            vec![(
                "azure.storage_account_key_wo",
                "Invalid storage account key",
            )],
        ),
        // filesystem
        (
            serde_json::json!({"filesystem": {"directory": "bucket"}}),
            vec![("filesystem.directory", "Invalid directory")],
        ),
    ];
    for (v, want) in rows {
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(p, s)| (p.to_owned(), s.to_owned()))
            .collect();
        assert_eq!(block_findings(v.clone()), want, "{v}");
    }
    // Unset required values of a block as written.
    let as_written = findings::<Storage>(
        &storage_with(only("s3", serde_json::json!({"endpoint": "e:1"}))),
        Absent::Null,
    );
    assert!(
        as_written
            .iter()
            .any(|i| display_path(&i.path) == "object_storage.s3.bucket"),
        "{as_written:?}"
    );
}

#[test]
fn findings_never_quote_credentials() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY $(HOME)";
    let found = findings::<Storage>(
        &storage_with(serde_json::json!({"s3": {
            "access_key_wo": "AKIAIOSFODNN7EXAMPLE ",
            "secret_key_wo": secret,
            "credentials_wo_version": 1,
        }})),
        Absent::Unknown,
    );
    assert!(found.len() >= 2, "{found:?}");
    let found = found.into_iter().chain(findings::<Storage>(
        &storage_with(serde_json::json!({"gcs": {
            "service_account_wo": "{\"type\": \"api_key\", \"key\": \"topsecret\"}",
            "credentials_wo_version": 1,
        }})),
        Absent::Unknown,
    ));
    for f in found {
        let text = f.to_string();
        assert!(
            !text.contains("wJalr") && !text.contains("topsecret") && !text.contains("AKIA"),
            "{text}"
        );
    }
}

/// `object_storage` and `object_storage_config` are alternatives: both is an error at plan,
/// neither is one on a storage (it needs a bucket) and not on an ingestor (blocks stay local).
#[test]
fn one_bucket_source() {
    let fs = serde_json::json!({"filesystem": {"directory": "/b"}});
    let reference = serde_json::json!({"name": "objstore", "key": "objstore.yaml"});
    let both = findings::<Storage>(
        &serde_json::json!({"name": "s", "object_storage": fs, "object_storage_config": reference, "gateway": {}}),
        Absent::Null,
    );
    assert_eq!(
        both.iter()
            .map(|i| (display_path(&i.path), i.summary.as_str()))
            .collect::<Vec<_>>(),
        [("object_storage".to_owned(), "Conflicting object storage")]
    );
    let ingestor = findings::<Receive>(
        &serde_json::json!({"name": "r", "ingestor": {"object_storage": fs, "object_storage_config": reference}}),
        Absent::Null,
    );
    assert_eq!(
        ingestor
            .iter()
            .map(|i| display_path(&i.path))
            .collect::<Vec<_>>(),
        ["ingestor.object_storage"]
    );
    let neither = findings::<Storage>(
        &serde_json::json!({"name": "s", "gateway": {}}),
        Absent::Null,
    );
    assert_eq!(neither.len(), 1, "{neither:?}");
    assert_eq!(neither[0].summary, "Missing object storage");
    // A bad block inside the ingestor is reported at its full path.
    let bad = findings::<Receive>(
        &serde_json::json!({"name": "r", "ingestor": {"object_storage": {"s3": {"bucket": "b-1", "endpoint": "http://minio:9000"}}}}),
        Absent::Unknown,
    );
    assert_eq!(
        bad.iter()
            .map(|i| display_path(&i.path))
            .collect::<Vec<_>>(),
        ["ingestor.object_storage.s3.endpoint"]
    );
}

fn s3_block(version: i64, secret: &str) -> serde_json::Value {
    serde_json::json!({
        "prefix": "cluster-a",
        "s3": {
            "bucket": "thanos-metrics",
            "endpoint": "minio.minio.svc:9000",
            "insecure": true,
            "bucket_lookup_type": "path",
            "access_key_wo": "thanos",
            "secret_key_wo": secret,
            "credentials_wo_version": version,
        }
    })
}

fn storage_s3(version: i64, secret: &str) -> serde_json::Value {
    serde_json::json!({
        "name": "lts",
        "namespace": "monitoring",
        "object_storage": s3_block(version, secret),
        "gateway": {"replicas": 1},
        "compact": {},
    })
}

/// The owned Secret (public form: the keys replaced by their version) and the gateway and
/// compactor that mount it, with the config hash that rolls them on a new version. If this
/// changes, every pod reading the bucket rolls on the next apply: review it.
#[test]
fn storage_with_object_storage_s3() {
    let r = storage::render(&spec::<Storage>(storage_s3(1, "s3cr3t")), &ctx());
    let json = serde_json::to_string(&r.to_json()).unwrap();
    assert!(!json.contains("s3cr3t"), "the public objects hold the key");
    insta::assert_yaml_snapshot!(r.to_json());
}

/// An ingestor shipping to the owned Secret.
#[test]
fn receive_ingestor_with_object_storage_s3() {
    let spec = spec::<Receive>(serde_json::json!({
        "name": "ingestor",
        "namespace": "monitoring",
        "replicas": 2,
        "ingestor": {"local_tsdb_retention": "2h", "object_storage": s3_block(1, "s3cr3t")},
    }));
    let r = receive::render(&spec, &ctx(), &Default::default()).unwrap();
    insta::assert_yaml_snapshot!(r.to_json());
}

/// The file the Secret really holds (what the apply writes), next to what the state sees.
#[test]
fn owned_secret_sealed_and_public_files() {
    let r = storage::render(&spec::<Storage>(storage_s3(3, "s3cr3t")), &ctx());
    let Some(Object::Secret(secret)) = r.get("Secret", "thanosstorage-lts-objstore") else {
        panic!("no owned Secret: {:?}", r.keys());
    };
    let text = |s: &k8s_openapi::api::core::v1::Secret| {
        String::from_utf8(s.data.as_ref().unwrap()["objstore.yaml"].0.clone()).unwrap()
    };
    insta::assert_snapshot!(format!(
        "# sealed (the cluster)\n{}# public (plans, state, hashes)\n{}",
        text(&secret.sealed().unwrap()),
        text(secret.public())
    ));
}

/// The rotation contract, object by object: another key with the same version changes
/// nothing the plan or the pods see; a new version changes the Secret's hash and the pod
/// templates' config hash (so the pods roll), and never the Services.
#[test]
fn a_new_version_rolls_the_pods_and_a_new_key_alone_changes_nothing() {
    let hashes = |v: serde_json::Value| {
        storage::render(&spec::<Storage>(v), &ctx())
            .objects
            .iter()
            .map(|o| (format!("{}/{}", o.kind(), o.name()), o.content_hash()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let first = hashes(storage_s3(1, "first"));
    assert_eq!(first, hashes(storage_s3(1, "second")));
    let bumped = hashes(storage_s3(2, "second"));
    let changed: Vec<&String> = first.keys().filter(|k| first[*k] != bumped[*k]).collect();
    assert_eq!(
        changed,
        [
            "Secret/thanosstorage-lts-objstore",
            "StatefulSet/thanosstorage-lts-compact",
            "StatefulSet/thanosstorage-lts-gateway",
        ]
    );
}

/// Workload identity: no keys anywhere (the file has none, so the public and sealed forms are
/// the same), and every pod runs as the ServiceAccount the cloud trusts.
#[test]
fn workload_identity_has_no_credentials_and_runs_as_the_service_account() {
    let spec = spec::<Storage>(serde_json::json!({
        "name": "lts",
        "namespace": "monitoring",
        "service_account": {"name": "thanos"},
        "object_storage": {"s3": {
            "bucket": "thanos-metrics",
            "endpoint": "s3.eu-west-1.amazonaws.com",
            "region": "eu-west-1",
        }},
        "gateway": {},
        "compact": {},
    }));
    let r = storage::render(&spec, &ctx());
    let Some(Object::Secret(secret)) = r.get("Secret", "thanosstorage-lts-objstore") else {
        panic!("no owned Secret: {:?}", r.keys());
    };
    assert_eq!(secret.sealed().unwrap().data, secret.public().data);
    let file = String::from_utf8(
        secret.public().data.as_ref().unwrap()["objstore.yaml"]
            .0
            .clone(),
    )
    .unwrap();
    assert!(
        !file.contains("access_key") && !file.contains("secret_key"),
        "{file}"
    );
    for name in ["thanosstorage-lts-gateway", "thanosstorage-lts-compact"] {
        let Some(Object::StatefulSet(sts)) = r.get("StatefulSet", name) else {
            panic!("no {name}");
        };
        let pod = sts.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(
            pod.service_account_name.as_deref(),
            Some("thanos"),
            "{name}"
        );
    }
    let bad = findings::<Storage>(
        &serde_json::json!({"name": "s", "service_account": {"name": "Thanos SA"}}),
        Absent::Unknown,
    );
    assert!(
        bad.iter()
            .any(|i| display_path(&i.path) == "service_account.name"),
        "{bad:?}"
    );
}
