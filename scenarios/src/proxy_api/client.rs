//! A small HTTP/1.1 client for the proxy API, on hyper's client connection
//! (hyper is already in the tree through axum; its `client` feature adds
//! two tiny crates). One connection per request: a scenario makes a few
//! dozen requests on loopback, and a fresh connection never trips over a
//! server that closed an idle one. Every request, connect to last body
//! byte, is bounded by the settings' timeout; a body past [`MAX_BODY`] is
//! refused before it is buffered. Bodies are JSON both ways.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::{ApiError, ApiUrl, MAX_BODY};

/// An answer: the status and the body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text, cut for an error message.
    pub fn text(&self) -> String {
        let t = String::from_utf8_lossy(&self.body);
        let t = t.trim();
        match t.char_indices().nth(300) {
            Some((i, _)) => format!("{}…", &t[..i]),
            None => t.to_owned(),
        }
    }

    /// Toxiproxy's error text, `{"error": "...", "status": N}`, or the body.
    pub fn error_text(&self) -> String {
        self.json().get("error").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| self.text())
    }
}

/// The API client.
#[derive(Debug, Clone)]
pub struct Client {
    url: ApiUrl,
    timeout: Duration,
}

impl Client {
    pub fn new(url: ApiUrl, timeout: Duration) -> Client {
        Client { url, timeout }
    }

    pub fn url(&self) -> &ApiUrl {
        &self.url
    }

    /// `METHOD PATH` with an optional JSON body, within the timeout.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, ApiError> {
        let what = format!("{method} {path}");
        match tokio::time::timeout(self.timeout, self.exchange(method, path, body, &what)).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::Timeout { url: self.url.to_string(), request: what, after: self.timeout }),
        }
    }

    /// [`request`](Self::request), and a 2xx answer required.
    pub async fn expect_ok(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, ApiError> {
        let what = format!("{method} {path}");
        let a = self.request(method, path, body).await?;
        if a.ok() {
            Ok(a)
        } else {
            Err(ApiError::Status { url: self.url.to_string(), request: what, status: a.status, body: a.error_text() })
        }
    }

    async fn exchange(&self, method: Method, path: &str, body: Option<&Value>, what: &str) -> Result<Answer, ApiError> {
        let url = self.url.to_string();
        let http = |detail: String| ApiError::Http { url: url.clone(), request: what.to_owned(), detail };
        let stream = self.connect().await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| http(e.to_string()))?;
        // The connection's driver; aborted when the exchange ends either way.
        let driver = AbortOnDrop(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let bytes = match body {
            Some(v) => Bytes::from(serde_json::to_vec(v).map_err(|e| http(e.to_string()))?),
            None => Bytes::new(),
        };
        let req = Request::builder()
            .method(method)
            .uri(self.url.path(path))
            .header(HOST, self.url.authority())
            .header(USER_AGENT, concat!("replharness/", env!("CARGO_PKG_VERSION")))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(bytes))
            .map_err(|e| http(e.to_string()))?;
        let resp = sender.send_request(req).await.map_err(|e| http(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| http(format!("reading the answer: {e} (at most {MAX_BODY} bytes are read)")))?
            .to_bytes();
        drop(driver);
        Ok(Answer { status, body })
    }

    /// Dials the API's first address that answers.
    async fn connect(&self) -> Result<TcpStream, ApiError> {
        let url = self.url.to_string();
        let mut last = None;
        for addr in self.url.socket_addrs().await? {
            match TcpStream::connect(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        let source = last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"));
        Err(ApiError::Connect { url, source })
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A server that answers one request with `reply`, and hands back what it read.
    async fn one_shot(status: &str, body: &str) -> (ApiUrl, tokio::task::JoinHandle<Vec<u8>>) {
        let reply = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}", body.len()).into_bytes();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = ApiUrl::parse(&format!("http://{}/base", l.local_addr().expect("addr"))).expect("url");
        let t = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.expect("accept");
            let mut got = vec![0u8; 4096];
            let n = s.read(&mut got).await.expect("read");
            got.truncate(n);
            let _ = s.write_all(&reply).await;
            let _ = s.shutdown().await;
            got
        });
        (url, t)
    }

    #[tokio::test]
    async fn a_request_carries_its_json_and_the_answer_reads_back() {
        let (url, t) = one_shot("201 Created", r#"{"name":"x","listen":"127.0.0.1:1"}"#).await;
        let c = Client::new(url, Duration::from_secs(5));
        let a = c.request(Method::POST, "/proxies", Some(&serde_json::json!({"name": "x"}))).await.expect("answer");
        assert_eq!(a.status, 201);
        assert_eq!(a.json()["listen"], "127.0.0.1:1");
        let sent = String::from_utf8(tokio::time::timeout(Duration::from_secs(5), t).await.expect("t").expect("j"))
            .expect("utf8");
        assert!(sent.starts_with("POST /base/proxies HTTP/1.1\r\n"), "{sent}");
        assert!(sent.to_ascii_lowercase().contains("content-type: application/json"), "{sent}");
        assert!(sent.ends_with("{\"name\":\"x\"}"), "{sent}");
    }

    #[tokio::test]
    async fn errors_name_the_request_and_the_servers_words() {
        let (url, _t) = one_shot("409 Conflict", r#"{"error":"proxy already exists","status":409}"#).await;
        let c = Client::new(url, Duration::from_secs(5));
        let e = c.expect_ok(Method::POST, "/proxies", None).await.expect_err("409").to_string();
        assert!(e.contains("POST /proxies answered 409: proxy already exists"), "{e}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_and_a_closed_port_is_refused() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = ApiUrl::parse(&format!("http://{}", l.local_addr().expect("addr"))).expect("url");
        let c = Client::new(url, Duration::from_millis(200));
        let e = c.request(Method::GET, "/version", None).await.expect_err("silent");
        assert!(matches!(e, ApiError::Timeout { .. }), "{e}");
        drop(l);
        let e = c.request(Method::GET, "/version", None).await.expect_err("closed");
        assert!(matches!(e, ApiError::Connect { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_refused() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = ApiUrl::parse(&format!("http://{}", l.local_addr().expect("addr"))).expect("url");
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", MAX_BODY + 1);
            let _ = s.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(MAX_BODY / chunk.len() + 2) {
                if s.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        });
        let c = Client::new(url, Duration::from_secs(10));
        let e = c.request(Method::GET, "/proxies", None).await.expect_err("too big").to_string();
        assert!(e.contains("at most"), "{e}");
    }
}
