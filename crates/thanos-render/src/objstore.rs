//! The object storage configuration Thanos reads from `--objstore.config-file`, typed, validated
//! with attribute paths, and rendered exactly as the pinned Thanos parses it.
//!
//! Thanos v0.42.5 parses the file with `github.com/thanos-io/objstore`
//! v0.0.0-20250804093838-71d60dfee488: `client/factory.go` reads `type`, `config` and `prefix`
//! with `yaml.UnmarshalStrict` (an unknown field is an error), then each provider parses its
//! `config` into its own struct, strictly too (except `filesystem`). Every field name written
//! here was checked against those structs; each provider module cites its file.
//!
//! Providers: [`S3`], [`Gcs`], [`Azure`] and [`Filesystem`] (for tests and single-node setups).
//! Credentials are a separate input, [`Credentials`], because they come from Terraform
//! write-only attributes and must never be part of the spec (which lands in the state); they
//! are rendered into the YAML, which goes only into a Kubernetes Secret. Without credentials,
//! each provider falls back to the cloud's own chain (workload identity and friends); the
//! provider modules say exactly what Thanos then tries.
//!
//! Paths in findings are relative to the block holding this configuration (`s3.bucket`,
//! `prefix`); credentials are reported at `s3.access_key`, `s3.secret_key`,
//! `azure.storage_account_key` and `gcs.service_account`, the attribute names they are meant to
//! have.
//!
//! One Thanos rule applies to every value: Thanos expands `$(NAME)` in the file from its
//! environment (`extkingpin.PathOrContent` with env substitution, as registered by
//! `pkg/extkingpin/flags.go` `RegisterCommonObjStoreFlags`), and fails to start when `NAME` is
//! unset. There is no escape, so a value containing such a reference is refused.

mod azure;
mod gcs;
mod names;
mod s3;
mod yaml;

use std::fmt;

use serde::Deserialize;

pub use azure::Azure;
pub use gcs::Gcs;
pub use s3::{S3, Sse};

use crate::Error;
use crate::validate::{self, Invalid, Path, Report};

/// A value validation guarantees; rendering an unset one is a bug in the caller.
fn required<'a, T>(v: &'a Option<T>, path: &Path) -> Result<&'a T, Error> {
    v.as_ref().ok_or_else(|| {
        Error::Unvalidated(format!("{} is required", validate::display_path(&path.0)))
    })
}

/// Reports a value that is not one of `allowed`.
fn check_enum(r: &mut Report, path: &Path, v: &Option<String>, allowed: &[&str]) {
    if let Some(v) = v
        && let Err(e) = validate::one_of(v, allowed)
    {
        r.push(path, "Invalid value", e);
    }
}

/// An object storage configuration: exactly one provider block, and an optional key prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjstoreSpec {
    /// Every object name is put under this prefix (`prefix` in `client/factory.go`), so several
    /// stacks can share one bucket. Thanos trims `/` at both ends; we require it written
    /// without them so the plan shows what Thanos uses.
    pub prefix: Option<String>,
    pub s3: Option<S3>,
    pub gcs: Option<Gcs>,
    pub azure: Option<Azure>,
    pub filesystem: Option<Filesystem>,
}

/// `filesystem` block: a directory as the bucket. Only for tests and single-node setups:
/// every reader and writer must see the same directory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filesystem {
    /// Required. An absolute path (`directory` in `providers/filesystem/filesystem.go`; Thanos
    /// would resolve a relative one against its working directory).
    pub directory: Option<String>,
}

/// The secrets of a bucket, from Terraform write-only attributes: never in the spec, never in
/// the state, only in the rendered YAML. `Debug` says which are set, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// S3 `access_key` (with `s3_secret_key`: both or neither).
    pub s3_access_key: Option<String>,
    /// S3 `secret_key`.
    pub s3_secret_key: Option<String>,
    /// Azure `storage_account_key`: the base64 shared key of the storage account.
    pub azure_storage_account_key: Option<String>,
    /// GCS `service_account`: the content of a Google credentials JSON file (a service
    /// account key, or a workload identity federation config).
    pub gcs_service_account: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Credentials")
            .field("s3_access_key", &set(&self.s3_access_key))
            .field("s3_secret_key", &set(&self.s3_secret_key))
            .field(
                "azure_storage_account_key",
                &set(&self.azure_storage_account_key),
            )
            .field("gcs_service_account", &set(&self.gcs_service_account))
            .finish()
    }
}

/// The rendered file. It may hold credentials, so `Debug` shows only its size; take the text
/// with [`ObjstoreYaml::as_str`] to put it into the Secret.
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

