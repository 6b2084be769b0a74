//! Multi-cluster for real: a host cluster's `thanos_query` reads the Store APIs of receives in
//! two member clusters over TLS, in both of its TLS modes: through its envoy sidecar, run as a
//! real `envoy` process fed exactly the rendered bootstrap, listeners and clusters
//! (`tls_mode = "envoy"`), and with Thanos's own TLS client configured by the rendered
//! endpoint config (`tls_mode = "native"`).
//!
//! The stack is rendered by `thanos-render` and run as in `tests/datapath.rs` (the translation
//! rules are in `datapath/cluster.rs`); each cluster is a [`Cluster`] of its own on its own
//! loopback addresses, so nothing of one is visible to the other except the addresses the host
//! configuration names. A test CA made by the test signs the members' server certificates
//! (SANs `store.member-<x>.test`) and the host's client certificate.
//!
//! Members serve their Store API with TLS the way a Thanos user configures it, with Thanos's
//! own defaults (minimum TLS 1.3): the test adds `--grpc-server-tls-cert` and `-key` (and, on
//! the mutual-TLS member, `--grpc-server-tls-client-ca`) to the members' rendered args, with
//! the certificates in the work directory. Nothing else of the rendered args is changed.
//!
//! The host query has five TLS stores, two that must work and three negative controls, each
//! failing for a reason of its own:
//! - member a, pod 0: CA and server name right;
//! - member b, pod 0: mutual TLS, the host presents its client certificate; `strict`;
//! - member a, pod 1: the store's Secret holds another CA;
//! - member a, pod 2: a server name that is not among the certificate's SANs;
//! - member b, pod 1: no client certificate against the mutual-TLS member (with TLS 1.3 the
//!   member rejects it after the client's side of the handshake is done).
//!
//! The negative controls are `strict` stores. Thanos lists a store in its store status
//! (`/api/v1/stores`) only once it has answered an Info call, and leaves a non-strict store
//! that never did out of every query without a word (`pkg/query/endpointset.go`,
//! `pkg/api/query/v1.go` of Thanos v0.42). A strict store stays in: every query answers with a
//! partial-response warning naming it, which is where its failure shows. A store that did
//! answer and then fails is listed with its error: the test stops member b's pod 0 (strict)
//! at the end and sees it turn unhealthy in the store status, with a warning on the query.
//!
//! Where the reason of each failure shows: natively, in the query's own log and in the
//! warnings (the Go TLS client's error); through the sidecar, Envoy keeps the reason from the
//! query ("upstream connect error"), and the rendered sidecar logs one line per failed request
//! with the TLS error, which is what the negative controls check, next to the query's log.
//!
//! The binaries come from `scripts/tools.sh` (`thanos`, and `envoy` for the sidecar, each
//! checked to be the version of the provider's default image); without them the test prints
//! why and passes, except under CI.

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

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::{Cluster, Launch};
use pki::{Ca, Pair};
use support::{Work, http_addr, logs, now_ms, parse_matrix, spec, start, stop_all_expecting};
use terraform_provider_thanos::resources::{query::Query, receive::Receive};
use thanos::{IpBlock, Process};
use thanos_render::query::TlsMode;
use thanos_render::{RenderContext, envoy, query, receive};

const NS: &str = "monitoring";
const METRIC: &str = "crosscluster_samples";
const TENANT_HEADER: &str = "THANOS-TENANT";
/// How long a process may take to become ready.
const READY: Duration = Duration::from_secs(30);
/// How long the query may take to use its stores (see `STORES_SEEN` in `tests/datapath.rs`:
/// through the sidecar they are in the store-sd file, whose first DNS-SD tick races the first
/// read of the file; natively they are used at the first endpoint update).
const STORES_SEEN: Duration = Duration::from_secs(45);
/// How long a change of a store's health may take to show: an endpoint update (every 5s)
/// plus a gRPC reconnect.
const HEALTH_SEEN: Duration = Duration::from_secs(30);

/// The envoy binary `scripts/tools.sh` installed, after checking that its version is the tag
/// of the provider's default envoy image.
fn envoy_binary() -> Option<PathBuf> {
    let bin = thanos::tool_path("envoy")?;
    let tag = envoy::DEFAULT_ENVOY_IMAGE
        .rsplit_once(':')
        .map(|(_, t)| t.trim_start_matches('v'))
        .expect("image has a tag");
    let out = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("/{tag}/")),
        "{} reports {text:?}, but the default envoy image is {}",
        bin.display(),
        envoy::DEFAULT_ENVOY_IMAGE
    );
    Some(bin)
}

