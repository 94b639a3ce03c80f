//! The connection pool through the public API, against plain HTTP/1.1 servers on
//! 127.0.0.1 that count the connections they accept and say when one is closed.
//!
//! The stale keep-alive race where hyper hands a request back unsent is made
//! deterministic in `src/pool.rs`'s own tests (it needs a connection planted in the
//! pool); here, the server closes a pooled connection and the client reads that close
//! when it checks the connection out.
//!
//! An HTTP/1 connection is driven by the task using it (see `src/pool.rs`): some tests
//! run the server on a thread of its own, so that the client's runtime holds nothing but
//! the client, and count its tasks, its polls and its wakes.
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
    /// (saying so) and waits for the client to close.
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
    /// The server closed its side of connection `conn`.
    ShutDown { conn: usize },
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
            let _ = events.send(Event::ShutDown { conn });
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
async fn an_idle_connection_the_server_closed_is_dropped_at_checkout() {
    // Nobody polls an idle connection: the server's close is read when the connection
    // is given back if it has arrived by then, or else when it is checked out, and the
    // request goes out on a new one. (Should the close arrive between that look and the
    // request being written, hyper hands the request back unsent: src/pool.rs tests
    // that path; it also tests the checkout on its own.)
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
    // The server closed its side without `connection: close`.
    assert_eq!(server.next().await, Event::ShutDown { conn: 0 });
    // Once the runtime has polled its I/O driver, the client's socket knows.
    tokio::task::yield_now().await;
    let response = request(&client, &server.url()).await.unwrap();
    assert_eq!(body(response).await, "1");
    let events = [server.next().await, server.next().await];
    assert!(
        events.contains(&Event::Closed {
            conn: 0,
            bytes_after: 0
        }),
        "the stale connection is closed, nothing written on it: {events:?}"
    );
    assert!(
        matches!(
            events,
            [Event::Request { conn: 1, .. }, _] | [_, Event::Request { conn: 1, .. }]
        ),
        "{events:?}"
    );
    assert_eq!(server.pending(), []);
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

/// A [`Server`] on a thread and runtime of its own: the client's runtime then holds
/// nothing but the client, and the test can wait for the server without letting any
/// client task run.
struct Elsewhere {
    addr: SocketAddr,
    events: std::sync::mpsc::Receiver<Event>,
}

impl Elsewhere {
    fn start(script: impl Fn(usize) -> Script + Send + 'static) -> Self {
        let (started, addr) = std::sync::mpsc::channel();
        let (forward, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut server = Server::start(script).await;
                started.send(server.addr).unwrap();
                while let Some(event) = server.events.recv().await {
                    if forward.send(event).is_err() {
                        return;
                    }
                }
            });
        });
        Self {
            addr: addr.recv().unwrap(),
            events,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/chat", self.addr)
    }

    /// The next event, waited for with this thread blocked: no task of the caller's
    /// runtime runs meanwhile.
    fn next_blocking(&self) -> Event {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("no event from the server within 10 s")
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test]
async fn http1_connections_have_no_task_of_their_own() {
    // The client's runtime (current-thread) runs nothing but the test itself, which is
    // not a task: every task alive is one the client spawned.
    let server = Elsewhere::start(|_| Script::KeepAlive);
    let client = client(ClientSettings::default());
    let url = server.url();
    let (a, b) = tokio::join!(request(&client, &url), request(&client, &url));
    // Two connections, two responses whose bodies are unread: nothing runs them but
    // the bodies, when read.
    assert_eq!(alive_tasks(), 0, "no task per connection");
    let mut answers = [body(a.unwrap()).await, body(b.unwrap()).await];
    answers.sort();
    assert_eq!(answers, ["0", "1"]);
    assert_eq!(alive_tasks(), 1, "only the sweeper of idle connections");
    let response = request(&client, &url).await.unwrap();
    assert_eq!(alive_tasks(), 1);
    assert!(
        ["0", "1"].contains(&body(response).await.as_str()),
        "reused"
    );
}

