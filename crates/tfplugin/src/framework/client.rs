//! Who drives the provider. Terraform and OpenTofu show a diagnostic's summary and detail as
//! they are; Pulumi's Terraform bridge rewrites them into one line. Only the wording at that
//! boundary depends on the client, never what the provider decides.

use crate::pb::tfplugin6 as pb;

/// The client, as ConfigureProvider's `terraform_version` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Client {
    /// Terraform or OpenTofu (they send their own version), and anything unknown.
    #[default]
    Terraform,
    /// Pulumi's Terraform bridge, which sends the literal `pulumi-terraform-bridge`
    /// (pkg/pf/tfbridge/provider_configure.go in pulumi-terraform-bridge v3.120.0).
    PulumiBridge,
}

impl Client {
    pub fn from_terraform_version(version: &str) -> Self {
        if version == "pulumi-terraform-bridge" {
            Self::PulumiBridge
        } else {
            Self::Terraform
        }
    }

    /// Adjusts a diagnostic to how this client prints it.
    ///
    /// The bridge turns an error at an attribute into `"{summary}. {detail}. Examine values at
    /// '{resource}.{path}'."` (pkg/pf/tfbridge/detect_check_failures.go and
    /// pkg/tfbridge/check_failures.go), so a detail that ends its own sentence would read `..`.
    /// Terraform prints the detail as a paragraph, where the full stop belongs.
    pub fn adjust(self, diagnostic: &mut pb::Diagnostic) {
        if self != Self::PulumiBridge || diagnostic.attribute.is_none() {
            return;
        }
        let trimmed = diagnostic.detail.trim_end().trim_end_matches('.');
        if trimmed.len() != diagnostic.detail.len() {
            diagnostic.detail = trimmed.to_owned();
        }
        if diagnostic.detail.is_empty() {
            let summary = diagnostic.summary.trim_end().trim_end_matches('.');
            diagnostic.summary = summary.to_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute_error(summary: &str, detail: &str) -> pb::Diagnostic {
        pb::Diagnostic {
            severity: pb::diagnostic::Severity::Error as i32,
            summary: summary.into(),
            detail: detail.into(),
            attribute: Some(pb::AttributePath { steps: vec![] }),
        }
    }

    #[test]
    fn clients_are_told_apart_by_the_version_they_send() {
        let cases = [
            ("1.14.0", Client::Terraform),
            ("1.10.6", Client::Terraform),
            ("", Client::Terraform),
            ("pulumi-terraform-bridge", Client::PulumiBridge),
        ];
        for (version, client) in cases {
            assert_eq!(
                Client::from_terraform_version(version),
                client,
                "{version:?}"
            );
        }
    }

    #[test]
    fn the_bridge_gets_details_without_a_closing_full_stop() {
        let cases = [
            (
                "Invalid name",
                "use a letter.",
                "Invalid name",
                "use a letter",
            ),
            ("Invalid name", "wait...  ", "Invalid name", "wait"),
            ("Invalid name.", "", "Invalid name", ""),
            ("Invalid name", "no stop", "Invalid name", "no stop"),
        ];
        for (summary, detail, want_summary, want_detail) in cases {
            let mut d = attribute_error(summary, detail);
            Client::PulumiBridge.adjust(&mut d);
            assert_eq!(
                (d.summary.as_str(), d.detail.as_str()),
                (want_summary, want_detail)
            );

            let mut d = attribute_error(summary, detail);
            Client::Terraform.adjust(&mut d);
            assert_eq!((d.summary.as_str(), d.detail.as_str()), (summary, detail));
        }
        // Without an attribute the bridge prints "summary: detail" as given.
        let mut d = attribute_error("Cluster unreachable", "retry later.");
        d.attribute = None;
        Client::PulumiBridge.adjust(&mut d);
        assert_eq!(d.detail, "retry later.");
    }
}
