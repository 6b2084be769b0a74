//! Running as a Terraform plugin: handshake, transport, TLS and go-plugin's side services.
//!
//! This module knows the go-plugin contract and nothing about resources: it serves whatever
//! `tfplugin6.Provider` implementation it is given. See `handshake` for the stdout line,
//! `tls` for AutoMTLS and `logging` for stderr.

pub mod handshake;
pub mod logging;
pub mod tls;

mod conn;
mod go_plugin;

use std::time::Duration;

use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;

use crate::pb::plugin::grpc_broker_server::GrpcBrokerServer;
use crate::pb::plugin::grpc_controller_server::GrpcControllerServer;
use crate::pb::plugin::grpc_stdio_server::GrpcStdioServer;
use crate::pb::tfplugin6::provider_server::{Provider, ProviderServer};
use handshake::{Address, Negotiated};

/// Terraform raises its own limits to the maximum; tonic's default of 4 MiB would reject large
/// configurations and states with RESOURCE_EXHAUSTED.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// How long a graceful stop may take after `Shutdown` before we exit anyway. Terraform kills
/// plugins that are still alive two seconds after Shutdown; we aim far below that.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(200);

/// How the plugin was started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The provider's source address, e.g. `registry.terraform.io/paodin/thanos`.
    pub provider_address: String,
    /// `--debug`: no cookie check, no TLS, print `TF_REATTACH_PROVIDERS` and serve until Ctrl-C.
    pub debug: bool,
}

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{}", handshake::NOT_A_PLUGIN_MESSAGE)]
    NotLaunchedByTerraform,
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the handshake to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `provider` until Terraform calls `GRPCController.Shutdown` (or, in debug mode, until
/// Ctrl-C). Returns when the process should exit.
pub async fn serve<P: Provider>(provider: P, options: ServeOptions) -> Result<(), ServeError> {
    install_crypto_provider();
    let env = |k: &str| std::env::var(k).ok();
    if !options.debug && !handshake::cookie_present(env) {
        return Err(ServeError::NotLaunchedByTerraform);
    }
    if let Negotiated::Mismatch(offered) =
        handshake::negotiate(env("PLUGIN_PROTOCOL_VERSIONS").as_deref())
    {
        tracing::error!(
            offered,
            "Terraform offered plugin protocol versions {offered}; this provider speaks only 6 \
             (Terraform >= 1.0, OpenTofu >= 1.6)"
        );
    }

    // TLS unless debugging, or unless Terraform turned it off (TF_DISABLE_PLUGIN_TLS), in which
    // case it sends no client certificate.
    let identity_and_tls = match (options.debug, env("PLUGIN_CLIENT_CERT")) {
        (false, Some(pem)) if !pem.trim().is_empty() => {
            let identity = tls::ServerIdentity::generate()?;
            let config = identity.server_config(tls::PinnedClientCert::from_pem(&pem)?)?;
            Some((identity, config))
        }
        _ => None,
    };

    let (bound, listener) =
        conn::bind().map_err(|(address, source)| ServeError::Listen { address, source })?;
    let address = bound.address.clone();
    tracing::debug!(network = address.network(), %address, "plugin listening");

    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    // go-plugin clients check the health of the service named "plugin".
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let (conn_tx, conn_rx) = tokio::sync::mpsc::channel(16);
    let acceptor = identity_and_tls
        .as_ref()
        .map(|(_, cfg)| tokio_rustls::TlsAcceptor::from(cfg.clone()));
    tokio::spawn(conn::accept_loop(listener, acceptor, conn_tx));

    let router = Server::builder()
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(GrpcControllerServer::new(go_plugin::Controller::new(
            shutdown_tx.clone(),
        )))
        .add_service(GrpcStdioServer::new(go_plugin::Stdio))
        .add_service(GrpcBrokerServer::new(go_plugin::Broker))
        .add_service(health_service);

    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(router.serve_with_incoming_shutdown(
        ReceiverStream::new(conn_rx),
        async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        },
    ));

    if !options.debug {
        exit_when_orphaned(shutdown_tx.clone());
    }
    ignore_or_handle_interrupts(options.debug, shutdown_tx);
    // The listener is bound and accepting: only now may Terraform learn the address.
    announce(
        &options,
        &address,
        identity_and_tls.as_ref().map(|(id, _)| id),
    )?;

    let _ = shutdown_rx.wait_for(|stop| *stop).await;
    tracing::debug!("shutting down");
    // Still draining connections, or the server task ended abnormally: exit regardless.
    if let Ok(Ok(result)) = tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        result?;
    }
    drop(bound);
    Ok(())
}

