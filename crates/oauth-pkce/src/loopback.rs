//! The loopback redirect for command-line sign-in (RFC 8252 §7.3): listen on 127.0.0.1 on a
//! free port, let the browser come back with the code once, show a short page, exchange.

use std::time::Duration;

use core_types::TokenSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use core_types::constant_time_eq;

use crate::client::OAuthClient;
use crate::error::{OAuthError, from_code};

const DONE_PAGE: &str =
    "<!doctype html><title>Signed in</title><p>Signed in. You can close this tab and return to the terminal.</p>";
const FAILED_PAGE: &str =
    "<!doctype html><title>Sign-in failed</title><p>Sign-in did not complete. Return to the terminal for details.</p>";

async fn reply(stream: &mut tokio::net::TcpStream, status: &str, body: &str) {
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
}

/// How long one connection to the loopback listener may take to send its request: an idle
/// connection (a port scanner, a browser's speculative pre-connect) must not hold the door.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Reads one request and answers it. Only a callback whose `state` matches (compared in
/// constant time) counts; anything else — another path, a missing or wrong state (a forged
/// callback from another local process or a web page) — is answered and ignored, and the
/// sign-in goes on waiting.
async fn serve_one(mut stream: tokio::net::TcpStream, expected_state: &str) -> Option<Callback> {
    let mut buf = vec![0u8; 8192];
    let n = match tokio::time::timeout(READ_TIMEOUT, stream.read(&mut buf)).await {
        Ok(Ok(n)) => n,
        _ => return None,
    };
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let Ok(parsed) = Url::parse(&format!("http://127.0.0.1{target}")) else {
        reply(&mut stream, "400 Bad Request", "bad request").await;
        return None;
    };
    if parsed.path() != "/callback" {
        reply(&mut stream, "404 Not Found", "not found").await;
        return None;
    }
    let q: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let state_ok = q.get("state").is_some_and(|st| constant_time_eq(st.as_bytes(), expected_state.as_bytes()));
    if !state_ok {
        tracing::warn!("ignored a callback that does not belong to this sign-in (wrong or missing state)");
        reply(&mut stream, "400 Bad Request", FAILED_PAGE).await;
        return None;
    }
    if let Some(err) = q.get("error") {
        reply(&mut stream, "200 OK", FAILED_PAGE).await;
        let description = q.get("error_description").map(|d| printable(d));
        return Some(Callback::Error(from_code(&printable(err), description.as_deref())));
    }
    match q.get("code") {
        Some(code) => {
            reply(&mut stream, "200 OK", DONE_PAGE).await;
            Some(Callback::Code(code.clone()))
        }
        None => {
            reply(&mut stream, "400 Bad Request", FAILED_PAGE).await;
            Some(Callback::Error(OAuthError::Invalid("the redirect carried no code".into())))
        }
    }
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
            let mut pending = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let (stream, _) = accepted.map_err(|e| OAuthError::transport("loopback listener", e))?;
                        let expected = expected.clone();
                        pending.spawn(async move { serve_one(stream, &expected).await });
                    }
                    Some(done) = pending.join_next(), if !pending.is_empty() => {
                        match done {
                            Ok(Some(Callback::Code(code))) => return Ok(code),
                            Ok(Some(Callback::Error(e))) => return Err(e),
                            _ => {}
                        }
                    }
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

    async fn request(port: u16, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    }

    #[tokio::test]
    async fn forged_and_idle_connections_do_not_end_or_block_a_sign_in() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..4 {
                let (stream, _) = listener.accept().await.unwrap();
                results.push(tokio::spawn(async move { serve_one(stream, "the-state").await }));
            }
            let mut out = Vec::new();
            for r in results {
                out.push(r.await.unwrap());
            }
            out
        });
        // an idle connection first: it must not stop the others being served
        let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let forged = request(port, "/callback?code=evil&state=guess").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        let error =
            request(port, "/callback?error=access_denied%1b%5b31m&error_description=x%07y&state=the-state").await;
        assert!(error.starts_with("HTTP/1.1 200"), "{error}");
        let good = request(port, "/callback?code=real&state=the-state").await;
        assert!(good.contains("Signed in"), "{good}");
        let results = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap();
        assert!(results[0].is_none(), "the idle connection timed out without a callback");
        assert!(results[1].is_none(), "the forged callback was ignored");
        match &results[2] {
            Some(Callback::Error(e)) => {
                let shown = e.to_string();
                assert!(!shown.chars().any(char::is_control), "{shown:?}");
            }
            _ => panic!("the provider's error was not reported"),
        }
        assert!(matches!(&results[3], Some(Callback::Code(c)) if c == "real"));
    }

    #[test]
    fn printable_drops_escape_sequences() {
        assert_eq!(printable("a\u{1b}[31mb\r\nc"), "a[31mbc");
    }
}
