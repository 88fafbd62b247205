//! The HTTP client the `oauth2` crate drives: our one reqwest (rustls), so the workspace keeps
//! one HTTP stack instead of the crate's older reqwest.

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::OAuthError;

/// A transport failure: no HTTP response, or a 5xx / 429 that is the provider being unwell
/// rather than an OAuth answer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    message: String,
    busy: Option<Busy>,
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
        let sent = header(reqwest::header::DATE).and_then(|d| httpdate::parse_http_date(d).ok());
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(v, sent));
        Some(Self { status: status.as_u16(), retry_after })
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date measured from the
/// response's own `Date` (the server's clock, so skew between the clocks does not matter; a
/// date without a `Date` header is ignored). A date already past means "now", zero. Anything
/// else is ignored and the policy's own backoff applies.
fn parse_retry_after(v: &str, sent: Option<SystemTime>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(sent?).unwrap_or(Duration::ZERO))
}

impl HttpError {
    fn new(message: String) -> Self {
        Self { message, busy: None }
    }

    /// The error the client reports: busy (retryable, with the provider's wait) or unavailable.
    pub(crate) fn into_oauth(self) -> OAuthError {
        match self.busy {
            Some(b) => OAuthError::Busy { status: b.status, retry_after: b.retry_after },
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
            let resp = r.send().await.map_err(|e| HttpError::new(format!("request failed: {}", without_url(&e))))?;
            // 5xx and 429 are the provider being unwell, not an OAuth answer: a transport error
            // (retryable), instead of an unparsable token response
            if let Some(busy) = Busy::of(&resp) {
                return Err(HttpError {
                    message: format!("the provider answered HTTP {}", busy.status),
                    busy: Some(busy),
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
    fn retry_after_is_read_as_seconds_or_as_a_date_after_the_responses_own() {
        let sent = Some(httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap());
        assert_eq!(parse_retry_after("1", sent), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 120 ", None), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:30 GMT", sent), Some(Duration::from_secs(30)));
        // the obsolete RFC 850 and asctime forms are HTTP-dates too
        assert_eq!(parse_retry_after("Wednesday, 21-Oct-26 07:29:00 GMT", sent), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed Oct 21 07:28:05 2026", sent), Some(Duration::from_secs(5)));
        // a date already past: retry now (the policy's backoff is the floor)
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", sent), Some(Duration::ZERO));
        // a date with no Date header to measure it from: the policy decides
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:30 GMT", None), None);
        assert_eq!(parse_retry_after("-1", sent), None);
        assert_eq!(parse_retry_after("soon", sent), None);
        assert_eq!(parse_retry_after("", sent), None);
    }

    #[test]
    fn a_busy_transport_error_becomes_a_busy_oauth_error() {
        let busy = Busy { status: 503, retry_after: Some(Duration::from_secs(2)) };
        let e = HttpError { message: "the provider answered HTTP 503".into(), busy: Some(busy) }.into_oauth();
        assert!(matches!(e, OAuthError::Busy { status: 503, retry_after: Some(d) } if d == Duration::from_secs(2)));
        assert!(matches!(HttpError::new("reset".into()).into_oauth(), OAuthError::Unavailable(m) if m == "reset"));
    }
}
