//! The connection pool through the public API, against plain HTTP/1.1 servers on
//! 127.0.0.1 that count the connections they accept and say when one is closed.
//!
//! The stale keep-alive race where hyper hands a request back unsent is made
//! deterministic in `src/pool.rs`'s own tests (it needs a connection planted in the
//! pool); here, the server closes a pooled connection and the client has noticed by the
//! time it sends again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::HeaderMap;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tollgate_core::{Error, ErrorKind};
use tollgate_http::{ClientSettings, HttpClient, Proxy, Response, post, read_limited, send};

/// What a server connection does.
#[derive(Clone, Copy)]
enum Script {
    /// Answers every request with its connection's number (`0`, `1`, …) until the
    /// client closes.
    KeepAlive,
    /// Answers the head of a 100-byte body and its first 7 bytes, then waits for the
    /// client to close.
    PartialBody,
    /// Answers one request (keep-alive, no `connection: close`), then closes its side
    /// and waits for the client to close.
    AnswerThenClose,
    /// Answers one request, reads the next one, and closes without answering it.
    CloseOnSecond,
    /// Answers every request with a chunked server-sent-events stream ending in
    /// `data: [DONE]`, written in one piece with its last chunk, until the client closes.
    Sse,
}

#[derive(Debug, PartialEq)]
enum Event {
    /// Connection `conn` read a request with this head.
    Request { conn: usize, head: String },
    /// The client closed connection `conn`, having sent `bytes_after` more bytes
    /// after the last request the server read.
    Closed { conn: usize, bytes_after: usize },
}

struct Server {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Server {
    /// A server whose `n`th connection (from 0) runs `script(n)`.
    async fn start(script: impl Fn(usize) -> Script + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut conn = 0;
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(run(conn, script(conn), socket, tx.clone()));
                conn += 1;
            }
        });
        Self { addr, events }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/chat", self.addr)
    }

    /// The next event, failing the test rather than hanging if none comes.
    async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("no event from the server within 10 s")
            .expect("the server is gone")
    }

    /// The next event, which must be a request; returns its connection.
    async fn request(&mut self) -> usize {
        match self.next().await {
            Event::Request { conn, .. } => conn,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    /// Every event already sent, without waiting.
    fn pending(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }
}

async fn run(
    conn: usize,
    script: Script,
    mut socket: TcpStream,
    events: mpsc::UnboundedSender<Event>,
) {
    let closed = |bytes_after| Event::Closed { conn, bytes_after };
    let mut answered = 0;
    loop {
        let Some(head) = read_request(&mut socket).await else {
            let _ = events.send(closed(0));
            return;
        };
        let _ = events.send(Event::Request {
            conn,
            head: head.clone(),
        });
        match (script, answered) {
            (Script::PartialBody, _) => {
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
                    .await
                    .unwrap();
                let _ = events.send(closed(read_to_end(&mut socket).await));
                return;
            }
            (Script::CloseOnSecond, 1) => return,
            (Script::Sse, _) => {
                let events = format!("data: {conn}\n\ndata: [DONE]\n\n");
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                     transfer-encoding: chunked\r\n\r\n{:x}\r\n{events}\r\n0\r\n\r\n",
                    events.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
                continue;
            }
            _ => {}
        }
        let body = conn.to_string();
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        answered += 1;
        if let Script::AnswerThenClose = script {
            socket.shutdown().await.unwrap();
            let _ = events.send(closed(read_to_end(&mut socket).await));
            return;
        }
    }
}

/// Reads one request, head and `content-length` body; `None` if the client closed
/// (or broke) the connection first.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(socket.read_u8().await.ok()?);
    }
    let head = String::from_utf8(head).unwrap();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    socket.read_exact(&mut body).await.ok()?;
    Some(head)
}

/// Reads until the client closes; returns how many bytes came.
async fn read_to_end(socket: &mut TcpStream) -> usize {
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest).await;
    rest.len()
}

fn client(settings: ClientSettings) -> HttpClient {
    HttpClient::new(&ClientSettings {
        proxy: Proxy::Direct,
        ..settings
    })
    .unwrap()
}

fn unreachable_failure() -> Error {
    Error::new(ErrorKind::Server, "a failure mapping that must not run")
}

/// Sends a POST to `url`; the response head, its body unread. Fails the test rather
/// than hanging if nothing comes within 10 s (a client never woken).
async fn request(client: &HttpClient, url: &str) -> Result<Response, Error> {
    let uri = url.parse().unwrap();
    within(send(
        "test",
        client,
        post(&uri, HeaderMap::new(), "{}"),
        |_| unreachable_failure(),
    ))
    .await
}

/// Reads a whole body (which hands its connection back), within 10 s.
async fn body(response: Response) -> String {
    let bytes = within(read_limited("test", response, 1024)).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `future`'s output, failing the test rather than hanging if it takes over 10 s.
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("nothing within 10 s")
}