/// One member cluster: a receive `edge` (ingestors only, `replicas` pods) that serves its
/// Store API with TLS.
struct Member {
    name: &'static str,
    cluster: Cluster,
    server: Pair,
    /// Client CA: the member requires client certificates (mutual TLS).
    client_ca: Option<String>,
}

impl Member {
    fn new(
        work: &Path,
        name: &'static str,
        ips: Vec<Ipv4Addr>,
        replicas: i64,
        server: Pair,
        client_ca: Option<String>,
    ) -> Member {
        let spec = spec::<Receive>(serde_json::json!({
            "name": "edge",
            "namespace": NS,
            "replicas": replicas,
            "tenant_header": TENANT_HEADER,
            "tenant_label_name": "tenant_id",
            "ingestor": {"local_tsdb_retention": "1d"},
        }));
        let rendered = receive::render(&spec, &RenderContext::default(), &BTreeMap::new()).unwrap();
        let mut cluster = Cluster::new(&work.join(name), ips);
        cluster.add(&rendered);
        Member {
            name,
            cluster,
            server,
            client_ca,
        }
    }

    fn pod(i: usize) -> String {
        format!("{}-{i}", receive::workload_name("edge"))
    }

    fn ip(&self, i: usize) -> Ipv4Addr {
        self.cluster.pod(&Self::pod(i)).ip
    }

    /// The rendered receive pod `i`, serving its Store API with TLS.
    fn launch(&self, work: &Path, i: usize) -> Launch {
        let mut l = self.cluster.launch(&Self::pod(i));
        let dir = work.join(self.name).join("server-tls");
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, content: &str| {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            path.display().to_string()
        };
        l.args.push(format!(
            "--grpc-server-tls-cert={}",
            file("tls.crt", &self.server.cert)
        ));
        l.args.push(format!(
            "--grpc-server-tls-key={}",
            file("tls.key", &self.server.key)
        ));
        if let Some(ca) = &self.client_ca {
            l.args.push(format!(
                "--grpc-server-tls-client-ca={}",
                file("client-ca.crt", ca)
            ));
        }
        l
    }
}

/// Why a negative control fails, as each mode tells it.
struct Reasons {
    /// Envoy mode: all of these in the sidecar's failure log line of the store.
    sidecar: &'static [&'static str],
    /// Native mode: one of these in the query's log line about the store and in its warnings.
    native: &'static [&'static str],
}

/// A store of the host query and what must become of it.
struct StoreCase {
    /// The member pod it points at.
    member: usize,
    pod: usize,
    secret: &'static str,
    client_secret: Option<&'static str>,
    server_name: &'static str,
    strict: bool,
    /// `None`: the store must work.
    fails_with: Option<Reasons>,
}

fn cases() -> Vec<StoreCase> {
    vec![
        StoreCase {
            member: 0,
            pod: 0,
            secret: "member-a-ca",
            client_secret: None,
            server_name: "store.member-a.test",
            strict: false,
            fails_with: None,
        },
        StoreCase {
            member: 1,
            pod: 0,
            secret: "member-b-ca",
            client_secret: Some("global-client"),
            server_name: "store.member-b.test",
            strict: true,
            fails_with: None,
        },
        StoreCase {
            member: 0,
            pod: 1,
            secret: "other-ca",
            client_secret: None,
            server_name: "store.member-a.test",
            strict: true,
            fails_with: Some(Reasons {
                sidecar: &[
                    "CERTIFICATE_VERIFY_FAILED",
                    "unable_to_get_local_issuer_certificate",
                ],
                native: &["x509: certificate signed by unknown authority"],
            }),
        },
        StoreCase {
            member: 0,
            pod: 2,
            secret: "member-a-ca",
            client_secret: None,
            server_name: "store.elsewhere.test",
            strict: true,
            fails_with: Some(Reasons {
                sidecar: &[
                    "CERTIFICATE_VERIFY_FAILED",
                    "SAN_matcher",
                    "certificate_SANs_are_[store.member-a.test]",
                ],
                native: &[
                    "x509: certificate is valid for store.member-a.test, not store.elsewhere.test",
                ],
            }),
        },
        StoreCase {
            member: 1,
            pod: 1,
            secret: "member-b-ca",
            client_secret: None,
            server_name: "store.member-b.test",
            strict: true,
            // TLS 1.3: the client's handshake completes before the server checks the client
            // certificate, so the member's refusal arrives after it: Envoy sees the connection
            // closed at once; Go's client reads the member's `certificate required` alert or,
            // when the member has already closed the connection, fails its next write.
            fails_with: Some(Reasons {
                sidecar: &["flags=UC", "connection_termination"],
                native: &[
                    "remote error: tls: certificate required",
                    "write: broken pipe",
                ],
            }),
        },
    ]
}

