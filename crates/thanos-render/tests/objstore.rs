//! The objstore YAML: golden files per provider (a snapshot change changes what every Thanos
//! pod reads from its Secret: review every line) and validation tables with attribute paths.
//! That the real Thanos parses these files is proven by the data-path tests
//! (`tests/datapath_s3.rs` in the provider crate).

use thanos_render::Error;
use thanos_render::objstore::{self, Credentials, ObjstoreSpec};
use thanos_render::validate::display_path;

fn spec(v: serde_json::Value) -> ObjstoreSpec {
    serde_json::from_value(v).unwrap()
}

fn s3_keys(access: &str, secret: &str) -> Credentials {
    Credentials {
        s3_access_key: Some(access.into()),
        s3_secret_key: Some(secret.into()),
        ..Default::default()
    }
}

fn yaml(v: serde_json::Value, creds: &Credentials) -> String {
    objstore::render(&spec(v), creds).unwrap().into_string()
}

// ---------------------------------------------------------------------------------------------
// Golden files.

/// S3 without keys: minio-go's default chain (env, shared file, IRSA / Pod Identity, EC2).
#[test]
fn s3_workload_identity() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"s3": {
            "bucket": "thanos-metrics",
            "endpoint": "s3.eu-west-1.amazonaws.com",
            "region": "eu-west-1",
        }}),
        &Credentials::default(),
    ));
}

/// S3 with every field we offer: static keys, SSE-KMS with a context, a prefix.
#[test]
fn s3_keys_and_sse_kms() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({
            "prefix": "cluster-a/metrics",
            "s3": {
                "bucket": "thanos-metrics",
                "endpoint": "s3.us-east-1.amazonaws.com",
                "region": "us-east-1",
                "insecure": false,
                "bucket_lookup_type": "virtual-hosted",
                "sse": {
                    "type": "SSE-KMS",
                    "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "kms_encryption_context": {"team": "observability", "aws:s3:arn": "arn:aws:s3:::thanos-metrics"},
                },
            },
        }),
        &s3_keys(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ),
    ));
}

/// A self-hosted S3 server over plain HTTP, path style; keys with characters YAML would
/// otherwise misread stay byte-exact.
#[test]
fn s3_self_hosted_path_style() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"s3": {
            "bucket": "thanos",
            "endpoint": "minio.minio.svc:9000",
            "insecure": true,
            "bucket_lookup_type": "path",
        }}),
        &s3_keys("thanos", "s3cr3t: \"quoted\" # not a comment \\ é"),
    ));
}

/// SSE-S3 and SSE-C (the key is a file Thanos reads) via the AWS SDK chain.
#[test]
fn s3_sse_s3_and_sse_c() {
    insta::assert_snapshot!(
        "s3_sse_s3",
        yaml(
            serde_json::json!({"s3": {
                "bucket": "thanos-metrics",
                "endpoint": "s3.amazonaws.com",
                "aws_sdk_auth": true,
                "sse": {"type": "SSE-S3"},
            }}),
            &Credentials::default(),
        )
    );
    insta::assert_snapshot!(
        "s3_sse_c",
        yaml(
            serde_json::json!({"s3": {
                "bucket": "thanos-metrics",
                "endpoint": "s3.amazonaws.com",
                "sse": {"type": "SSE-C", "encryption_key_file": "/etc/thanos/sse-c/key"},
            }}),
            &Credentials::default(),
        )
    );
}

/// GCS with a service account key: the JSON (newlines, escaped `\n` in the private key) is
/// one double-quoted scalar that decodes back to the exact file content.
#[test]
fn gcs_service_account() {
    let sa = "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"thanos@p.iam.gserviceaccount.com\"\n}\n";
    insta::assert_snapshot!(yaml(
        serde_json::json!({"gcs": {"bucket": "thanos-metrics"}}),
        &Credentials {
            gcs_service_account: Some(sa.into()),
            ..Default::default()
        },
    ));
}

/// GCS without a key: Application Default Credentials (GKE Workload Identity).
#[test]
fn gcs_workload_identity() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"prefix": "eu", "gcs": {"bucket": "thanos_metrics"}}),
        &Credentials::default(),
    ));
}

