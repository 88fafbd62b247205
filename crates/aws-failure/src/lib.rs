#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use core_types::{CallFailure, ErrorKind, Kinded, describe_foreign_body, innermost_cause};

pub use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
pub use aws_smithy_runtime_api::client::result::SdkError;
pub use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The kind an HTTP status says, when the body names no error code.
pub fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::NotAuthorized,
        403 => ErrorKind::AccessDenied,
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

/// The request id AWS sent (`x-amzn-requestid`, or S3's `x-amz-request-id`).
fn request_id(raw: &HttpResponse) -> Option<&str> {
    let h = raw.headers();
    h.get("x-amzn-requestid").or_else(|| h.get("x-amzn-request-id")).or_else(|| h.get("x-amz-request-id"))
}

/// The facts of a failed AWS SDK call: the service's code and message when it answered as
/// AWS does; otherwise the HTTP status and what the body was; or what happened instead of an
/// answer.
pub fn call_failure<E>(service: &str, operation: &str, e: &SdkError<E, HttpResponse>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure =
        |kind| CallFailure::new(service, operation, kind).with_request_id(e.raw_response().and_then(request_id));
    let foreign = |raw: &HttpResponse| {
        let status = raw.status().as_u16();
        let body = raw.body().bytes().unwrap_or_default();
        // an AWS error in the body is the service's answer whatever the Content-Type says
        // (moto labels its XML errors text/html; boto3 reads the code, so do we)
        if let Some((code, message)) = aws_error_in_body(body) {
            return failure(kind_of_status(status)).with_status(status).with_code(Some(&code), message.as_deref());
        }
        failure(kind_of_status(status))
            .with_status(status)
            .with_summary(describe_foreign_body(raw.headers().get("content-type"), body))
    };
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            if err.code().is_some() {
                let status = ctx.raw().status().as_u16();
                failure(kind_of_status(status)).with_status(status).with_code(err.code(), err.message())
            } else {
                foreign(ctx.raw())
            }
        }
        SdkError::ResponseError(ctx) => foreign(ctx.raw()),
        SdkError::TimeoutError(_) => {
            // the innermost cause names the deadline ("operation attempt timeout ... after 1s")
            let root = innermost_cause(std::error::Error::source(e));
            failure(ErrorKind::Unavailable).with_summary(root.unwrap_or_else(|| "no answer within the deadline".into()))
        }
        SdkError::DispatchFailure(d) => {
            // the innermost cause says what happened (refused, no credentials, ...)
            let root = innermost_cause(d.as_connector_error().and_then(|c| std::error::Error::source(c)));
            let what = if d.is_timeout() {
                "no answer within the deadline".to_owned()
            } else if d.is_io() {
                root.map_or_else(|| "could not connect".to_owned(), |r| format!("could not connect ({r})"))
            } else {
                root.map_or_else(|| "the request could not be sent".to_owned(), |r| format!("not sent: {r}"))
            };
            failure(ErrorKind::Unavailable).with_summary(what)
        }
        SdkError::ConstructionFailure(_) => failure(ErrorKind::Other).with_summary("the request could not be built"),
        _ => failure(ErrorKind::Other).with_summary("the call failed"),
    }
}

/// The code and message of an AWS error body in any of the protocols' shapes: XML
/// (`<Error><Code>…</Code><Message>…</Message>`, query and REST-XML) or JSON (`__type` or
/// `code`, and `message`/`Message`), read without trusting the Content-Type.
fn aws_error_in_body(body: &[u8]) -> Option<(String, Option<String>)> {
    let text = std::str::from_utf8(&body[..body.len().min(64 * 1024)]).ok()?.trim_start();
    if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let code = v.get("__type").or_else(|| v.get("code")).or_else(|| v.get("Code"))?.as_str()?;
        // `__type` may be `namespace#Code`
        let code = code.rsplit('#').next().unwrap_or(code).split(':').next().unwrap_or(code).trim();
        let message = v.get("message").or_else(|| v.get("Message")).and_then(|m| m.as_str()).map(str::to_owned);
        return (!code.is_empty()).then(|| (code.to_owned(), message));
    }
    if !text.starts_with('<') {
        return None;
    }
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].trim().to_owned())
    };
    let code = tag("Code").filter(|c| !c.is_empty() && !c.contains('<'))?;
    Some((code, tag("Message")))
}

/// A failed AWS call: its facts (the `Display`) and the SDK's error (the `source()`).
#[derive(Debug, thiserror::Error)]
#[error("{failure}")]
pub struct AwsCallError {
    failure: Box<CallFailure>,
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync>,
}