#[test]
fn responses_can_cross_threads_and_be_shared() {
    fn assert_send_sync<T: Send + Sync + Unpin + 'static>() {}
    assert_send_sync::<Response>();
}

#[tokio::test]
async fn sequential_requests_share_one_keep_alive_connection() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings::default());
    for _ in 0..3 {
        let response = request(&client, &server.url()).await.unwrap();
        assert_eq!(body(response).await, "0");
    }
    let port = server.addr.port();
    for _ in 0..3 {
        let Event::Request { conn, head } = server.next().await else {
            panic!("expected a request");
        };
        assert_eq!(conn, 0, "one connection for all three");
        // Origin form and the host header, as the legacy client wrote them.
        assert!(head.starts_with("POST /v1/chat HTTP/1.1\r\n"), "{head}");
        let host = format!("\r\nhost: 127.0.0.1:{port}\r\n");
        assert!(head.to_ascii_lowercase().contains(&host), "{head}");
    }
    assert_eq!(server.pending(), []);
}

#[tokio::test]
async fn a_body_dropped_before_its_end_closes_its_connection() {
    let mut server = Server::start(|conn| {
        if conn == 0 {
            Script::PartialBody
        } else {
            Script::KeepAlive
        }
    })
    .await;
    let client = client(ClientSettings::default());
    let response = request(&client, &server.url()).await.unwrap();
    let mut first = response.into_body();
    let chunk = first.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(chunk, Bytes::from_static(b"partial"));
    drop(first);
    // The next request cannot use that connection: it opens another.
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "1");
    let events = [
        server.next().await,
        server.next().await,
        server.next().await,
    ];
    assert!(
        events.contains(&Event::Closed {
            conn: 0,
            bytes_after: 0
        }),
        "the first connection is closed, nothing more sent on it: {events:?}"
    );
}

#[tokio::test]
async fn a_stream_read_to_its_last_event_keeps_its_connection() {
    // Provider stream decoders stop at their end marker (`data: [DONE]`) and never ask
    // for the end of the body after it; the connection must be reused all the same.
    let mut server = Server::start(|_| Script::Sse).await;
    let client = client(ClientSettings::default());
    for _ in 0..2 {
        let response = request(&client, &server.url()).await.unwrap();
        let mut events = tollgate_http::sse("test", response);
        let first = events.next().await.unwrap().unwrap();
        assert_eq!(first.data, "0");
        let done = events.next().await.unwrap().unwrap();
        assert_eq!(done.data, "[DONE]");
        drop(events);
    }
    assert_eq!(server.request().await, 0);
    assert_eq!(
        server.request().await,
        0,
        "the second stream on the same connection"
    );
    assert_eq!(server.pending(), []);
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_not_used_again() {
    // Covers the path where the client has seen the close before it sends again: the
    // pooled sender is closed and is dropped at checkout. (The path where it has not
    // seen it yet, and hyper hands the request back, is tested in src/pool.rs.)
    let mut server = Server::start(|conn| {
        if conn == 0 {
            Script::AnswerThenClose
        } else {
            Script::KeepAlive
        }
    })
    .await;
    let client = client(ClientSettings::default());
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "0");
    assert_eq!(server.request().await, 0);
    // The server closed its side without `connection: close`; once the client's
    // connection has read that and closed in turn, its pooled sender is dead.
    assert_eq!(
        server.next().await,
        Event::Closed {
            conn: 0,
            bytes_after: 0
        }
    );
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "1");
    assert_eq!(server.request().await, 1);
}

#[tokio::test]
async fn a_request_that_may_have_reached_the_server_is_not_sent_again() {
    let mut server = Server::start(|_| Script::CloseOnSecond).await;
    let client = client(ClientSettings::default());
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "0");
    // The server reads this one, then closes without an answer: it may have acted on
    // it, so the client must report the failure rather than send it again.
    let err = request(&client, &server.url()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(!err.to_string().contains("could not connect"), "{err}");
    assert_eq!(server.request().await, 0);
    assert_eq!(server.request().await, 0);
    assert_eq!(
        server.pending(),
        [],
        "no other connection, no other request"
    );
}

/// Two requests in flight at once, each on its own connection; returns the responses
/// and checks that two connections were made.
async fn two_at_once(client: &HttpClient, server: &mut Server) -> (Response, Response) {
    let url = server.url();
    let (a, b) = tokio::join!(request(client, &url), request(client, &url));
    let mut conns = [server.request().await, server.request().await];
    conns.sort_unstable();
    assert_eq!(conns, [0, 1]);
    (a.unwrap(), b.unwrap())
}