/// Azure with the account key.
#[test]
fn azure_account_key() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"azure": {"storage_account": "thanosmetrics", "container": "blocks"}}),
        &Credentials {
            azure_storage_account_key: Some(
                "bXkgc2hhcmVkIGtleSBpcyBub3QgcmVhbGx5IHRoaXMgc2hvcnQgYnV0IGl0IGRvZXM=".into()
            ),
            ..Default::default()
        },
    ));
}

/// Azure with a user-assigned managed identity in another cloud, container not created.
#[test]
fn azure_managed_identity() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"azure": {
            "storage_account": "thanosmetrics",
            "container": "blocks",
            "endpoint": "blob.core.chinacloudapi.cn",
            "user_assigned_id": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "storage_create_container": false,
        }}),
        &Credentials::default(),
    ));
}

#[test]
fn filesystem() {
    insta::assert_snapshot!(yaml(
        serde_json::json!({"filesystem": {"directory": "/var/thanos/bucket"}}),
        &Credentials::default(),
    ));
}

/// Same input, same bytes: the Secret only changes when the configuration does.
#[test]
fn rendering_is_deterministic() {
    let v = serde_json::json!({"s3": {
        "bucket": "b-1", "endpoint": "e:1",
        "sse": {"type": "SSE-KMS", "kms_key_id": "k", "kms_encryption_context": {"z": "1", "a": "2", "m": "3"}},
    }});
    let first = yaml(v.clone(), &s3_keys("a", "s"));
    for _ in 0..10 {
        assert_eq!(yaml(v.clone(), &s3_keys("a", "s")), first);
    }
    // The context comes out sorted by key.
    let a = first.find(" a: ").unwrap();
    let m = first.find(" m: ").unwrap();
    let z = first.find(" z: ").unwrap();
    assert!(a < m && m < z, "{first}");
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// `(path, summary)` of every finding.
fn findings(v: serde_json::Value, creds: &Credentials) -> Vec<(String, String)> {
    objstore::validate(&spec(v), creds)
        .into_iter()
        .map(|i| (display_path(&i.path), i.summary))
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
        assert_eq!(findings(v.clone(), &Credentials::default()), [], "{v}");
    }
}

/// Each row: a configuration, its credentials, and exactly the findings (path, summary).
/// A configuration, its credentials, and exactly the findings it must produce (path, summary).
type Row = (
    serde_json::Value,
    Credentials,
    Vec<(&'static str, &'static str)>,
);