#[tokio::test]
async fn a_body_dropped_mid_way_closes_its_connection_in_the_drop() {
    let server = Elsewhere::start(|_| Script::PartialBody);
    let client = client(ClientSettings::default());
    let response = request(&client, &server.url()).await.unwrap();
    let mut partial = response.into_body();
    let chunk = partial.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(chunk, Bytes::from_static(b"partial"));
    assert!(matches!(
        server.next_blocking(),
        Event::Request { conn: 0, .. }
    ));
    drop(partial);
    // This thread blocks from here on: no task of its runtime runs, so the connection
    // must have been closed by the drop itself.
    assert_eq!(
        server.next_blocking(),
        Event::Closed {
            conn: 0,
            bytes_after: 0
        }
    );
    assert_eq!(alive_tasks(), 0, "nothing left running");
}

/// A server for one connection that answers each request with what the test releases,
/// piece by piece (an empty piece ends the answer), and says when it has read a request
/// and when it has written a piece.
struct Held {
    addr: SocketAddr,
    requests: mpsc::UnboundedReceiver<()>,
    written: mpsc::UnboundedReceiver<()>,
    release: mpsc::UnboundedSender<&'static [u8]>,
}

impl Held {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (read, requests) = mpsc::unbounded_channel();
        let (wrote, written) = mpsc::unbounded_channel();
        let (release, mut released) = mpsc::unbounded_channel::<&'static [u8]>();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            while read_request(&mut socket).await.is_some() {
                read.send(()).unwrap();
                while let Some(piece) = released.recv().await {
                    if piece.is_empty() {
                        break;
                    }
                    socket.write_all(piece).await.unwrap();
                    wrote.send(()).unwrap();
                }
            }
        });
        Self {
            addr,
            requests,
            written,
            release,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/chat", self.addr)
    }

    /// Waits until the server has read a request.
    async fn request(&mut self) {
        within(self.requests.recv()).await.unwrap();
    }

    fn release(&self, piece: &'static [u8]) {
        self.release.send(piece).unwrap();
    }

    /// Releases `piece` and waits until the server has written it, and the client's
    /// runtime has polled its I/O driver since: the client's socket then knows.
    async fn deliver(&mut self, piece: &'static [u8]) {
        self.release(piece);
        within(self.written.recv()).await.unwrap();
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_head_and_a_body_that_come_later_wake_the_reader() {
    // Each part arrives while the client waits for it, so only the socket can wake the
    // client: its connection must be polled with the waker of the task waiting.
    let mut server = Held::start().await;
    let client = client(ClientSettings::default());
    let url = server.url();
    let sending = Counted::new(request(&client, &url));
    let counts = std::sync::Arc::clone(&sending.counts);
    let mut sending = std::pin::pin!(sending);
    tokio::select! {
        // The request was read: the client now waits for the head.
        () = server.request() => {}
        _ = sending.as_mut() => panic!("a response before the server wrote one"),
    }
    let (_, before, _) = counts.get();
    server
        .deliver(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        .await;
    let (_, after, _) = counts.get();
    assert_eq!(after, before + 1, "the head wakes the client");
    let response = sending.await.unwrap();

    let mut body = response.into_body();
    let reading = Counted::new(body.frame());
    let counts = std::sync::Arc::clone(&reading.counts);
    let mut reading = std::pin::pin!(reading);
    let once = std::future::poll_fn(|cx| std::task::Poll::Ready(reading.as_mut().poll(cx)));
    assert!(once.await.is_pending(), "no body yet");
    server.deliver(b"late").await;
    assert_eq!(counts.get(), (1, 1, 0), "the body wakes the reader");
    let frame = within(reading).await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "late");
    server.release(b"");
    assert!(within(body.frame()).await.is_none());
}

/// Counts the polls of a future and the wakes of its task, and the wakes that came
/// while it was being polled: a future waking its own task, which makes the task
/// poll again for nothing.
struct Counted<F> {
    future: std::pin::Pin<Box<F>>,
    counts: std::sync::Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    polls: std::sync::atomic::AtomicUsize,
    wakes: std::sync::atomic::AtomicUsize,
    wakes_while_polled: std::sync::atomic::AtomicUsize,
    polling: std::sync::atomic::AtomicBool,
    task: std::sync::Mutex<Option<std::task::Waker>>,
}

impl Counts {
    fn get(&self) -> (usize, usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.polls.load(SeqCst),
            self.wakes.load(SeqCst),
            self.wakes_while_polled.load(SeqCst),
        )
    }
}

