//! The objstore YAML: golden files per provider (a snapshot change changes what every Thanos
//! pod reads from its Secret: review every line), the public rendering that plans and state
//! see, and the owned Secret. The rules that make a spec valid are the provider's
//! (`src/resources/objstore.rs`, tested in `tests/render/objstore.rs` of the provider crate).
//! That the real Thanos parses these files is proven by the data-path tests
//! (`tests/datapath_s3.rs` in the provider crate).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use thanos_render::common::SecretKeyRef;
use thanos_render::objstore::{
    self, Azure, Bucket, Filesystem, Gcs, ObjstoreSpec, Provider, S3, S3Keys, Sse, WriteOnly,
};

fn s3(bucket: &str, endpoint: &str) -> S3 {
    S3 {
        bucket: bucket.into(),
        endpoint: endpoint.into(),
        region: None,
        insecure: None,
        bucket_lookup_type: None,
        aws_sdk_auth: None,
        sse: None,
        keys: None,
    }
}

fn keys(access: &str, secret: &str) -> Option<WriteOnly<S3Keys>> {
    Some(WriteOnly {
        version: 1,
        value: Some(S3Keys {
            access_key: access.into(),
            secret_key: secret.into(),
        }),
    })
}

fn given(v: &str) -> Option<WriteOnly<String>> {
    Some(WriteOnly {
        version: 1,
        value: Some(v.into()),
    })
}

fn spec(provider: Provider) -> ObjstoreSpec {
    ObjstoreSpec {
        prefix: None,
        provider,
    }
}

fn yaml(spec: &ObjstoreSpec) -> String {
    objstore::render(spec).unwrap().into_string()
}

// ---------------------------------------------------------------------------------------------
// Golden files.

/// S3 without keys: minio-go's default chain (env, shared file, IRSA / Pod Identity, EC2).
#[test]
fn s3_workload_identity() {
    insta::assert_snapshot!(yaml(&spec(Provider::S3(S3 {
        region: Some("eu-west-1".into()),
        ..s3("thanos-metrics", "s3.eu-west-1.amazonaws.com")
    }))));
}

