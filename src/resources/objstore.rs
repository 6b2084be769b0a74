//! `object_storage`: a bucket configured in Terraform (on `thanos_receive.ingestor` and
//! `thanos_storage`, and any later resource that ships or reads blocks), validated into
//! [`ObjstoreSpec`], which the provider renders into a Secret the resource owns.
//!
//! Credentials are write-only attributes (`*_wo`): Terraform sends them at validation, plan and
//! apply and never stores them; `credentials_wo_version` is stored instead, and bumping it is
//! how a user says "the credentials changed": the Secret is rewritten and the pods that read it
//! roll. Without credentials each cloud's own chain is used (workload identity).
//!
//! How the three states of a write-only value read here: known (the configuration, at plan and
//! apply); null (not set); unknown, which means either "not known yet" in a plan or "withheld"
//! in a stored state (the lifecycle makes a state's write-only values unknown before
//! validating it, see `tfplugin::framework::write_only`). With a known version, unknown
//! credentials are [`WriteOnly`] without a value: everything renders but the Secret's real
//! data, which only an apply (which has them) writes.

use std::collections::BTreeMap;

use tfplugin::framework::{Input, Model, Validator};
use thanos_render::objstore::{
    self, Azure, Filesystem, Gcs, ObjstoreSpec, Provider, S3, S3Keys, Sse, WriteOnly, names,
};
use thanos_render::validate::{Path, Report};

use super::checks::{self, Checked};

/// A bucket configured in Terraform: set exactly one of `s3`, `gcs`, `azure` or `filesystem`.
/// The provider renders Thanos' objstore file into a Secret it owns
/// (`<component>-<name>-objstore`, key `objstore.yaml`), mounts it into the pods and rolls them
/// when it changes. Credentials are write-only attributes: they are never stored in the state
/// or shown in a plan (Terraform and OpenTofu 1.11 or later); to change them, change them and
/// bump `credentials_wo_version`. Leave them out to use the cloud's workload identity (see
/// `service_account`).
#[derive(Model, Debug, Clone, PartialEq)]
pub struct ObjectStorageModel {
    /// Put every object under this key prefix (e.g. `cluster-a/metrics`), so several stacks can
    /// share one bucket: `/`-separated names, no `/` at either end.
    pub prefix: Input<String>,
    /// AWS S3 or an S3-compatible server (MinIO, Ceph RGW, Cloudflare R2, ...).
    #[tf(block)]
    pub s3: Input<S3Model>,
    /// Google Cloud Storage.
    #[tf(block)]
    pub gcs: Input<GcsModel>,
    /// Azure Blob Storage.
    #[tf(block)]
    pub azure: Input<AzureModel>,
    /// A directory as the bucket: only for tests and single-node setups, where every reader
    /// and writer sees the same directory.
    #[tf(block)]
    pub filesystem: Input<FilesystemModel>,
}

