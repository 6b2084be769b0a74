//! A static HTTPS server on loopback, standing in for a provider registry or a network mirror.
//!
//! Terraform and OpenTofu only talk to registries and mirrors over HTTPS with a certificate they
//! trust, so the server makes its own certificate authority; the CLIs (Go programs) trust it
//! through `SSL_CERT_FILE`. It serves fixed responses by path, which a test may change between
//! two runs of a CLI (to serve a tampered archive), and logs the paths asked for. Everything
//! runs on a runtime the server owns: dropping the server stops it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls;

type Routes = Arc<Mutex<HashMap<String, Vec<u8>>>>;

pub struct Server {
    pub addr: SocketAddr,
    /// The PEM file of the certificate authority that signed the server's certificate.
    pub ca_file: PathBuf,
    routes: Routes,
    log: Arc<Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Starts serving on 127.0.0.1 with a certificate for `localhost` and 127.0.0.1; the CA
    /// certificate is written to `dir/ca.pem`.
    pub fn start(dir: &Path) -> Server {
        let (ca_pem, config) = tls();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let log = Arc::<Mutex<Vec<String>>>::default();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let (r, l) = (routes.clone(), log.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, routes, log) = (acceptor.clone(), r.clone(), l.clone());
                tokio::spawn(async move {
                    // A client that gives up during the handshake is not the test's business.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req| {
                        std::future::ready(respond(&routes, &log, req))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Server {
            addr,
            ca_file,
            routes,
            log,
            runtime: Some(runtime),
        }
    }

    /// `localhost:<port>`: the host part of a provider source address served here.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.host())
    }

    /// Serves `body` at `path` (replacing what was there).
    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.into());
    }

    /// The paths asked for since the last call, in order.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn respond(
    routes: &Routes,
    log: &Mutex<Vec<String>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    log.lock().unwrap().push(path.clone());
    let body = routes.lock().unwrap().get(&path).cloned();
    let response = match body {
        Some(body) => {
            let kind = if path.ends_with(".json") || !path.contains('.') {
                "application/json"
            } else {
                "application/octet-stream"
            };
            Response::builder()
                .header("content-type", kind)
                .body(Full::new(Bytes::from(body)))
        }
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"not found\n"))),
    };
    Ok(response.unwrap())
}

/// A fresh CA (its PEM) and a server configuration with a certificate it signed.
fn tls() -> (String, Arc<rustls::ServerConfig>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "registry acceptance test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();

    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (ca.pem(), Arc::new(config))
}
