use std::fmt;
use std::time::SystemTime;

use secrecy::SecretString;

use crate::source::Expiring;

/// Tokens from an OAuth 2 / OIDC / Cognito sign-in. Every token is a secret.
#[derive(Clone, Default)]
pub struct TokenSet {
    /// The bearer token sent to APIs.
    pub access_token: Option<SecretString>,
    /// The OIDC identity token (a JWT).
    pub id_token: Option<SecretString>,
    /// The long-lived token that obtains new access tokens.
    pub refresh_token: Option<SecretString>,
    /// Usually `Bearer`.
    pub token_type: Option<String>,
    /// Scopes the provider granted.
    pub scopes: Vec<String>,
    /// When the access token stops working.
    pub expires_at: Option<SystemTime>,
}

impl TokenSet {
    /// Whether the set holds a refresh token.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }
}

impl Expiring for TokenSet {
    fn expiry(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |t: &Option<SecretString>| t.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("TokenSet")
            .field("access_token", &shown(&self.access_token))
            .field("id_token", &shown(&self.id_token))
            .field("refresh_token", &shown(&self.refresh_token))
            .field("token_type", &self.token_type)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_tokens() {
        let set = TokenSet {
            access_token: Some("eyJaccess.SECRETACCESS".to_owned().into()),
            id_token: Some("eyJid.SECRETID".to_owned().into()),
            refresh_token: Some("SECRETREFRESH".to_owned().into()),
            token_type: Some("Bearer".into()),
            scopes: vec!["openid".into()],
            expires_at: None,
        };
        let shown = format!("{set:?} {set:#?}");
        for secret in ["SECRETACCESS", "SECRETID", "SECRETREFRESH", "eyJ"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("Bearer") && shown.contains("openid"));
        assert!(set.has_refresh_token());
        assert!(!TokenSet::default().has_refresh_token());
    }
}
