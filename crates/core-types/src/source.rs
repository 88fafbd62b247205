use std::borrow::Cow;
use std::future::Future;
use std::time::SystemTime;

use crate::error::Kinded;

/// Something with an optional expiry instant (`None` = does not expire).
pub trait Expiring {
    /// When it stops being valid.
    fn expiry(&self) -> Option<SystemTime>;
}

/// An upstream that can produce a fresh credential: an SSO role, a Cognito refresh token, an
/// OAuth client, an STS call. `cred-store`'s refreshing cache wraps one and decides *when* to
/// call it; the source only knows *how*.
pub trait CredentialSource: Send + Sync + 'static {
    /// What it produces ([`crate::AwsCredentials`], [`crate::TokenSet`], ...).
    type Output: Expiring + Clone + Send + Sync + 'static;
    /// Its error; the kind decides whether the cache may retry or serve a stale value.
    type Error: Kinded;

    /// A stable, non-secret name for logs and cache keys (e.g. `sso:my-profile`).
    fn name(&self) -> Cow<'_, str>;

    /// Obtains a fresh credential from upstream.
    fn fetch(&self) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;

    /// Obtains a fresh credential given the one the cache holds now (`previous`, read under
    /// the cache's refresh lock, so it is the latest any process has stored). A source whose
    /// refresh spends something in the previous value (a rotating refresh token) overrides
    /// this to use it; the default ignores it and calls [`CredentialSource::fetch`].
    fn refresh(
        &self,
        previous: Option<&Self::Output>,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send {
        let _ = previous;
        self.fetch()
    }

    /// Whether a refresh spends something machines share (a rotating refresh token, whose
    /// second spend makes the provider revoke the whole family). A cache with a fleet level
    /// then never refreshes such a source on one machine alone while the fleet cannot be
    /// reached, unless told it may. Default: no (STS roles, client credentials).
    fn spends_rotating_token(&self) -> bool {
        false
    }
}
