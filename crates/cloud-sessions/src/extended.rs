//! Extended sessions: credentials for a run longer than one credential's life. Long-term IAM
//! user keys get `GetSessionToken` (up to 36 h); a role gets `AssumeRole` with a duration. Either
//! way the credentials are a refreshing source like every other, re-obtained inside the
//! refresh window, so SDK clients built on the session never see `ExpiredToken`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use core_types::{AwsCredentials, Clock, CredentialSource};
use cred_store::Refreshing;

use crate::error::SessionError;
use crate::manager::CloudSessionManager;
use crate::options::base_config;
use crate::sources::RoleSource;
use crate::sources::aws_error;

/// GetSessionToken's range for IAM user keys (the root user's ends at one hour).
const SESSION_TOKEN_SECONDS: std::ops::RangeInclusive<u64> = 900..=129_600;

/// The longest each kind of credential lives, and whether it can be extended: what to tell
/// someone whose credentials cannot call GetSessionToken.
pub const DURATION_LIMITS: &str = "IAM user keys: GetSessionToken, up to 36 h (12 h by default); \
an assumed role: AssumeRole up to the role's MaxSessionDuration (1 to 12 h; 1 h when chained from another role), \
no GetSessionToken; IAM Identity Center: the permission set's session duration (1 to 12 h), no GetSessionToken; \
Cognito identity pool: 1 h, no GetSessionToken; EC2 instance profile: rotated by the instance, no GetSessionToken";

/// How an extended session obtains its credentials.
#[derive(Clone)]
enum Way {
    /// `GetSessionToken` with long-term keys (the STS client signs with them).
    SessionToken { sts: aws_sdk_sts::Client, seconds: i32 },
    /// `AssumeRole` with a duration.
    Role(Box<RoleSource>),
}

/// The credential source of an [`ExtendedSession`]: `GetSessionToken` or `AssumeRole` with
/// the requested duration, once per credential lifetime (the refreshing cache decides when).
#[derive(Clone)]
pub struct ExtendedSource {
    session: String,
    way: Way,
}

impl fmt::Debug for ExtendedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = match &self.way {
            Way::SessionToken { seconds, .. } => format!("GetSessionToken {seconds} s"),
            Way::Role(r) => format!("AssumeRole {:?} s", r.hop.duration_seconds),
        };
        f.debug_struct("ExtendedSource").field("session", &self.session).field("way", &way).finish()
    }
}

impl CredentialSource for ExtendedSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(format!("extended:{}", self.session))
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        match &self.way {
            Way::Role(source) => source.fetch().await,
            Way::SessionToken { sts, seconds } => {
                let out = sts
                    .get_session_token()
                    .duration_seconds(*seconds)
                    .send()
                    .await
                    .map_err(|e| aws_error(&self.session, "sts:GetSessionToken", e))?;
                let c = out.credentials().ok_or_else(|| SessionError::Aws {
                    session: self.session.clone(),
                    operation: "sts:GetSessionToken",
                    code: "InvalidResponse".into(),
                    message: "no credentials in the response".into(),
                    request_id: None,
                    cause: None,
                })?;
                Ok(crate::sources::from_sts(c))
            }
        }
    }
}

/// Credentials for a long run that keep themselves valid: clients built on
/// [`ExtendedSession::sdk_config`] get credentials re-obtained before each one expires.
#[derive(Clone)]
pub struct ExtendedSession {
    credentials: Refreshing<ExtendedSource>,
    sdk: SdkConfig,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ExtendedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtendedSession").field("source", self.credentials.source()).finish_non_exhaustive()
    }
}

impl ExtendedSession {
    /// Valid credentials: the current ones, or new ones when they are inside the refresh window.
    pub async fn credentials(&self) -> Result<AwsCredentials, SessionError> {
        Ok(self.credentials.get().await?)
    }
    /// An `SdkConfig` whose clients always sign with valid extended credentials (the
    /// refreshing cache is their only cache, on the manager's clock).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
    /// The self-refreshing credentials as an SDK provider.
    pub fn credentials_provider(&self) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(self.credentials.clone())
    }
    /// Time left on the current credentials (zero when expired or not obtained yet).
    pub async fn time_until_expiry(&self) -> Duration {
        self.credentials
            .peek()
            .await
            .and_then(|c| c.expiration())
            .and_then(|e| e.duration_since(self.clock.now()).ok())
            .unwrap_or(Duration::ZERO)
    }
}

