//! The loopback HTTP/1.1 server under the protocol stubs: accept, serve each connection with
//! `handler`, until the returned task is aborted.

use std::convert::Infallible;
use std::future::Future;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite};

/// Starts serving plain HTTP on a free 127.0.0.1 port; returns the base URL and the accept task.
pub async fn serve<F, Fut>(handler: F) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    serve_on(handler, None).await
}

/// Like [`serve`], over TLS with `acceptor`; the URL is `https://localhost:PORT`.
pub async fn serve_tls<F, Fut>(handler: F, acceptor: tokio_rustls::TlsAcceptor) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    serve_on(handler, Some(acceptor)).await
}

async fn serve_on<F, Fut>(handler: F, tls: Option<tokio_rustls::TlsAcceptor>) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let url = match tls {
        Some(_) => format!("https://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            connection(stream, handler).await;
                        }
                    }
                    None => connection(stream, handler).await,
                }
            });
        }
    });
    (url, task)
}

async fn connection<S, F, Fut>(stream: S, handler: F)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(handler))
        .await;
}

/// What an upstream answered a request a stub passed on.
#[derive(Debug)]
pub struct Forwarded {
    /// The HTTP status (502 when the upstream could not be reached).
    pub status: u16,
    /// Its Content-Type (`text/xml` when it gave none).
    pub content_type: String,
    /// Its body.
    pub body: Bytes,
}

/// Sends `req` and reads the answer; `who` names the stub in the 502 of an upstream that
/// cannot be reached.
pub async fn send(req: reqwest::RequestBuilder, who: &str) -> Forwarded {
    match req.send().await {
        Ok(resp) => Forwarded {
            status: resp.status().as_u16(),
            content_type: resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/xml")
                .to_owned(),
            body: resp.bytes().await.unwrap_or_default(),
        },
        Err(e) => Forwarded {
            status: 502,
            content_type: "text/plain".into(),
            body: Bytes::from(format!("{who} could not reach its upstream: {e}")),
        },
    }
}

/// Passes a request (`parts`, `body`) on to `upstream` with its headers as they came, the
/// Host the client signed included (an endpoint behind that verifies signatures sees what was
/// signed), and returns the answer.
pub async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    parts: &hyper::http::request::Parts,
    body: Bytes,
    who: &str,
) -> Forwarded {
    let url = format!("{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut req = http.request(parts.method.clone(), url).body(body);
    for (k, v) in &parts.headers {
        if k != "content-length" {
            req = req.header(k, v);
        }
    }
    send(req, who).await
}

impl Forwarded {
    /// The answer as a response to the stub's own client.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        Response::builder()
            .status(self.status)
            .header("content-type", self.content_type)
            .body(Full::new(self.body))
            .unwrap_or_default()
    }
}
