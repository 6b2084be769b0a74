//! Connection settings against the real cluster: nothing configured, kubeconfig path and
//! context, inline host/token/certificates taken from the kubeconfig's contents, the KUBE_*
//! environment variables, and an unreachable host.

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;
use thanos_cluster::{CancellationToken, Cluster, ClusterConfig, Error};

fn decode(b64: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

/// Host, CA, client certificate and key of the test kubeconfig, as PEM strings.
fn inline_from(path: &str) -> (String, String, String, String) {
    let kc = Kubeconfig::read_from(path).unwrap();
    let cluster = kc.clusters[0].cluster.clone().unwrap();
    let user = kc.auth_infos[0].auth_info.clone().unwrap();
    use secrecy::ExposeSecret;
    (
        cluster.server.unwrap(),
        decode(&cluster.certificate_authority_data.unwrap()),
        decode(&user.client_certificate_data.unwrap()),
        decode(user.client_key_data.unwrap().expose_secret()),
    )
}

#[tokio::test]
async fn nothing_configured_is_refused_with_what_to_set() {
    // Runs without a cluster too: no fallback to ~/.kube/config or KUBECONFIG.
    let c = ClusterConfig::from_lookup_and(ClusterConfig::default(), |k| {
        (k == "KUBECONFIG").then(|| "/somewhere/kubeconfig".to_owned())
    });
    assert!(c.is_empty());
    let e = c.client().await.err().expect("an error");
    assert!(matches!(e, Error::NotConfigured), "{e:?}");
    let text = e.to_string();
    for needle in [
        "config_path",
        "host",
        "KUBE_CONFIG_PATH",
        "never falls back",
    ] {
        assert!(text.contains(needle), "{needle} missing in: {text}");
    }
}

#[tokio::test]
async fn kubeconfig_path_and_context() {
    let Some(path) = kubeconfig("kubeconfig_path_and_context") else {
        return;
    };
    let cancel = CancellationToken::new();
    let cluster = Cluster::connect(&config(&path)).await.unwrap();
    cluster.ping(&cancel).await.unwrap();
    assert!(
        cluster.host().starts_with("https://127.0.0.1:"),
        "{}",
        cluster.host()
    );

    let kc = Kubeconfig::read_from(&path).unwrap();
    let ctx = kc.contexts[0].name.clone();
    let with_ctx = ClusterConfig {
        config_paths: vec![path.clone()],
        config_context: Some(ctx),
        ..Default::default()
    };
    Cluster::connect(&with_ctx)
        .await
        .unwrap()
        .ping(&cancel)
        .await
        .unwrap();

    let bad_ctx = ClusterConfig {
        config_context: Some("no-such-context".into()),
        ..config(&path)
    };
    let e = bad_ctx.client().await.err().expect("an error");
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    assert!(e.to_string().contains("no-such-context"), "{e}");
}

#[tokio::test]
async fn inline_host_ca_and_client_certificate() {
    let Some(path) = kubeconfig("inline_host_ca_and_client_certificate") else {
        return;
    };
    let (host, ca, cert, key) = inline_from(&path);
    let c = ClusterConfig {
        host: Some(host),
        cluster_ca_certificate: Some(ca),
        client_certificate: Some(cert),
        client_key: Some(key),
        ..Default::default()
    };
    let cancel = CancellationToken::new();
    Cluster::connect(&c)
        .await
        .unwrap()
        .ping(&cancel)
        .await
        .unwrap();
}

#[tokio::test]
async fn inline_host_token_and_ca() {
    let Some(path) = kubeconfig("inline_host_token_and_ca") else {
        return;
    };
    let ns = TestNs::new(&path, "token").await;
    let n = ns.name.as_str();
    for args in [
        vec!["-n", n, "create", "serviceaccount", "tester"],
        vec![
            "-n",
            n,
            "create",
            "rolebinding",
            "tester-admin",
            "--clusterrole=admin",
            &format!("--serviceaccount={n}:tester"),
        ],
    ] {
        let (ok, out) = ns.kubectl(&args, None);
        assert!(ok, "{out}");
    }
    let (ok, token) = ns.kubectl(&["-n", n, "create", "token", "tester"], None);
    assert!(ok, "{token}");
    let (host, ca, _, _) = inline_from(&path);
    let c = ClusterConfig {
        host: Some(host),
        cluster_ca_certificate: Some(ca),
        token: Some(token.trim().to_owned()),
        ..Default::default()
    };
    let client = c.client().await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), n);
    cms.list(&ListParams::default()).await.unwrap();
    // The token is only an admin of its namespace: elsewhere it is forbidden, and the error
    // maps to Forbidden with the RBAC hint.
    // The same token through an exec credential plugin.
    let dir = std::env::temp_dir().join(format!("tc-exec-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("get-token.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$TC_TOKEN\"\n",
    )
    .unwrap();
    let (host, ca, _, _) = inline_from(&path);
    let with_exec = ClusterConfig {
        host: Some(host),
        cluster_ca_certificate: Some(ca),
        exec: Some(thanos_cluster::ExecAuth {
            api_version: "client.authentication.k8s.io/v1beta1".into(),
            command: "/bin/sh".into(),
            args: vec![script.to_string_lossy().into_owned()],
            env: vec![("TC_TOKEN".into(), token.trim().to_owned())],
        }),
        ..Default::default()
    };
    let exec_client = with_exec.client().await.unwrap();
    Api::<ConfigMap>::namespaced(exec_client, n)
        .list(&ListParams::default())
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let cluster = Cluster::new(client, "test");
    let other = thanos_cluster::Owner::new(thanos_render::meta::Kind::Query, "x", "kube-system");
    let e = cluster.inventory(&other, &ns.cancel).await.unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("RBAC"), "{e}");
}

