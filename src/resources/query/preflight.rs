//! The TLS preflight of `thanos_query`, checked at plan time when the cluster can be reached:
//! every Secret a TLS store names must exist and hold what the query (or its sidecar) will
//! read from it, so a wrong name, a missing key, a certificate that is not one, a client key
//! that does not belong to its certificate or an expired certificate is an error at the
//! store's attribute path instead of a pod that never starts or a store that never answers.
//! A certificate that expires within [`EXPIRY_WARNING`] is a warning naming the store and the
//! date.
//!
//! Pure: the Secrets read and the time come in, findings go out (the reading is
//! `crate::lifecycle::preflight`). X.509 is parsed with `x509-parser`; whether a private key
//! belongs to its certificate is rustls's own check (`CertifiedKey::keys_match`, which
//! compares the key's public key with the certificate's).
//!
//! CA bundles: every certificate is checked. The bundle is an error when none of them is
//! valid now (it could verify nothing); an expired certificate next to valid ones (a bundle
//! in the middle of a CA rotation) and any certificate expiring soon are warnings, since the
//! store's certificate may be signed by exactly that one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thanos_render::query::{QuerySpec, StoreTls};
use thanos_render::validate::{Invalid, Path};
use x509_parser::pem::Pem;

use crate::lifecycle::preflight::{Findings, SecretData, SecretRef, Secrets};

/// A certificate expiring sooner than this is a warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

/// The Secrets of every TLS store, in store order (repeats are read once).
pub fn secrets(spec: &QuerySpec) -> Vec<SecretRef> {
    let ns = &spec.common.namespace;
    spec.stores
        .iter()
        .filter_map(|s| s.tls.as_ref())
        .flat_map(|t| std::iter::once(&t.secret_name).chain(t.client_secret_name.as_ref()))
        .map(|name| SecretRef::new(ns, name))
        .collect()
}

/// Checks every TLS store's Secrets as read (`secrets`) at `now`.
pub fn check(spec: &QuerySpec, secrets: &Secrets, now: SystemTime) -> Findings {
    let now = unix(now);
    let mut out = Findings::default();
    for (i, store) in spec.stores.iter().enumerate() {
        let Some(tls) = &store.tls else { continue };
        let at = Path::root().attr("stores").index(i);
        let mut c = StoreCheck {
            out: &mut out,
            store: format!("stores[{i}] ({})", store.address),
            namespace: &spec.common.namespace,
            now,
        };
        c.ca(tls, secrets, &at.attr("secret_name"));
        if let Some(client) = &tls.client_secret_name {
            c.client(client, secrets, &at.attr("client_secret_name"));
        }
    }
    out
}

/// The facts of one certificate that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub der: Vec<u8>,
}

/// Every certificate of a PEM bundle; blocks of other types are skipped. An error when the
/// text is not PEM, holds no certificate, or a certificate does not parse.
pub fn pem_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let mut certs = Vec::new();
    for (n, block) in Pem::iter_from_buffer(bytes).enumerate() {
        let block = block.map_err(|e| format!("PEM block {} is malformed: {e}", n + 1))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let (_, cert) = x509_parser::parse_x509_certificate(&block.contents).map_err(|e| {
            format!(
                "certificate {} does not parse as X.509: {e}",
                certs.len() + 1
            )
        })?;
        let validity = cert.validity();
        certs.push(Certificate {
            subject: cert.subject().to_string(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            der: block.contents.clone(),
        });
    }
    if certs.is_empty() {
        return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// Whether the PEM private key `key` belongs to the certificate `cert`: `Ok(false)` when it
/// does not, an error when the key does not parse. A key type whose public key cannot be
/// derived counts as matching (nothing to say).
pub fn key_matches(cert: &Certificate, key: &[u8]) -> Result<bool, String> {
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
        format!("it holds no PEM private key (PKCS#8, PKCS#1 or SEC1) that parses: {e}")
    })?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("the private key is not usable: {e}"))?;
    let certified =
        rustls::sign::CertifiedKey::new(vec![CertificateDer::from(cert.der.clone())], signing);
    match certified.keys_match() {
        Ok(()) => Ok(true),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => Ok(false),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(true),
        Err(e) => Err(format!(
            "the certificate cannot be compared with the key: {e}"
        )),
    }
}

