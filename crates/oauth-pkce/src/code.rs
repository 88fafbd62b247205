//! The authorization-code grant with PKCE (S256), `state` and an OIDC `nonce`: all three
//! drawn from the operating system's generator.

use std::fmt;

use core_types::{ExposeSecret, SecretString, TokenSet};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use url::Url;

use core_types::constant_time_eq;

use crate::client::{OAuthClient, token_error};
use crate::error::OAuthError;
use crate::http::client as http_client;

/// The PKCE verifier of one authorization request. It is consumed by the exchange, so it
/// cannot be used twice; it is never shown.
pub struct PkceVerifier(PkceCodeVerifier);

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

impl PkceVerifier {
    /// A verifier from a stored secret (e.g. kept across a web redirect).
    pub fn from_secret(secret: &SecretString) -> Self {
        Self(PkceCodeVerifier::new(secret.expose_secret().to_owned()))
    }

    /// The verifier, for storing between redirect and callback.
    pub fn into_secret(self) -> SecretString {
        SecretString::from(self.0.into_secret())
    }
}

/// The `state` sent with an authorization request (checked against the one returned) and
/// the OIDC `nonce` (checked in the ID token).
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfState {
    state: String,
    nonce: Option<String>,
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState([REDACTED])")
    }
}

impl CsrfState {
    /// The state value.
    pub fn secret(&self) -> &str {
        &self.state
    }

    /// The nonce the ID token must carry, when `openid` was requested.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

impl OAuthClient {
    /// The authorization URL of an authorization-code + PKCE (S256) sign-in, with its
    /// verifier and state (and an OIDC nonce when `openid` is requested).
    pub fn authorization_url(&self) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        self.authorization_url_for(None)
    }

    /// Alias of [`OAuthClient::authorization_url`] (the original design's name).
    pub fn get_authorization_url_and_code_verifier(&self) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        self.authorization_url()
    }

    pub(crate) fn authorization_url_for(
        &self,
        redirect: Option<&str>,
    ) -> Result<(Url, PkceVerifier, CsrfState), OAuthError> {
        // every secret random value comes from a cryptographic generator (RFC 7636 §7.1, RFC 6749 §10.10)
        let verifier = PkceCodeVerifier::new(random_token()?);
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let state = CsrfToken::new(random_token()?);
        let mut req = self
            .inner
            .authorize_url(|| state)
            .map_err(|e| OAuthError::Config(format!("{e}: set the authorization endpoint")))?
            .set_pkce_challenge(challenge)
            .add_scopes(self.scopes());
        let redirect_owned;
        if let Some(r) = redirect {
            redirect_owned = RedirectUrl::new(r.to_owned()).map_err(|e| OAuthError::Config(e.to_string()))?;
            req = req.set_redirect_uri(std::borrow::Cow::Borrowed(&redirect_owned));
        }
        let nonce = if self.config.scopes.iter().any(|s| s == "openid") { Some(random_token()?) } else { None };
        if let Some(n) = &nonce {
            req = req.add_extra_param("nonce", n.clone());
        }
        let wants_refresh = self.config.scopes.iter().any(|s| s == "offline_access");
        if wants_refresh {
            // providers issue refresh tokens for offline_access only after explicit consent
            req = req.add_extra_param("prompt", "consent");
        }
        let (url, state) = req.url();
        Ok((url, PkceVerifier(verifier), CsrfState { state: state.secret().clone(), nonce }))
    }

    /// Exchanges an authorization code. A `returned_state` that differs from `expected` is
    /// refused before any network call.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
    ) -> Result<TokenSet, OAuthError> {
        self.exchange_code_for(code, verifier, returned_state, expected, None).await
    }

    /// Alias of [`OAuthClient::exchange_code`] (the original design's name).
    pub async fn authenticate_with_code_and_verifier(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
    ) -> Result<TokenSet, OAuthError> {
        self.exchange_code(code, verifier, returned_state, expected).await
    }

    pub(crate) async fn exchange_code_for(
        &self,
        code: &str,
        verifier: PkceVerifier,
        returned_state: &str,
        expected: &CsrfState,
        redirect: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        if !constant_time_eq(returned_state.as_bytes(), expected.state.as_bytes()) {
            return Err(OAuthError::StateMismatch);
        }
        let redirect_owned;
        let mut req = self
            .inner
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OAuthError::Config(format!("{e}: set the token endpoint")))?
            .set_pkce_verifier(verifier.0);
        if let Some(r) = redirect {
            redirect_owned = RedirectUrl::new(r.to_owned()).map_err(|e| OAuthError::Config(e.to_string()))?;
            req = req.set_redirect_uri(std::borrow::Cow::Borrowed(&redirect_owned));
        }
        let r = req.request_async(&http_client(&self.http)).await.map_err(token_error)?;
        self.checked_tokens(&r, None, expected.nonce()).await
    }
}

/// 32 bytes from a cryptographic generator, base64url without padding (43 characters:
/// a valid PKCE verifier, and an unguessable state or nonce).
fn random_token() -> Result<String, OAuthError> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    // AWS-LC's generator (seeded from the OS, the one the TLS stack and JWT checks already use)
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| OAuthError::Config("the system's random generator failed; try again".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
