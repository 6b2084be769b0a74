//! The rendered ruler really runs, with the real `thanos` binary, between a receive and a
//! query rendered by the provider (see `datapath.rs` for how pods become local processes):
//!
//! - samples are remote-written to the receive;
//! - two ruler replicas evaluate an inline recording rule and a federated one (a PrometheusRule
//!   turned into a rule file the way a plan does) through the query's `http_url`;
//! - the recorded series come back through the query from the rulers' Store API, with the
//!   external label, deduplicated by the replica label;
//! - an alerting rule fires, and two small HTTP servers standing in for Alertmanagers receive
//!   it with the expected labels, the replica label dropped: one over plain HTTP with basic
//!   auth (the password read from the mounted Secret), one over mutual TLS (the CA, the client
//!   certificate and the server name from the mounted Secrets and the rendered config).
//!
//! Negative control: a ruler started with a broken copy of the federated rule file refuses to
//! start, so the rendered `--rule-file` globs really load the rendered files.

#[path = "datapath/cluster.rs"]
mod cluster;
#[path = "datapath/pki.rs"]
mod pki;
#[path = "datapath/remote_write.rs"]
mod remote_write;
#[path = "datapath/support.rs"]
mod support;
#[path = "datapath/thanos.rs"]
mod thanos;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use support::{
    RULER_CLOSED_HEAD, Work, http_addr, logs, now_ms, spec, start, stop_all, stop_all_expecting,
};
use terraform_provider_thanos::resources::{query::Query, receive::Receive, rule::Rule};
use thanos::{IpBlock, Process};
use thanos_cluster::{LiveObject, ObjectKey};
use thanos_render::{RenderContext, Rendered, query, receive, rule};

const NS: &str = "monitoring";
const READY: Duration = Duration::from_secs(30);
/// The query resolves its store-sd targets on its DNS-SD tick (up to 30s, see `datapath.rs`),
/// then the rulers evaluate (every second) and the query sees their series.
const RECORDED: Duration = Duration::from_secs(90);
const AM_USER: &str = "thanos";
const AM_PASSWORD: &str = "s3cret-from-the-secret";
/// The name the TLS Alertmanager's certificate is for (`server_name` of the ruler's config).
const AM_TLS_NAME: &str = "alertmanager.datapath.test";

const INLINE: &str = r#"groups:
  - name: datapath
    rules:
      - record: job:datapath_samples:sum
        expr: sum by (job) (datapath_samples)
      - alert: DatapathHigh
        expr: datapath_samples > 5
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} is at {{ $value }}"
"#;

/// The federated rules: a PrometheusRule as the cluster returns it, turned into a rule file
/// by the same function a plan uses.
fn federated() -> BTreeMap<String, String> {
    let object = LiveObject {
        key: ObjectKey::new("PrometheusRule", "team-a", "max"),
        json: serde_json::json!({
            "metadata": {"namespace": "team-a", "name": "max"},
            "spec": {"groups": [{"name": "team-a", "rules": [
                {"record": "job:datapath_samples:max", "expr": "max by (job) (datapath_samples)"},
            ]}]},
        }),
    };
    let (selected, warnings) =
        terraform_provider_thanos::resources::rule::prometheus_rules(&[object]);
    assert!(warnings.is_empty(), "{warnings:?}");
    selected
}

