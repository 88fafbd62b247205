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
#[non_exhaustive]
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

/// The `~/.ccc/config.json` keys a Cognito sign-in reads (this crate owns their meaning).
pub mod keys {
    /// The user pool id.
    pub const USER_POOL_ID: &str = "user_pool_id";
    /// The app client id.
    pub const APP_CLIENT_ID: &str = "app_client_id";
    /// The app client secret (a secret: never shown, never taken from argv).
    pub const APP_CLIENT_SECRET: &str = "app_client_secret";
    /// The identity pool id.
    pub const IDENTITY_POOL_ID: &str = "identity_pool_id";
    /// The region of the pools.
    pub const REGION: &str = "region";
    /// `srp` (default) or `password`.
    pub const AUTH_FLOW: &str = "auth_flow";
    /// [`super::CognitoConfig::attempt_timeout`], in seconds.
    pub const ATTEMPT_TIMEOUT: &str = "attempt_timeout_seconds";
    /// The keys whose values are secrets.
    pub const SECRETS: &[&str] = &[APP_CLIENT_SECRET];
    /// The keys a profile may set for itself (`profiles.PROFILE.KEY`): a pool of its own.
    pub const PER_PROFILE: &[&str] =
        &[USER_POOL_ID, APP_CLIENT_ID, APP_CLIENT_SECRET, IDENTITY_POOL_ID, REGION, AUTH_FLOW];
}

/// The `~/.ccc/config.json` key overriding [`CognitoConfig::attempt_timeout`], in seconds.
pub const ATTEMPT_TIMEOUT_KEY: &str = keys::ATTEMPT_TIMEOUT;

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

    /// From `~/.ccc/config.json` ([`keys`]); names the missing keys and checks every value.
    pub fn from_ccc_config(config: &CccConfig) -> Result<Self, CognitoError> {
        let text = |key: &str| -> Result<Option<String>, CognitoError> {
            match config.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(CognitoError::Config(format!("{key} in the ccc config must be a string"))),
            }
        };
        let (pool, client, region) = (text(keys::USER_POOL_ID)?, text(keys::APP_CLIENT_ID)?, text(keys::REGION)?);
        let missing: Vec<&str> = [
            (keys::USER_POOL_ID, pool.is_none()),
            (keys::APP_CLIENT_ID, client.is_none()),
            (keys::REGION, region.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, m)| m.then_some(k))
        .collect();
        if !missing.is_empty() {
            return Err(CognitoError::Config(format!("not configured: missing {}", missing.join(", "))));
        }
        let mut c = Self::new(pool.unwrap_or_default(), client.unwrap_or_default(), region.unwrap_or_default());
        c.app_client_secret = text(keys::APP_CLIENT_SECRET)?.map(SecretString::from);
        c.identity_pool_id = text(keys::IDENTITY_POOL_ID)?;
        c.auth_flow = match text(keys::AUTH_FLOW)?.as_deref() {
            None | Some("srp") => AuthFlow::Srp,
            Some("password") => AuthFlow::Password,
            Some(other) => {
                return Err(CognitoError::Config(format!(
                    "{} in the ccc config is {other:?}; it must be srp or password",
                    keys::AUTH_FLOW
                )));
            }
        };
        if let Some(t) = attempt_timeout(config)? {
            c.attempt_timeout = t;
        }
        c.validate()?;
        Ok(c)
    }

    /// The Cognito settings of `profile`: its own (`profiles.PROFILE.KEY`, for a machine with
    /// several users in several pools), else the file's top-level ones.
    pub fn for_profile(config: &CccConfig, profile: &str) -> Result<Self, CognitoError> {
        Self::from_ccc_config(&Self::profile_view(config, profile))
    }

    /// `config` with `profile`'s own Cognito settings in place of the top-level ones.
    pub fn profile_view(config: &CccConfig, profile: &str) -> CccConfig {
        let mut view = config.clone();
        for key in keys::PER_PROFILE {
            if let Some(v) = config.profile_setting(profile, key) {
                view.set(*key, v.to_owned());
            }
        }
        view
    }

    /// Whether `profile` has Cognito settings of its own.
    pub fn profile_has_own(config: &CccConfig, profile: &str) -> bool {
        config.profile_setting(profile, keys::USER_POOL_ID).is_some()
    }

    /// Writes this configuration's keys into `config` (the file is the one place the app
    /// client secret is written), leaving every other key alone.
    pub fn write_to(&self, config: &mut CccConfig) {
        config.set(keys::USER_POOL_ID, self.user_pool_id.clone());
        config.set(keys::APP_CLIENT_ID, self.app_client_id.clone());
        config.set(keys::REGION, self.region.clone());
        match &self.identity_pool_id {
            Some(id) => config.set(keys::IDENTITY_POOL_ID, id.clone()),
            None => {
                config.remove(keys::IDENTITY_POOL_ID);
            }
        }
        if let Some(secret) = &self.app_client_secret {
            config.set(keys::APP_CLIENT_SECRET, secret.expose_secret().to_owned());
        }
        match self.auth_flow {
            AuthFlow::Password => config.set(keys::AUTH_FLOW, "password"),
            AuthFlow::Srp => {
                config.remove(keys::AUTH_FLOW);
            }
        }
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

/// `attempt_timeout_seconds` in the ccc config, when set: how long one attempt of a call may
/// take (every AWS call of ccc's, not only Cognito's).
pub fn attempt_timeout(config: &CccConfig) -> Result<Option<std::time::Duration>, CognitoError> {
    let Some(v) = config.get(keys::ATTEMPT_TIMEOUT) else { return Ok(None) };
    let secs = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 600.0)
        .ok_or_else(|| {
            CognitoError::Invalid(format!("{ATTEMPT_TIMEOUT_KEY} must be a number of seconds between 0 and 600"))
        })?;
    Ok(Some(std::time::Duration::from_secs_f64(secs)))
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
        let mut written = CognitoConfig::new("us-east-1_abc", "cid", "us-east-1");
        written.app_client_secret = Some(SecretString::from("CLIENTSECRET".to_owned()));
        written.auth_flow = AuthFlow::Password;
        let mut cfg = CccConfig::default();
        cfg.set("theme", "dark");
        written.write_to(&mut cfg);
        let c = CognitoConfig::from_ccc_config(&cfg).unwrap();
        assert_eq!(c.login_provider(), "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc");
        assert_eq!(c.auth_flow, AuthFlow::Password);
        assert_eq!(c.app_client_secret.as_ref().map(|s| s.expose_secret().to_owned()).as_deref(), Some("CLIENTSECRET"));
        assert!(!format!("{c:?}").contains("CLIENTSECRET"));
        assert_eq!(cfg.get_str("theme"), Some("dark"), "other keys kept");
        cfg.set(keys::AUTH_FLOW, "magic");
        assert!(CognitoConfig::from_ccc_config(&cfg).unwrap_err().to_string().contains("srp or password"));
        cfg.set(keys::AUTH_FLOW, 3);
        assert!(CognitoConfig::from_ccc_config(&cfg).unwrap_err().to_string().contains("must be a string"));
    }
}