/// Waits until something accepts TCP connections at `addr`.
fn wait_listening(p: &mut Process, addr: &str, deadline: Instant) {
    loop {
        if let Some(s) = p.exited() {
            panic!("{} exited ({s}) before listening\n{}", p.name, p.log_tail());
        }
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} does not listen at {addr}\n{}",
            p.name,
            p.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Remote-writes one series with `cluster="<name>"` into a member pod; returns its samples.
fn write_samples(
    member: &Member,
    i: usize,
    t0: i64,
    deadline: Instant,
    procs: &[Process],
) -> Vec<(i64, f64)> {
    let url = format!(
        "http://{}:19291/api/v1/receive",
        member.cluster.pod(&Member::pod(i)).ip
    );
    let base = if member.name == "member-a" {
        1.0
    } else {
        100.0
    };
    let samples = vec![(t0, base), (t0 + 15_000, base + 1.0)];
    let req = remote_write::WriteRequest {
        timeseries: vec![remote_write::series(
            &[("__name__", METRIC), ("cluster", member.name)],
            &samples,
        )],
    };
    loop {
        let (status, body) = remote_write::send(&url, TENANT_HEADER, "team", &req);
        if status == 200 {
            return samples;
        }
        assert!(
            Instant::now() < deadline,
            "remote write into {} answered {status}: {body}\n{}",
            member.name,
            logs(procs)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The host query's view of its stores: `/api/v1/stores`, by address.
fn store_status(q: &Launch) -> BTreeMap<String, serde_json::Value> {
    let mut resp = remote_write::agent()
        .get(format!("http://{}/api/v1/stores", http_addr(q)))
        .call()
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    body["data"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .map(|s| (s["name"].as_str().unwrap_or_default().to_owned(), s))
        .collect()
}

/// What one PromQL query on the host answered: the series by `cluster` label and the
/// partial-response warnings.
struct Answer {
    series: BTreeMap<String, Vec<(i64, f64)>>,
    warnings: Vec<String>,
}

fn ask(q: &Launch) -> Result<Answer, String> {
    let at = format!("{:.3}", (now_ms() + 1000) as f64 / 1000.0);
    let mut resp = remote_write::agent()
        .get(format!("http://{}/api/v1/query", http_addr(q)))
        .query("query", format!("{METRIC}[5m]"))
        .query("time", &at)
        .call()
        .map_err(|e| e.to_string())?;
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    if v["status"] != "success" {
        return Err(text);
    }
    Ok(Answer {
        series: parse_matrix(&v["data"])
            .into_iter()
            .map(|(labels, s)| (labels["cluster"].clone(), s))
            .collect(),
        warnings: v["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| w.as_str().unwrap_or_default().to_owned())
            .collect(),
    })
}

/// Polls the host query until `done` holds for its answer; panics with the last answer and
/// every log otherwise.
fn ask_until(
    q: &Launch,
    within: Duration,
    procs: &[Process],
    what: &str,
    done: impl Fn(&Answer) -> bool,
) -> Answer {
    let deadline = Instant::now() + within;
    loop {
        let last = match ask(q) {
            Ok(a) if done(&a) => return a,
            Ok(a) => format!("series {:?}, warnings {:#?}", a.series, a.warnings),
            Err(e) => e,
        };
        assert!(
            Instant::now() < deadline,
            "{what}; the last answer: {last}\n{}",
            logs(procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The rendered sidecar, fed exactly the rendered configuration, takes the host query to TLS
/// stores in two other clusters.
#[test]
fn host_query_reads_members_over_tls_through_envoy() {
    host_query_reads_members_over_tls(TlsMode::Envoy);
}

/// The query alone, with the rendered endpoint config, reaches the same stores.
#[test]
fn host_query_reads_members_over_tls_natively() {
    host_query_reads_members_over_tls(TlsMode::Native);
}

/// A PromQL query on the host returns the series written into each member; the store status
/// lists both members with their external labels; each negative control fails for its own
/// reason, in the query's log (and the sidecar's) and as a partial-response warning, and is
/// never listed as a store; a strict store that goes down turns unhealthy in the status.
fn host_query_reads_members_over_tls(mode: TlsMode) {
    let Some(thanos_bin) = thanos::binary() else {
        return;
    };
    let envoy_bin = match mode {
        TlsMode::Envoy => match envoy_binary() {
            Some(b) => Some(b),
            None => return,
        },
        TlsMode::Native => None,
    };
    let work = Work::new();
    let block = IpBlock::acquire();
    let mut ips = block.ips.clone();

    let ca = Ca::new("member-ca");
    let other = Ca::new("unrelated-ca");
    let client = ca.client("global-query");
    let members = [
        Member::new(
            work.path(),
            "member-a",
            ips.drain(..3).collect(),
            3,
            ca.server(&["store.member-a.test"]),
            None,
        ),
        Member::new(
            work.path(),
            "member-b",
            ips.drain(..2).collect(),
            2,
            ca.server(&["store.member-b.test"]),
            Some(ca.pem()),
        ),
    ];

    // The host cluster: the query with one TLS store per case.
    let cases = cases();
    let stores: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            let mut s = serde_json::json!({
                "address": format!("{}:10901", members[c.member].ip(c.pod)),
                "secret_name": c.secret,
                "server_name": c.server_name,
            });
            if let Some(cs) = c.client_secret {
                s["client_secret_name"] = cs.into();
            }
            if c.strict {
                s["strict"] = true.into();
            }
            s
        })
        .collect();
    let q = spec::<Query>(serde_json::json!({
        "name": "global",
        "namespace": NS,
        "tls_mode": mode.as_str(),
        "stores": stores,
    }));
    let rendered = query::render(&q, &RenderContext::default()).unwrap();
    let mut host = Cluster::new(&work.path().join("host"), ips.drain(..1).collect());
    for (secret, key, pem) in [
        ("member-a-ca", "ca.crt", ca.pem()),
        ("member-b-ca", "ca.crt", ca.pem()),
        ("other-ca", "ca.crt", other.pem()),
        ("global-client", "tls.crt", client.cert.clone()),
        ("global-client", "tls.key", client.key.clone()),
    ] {
        host.add_secret(NS, secret, key, &pem);
    }
    host.add(&rendered);

    let deadline = Instant::now() + READY;
    let mut procs = Vec::new();
    for (m, replicas) in members.iter().zip([3, 2]) {
        for i in 0..replicas {
            let l = m.launch(work.path(), i);
            let mut p = start(&thanos_bin, &work.path().join(m.name), &l);
            p.wait_ready(&http_addr(&l), deadline);
            procs.push(p);
        }
    }
    let query_pod = format!("{}-0", query::deployment_name("global"));
    let sidecar = envoy_bin.as_ref().map(|bin| {
        let sidecar = host.launch_container(&query_pod, "envoy-sidecar");
        let mut p = start(bin, work.path(), &sidecar);
        for i in 0..cases.len() {
            let port = envoy::FIRST_PORT + u16::try_from(i).unwrap();
            wait_listening(&mut p, &format!("{}:{port}", sidecar.ip), deadline);
        }
        procs.push(p);
        procs.len() - 1
    });
    let q = host.launch(&query_pod);
    let mut query_proc = start(&thanos_bin, work.path(), &q);
    query_proc.wait_ready(&http_addr(&q), deadline);
    procs.push(query_proc);
    let query_index = procs.len() - 1;

    // The address the query knows each store by: the sidecar's listener, or the store itself.
    let address = |i: usize| match mode {
        TlsMode::Envoy => format!("{}:{}", q.ip, envoy::FIRST_PORT + u16::try_from(i).unwrap()),
        TlsMode::Native => format!("{}:10901", members[cases[i].member].ip(cases[i].pod)),
    };

    // One series into each member's pod 0 (the stores that must work).
    let t0 = now_ms() - 60_000;
    let want: BTreeMap<String, Vec<(i64, f64)>> = members
        .iter()
        .map(|m| (m.name.to_owned(), write_samples(m, 0, t0, deadline, &procs)))
        .collect();

    // The host sees both members' series (deduplicated by its rendered replica labels), and
    // every query warns about each failing strict store, naming it (natively, with its error).
    let failing: Vec<usize> = (0..cases.len())
        .filter(|i| cases[*i].fails_with.is_some())
        .collect();
    let warned = |a: &Answer, i: usize| {
        let reasons = match mode {
            TlsMode::Envoy => &[][..],
            TlsMode::Native => cases[i].fails_with.as_ref().unwrap().native,
        };
        a.warnings.iter().any(|w| {
            w.contains(&address(i)) && (reasons.is_empty() || reasons.iter().any(|r| w.contains(r)))
        })
    };
    let answer = ask_until(
        &q,
        STORES_SEEN,
        &procs,
        "the host query never returned both members' series with a warning per failing store",
        |a| a.series.len() == 2 && failing.iter().all(|i| warned(a, *i)),
    );
    assert_eq!(answer.series, want, "series read through the host query");
    assert_eq!(
        answer.warnings.len(),
        failing.len(),
        "one warning per failing store: {:#?}",
        answer.warnings
    );

    // The store status lists exactly the working stores, with the members' labels; a store
    // that never answered is not listed (see the module docs).
    let status = store_status(&q);
    for (i, c) in cases.iter().enumerate() {
        let addr = address(i);
        match c.fails_with {
            None => {
                let s = status
                    .get(&addr)
                    .unwrap_or_else(|| panic!("store {addr} is not in the status: {status:#?}"));
                assert!(s["lastError"].is_null(), "{addr}: {s}");
                let replica = format!("{}-{}", receive::workload_name("edge"), c.pod);
                assert!(
                    s["labelSets"].to_string().contains(&replica),
                    "{addr} should carry the member's receive_replica label {replica}: {s}"
                );
            }
            Some(_) => assert!(
                !status.contains_key(&addr),
                "the failing store {addr} is listed as a store: {:#}",
                status[&addr]
            ),
        }
    }

    // Each negative control fails for its own reason: the query logs that the store failed,
    // natively with the TLS error, and the sidecar's failure log says why.
    for &i in &failing {
        let reasons = cases[i].fails_with.as_ref().unwrap();
        let addr = address(i);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let query_log = procs[query_index].log_text();
            let query_line = query_log
                .lines()
                .find(|l| {
                    l.contains("update of endpoint failed")
                        && l.contains(&format!("address={addr}"))
                        && (mode == TlsMode::Envoy || reasons.native.iter().any(|r| l.contains(r)))
                })
                .map(str::to_owned);
            let sidecar_line = sidecar.map(|s| {
                procs[s]
                    .log_text()
                    .lines()
                    .find(|l| {
                        l.contains(&format!("store {i} ("))
                            && l.contains("failed:")
                            && reasons.sidecar.iter().all(|r| l.contains(r))
                    })
                    .map(str::to_owned)
            });
            if query_line.is_some() && sidecar_line.as_ref().is_none_or(Option::is_some) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "store {i} ({addr}) should fail with {:?}; the query's line: {query_line:?}; \
                 the sidecar's line: {sidecar_line:?}\n{}",
                match mode {
                    TlsMode::Envoy => reasons.sidecar,
                    TlsMode::Native => reasons.native,
                },
                logs(&procs)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // A strict store that answered and then goes away (member b's pod 0): the store status
    // shows it unhealthy, and every query warns about it and answers with member a alone.
    let b0 = 3; // after member a's three pods
    let status = procs[b0].stop(support::STOP);
    assert!(status.success(), "{}", procs[b0].log_tail());
    let down = 1;
    let addr = address(down);
    let deadline = Instant::now() + HEALTH_SEEN;
    loop {
        let status = store_status(&q);
        if status.get(&addr).is_some_and(|s| !s["lastError"].is_null()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stopped strict store {addr} never turned unhealthy in the store status: \
             {status:#?}\n{}",
            logs(&procs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let answer = ask_until(
        &q,
        HEALTH_SEEN,
        &procs,
        "the stopped strict store was never named in a warning",
        |a| {
            a.series.keys().collect::<BTreeSet<_>>() == BTreeSet::from([&"member-a".to_owned()])
                && a.warnings.iter().any(|w| w.contains(&addr))
        },
    );
    assert_eq!(
        answer.warnings.len(),
        failing.len() + 1,
        "{:#?}",
        answer.warnings
    );

    drop(procs.remove(b0));
    // A query logs every store a query could not read (its strict failing stores) as an
    // error; nothing else may be one.
    let expected: Vec<String> = failing
        .iter()
        .chain([&down])
        .map(|i| format!("Addr: {} ", address(*i)))
        .collect();
    stop_all_expecting(&mut procs, &expected);
}
