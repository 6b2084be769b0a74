//! AutoMTLS between Terraform and this plugin.
//!
//! Terraform (go-plugin) sends its client certificate in `PLUGIN_CLIENT_CERT`: self-signed ECDSA
//! P-521 with `CA:TRUE`. Two facts make the obvious rustls setup fail:
//! - a verifier that cannot check P-521 signatures makes the Go client send *no* certificate,
//!   so mandatory client auth fails with "certificate required";
//! - webpki rejects a CA certificate used as an end entity, so no web-PKI verifier accepts it.
//!
//! So we pin: the only acceptable client certificate is the exact DER Terraform handed us, and
//! we verify the handshake signature ourselves with aws-lc-rs, which supports P-521. Our own
//! certificate is a fresh P-256 one for `localhost` (the server name Go always dials), sent back
//! in the handshake line as unpadded base64 DER.

use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Errors while preparing TLS. Each one means the plugin cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    ClientCertPem(String),
    #[error("generating the server certificate failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("building the TLS configuration failed: {0}")]
    Config(#[from] rustls::Error),
}

/// The signature algorithms we accept for the client's CertificateVerify message. P-521 is the
/// one Terraform uses; the others keep other go-plugin hosts (with other key types) working.
static VERIFY_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        webpki::aws_lc_rs::ECDSA_P521_SHA512,
        webpki::aws_lc_rs::ECDSA_P384_SHA384,
        webpki::aws_lc_rs::ECDSA_P256_SHA256,
        webpki::aws_lc_rs::ED25519,
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP521_SHA512,
            &[webpki::aws_lc_rs::ECDSA_P521_SHA512],
        ),
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[webpki::aws_lc_rs::ECDSA_P384_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[webpki::aws_lc_rs::ECDSA_P256_SHA256],
        ),
        (SignatureScheme::ED25519, &[webpki::aws_lc_rs::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// Accepts exactly one client certificate: the one Terraform put in `PLUGIN_CLIENT_CERT`.
#[derive(Debug)]
pub struct PinnedClientCert {
    der: CertificateDer<'static>,
}

impl PinnedClientCert {
    /// Parses the PEM from `PLUGIN_CLIENT_CERT`.
    pub fn from_pem(pem_text: &str) -> Result<Self, TlsError> {
        let block = pem::parse(pem_text).map_err(|e| TlsError::ClientCertPem(e.to_string()))?;
        if block.tag() != "CERTIFICATE" {
            return Err(TlsError::ClientCertPem(format!(
                "expected a CERTIFICATE block, found {}",
                block.tag()
            )));
        }
        Ok(Self {
            der: CertificateDer::from(block.into_contents()),
        })
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Pinning the exact certificate is stronger than a chain check: nobody but the process
        // that launched us knows this certificate's private key.
        if end_entity.as_ref() == self.der.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &VERIFY_ALGORITHMS)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &VERIFY_ALGORITHMS)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        VERIFY_ALGORITHMS.supported_schemes()
    }
}

/// Our server identity for one process lifetime.
pub struct ServerIdentity {
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// A fresh self-signed P-256 certificate for `localhost`, the name Go's client verifies.
    pub fn generate() -> Result<Self, TlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "terraform-provider-thanos");
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(30);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The certificate field of the handshake line: base64 *without* padding (go-plugin uses
    /// RawStdEncoding; padded text fails with "illegal base64 data").
    pub fn handshake_field(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(self.cert_der.as_ref())
    }

    /// The rustls server configuration: our certificate, Terraform's pinned client certificate
    /// required, ALPN `h2` (grpc-go >= 1.67, i.e. Terraform >= 1.12, refuses a server without it).
    pub fn server_config(
        &self,
        client: PinnedClientCert,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(client))
            .with_single_cert(
                vec![self.cert_der.clone()],
                PrivateKeyDer::Pkcs8(self.key_der.clone_key()),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_field_is_unpadded_base64_of_the_der() {
        let id = ServerIdentity::generate().unwrap();
        let field = id.handshake_field();
        assert!(!field.ends_with('='));
        let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&field)
            .unwrap();
        assert_eq!(decoded, id.cert_der.as_ref());
        assert!(
            field.len() > 50,
            "go-plugin only parses fields longer than 50 chars"
        );
    }

    #[test]
    fn pinned_verifier_accepts_only_its_certificate() {
        let a = ServerIdentity::generate().unwrap();
        let b = ServerIdentity::generate().unwrap();
        let pem_a = pem::encode(&pem::Pem::new("CERTIFICATE", a.cert_der.to_vec()));
        let verifier = PinnedClientCert::from_pem(&pem_a).unwrap();
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(&a.cert_der, &[], now).is_ok());
        assert!(verifier.verify_client_cert(&b.cert_der, &[], now).is_err());
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn garbage_client_cert_is_a_clear_error() {
        let err = PinnedClientCert::from_pem("not a pem").unwrap_err();
        assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"));
    }
}
