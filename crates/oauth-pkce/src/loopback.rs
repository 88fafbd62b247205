//! The loopback redirect for command-line sign-in (RFC 8252 §7.3): listen on 127.0.0.1 on a
//! free port, let the browser come back with the code once, show a short page, exchange.

use std::time::Duration;

use core_types::TokenSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

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

impl OAuthClient {
    /// Signs in through the browser: `open` gets the authorization URL (return `false` when
    /// no browser could be opened, after showing the URL to the user). Exactly one callback
    /// with the right `state` is accepted; anything else at the port is answered 404.
    pub async fn login_with_loopback(
        &self,
        open: impl FnOnce(&Url) -> bool,
        timeout: Duration,
    ) -> Result<TokenSet, OAuthError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| OAuthError::Unavailable(format!("cannot listen on loopback: {e}")))?;
        let port = listener.local_addr().map_err(|e| OAuthError::Unavailable(e.to_string()))?.port();
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let (url, verifier, state) = self.authorization_url_for(Some(&redirect))?;
        if !open(&url) {
            tracing::info!("no browser opened; waiting for the user to open the URL");
        }
        let wait = async {
            loop {
                let (mut stream, _) = listener.accept().await.map_err(|e| OAuthError::Unavailable(e.to_string()))?;
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let Ok(parsed) = Url::parse(&format!("http://127.0.0.1{target}")) else { continue };
                if parsed.path() != "/callback" {
                    reply(&mut stream, "404 Not Found", "not found").await;
                    continue;
                }
                let q: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
                if let Some(err) = q.get("error") {
                    reply(&mut stream, "200 OK", FAILED_PAGE).await;
                    return Err(from_code(err, q.get("error_description").map(String::as_str)));
                }
                match (q.get("code"), q.get("state")) {
                    (Some(code), Some(st)) => {
                        reply(&mut stream, "200 OK", DONE_PAGE).await;
                        return Ok((code.clone(), st.clone()));
                    }
                    _ => {
                        reply(&mut stream, "400 Bad Request", FAILED_PAGE).await;
                        return Err(OAuthError::Invalid("the redirect carried no code".into()));
                    }
                }
            }
        };
        let (code, returned) = tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| OAuthError::Timeout(format!("no browser sign-in within {timeout:?}")))??;
        self.exchange_code_for(&code, verifier, &returned, &state, Some(&redirect)).await
    }
}
