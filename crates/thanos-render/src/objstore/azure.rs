//! `type: AZURE`: Azure Blob Storage.
//!
//! Field names are those of `azure.Config` in objstore's `providers/azure/azure.go`:
//! `storage_account`, `storage_account_key`, `container`, `endpoint`, `user_assigned_id` and
//! `storage_create_container`. Thanos builds the container URL as
//! `https://<storage_account>.<endpoint>/<container>` (`getContainerClient`,
//! `providers/azure/helpers.go`), so `endpoint` is the blob service's domain suffix
//! (default `blob.core.windows.net`) and the connection is always HTTPS.
//!
//! Credentials (`getContainerClient`, `getTokenCredential` in `helpers.go`):
//! - `storage_account_key` given: the account's shared key.
//! - else `user_assigned_id` set: that user-assigned managed identity.
//! - else the Azure SDK's `DefaultAzureCredential` (azidentity v1.13.1): service principal
//!   environment variables (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` or a
//!   certificate), AKS workload identity (`AZURE_FEDERATED_TOKEN_FILE`, set by its webhook), the
//!   managed identity of the node, then developer CLIs.
//!
//! Not offered: connection strings and service-principal secrets in the file (use the
//! environment or workload identity), retry and HTTP tuning.

use serde::Deserialize;

use super::required;
use super::{Credentials, check_credential, check_text, names, yaml};
use crate::Error;
use crate::validate::{Path, Report};

/// `azure` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Azure {
    /// Required. The storage account name.
    pub storage_account: Option<String>,
    /// Required. The blob container.
    pub container: Option<String>,
    /// The blob service domain suffix (Thanos' default `blob.core.windows.net`; e.g.
    /// `blob.core.chinacloudapi.cn`, `blob.core.usgovcloudapi.net`).
    pub endpoint: Option<String>,
    /// Client id of a user-assigned managed identity to authenticate with (no account key).
    pub user_assigned_id: Option<String>,
    /// Create the container at start when it does not exist (Thanos' default true; needs the
    /// right to create containers).
    pub storage_create_container: Option<bool>,
}

pub(super) fn validate(r: &mut Report, path: &Path, a: &Azure, creds: &Credentials) {
    if let Some(n) = &a.storage_account {
        if let Err(e) = names::azure_account(n) {
            r.push(
                &path.attr("storage_account"),
                "Invalid storage account name",
                e,
            );
        }
        check_text(r, &path.attr("storage_account"), n);
    }
    if let Some(c) = &a.container {
        if let Err(e) = names::azure_container(c) {
            r.push(&path.attr("container"), "Invalid container name", e);
        }
        check_text(r, &path.attr("container"), c);
    }
    if let Some(ep) = &a.endpoint {
        let p = path.attr("endpoint");
        match names::endpoint(ep) {
            Err(e) => r.push(&p, "Invalid Azure endpoint", e),
            Ok(host) => {
                // The account name is prepended by Thanos; a full blob host doubles it.
                if let Some(acct) = &a.storage_account
                    && host.to_ascii_lowercase().starts_with(&format!("{acct}."))
                {
                    r.push(
                        &p,
                        "Invalid Azure endpoint",
                        format!(
                            "{ep:?} starts with the account name, which Thanos prepends itself: use {:?}",
                            &host[acct.len() + 1..]
                        ),
                    );
                }
            }
        }
        check_text(r, &p, ep);
    }
    if let Some(id) = &a.user_assigned_id {
        let p = path.attr("user_assigned_id");
        if !is_guid(id) {
            r.push(
                &p,
                "Invalid user_assigned_id",
                format!(
                    "{id:?} must be the client id (a GUID) of a user-assigned managed identity"
                ),
            );
        }
        // helpers.go: the managed identity is only used when there is no account key, and
        // azure.go validate() refuses both.
        if creds.azure_storage_account_key.is_some() {
            r.push(
                &p,
                "Conflicting credentials",
                "user_assigned_id cannot be combined with storage_account_key",
            );
        }
    }
    if let Some(k) = &creds.azure_storage_account_key {
        let p = path.attr("storage_account_key");
        check_credential(r, &p, k, true);
        // azblob's SetAccountKey decodes it with base64.StdEncoding and fails the start.
        if !k.is_empty() && k.trim() == k && !is_std_base64(k) {
            r.push(
                &p,
                "Invalid storage account key",
                "must be the account's access key as Azure shows it (standard base64)",
            );
        }
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Go's `base64.StdEncoding`: the standard alphabet, padded to a multiple of 4.
fn is_std_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    s.len().is_multiple_of(4)
        && pad <= 2
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

pub(super) fn config(path: &Path, a: &Azure, creds: &Credentials) -> Result<yaml::Map, Error> {
    let account = required(&a.storage_account, &path.attr("storage_account"))?;
    let container = required(&a.container, &path.attr("container"))?;
    Ok(yaml::Map::default()
        .str("storage_account", Some(account))
        .str(
            "storage_account_key",
            creds.azure_storage_account_key.as_deref(),
        )
        .bool("storage_create_container", a.storage_create_container)
        .str("container", Some(container))
        .str("endpoint", a.endpoint.as_deref())
        .str("user_assigned_id", a.user_assigned_id.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_guid_tables() {
        for ok in ["", "YWJj", "YWI=", "YQ==", "a+/b"] {
            assert!(is_std_base64(ok), "{ok}");
        }
        for bad in ["YWJ", "YQ===", "a-_b", "YW Jj", "=YWJ"] {
            assert!(!is_std_base64(bad), "{bad}");
        }
        assert!(is_guid("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"));
        assert!(!is_guid("0f1e2d3c4b5a69788a9b0c1d2e3f4a5b"));
        assert!(!is_guid("0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5g"));
    }
}
