//! How an `AwsSso` obtains things upstream: an SSO token (cached, silently refreshed through
//! SSO-OIDC under the cache's refresh lock, or from `aws sso login`), then role credentials.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sso::error::ProvideErrorMetadata;
use core_types::{AwsCredentials, Clock, CredentialSource, ErrorKind, ExposeSecret, RefreshPolicy, SecretString};
use cred_store::{AwsFiles, Outcome, SsoCache, SsoToken};

use crate::config::SsoConfig;
use crate::error::SsoError;
use crate::journal::Journal;
use crate::profile::SsoProfile;
use crate::runner::{CommandRunner, Sleeper};

/// How long a refresh waits for another process refreshing the same SSO token.
pub(crate) const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(45);

/// What an `AwsSso` keeps, and how it obtains tokens and role credentials.
pub(crate) struct Inner {
    pub(crate) config: SsoConfig,
    pub(crate) profile: SsoProfile,
    pub(crate) cache: SsoCache,
    pub(crate) sso: aws_sdk_sso::Client,
    pub(crate) oidc: aws_sdk_ssooidc::Client,
    pub(crate) runner: Arc<dyn CommandRunner>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) journal: Journal,
    pub(crate) refresh_window: RefreshPolicy,
    pub(crate) files: AwsFiles,
    pub(crate) write_profile: Option<String>,
}

/// A failed SSO / SSO-OIDC call as facts, the SDK's error kept as the cause.
pub(crate) fn call_error<O>(
    service: &str,
    operation: &str,
    e: aws_sdk_sso::error::SdkError<O, aws_sdk_sso::config::http::HttpResponse>,
    kind: ErrorKind,
) -> SsoError
where
    O: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    SsoError::Call(aws_failure::AwsCallError::new(service, operation, e).with_kind(kind))
}

fn is_auth_failure(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InvalidGrantException"
                | "UnauthorizedClientException"
                | "ExpiredTokenException"
                | "AccessDeniedException"
                | "InvalidClientException"
                | "UnauthorizedException"
        )
    )
}

impl Inner {
    pub(crate) fn source(&self) -> String {
        format!("sso:{}", self.profile.cache_key())
    }

    /// Records an outcome of the sign-in itself (a device sign-in, `aws sso login`, a silent
    /// token refresh): what `AWS_SSO_REFRESH_WINDOW` counts from.
    pub(crate) async fn record(&self, outcome: Outcome) {
        self.journal.record(&self.source(), &self.profile.name(), self.clock.now(), &outcome).await;
    }

    /// Records an outcome of GetRoleCredentials, apart from the sign-in's: a busy process
    /// fetches role credentials every hour, and that must not restart the window.
    async fn record_role(&self, outcome: Outcome) {
        let source = format!("{}/role", self.source());
        self.journal.record(&source, &self.profile.name(), self.clock.now(), &outcome).await;
    }

