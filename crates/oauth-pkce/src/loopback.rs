//! The loopback redirect for command-line sign-in (RFC 8252 §7.3): listen on 127.0.0.1 on a
//! free port, let the browser come back with the code once, show a short page, exchange.

use std::convert::Infallible;
use std::time::Duration;

use core_types::TokenSet;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use url::Url;

use core_types::constant_time_eq;

use crate::client::OAuthClient;
use crate::error::{OAuthError, from_code};

const DONE_PAGE: &str =
    "<!doctype html><title>Signed in</title><p>Signed in. You can close this tab and return to the terminal.</p>";
const FAILED_PAGE: &str =
    "<!doctype html><title>Sign-in failed</title><p>Sign-in did not complete. Return to the terminal for details.</p>";

/// How long one connection to the loopback listener may take to send its request head: an
/// idle connection (a port scanner, a browser's speculative pre-connect) must not hold the door.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest request head read (hyper's smallest buffer): a longer one is refused with 431.
const MAX_HEAD: usize = 8192;

/// What a callback carried, decided on its own connection.
enum Callback {
    /// The right state: the code.
    Code(String),
    /// The right state: the provider's error.
    Error(OAuthError),
}

/// Text from a request, safe to print on a terminal: control characters (escape sequences
/// a forged request could carry) are dropped.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The answer to a request for `target`, and the callback it carried. Only a callback whose
/// `state` matches (compared in constant time) counts; anything else — another path, a missing
/// or wrong state (a forged callback from another local process or a web page) — is answered
/// and ignored, and the sign-in goes on waiting.
fn decide(target: &str, expected_state: &str) -> (u16, &'static str, Option<Callback>) {
    let Ok(parsed) = Url::parse(&format!("http://127.0.0.1{target}")) else {
        return (400, "bad request", None);
    };
    if parsed.path() != "/callback" {
        return (404, "not found", None);
    }
    let q: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let state_ok = q.get("state").is_some_and(|st| constant_time_eq(st.as_bytes(), expected_state.as_bytes()));
    if !state_ok {
        tracing::warn!("ignored a callback that does not belong to this sign-in (wrong or missing state)");
        return (400, FAILED_PAGE, None);
    }
    if let Some(err) = q.get("error") {
        let description = q.get("error_description").map(|d| printable(d));
        return (200, FAILED_PAGE, Some(Callback::Error(from_code(&printable(err), description.as_deref()))));
    }
    match q.get("code") {
        Some(code) => (200, DONE_PAGE, Some(Callback::Code(code.clone()))),
        None => (400, FAILED_PAGE, Some(Callback::Error(OAuthError::Invalid("the redirect carried no code".into())))),
    }
}

/// Serves one connection with hyper (one request: the head within [`READ_TIMEOUT`] and
/// [`MAX_HEAD`]); the callback it carried, if any, goes to `found`.
async fn serve_one(stream: tokio::net::TcpStream, expected_state: String, found: tokio::sync::mpsc::Sender<Callback>) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let (status, page, callback) = decide(&target, &expected_state);
        let found = found.clone();
        async move {
            if let Some(c) = callback {
                let _ = found.send(c).await;
            }
            let answer = Response::builder()
                .status(status)
                .header("content-type", "text/html; charset=utf-8")
                .header("connection", "close")
                .body(Full::new(Bytes::from_static(page.as_bytes())))
                .unwrap_or_default();
            Ok::<_, Infallible>(answer)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

impl OAuthClient {
    /// Signs in through the browser: `open` gets the authorization URL (return `false` when
    /// no browser could be opened, after showing the URL to the user). Exactly one callback
    /// with the right `state` is accepted; anything else at the port is answered and
    /// ignored, and each connection is served on its own, so an idle one blocks nothing.
    pub async fn login_with_loopback(
        &self,
        open: impl FnOnce(&Url) -> bool,
        timeout: Duration,
    ) -> Result<TokenSet, OAuthError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| OAuthError::transport("cannot listen on loopback", e))?;
        let port = listener.local_addr().map_err(|e| OAuthError::transport("loopback listener", e))?.port();
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let (url, verifier, state) = self.authorization_url_for(Some(&redirect))?;
        if !open(&url) {
            tracing::info!("no browser opened; waiting for the user to open the URL");
        }
        let expected = state.secret().to_owned();
        let wait = async {
            // each connection on its own task: an idle or slow one blocks nothing
            let (found, mut callbacks) = tokio::sync::mpsc::channel(4);
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let (stream, _) = accepted.map_err(|e| OAuthError::transport("loopback listener", e))?;
                        connections.spawn(serve_one(stream, expected.clone(), found.clone()));
                    }
                    Some(callback) = callbacks.recv() => match callback {
                        Callback::Code(code) => return Ok(code),
                        Callback::Error(e) => return Err(e),
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        };
        let code = tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| OAuthError::Timeout(format!("no browser sign-in within {} s", timeout.as_secs())))??;
        self.exchange_code_for(&code, verifier, &expected, &state, Some(&redirect)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn request(port: u16, head: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _ = s.write_all(head.as_bytes()).await;
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    }

    fn get(target: &str) -> String {
        format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n")
    }

    /// An idle connection, a forged callback and a 1 MiB header neither end nor block the
    /// sign-in; the provider's error and then the right code are what count.
    #[tokio::test]
    async fn forged_idle_and_oversized_requests_do_not_end_or_block_a_sign_in() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (found, mut callbacks) = tokio::sync::mpsc::channel(8);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(serve_one(stream, "the-state".into(), found.clone()));
            }
        });
        // an idle connection first: it must not stop the others being served
        let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let forged = request(port, &get("/callback?code=evil&state=guess")).await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        let huge = format!("GET /callback?code=big&state=the-state HTTP/1.1\r\nx-big: {}\r\n\r\n", "a".repeat(1 << 20));
        let refused = request(port, &huge).await;
        assert!(refused.starts_with("HTTP/1.1 431"), "{}", &refused[..refused.len().min(80)]);
        let error =
            request(port, &get("/callback?error=access_denied%1b%5b31m&error_description=x%07y&state=the-state")).await;
        assert!(error.starts_with("HTTP/1.1 200"), "{error}");
        let good = request(port, &get("/callback?code=real&state=the-state")).await;
        assert!(good.contains("Signed in"), "{good}");
        match callbacks.recv().await {
            Some(Callback::Error(e)) => {
                let shown = e.to_string();
                assert!(!shown.chars().any(char::is_control), "{shown:?}");
            }
            _ => panic!("the provider's error was not reported first"),
        }
        assert!(
            matches!(callbacks.recv().await, Some(Callback::Code(c)) if c == "real"),
            "only the right callbacks count"
        );
    }

    #[test]
    fn printable_drops_escape_sequences() {
        assert_eq!(printable("a\u{1b}[31mb\r\nc"), "a[31mbc");
    }
}