/// `2026-01-31`, the UTC date of unix seconds `t`.
pub fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| d.date().to_string())
        .unwrap_or_else(|_| format!("unix time {t}"))
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// When a certificate is usable, seen from `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    Valid,
    ExpiresSoon,
    Expired,
    NotYetValid,
}

fn validity(c: &Certificate, now: i64) -> Validity {
    let soon = i64::try_from(EXPIRY_WARNING.as_secs()).expect("30 days fit");
    if c.not_after < now {
        Validity::Expired
    } else if c.not_before > now {
        Validity::NotYetValid
    } else if c.not_after < now.saturating_add(soon) {
        Validity::ExpiresSoon
    } else {
        Validity::Valid
    }
}

struct StoreCheck<'a> {
    out: &'a mut Findings,
    /// `stores[i] (address)`, for messages.
    store: String,
    namespace: &'a str,
    now: i64,
}

impl StoreCheck<'_> {
    fn error(&mut self, at: &Path, summary: &str, detail: String) {
        self.out.errors.push(Invalid {
            path: at.0.clone(),
            summary: summary.to_owned(),
            detail,
        });
    }

    fn warning(&mut self, at: &Path, summary: &str, detail: String) {
        self.out.warnings.push(Invalid {
            path: at.0.clone(),
            summary: summary.to_owned(),
            detail,
        });
    }

    /// The Secret `name` as read, or an error at `at` when it does not exist (`None`: not read).
    fn secret<'s>(
        &mut self,
        secrets: &'s Secrets,
        name: &str,
        at: &Path,
        holds: &str,
    ) -> Option<&'s SecretData> {
        match secrets.get(&SecretRef::new(self.namespace, name))? {
            Some(data) => Some(data),
            None => {
                let detail = format!(
                    "{} is reached with TLS using {holds} in Secret {}/{name}, which does not exist \
                     in the cluster: the query's pods could not start (the Secret is mounted). \
                     Create it before applying, or correct the name.",
                    self.store, self.namespace
                );
                self.error(at, "TLS Secret not found", detail);
                None
            }
        }
    }

    /// The value of `key`, or an error at `at` naming the keys there are.
    fn key<'d>(
        &mut self,
        data: &'d SecretData,
        secret: &str,
        key: &str,
        at: &Path,
    ) -> Option<&'d [u8]> {
        if let Some(v) = data.get(key) {
            return Some(v);
        }
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        let detail = format!(
            "{} reads key {key:?} of Secret {}/{secret}, which has no such key (its keys: {keys:?})",
            self.store, self.namespace
        );
        self.error(at, "TLS Secret key missing", detail);
        None
    }

    fn ca(&mut self, tls: &StoreTls, secrets: &Secrets, at: &Path) {
        let secret = &tls.secret_name;
        let Some(data) = self.secret(secrets, secret, at, "the CA bundle") else {
            return;
        };
        let Some(pem) = self.key(data, secret, &tls.ca_key, at) else {
            return;
        };
        let what = format!(
            "the CA bundle {}/{secret}[{:?}]",
            self.namespace, tls.ca_key
        );
        let certs = match pem_certificates(pem) {
            Ok(c) => c,
            Err(e) => {
                let detail = format!("{} verifies the store with {what}, but {e}", self.store);
                self.error(at, "Unusable CA certificate", detail);
                return;
            }
        };
        let states: Vec<Validity> = certs.iter().map(|c| validity(c, self.now)).collect();
        let usable = states
            .iter()
            .any(|v| matches!(v, Validity::Valid | Validity::ExpiresSoon));
        for (c, v) in certs.iter().zip(&states) {
            let cert = format!("{what} certificate {:?}", c.subject);
            match v {
                Validity::Valid => {}
                Validity::ExpiresSoon => {
                    let detail = format!(
                        "{cert}, which {} trusts, expires on {}: replace it before then, or the \
                         store's certificate will no longer verify.",
                        self.store,
                        date(c.not_after)
                    );
                    self.warning(at, "CA certificate expires soon", detail);
                }
                Validity::Expired | Validity::NotYetValid => {
                    let when = if *v == Validity::Expired {
                        format!("expired on {}", date(c.not_after))
                    } else {
                        format!("is not valid before {}", date(c.not_before))
                    };
                    if usable {
                        let detail = format!(
                            "{cert} {when}; {} only verifies with the other certificates of the bundle.",
                            self.store
                        );
                        self.warning(at, "CA bundle holds an unusable certificate", detail);
                    } else {
                        let detail = format!(
                            "{cert} {when}, and the bundle holds no other: {} could not be verified.",
                            self.store
                        );
                        self.error(at, "CA certificate not valid now", detail);
                    }
                }
            }
        }
    }

    fn client(&mut self, secret: &str, secrets: &Secrets, at: &Path) {
        let Some(data) = self.secret(secrets, secret, at, "the client certificate") else {
            return;
        };
        let (Some(crt), Some(key)) = (
            self.key(data, secret, "tls.crt", at),
            self.key(data, secret, "tls.key", at),
        ) else {
            return;
        };
        let what = format!(
            "the client certificate {}/{secret}[\"tls.crt\"]",
            self.namespace
        );
        let leaf = match pem_certificates(crt) {
            Ok(mut c) => c.remove(0),
            Err(e) => {
                let detail = format!("{} presents {what}, but {e}", self.store);
                self.error(at, "Unusable client certificate", detail);
                return;
            }
        };
        match key_matches(&leaf, key) {
            Ok(true) => {}
            Ok(false) => {
                let detail = format!(
                    "{} presents {what} with the key in tls.key, but that key does not belong to \
                     the certificate (their public keys differ): the TLS handshake would fail. \
                     Put the certificate and its own key in the Secret.",
                    self.store
                );
                self.error(at, "Client certificate and key do not match", detail);
            }
            Err(e) => {
                let detail = format!(
                    "{} presents {what} with the key in tls.key, but {e}",
                    self.store
                );
                self.error(at, "Unusable client key", detail);
            }
        }
        match validity(&leaf, self.now) {
            Validity::Valid => {}
            Validity::ExpiresSoon => {
                let detail = format!(
                    "{what} {:?}, which {} presents, expires on {}: renew it before then, or the \
                     store will refuse the query.",
                    leaf.subject,
                    self.store,
                    date(leaf.not_after)
                );
                self.warning(at, "Client certificate expires soon", detail);
            }
            Validity::Expired => {
                let detail = format!(
                    "{what} {:?}, which {} presents, expired on {}: the store would refuse it.",
                    leaf.subject,
                    self.store,
                    date(leaf.not_after)
                );
                self.error(at, "Client certificate expired", detail);
            }
            Validity::NotYetValid => {
                let detail = format!(
                    "{what} {:?}, which {} presents, is not valid before {}: the store would refuse it.",
                    leaf.subject,
                    self.store,
                    date(leaf.not_before)
                );
                self.error(at, "Client certificate not valid yet", detail);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
    };
    use thanos_render::validate::display_path;

    /// The plan's clock in these tests: 2030-06-01.
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(date_time_ymd(2030, 6, 1).unix_timestamp() as u64)
    }

    struct Ca(CertifiedIssuer<'static, KeyPair>);

    /// A CA valid from `from` to `until` (y, m, d).
    fn ca(name: &str, from: (i32, u8, u8), until: (i32, u8, u8)) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = date_time_ymd(from.0, from.1, from.2);
        p.not_after = date_time_ymd(until.0, until.1, until.2);
        Ca(CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap())
    }

    fn valid_ca(name: &str) -> Ca {
        ca(name, (2020, 1, 1), (2040, 1, 1))
    }

    /// A client certificate signed by `ca`, valid until `until`, and its key (PEM).
    fn client(ca: &Ca, until: (i32, u8, u8), key: KeyPair) -> (String, String) {
        let mut p = CertificateParams::new(vec!["query.host.test".to_owned()]).unwrap();
        p.distinguished_name
            .push(DnType::CommonName, "query.host.test");
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(until.0, until.1, until.2);
        let cert = p.signed_by(&key, &ca.0).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn spec(stores: serde_json::Value) -> QuerySpec {
        crate::testing::spec::<super::super::Query>(&serde_json::json!({
            "name": "q",
            "namespace": "mon",
            "stores": stores,
        }))
        .unwrap()
    }

    fn tls_store(client: Option<&str>) -> serde_json::Value {
        let mut s =
            serde_json::json!({"address": "store.member.test:443", "secret_name": "member-ca"});
        if let Some(c) = client {
            s["client_secret_name"] = c.into();
        }
        s
    }

    /// A Secret's name and, when it exists, its keys and values.
    type Given<'a> = (&'a str, Option<&'a [(&'a str, &'a str)]>);

    fn read(list: &[Given<'_>]) -> Secrets {
        list.iter()
            .map(|(name, data)| {
                (
                    SecretRef::new("mon", name),
                    data.map(|d| {
                        d.iter()
                            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
                            .collect()
                    }),
                )
            })
            .collect()
    }

    fn paths(v: &[Invalid]) -> Vec<String> {
        v.iter().map(|i| display_path(&i.path)).collect()
    }

    #[test]
    fn secrets_of_tls_stores_only() {
        let s = spec(serde_json::json!([
            {"address": "direct:10901"},
            tls_store(Some("client")),
        ]));
        assert_eq!(
            secrets(&s),
            [
                SecretRef::new("mon", "member-ca"),
                SecretRef::new("mon", "client")
            ]
        );
    }

    #[test]
    fn a_valid_bundle_and_client_pair_pass() {
        let ca = valid_ca("member");
        let (crt, key) = client(&ca, (2040, 1, 1), KeyPair::generate().unwrap());
        let s = spec(serde_json::json!([tls_store(Some("client"))]));
        let found = check(
            &s,
            &read(&[
                ("member-ca", Some(&[("ca.crt", &ca.0.pem())])),
                ("client", Some(&[("tls.crt", &crt), ("tls.key", &key)])),
            ]),
            now(),
        );
        assert_eq!(found, Findings::default());
    }

    #[test]
    fn a_missing_secret_or_key_is_an_error_at_the_store() {
        let s = spec(serde_json::json!([
            {"address": "direct:10901"},
            tls_store(Some("client")),
        ]));
        let found = check(
            &s,
            &read(&[("member-ca", None), ("client", Some(&[("tls.crt", "x")]))]),
            now(),
        );
        assert_eq!(
            paths(&found.errors),
            ["stores[1].secret_name", "stores[1].client_secret_name"]
        );
        assert!(
            found.errors[0]
                .detail
                .contains("Secret mon/member-ca, which does not exist"),
            "{found:#?}"
        );
        assert!(found.errors[1].detail.contains("\"tls.key\""), "{found:#?}");
        assert!(
            found.errors[1].detail.contains("[\"tls.crt\"]"),
            "{found:#?}"
        );

        let s = spec(
            serde_json::json!([{"address": "s:443", "secret_name": "member-ca", "ca_key": "bundle.pem"}]),
        );
        let ca = valid_ca("member");
        let found = check(
            &s,
            &read(&[("member-ca", Some(&[("ca.crt", &ca.0.pem())]))]),
            now(),
        );
        assert_eq!(paths(&found.errors), ["stores[0].secret_name"]);
        assert!(found.errors[0].detail.contains("\"bundle.pem\""));
    }

    #[test]
    fn what_is_not_a_certificate_is_an_error() {
        let s = spec(serde_json::json!([tls_store(None)]));
        for (bundle, says) in [
            ("not a certificate", "holds no PEM certificate"),
            (
                "-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n",
                "does not parse as X.509",
            ),
        ] {
            let found = check(
                &s,
                &read(&[("member-ca", Some(&[("ca.crt", bundle)]))]),
                now(),
            );
            assert_eq!(paths(&found.errors), ["stores[0].secret_name"]);
            assert_eq!(found.errors[0].summary, "Unusable CA certificate");
            assert!(found.errors[0].detail.contains(says), "{found:#?}");
        }
    }

    #[test]
    fn expiry_is_a_warning_within_30_days_and_an_error_once_past() {
        let s = spec(serde_json::json!([tls_store(None)]));
        let run = |pem: String| {
            check(
                &s,
                &read(&[("member-ca", Some(&[("ca.crt", &pem)]))]),
                now(),
            )
        };

        let soon = ca("soon", (2020, 1, 1), (2030, 6, 20));
        let found = run(soon.0.pem());
        assert!(found.errors.is_empty(), "{found:#?}");
        assert_eq!(paths(&found.warnings), ["stores[0].secret_name"]);
        let w = &found.warnings[0].detail;
        assert!(
            w.contains("stores[0] (store.member.test:443)") && w.contains("2030-06-20"),
            "{w}"
        );

        // 31 days away: nothing to say.
        assert_eq!(
            run(ca("later", (2020, 1, 1), (2030, 7, 2)).0.pem()),
            Findings::default()
        );

        let expired = ca("old", (2020, 1, 1), (2030, 5, 1));
        let found = run(expired.0.pem());
        assert_eq!(paths(&found.errors), ["stores[0].secret_name"]);
        assert!(
            found.errors[0].detail.contains("expired on 2030-05-01"),
            "{found:#?}"
        );

        let future = ca("future", (2031, 1, 1), (2040, 1, 1));
        assert_eq!(run(future.0.pem()).errors.len(), 1);

        // During a CA rotation the bundle holds the old and the new CA: a warning.
        let found = run(format!("{}{}", expired.0.pem(), valid_ca("new").0.pem()));
        assert!(found.errors.is_empty(), "{found:#?}");
        assert_eq!(found.warnings.len(), 1);
        assert!(
            found.warnings[0]
                .detail
                .contains("other certificates of the bundle")
        );
    }

    #[test]
    fn a_client_key_must_belong_to_its_certificate() {
        let ca = valid_ca("member");
        let s = spec(serde_json::json!([tls_store(Some("client"))]));
        let run = |crt: &str, key: &str| {
            check(
                &s,
                &read(&[
                    ("member-ca", Some(&[("ca.crt", &ca.0.pem())])),
                    ("client", Some(&[("tls.crt", crt), ("tls.key", key)])),
                ]),
                now(),
            )
        };
        let (crt, _) = client(&ca, (2040, 1, 1), KeyPair::generate().unwrap());
        let other = KeyPair::generate().unwrap().serialize_pem();
        let found = run(&crt, &other);
        assert_eq!(paths(&found.errors), ["stores[0].client_secret_name"]);
        assert_eq!(
            found.errors[0].summary,
            "Client certificate and key do not match"
        );

        let found = run(&crt, "no key");
        assert_eq!(found.errors[0].summary, "Unusable client key");

        // RSA in PKCS#1 ("RSA PRIVATE KEY"), as openssl and cert-manager write it.
        let rsa = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let pkcs1 = rsa_pkcs1_pem(&rsa);
        let (crt, _) = client(&ca, (2040, 1, 1), rsa);
        assert_eq!(run(&crt, &pkcs1), Findings::default());

        let key = KeyPair::generate().unwrap();
        let (crt, key) = client(&ca, (2030, 5, 1), key);
        let found = run(&crt, &key);
        assert_eq!(found.errors[0].summary, "Client certificate expired");
        let key = KeyPair::generate().unwrap();
        let (crt, key) = client(&ca, (2030, 6, 10), key);
        let found = run(&crt, &key);
        assert!(found.errors.is_empty(), "{found:#?}");
        assert!(found.warnings[0].detail.contains("expires on 2030-06-10"));
    }

    /// The PKCS#1 form of an RSA key that rcgen serializes as PKCS#8: the `privateKey` octet
    /// string of the PKCS#8 structure is the PKCS#1 key.
    fn rsa_pkcs1_pem(key: &KeyPair) -> String {
        let pkcs8 = key.serialize_der();
        // PrivateKeyInfo ::= SEQUENCE { version, algorithm SEQUENCE, privateKey OCTET STRING }
        let (_, info) = x509_parser::der_parser::der::parse_der_sequence(&pkcs8).unwrap();
        let seq = info.as_sequence().unwrap();
        pem_encode("RSA PRIVATE KEY", seq[2].as_slice().unwrap())
    }

    fn pem_encode(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = format!("-----BEGIN {label}-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out
    }
}