    /// A valid SSO access token: the cached one (unless `force`), else refreshed through
    /// SSO-OIDC, else from `aws sso login`. Refreshes are single-flight across processes:
    /// under the cache entry's refresh lock the file is read again, and a token another
    /// process refreshed meanwhile is used instead of spending the refresh token again.
    pub(crate) async fn obtain_token(&self, force: bool) -> Result<SsoToken, SsoError> {
        let now = self.clock.now();
        let key = self.profile.cache_key();
        let seen = self.cache.load(key)?;
        if !force
            && let Some(t) = &seen
            && !self.refresh_window.needs_refresh(Some(t.expires_at), now)
        {
            return Ok(t.clone());
        }
        let target = self.cache.refresh_lock(key);
        let _lock = tokio::task::spawn_blocking(move || cred_store::fsutil::lock_within(&target, REFRESH_LOCK_WAIT))
            .await
            .map_err(|e| SsoError::Unavailable(format!("lock task failed: {e}")))??;
        let cached = self.cache.load(key)?;
        if let Some(t) = &cached
            && !self.refresh_window.needs_refresh(Some(t.expires_at), self.clock.now())
            && (!force || seen.as_ref().is_none_or(|s| t.expires_at > s.expires_at))
        {
            return Ok(t.clone());
        }
        if let Some(t) = &cached {
            match self.silent_refresh(t).await {
                Ok(Some(fresh)) => return Ok(fresh),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        if !self.config.cli_fallback {
            return Err(SsoError::Authentication(format!(
                "the IAM Identity Center sign-in of {} has expired or cannot be renewed silently; sign in again with the device flow",
                self.profile.name()
            )));
        }
        self.cli_login().await?;
        let token = self.cache.load(self.profile.cache_key())?.ok_or_else(|| {
            SsoError::Authentication("`aws sso login` succeeded but wrote no token to the SSO cache".into())
        })?;
        if self.refresh_window.freshness(Some(token.expires_at), self.clock.as_ref()) == core_types::Freshness::Expired
        {
            return Err(SsoError::Authentication("the token `aws sso login` wrote is already expired".into()));
        }
        Ok(token)
    }

    /// `CreateToken` with the refresh token. `Ok(None)` means "not possible or refused: use
    /// the CLI"; an unreachable service is an error (the CLI would fail too).
    async fn silent_refresh(&self, t: &SsoToken) -> Result<Option<SsoToken>, SsoError> {
        let now = self.clock.now();
        let (Some(refresh), Some(client_id), Some(secret)) = (&t.refresh_token, &t.client_id, &t.client_secret) else {
            return Ok(None);
        };
        if t.registration_expires_at.is_some_and(|r| r <= now) {
            tracing::info!("the SSO-OIDC client registration has expired; falling back to `aws sso login`");
            return Ok(None);
        }
        let result = self
            .oidc
            .create_token()
            .client_id(client_id)
            .client_secret(secret.expose_secret())
            .grant_type("refresh_token")
            .refresh_token(refresh.expose_secret())
            // sent once: a copy that reached the service before a reset spent the token
            .customize()
            .config_override(
                aws_sdk_ssooidc::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match result {
            Ok(out) => {
                let access = out
                    .access_token()
                    .ok_or_else(|| SsoError::Unavailable("CreateToken returned no access token".into()))?;
                let lifetime = Duration::from_secs(u64::try_from(out.expires_in()).unwrap_or(0));
                let mut fresh = t.clone();
                fresh.access_token = SecretString::from(access.to_owned());
                fresh.expires_at = now + lifetime;
                if let Some(rt) = out.refresh_token() {
                    fresh.refresh_token = Some(SecretString::from(rt.to_owned()));
                }
                tracing::info!(profile = %self.profile.name(), "SSO token refreshed silently");
                self.record(Outcome::Success { expires_at: Some(fresh.expires_at) }).await;
                match self.cache.save(self.profile.cache_key(), &fresh) {
                    // the file may hold a newer token still (`aws sso login` meanwhile)
                    Ok(kept) => Ok(Some(kept)),
                    Err(e) => {
                        // the refresh token is spent upstream: use the fresh token, and say
                        // loudly that it could not be kept
                        tracing::error!(error = %e, "refreshed the SSO token, but could NOT SAVE it to the SSO cache; it is used now but lost when this process ends — free disk space or fix the permissions");
                        Ok(Some(fresh))
                    }
                }
            }
            Err(e) => {
                let code = e.code().map(str::to_owned);
                let message = format!("CreateToken: {}", code.as_deref().unwrap_or("no response"));
                if is_auth_failure(code.as_deref()) {
                    self.record(Outcome::Failure { kind: ErrorKind::NotAuthorized, message }).await;
                    Ok(None)
                } else {
                    self.record(Outcome::Failure { kind: ErrorKind::Unavailable, message }).await;
                    Err(call_error("SSO OIDC", "CreateToken", e, ErrorKind::Unavailable))
                }
            }
        }
    }

    /// `aws sso login --profile P` (or `--sso-session S`), retried with growing delays.
    async fn cli_login(&self) -> Result<(), SsoError> {
        let exe = &self.config.aws_exec_file_path;
        let [flag, target] = self.profile.login_args();
        let args: Vec<String> = ["sso", "login", flag, target].iter().map(|s| (*s).to_owned()).collect();
        let args = &args;
        let mut attempt = 0u32;
        let once = || {
            attempt += 1;
            let n = attempt;
            async move {
                tracing::info!(attempt = n, "running {} sso login {flag} {target}", exe.display());
                let failure = match self.runner.run(exe, args).await {
                    Ok(out) if out.success => {
                        self.record(Outcome::Success { expires_at: None }).await;
                        return Ok(());
                    }
                    Ok(out) => format!(
                        "exit {}: {}",
                        out.code.map(|c| c.to_string()).unwrap_or_else(|| "by signal".into()),
                        out.stderr.lines().next().unwrap_or("").trim()
                    ),
                    Err(e) => format!("cannot run {}: {e}", exe.display()),
                };
                self.record(Outcome::Failure {
                    kind: ErrorKind::NotAuthorized,
                    message: format!("aws sso login attempt {n}: {failure}"),
                })
                .await;
                Err(failure)
            }
        };
        // every failed run is worth another, with growing delays, until the policy is spent
        let judge = |_: &String| core_types::Verdict::Retry { after: None };
        let (result, attempts) = self.config.retry_policy().run(once, judge, |d| self.sleeper.sleep(d)).await;
        result.map_err(|failure| {
            SsoError::Authentication(format!(
                "`{} sso login {flag} {target}` failed {attempts} time(s), last: {failure}; run it yourself to finish the browser sign-in",
                exe.display()
            ))
        })
    }

    pub(crate) async fn role_credentials(&self, token: &SsoToken) -> Result<AwsCredentials, SsoError> {
        let (account_id, role_name) = self.profile.role()?;
        let out = self
            .sso
            .get_role_credentials()
            .role_name(role_name)
            .account_id(account_id)
            .access_token(token.access_token.expose_secret())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let code = e.code().unwrap_or("no response").to_owned();
                // refused: the token is not accepted, or the role was taken away in the portal
                // (`ForbiddenException: No access`) or is gone; anything else is an outage
                let refused = is_auth_failure(Some(&code))
                    || matches!(code.as_str(), "ForbiddenException" | "ResourceNotFoundException");
                let kind = if refused { ErrorKind::AccessDenied } else { ErrorKind::Unavailable };
                self.record_role(Outcome::Failure { kind, message: format!("GetRoleCredentials: {code}") }).await;
                return Err(if kind == ErrorKind::Unavailable {
                    call_error("IAM Identity Center", "GetRoleCredentials", e, kind)
                } else {
                    SsoError::Credential(format!(
                        "GetRoleCredentials refused ({code}) for role {role_name} in {account_id}"
                    ))
                });
            }
        };
        let rc = out
            .role_credentials()
            .ok_or_else(|| SsoError::Credential("GetRoleCredentials returned no credentials".into()))?;
        let (Some(id), Some(secret)) = (rc.access_key_id(), rc.secret_access_key()) else {
            return Err(SsoError::Credential("role credentials lack a key id or secret".into()));
        };
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(rc.expiration()).unwrap_or(0));
        let creds = AwsCredentials::new(id, secret, rc.session_token().map(str::to_owned), Some(expiry))
            .with_account_id(account_id.to_owned());
        if let Some(p) = &self.write_profile {
            self.files.save_credentials(p, &creds)?;
        }
        self.record_role(Outcome::Success { expires_at: Some(expiry) }).await;
        Ok(creds)
    }
}

/// The [`CredentialSource`] behind [`crate::AwsSso::credentials_provider`]: a valid token (cached,
/// refreshed or from the CLI), then role credentials.
#[derive(Clone)]
pub struct SsoSource {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for SsoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoSource").field("profile", &self.inner.profile.name()).finish()
    }
}

impl CredentialSource for SsoSource {
    type Output = AwsCredentials;
    type Error = SsoError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(self.inner.source())
    }

    async fn fetch(&self) -> Result<AwsCredentials, SsoError> {
        let token = self.inner.obtain_token(false).await?;
        self.inner.role_credentials(&token).await
    }
}