/// The receive, the query and the ruler, as the provider renders them.
fn render(plain: &str, tls: &str) -> Vec<Rendered> {
    let ctx = RenderContext::default();
    let ingestor = spec::<Receive>(serde_json::json!({
        "name": "ingestor", "namespace": NS, "replicas": 1, "ingestor": {},
    }));
    let query = spec::<Query>(serde_json::json!({
        "name": "dp",
        "namespace": NS,
        "stores": [
            {"address": receive::store_endpoint("ingestor", NS, receive::Mode::IngestorOnly).unwrap()},
            {"address": rule::store_endpoint("global", NS)},
        ],
        "replica_labels": ["receive_replica", rule::DEFAULT_REPLICA_LABEL],
    }));
    let ruler = spec::<Rule>(serde_json::json!({
        "name": "global",
        "namespace": NS,
        "replicas": 2,
        "query_endpoints": [query::querier_http_url("dp", NS)],
        "alertmanagers": [
            {
                "url": format!("http://{plain}"),
                "timeout": "5s",
                "basic_auth": {"username": AM_USER, "secret_name": "am-auth"},
            },
            {
                "url": format!("https://{tls}"),
                "secret_name": "am-ca",
                "client_secret_name": "am-client",
                "server_name": AM_TLS_NAME,
            },
        ],
        "external_labels": {"ruler": "global"},
        "evaluation_interval": "1s",
        "local_tsdb_retention": "1d",
        "rule_groups": {"datapath": INLINE},
        "prometheus_rule_selector": {},
        "prometheus_rules": federated(),
    }));
    vec![
        receive::render(&ingestor, &ctx, &BTreeMap::new()).unwrap(),
        query::render(&query, &ctx).unwrap(),
        rule::render(&ruler, &ctx),
    ]
}

/// What an Alertmanager stand-in received: one entry per POST, with whether its basic
/// credentials were right.
#[derive(Default)]
struct Received {
    posts: Vec<(String, bool, serde_json::Value)>,
}

/// A minimal Alertmanager: answers every request (one per connection, over TLS when `tls` is
/// given: then the client must present a certificate the CA signed), records the POSTs, and
/// with `password` refuses wrong basic credentials with 401 as Alertmanager behind basic auth
/// would.
fn alertmanager(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    password: Option<&'static str>,
) -> Arc<Mutex<Received>> {
    let received = Arc::new(Mutex::new(Received::default()));
    let out = received.clone();
    let expected = password.map(|p| {
        format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{AM_USER}:{p}")
            )
        )
    });
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            match &tls {
                None => serve(stream, expected.as_deref(), &received),
                Some(config) => {
                    let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                    serve(
                        rustls::StreamOwned::new(connection, stream),
                        expected.as_deref(),
                        &received,
                    );
                }
            }
        }
    });
    out
}

/// One HTTP/1.1 request and its answer.
fn serve(stream: impl Read + Write, expected: Option<&str>, received: &Mutex<Received>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        // A failed TLS handshake, or a connection closed without a request.
        return;
    }
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let authorized =
        expected.is_none_or(|e| headers.get("authorization").map(String::as_str) == Some(e));
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    received.lock().unwrap().posts.push((
        path,
        authorized,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    ));
    let status = if authorized {
        "200 OK"
    } else {
        "401 Unauthorized"
    };
    let stream = reader.get_mut();
    let _ = stream.write_all(
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let _ = stream.flush();
}

/// The TLS Alertmanager's server config: its certificate for [`AM_TLS_NAME`], and client
/// certificates required, signed by `ca`.
fn tls_config(ca: &pki::Ca) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let server = ca.server(&[AM_TLS_NAME]);
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(server.cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(server.key.as_bytes()).unwrap(),
            )
            .unwrap(),
    )
}

