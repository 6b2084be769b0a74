//! `type: S3`: AWS S3 and S3-compatible servers (MinIO, Ceph RGW, R2, ...), through minio-go.
//!
//! Field names are those of `s3.Config` and `s3.SSEConfig` in objstore's
//! `providers/s3/s3.go`: `bucket`, `endpoint`, `region`, `insecure`, `bucket_lookup_type`
//! (`auto`, `virtual-hosted`, `path`: `BucketLookupType.UnmarshalYAML`), `aws_sdk_auth`,
//! `access_key`, `secret_key`, and `sse_config` with `type` (`SSE-S3`, `SSE-KMS`, `SSE-C`),
//! `kms_key_id`, `kms_encryption_context` and `encryption_key`.
//!
//! Credentials (`NewBucketWithConfig` in `s3.go`):
//! - `access_key` + `secret_key` given: static keys, SigV4.
//! - none, `aws_sdk_auth` unset: minio-go's chain, first that answers: the environment
//!   (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`), the shared credentials
//!   file (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`), then `credentials.IAM`, which covers
//!   EKS IRSA (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), EKS Pod Identity and ECS
//!   (`AWS_CONTAINER_CREDENTIALS_FULL_URI`/`_RELATIVE_URI`), then the EC2 instance metadata
//!   (minio-go `pkg/credentials/iam_aws.go`).
//! - none, `aws_sdk_auth = true`: the AWS SDK v2's default chain (`s3_aws_sdk_auth.go`:
//!   `config.LoadDefaultConfig`), which adds SSO and config-file profiles.
//!
//! Not offered: signature V2 (deprecated by AWS, only for very old servers), STS endpoint,
//! part size, list version, TLS files (they would need files mounted in the pods).

use std::collections::BTreeMap;

use super::{Mode, Withheld, WriteOnly, credential, yaml};

/// `bucket_lookup_type` values (`BucketLookupType.UnmarshalYAML` in `s3.go`).
pub const LOOKUP_TYPES: &[&str] = &["auto", "virtual-hosted", "path"];
/// `sse_config.type` values (`SSES3`, `SSEKMS`, `SSEC` in `s3.go`).
pub const SSE_TYPES: &[&str] = &["SSE-S3", "SSE-KMS", "SSE-C"];

/// `s3`: a bucket on AWS S3 or an S3-compatible server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3 {
    /// The bucket name alone (no `s3://`, no host).
    pub bucket: String,
    /// `host[:port]`, no scheme: `s3.eu-west-1.amazonaws.com`, `minio.minio.svc:9000`.
    pub endpoint: String,
    /// The signing region. Unset: minio-go asks the bucket's location (needs
    /// `s3:GetBucketLocation`) or takes it from an AWS endpoint.
    pub region: Option<String>,
    /// Plain HTTP instead of HTTPS (Thanos' default false).
    pub insecure: Option<bool>,
    /// `auto` (Thanos' default: virtual-hosted style on AWS and Google endpoints, path style
    /// elsewhere), `virtual-hosted` or `path` (most self-hosted servers need path).
    pub bucket_lookup_type: Option<String>,
    /// Without keys, use the AWS SDK's default chain instead of minio-go's.
    pub aws_sdk_auth: Option<bool>,
    /// Server-side encryption of the objects Thanos writes.
    pub sse: Option<Sse>,
    /// Static keys; `None` uses the default credential chain (workload identity).
    pub keys: Option<WriteOnly<S3Keys>>,
}

/// An S3 key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Keys {
    pub access_key: String,
    pub secret_key: String,
}

/// Server-side encryption (Thanos' `sse_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sse {
    /// `SSE-S3`: keys managed by S3.
    S3,
    /// `SSE-KMS`: a KMS key id or ARN, and the encryption context sent with every write.
    Kms {
        key_id: String,
        encryption_context: BTreeMap<String, String>,
    },
    /// `SSE-C`: an absolute path, inside the pods, of a file holding the 32-byte key. Thanos
    /// reads the key from this file at start (`os.ReadFile` in `s3.go`).
    C { key_file: String },
}

/// The `config` mapping, in `s3.Config` field order.
pub(super) fn config(s: &S3, mode: Mode) -> Result<yaml::Map, Withheld> {
    let access_key = credential(&s.keys, mode, |k| &k.access_key)?;
    let secret_key = credential(&s.keys, mode, |k| &k.secret_key)?;
    let sse = match &s.sse {
        None => yaml::Map::default(),
        Some(Sse::S3) => yaml::Map::default().str("type", Some("SSE-S3")),
        Some(Sse::Kms {
            key_id,
            encryption_context,
        }) => {
            let mut ctx = yaml::Map::default();
            for (k, v) in encryption_context {
                ctx = ctx.str(k, Some(v));
            }
            yaml::Map::default()
                .str("type", Some("SSE-KMS"))
                .str("kms_key_id", Some(key_id))
                .map("kms_encryption_context", ctx)
        }
        Some(Sse::C { key_file }) => yaml::Map::default()
            .str("type", Some("SSE-C"))
            .str("encryption_key", Some(key_file)),
    };
    Ok(yaml::Map::default()
        .str("bucket", Some(&s.bucket))
        .str("endpoint", Some(&s.endpoint))
        .str("region", s.region.as_deref())
        .bool("aws_sdk_auth", s.aws_sdk_auth)
        .str("access_key", access_key.as_deref())
        .bool("insecure", s.insecure)
        .str("secret_key", secret_key.as_deref())
        .str("bucket_lookup_type", s.bucket_lookup_type.as_deref())
        .map("sse_config", sse))
}