impl std::task::Wake for Counts {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering::SeqCst;
        self.wakes.fetch_add(1, SeqCst);
        if self.polling.load(SeqCst) {
            self.wakes_while_polled.fetch_add(1, SeqCst);
        }
        if let Some(task) = &*self.task.lock().unwrap() {
            task.wake_by_ref();
        }
    }
}

impl<F: Future> Counted<F> {
    fn new(future: F) -> Self {
        Self {
            future: Box::pin(future),
            counts: std::sync::Arc::default(),
        }
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        use std::sync::atomic::Ordering::SeqCst;
        let counts = std::sync::Arc::clone(&self.counts);
        *counts.task.lock().unwrap() = Some(cx.waker().clone());
        let waker = std::task::Waker::from(std::sync::Arc::clone(&counts));
        counts.polls.fetch_add(1, SeqCst);
        counts.polling.store(true, SeqCst);
        let poll = self
            .future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker));
        counts.polling.store(false, SeqCst);
        poll
    }
}

#[tokio::test]
async fn a_pooled_exchange_polls_its_caller_twice_and_never_wakes_it_for_nothing() {
    let mut server = Server::start(|_| Script::KeepAlive).await;
    let client = client(ClientSettings::default());
    let url = server.url();
    assert_eq!(body(request(&client, &url).await.unwrap()).await, "0");
    // On the pooled connection: one poll sends the request, and, woken by the socket
    // once the whole answer is there (the server writes it in one piece), one reads
    // the head and the body. hyper hands the head and the body over to the client's
    // futures as it reads them; none of that may wake the task.
    let exchange = Counted::new(async { body(request(&client, &url).await.unwrap()).await });
    let counts = std::sync::Arc::clone(&exchange.counts);
    assert_eq!(within(exchange).await, "0");
    let (polls, wakes, wakes_while_polled) = counts.get();
    assert_eq!(wakes_while_polled, 0, "the task woke itself");
    assert_eq!((polls, wakes), (2, 1));
    assert_eq!(server.request().await, 0);
    assert_eq!(server.request().await, 0);
}

#[tokio::test]
async fn a_streamed_body_polls_its_reader_once_per_piece_that_arrives() {
    let mut server = Held::start().await;
    let client = client(ClientSettings::default());
    let url = server.url();
    // The reader runs in a task of its own, whose every poll is counted; it reports
    // each frame it reads, and the end.
    let (frames, mut read) = mpsc::unbounded_channel();
    let reader = Counted::new({
        let client = client.clone();
        async move {
            let response = request(&client, &url).await.unwrap();
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let data = frame.unwrap().into_data().unwrap();
                frames.send(Some(data)).unwrap();
            }
            frames.send(None).unwrap();
        }
    });
    let counts = std::sync::Arc::clone(&reader.counts);
    let reader = tokio::spawn(reader);
    server.request().await;
    server.release(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
          transfer-encoding: chunked\r\n\r\n7\r\ndata: 0\r\n",
    );
    assert_eq!(within(read.recv()).await.unwrap().unwrap(), "data: 0");
    server.release(b"7\r\ndata: 1\r\n");
    assert_eq!(within(read.recv()).await.unwrap().unwrap(), "data: 1");
    server.release(b"0\r\n\r\n");
    server.release(b"");
    assert_eq!(within(read.recv()).await.unwrap(), None);
    within(reader).await.unwrap();
    let (polls, wakes, wakes_while_polled) = counts.get();
    assert_eq!(wakes_while_polled, 0, "the task woke itself");
    // Connecting, then sending; then the head and the first piece, the second, the end.
    assert_eq!(
        (polls, wakes),
        (5, 4),
        "one poll per wake, one wake per piece"
    );
}