#[test]
fn validation_table() {
    let none = Credentials::default;
    let rows: Vec<Row> = vec![
        // provider count
        (
            serde_json::json!({}),
            none(),
            vec![("", "Exactly one object storage provider")],
        ),
        (
            serde_json::json!({"s3": {}, "gcs": {}}),
            none(),
            vec![("", "Exactly one object storage provider")],
        ),
        // prefix
        (
            serde_json::json!({"prefix": "/a/", "filesystem": {}}),
            none(),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "a//b", "filesystem": {}}),
            none(),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "a/../b", "filesystem": {}}),
            none(),
            vec![("prefix", "Invalid prefix")],
        ),
        (
            serde_json::json!({"prefix": "", "filesystem": {}}),
            none(),
            vec![("prefix", "Invalid prefix")],
        ),
        // S3 names, endpoint, region
        (
            serde_json::json!({"s3": {"bucket": "Thanos_Blocks"}}),
            none(),
            vec![("s3.bucket", "Invalid S3 bucket name")],
        ),
        (
            serde_json::json!({"s3": {"bucket": "192.168.1.1"}}),
            none(),
            vec![("s3.bucket", "Invalid S3 bucket name")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "https://s3.amazonaws.com"}}),
            none(),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "minio:9000/thanos"}}),
            none(),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"bucket": "metrics", "endpoint": "metrics.s3.amazonaws.com"}}),
            none(),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "bucket.storage.googleapis.com"}}),
            none(),
            vec![("s3.endpoint", "Invalid S3 endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "s3.amazonaws.com", "region": "auto"}}),
            none(),
            vec![("s3.region", "Invalid region")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "s3.eu-west-1.amazonaws.com", "region": "us-east-1"}}),
            none(),
            vec![("s3.region", "Region does not match the endpoint")],
        ),
        (
            serde_json::json!({"s3": {"endpoint": "abc.r2.cloudflarestorage.com", "region": "auto"}}),
            none(),
            vec![],
        ),
        (
            serde_json::json!({"s3": {"region": "eu west"}}),
            none(),
            vec![("s3.region", "Invalid region")],
        ),
        (
            serde_json::json!({"s3": {"bucket_lookup_type": "dns"}}),
            none(),
            vec![("s3.bucket_lookup_type", "Invalid value")],
        ),
        // S3 SSE
        (
            serde_json::json!({"s3": {"sse": {"type": "AES256"}}}),
            none(),
            vec![("s3.sse.type", "Invalid value")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-KMS"}}}),
            none(),
            vec![("s3.sse.kms_key_id", "Missing kms_key_id")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-C"}}}),
            none(),
            vec![("s3.sse.encryption_key_file", "Missing encryption_key_file")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-C", "encryption_key_file": "key"}}}),
            none(),
            vec![("s3.sse.encryption_key_file", "Invalid encryption_key_file")],
        ),
        (
            serde_json::json!({"s3": {"insecure": true, "sse": {"type": "SSE-C", "encryption_key_file": "/k"}}}),
            none(),
            vec![("s3.sse.type", "SSE-C needs HTTPS")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-S3", "kms_key_id": "k", "encryption_key_file": "/k"}}}),
            none(),
            vec![
                ("s3.sse.kms_key_id", "Not used"),
                ("s3.sse.encryption_key_file", "Not used"),
            ],
        ),
        // S3 credentials
        (
            serde_json::json!({"s3": {}}),
            Credentials {
                s3_access_key: Some("a".into()),
                ..Default::default()
            },
            vec![("s3.secret_key", "Missing secret_key")],
        ),
        (
            serde_json::json!({"s3": {}}),
            Credentials {
                s3_secret_key: Some("s".into()),
                ..Default::default()
            },
            vec![("s3.access_key", "Missing access_key")],
        ),
        (
            serde_json::json!({"s3": {"aws_sdk_auth": true}}),
            s3_keys("a", "s"),
            vec![("s3.aws_sdk_auth", "Conflicting credentials")],
        ),
        (
            serde_json::json!({"s3": {}}),
            s3_keys("a", "secret\n"),
            vec![("s3.secret_key", "Credential with surrounding whitespace")],
        ),
        (
            serde_json::json!({"s3": {}}),
            s3_keys("", "s"),
            vec![("s3.access_key", "Empty credential")],
        ),
        // Thanos' $(VAR) expansion
        (
            serde_json::json!({"s3": {}}),
            s3_keys("a", "abc$(HOME)def"),
            vec![("s3.secret_key", "Unsupported $(...) reference")],
        ),
        (
            serde_json::json!({"s3": {"sse": {"type": "SSE-KMS", "kms_key_id": "k", "kms_encryption_context": {"k": "$(X)"}}}}),
            none(),
            vec![(
                "s3.sse.kms_encryption_context[\"k\"]",
                "Unsupported $(...) reference",
            )],
        ),
        // GCS
        (
            serde_json::json!({"gcs": {"bucket": "my-google-metrics"}}),
            none(),
            vec![("gcs.bucket", "Invalid GCS bucket name")],
        ),
        (
            serde_json::json!({"gcs": {"bucket": "gs://metrics"}}),
            none(),
            vec![("gcs.bucket", "Invalid GCS bucket name")],
        ),
        (
            serde_json::json!({"gcs": {}}),
            Credentials {
                gcs_service_account: Some("/var/secrets/sa.json".into()),
                ..Default::default()
            },
            vec![("gcs.service_account", "Invalid service account JSON")],
        ),
        // Azure
        (
            serde_json::json!({"azure": {"storage_account": "Thanos-Metrics", "container": "Blocks"}}),
            none(),
            vec![
                ("azure.storage_account", "Invalid storage account name"),
                ("azure.container", "Invalid container name"),
            ],
        ),
        (
            serde_json::json!({"azure": {"storage_account": "thanos", "endpoint": "thanos.blob.core.windows.net"}}),
            none(),
            vec![("azure.endpoint", "Invalid Azure endpoint")],
        ),
        (
            serde_json::json!({"azure": {"endpoint": "https://blob.core.windows.net"}}),
            none(),
            vec![("azure.endpoint", "Invalid Azure endpoint")],
        ),
        (
            serde_json::json!({"azure": {"user_assigned_id": "thanos-identity"}}),
            Credentials {
                azure_storage_account_key: Some("YWJj".into()),
                ..Default::default()
            },
            vec![
                ("azure.user_assigned_id", "Invalid user_assigned_id"),
                ("azure.user_assigned_id", "Conflicting credentials"),
            ],
        ),
        (
            serde_json::json!({"azure": {}}),
            Credentials {
                azure_storage_account_key: Some("not base64!".into()),
                ..Default::default()
            },
            vec![("azure.storage_account_key", "Invalid storage account key")],
        ),
        // filesystem
        (
            serde_json::json!({"filesystem": {"directory": "bucket"}}),
            none(),
            vec![("filesystem.directory", "Invalid directory")],
        ),
        // credentials for a provider that is not configured
        (
            serde_json::json!({"gcs": {}}),
            s3_keys("a", "s"),
            vec![
                ("s3.access_key", "Credential for another provider"),
                ("s3.secret_key", "Credential for another provider"),
            ],
        ),
        (
            serde_json::json!({"filesystem": {}}),
            Credentials {
                azure_storage_account_key: Some("YWJj".into()),
                gcs_service_account: Some("{}".into()),
                ..Default::default()
            },
            vec![
                (
                    "azure.storage_account_key",
                    "Credential for another provider",
                ),
                ("gcs.service_account", "Credential for another provider"),
            ],
        ),
    ];
    for (v, creds, want) in rows {
        let got = findings(v.clone(), &creds);
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(p, s)| (p.to_owned(), s.to_owned()))
            .collect();
        assert_eq!(got, want, "{v}");
    }
}

#[test]
fn findings_never_quote_credentials() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ";
    let sa = "{\"type\": \"api_key\", \"key\": \"topsecret\"}";
    let creds = Credentials {
        s3_access_key: Some("AKIAIOSFODNN7EXAMPLE".into()),
        s3_secret_key: Some(secret.into()),
        gcs_service_account: Some(sa.into()),
        ..Default::default()
    };
    let found = objstore::validate(&spec(serde_json::json!({"s3": {}})), &creds);
    assert!(!found.is_empty());
    for f in found {
        let text = f.to_string();
        assert!(
            !text.contains("wJalr") && !text.contains("topsecret") && !text.contains("AKIA"),
            "{text}"
        );
    }
}

#[test]
fn render_needs_known_required_values() {
    for (v, path) in [
        (serde_json::json!({"s3": {"endpoint": "e"}}), "s3.bucket"),
        (serde_json::json!({"s3": {"bucket": "abc"}}), "s3.endpoint"),
        (
            serde_json::json!({"s3": {"bucket": "abc", "endpoint": "e", "sse": {}}}),
            "s3.sse.type",
        ),
        (serde_json::json!({"gcs": {}}), "gcs.bucket"),
        (
            serde_json::json!({"azure": {"storage_account": "abc"}}),
            "azure.container",
        ),
        (
            serde_json::json!({"filesystem": {}}),
            "filesystem.directory",
        ),
    ] {
        match objstore::render(&spec(v.clone()), &Credentials::default()) {
            Err(Error::Unvalidated(m)) => assert_eq!(m, format!("{path} is required"), "{v}"),
            other => panic!("{v}: {other:?}"),
        }
    }
    match objstore::render(&spec(serde_json::json!({})), &Credentials::default()) {
        Err(Error::Invalid(found)) => assert_eq!(found.len(), 1),
        other => panic!("{other:?}"),
    }
}
