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

use super::{Mode, Withheld, WriteOnly, credential, yaml};

/// `azure`: an Azure Blob Storage container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Azure {
    /// The storage account name.
    pub storage_account: String,
    /// The blob container.
    pub container: String,
    /// The blob service domain suffix (Thanos' default `blob.core.windows.net`; e.g.
    /// `blob.core.chinacloudapi.cn`, `blob.core.usgovcloudapi.net`).
    pub endpoint: Option<String>,
    /// Client id of a user-assigned managed identity to authenticate with (no account key).
    pub user_assigned_id: Option<String>,
    /// Create the container at start when it does not exist (Thanos' default true; needs the
    /// right to create containers).
    pub storage_create_container: Option<bool>,
    /// The account's shared key (`storage_account_key`); `None` uses a managed identity or
    /// the SDK's default chain (AKS workload identity).
    pub account_key: Option<WriteOnly<String>>,
}

/// A GUID such as a managed identity's client id.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Go's `base64.StdEncoding`: the standard alphabet, padded to a multiple of 4 (azblob's
/// `SetAccountKey` decodes the key with it and fails the start otherwise).
pub fn is_std_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    s.len().is_multiple_of(4)
        && pad <= 2
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

pub(super) fn config(a: &Azure, mode: Mode) -> Result<yaml::Map, Withheld> {
    let key = credential(&a.account_key, mode, String::as_str)?;
    Ok(yaml::Map::default()
        .str("storage_account", Some(&a.storage_account))
        .str("storage_account_key", key.as_deref())
        .bool("storage_create_container", a.storage_create_container)
        .str("container", Some(&a.container))
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