impl CloudSessionManager {
    /// Credentials for a run of `duration` per credential: `GetSessionToken` with long-term
    /// IAM user keys (declared keys, or a profile / default chain that resolves to them), or
    /// `AssumeRole` with that duration for a role session. They are obtained now and again
    /// before each expires. Credentials that are already session credentials (an assumed role,
    /// IAM Identity Center, Cognito) cannot call GetSessionToken: the error says why, the
    /// limits per credential type, and the role-duration route.
    pub async fn extended_session(&self, name: &str, duration: Duration) -> Result<ExtendedSession, SessionError> {
        let session = self.aws_session(name)?;
        let secs = duration.as_secs();
        let way = if let Some(cache) = &session.role {
            let mut source = cache.source().clone();
            source.hop.duration_seconds = Some(u32::try_from(secs).unwrap_or(u32::MAX));
            Way::Role(Box::new(source))
        } else {
            // keys declared, or whatever a profile / the default chain resolves to
            let keys = match &session.static_keys {
                Some(k) => k.session_token().is_some(),
                None => session
                    .provider
                    .provide_credentials()
                    .await
                    .map_err(|e| SessionError::Credentials {
                        session: name.to_owned(),
                        kind: core_types::ErrorKind::NotConfigured,
                        message: core_types::innermost_cause(Some(&e)).unwrap_or_else(|| e.to_string()),
                    })?
                    .session_token()
                    .is_some(),
            };
            if keys || session.renewer.is_some() {
                let paths = self.inner.options.paths.clone().or_else(|| cred_store::Paths::from_env().ok());
                return Err(SessionError::Unsupported {
                    name: name.to_owned(),
                    message: session_credentials_help(&session, paths),
                });
            }
            if !SESSION_TOKEN_SECONDS.contains(&secs) {
                return Err(SessionError::Config {
                    path: name.to_owned(),
                    message: format!("GetSessionToken durations are 900 s to 36 h, not {secs} s"),
                });
            }
            let sts = aws_sdk_sts::Client::new(&session.sdk);
            Way::SessionToken { sts, seconds: i32::try_from(secs).unwrap_or(43_200) }
        };
        let options = &self.inner.options;
        let credentials = Refreshing::builder(ExtendedSource { session: name.to_owned(), way })
            .refresh_window(options.refresh_window)
            .clock(options.clock.clone())
            .build();
        // the first credentials now: a refusal is reported here, not at the first client call
        credentials.get().await?;
        let sdk = base_config(
            &session.region,
            options,
            Some(SharedCredentialsProvider::new(credentials.clone())),
            RetryConfig::standard(),
        )
        .to_builder()
        .identity_cache(aws_config::identity::IdentityCache::no_cache())
        .build();
        Ok(ExtendedSession { credentials, sdk, clock: options.clock.clone() })
    }
}

/// Why these credentials cannot be extended with GetSessionToken, the limits, and the route
/// that works (a role's duration), naming the profile when there is one.
fn session_credentials_help(session: &crate::session::AwsSession, paths: Option<cred_store::Paths>) -> String {
    let route = match &session.profile {
        Some(p) => match paths.and_then(|paths| cred_store::AwsFiles::new(&paths).load_profile(p).ok().flatten()) {
            Some(profile) if profile.role_arn.is_some() => format!(
                "profile {p} assumes {}: set duration_seconds in [profile {p}] (up to the role's MaxSessionDuration; now {}), or declare role_arn with duration_seconds in this session",
                profile.role_arn.unwrap_or_default(),
                profile.duration_seconds.map(|d| format!("{d} s")).unwrap_or_else(|| "the 1 h default".into())
            ),
            _ => format!("give profile {p} IAM user keys, or declare role_arn with duration_seconds in this session"),
        },
        None => "use IAM user keys, or declare role_arn with duration_seconds in this session".into(),
    };
    format!(
        "cannot call GetSessionToken with session credentials (these carry a session token: an assumed role, IAM Identity Center or Cognito); {route}. Limits: {DURATION_LIMITS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal names the route that works for the profile it came from: a role profile's
    /// `duration_seconds` (with its current value), else IAM user keys.
    #[test]
    fn the_refusal_offers_the_profiles_role_duration() {
        let home = tempfile::tempdir().unwrap();
        let paths = cred_store::Paths::under_home(home.path());
        cred_store::AwsFiles::new(&paths)
            .set_profile_values(
                "long",
                &[("role_arn", "arn:aws:iam::123456789012:role/Long"), ("duration_seconds", "3600")],
            )
            .unwrap();
        let session = |profile: Option<&str>| crate::session::AwsSession {
            name: "s".into(),
            region: "us-east-1".into(),
            sdk: SdkConfig::builder().build(),
            provider: SharedCredentialsProvider::new(aws_credential_types::Credentials::for_tests()),
            role: None,
            renewer: None,
            static_keys: None,
            profile: profile.map(str::to_owned),
            reactive: crate::reactive::wrap(
                SharedCredentialsProvider::new(aws_credential_types::Credentials::for_tests()),
                None,
            )
            .1,
        };
        let text = session_credentials_help(&session(Some("long")), Some(paths.clone()));
        assert!(text.contains("profile long assumes arn:aws:iam::123456789012:role/Long"), "{text}");
        assert!(text.contains("set duration_seconds in [profile long]") && text.contains("now 3600 s"), "{text}");
        assert!(text.contains(DURATION_LIMITS));
        let text = session_credentials_help(&session(Some("other")), Some(paths));
        assert!(text.contains("give profile other IAM user keys"), "{text}");
    }
}