/// S3 with every field we offer: static keys, SSE-KMS with a context, a prefix.
#[test]
fn s3_keys_and_sse_kms() {
    insta::assert_snapshot!(yaml(&ObjstoreSpec {
        prefix: Some("cluster-a/metrics".into()),
        provider: Provider::S3(S3 {
            region: Some("us-east-1".into()),
            insecure: Some(false),
            bucket_lookup_type: Some("virtual-hosted".into()),
            sse: Some(Sse::Kms {
                key_id:
                    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        .into(),
                encryption_context: BTreeMap::from([
                    ("team".into(), "observability".into()),
                    ("aws:s3:arn".into(), "arn:aws:s3:::thanos-metrics".into()),
                ]),
            }),
            keys: keys(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ..s3("thanos-metrics", "s3.us-east-1.amazonaws.com")
        }),
    }));
}

/// A self-hosted S3 server over plain HTTP, path style; keys with characters YAML would
/// otherwise misread stay byte-exact.
#[test]
fn s3_self_hosted_path_style() {
    insta::assert_snapshot!(yaml(&spec(Provider::S3(S3 {
        insecure: Some(true),
        bucket_lookup_type: Some("path".into()),
        keys: keys("thanos", "s3cr3t: \"quoted\" # not a comment \\ é"),
        ..s3("thanos", "minio.minio.svc:9000")
    }))));
}

/// SSE-S3 and SSE-C (the key is a file Thanos reads) via the AWS SDK chain.
#[test]
fn s3_sse_s3_and_sse_c() {
    insta::assert_snapshot!(
        "s3_sse_s3",
        yaml(&spec(Provider::S3(S3 {
            aws_sdk_auth: Some(true),
            sse: Some(Sse::S3),
            ..s3("thanos-metrics", "s3.amazonaws.com")
        })))
    );
    insta::assert_snapshot!(
        "s3_sse_c",
        yaml(&spec(Provider::S3(S3 {
            sse: Some(Sse::C {
                key_file: "/etc/thanos/sse-c/key".into()
            }),
            ..s3("thanos-metrics", "s3.amazonaws.com")
        })))
    );
}

/// GCS with a service account key: the JSON (newlines, escaped `\n` in the private key) is
/// one double-quoted scalar that decodes back to the exact file content.
#[test]
fn gcs_service_account() {
    let sa = "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"thanos@p.iam.gserviceaccount.com\"\n}\n";
    insta::assert_snapshot!(yaml(&spec(Provider::Gcs(Gcs {
        bucket: "thanos-metrics".into(),
        service_account: given(sa),
    }))));
}

/// GCS without a key: Application Default Credentials (GKE Workload Identity).
#[test]
fn gcs_workload_identity() {
    insta::assert_snapshot!(yaml(&ObjstoreSpec {
        prefix: Some("eu".into()),
        provider: Provider::Gcs(Gcs {
            bucket: "thanos_metrics".into(),
            service_account: None,
        }),
    }));
}

fn azure() -> Azure {
    Azure {
        storage_account: "thanosmetrics".into(),
        container: "blocks".into(),
        endpoint: None,
        user_assigned_id: None,
        storage_create_container: None,
        account_key: None,
    }
}

/// Azure with the account key.
#[test]
fn azure_account_key() {
    insta::assert_snapshot!(yaml(&spec(Provider::Azure(Azure {
        account_key: given("bXkgc2hhcmVkIGtleSBpcyBub3QgcmVhbGx5IHRoaXMgc2hvcnQgYnV0IGl0IGRvZXM="),
        ..azure()
    }))));
}

/// Azure with a user-assigned managed identity in another cloud, container not created.
#[test]
fn azure_managed_identity() {
    insta::assert_snapshot!(yaml(&spec(Provider::Azure(Azure {
        endpoint: Some("blob.core.chinacloudapi.cn".into()),
        user_assigned_id: Some("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b".into()),
        storage_create_container: Some(false),
        ..azure()
    }))));
}

#[test]
fn filesystem() {
    insta::assert_snapshot!(yaml(&spec(Provider::Filesystem(Filesystem {
        directory: "/var/thanos/bucket".into(),
    }))));
}

/// Same input, same bytes: the Secret only changes when the configuration does.
#[test]
fn rendering_is_deterministic() {
    let v = spec(Provider::S3(S3 {
        sse: Some(Sse::Kms {
            key_id: "k".into(),
            encryption_context: BTreeMap::from([
                ("z".into(), "1".into()),
                ("a".into(), "2".into()),
                ("m".into(), "3".into()),
            ]),
        }),
        keys: keys("a", "s"),
        ..s3("b-1", "e:1")
    }));
    let first = yaml(&v);
    for _ in 0..10 {
        assert_eq!(yaml(&v.clone()), first);
    }
    // The context comes out sorted by key.
    let a = first.find(" a: ").unwrap();
    let m = first.find(" m: ").unwrap();
    let z = first.find(" z: ").unwrap();
    assert!(a < m && m < z, "{first}");
}

// ---------------------------------------------------------------------------------------------
// The public rendering: every credential replaced by a marker naming its version.

/// Each provider with credentials: the public file names the version where the credential was,
/// and shows nothing of the credential.
#[test]
fn public_rendering_of_each_provider() {
    let specs = [
        spec(Provider::S3(S3 {
            keys: keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI"),
            ..s3("thanos", "minio:9000")
        })),
        spec(Provider::Gcs(Gcs {
            bucket: "thanos".into(),
            service_account: given("{\"type\": \"service_account\", \"private_key\": \"pk\"}"),
        })),
        spec(Provider::Azure(Azure {
            account_key: given("c2VjcmV0"),
            ..azure()
        })),
    ];
    let mut all = String::new();
    for s in &specs {
        let public = objstore::render_public(s);
        for secret in ["AKIA", "wJalr", "private_key", "c2VjcmV0"] {
            assert!(!public.contains(secret), "{public}");
        }
        all.push_str(&public);
        all.push_str("---\n");
    }
    insta::assert_snapshot!(all);
}

/// Withheld credentials (a refresh has only their version): no file to apply, the same public
/// file as when they are given; without credentials both renderings are the same file.
#[test]
fn withheld_credentials() {
    let withheld = spec(Provider::S3(S3 {
        keys: Some(WriteOnly {
            version: 1,
            value: None,
        }),
        ..s3("thanos", "minio:9000")
    }));
    let given = spec(Provider::S3(S3 {
        keys: keys("a", "s"),
        ..s3("thanos", "minio:9000")
    }));
    assert!(objstore::render(&withheld).is_none());
    assert_eq!(
        objstore::render_public(&withheld),
        objstore::render_public(&given)
    );
    let none = spec(Provider::S3(s3("thanos", "minio:9000")));
    assert_eq!(objstore::render_public(&none), yaml(&none));
}

// ---------------------------------------------------------------------------------------------
// Where a workload's configuration comes from.

fn meta() -> ObjectMeta {
    ObjectMeta {
        name: Some("thanosstorage-s3-objstore".into()),
        namespace: Some("monitoring".into()),
        ..Default::default()
    }
}

#[test]
fn a_users_secret_is_referenced_as_it_is() {
    let b = Bucket::Secret(SecretKeyRef {
        name: "objstore".into(),
        key: "thanos.yaml".into(),
    });
    assert_eq!(
        b.secret_ref("owned"),
        SecretKeyRef {
            name: "objstore".into(),
            key: "thanos.yaml".into()
        }
    );
    assert_eq!(b.hash_input("owned"), "objstore/thanos.yaml");
    assert!(b.owned_secret(meta()).is_none());
}

/// The owned Secret: sealed data for the cluster, the public form everywhere else, and a
/// redaction of live data that equals the public form exactly when only credentials differ.
#[test]
fn an_owned_secret_applies_sealed_and_shows_public() {
    let version = |v: i64, value: Option<S3Keys>| {
        Bucket::Owned(spec(Provider::S3(S3 {
            insecure: Some(true),
            keys: Some(WriteOnly { version: v, value }),
            ..s3("thanos", "minio:9000")
        })))
    };
    let pair = |s: &str| S3Keys {
        access_key: "ak".into(),
        secret_key: s.into(),
    };
    let b = version(1, Some(pair("first")));
    let secret = b.owned_secret(meta()).unwrap();
    let object = thanos_render::Object::Secret(secret.clone());
    let applied = object.apply_json().unwrap().to_string();
    let shown = object.to_json().to_string();
    // base64 of `secret_key: "first"` appears only in what is applied.
    let sealed = &secret.sealed().unwrap().data.unwrap()["objstore.yaml"];
    let sealed_text = String::from_utf8(sealed.0.clone()).unwrap();
    assert!(
        sealed_text.contains("secret_key: \"first\""),
        "{sealed_text}"
    );
    assert!(!shown.contains("first") && applied != shown);
    // Another credential, same version: same hash, same pods' config hash.
    let other = version(1, Some(pair("second")));
    let other_object = thanos_render::Object::Secret(other.owned_secret(meta()).unwrap());
    assert_eq!(object.content_hash(), other_object.content_hash());
    assert_eq!(b.hash_input("x"), other.hash_input("x"));
    // A bumped version: a new hash, a new pods' config hash.
    let bumped = version(2, Some(pair("second")));
    assert_ne!(b.hash_input("x"), bumped.hash_input("x"));
    // Withheld (a refresh): not appliable, same public form.
    let withheld = version(1, None).owned_secret(meta()).unwrap();
    assert!(
        thanos_render::Object::Secret(withheld.clone())
            .apply_json()
            .is_none()
    );
    assert_eq!(
        thanos_render::Object::Secret(withheld.clone()).content_hash(),
        object.content_hash()
    );
    let public = withheld.public().data.clone().unwrap();
    let live = |t: String| BTreeMap::from([("objstore.yaml".to_owned(), ByteString(t.into()))]);
    assert_eq!(withheld.redact(&live(sealed_text.clone())), public);
    assert_ne!(
        withheld.redact(&live(sealed_text.replace("minio:9000", "minio:9001"))),
        public
    );
}