/// AWS S3 or an S3-compatible server. Without keys, Thanos (minio-go) takes credentials from
/// the environment, then EKS IRSA or Pod Identity (the pods' ServiceAccount, see
/// `service_account`), then the node's instance profile.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct S3Model {
    /// The bucket name alone (no `s3://`, no host), as S3 names buckets: 3 to 63 lower case
    /// letters, digits, `.` and `-`.
    #[tf(required)]
    pub bucket: Input<String>,
    /// `host[:port]` without a scheme (Thanos adds it): `s3.eu-west-1.amazonaws.com`,
    /// `minio.minio.svc:9000`.
    #[tf(required)]
    pub endpoint: Input<String>,
    /// The signing region, e.g. `eu-west-1`. Unset: taken from an AWS endpoint, else asked of
    /// the server (needs `s3:GetBucketLocation`).
    pub region: Input<String>,
    /// Plain HTTP instead of HTTPS. Defaults to `false`.
    pub insecure: Input<bool>,
    /// `auto` (the default: virtual-hosted style on AWS and Google endpoints, path style
    /// elsewhere), `virtual-hosted` or `path` (most self-hosted servers need `path`).
    #[tf(validate = Validator::one_of(objstore::LOOKUP_TYPES))]
    pub bucket_lookup_type: Input<String>,
    /// Without keys, take credentials from the AWS SDK's default chain (which adds SSO and
    /// config-file profiles) instead of minio-go's. Defaults to `false`.
    pub aws_sdk_auth: Input<bool>,
    /// Server-side encryption of the objects Thanos writes.
    #[tf(block)]
    pub sse: Input<SseModel>,
    /// Write-only: the access key ID. Set it with `secret_key_wo` and
    /// `credentials_wo_version`, or leave all three unset to use workload identity.
    #[tf(write_only, sensitive)]
    pub access_key_wo: Input<String>,
    /// Write-only: the secret access key. Never stored in the state or shown in a plan.
    #[tf(write_only, sensitive)]
    pub secret_key_wo: Input<String>,
    /// The version of `access_key_wo` and `secret_key_wo`, stored in the state in their place
    /// (e.g. `1`). Change it whenever you change the keys: Terraform never sees the stored
    /// keys, so only a new version rewrites the Secret and restarts the pods that read it.
    #[tf(validate = Validator::int_at_least(1))]
    pub credentials_wo_version: Input<i64>,
}

/// Server-side encryption.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct SseModel {
    /// `SSE-S3` (keys managed by S3), `SSE-KMS` or `SSE-C` (a key you provide).
    #[tf(name = "type", required, validate = Validator::one_of(objstore::SSE_TYPES))]
    pub kind: Input<String>,
    /// `SSE-KMS` only, required there: the KMS key id, alias or ARN.
    pub kms_key_id: Input<String>,
    /// `SSE-KMS` only: the encryption context sent with every write.
    pub kms_encryption_context: Input<BTreeMap<String, String>>,
    /// `SSE-C` only, required there: the absolute path, inside the pods, of a file holding the
    /// 32-byte key (Thanos reads it at start). Needs HTTPS.
    pub encryption_key_file: Input<String>,
}

/// Google Cloud Storage. Without `service_account_wo`, Thanos uses Application Default
/// Credentials: GKE Workload Identity (the pods' ServiceAccount, see `service_account`),
/// then the node's service account.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct GcsModel {
    /// The bucket name alone (no `gs://`).
    #[tf(required)]
    pub bucket: Input<String>,
    /// Write-only: the content of a Google credentials JSON file (a service account key, or a
    /// workload identity federation configuration), e.g. `file("sa.json")`. Set it with
    /// `credentials_wo_version`.
    #[tf(write_only, sensitive)]
    pub service_account_wo: Input<String>,
    /// The version of `service_account_wo`, stored in the state in its place. Change it
    /// whenever you change the credentials.
    #[tf(validate = Validator::int_at_least(1))]
    pub credentials_wo_version: Input<i64>,
}

/// Azure Blob Storage. Without `storage_account_key_wo`, Thanos uses `user_assigned_id`, else
/// the Azure SDK's default chain: AKS workload identity (the pods' ServiceAccount, see
/// `service_account`, and the pod label `azure.workload.identity/use = "true"` in
/// `labels`), then the node's managed identity.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct AzureModel {
    /// The storage account name: 3 to 24 lower case letters and digits.
    #[tf(required)]
    pub storage_account: Input<String>,
    /// The blob container.
    #[tf(required)]
    pub container: Input<String>,
    /// The blob service's domain suffix, without the account name (Thanos prepends it).
    /// Unset uses `blob.core.windows.net`; e.g. `blob.core.chinacloudapi.cn`.
    pub endpoint: Input<String>,
    /// Client id (a GUID) of a user-assigned managed identity to authenticate with.
    pub user_assigned_id: Input<String>,
    /// Create the container at start when it does not exist. Defaults to `true` (needs the
    /// right to create containers).
    pub storage_create_container: Input<bool>,
    /// Write-only: the storage account's access key, as Azure shows it (base64). Set it with
    /// `credentials_wo_version`.
    #[tf(write_only, sensitive)]
    pub storage_account_key_wo: Input<String>,
    /// The version of `storage_account_key_wo`, stored in the state in its place. Change it
    /// whenever you change the key.
    #[tf(validate = Validator::int_at_least(1))]
    pub credentials_wo_version: Input<i64>,
}