impl AwsCallError {
    /// The facts of `e`, a failed `operation` of `service`, keeping `e` as the cause.
    pub fn new<E>(service: &str, operation: &str, e: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Self { failure: Box::new(call_failure(service, operation, &e)), cause: Box::new(e) }
    }

    /// With the kind the caller reads into the service's answer (e.g. Cognito's
    /// `NotAuthorizedException` for an expired refresh token is "sign in again").
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.failure.kind = kind;
        self
    }

    /// The facts.
    pub fn failure(&self) -> &CallFailure {
        &self.failure
    }
}

impl Kinded for AwsCallError {
    fn kind(&self) -> ErrorKind {
        self.failure.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn answer(status: u16, content_type: &str, body: &'static str) -> HttpResponse {
        let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
        r.headers_mut().insert("content-type", content_type.to_owned());
        r.headers_mut().insert("x-amzn-requestid", "req-42".to_owned());
        r
    }

    #[test]
    fn an_aws_answer_keeps_its_code_a_foreign_one_its_shape() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let meta = aws_smithy_types::error::ErrorMetadata::builder().code("ExpiredToken").message("expired").build();
        let e: SdkError<GetCallerIdentityError, HttpResponse> =
            SdkError::service_error(GetCallerIdentityError::generic(meta), answer(400, "text/xml", "<ErrorResponse/>"));
        let f = call_failure("STS", "GetCallerIdentity", &e);
        assert_eq!(f.code.as_deref(), Some("ExpiredToken"));
        assert_eq!(f.kind, ErrorKind::ExpiredToken);
        assert_eq!(f.request_id.as_deref(), Some("req-42"));
        assert_eq!(f.http_status, Some(400));

        let e: SdkError<GetCallerIdentityError, HttpResponse> = SdkError::service_error(
            GetCallerIdentityError::generic(aws_smithy_types::error::ErrorMetadata::builder().build()),
            answer(502, "text/html", "<html>bad gateway</html>"),
        );
        let err = AwsCallError::new("STS", "GetCallerIdentity", e);
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.to_string().contains("HTTP 502") && err.to_string().contains("HTML"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.with_kind(ErrorKind::NotAuthorized).kind(), ErrorKind::NotAuthorized);
    }

    /// moto's XML error labelled text/html is still the service's answer: its code is read,
    /// as boto3 reads it (SignatureDoesNotMatch), not called an HTML page.
    #[test]
    fn an_aws_error_body_is_read_whatever_its_content_type() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let no_code = || GetCallerIdentityError::generic(aws_smithy_types::error::ErrorMetadata::builder().build());
        let xml = "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error></ErrorResponse>";
        let f = call_failure(
            "STS",
            "AssumeRole",
            &SdkError::service_error(no_code(), answer(403, "text/html; charset=utf-8", xml)),
        );
        assert_eq!(f.code.as_deref(), Some("SignatureDoesNotMatch"), "{f}");
        assert!(f.to_string().contains("The request signature"), "{f}");
        let json = r#"{"__type":"com.amazon.coral#AccessDeniedException","message":"nope"}"#;
        let f = call_failure("X", "Y", &SdkError::service_error(no_code(), answer(400, "text/plain", json)));
        assert_eq!((f.code.as_deref(), f.kind), (Some("AccessDeniedException"), ErrorKind::AccessDenied), "{f}");
    }

    #[test]
    fn an_answer_without_a_code_is_described_not_parsed() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        let no_code = || GetCallerIdentityError::generic(aws_smithy_types::error::ErrorMetadata::builder().build());
        let mut html = answer(500, "text/html", "<!doctype html><p>boom");
        html.headers_mut().insert("x-amzn-requestid", "req-9".to_owned());
        let f = call_failure("Cognito", "RevokeToken", &SdkError::service_error(no_code(), html));
        assert_eq!(f.to_string(), "Cognito RevokeToken: HTTP 500: an HTML page, not an AWS answer");
        assert_eq!(f.request_id.as_deref(), Some("req-9"));
        // with a code, the service's words
        let meta = aws_smithy_types::error::ErrorMetadata::builder().code("AccessDenied").message("no").build();
        let e: SdkError<GetCallerIdentityError, HttpResponse> =
            SdkError::service_error(GetCallerIdentityError::generic(meta), answer(400, "text/xml", ""));
        let f = call_failure("S", "O", &e);
        assert_eq!(f.to_string(), "S O: AccessDenied: no");
        assert_eq!(f.http_status, Some(400));
    }
}
