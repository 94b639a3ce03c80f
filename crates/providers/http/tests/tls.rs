//! https for real: a TLS server on 127.0.0.1 with a certificate from a test CA
//! (`tests/data`, see its README), reached with and without that CA trusted, over
//! HTTP/1.1 and over HTTP/2 when the server offers it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Version};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tollgate_core::{Error, ErrorKind};
use tollgate_http::{
    ClientSettings, HttpClient, Proxy, certificates_from_pem, post, read_limited, send,
};

const CA: &[u8] = include_bytes!("data/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("data/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("data/server.key");

/// A TLS acceptor with the test server certificate, offering `alpn`.
fn acceptor(alpn: &[&[u8]]) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            certificates_from_pem(SERVER_CERT).unwrap(),
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// An HTTPS server answering one connection with `ok`; returns its port and the request
/// head it read (`None` when the client gave up during the handshake).
async fn serve_once() -> (u16, JoinHandle<Option<String>>) {
    let acceptor = acceptor(&[b"http/1.1"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(socket).await.ok()?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            tls.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .await
            .unwrap();
        tls.shutdown().await.unwrap();
        Some(String::from_utf8(head).unwrap())
    });
    (port, task)
}

fn client(trust_test_ca: bool) -> HttpClient {
    HttpClient::new(&ClientSettings {
        proxy: Proxy::Direct,
        extra_root_certificates: if trust_test_ca {
            certificates_from_pem(CA).unwrap()
        } else {
            Vec::new()
        },
        ..ClientSettings::default()
    })
    .unwrap()
}

fn unreachable_failure() -> Error {
    Error::new(ErrorKind::Server, "a failure mapping that must not run")
}

#[tokio::test]
async fn https_round_trips_when_the_certificate_verifies() {
    let (port, server) = serve_once().await;
    let uri = format!("https://localhost:{port}/v1/chat").parse().unwrap();
    let response = send(
        "vllm",
        &client(true),
        post(&uri, HeaderMap::new(), "{}"),
        |_| unreachable_failure(),
    )
    .await
    .unwrap();
    assert_eq!(read_limited("vllm", response, 10).await.unwrap(), "ok");
    let head = server.await.unwrap().expect("the handshake completed");
    assert!(head.starts_with("POST /v1/chat HTTP/1.1\r\n"), "{head}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_transport_error() {
    let (port, server) = serve_once().await;
    let uri = format!("https://localhost:{port}/v1/chat").parse().unwrap();
    let err = send(
        "vllm",
        &client(false),
        post(&uri, HeaderMap::new(), "{}"),
        |_| unreachable_failure(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert_eq!(server.await.unwrap(), None, "no request may be sent");
}

/// An HTTPS server offering HTTP/2 and HTTP/1.1 that answers each request with the
/// HTTP version it came in on. Requests marked `x-together` are answered only once two
/// of them are in flight at the same time. Returns its port and how many connections it
/// has accepted.
async fn serve_h2() -> (u16, Arc<AtomicUsize>) {
    let acceptor = acceptor(&[b"h2", b"http/1.1"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let together = Arc::new(tokio::sync::Barrier::new(2));
    let counted = Arc::clone(&accepts);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let together = Arc::clone(&together);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(socket).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    let together = Arc::clone(&together);
                    async move {
                        if request.headers().contains_key("x-together") {
                            together.wait().await;
                        }
                        let version = format!("{:?}", request.version());
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(version))))
                    }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, accepts)
}

#[tokio::test]
async fn http2_is_negotiated_and_one_connection_carries_concurrent_requests() {
    let (port, accepts) = serve_h2().await;
    let client = client(true);
    let uri = format!("https://localhost:{port}/v1/chat").parse().unwrap();
    let exchange = async |together: bool| {
        let mut headers = HeaderMap::new();
        if together {
            headers.insert("x-together", HeaderValue::from_static("1"));
        }
        let response = send("vllm", &client, post(&uri, headers, "{}"), |_| {
            unreachable_failure()
        })
        .await
        .unwrap();
        let version = response.version();
        let body = read_limited("vllm", response, 100).await.unwrap();
        (version, body)
    };
    // The first request opens the connection; ALPN chose h2.
    assert_eq!(exchange(false).await, (Version::HTTP_2, "HTTP/2.0".into()));
    // Two requests the server answers only when both are in flight: on one shared
    // connection, they are.
    let both = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::future::join(exchange(true), exchange(true)),
    )
    .await
    .expect("both requests in flight at once");
    assert_eq!(both.0, (Version::HTTP_2, "HTTP/2.0".into()));
    assert_eq!(both.1, (Version::HTTP_2, "HTTP/2.0".into()));
    assert_eq!(exchange(false).await.0, Version::HTTP_2);
    assert_eq!(accepts.load(Ordering::SeqCst), 1, "one connection for all");
}

#[test]
fn pem_without_certificates_is_refused() {
    let err = certificates_from_pem(b"not a certificate").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(certificates_from_pem(CA).unwrap().len(), 1);
}
