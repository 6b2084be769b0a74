//! The listening socket and the connections fed to tonic.
//!
//! Like go-plugin on Unix we listen on a socket in a fresh directory only our user can enter,
//! so no other user on the machine can even attempt a connection; TLS then pins Terraform's
//! certificate on top. Elsewhere (Windows) go-plugin listens on TCP on loopback and Terraform
//! expects `tcp` in the handshake; there the pinned certificate is the only gate. The TCP path
//! is compiled everywhere so that it runs under Terraform in the Linux tests as well.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::handshake::Address;

/// Set to `tcp`, the plugin listens on TCP loopback even where Unix sockets exist: how the
/// Windows code path runs under Terraform on Linux in the tests.
#[cfg_attr(not(unix), allow(dead_code))]
pub const NETWORK_ENV: &str = "TF_THANOS_PLUGIN_NETWORK";

/// What binding made: the address to announce and, on Unix, the private socket directory,
/// removed when this is dropped.
pub struct Bound {
    pub address: Address,
    #[cfg(unix)]
    _socket: Option<PrivateSocket>,
}

/// A listener of either kind.
pub enum Listener {
    #[cfg(unix)]
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

/// One accepted stream, before TLS.
pub enum Stream {
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

impl Listener {
    async fn accept(&self) -> io::Result<Stream> {
        match self {
            #[cfg(unix)]
            Listener::Unix(l) => l.accept().await.map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().await.map(|(s, _)| Stream::Tcp(s)),
        }
    }
}

/// Binds the listener: a private Unix socket where there are Unix sockets, else (or when
/// [`NETWORK_ENV`] says `tcp`) TCP on 127.0.0.1. The error names what could not be bound.
pub fn bind() -> Result<(Bound, Listener), (String, io::Error)> {
    #[cfg(unix)]
    if std::env::var(NETWORK_ENV).as_deref() != Ok("tcp") {
        let (socket, listener) = PrivateSocket::bind()?;
        let address = Address::Unix(socket.path.clone());
        let bound = Bound {
            address,
            _socket: Some(socket),
        };
        return Ok((bound, Listener::Unix(listener)));
    }
    let (address, listener) = bind_tcp().map_err(|e| ("127.0.0.1:0".to_owned(), e))?;
    let bound = Bound {
        address,
        #[cfg(unix)]
        _socket: None,
    };
    Ok((bound, Listener::Tcp(listener)))
}

/// A free port on loopback only: nothing off the machine can connect, and TLS pins
/// Terraform's certificate for the rest.
fn bind_tcp() -> io::Result<(Address, tokio::net::TcpListener)> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let address = Address::Tcp(listener.local_addr()?);
    Ok((address, tokio::net::TcpListener::from_std(listener)?))
}

/// A unix socket in a private temporary directory; dropping it removes both.
#[cfg(unix)]
struct PrivateSocket {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
}

#[cfg(unix)]
impl PrivateSocket {
    /// Creates the directory (mode 0700) and binds the socket inside it.
    fn bind() -> Result<(Self, tokio::net::UnixListener), (String, io::Error)> {
        let base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = base.join(format!("tfprov-thanos-{}-{nanos:x}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| (dir.display().to_string(), e))?;
        let path = dir.join("plugin.sock");
        let socket = Self { dir, path };
        let listener = tokio::net::UnixListener::bind(&socket.path)
            .map_err(|e| (socket.path.display().to_string(), e))?;
        Ok((socket, listener))
    }
}

#[cfg(unix)]
impl Drop for PrivateSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// One accepted connection, with or without TLS.
pub enum Conn {
    Plain(Stream),
    Tls(Box<TlsStream<Stream>>),
}

/// Accepts connections forever; TLS handshakes run in their own tasks so a slow or hostile
/// client cannot hold up the others.
pub async fn accept_loop(
    listener: Listener,
    acceptor: Option<TlsAcceptor>,
    out: mpsc::Sender<Result<Conn, io::Error>>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                continue;
            }
        };
        match &acceptor {
            None => {
                if out.send(Ok(Conn::Plain(stream))).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let out = out.clone();
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(tls) => {
                            let _ = out.send(Ok(Conn::Tls(Box::new(tls)))).await;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "TLS handshake with the client failed")
                        }
                    }
                });
            }
        }
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

macro_rules! each_stream {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            #[cfg(unix)]
            Stream::Unix($s) => $body,
            Stream::Tcp($s) => $body,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_stream!(self.get_mut(), s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self.get_mut(), s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self.get_mut(), s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        each_stream!(self, s => s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self.get_mut(), s => Pin::new(s).poll_shutdown(cx))
    }
}