/// A directory as the bucket.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct FilesystemModel {
    /// An absolute path inside the pods.
    #[tf(required)]
    pub directory: Input<String>,
}

// ---------------------------------------------------------------------------------------------
// Validation: block → spec.

/// Every rule of an `object_storage` block at `p`.
pub fn object_storage(
    m: &Input<ObjectStorageModel>,
    p: &Path,
    r: &mut Report,
) -> Checked<ObjstoreSpec> {
    checks::block(m, |os| {
        let prefix = match &os.prefix {
            Input::Known(v) => {
                let before = r.0.len();
                objstore::check_prefix(r, &p.attr("prefix"), v);
                if r.0.len() == before {
                    Checked::Known(v.clone())
                } else {
                    Checked::Missing
                }
            }
            Input::Null => Checked::Unset,
            Input::Unknown => Checked::Missing,
        };
        let set: Vec<&str> = [
            ("s3", os.s3.known().is_some()),
            ("gcs", os.gcs.known().is_some()),
            ("azure", os.azure.known().is_some()),
            ("filesystem", os.filesystem.known().is_some()),
        ]
        .into_iter()
        .filter(|(_, known)| *known)
        .map(|(n, _)| n)
        .collect();
        let unknown = [
            os.s3.is_unknown(),
            os.gcs.is_unknown(),
            os.azure.is_unknown(),
            os.filesystem.is_unknown(),
        ]
        .contains(&true);
        if set.len() > 1 || (set.is_empty() && !unknown) {
            r.push(
                p,
                "Exactly one object storage provider",
                format!(
                    "set exactly one of the blocks s3, gcs, azure, filesystem (found {})",
                    if set.is_empty() {
                        "none".to_owned()
                    } else {
                        set.join(", ")
                    }
                ),
            );
        }
        let s3 = checks::block(&os.s3, |s| s3(s, &p.attr("s3"), r));
        let gcs = checks::block(&os.gcs, |g| gcs(g, &p.attr("gcs"), r));
        let azure = checks::block(&os.azure, |a| azure(a, &p.attr("azure"), r));
        let filesystem = checks::block(&os.filesystem, |f| filesystem(f, &p.attr("filesystem"), r));
        if set.len() != 1 {
            return Checked::Missing;
        }
        let provider = match (s3, gcs, azure, filesystem) {
            (Checked::Known(s), ..) => Checked::Known(Provider::S3(s)),
            (_, Checked::Known(g), ..) => Checked::Known(Provider::Gcs(g)),
            (_, _, Checked::Known(a), _) => Checked::Known(Provider::Azure(a)),
            (.., Checked::Known(f)) => Checked::Known(Provider::Filesystem(f)),
            _ => Checked::Missing,
        };
        Checked::all(|| {
            Some(ObjstoreSpec {
                prefix: prefix.into_option()?,
                provider: provider.into_value()?,
            })
        })
    })
}

/// A value written into the objstore file: `rule`, and no `$(NAME)` reference.
fn text(
    r: &mut Report,
    path: &Path,
    v: &Input<String>,
    rule: impl FnOnce(&str) -> Result<(), checks::Problem>,
) -> Checked<String> {
    let checked = checks::string(r, path, v, rule);
    if let Some(s) = v.known() {
        let before = r.0.len();
        objstore::check_text(r, path, s);
        if r.0.len() != before {
            return Checked::Missing;
        }
    }
    checked
}

