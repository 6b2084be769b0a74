//! `type: GCS`: Google Cloud Storage.
//!
//! Field names are those of `gcs.Config` in objstore's `providers/gcs/gcs.go`: `bucket` and
//! `service_account` (the credentials JSON itself, not a path).
//!
//! Credentials (`NewBucketWithConfig` in `gcs.go`): with `service_account`, Thanos builds
//! credentials from that JSON (`google.CredentialsFromJSON`, which takes a service account key
//! and also workload identity federation configs). Without it, the Google client's default
//! logic (Application Default Credentials): `GOOGLE_APPLICATION_CREDENTIALS`, the gcloud
//! well-known file, then the metadata server, which is how GKE Workload Identity answers.

use super::{Mode, Withheld, WriteOnly, credential, yaml};

/// The `type` values `google.CredentialsFromJSON` accepts (golang.org/x/oauth2 v0.36.0,
/// `google/google.go`).
pub const CREDENTIAL_TYPES: &[&str] = &[
    "service_account",
    "gdch_service_account",
    "authorized_user",
    "external_account",
    "external_account_authorized_user",
    "impersonated_service_account",
];

/// `gcs`: a Google Cloud Storage bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcs {
    /// The bucket name alone (no `gs://`).
    pub bucket: String,
    /// The content of a Google credentials JSON file; `None` uses Application Default
    /// Credentials (GKE Workload Identity).
    pub service_account: Option<WriteOnly<String>>,
}

/// Checks that a credentials document is one Google's client takes: a JSON object whose `type`
/// it knows; the rest is Google's to check. The error never quotes the content.
pub fn credentials_json(s: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| {
        format!(
            "is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let kind = v
        .as_object()
        .ok_or("must be a JSON object (the content of a Google credentials file)")?
        .get("type")
        .and_then(serde_json::Value::as_str)
        .ok_or("has no \"type\" field; is it the content of a Google credentials file?")?;
    if CREDENTIAL_TYPES.contains(&kind) {
        Ok(())
    } else {
        Err(format!(
            "has type {kind:?}; Google's client accepts {}",
            CREDENTIAL_TYPES.join(", ")
        ))
    }
}

pub(super) fn config(g: &Gcs, mode: Mode) -> Result<yaml::Map, Withheld> {
    let service_account = credential(&g.service_account, mode, String::as_str)?;
    Ok(yaml::Map::default()
        .str("bucket", Some(&g.bucket))
        .str("service_account", service_account.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_json_table() {
        for ok in [
            r#"{"type": "service_account", "private_key": "x"}"#,
            r#"{"type": "external_account"}"#,
        ] {
            assert_eq!(credentials_json(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("not json", "not valid JSON"),
            ("[1]", "JSON object"),
            (r#"{"private_key": "x"}"#, "no \"type\""),
            (r#"{"type": "api_key"}"#, "api_key"),
        ] {
            let e = credentials_json(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
