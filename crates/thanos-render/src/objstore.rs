//! The object storage configuration Thanos reads from `--objstore.config-file`: a validated
//! spec of the bucket, rendered exactly as the pinned Thanos parses it, into a Secret the
//! resource owns; and where a workload takes its configuration from ([`Bucket`]).
//!
//! Thanos v0.42.5 parses the file with `github.com/thanos-io/objstore`
//! v0.0.0-20250804093838-71d60dfee488: `client/factory.go` reads `type`, `config` and `prefix`
//! with `yaml.UnmarshalStrict` (an unknown field is an error), then each provider parses its
//! `config` into its own struct, strictly too (except `filesystem`). Every field name written
//! here was checked against those structs; each provider module cites its file.
//!
//! Providers: [`S3`], [`Gcs`], [`Azure`] and [`Filesystem`] (for tests and single-node setups).
//! The specs are fully known and valid: the provider's resource layer builds them after
//! checking every rule, with the checkers this module exports ([`names`], [`check_text`],
//! [`check_credential`], [`check_prefix`] and those of each provider module).
//!
//! **Credentials** come from Terraform write-only attributes: a [`WriteOnly`] holds them with
//! the version the user bumps to rotate them, and only while Terraform sends them (plan and
//! apply); a refresh or an import has the version alone. So the file has two renderings:
//! - [`render`], the file as Thanos reads it, credentials included: only ever written into the
//!   Secret's data, in the cluster;
//! - [`render_public`], the same file with each credential replaced by a marker naming its
//!   version ([`marker`]): what plans, the state's object hashes, the pods' config hash and
//!   golden files see. It depends on the version and never on the credential, so neither a
//!   hash nor a plan can reveal (or confirm a guess of) a credential, and rotating the version
//!   changes the Secret's hash and rolls the pods that read it.
//!
//! Without credentials each provider falls back to the cloud's own chain (workload identity
//! and friends); the provider modules say exactly what Thanos then tries.
//!
//! One Thanos rule applies to every value: Thanos expands `$(NAME)` in the file from its
//! environment (`extkingpin.PathOrContent` with env substitution, as registered by
//! `pkg/extkingpin/flags.go` `RegisterCommonObjStoreFlags`), and fails to start when `NAME` is
//! unset. There is no escape, so a value containing such a reference is refused
//! ([`check_text`]).

mod azure;
mod gcs;
pub mod names;
mod s3;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use azure::{Azure, is_guid, is_std_base64};
pub use gcs::{CREDENTIAL_TYPES, Gcs, credentials_json};
pub use s3::{LOOKUP_TYPES, S3, S3Keys, SSE_TYPES, Sse};

use crate::common::SecretKeyRef;
use crate::secret::{OwnedSecret, Redaction};
use crate::validate::{Path, Report};

/// The key of the objstore file in a Secret the resource owns.
pub const OWNED_KEY: &str = "objstore.yaml";

/// A validated bucket: exactly one provider, and an optional key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjstoreSpec {
    /// Every object name is put under this prefix (`prefix` in `client/factory.go`), so several
    /// stacks can share one bucket. Validation requires it without `/` at either end (Thanos
    /// trims them), so the plan shows what Thanos uses.
    pub prefix: Option<String>,
    pub provider: Provider,
}

/// The one provider of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    S3(S3),
    Gcs(Gcs),
    Azure(Azure),
    Filesystem(Filesystem),
}

/// `filesystem`: a directory as the bucket. Only for tests and single-node setups: every
/// reader and writer must see the same directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    /// An absolute path (`directory` in `providers/filesystem/filesystem.go`; Thanos would
    /// resolve a relative one against its working directory).
    pub directory: String,
}