fn s3(s: &S3Model, p: &Path, r: &mut Report) -> Checked<S3> {
    let bucket = text(r, &p.attr("bucket"), &s.bucket, |b| {
        names::s3_bucket(b).map_err(|e| ("Invalid S3 bucket name", e))
    })
    .required(r, &p.attr("bucket"));
    let ep = p.attr("endpoint");
    let mut endpoint_host = None;
    let endpoint = text(r, &ep, &s.endpoint, |e| {
        let host = names::endpoint(e).map_err(|e| ("Invalid S3 endpoint", e))?;
        aws_style_host(&host, s.bucket.known().map(String::as_str))
            .map_err(|e| ("Invalid S3 endpoint", e))?;
        endpoint_host = Some(host);
        Ok(())
    })
    .required(r, &ep);
    let region = text(r, &p.attr("region"), &s.region, |region| {
        let aws = endpoint_host.as_deref().filter(|h| names::is_aws_host(h));
        match aws {
            Some(_) => names::aws_region(region),
            None => names::region(region),
        }
        .map_err(|e| ("Invalid region", e))?;
        match aws.and_then(names::region_of_aws_endpoint) {
            Some(named) if named != region => Err((
                "Region does not match the endpoint",
                format!(
                    "the endpoint is in {named:?} but region is {region:?}: requests would be signed for the wrong region"
                ),
            )),
            _ => Ok(()),
        }
    });
    let lookup = checks::one_of(
        r,
        &p.attr("bucket_lookup_type"),
        &s.bucket_lookup_type,
        objstore::LOOKUP_TYPES,
    );
    let insecure = checks::plain(&s.insecure);
    let aws_sdk_auth = checks::plain(&s.aws_sdk_auth);
    let sse = checks::block(&s.sse, |sse| {
        self::sse(sse, &p.attr("sse"), s.insecure.known(), r)
    });
    // s3.go validate(): both keys or neither.
    let keys = credentials(
        r,
        &s.credentials_wo_version,
        &p.attr("credentials_wo_version"),
        &[
            Credential::token(&s.access_key_wo, p.attr("access_key_wo"), "access_key_wo"),
            Credential::token(&s.secret_key_wo, p.attr("secret_key_wo"), "secret_key_wo"),
        ],
        |mut v| {
            let secret_key = v.pop().unwrap_or_default();
            let access_key = v.pop().unwrap_or_default();
            S3Keys {
                access_key,
                secret_key,
            }
        },
    );
    // s3.go validate(): aws_sdk_auth takes its credentials from the SDK, never from keys.
    if s.aws_sdk_auth.known() == Some(&true) && matches!(keys, Checked::Known(Some(_))) {
        r.push(
            &p.attr("aws_sdk_auth"),
            "Conflicting credentials",
            "aws_sdk_auth takes credentials from the AWS SDK's default chain; it cannot be combined with access_key_wo",
        );
        return Checked::Missing;
    }
    Checked::all(|| {
        Some(S3 {
            bucket: bucket.into_value()?,
            endpoint: endpoint.into_value()?,
            region: region.into_option()?,
            insecure: insecure.into_option()?,
            bucket_lookup_type: lookup.into_option()?,
            aws_sdk_auth: aws_sdk_auth.into_option()?,
            sse: sse.into_option()?,
            keys: keys.into_value()?,
        })
    })
}

/// minio-go's `isValidEndpointURL` (`utils.go`): a host containing `.s3.amazonaws.com` must be
/// an AWS S3 endpoint (not a bucket's virtual host), a `.googleapis.com` one must be
/// `storage.googleapis.com`.
fn aws_style_host(host: &str, bucket: Option<&str>) -> Result<(), String> {
    let host = host.to_ascii_lowercase();
    if host.contains(".s3.amazonaws.com") {
        let hint = bucket.map_or(String::new(), |b| {
            format!(" (bucket {b:?} goes in bucket, not in the endpoint)")
        });
        Err(format!(
            "{host:?} is a bucket's virtual host: use the service endpoint, e.g. \"s3.amazonaws.com\" or \"s3.<region>.amazonaws.com\"{hint}"
        ))
    } else if host.contains(".googleapis.com") && host != "storage.googleapis.com" {
        Err(format!(
            "{host:?}: Google's S3-compatible endpoint is \"storage.googleapis.com\""
        ))
    } else {
        Ok(())
    }
}

