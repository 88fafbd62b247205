//! The HTTP client the `oauth2` crate drives: our one reqwest (rustls), so the workspace keeps
//! one HTTP stack instead of the crate's older reqwest.

use std::future::Future;

/// A transport failure (no HTTP response).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

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
            let resp = r.send().await.map_err(|e| HttpError(format!("request failed: {}", without_url(&e))))?;
            let status = resp.status();
            // 5xx and 429 are the provider being unwell, not an OAuth answer: a transport error
            // (retryable), instead of an unparsable token response
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| format!(" (Retry-After: {v})"))
                    .unwrap_or_default();
                return Err(HttpError(format!("the provider answered HTTP {status}{retry_after}")));
            }
            let mut builder = http_response_builder(resp.status().as_u16());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let bytes = resp.bytes().await.map_err(|e| HttpError(format!("reading response: {}", without_url(&e))))?;
            builder.body(bytes.to_vec()).map_err(|e| HttpError(e.to_string()))
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