/// Credentials from Terraform write-only attributes. `Debug` shows the version and whether the
/// value is at hand, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct WriteOnly<T> {
    /// The version the user bumps to rotate the credentials (`credentials_wo_version`): the
    /// only thing about them that is stored, and what the public rendering shows.
    pub version: i64,
    /// The credentials while Terraform sends them (plan and apply); `None` when they are
    /// withheld (a refresh, an import, the prior state).
    pub value: Option<T>,
}

impl<T> fmt::Debug for WriteOnly<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOnly")
            .field("version", &self.version)
            .field(
                "value",
                &if self.value.is_some() {
                    "<given, redacted>"
                } else {
                    "<withheld>"
                },
            )
            .finish()
    }
}

/// What the public rendering writes in place of a credential of version `version`.
pub fn marker(version: i64) -> String {
    format!("(write-only, version {version})")
}

/// The rendered file. It holds credentials, so `Debug` shows only its size; take the text with
/// [`ObjstoreYaml::as_str`] to put it into the Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ObjstoreYaml(String);

impl ObjstoreYaml {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for ObjstoreYaml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjstoreYaml(<{} bytes, redacted>)", self.0.len())
    }
}

/// Which rendering: the credentials themselves, or their markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sealed,
    Public,
}

/// A credential as `mode` renders it: `Err(())` when the file needs it and it is withheld.
pub(crate) fn credential<'a, T>(
    w: &'a Option<WriteOnly<T>>,
    mode: Mode,
    get: impl FnOnce(&'a T) -> &'a str,
) -> Result<Option<String>, Withheld> {
    match (w, mode) {
        (None, _) => Ok(None),
        (Some(w), Mode::Public) => Ok(Some(marker(w.version))),
        (Some(WriteOnly { value: Some(v), .. }), Mode::Sealed) => Ok(Some(get(v).to_owned())),
        (Some(WriteOnly { value: None, .. }), Mode::Sealed) => Err(Withheld),
    }
}

/// The credentials are not at hand (only their version is): the file cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withheld;

/// The file as Thanos reads it, credentials included; `None` when they are withheld.
pub fn render(spec: &ObjstoreSpec) -> Option<ObjstoreYaml> {
    document(spec, Mode::Sealed).ok().map(ObjstoreYaml)
}

/// The file with every credential replaced by its [`marker`]: what plans and hashes see.
pub fn render_public(spec: &ObjstoreSpec) -> String {
    document(spec, Mode::Public).expect("the public rendering needs no credential")
}

fn document(spec: &ObjstoreSpec, mode: Mode) -> Result<String, Withheld> {
    let (provider, config) = match &spec.provider {
        Provider::S3(s) => ("S3", s3::config(s, mode)?),
        Provider::Gcs(g) => ("GCS", gcs::config(g, mode)?),
        Provider::Azure(a) => ("AZURE", azure::config(a, mode)?),
        Provider::Filesystem(f) => (
            "FILESYSTEM",
            // providers/filesystem/filesystem.go: Config{Directory `yaml:"directory"`}.
            yaml::Map::default().str("directory", Some(&f.directory)),
        ),
    };
    // `type`, `config`, `prefix`: the fields of client.BucketConfig (client/factory.go); the
    // type names are objstore.ObjProvider's (objstore.go).
    let top = yaml::Map::default()
        .str("type", Some(provider))
        .map("config", config)
        .str("prefix", spec.prefix.as_deref());
    Ok(yaml::document(&top))
}