/// Which provider a spec configures, when exactly one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider<'a> {
    S3(&'a S3),
    Gcs(&'a Gcs),
    Azure(&'a Azure),
    Filesystem(&'a Filesystem),
}

impl ObjstoreSpec {
    fn providers(&self) -> Vec<(&'static str, Provider<'_>)> {
        let mut v = Vec::new();
        if let Some(p) = &self.s3 {
            v.push(("s3", Provider::S3(p)));
        }
        if let Some(p) = &self.gcs {
            v.push(("gcs", Provider::Gcs(p)));
        }
        if let Some(p) = &self.azure {
            v.push(("azure", Provider::Azure(p)));
        }
        if let Some(p) = &self.filesystem {
            v.push(("filesystem", Provider::Filesystem(p)));
        }
        v
    }
}

/// Plan-time checks. Unknown (`None`) values are skipped; credentials are checked as far as
/// they are given.
pub fn validate(spec: &ObjstoreSpec, creds: &Credentials) -> Vec<Invalid> {
    let mut r = Report::default();
    let root = Path::root();
    let providers = spec.providers();
    if providers.len() != 1 {
        let found: Vec<&str> = providers.iter().map(|(n, _)| *n).collect();
        r.push(
            &root,
            "Exactly one object storage provider",
            format!(
                "set exactly one of the blocks s3, gcs, azure, filesystem (found {})",
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                }
            ),
        );
    }
    if let Some(p) = &spec.prefix {
        check_prefix(&mut r, &root.attr("prefix"), p);
    }
    for (_, p) in &providers {
        match p {
            Provider::S3(s) => s3::validate(&mut r, &root.attr("s3"), s, creds),
            Provider::Gcs(g) => gcs::validate(&mut r, &root.attr("gcs"), g, creds),
            Provider::Azure(a) => azure::validate(&mut r, &root.attr("azure"), a, creds),
            Provider::Filesystem(f) => {
                validate_filesystem(&mut r, &root.attr("filesystem"), f);
            }
        }
    }
    // A credential for a provider that is not configured would be silently dropped.
    let unused = [
        ("s3", "access_key", &creds.s3_access_key, spec.s3.is_none()),
        ("s3", "secret_key", &creds.s3_secret_key, spec.s3.is_none()),
        (
            "azure",
            "storage_account_key",
            &creds.azure_storage_account_key,
            spec.azure.is_none(),
        ),
        (
            "gcs",
            "service_account",
            &creds.gcs_service_account,
            spec.gcs.is_none(),
        ),
    ];
    for (block, attr, value, absent) in unused {
        if value.is_some() && absent {
            r.push(
                &root.attr(block).attr(attr),
                "Credential for another provider",
                format!("{block}.{attr} is set but the bucket is not configured with {block}"),
            );
        }
    }
    r.0
}

/// The objstore YAML for `spec` with `creds`, as the pinned Thanos parses it. Fails with the
/// validation findings, or with the first required value that is unset.
pub fn render(spec: &ObjstoreSpec, creds: &Credentials) -> Result<ObjstoreYaml, Error> {
    let invalid = validate(spec, creds);
    if !invalid.is_empty() {
        return Err(Error::Invalid(invalid));
    }
    let root = Path::root();
    let (provider, config) = match spec.providers().first() {
        Some((_, Provider::S3(s))) => ("S3", s3::config(&root.attr("s3"), s, creds)?),
        Some((_, Provider::Gcs(g))) => ("GCS", gcs::config(&root.attr("gcs"), g, creds)?),
        Some((_, Provider::Azure(a))) => ("AZURE", azure::config(&root.attr("azure"), a, creds)?),
        Some((_, Provider::Filesystem(f))) => (
            "FILESYSTEM",
            filesystem_config(&root.attr("filesystem"), f)?,
        ),
        // validate reported it
        None => unreachable!("validate requires one provider"),
    };
    // `type`, `config`, `prefix`: the fields of client.BucketConfig (client/factory.go); the
    // type names are objstore.ObjProvider's (objstore.go).
    let top = yaml::Map::default()
        .str("type", Some(provider))
        .map("config", config)
        .str("prefix", spec.prefix.as_deref());
    Ok(ObjstoreYaml(yaml::document(&top)))
}

fn validate_filesystem(r: &mut Report, path: &Path, f: &Filesystem) {
    let p = path.attr("directory");
    if let Some(d) = &f.directory {
        if !d.starts_with('/') {
            r.push(
                &p,
                "Invalid directory",
                format!("{d:?} must be an absolute path"),
            );
        }
        check_text(r, &p, d);
    }
}

fn filesystem_config(path: &Path, f: &Filesystem) -> Result<yaml::Map, Error> {
    // providers/filesystem/filesystem.go: Config{Directory `yaml:"directory"`}.
    let dir = required(&f.directory, &path.attr("directory"))?;
    Ok(yaml::Map::default().str("directory", Some(dir)))
}

fn check_prefix(r: &mut Report, path: &Path, p: &str) {
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

/// Rules for every value written into the file: no `$(NAME)` (Thanos would substitute it).
pub(crate) fn check_text(r: &mut Report, path: &Path, v: &str) {
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
fn env_reference(v: &str) -> Option<&str> {
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
/// document, `key_is_token = false`, may have them).
pub(crate) fn check_credential(r: &mut Report, path: &Path, v: &str, key_is_token: bool) {
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
    check_text(r, path, v);
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

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials {
            s3_access_key: Some("AKIAEXAMPLE".into()),
            s3_secret_key: Some("very-secret".into()),
            ..Default::default()
        };
        let d = format!("{c:?}");
        assert!(!d.contains("very-secret") && !d.contains("AKIA"), "{d}");
        let y = ObjstoreYaml("secret_key: \"very-secret\"".into());
        assert!(!format!("{y:?}").contains("very-secret"));
    }
}