#[tokio::test]
async fn the_most_recently_returned_connection_is_used_first() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings::default());
    let (a, b) = two_at_once(&client, &mut server).await;
    let a = body(a).await;
    let b = body(b).await;
    // `b` came back last: it serves the next request.
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, b);
    assert_ne!(a, b);
    assert_eq!(server.request().await.to_string(), b);
    assert_eq!(server.pending(), []);
}

#[tokio::test]
async fn no_more_than_pool_max_idle_per_host_connections_are_kept() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings {
        pool_max_idle_per_host: 1,
        ..ClientSettings::default()
    });
    let (a, b) = two_at_once(&client, &mut server).await;
    let a: usize = body(a).await.parse().unwrap();
    // The idle list is full: `b`'s connection is closed when it comes back.
    let b: usize = body(b).await.parse().unwrap();
    assert_eq!(
        server.next().await,
        Event::Closed {
            conn: b,
            bytes_after: 0
        }
    );
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, a.to_string());
    assert_eq!(server.request().await, a);
    assert_eq!(server.pending(), []);
}

#[tokio::test]
async fn idle_connections_are_closed_after_pool_idle_timeout() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings {
        pool_idle_timeout: Duration::from_secs(30),
        ..ClientSettings::default()
    });
    let response = request(&client, &server.url()).await.unwrap();
    // Taken before the body is read, which is when the connection goes idle.
    let idle_since = tokio::time::Instant::now();
    assert_eq!(body(response).await, "0");
    assert_eq!(server.request().await, 0);

    // From here the clock only moves when the runtime has nothing else to do.
    tokio::time::pause();
    // Paused, a timeout fires as soon as nothing else can happen: if the idle
    // connection is never closed, this fails at once instead of hanging.
    let closed = tokio::time::timeout(Duration::from_secs(60), server.events.recv()).await;
    let Ok(Some(Event::Closed { conn: 0, .. })) = closed else {
        panic!("expected the idle connection to be closed, got {closed:?}");
    };
    let idle_for = idle_since.elapsed();
    assert!(
        (Duration::from_secs(30)..Duration::from_secs(31)).contains(&idle_for),
        "closed after {idle_for:?} idle"
    );
    tokio::time::resume();

    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "1", "a new connection");
}

#[tokio::test]
async fn dropping_the_last_client_closes_its_idle_connections() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings::default());
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "0");
    assert_eq!(server.request().await, 0);
    drop(client);
    assert_eq!(
        server.next().await,
        Event::Closed {
            conn: 0,
            bytes_after: 0
        }
    );
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error_that_could_not_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client(ClientSettings::default());
    let err = request(&client, &format!("http://{addr}/v1/chat?key=sk-in-query"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("could not connect"), "{shown}");
    assert!(!shown.contains("sk-in-query"), "{shown}");
}

#[tokio::test(start_paused = true)]
async fn a_connect_timeout_is_a_timeout_error_that_could_not_connect() {
    // A listener that never accepts, its accept queue filled: the kernel drops
    // further SYNs, so a connection attempt hangs until the client gives up.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..2 {
        queued.push(std::net::TcpStream::connect(addr).unwrap());
    }
    let client = client(ClientSettings {
        connect_timeout: Duration::from_secs(5),
        ..ClientSettings::default()
    });
    let started = tokio::time::Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        request(&client, &format!("http://{addr}/v1/chat")),
    )
    .await
    .expect("the connect timeout fires first")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("could not connect"), "{err}");
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(6)).contains(&waited),
        "{waited:?}"
    );
    drop(queued);
}

/// A listener that accepts connections and holds them open without ever answering:
/// a proxy that never replies to `CONNECT`, a server that never finishes TLS.
async fn silent_listener() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// Sends to `url` with `client` and checks that the connection attempt gives up as a
/// connect timeout after 5 s of (paused) time.
async fn assert_connect_times_out(client: &HttpClient, url: &str) {
    let started = tokio::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(60), request(client, url))
        .await
        .expect("the connect timeout fires first")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("could not connect"), "{err}");
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(6)).contains(&waited),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_connect_timeout_covers_a_proxy_tunnel_that_never_answers() {
    let proxy = silent_listener().await;
    let client = HttpClient::new(&ClientSettings {
        connect_timeout: Duration::from_secs(5),
        proxy: Proxy::Url(format!("http://{proxy}").into()),
        ..ClientSettings::default()
    })
    .unwrap();
    // An https endpoint goes through a CONNECT tunnel, which the proxy never answers.
    assert_connect_times_out(&client, "https://provider.invalid/v1/chat").await;
}

#[tokio::test(start_paused = true)]
async fn the_connect_timeout_covers_a_tls_handshake_that_never_finishes() {
    let server = silent_listener().await;
    let client = client(ClientSettings {
        connect_timeout: Duration::from_secs(5),
        ..ClientSettings::default()
    });
    assert_connect_times_out(&client, &format!("https://{server}/v1/chat")).await;
}
