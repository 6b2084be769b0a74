//! The go-plugin handshake: how Terraform starts us and how we tell it where to connect.

use std::fmt;

/// Terraform sets this variable to this value for every plugin it launches (all versions since
/// 0.12). Its absence means a person ran the binary by hand.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's own protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol major version we speak.
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// Shown when someone runs the binary directly, instead of an opaque failure.
pub const NOT_A_PLUGIN_MESSAGE: &str = "\
This binary is a plugin for Terraform and OpenTofu (the Thanos provider, paodin/thanos).
It is not meant to be run directly: Terraform starts it when a configuration uses
`provider \"thanos\"`. To install it, see the README (make install), then run
`terraform init` in your configuration.

To debug the provider, run it with --debug and follow the printed instructions.";

/// Where the gRPC server listens, as the handshake line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

impl Address {
    pub fn network(&self) -> &'static str {
        match self {
            Address::Unix(_) => "unix",
            Address::Tcp(_) => "tcp",
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "{}", p.display()),
            Address::Tcp(a) => write!(f, "{a}"),
        }
    }
}

/// True when the magic cookie Terraform sets is present and correct.
pub fn cookie_present(get: impl Fn(&str) -> Option<String>) -> bool {
    get(MAGIC_COOKIE_KEY).as_deref() == Some(MAGIC_COOKIE_VALUE)
}

/// The outcome of protocol version negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiated {
    /// The client offered 6 (or said nothing, which go-plugin treats as "use your default").
    Agreed,
    /// The client offered only other versions. We still answer 6 so Terraform prints its clear
    /// "Incompatible API version with plugin" error naming both sides.
    Mismatch(String),
}

/// `PLUGIN_PROTOCOL_VERSIONS` is a comma-separated set whose order varies per launch.
pub fn negotiate(offered: Option<&str>) -> Negotiated {
    match offered {
        None => Negotiated::Agreed,
        Some(list) if list.trim().is_empty() => Negotiated::Agreed,
        Some(list) => {
            let ours = APP_PROTOCOL_VERSION.to_string();
            if list.split(',').any(|v| v.trim() == ours) {
                Negotiated::Agreed
            } else {
                Negotiated::Mismatch(list.to_string())
            }
        }
    }
}

/// The one line we print on stdout: `1|6|unix|/path|grpc|<cert>`. Exactly six fields: Terraform
/// <= 1.8 splits into at most six, so a seventh would corrupt the certificate.
pub fn handshake_line(address: &Address, cert_field: Option<&str>) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{}|{}|grpc|{}\n",
        address.network(),
        address,
        cert_field.unwrap_or("")
    )
}

/// The `TF_REATTACH_PROVIDERS` value for debug mode. `Test: true` is required for protocol 6:
/// without it go-plugin leaves the version at 0 and Terraform 1.11 panics.
///
/// A `registry.terraform.io/...` address is also offered under `registry.opentofu.org/...`,
/// which is where OpenTofu resolves the same short source (`paodin/thanos`), so one value
/// serves both CLIs.
pub fn reattach_config(provider_address: &str, address: &Address, pid: u32) -> String {
    let entry = serde_json::json!({
        "Protocol": "grpc",
        "ProtocolVersion": APP_PROTOCOL_VERSION,
        "Pid": pid,
        "Test": true,
        "Addr": { "Network": address.network(), "String": address.to_string() },
    });
    let mut map = serde_json::Map::new();
    map.insert(provider_address.to_string(), entry.clone());
    if let Some(rest) = provider_address.strip_prefix("registry.terraform.io/") {
        map.insert(format!("registry.opentofu.org/{rest}"), entry);
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_accepts_either_order() {
        assert_eq!(negotiate(Some("5,6")), Negotiated::Agreed);
        assert_eq!(negotiate(Some("6,5")), Negotiated::Agreed);
        assert_eq!(negotiate(Some(" 6 ")), Negotiated::Agreed);
        assert_eq!(negotiate(None), Negotiated::Agreed);
        assert_eq!(negotiate(Some("5")), Negotiated::Mismatch("5".into()));
        assert_eq!(negotiate(Some("7,16")), Negotiated::Mismatch("7,16".into()));
    }

    #[test]
    fn handshake_line_has_six_fields() {
        let line = handshake_line(&Address::Unix("/tmp/x/plugin.sock".into()), Some("QUJD"));
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|QUJD\n");
        assert_eq!(line.trim_end().split('|').count(), 6);
        let tcp = handshake_line(&Address::Tcp("127.0.0.1:10000".parse().unwrap()), None);
        assert_eq!(tcp, "1|6|tcp|127.0.0.1:10000|grpc|\n");
    }

    #[test]
    fn cookie_is_checked_exactly() {
        assert!(cookie_present(|_| Some(MAGIC_COOKIE_VALUE.to_string())));
        assert!(!cookie_present(|_| None));
        assert!(!cookie_present(|_| Some("nope".into())));
    }

    #[test]
    fn reattach_config_marks_test_mode() {
        let cfg = reattach_config(
            "registry.terraform.io/paodin/thanos",
            &Address::Unix("/tmp/p.sock".into()),
            42,
        );
        let v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
        let p = &v["registry.terraform.io/paodin/thanos"];
        assert_eq!(p["Test"], true);
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 42);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(
            v["registry.opentofu.org/paodin/thanos"], *p,
            "OpenTofu's address too"
        );
    }
}