fn sse(sse: &SseModel, p: &Path, insecure: Option<&bool>, r: &mut Report) -> Checked<Sse> {
    let kind = checks::one_of(r, &p.attr("type"), &sse.kind, objstore::SSE_TYPES)
        .required(r, &p.attr("type"));
    let k = sse.kind.known().map(String::as_str);
    let before = r.0.len();
    // Fields that belong to another type are ignored by Thanos; say so instead.
    let belongs = |field: &str, to: &str| {
        k.filter(|k| *k != to && objstore::SSE_TYPES.contains(k))
            .map(|_| format!("{field} only applies to type \"{to}\""))
    };
    if sse.kms_key_id.known().is_some()
        && let Some(d) = belongs("kms_key_id", "SSE-KMS")
    {
        r.push(&p.attr("kms_key_id"), "Not used", d);
    }
    if sse.kms_encryption_context.known().is_some()
        && let Some(d) = belongs("kms_encryption_context", "SSE-KMS")
    {
        r.push(&p.attr("kms_encryption_context"), "Not used", d);
    }
    if sse.encryption_key_file.known().is_some()
        && let Some(d) = belongs("encryption_key_file", "SSE-C")
    {
        r.push(&p.attr("encryption_key_file"), "Not used", d);
    }
    // s3.go validate(): the key id (SSE-KMS) and the key (SSE-C) are required.
    if k == Some("SSE-KMS") && sse.kms_key_id.is_null() {
        r.push(
            &p.attr("kms_key_id"),
            "Missing kms_key_id",
            "type \"SSE-KMS\" needs the KMS key id or ARN",
        );
    }
    if k == Some("SSE-C") && sse.encryption_key_file.is_null() {
        r.push(
            &p.attr("encryption_key_file"),
            "Missing encryption_key_file",
            "type \"SSE-C\" needs the path of the file holding the 32-byte key",
        );
    }
    if k == Some("SSE-C") && insecure == Some(&true) {
        r.push(
            &p.attr("type"),
            "SSE-C needs HTTPS",
            "S3 refuses customer-provided keys over plain HTTP (insecure = true)",
        );
    }
    let key_id = text(r, &p.attr("kms_key_id"), &sse.kms_key_id, |k| {
        if k.is_empty() || k.chars().any(char::is_whitespace) {
            Err((
                "Invalid kms_key_id",
                format!("{k:?} must be a KMS key id, alias or ARN without spaces"),
            ))
        } else {
            Ok(())
        }
    });
    let context = checks::map(
        r,
        &p.attr("kms_encryption_context"),
        &sse.kms_encryption_context,
        |k, v| {
            let mut local = Report::default();
            objstore::check_text(&mut local, &Path::root(), k);
            objstore::check_text(&mut local, &Path::root(), v);
            local
                .0
                .into_iter()
                .map(|i| ("Unsupported $(...) reference", i.detail))
                .collect()
        },
    );
    let key_file = text(
        r,
        &p.attr("encryption_key_file"),
        &sse.encryption_key_file,
        |f| {
            if f.starts_with('/') {
                Ok(())
            } else {
                Err((
                    "Invalid encryption_key_file",
                    format!("{f:?} must be an absolute path inside the pods"),
                ))
            }
        },
    );
    if r.0.len() != before {
        return Checked::Missing;
    }
    Checked::all(|| {
        Some(match kind.into_value()?.as_str() {
            "SSE-S3" => Sse::S3,
            "SSE-KMS" => Sse::Kms {
                key_id: key_id.into_value()?,
                encryption_context: context.into_value()?,
            },
            _ => Sse::C {
                key_file: key_file.into_value()?,
            },
        })
    })
}

