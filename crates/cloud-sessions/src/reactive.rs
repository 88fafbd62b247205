//! Reactive refresh (seed 001's AutoRefreshSession): a credential the cache still believes
//! valid but AWS refuses (its session revoked, or a skewed clock) is renewed once and the call
//! retried once. A retry classifier ([`ReactiveRefresh`], added to a client's config) sees the
//! refusal (`ExpiredToken`, `ExpiredTokenException`, `RequestExpired`, `InvalidClientTokenId`)
//! and marks the key the session's provider last gave (the request itself is gone by then);
//! the provider then renews that key's credentials before the retry signs. A key that came from such a renewal and is refused
//! again is not renewed again: the second refusal is returned, so it never loops.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, error::CredentialsError, future};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_types::retry::ErrorKind;

use crate::renew::Renewer;

/// The refusals that mean "these credentials are no longer good", not "you may not".
const REFUSED_CREDENTIAL: [&str; 4] =
    ["ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId"];

#[derive(Default)]
struct Marks {
    /// The key the provider gave last (what a refused request was signed with).
    last: Option<String>,
    /// A refused key whose credentials the next provide renews.
    pending: Option<String>,
    /// Keys already refused once (a second refusal of the same key is returned).
    refused: HashSet<String>,
    /// Keys a reactive renewal gave (their refusal is returned, never renewed again).
    renewed: HashSet<String>,
    /// Reactive renewals done.
    renewals: usize,
}

struct State {
    renewer: Option<Renewer>,
    marks: Mutex<Marks>,
}

impl State {
    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The retry classifier of a session's reactive refresh: add it to a client built from the
/// session's `SdkConfig` (`aws_sdk_s3::config::Builder::from(session.sdk_config())
/// .retry_classifier(session.reactive_refresh())`). The client's retry policy must allow a
/// second attempt (the SDKs' standard one does).
#[derive(Clone)]
pub struct ReactiveRefresh {
    state: Arc<State>,
}

impl std::fmt::Debug for ReactiveRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactiveRefresh").field("renewals", &self.renewals()).finish_non_exhaustive()
    }
}

impl ReactiveRefresh {
    /// How many times a refused credential was renewed.
    pub fn renewals(&self) -> usize {
        self.state.marks().renewals
    }
}

/// A session's provider behind its reactive refresh, and the classifier that drives it.
pub(crate) fn wrap(
    provider: SharedCredentialsProvider,
    renewer: Option<Renewer>,
) -> (SharedCredentialsProvider, ReactiveRefresh) {
    let state = Arc::new(State { renewer, marks: Mutex::new(Marks::default()) });
    let wrapped = SharedCredentialsProvider::new(ReactiveProvider { inner: provider, state: state.clone() });
    (wrapped, ReactiveRefresh { state })
}

/// The error code of an AWS error response: the `x-amzn-ErrorType` header, else the body's
/// (query/XML protocols: `<Code>`; JSON protocols: `__type` or `code`, namespace dropped).
fn error_code(ctx: &InterceptorContext) -> Option<String> {
    let response = ctx.response()?;
    if !matches!(response.status().as_u16(), 400 | 401 | 403) {
        return None;
    }
    let strip = |c: &str| c.split(':').next().unwrap_or(c).rsplit('#').next().unwrap_or(c).trim().to_owned();
    if let Some(t) = response.headers().get("x-amzn-errortype") {
        return Some(strip(t));
    }
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    if let Some(start) = body.find("<Code>") {
        let rest = &body[start + "<Code>".len()..];
        return rest.find("</Code>").map(|end| rest[..end].trim().to_owned());
    }
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json.get("__type").or_else(|| json.get("code")).and_then(|v| v.as_str()).map(strip)
}

impl ClassifyRetry for ReactiveRefresh {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(code) = error_code(ctx) else { return RetryAction::NoActionIndicated };
        if !REFUSED_CREDENTIAL.contains(&code.as_str()) {
            return RetryAction::NoActionIndicated;
        }
        let mut marks = self.state.marks();
        let Some(key) = marks.last.clone() else { return RetryAction::NoActionIndicated };
        // the runtime may ask twice about one response: the same answer
        if marks.pending.as_deref() == Some(key.as_str()) {
            return RetryAction::retryable_error(ErrorKind::TransientError);
        }
        // nothing to renew (fixed keys, another tool's credentials), or already renewed once
        if self.state.renewer.is_none() || marks.renewed.contains(&key) || !marks.refused.insert(key.clone()) {
            return RetryAction::RetryForbidden;
        }
        tracing::info!(code = %code, "AWS refused a credential the cache held valid; renewing it once and retrying");
        marks.pending = Some(key);
        RetryAction::retryable_error(ErrorKind::TransientError)
    }

    fn name(&self) -> &'static str {
        "ccc reactive refresh"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::modeled_as_retryable_classifier())
    }
}

/// A session's provider: its credentials, renewed first when the classifier marked the key
/// they carry as refused.
struct ReactiveProvider {
    inner: SharedCredentialsProvider,
    state: Arc<State>,
}

impl std::fmt::Debug for ReactiveProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactiveProvider").finish_non_exhaustive()
    }
}

impl ProvideCredentials for ReactiveProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let current = self.inner.provide_credentials().await?;
            let pending = self.state.marks().pending.take();
            let (Some(refused), Some(renewer)) = (pending, &self.state.renewer) else {
                self.state.marks().last = Some(current.access_key_id().to_owned());
                return Ok(current);
            };
            if current.access_key_id() != refused {
                // renewed meanwhile (by its window, or another caller)
                self.state.marks().last = Some(current.access_key_id().to_owned());
                return Ok(current);
            }
            let fresh = (renewer.fetch)().await.map_err(CredentialsError::provider_error)?;
            (renewer.seed)(fresh.clone()).await.map_err(CredentialsError::provider_error)?;
            let key = core_types::ExposeSecret::expose_secret(fresh.access_key_id()).to_owned();
            let mut marks = self.state.marks();
            marks.renewals += 1;
            marks.renewed.insert(key.clone());
            marks.last = Some(key);
            Ok(cred_store::to_sdk_credentials(&fresh))
        })
    }
}