/// Makes aws-lc-rs the process-wide rustls crypto provider. A provider that also talks to
/// other servers (kube's client compiles rustls with `ring`) would otherwise have both
/// providers compiled in, and rustls panics on first use when it cannot pick one.
pub fn install_crypto_provider() {
    // Err means one is installed already, which is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Prints the handshake line (normal mode) or the reattach instructions (debug mode).
fn announce(
    options: &ServeOptions,
    address: &Address,
    identity: Option<&tls::ServerIdentity>,
) -> Result<(), ServeError> {
    use std::io::Write as _;
    let text = if options.debug {
        let config =
            handshake::reattach_config(&options.provider_address, address, std::process::id());
        format!(
            "Provider started in debug mode. To attach Terraform or OpenTofu, set this in the \
             shell that runs them:\n\n\tTF_REATTACH_PROVIDERS='{config}'\n\n\
             Stop the provider with Ctrl-C.\n"
        )
    } else {
        handshake::handshake_line(address, identity.map(|id| id.handshake_field()).as_deref())
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(ServeError::Stdout)?;
    out.flush().map_err(ServeError::Stdout)
}

/// How often the plugin checks that the process that started it still runs.
const PARENT_CHECK: Duration = Duration::from_millis(500);

/// Stops serving when the CLI that started us is gone (killed with SIGKILL, or crashed): it
/// can no longer call Shutdown, so without this the plugin would live on as an orphan, and an
/// apply it was running could go on writing to the cluster next to the user's next apply.
///
/// The parent is watched, not signalled for (`PR_SET_PDEATHSIG` fires when the parent's
/// *thread* exits, and Go runtimes end threads at will): when the parent dies, the kernel
/// re-parents us (to init or a subreaper), and the parent id changes.
fn exit_when_orphaned(shutdown: watch::Sender<bool>) {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PARENT_CHECK).await;
                if std::os::unix::process::parent_id() != parent {
                    tracing::warn!(
                        parent,
                        "the process that started this plugin is gone: stopping (work in flight is abandoned; the next apply converges)"
                    );
                    let _ = shutdown.send(true);
                    return;
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = shutdown;
    }
}

/// Terraform runs plugins in its own process group, so a terminal Ctrl-C reaches us too. Like
/// go-plugin servers we ignore it: Terraform answers the interrupt by calling StopProvider (to
/// cancel work in flight) and Shutdown. In debug mode Ctrl-C is how the developer stops us.
///
/// The handler is registered before this returns (and so before the handshake line), so an
/// interrupt at any moment after Terraform sees us is ignored.
fn ignore_or_handle_interrupts(debug: bool, shutdown: watch::Sender<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut sigint) = signal(SignalKind::interrupt()) else {
            tracing::warn!("cannot install the SIGINT handler");
            return;
        };
        tokio::spawn(async move {
            while sigint.recv().await.is_some() {
                if debug {
                    let _ = shutdown.send(true);
                    return;
                }
                tracing::debug!("ignoring SIGINT: Terraform will call StopProvider");
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = (debug, shutdown);
    }
}

/// Makes a panic look like a Go panic on stderr (`panic: ` then the trace), which Terraform
/// shows to the user as "the plugin crashed" with the trace, and exits like Go does (code 2)
/// instead of leaving a half-working server behind.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let trace = std::backtrace::Backtrace::force_capture();
        eprintln!(
            "panic: {message}\n\nat {location}\n\n{trace}\n\nThis is a bug in terraform-provider-thanos: please report it with the text above."
        );
        std::process::exit(2);
    }));
}