fn gcs(g: &GcsModel, p: &Path, r: &mut Report) -> Checked<Gcs> {
    let bucket = text(r, &p.attr("bucket"), &g.bucket, |b| {
        names::gcs_bucket(b).map_err(|e| ("Invalid GCS bucket name", e))
    })
    .required(r, &p.attr("bucket"));
    let sa_path = p.attr("service_account_wo");
    if let Some(sa) = g.service_account_wo.known()
        && let Err(e) = objstore::credentials_json(sa)
    {
        r.push(&sa_path, "Invalid service account JSON", e);
    }
    let service_account = credentials(
        r,
        &g.credentials_wo_version,
        &p.attr("credentials_wo_version"),
        &[Credential {
            value: &g.service_account_wo,
            path: sa_path,
            name: "service_account_wo",
            key_is_token: false,
        }],
        |mut v| v.pop().unwrap_or_default(),
    );
    Checked::all(|| {
        Some(Gcs {
            bucket: bucket.into_value()?,
            service_account: service_account.into_value()?,
        })
    })
}

fn azure(a: &AzureModel, p: &Path, r: &mut Report) -> Checked<Azure> {
    let account = text(r, &p.attr("storage_account"), &a.storage_account, |n| {
        names::azure_account(n).map_err(|e| ("Invalid storage account name", e))
    })
    .required(r, &p.attr("storage_account"));
    let container = text(r, &p.attr("container"), &a.container, |c| {
        names::azure_container(c).map_err(|e| ("Invalid container name", e))
    })
    .required(r, &p.attr("container"));
    let endpoint = text(r, &p.attr("endpoint"), &a.endpoint, |ep| {
        let host = names::endpoint(ep).map_err(|e| ("Invalid Azure endpoint", e))?;
        // The account name is prepended by Thanos; a full blob host doubles it.
        match a.storage_account.known() {
            Some(acct) if host.to_ascii_lowercase().starts_with(&format!("{acct}.")) => Err((
                "Invalid Azure endpoint",
                format!(
                    "{ep:?} starts with the account name, which Thanos prepends itself: use {:?}",
                    &host[acct.len() + 1..]
                ),
            )),
            _ => Ok(()),
        }
    });
    let key_path = p.attr("storage_account_key_wo");
    let id_path = p.attr("user_assigned_id");
    let user_assigned_id = checks::string(r, &id_path, &a.user_assigned_id, |id| {
        if objstore::is_guid(id) {
            Ok(())
        } else {
            Err((
                "Invalid user_assigned_id",
                format!(
                    "{id:?} must be the client id (a GUID) of a user-assigned managed identity"
                ),
            ))
        }
    });
    // helpers.go: the managed identity is only used when there is no account key, and
    // azure.go validate() refuses both.
    let mut conflict = false;
    if a.user_assigned_id.known().is_some() && a.storage_account_key_wo.known().is_some() {
        r.push(
            &id_path,
            "Conflicting credentials",
            "user_assigned_id cannot be combined with storage_account_key_wo",
        );
        conflict = true;
    }
    if let Some(k) = a.storage_account_key_wo.known()
        && !k.is_empty()
        && k.trim() == k
        && !objstore::is_std_base64(k)
    {
        // azblob's SetAccountKey decodes it with base64.StdEncoding and fails the start.
        r.push(
            &key_path,
            "Invalid storage account key",
            "must be the account's access key as Azure shows it (standard base64)",
        );
    }
    let account_key = credentials(
        r,
        &a.credentials_wo_version,
        &p.attr("credentials_wo_version"),
        &[Credential::token(
            &a.storage_account_key_wo,
            key_path,
            "storage_account_key_wo",
        )],
        |mut v| v.pop().unwrap_or_default(),
    );
    if conflict {
        return Checked::Missing;
    }
    let create = checks::plain(&a.storage_create_container);
    Checked::all(|| {
        Some(Azure {
            storage_account: account.into_value()?,
            container: container.into_value()?,
            endpoint: endpoint.into_option()?,
            user_assigned_id: user_assigned_id.into_option()?,
            storage_create_container: create.into_option()?,
            account_key: account_key.into_value()?,
        })
    })
}

