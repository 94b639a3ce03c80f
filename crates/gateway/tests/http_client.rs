//! `[http]` end to end, through the gateway: a deployment's `proxy` sends its requests to
//! a forward proxy (credentials as `proxy-authorization`), `proxy = "none"` goes direct
//! even with `HTTP_PROXY` set, and `ca_file` makes an https upstream signed by a test CA
//! (`tests/data`) trusted.
//!
//! The HTTP client reads `HTTP_PROXY` and friends from the process environment itself (not
//! through the gateway's `Env`), and tests must not set variables in their own shared
//! process: the `"none"` test runs the `tollgate` binary as a child with its own
//! environment instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tollgate_gateway::config;
use tollgate_testkit::scenario::Scenario;
use tollgate_testkit::{FakeServer, Flavor};

use support::*;

const PASSWORD: &str = "s3cret-PW";
/// `tollgate:s3cret-PW` in base64.
const BASIC_CREDENTIALS: &str = "Basic dG9sbGdhdGU6czNjcmV0LVBX";

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// A client for the test's own requests that never goes through an environment proxy.
fn direct_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn chat(route: &str) -> Value {
    json!({"model": route, "messages": [{"role": "user", "content": "Hello"}]})
}

/// Reads one HTTP/1.1 request: its head (request line and headers) and its body.
async fn read_request(io: &mut (impl AsyncRead + Unpin)) -> Option<(String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if io.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let length = header(&head, "content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    io.read_exact(&mut body).await.ok()?;
    Some((head, body))
}

/// The value of header `name` in a request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// A forward proxy for plain-http requests: it records each request head it receives and
/// passes the request on to `upstream` (whatever host the request names), answering with
/// the upstream's answer.
#[derive(Clone)]
struct ForwardProxy {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl ForwardProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            heads: Arc::default(),
        };
        let heads = proxy.heads.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let heads = heads.clone();
                tokio::spawn(async move {
                    let Some((head, body)) = read_request(&mut socket).await else {
                        return;
                    };
                    heads.lock().unwrap().push(head.clone());
                    let answer = forward(upstream, &head, body).await;
                    let _ = socket.write_all(&answer).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        proxy
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Sends a request received in absolute form to `upstream`, in origin form, and returns
/// the answer as HTTP/1.1 bytes.
async fn forward(upstream: SocketAddr, head: &str, body: Vec<u8>) -> Vec<u8> {
    let request_line = head.lines().next().unwrap();
    let target = request_line.split(' ').nth(1).unwrap();
    let path = target
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let mut request = direct_client().post(format!("http://{upstream}{path}"));
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if ![
                "host",
                "content-length",
                "connection",
                "proxy-authorization",
            ]
            .contains(&name.as_str())
            {
                request = request.header(name, value.trim());
            }
        }
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.bytes().await.unwrap();
    let mut answer = format!(
        "HTTP/1.1 {status} Upstream\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

#[tokio::test]
async fn a_deployment_proxy_gets_the_request_in_absolute_form_with_its_credentials() {
    let upstream = FakeServer::openai().await;
    upstream.push(Scenario::text(["Through the proxy."]).reply(Flavor::OpenAi, false));
    let proxy = ForwardProxy::start(upstream.addr()).await;
    // `upstream.invalid` never resolves: only the proxy can reach it.
    let port = upstream.addr().port();
    let text = format!(
        r#"
        [deployments.proxied]
        provider = "openai"
        model = "gpt-4o-mini"
        base_url = "http://upstream.invalid:{port}/v1"

        [deployments.proxied.http]
        proxy = "http://tollgate:${{PROXY_PASSWORD}}@{}"
        "#,
        proxy.addr
    );
    let vars = env(&[("OPENAI_API_KEY", "sk-test"), ("PROXY_PASSWORD", PASSWORD)]);
    let config = config::parse(&text, "tollgate.toml", &vars).unwrap_or_else(|e| panic!("{e}"));
    let state = tollgate_gateway::build::state_with_env(&config, &vars).unwrap();
    let gateway = start(state).await;

    let response = post_chat(&gateway, &chat("proxied")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Through the proxy."
    );

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = &heads[0];
    assert!(
        head.starts_with(&format!(
            "POST http://upstream.invalid:{port}/v1/chat/completions HTTP/1.1\r\n"
        )),
        "{head}"
    );
    assert_eq!(
        header(head, "proxy-authorization"),
        Some(BASIC_CREDENTIALS),
        "{head}"
    );
    assert_eq!(header(head, "authorization"), Some("Bearer sk-test"));
    // The upstream answered the request the proxy passed on.
    assert_eq!(upstream.request_count(), 1);
    assert_eq!(
        upstream.last_request().unwrap().path,
        "/v1/chat/completions"
    );
}

#[tokio::test]
async fn the_top_level_http_proxy_carries_anthropic_and_gemini_traffic_too() {
    for (flavor, provider, model, path) in [
        (
            Flavor::Anthropic,
            "anthropic",
            "claude-haiku-4-5",
            "/v1/messages",
        ),
        (
            Flavor::Gemini,
            "gemini",
            "gemini-2.5-flash",
            "/v1beta/models/gemini-2.5-flash:generateContent",
        ),
    ] {
        let upstream = FakeServer::start(flavor).await;
        upstream.push(Scenario::text(["Proxied."]).reply(flavor, false));
        let proxy = ForwardProxy::start(upstream.addr()).await;
        let port = upstream.addr().port();
        let text = format!(
            r#"
            [http]
            proxy = "http://tollgate:${{PROXY_PASSWORD}}@{}"

            [deployments.proxied]
            provider = "{provider}"
            model = "{model}"
            base_url = "http://upstream.invalid:{port}"
            "#,
            proxy.addr
        );
        let vars = env(&[
            ("ANTHROPIC_API_KEY", "sk-ant-test"),
            ("GEMINI_API_KEY", "gm-test"),
            ("PROXY_PASSWORD", PASSWORD),
        ]);
        let config = config::parse(&text, "tollgate.toml", &vars).unwrap_or_else(|e| panic!("{e}"));
        let state = tollgate_gateway::build::state_with_env(&config, &vars).unwrap();
        let gateway = start(state).await;

        let response = post_chat(&gateway, &chat("proxied")).await;
        assert_eq!(response.status(), 200, "{provider}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["choices"][0]["message"]["content"], "Proxied.");
        let heads = proxy.heads();
        assert_eq!(heads.len(), 1, "{provider}: {heads:?}");
        assert!(
            heads[0].starts_with(&format!("POST http://upstream.invalid:{port}{path}")),
            "{provider}: {heads:?}"
        );
        assert_eq!(
            header(&heads[0], "proxy-authorization"),
            Some(BASIC_CREDENTIALS)
        );
    }
}

/// A `tollgate serve` child process, killed when dropped.
struct ChildGateway {
    child: std::process::Child,
    addr: SocketAddr,
    config: std::path::PathBuf,
}

impl ChildGateway {
    /// Runs `tollgate serve` on `config_text` with exactly the environment `vars`, and
    /// waits until it listens.
    fn spawn(name: &str, config_text: &str, vars: &[(&str, &str)]) -> Self {
        let config =
            std::env::temp_dir().join(format!("tollgate-{name}-{}.toml", std::process::id()));
        std::fs::write(&config, config_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .args(["--listen", "127.0.0.1:0"])
            .env_clear()
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("tollgate exited before listening:\n{seen}");
            };
            if let Some((_, rest)) = line.split_once("tollgate is listening: POST http://") {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
            seen.push_str(&line);
            seen.push('\n');
        };
        // Keep reading, so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            addr,
            config,
        }
    }
}

impl Drop for ChildGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_none_goes_direct_although_http_proxy_is_set() {
    let upstream = FakeServer::openai().await;
    upstream.set_default(Scenario::text(["Hi."]).reply(Flavor::OpenAi, false));
    // The proxy the environment names: it passes requests on, and counts them.
    let env_proxy = ForwardProxy::start(upstream.addr()).await;
    let base_url = upstream.base_url();
    let text = format!(
        r#"
        [deployments.direct]
        provider = "openai"
        model = "gpt-4o-mini"
        base_url = "{base_url}"
        http = {{ proxy = "none" }}

        [deployments.from-env]
        provider = "openai"
        model = "gpt-4o-mini"
        base_url = "{base_url}"
        "#
    );
    let http_proxy = format!("http://{}", env_proxy.addr);
    let gateway = tokio::task::spawn_blocking(move || {
        let vars = [
            ("OPENAI_API_KEY", "sk-test"),
            ("HTTP_PROXY", http_proxy.as_str()),
            ("RUST_LOG", "info"),
        ];
        ChildGateway::spawn("proxy-none", &text, &vars)
    })
    .await
    .unwrap();
    let url = format!("http://{}/v1/chat/completions", gateway.addr);
    let client = direct_client();

    let response = client
        .post(&url)
        .json(&chat("direct"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.request_count(), 1);
    assert!(env_proxy.heads().is_empty(), "{:?}", env_proxy.heads());

    // The control: without `proxy`, the same gateway does use HTTP_PROXY.
    let response = client
        .post(&url)
        .json(&chat("from-env"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.request_count(), 2);
    let heads = env_proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with(&format!(
            "POST http://{}/v1/chat/completions HTTP/1.1\r\n",
            upstream.addr()
        )),
        "{heads:?}"
    );
    assert_eq!(header(&heads[0], "proxy-authorization"), None);
}

const COMPLETION: &str = r#"{"id":"chatcmpl-tls","object":"chat.completion","created":1,"model":"llama","choices":[{"index":0,"message":{"role":"assistant","content":"Over TLS."},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

/// An https server on 127.0.0.1 with a certificate signed by the test CA, answering
/// every request with a chat completion; returns its port and how many requests it read
/// (none when the client refused its certificate).
async fn tls_upstream() -> (u16, Arc<Mutex<usize>>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certificates = CertificateDer::pem_file_iter(data("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(Mutex::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if read_request(&mut tls).await.is_none() {
                    return;
                }
                *count.lock().unwrap() += 1;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{COMPLETION}",
                    COMPLETION.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, served)
}

/// A gateway with one self-hosted https deployment on `port`, trusting `ca_file` if given.
async fn self_hosted_gateway(
    port: u16,
    ca_file: Option<&str>,
) -> tollgate_gateway::server::RunningGateway {
    let ca_line = ca_file.map_or_else(String::new, |path| format!("ca_file = \"{path}\""));
    let text = format!(
        r#"
        [deployments.self-hosted]
        provider = "vllm"
        model = "llama"
        base_url = "https://127.0.0.1:{port}/v1"

        [deployments.self-hosted.http]
        proxy = "none"
        {ca_line}
        "#
    );
    let vars = env(&[]);
    let config = config::parse(&text, "tollgate.toml", &vars).unwrap_or_else(|e| panic!("{e}"));
    start(tollgate_gateway::build::state_with_env(&config, &vars).unwrap()).await
}

#[tokio::test]
async fn ca_file_makes_an_https_upstream_signed_by_a_private_ca_trusted() {
    let (port, served) = tls_upstream().await;
    let gateway = self_hosted_gateway(port, Some(&data("ca.pem"))).await;
    let response = post_chat(&gateway, &chat("self-hosted")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Over TLS.");
    assert_eq!(*served.lock().unwrap(), 1);
}

#[tokio::test]
async fn without_ca_file_the_same_upstream_is_a_502_transport_error() {
    let (port, served) = tls_upstream().await;
    let gateway = self_hosted_gateway(port, None).await;
    let response = post_chat(&gateway, &chat("self-hosted")).await;
    assert_eq!(response.status(), 502);
    let error = error_of(response).await;
    assert_eq!(error["code"], "transport", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("could not connect") && message.contains("certificate"),
        "{message}"
    );
    assert_eq!(*served.lock().unwrap(), 0, "no request may be sent");
}
