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

use serde::Deserialize;

use super::{Credentials, check_credential, check_text, names, yaml};
use super::{check_enum, required};
use crate::Error;
use crate::validate::{Path, Report};

/// `bucket_lookup_type` values (`BucketLookupType.UnmarshalYAML` in `s3.go`).
const LOOKUP_TYPES: &[&str] = &["auto", "virtual-hosted", "path"];
/// `sse_config.type` values (`SSES3`, `SSEKMS`, `SSEC` in `s3.go`).
const SSE_TYPES: &[&str] = &["SSE-S3", "SSE-KMS", "SSE-C"];

/// `s3` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3 {
    /// Required. The bucket name alone (no `s3://`, no host).
    pub bucket: Option<String>,
    /// Required. `host[:port]`, no scheme: `s3.eu-west-1.amazonaws.com`, `minio.minio.svc:9000`.
    pub endpoint: Option<String>,
    /// The signing region. Unset: minio-go asks the bucket's location (needs
    /// `s3:GetBucketLocation`) or takes it from an AWS endpoint.
    pub region: Option<String>,
    /// Plain HTTP instead of HTTPS (default false).
    pub insecure: Option<bool>,
    /// `auto` (default: virtual-hosted style on AWS and Google endpoints, path style
    /// elsewhere), `virtual-hosted` or `path` (most self-hosted servers need path).
    pub bucket_lookup_type: Option<String>,
    /// Without keys, use the AWS SDK's default chain instead of minio-go's (default false).
    pub aws_sdk_auth: Option<bool>,
    /// Server-side encryption of the objects Thanos writes.
    pub sse: Option<Sse>,
}

/// `sse` block of `s3` (Thanos' `sse_config`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sse {
    /// Required: `SSE-S3`, `SSE-KMS` or `SSE-C`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `SSE-KMS` only, required there: the KMS key id or ARN.
    pub kms_key_id: Option<String>,
    /// `SSE-KMS` only: the encryption context sent with every write.
    pub kms_encryption_context: Option<BTreeMap<String, String>>,
    /// `SSE-C` only, required there: an absolute path, inside the pods, of a file holding the
    /// 32-byte key. Thanos reads the key from this file at start (`os.ReadFile` in `s3.go`);
    /// mounting it is up to the caller.
    pub encryption_key_file: Option<String>,
}

pub(super) fn validate(r: &mut Report, path: &Path, s: &S3, creds: &Credentials) {
    if let Some(b) = &s.bucket {
        if let Err(e) = names::s3_bucket(b) {
            r.push(&path.attr("bucket"), "Invalid S3 bucket name", e);
        }
        check_text(r, &path.attr("bucket"), b);
    }
    let mut endpoint_host = None;
    if let Some(ep) = &s.endpoint {
        let p = path.attr("endpoint");
        match names::endpoint(ep) {
            Ok(host) => {
                check_aws_style_host(r, &p, &host, s.bucket.as_deref());
                endpoint_host = Some(host);
            }
            Err(e) => r.push(&p, "Invalid S3 endpoint", e),
        }
        check_text(r, &p, ep);
    }
    if let Some(region) = &s.region {
        let p = path.attr("region");
        let aws = endpoint_host.as_deref().filter(|h| names::is_aws_host(h));
        let checked = match aws {
            Some(_) => names::aws_region(region),
            None => names::region(region),
        };
        if let Err(e) = checked {
            r.push(&p, "Invalid region", e);
        } else if let Some(named) = aws.and_then(names::region_of_aws_endpoint)
            && named != region
        {
            r.push(
                &p,
                "Region does not match the endpoint",
                format!(
                    "the endpoint is in {named:?} but region is {region:?}: requests would be signed for the wrong region"
                ),
            );
        }
        check_text(r, &p, region);
    }
    check_enum(
        r,
        &path.attr("bucket_lookup_type"),
        &s.bucket_lookup_type,
        LOOKUP_TYPES,
    );
    if let Some(sse) = &s.sse {
        validate_sse(r, &path.attr("sse"), sse, s.insecure);
    }
    // s3.go validate(): both keys or neither; aws_sdk_auth excludes access_key.
    let (ak, sk) = (&creds.s3_access_key, &creds.s3_secret_key);
    match (ak, sk) {
        (Some(_), None) => r.push(
            &path.attr("secret_key"),
            "Missing secret_key",
            "access_key is set: set secret_key too (or neither, to use the default credential chain)",
        ),
        (None, Some(_)) => r.push(
            &path.attr("access_key"),
            "Missing access_key",
            "secret_key is set: set access_key too (or neither, to use the default credential chain)",
        ),
        _ => {}
    }
    if s.aws_sdk_auth == Some(true) && ak.is_some() {
        r.push(
            &path.attr("aws_sdk_auth"),
            "Conflicting credentials",
            "aws_sdk_auth takes credentials from the AWS SDK's default chain; it cannot be combined with access_key",
        );
    }
    if let Some(v) = ak {
        check_credential(r, &path.attr("access_key"), v, true);
    }
    if let Some(v) = sk {
        check_credential(r, &path.attr("secret_key"), v, true);
    }
}

