//! Launching the provider binary the way Terraform does and talking to it over the printed
//! handshake (unix socket, mutual TLS). Shared by the protocol tests and the handshake bench.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use tfplugin::pb::tfplugin6::provider_client::ProviderClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri};

/// The binary under test (set by the including target).
pub const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-thanos");
pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate like go-plugin's: ECDSA P-521, self-signed, CA:TRUE, SAN localhost.
pub struct ClientCert {
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn terraform_like_client_cert() -> ClientCert {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A launched provider process and what its handshake said.
pub struct Plugin {
    pub child: Child,
    pub socket: PathBuf,
    pub server_cert_der: Vec<u8>,
    pub client: ClientCert,
    /// Time from spawn to the handshake line.
    pub handshake: Duration,
}

impl Plugin {
    pub fn launch() -> Self {
        Self::launch_with(&[])
    }

    pub fn launch_with(extra_env: &[(&str, &str)]) -> Self {
        let client = terraform_like_client_cert();
        let mut cmd = Command::new(BINARY);
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_CLIENT_CERT", &client.cert_pem)
            .env_remove("TF_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().expect("spawn provider");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(fields.len(), 6, "handshake line {line:?}");
        assert_eq!(&fields[..3], &["1", "6", "unix"]);
        assert_eq!(fields[4], "grpc");
        let server_cert_der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(fields[5])
            .expect("certificate is unpadded base64");
        Self {
            child,
            socket: PathBuf::from(fields[3]),
            server_cert_der,
            client,
            handshake: started.elapsed(),
        }
    }

    pub fn server_ca(&self) -> Certificate {
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&self.server_cert_der)
        );
        Certificate::from_pem(pem)
    }

    pub async fn channel_with(
        &self,
        identity: Option<Identity>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(self.server_ca())
            .domain_name("localhost");
        if let Some(identity) = identity {
            tls = tls.identity(identity);
        }
        let socket = self.socket.clone();
        Endpoint::from_static("https://localhost")
            .tls_config(tls)?
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let socket = socket.clone();
                async move {
                    Ok::<_, std::io::Error>(TokioIo::new(
                        tokio::net::UnixStream::connect(socket).await?,
                    ))
                }
            }))
            .await
    }

    pub async fn channel(&self) -> Channel {
        let identity = Identity::from_pem(&self.client.cert_pem, &self.client.key_pem);
        self.channel_with(Some(identity))
            .await
            .expect("mTLS connection")
    }

    pub async fn provider(&self) -> ProviderClient<Channel> {
        ProviderClient::new(self.channel().await)
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