/// The `config` fields that hold credentials in `spec`, each with its marker: the lines the
/// public rendering and the live file differ in.
fn credential_fields(spec: &ObjstoreSpec) -> Vec<(&'static str, i64)> {
    match &spec.provider {
        Provider::S3(S3 {
            keys: Some(keys), ..
        }) => vec![("access_key", keys.version), ("secret_key", keys.version)],
        Provider::Gcs(Gcs {
            service_account: Some(sa),
            ..
        }) => vec![("service_account", sa.version)],
        Provider::Azure(Azure {
            account_key: Some(k),
            ..
        }) => vec![("storage_account_key", k.version)],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Where a workload's configuration comes from.

/// The objstore configuration of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bucket {
    /// A key of a Secret the user manages (`object_storage_config { name, key }`).
    Secret(SecretKeyRef),
    /// Configured in Terraform (`object_storage`): rendered into a Secret the resource owns.
    Owned(ObjstoreSpec),
}

impl Bucket {
    /// The Secret and key the pods mount; `owned_name` is the name of the resource's own
    /// Secret.
    pub fn secret_ref(&self, owned_name: &str) -> SecretKeyRef {
        match self {
            Bucket::Secret(r) => r.clone(),
            Bucket::Owned(_) => SecretKeyRef {
                name: owned_name.to_owned(),
                key: OWNED_KEY.to_owned(),
            },
        }
    }

    /// What the pods' config hash covers: the reference of a user's Secret (its content is not
    /// ours to read); for an owned Secret, the public rendering, so a changed bucket or a
    /// bumped credentials version rolls the pods, and nothing about the credentials themselves
    /// reaches the hash.
    pub fn hash_input(&self, owned_name: &str) -> String {
        match self {
            Bucket::Secret(r) => format!("{}/{}", r.name, r.key),
            Bucket::Owned(spec) => format!("{owned_name}/{OWNED_KEY}\n{}", render_public(spec)),
        }
    }

    /// The Secret a [`Bucket::Owned`] renders into (`metadata` names it), `None` for a user's.
    pub fn owned_secret(&self, metadata: ObjectMeta) -> Option<OwnedSecret> {
        let Bucket::Owned(spec) = self else {
            return None;
        };
        let public = render_public(spec);
        let sealed = render(spec).map(ObjstoreYaml::into_string);
        let redaction = Redaction {
            key: OWNED_KEY.to_owned(),
            lines: credential_fields(spec)
                .into_iter()
                .map(|(field, version)| {
                    let prefix = format!("  {field}: ");
                    let line = format!("{prefix}{}", yaml::quote(&marker(version)));
                    (prefix, line)
                })
                .collect(),
        };
        let secret = core::Secret {
            metadata,
            type_: Some("Opaque".into()),
            data: Some(BTreeMap::from([(
                OWNED_KEY.to_owned(),
                ByteString(public.into_bytes()),
            )])),
            ..Default::default()
        };
        let sealed =
            sealed.map(|s| BTreeMap::from([(OWNED_KEY.to_owned(), ByteString(s.into_bytes()))]));
        Some(OwnedSecret::new(secret, sealed, redaction))
    }
}

// ---------------------------------------------------------------------------------------------
// Checkers for the resource layer.

/// Rules for every value written into the file: no `$(NAME)` (Thanos would substitute it).
pub fn check_text(r: &mut Report, path: &Path, v: &str) {
    if let Some(reference) = env_reference(v) {
        r.push(
            path,
            "Unsupported $(...) reference",
            format!(
                "the value contains {reference:?}, which Thanos replaces with the environment variable of that name when it reads the objstore config (and fails if it is unset); such text cannot be passed through"
            ),
        );
    }
}

/// The first `$(NAME)` with `NAME` matching `[a-zA-Z_0-9]+`: the pattern of `expandEnv` in
/// `github.com/efficientgo/tools/extkingpin` `pathorcontent.go`.
pub fn env_reference(v: &str) -> Option<&str> {
    let mut rest = v;
    let mut offset = 0;
    while let Some(i) = rest.find("$(") {
        let start = offset + i;
        let after = &v[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with(')') {
            return Some(&v[start..start + 2 + name_len + 1]);
        }
        offset = start + 2;
        rest = &v[offset..];
    }
    None
}

/// Credentials are copied from files and terminals; a stray space or newline at either end of
/// a key is part of the key for Thanos and fails authentication with a confusing error (a JSON
/// document, `key_is_token = false`, may have them). Findings never quote the value.
pub fn check_credential(r: &mut Report, path: &Path, v: &str, key_is_token: bool) {
    if v.is_empty() {
        r.push(
            path,
            "Empty credential",
            "must not be empty (leave it unset to use the provider's default credential chain)",
        );
    } else if key_is_token && v.trim() != v {
        r.push(
            path,
            "Credential with surrounding whitespace",
            "starts or ends with whitespace (often a trailing newline from a file); remove it",
        );
    }
    if env_reference(v).is_some() {
        r.push(
            path,
            "Unsupported $(...) reference",
            "the value contains a $(NAME) reference, which Thanos replaces with the environment variable of that name when it reads the objstore config (and fails if it is unset); such text cannot be passed through",
        );
    }
}

/// The key prefix: `/`-separated names, no `/` at either end, nothing Thanos would trim or
/// misread.
pub fn check_prefix(r: &mut Report, path: &Path, p: &str) {
    let detail = if p.is_empty() {
        Some("must not be empty (leave prefix unset for none)".to_owned())
    } else if p.starts_with('/') || p.ends_with('/') {
        Some(format!(
            "{p:?} must not start or end with \"/\" (Thanos trims them: write {:?})",
            p.trim_matches('/')
        ))
    } else if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        Some(format!(
            "{p:?} must be \"/\"-separated names without empty, \".\" or \"..\" parts"
        ))
    } else if p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!(
            "{p:?} must not contain spaces or control characters"
        ))
    } else {
        None
    };
    if let Some(d) = detail {
        r.push(path, "Invalid prefix", d);
    }
    check_text(r, path, p);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_table() {
        for (v, want) in [
            ("plain", None),
            ("$(HOME)", Some("$(HOME)")),
            ("a$(AWS_SECRET_1)b", Some("$(AWS_SECRET_1)")),
            ("$()", None),
            ("$(a-b)", None),
            ("$(unterminated", None),
            ("$$(X)", Some("$(X)")),
            ("$(a b)$(OK)", Some("$(OK)")),
            ("price: $5 (approx)", None),
        ] {
            assert_eq!(env_reference(v), want, "{v:?}");
        }
    }

    fn s3_with_keys(value: Option<S3Keys>) -> ObjstoreSpec {
        ObjstoreSpec {
            prefix: None,
            provider: Provider::S3(S3 {
                bucket: "b-1".into(),
                endpoint: "e:1".into(),
                region: None,
                insecure: Some(true),
                bucket_lookup_type: None,
                aws_sdk_auth: None,
                sse: None,
                keys: Some(WriteOnly { version: 2, value }),
            }),
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let spec = s3_with_keys(Some(S3Keys {
            access_key: "AKIAEXAMPLE".into(),
            secret_key: "very-secret".into(),
        }));
        let d = format!("{spec:?}");
        assert!(!d.contains("very-secret") && !d.contains("AKIA"), "{d}");
        let y = ObjstoreYaml("secret_key: \"very-secret\"".into());
        assert!(!format!("{y:?}").contains("very-secret"));
    }

    /// The public rendering is the sealed one with each credential line replaced by its
    /// marker, whether the credentials are at hand or withheld.
    #[test]
    fn public_rendering_depends_on_the_version_only() {
        let given = s3_with_keys(Some(S3Keys {
            access_key: "a".into(),
            secret_key: "s".into(),
        }));
        let withheld = s3_with_keys(None);
        assert_eq!(render_public(&given), render_public(&withheld));
        assert!(render(&withheld).is_none());
        let sealed = render(&given).unwrap().into_string();
        assert!(sealed.contains("  secret_key: \"s\"\n"), "{sealed}");
        let public = render_public(&given);
        assert!(
            public.contains("  secret_key: \"(write-only, version 2)\"\n"),
            "{public}"
        );
        assert!(!public.contains("\"s\""), "{public}");
    }
}
