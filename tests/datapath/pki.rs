//! A test certificate authority: the CA bundles, server certificates (with the SANs a store's
//! `server_name` is checked against) and client certificates (for mutual TLS) that the
//! cross-cluster tests put into Secrets, all made fresh by each test with rcgen.

// Shared by several test binaries (datapath, crosscluster): not all use every item.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA that signs server and client certificates.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, PEM encoded (what `tls.crt` and `tls.key` hold).
pub struct Pair {
    pub cert: String,
    pub key: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    /// The CA certificate (what a store's `ca_key` holds).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate whose subject alternative names are `sans` (DNS names or IPs).
    pub fn server(&self, sans: &[&str]) -> Pair {
        self.leaf(sans, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate for mutual TLS.
    pub fn client(&self, name: &str) -> Pair {
        self.leaf(&[name], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> Pair {
        let sans: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans.clone()).unwrap();
        params.distinguished_name.push(DnType::CommonName, &sans[0]);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}