/// minio-go's `isValidEndpointURL` (`utils.go`): a host containing `.s3.amazonaws.com` must be
/// an AWS S3 endpoint (not a bucket's virtual host), a `.googleapis.com` one must be
/// `storage.googleapis.com`.
fn check_aws_style_host(r: &mut Report, path: &Path, host: &str, bucket: Option<&str>) {
    let host = host.to_ascii_lowercase();
    if host.contains(".s3.amazonaws.com") {
        let hint = bucket.map_or(String::new(), |b| {
            format!(" (bucket {b:?} goes in bucket, not in the endpoint)")
        });
        r.push(
            path,
            "Invalid S3 endpoint",
            format!(
                "{host:?} is a bucket's virtual host: use the service endpoint, e.g. \"s3.amazonaws.com\" or \"s3.<region>.amazonaws.com\"{hint}"
            ),
        );
    } else if host.contains(".googleapis.com") && host != "storage.googleapis.com" {
        r.push(
            path,
            "Invalid S3 endpoint",
            format!("{host:?}: Google's S3-compatible endpoint is \"storage.googleapis.com\""),
        );
    }
}

fn validate_sse(r: &mut Report, path: &Path, sse: &Sse, insecure: Option<bool>) {
    check_enum(r, &path.attr("type"), &sse.kind, SSE_TYPES);
    let kind = sse.kind.as_deref();
    // Fields that belong to another type are ignored by Thanos; say so instead.
    let belongs = |field: &str, to: &str| {
        if kind.is_some_and(|k| k != to && SSE_TYPES.contains(&k)) {
            Some(format!("{field} only applies to type \"{to}\""))
        } else {
            None
        }
    };
    if sse.kms_key_id.is_some()
        && let Some(d) = belongs("kms_key_id", "SSE-KMS")
    {
        r.push(&path.attr("kms_key_id"), "Not used", d);
    }
    if sse.kms_encryption_context.is_some()
        && let Some(d) = belongs("kms_encryption_context", "SSE-KMS")
    {
        r.push(&path.attr("kms_encryption_context"), "Not used", d);
    }
    if sse.encryption_key_file.is_some()
        && let Some(d) = belongs("encryption_key_file", "SSE-C")
    {
        r.push(&path.attr("encryption_key_file"), "Not used", d);
    }
    // s3.go validate(): the key id (SSE-KMS) and the key (SSE-C) are required.
    if kind == Some("SSE-KMS") && sse.kms_key_id.is_none() {
        r.push(
            &path.attr("kms_key_id"),
            "Missing kms_key_id",
            "type \"SSE-KMS\" needs the KMS key id or ARN",
        );
    }
    if kind == Some("SSE-C") && sse.encryption_key_file.is_none() {
        r.push(
            &path.attr("encryption_key_file"),
            "Missing encryption_key_file",
            "type \"SSE-C\" needs the path of the file holding the 32-byte key",
        );
    }
    if kind == Some("SSE-C") && insecure == Some(true) {
        r.push(
            &path.attr("type"),
            "SSE-C needs HTTPS",
            "S3 refuses customer-provided keys over plain HTTP (insecure = true)",
        );
    }
    if let Some(k) = &sse.kms_key_id {
        if k.is_empty() || k.chars().any(char::is_whitespace) {
            r.push(
                &path.attr("kms_key_id"),
                "Invalid kms_key_id",
                format!("{k:?} must be a KMS key id, alias or ARN without spaces"),
            );
        }
        check_text(r, &path.attr("kms_key_id"), k);
    }
    if let Some(ctx) = &sse.kms_encryption_context {
        for (k, v) in ctx {
            let p = path.attr("kms_encryption_context").key(k);
            check_text(r, &p, k);
            check_text(r, &p, v);
        }
    }
    if let Some(f) = &sse.encryption_key_file {
        let p = path.attr("encryption_key_file");
        if !f.starts_with('/') {
            r.push(
                &p,
                "Invalid encryption_key_file",
                format!("{f:?} must be an absolute path inside the pods"),
            );
        }
        check_text(r, &p, f);
    }
}

/// The `config` mapping, in `s3.Config` field order.
pub(super) fn config(path: &Path, s: &S3, creds: &Credentials) -> Result<yaml::Map, Error> {
    let bucket = required(&s.bucket, &path.attr("bucket"))?;
    let endpoint = required(&s.endpoint, &path.attr("endpoint"))?;
    let sse = match &s.sse {
        None => yaml::Map::default(),
        Some(sse) => {
            let kind = required(&sse.kind, &path.attr("sse").attr("type"))?;
            let mut ctx = yaml::Map::default();
            for (k, v) in sse.kms_encryption_context.iter().flatten() {
                ctx = ctx.str(k, Some(v));
            }
            yaml::Map::default()
                .str("type", Some(kind))
                .str("kms_key_id", sse.kms_key_id.as_deref())
                .map("kms_encryption_context", ctx)
                .str("encryption_key", sse.encryption_key_file.as_deref())
        }
    };
    Ok(yaml::Map::default()
        .str("bucket", Some(bucket))
        .str("endpoint", Some(endpoint))
        .str("region", s.region.as_deref())
        .bool("aws_sdk_auth", s.aws_sdk_auth)
        .str("access_key", creds.s3_access_key.as_deref())
        .bool("insecure", s.insecure)
        .str("secret_key", creds.s3_secret_key.as_deref())
        .str("bucket_lookup_type", s.bucket_lookup_type.as_deref())
        .map("sse_config", sse))
}
