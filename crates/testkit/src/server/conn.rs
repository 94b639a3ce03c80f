//! A listener whose connections all fail at once when the server is dropped, so a client
//! waiting on a hung request or a paused stream sees the server go away.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Accepts TCP connections and ties each to the server's shutdown signal.
pub(super) struct ShutdownListener {
    inner: TcpListener,
    shutdown: watch::Receiver<()>,
}

impl ShutdownListener {
    pub(super) fn new(inner: TcpListener, shutdown: watch::Receiver<()>) -> Self {
        Self { inner, shutdown }
    }
}

impl Listener for ShutdownListener {
    type Io = ShutdownIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        // Small SSE events must leave at once, not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let mut shutdown = self.shutdown.clone();
        let io = ShutdownIo {
            stream,
            shutdown: Box::pin(async move {
                // Only ever resolves when the sender (the server handle) is dropped.
                while shutdown.changed().await.is_ok() {}
            }),
            stopped: false,
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A TCP stream that fails every read and write once the server is dropped; hyper then drops
/// the connection (and with it the handler and any body in flight).
pub(super) struct ShutdownIo {
    stream: TcpStream,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    stopped: bool,
}

impl ShutdownIo {
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.stopped && self.shutdown.as_mut().poll(cx).is_ready() {
            self.stopped = true;
        }
        if self.stopped {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "tollgate-testkit: fake server dropped",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for ShutdownIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ShutdownIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
