//! azure_core's HTTP and process hooks, served by our reqwest and tokio.

use std::ffi::OsStr;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::http::{AsyncRawResponse, HttpClient, Request};
use azure_identity::Executor;

/// azure_core's HTTP hook served by our reqwest (one HTTP stack, one TLS stack for the
/// whole workspace: azure_core's own reqwest feature would pull a second reqwest major).
#[derive(Debug, Clone)]
pub(crate) struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Sends through `client`.
    pub(crate) fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The default client: rustls, a connect timeout, no redirects (a bearer token never
    /// follows a redirect to another host).
    pub(crate) fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }
}

#[async_trait]
impl HttpClient for ReqwestTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use azure_core::error::ErrorKind as K;
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .map_err(|e| azure_core::Error::with_error(K::Other, e, "unsupported HTTP method"))?;
        let mut req = self.client.request(method, request.url().clone());
        for (name, value) in request.headers().iter() {
            req = req.header(name.as_str(), value.as_str());
        }
        req = match request.body() {
            azure_core::http::Body::Bytes(b) => req.body(b.clone()),
            #[allow(unreachable_patterns)] // SeekableStream exists only with some azure_core features
            _ => {
                return Err(azure_core::Error::with_message(
                    K::Other,
                    "streaming request bodies are not supported by the cloud-sessions transport",
                ));
            }
        };
        let rsp = req.send().await.map_err(|e| {
            let kind = if e.is_connect() { K::Connection } else { K::Io };
            azure_core::Error::with_error(kind, e, "the HTTP request failed")
        })?;
        let status = rsp.status().as_u16();
        let mut headers = azure_core::http::headers::Headers::new();
        for (k, v) in rsp.headers() {
            if let Ok(v) = v.to_str() {
                headers.insert(k.as_str().to_owned(), v.to_owned());
            }
        }
        let body = rsp.bytes().await.map_err(|e| azure_core::Error::with_error(K::Io, e, "reading the response"))?;
        Ok(AsyncRawResponse::from_bytes(status.into(), headers, body))
    }
}

/// Runs `az` with the `PATH` the manager was given (the process's, unless a test injects one).
#[derive(Debug)]
pub(crate) struct CliExecutor {
    pub(crate) path: Option<String>,
    pub(crate) timeout: Duration,
}

#[async_trait]
impl Executor for CliExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<std::process::Output> {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
        if let Some(p) = &self.path {
            cmd.env("PATH", p);
        }
        match tokio::time::timeout(self.timeout, cmd.output()).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "az did not answer in time")),
        }
    }
}