#[tokio::test]
async fn kube_environment_variables() {
    let Some(path) = kubeconfig("kube_environment_variables") else {
        return;
    };
    let kc = Kubeconfig::read_from(&path).unwrap();
    let env = BTreeMap::from([
        (
            "KUBE_CONFIG_PATHS".to_owned(),
            format!("/nonexistent-is-skipped-no:{path}"),
        ),
        ("KUBE_CTX".to_owned(), kc.contexts[0].name.clone()),
    ]);
    // A missing file in the list is an error that names it.
    let c = ClusterConfig::from_lookup_and(ClusterConfig::default(), |k| env.get(k).cloned());
    let e = c.client().await.err().expect("an error");
    assert!(e.to_string().contains("/nonexistent-is-skipped-no"), "{e}");

    let env = BTreeMap::from([
        ("KUBE_CONFIG_PATH".to_owned(), path.clone()),
        ("KUBE_CTX".to_owned(), kc.contexts[0].name.clone()),
    ]);
    let c = ClusterConfig::from_lookup_and(ClusterConfig::default(), |k| env.get(k).cloned());
    let cancel = CancellationToken::new();
    Cluster::connect(&c)
        .await
        .unwrap()
        .ping(&cancel)
        .await
        .unwrap();

    // Inline values from KUBE_HOST / KUBE_CLUSTER_CA_CERT_DATA / KUBE_CLIENT_*_DATA.
    let (host, ca, cert, key) = inline_from(&path);
    let env = BTreeMap::from([
        ("KUBE_HOST".to_owned(), host),
        ("KUBE_CLUSTER_CA_CERT_DATA".to_owned(), ca),
        ("KUBE_CLIENT_CERT_DATA".to_owned(), cert),
        ("KUBE_CLIENT_KEY_DATA".to_owned(), key),
    ]);
    let c = ClusterConfig::from_lookup_and(ClusterConfig::default(), |k| env.get(k).cloned());
    Cluster::connect(&c)
        .await
        .unwrap()
        .ping(&cancel)
        .await
        .unwrap();

    // The block wins over the environment: a wrong KUBE_HOST is ignored when host is set.
    let (host, ..) = inline_from(&path);
    let env2 = BTreeMap::from([("KUBE_HOST".to_owned(), "https://127.0.0.1:1".to_owned())]);
    let c = ClusterConfig::from_lookup_and(
        ClusterConfig {
            host: Some(host),
            ..config(&path)
        },
        |k| env2.get(k).cloned(),
    );
    Cluster::connect(&c)
        .await
        .unwrap()
        .ping(&cancel)
        .await
        .unwrap();
}

#[tokio::test]
async fn unreachable_host_names_the_host() {
    // No cluster needed: nothing listens on port 1.
    let c = ClusterConfig {
        host: Some("https://127.0.0.1:1".into()),
        token: Some("x".into()),
        insecure: Some(true),
        ..Default::default()
    };
    let cluster = Cluster::connect(&c).await.unwrap();
    let e = cluster.ping(&CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(text.contains("Planning works offline"), "{text}");
}
