//! Retries of transient API errors, against a tiny local HTTP server (no cluster needed).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use thanos_cluster::{CancellationToken, Cluster, ClusterConfig, Error, Patience};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const VERSION: &str = r#"{"major":"1","minor":"37","gitVersion":"v1.37.0","gitCommit":"x","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go","compiler":"gc","platform":"linux/amd64"}"#;

/// Serves `codes[i]` for the i-th request (the last one repeats); 200 answers carry /version.
async fn server(codes: Vec<u16>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (format!("http://{addr}"), serve(listener, codes))
}

/// Answers on `listener` as [`server`] does; the requests it has seen.
fn serve(listener: TcpListener, codes: Vec<u16>) -> Arc<AtomicUsize> {
    serve_until_aborted(listener, codes).0
}

/// [`serve`], and the task that serves (aborting it closes the listener).
fn serve_until_aborted(
    listener: TcpListener,
    codes: Vec<u16>,
) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let i = counter.fetch_add(1, Ordering::SeqCst);
            let code = codes[i.min(codes.len() - 1)];
            let mut buf = vec![0u8; 8192];
            let mut read = 0;
            while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf[read..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
            let body = if code == 200 {
                VERSION.to_owned()
            } else {
                format!(
                    r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"try later","reason":"x","code":{code}}}"#
                )
            };
            let resp = format!(
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    (hits, task)
}

/// A server that never answers: it accepts connections and closes them without a word. Its
/// address, and the connections it has seen.
async fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let tries = Arc::new(AtomicUsize::new(0));
    let counter = tries.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(sock);
        }
    });
    (host, tries)
}

async fn cluster(host: &str) -> Cluster {
    Cluster::connect(&ClusterConfig {
        host: Some(host.to_owned()),
        token: Some("t".into()),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let (host, hits) = server(vec![503, 500, 429, 200]).await;
    cluster(&host)
        .await
        .ping(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

/// Throttling outlasts the four tries other transient errors get: an API server that refuses
/// five requests in a row with 429 is waited out (issue 19's load test: 50 stacks applied with
/// `-parallelism=20` failed on 429s after four tries).
#[tokio::test]
async fn throttling_is_retried_longer_than_other_errors() {
    let (host, hits) = server(vec![429, 429, 429, 429, 429, 200]).await;
    cluster(&host)
        .await
        .ping(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn persistent_errors_give_up_after_a_few_attempts() {
    let (host, hits) = server(vec![502]).await;
    let e = cluster(&host)
        .await
        .ping(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { code: 502, .. }), "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (host, hits) = server(vec![400, 200]).await;
    let e = cluster(&host)
        .await
        .ping(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { code: 400, .. }), "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn cancellation_interrupts_the_backoff() {
    let (host, _) = server(vec![503]).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let e = cluster(&host).await.ping(&cancel).await.unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
}

/// An API server that restarts: nothing listens on its port for three seconds. A plan's
/// request gives up fast; an apply's (`Patience::Long`) is answered once the server is back
/// (issue 19: a restart that met an apply's writes failed it). A server that never answered
/// (a wrong address, a cluster that is down) fails an apply fast too.
#[tokio::test]
async fn an_apply_rides_out_an_api_server_restart_and_a_plan_does_not() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let host = format!("http://127.0.0.1:{port}");
    let brief = cluster(&host).await;
    let patient = brief.with_patience(Patience::Long);
    let (hits, first_life) = serve_until_aborted(listener, vec![200]);
    patient.ping(&CancellationToken::new()).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The server stops; it listens again three seconds later.
    first_life.abort();
    let _ = first_life.await;
    let back = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        serve(
            TcpListener::bind(("127.0.0.1", port)).await.unwrap(),
            vec![200],
        )
    });
    let e = brief.ping(&CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    patient.ping(&CancellationToken::new()).await.unwrap();
    assert_eq!(back.await.unwrap().load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_apply_to_a_server_that_never_answered_fails_fast() {
    let (host, tries) = silent_server().await;
    let patient = cluster(&host).await.with_patience(Patience::Long);
    let e = patient.ping(&CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    // Two tries, as a plan's: not the twelve of a restart met mid-apply.
    assert_eq!(tries.load(Ordering::SeqCst), 2);
}

/// A plan of many resources against a cluster that is down: once a request has given up on
/// the server, the next ones within `REMEMBER_UNREACHABLE` answer at once, saying so; an
/// apply's requests still try.
#[tokio::test]
async fn a_plan_does_not_try_a_server_it_just_found_unreachable() {
    let (host, tries) = silent_server().await;
    let brief = cluster(&host).await;
    brief.ping(&CancellationToken::new()).await.unwrap_err();
    assert_eq!(tries.load(Ordering::SeqCst), 2);
    let e = brief.ping(&CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("not tried again"), "{e}");
    assert_eq!(tries.load(Ordering::SeqCst), 2);
    // A clone for an apply shares what was found, but tries.
    let patient = brief.with_patience(Patience::Long);
    patient.ping(&CancellationToken::new()).await.unwrap_err();
    assert_eq!(tries.load(Ordering::SeqCst), 4);
}
