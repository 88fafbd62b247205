use std::fmt;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};

use crate::source::Expiring;

/// A set of AWS credentials. Every part that grants access is a secret: `Debug` shows only
/// the four-letter key type prefix (`AKIA` long-term, `ASIA` temporary) and never the rest.
#[derive(Clone)]
pub struct AwsCredentials {
    access_key_id: SecretString,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expiration: Option<SystemTime>,
    account_id: Option<String>,
}

impl AwsCredentials {
    /// Long-term or temporary credentials. Pass a session token for temporary ones.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
        expiration: Option<SystemTime>,
    ) -> Self {
        Self {
            access_key_id: SecretString::from(access_key_id.into()),
            secret_access_key: SecretString::from(secret_access_key.into()),
            session_token: session_token.map(SecretString::from),
            expiration,
            account_id: None,
        }
    }

    /// Records the account the credentials belong to.
    #[must_use]
    pub fn with_account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// The access key id (a secret: it identifies the key pair).
    pub fn access_key_id(&self) -> &SecretString {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &SecretString {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&SecretString> {
        self.session_token.as_ref()
    }

    /// When the credentials stop working, if they ever do.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.expiration
    }

    /// The AWS account id, when known.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// A non-secret hint for logs and messages: the key type prefix, e.g. `ASIA…`.
    pub fn key_hint(&self) -> String {
        let id = self.access_key_id.expose_secret();
        let prefix: String = id.chars().take(4).collect();
        format!("{prefix}…")
    }
}

impl Expiring for AwsCredentials {
    fn expiry(&self) -> Option<SystemTime> {
        self.expiration
    }
}

impl PartialEq for AwsCredentials {
    fn eq(&self, other: &Self) -> bool {
        self.access_key_id.expose_secret() == other.access_key_id.expose_secret()
            && self.secret_access_key.expose_secret() == other.secret_access_key.expose_secret()
            && self.session_token.as_ref().map(ExposeSecret::expose_secret)
                == other.session_token.as_ref().map(ExposeSecret::expose_secret)
            && self.expiration == other.expiration
            && self.account_id == other.account_id
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.key_hint())
            .field("secret_access_key", &"[REDACTED]")
            .field("session_token", &self.session_token.as_ref().map(|_| "[REDACTED]"))
            .field("expiration", &self.expiration)
            .field("account_id", &self.account_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn debug_never_shows_secret_parts() {
        let creds = AwsCredentials::new(
            "ASIAEXAMPLEKEYID1234",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET",
            Some("FwoGZXIvYXdzSESSIONTOKENVALUE".into()),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(10)),
        )
        .with_account_id("123456789012");
        let shown = format!("{creds:?} {creds:#?}");
        assert!(!shown.contains("EXAMPLEKEYID1234"), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(!shown.contains("SESSIONTOKENVALUE"), "{shown}");
        assert!(shown.contains("ASIA…"));
        assert!(shown.contains("123456789012"));
    }

    #[test]
    fn equality_compares_all_parts() {
        let a = AwsCredentials::new("AKIA1", "s", None, None);
        let b = AwsCredentials::new("AKIA1", "s", Some("t".into()), None);
        assert_ne!(a, b);
        assert_eq!(a.clone(), a);
        assert_eq!(a.key_hint(), "AKIA…");
    }
}