/// The first POST of a `DatapathHigh` alert `received` got, waiting until `deadline`.
fn alert_post(
    received: &Mutex<Received>,
    what: &str,
    deadline: Instant,
    procs: &[Process],
) -> (String, bool, serde_json::Value) {
    loop {
        let found = received
            .lock()
            .unwrap()
            .posts
            .iter()
            .find(|(_, _, body)| body.to_string().contains("DatapathHigh"))
            .cloned();
        if let Some(post) = found {
            return post;
        }
        assert!(
            Instant::now() < deadline,
            "the {what} Alertmanager stand-in received no DatapathHigh alert ({} posts)\n{}",
            received.lock().unwrap().posts.len(),
            logs(procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn query_vector(q: &Launch, expr: &str, dedup: &str) -> Vec<BTreeMap<String, String>> {
    let at = format!("{:.3}", now_ms() as f64 / 1000.0);
    let Ok(data) = remote_write::query(
        &http_addr(q),
        &[("query", expr), ("time", &at), ("dedup", dedup)],
    ) else {
        return Vec::new();
    };
    data["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let mut labels: BTreeMap<String, String> = s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            labels.insert("value".into(), s["value"][1].as_str().unwrap().to_owned());
            labels
        })
        .collect()
}

#[test]
fn ruler_records_through_the_query_and_alerts_an_alertmanager() {
    let Some(bin) = thanos::binary() else { return };
    thanos::assert_release_build(&bin);
    let work = Work::new();
    let block = IpBlock::acquire();
    // The last address of the block is the Alertmanager's.
    let (pod_ips, am_ip): (Vec<Ipv4Addr>, Ipv4Addr) = {
        let mut ips = block.ips.clone();
        let am = ips.pop().unwrap();
        (ips, am)
    };
    let ca = pki::Ca::new("alertmanager-ca");
    let plain = alertmanager(
        TcpListener::bind((am_ip, 9093)).unwrap(),
        None,
        Some(AM_PASSWORD),
    );
    let tls = alertmanager(
        TcpListener::bind((am_ip, 9094)).unwrap(),
        Some(tls_config(&ca)),
        None,
    );
    let rendered = render(&format!("{am_ip}:9093"), &format!("{am_ip}:9094"));
    let mut c = Cluster::new(work.path(), pod_ips);
    c.add_secret(NS, "am-auth", "password", AM_PASSWORD);
    c.add_secret(NS, "am-ca", "ca.crt", &ca.pem());
    let client = ca.client("thanos-ruler");
    c.add_secret(NS, "am-client", "tls.crt", &client.cert);
    c.add_secret(NS, "am-client", "tls.key", &client.key);
    for r in &rendered {
        c.add(r);
    }
    let pods = [
        "thanosreceive-ingestor-0",
        "thanosquery-dp-0",
        "thanosrule-global-0",
        "thanosrule-global-1",
    ];
    let launches: Vec<Launch> = pods.iter().map(|p| c.launch(p)).collect();
    let (data, rulers) = launches.split_at(2);
    let mut procs: Vec<Process> = data.iter().map(|l| start(&bin, work.path(), l)).collect();
    let deadline = Instant::now() + READY;
    for (p, l) in procs.iter_mut().zip(data) {
        p.wait_ready(&http_addr(l), deadline);
    }

    // Samples for the rules to find: fresh, so an instant query at "now" sees them.
    let url = format!("http://{}:19291/api/v1/receive", c.pod(pods[0]).ip);
    let t = now_ms();
    let req = remote_write::WriteRequest {
        timeseries: vec![remote_write::series(
            &[("__name__", "datapath_samples"), ("job", "dp")],
            &[(t - 10_000, 7.0), (t, 10.0)],
        )],
    };
    loop {
        let (status, body) = remote_write::send(&url, "THANOS-TENANT", "team-a", &req);
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "remote write answered {status}: {body}\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The rulers start once the query serves the samples: before that it answers "no
    // StoreAPIs available" and every evaluation would log an error (in a cluster the same
    // happens for the first query DNS interval after the stack is created; it heals itself).
    let q = &launches[1];
    let stores_deadline = Instant::now() + RECORDED;
    while query_vector(q, "datapath_samples", "true").is_empty() {
        assert!(
            Instant::now() < stores_deadline,
            "the query never served the written samples\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let first_ruler = procs.len();
    procs.extend(rulers.iter().map(|l| start(&bin, work.path(), l)));
    let deadline = Instant::now() + READY;
    for (p, l) in procs[first_ruler..].iter_mut().zip(rulers) {
        p.wait_ready(&http_addr(l), deadline);
    }
    // Both rule files were loaded: the inline one and the federated one.
    for p in &procs[first_ruler..] {
        assert!(
            p.log_text().contains("numFiles=2"),
            "a ruler did not load both rule files\n{}",
            p.log_tail()
        );
    }

    // The recorded series, through the query, from the rulers' Store API: one series per
    // rule after deduplication, with the ruler's external label and the value of the sample.
    let recorded_deadline = Instant::now() + RECORDED;
    for (record, value) in [
        ("job:datapath_samples:sum", "10"),
        ("job:datapath_samples:max", "10"),
    ] {
        loop {
            let got = query_vector(q, record, "true");
            if let [series] = got.as_slice() {
                let want = BTreeMap::from([
                    ("__name__".to_owned(), record.to_owned()),
                    ("job".to_owned(), "dp".to_owned()),
                    ("ruler".to_owned(), "global".to_owned()),
                    ("value".to_owned(), value.to_owned()),
                ]);
                assert_eq!(series, &want, "{record}");
                break;
            }
            assert!(
                Instant::now() < recorded_deadline,
                "{record} never came back once through the query; last answer {got:?}\n{}",
                logs(&procs)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        // Without deduplication: once per ruler replica, told apart by the replica label. The
        // deduplicated series is there as soon as one ruler has recorded it; the other's may
        // follow an evaluation later, so wait for it as long as for the first.
        loop {
            let raw = query_vector(q, record, "false");
            let mut replicas: Vec<String> = raw
                .iter()
                .map(|s| s[rule::DEFAULT_REPLICA_LABEL].clone())
                .collect();
            replicas.sort();
            if replicas == ["thanosrule-global-0", "thanosrule-global-1"] {
                break;
            }
            assert!(
                Instant::now() < recorded_deadline && replicas.len() < 2,
                "{record} did not come back once per ruler replica: {raw:?}\n{}",
                logs(&procs)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    // The alert, as each Alertmanager received it: on the v2 API, with the series' labels,
    // the rule's labels and the external label, and without the replica label (so the two
    // replicas' alerts are one to Alertmanager); authenticated with the password from the
    // Secret, or over TLS with the client certificate (the handshake refuses anything else).
    let alert_deadline = Instant::now() + RECORDED;
    for (what, received) in [("plain", &plain), ("TLS", &tls)] {
        let (path, authorized, body) = alert_post(received, what, alert_deadline, &procs);
        assert_eq!(path, "/api/v2/alerts", "{what}");
        assert!(
            authorized,
            "{what}: the ruler did not send the password from the Secret"
        );
        let labels: BTreeMap<String, String> =
            serde_json::from_value(body[0]["labels"].clone()).unwrap();
        assert_eq!(
            labels,
            BTreeMap::from([
                ("alertname".to_owned(), "DatapathHigh".to_owned()),
                ("job".to_owned(), "dp".to_owned()),
                ("ruler".to_owned(), "global".to_owned()),
                ("severity".to_owned(), "page".to_owned()),
                ("tenant_id".to_owned(), "team-a".to_owned()),
            ]),
            "{what}: {body}"
        );
        assert_eq!(
            body[0]["annotations"]["summary"], "dp is at 10",
            "{what}: {body}"
        );
    }
    assert!(
        plain.lock().unwrap().posts.iter().all(|(_, ok, _)| *ok),
        "every request carried the credentials"
    );

    // The rulers first, as a rollout that keeps the querier would: a ruler still evaluating
    // when its querier is already gone logs "connection refused", an error about the order
    // of this shutdown, not about the rendered configuration.
    let mut rulers = procs.split_off(first_ruler);
    stop_all_expecting(&mut rulers, &[RULER_CLOSED_HEAD.to_owned()]);
    stop_all(&mut procs);

    // Negative control: a broken federated rule file stops the ruler at start.
    let l = &launches[2];
    let file: PathBuf = l.path(&format!(
        "{}/0/{}",
        rule::PROMETHEUS_RULES_DIR,
        rule::prometheus_rule_file_name("team-a/max")
    ));
    assert!(file.is_file(), "{}", file.display());
    std::fs::write(
        &file,
        "groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: sum(\n",
    )
    .unwrap();
    let mut p = Process::start(
        &bin,
        "ruler-with-broken-rules",
        &l.args,
        &work.path().join("broken-rules.log"),
    );
    let status = p
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("a broken rule file was accepted\n{}", p.log_tail()));
    assert!(!status.success(), "{}", p.log_tail());
    assert!(
        p.log_text().contains("initialize rules failed"),
        "{}",
        p.log_tail()
    );
}
