use std::fmt;

use core_types::{ExposeSecret, RetryPolicy, SecretString};
use cred_store::CccConfig;

use crate::error::CognitoError;

/// How the password is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthFlow {
    /// `USER_SRP_AUTH`: the password never leaves the machine (the default).
    #[default]
    Srp,
    /// `USER_PASSWORD_AUTH`: the password is sent to Cognito over TLS.
    Password,
}

/// What a sign-in needs: the user pool, the app client and (for AWS credentials) the
/// identity pool.
#[derive(Clone)]
pub struct CognitoConfig {
    /// `us-east-1_AbCdEf123`.
    pub user_pool_id: String,
    /// The app client id.
    pub app_client_id: String,
    /// The app client secret, when the client has one (then every call sends SECRET_HASH).
    pub app_client_secret: Option<SecretString>,
    /// `us-east-1:uuid`, for AWS credentials through the identity pool.
    pub identity_pool_id: Option<String>,
    /// The region of the pools.
    pub region: String,
    /// SRP (default) or plain password.
    pub auth_flow: AuthFlow,
    /// Retries for throttling and service errors (never for auth failures).
    pub retry: RetryPolicy,
    /// How long one call attempt may take before it counts as failed (a stalled endpoint
    /// must not hang a sign-in or a `credential_process` call).
    pub attempt_timeout: std::time::Duration,
}

/// The default bound on one Cognito call attempt.
pub const DEFAULT_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The `~/.ccc/config.json` key overriding [`CognitoConfig::attempt_timeout`], in seconds.
pub const ATTEMPT_TIMEOUT_KEY: &str = "attempt_timeout_seconds";

impl fmt::Debug for CognitoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoConfig")
            .field("user_pool_id", &self.user_pool_id)
            .field("app_client_id", &self.app_client_id)
            .field("app_client_secret", &self.app_client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("identity_pool_id", &self.identity_pool_id)
            .field("region", &self.region)
            .field("auth_flow", &self.auth_flow)
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

/// Checks a user pool id looks like `region_Name`.
pub fn validate_user_pool_id(id: &str) -> Result<(), CognitoError> {
    let ok = id.split_once('_').is_some_and(|(region, name)| {
        validate_region(region).is_ok() && !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(())
    } else {
        Err(CognitoError::Invalid(format!("user pool id {id:?} should look like us-east-1_AbCdEf123")))
    }
}

/// Checks a region looks like `us-east-1`.
pub fn validate_region(region: &str) -> Result<(), CognitoError> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok { Ok(()) } else { Err(CognitoError::Invalid(format!("region {region:?} should look like us-east-1"))) }
}

/// Checks an identity pool id looks like `us-east-1:uuid`.
pub fn validate_identity_pool_id(id: &str) -> Result<(), CognitoError> {
    let ok = id.split_once(':').is_some_and(|(region, uuid)| {
        validate_region(region).is_ok() && uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    });
    if ok {
        Ok(())
    } else {
        Err(CognitoError::Invalid(format!(
            "identity pool id {id:?} should look like us-east-1:01234567-89ab-cdef-0123-456789abcdef"
        )))
    }
}

impl CognitoConfig {
    /// A config for a pool and client, SRP, default retries.
    pub fn new(user_pool_id: impl Into<String>, app_client_id: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            user_pool_id: user_pool_id.into(),
            app_client_id: app_client_id.into(),
            app_client_secret: None,
            identity_pool_id: None,
            region: region.into(),
            auth_flow: AuthFlow::Srp,
            retry: RetryPolicy::default(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }

    /// From `~/.ccc/config.json`; names the missing keys.
    pub fn from_ccc_config(config: &CccConfig) -> Result<Self, CognitoError> {
        let missing: Vec<&str> = [
            ("user_pool_id", config.user_pool_id.is_none()),
            ("app_client_id", config.app_client_id.is_none()),
            ("region", config.region.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, m)| m.then_some(k))
        .collect();
        if !missing.is_empty() {
            return Err(CognitoError::Config(format!("not configured: missing {}", missing.join(", "))));
        }
        let mut c = Self::new(
            config.user_pool_id.clone().unwrap_or_default(),
            config.app_client_id.clone().unwrap_or_default(),
            config.region.clone().unwrap_or_default(),
        );
        c.app_client_secret =
            config.app_client_secret.as_ref().map(|s| SecretString::from(s.expose_secret().to_owned()));
        c.identity_pool_id = config.identity_pool_id.clone();
        if config.extra.get("auth_flow").and_then(|v| v.as_str()) == Some("password") {
            c.auth_flow = AuthFlow::Password;
        }
        if let Some(v) = config.extra.get(ATTEMPT_TIMEOUT_KEY) {
            let secs = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 600.0)
                .ok_or_else(|| {
                    CognitoError::Invalid(format!(
                        "{ATTEMPT_TIMEOUT_KEY} must be a number of seconds between 0 and 600"
                    ))
                })?;
            c.attempt_timeout = std::time::Duration::from_secs_f64(secs);
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks every id's shape.
    pub fn validate(&self) -> Result<(), CognitoError> {
        validate_region(&self.region)?;
        validate_user_pool_id(&self.user_pool_id)?;
        if self.app_client_id.is_empty() {
            return Err(CognitoError::Config("app client id is empty".into()));
        }
        if let Some(id) = &self.identity_pool_id {
            validate_identity_pool_id(id)?;
        }
        Ok(())
    }

    /// The identity-pool login key of this user pool.
    pub fn login_provider(&self) -> String {
        format!("cognito-idp.{}.amazonaws.com/{}", self.region, self.user_pool_id)
    }

    /// The issuer of this pool's tokens.
    pub fn issuer(&self) -> String {
        format!("https://cognito-idp.{}.amazonaws.com/{}", self.region, self.user_pool_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(validate_user_pool_id("us-east-1_AbC123").is_ok());
        assert!(validate_user_pool_id("us-east-1").is_err());
        assert!(validate_user_pool_id("useast1_abc").is_err());
        assert!(validate_region("eu-central-1").is_ok());
        assert!(validate_region("EU-1").is_err());
        assert!(validate_identity_pool_id("us-east-1:01234567-89ab-cdef-0123-456789abcdef").is_ok());
        assert!(validate_identity_pool_id("us-east-1:nope").is_err());
    }

    #[test]
    fn from_ccc_config_names_missing_keys_and_redacts() {
        let e = CognitoConfig::from_ccc_config(&CccConfig::default()).unwrap_err();
        assert!(e.to_string().contains("user_pool_id, app_client_id, region"), "{e}");
        let cfg = CccConfig {
            user_pool_id: Some("us-east-1_abc".into()),
            app_client_id: Some("cid".into()),
            app_client_secret: Some(SecretString::from("CLIENTSECRET".to_owned())),
            region: Some("us-east-1".into()),
            ..CccConfig::default()
        };
        let c = CognitoConfig::from_ccc_config(&cfg).unwrap();
        assert_eq!(c.login_provider(), "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc");
        assert!(!format!("{c:?}").contains("CLIENTSECRET"));
    }
}