fn filesystem(f: &FilesystemModel, p: &Path, r: &mut Report) -> Checked<Filesystem> {
    let directory = text(r, &p.attr("directory"), &f.directory, |d| {
        if d.starts_with('/') {
            Ok(())
        } else {
            Err((
                "Invalid directory",
                format!("{d:?} must be an absolute path"),
            ))
        }
    })
    .required(r, &p.attr("directory"));
    Checked::all(|| {
        Some(Filesystem {
            directory: directory.into_value()?,
        })
    })
}

/// One write-only credential attribute.
struct Credential<'a> {
    value: &'a Input<String>,
    path: Path,
    name: &'static str,
    /// A key or token (whitespace at either end is a mistake), not a document.
    key_is_token: bool,
}

impl<'a> Credential<'a> {
    fn token(value: &'a Input<String>, path: Path, name: &'static str) -> Self {
        Credential {
            value,
            path,
            name,
            key_is_token: true,
        }
    }
}

/// The write-only credentials of one provider block, all of them or none, with their version:
/// `Known(None)` without credentials, `Known(Some)` with them (their value when at hand,
/// withheld otherwise), `Missing` when something is wrong (reported) or not known yet.
fn credentials<T>(
    r: &mut Report,
    version: &Input<i64>,
    version_path: &Path,
    fields: &[Credential<'_>],
    build: impl FnOnce(Vec<String>) -> T,
) -> Checked<Option<WriteOnly<T>>> {
    let before = r.0.len();
    for f in fields {
        if let Some(v) = f.value.known() {
            objstore::check_credential(r, &f.path, v, f.key_is_token);
        }
    }
    let given: Vec<&str> = fields
        .iter()
        .filter(|f| f.value.known().is_some())
        .map(|f| f.name)
        .collect();
    let nulls: Vec<&Credential<'_>> = fields.iter().filter(|f| f.value.is_null()).collect();
    if nulls.len() == fields.len() {
        if version.known().is_some() {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            r.push(
                version_path,
                "Version without credentials",
                format!(
                    "credentials_wo_version is set but {} {} not: set them, or remove credentials_wo_version to use the default credential chain (workload identity)",
                    names.join(" and "),
                    if names.len() == 1 { "is" } else { "are" }
                ),
            );
            return Checked::Missing;
        }
        return Checked::Known(None);
    }
    if !nulls.is_empty() {
        // Some set, some not: a key pair is all or nothing.
        if let Some(other) = given.first() {
            for f in nulls {
                r.push(
                    &f.path,
                    format!("Missing {}", f.name),
                    format!(
                        "{other} is set: set {} too (or neither, to use the default credential chain)",
                        f.name
                    ),
                );
            }
        }
        return Checked::Missing;
    }
    match version {
        Input::Null if !given.is_empty() => {
            r.push(
                version_path,
                "Missing credentials_wo_version",
                format!(
                    "{} {} write-only: Terraform never stores {}, so it cannot tell when {} change. Set credentials_wo_version (e.g. 1) and change it whenever you change them: that rewrites the Secret and restarts the pods that read it.",
                    given.join(" and "),
                    if given.len() == 1 { "is" } else { "are" },
                    if given.len() == 1 { "it" } else { "them" },
                    if given.len() == 1 { "it does" } else { "they" },
                ),
            );
            Checked::Missing
        }
        // Withheld values without a version were never given (a stored state), or are not
        // known yet (a plan: the apply checks them again once they are).
        Input::Null => Checked::Known(None),
        Input::Unknown => Checked::Missing,
        Input::Known(_) if r.0.len() != before => Checked::Missing,
        Input::Known(v) => {
            let values: Option<Vec<String>> =
                fields.iter().map(|f| f.value.known().cloned()).collect();
            Checked::Known(Some(WriteOnly {
                version: *v,
                value: values.map(build),
            }))
        }
    }
}
