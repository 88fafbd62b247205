//! The HTTP client the `oauth2` crate drives: our one reqwest (rustls), so the workspace keeps
//! one HTTP stack instead of the crate's older reqwest.

use std::future::Future;
use std::time::Duration;

use crate::OAuthError;

/// A transport failure: no HTTP response, or a 5xx / 429 that is the provider being unwell
/// rather than an OAuth answer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    message: String,
    busy: Option<Busy>,
    /// No connection was made: nothing reached the provider.
    unsent: bool,
}

/// A 5xx or 429 answer, and the wait the provider asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

impl Busy {
    /// `Some` when `resp` is a 5xx or 429.
    pub(crate) fn of(resp: &reqwest::Response) -> Option<Self> {
        let status = resp.status();
        if !(status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
            return None;
        }
        let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = header(reqwest::header::RETRY_AFTER)
            .and_then(|v| core_types::retry_after(v, header(reqwest::header::DATE)));
        Some(Self { status: status.as_u16(), retry_after })
    }
}

impl HttpError {
    fn new(message: String) -> Self {
        Self { message, busy: None, unsent: false }
    }

    /// A failed send: `unsent` when no connection was made at all.
    pub(crate) fn from_send(e: &reqwest::Error) -> Self {
        Self { message: format!("request failed: {}", without_url(e)), busy: None, unsent: e.is_connect() }
    }

    /// The error the client reports: busy (retryable, with the provider's wait), unreachable
    /// (nothing sent) or unavailable.
    pub(crate) fn into_oauth(self) -> OAuthError {
        match self.busy {
            Some(b) => OAuthError::Busy { status: b.status, retry_after: b.retry_after },
            None if self.unsent => OAuthError::Unreachable(self.message),
            None => OAuthError::Unavailable(self.message),
        }
    }
}

/// An `oauth2::AsyncHttpClient` over reqwest, never following redirects (RFC 6749 §3.2 wants
/// token responses as is).
pub(crate) fn client(
    http: &reqwest::Client,
) -> impl Fn(oauth2::HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send>>
+ '_ {
    move |req: oauth2::HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let mut r = http.request(parts.method, parts.uri.to_string()).body(body);
            for (k, v) in &parts.headers {
                r = r.header(k, v);
            }
            let resp = r.send().await.map_err(|e| HttpError::from_send(&e))?;
            // 5xx and 429 are the provider being unwell, not an OAuth answer: a transport error
            // (retryable), instead of an unparsable token response
            if let Some(busy) = Busy::of(&resp) {
                return Err(HttpError {
                    message: format!("the provider answered HTTP {}", busy.status),
                    busy: Some(busy),
                    unsent: false,
                });
            }
            let mut builder = http_response_builder(resp.status().as_u16());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let bytes =
                resp.bytes().await.map_err(|e| HttpError::new(format!("reading response: {}", without_url(&e))))?;
            builder.body(bytes.to_vec()).map_err(|e| HttpError::new(e.to_string()))
        })
    }
}

fn http_response_builder(status: u16) -> oauth2::http::response::Builder {
    oauth2::http::Response::builder().status(status)
}

/// reqwest errors name the URL; token endpoints carry no secrets in URLs, but authorization
/// responses might, so URLs are left out of messages.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "<endpoint>");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_transport_error_becomes_a_busy_oauth_error() {
        let busy = Busy { status: 503, retry_after: Some(Duration::from_secs(2)) };
        let e = HttpError { message: "the provider answered HTTP 503".into(), busy: Some(busy), unsent: false }
            .into_oauth();
        assert!(matches!(e, OAuthError::Busy { status: 503, retry_after: Some(d) } if d == Duration::from_secs(2)));
        assert!(matches!(HttpError::new("reset".into()).into_oauth(), OAuthError::Unavailable(m) if m == "reset"));
    }
}
