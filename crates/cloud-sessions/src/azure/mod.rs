//! Azure sessions: azure_identity credentials behind one explicit chain that caches tokens,
//! reports which credential answered and why the others did not, and never switches
//! identity once one has answered.
//!
//! azure_identity 1.0 dropped `DefaultAzureCredential` because a chain that silently falls
//! through to another identity surprises people; [`AzureChain`] keeps the convenience and
//! makes the choice visible: [`AzureSession::attempts`] says what was tried.

#[cfg(feature = "azure-browser")]
mod browser;
mod chain;
mod links;
mod tokens;
mod transport;

use std::fmt;
use std::sync::{Arc, PoisonError};

use azure_core::credentials::{AccessToken, Secret, TokenCredential};
use core_types::ExposeSecret;

use crate::error::{SessionError, find_source};

#[cfg(feature = "azure-browser")]
pub(crate) use browser::BrowserCredential;
pub(crate) use chain::ChainFailure;
pub(crate) use links::{AzureEnv, AzureSpec, AzureWay};
pub(crate) use tokens::AzureTokens;
pub(crate) use transport::default_client;

/// The default authority (Entra ID's public cloud).
pub(crate) const ENTRA: &str = "https://login.microsoftonline.com";

/// The scope a health check asks for (Azure Resource Manager).
pub const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// What happened to one credential of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// It gave a token.
    Answered,
    /// Not configured here (the reason says which setting is missing).
    Skipped(String),
    /// Configured but unavailable (endpoint not reachable, `az` not installed or signed out).
    Unavailable(String),
    /// It rejected the credentials: the chain stops rather than try another identity.
    Rejected(String),
    /// Not tried: an earlier one answered or rejected.
    NotTried,
}

/// One line of the chain's report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainAttempt {
    /// `environment`, `workload identity`, `managed identity`, `azure cli`, `service principal`.
    pub credential: &'static str,
    /// What happened.
    pub outcome: AttemptOutcome,
}

impl fmt::Display for ChainAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            AttemptOutcome::Answered => write!(f, "{}: answered", self.credential),
            AttemptOutcome::Skipped(r) => write!(f, "{}: skipped ({r})", self.credential),
            AttemptOutcome::Unavailable(r) => write!(f, "{}: unavailable ({r})", self.credential),
            AttemptOutcome::Rejected(r) => write!(f, "{}: rejected ({r})", self.credential),
            AttemptOutcome::NotTried => write!(f, "{}: not tried", self.credential),
        }
    }
}

/// An Azure session: a caching [`TokenCredential`] for any Azure SDK client.
#[derive(Clone)]
pub struct AzureSession {
    pub(crate) name: String,
    pub(crate) tenant_id: Option<String>,
    pub(crate) subscription_id: Option<String>,
    pub(crate) tokens: Arc<AzureTokens>,
    /// The browser sign-in, for a `use_interactive_browser` session.
    #[cfg(feature = "azure-browser")]
    pub(crate) browser: Option<Arc<BrowserCredential>>,
}

impl fmt::Debug for AzureSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureSession")
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("chain", &self.tokens.chain)
            .finish()
    }
}

impl AzureSession {
    /// For a `use_interactive_browser` session: signs in with the browser (`open` opens or
    /// shows the page and returns whether a browser started), consenting to `scopes` (default
    /// Azure Resource Manager), and keeps the refresh token in the token store. Returns when
    /// the first access token expires.
    #[cfg(feature = "azure-browser")]
    pub async fn browser_sign_in(
        &self,
        scopes: &[&str],
        open: impl FnOnce(&reqwest::Url) -> bool,
        timeout: std::time::Duration,
    ) -> Result<std::time::SystemTime, SessionError> {
        let b = self.interactive()?;
        self.signed_in(b.sign_in(or_management(scopes), open, timeout).await)
    }

    /// For a `use_interactive_browser` session on a machine without a browser: signs in with
    /// the device authorization grant (`show` gets the page and the code for the person to
    /// type elsewhere), consenting to `scopes` (default Azure Resource Manager), and keeps the
    /// refresh token in the token store. Returns when the first access token expires.
    #[cfg(feature = "azure-browser")]
    pub async fn device_sign_in(
        &self,
        scopes: &[&str],
        show: impl FnOnce(&oauth_pkce::DeviceAuthorization),
        timeout: std::time::Duration,
    ) -> Result<std::time::SystemTime, SessionError> {
        let b = self.interactive()?;
        self.signed_in(b.device_sign_in(or_management(scopes), show, timeout).await)
    }

    /// A sign-in's outcome: its error as the session's, or (it worked) the access tokens kept
    /// from an earlier sign-in, maybe someone else's, forgotten.
    #[cfg(feature = "azure-browser")]
    fn signed_in(&self, outcome: Result<std::time::SystemTime, String>) -> Result<std::time::SystemTime, SessionError> {
        let until = outcome.map_err(|message| SessionError::Azure {
            session: self.name.clone(),
            kind: core_types::ErrorKind::NotAuthorized,
            message,
        })?;
        self.forget_kept()?;
        Ok(until)
    }

    #[cfg(feature = "azure-browser")]
    fn interactive(&self) -> Result<&Arc<BrowserCredential>, SessionError> {
        self.browser.as_ref().ok_or_else(|| SessionError::Unsupported {
            name: self.name.clone(),
            message: "not a use_interactive_browser session".into(),
        })
    }

    /// Forgets the access tokens kept for this session (in memory and in the token store,
    /// every scope set) so the next one is asked of the credential, e.g. after `az login` as
    /// someone else; for a `use_interactive_browser` session the sign-in too. Returns how
    /// many kept entries went.
    pub fn sign_out(&self) -> Result<usize, SessionError> {
        let mut gone = self.forget_kept()?;
        #[cfg(feature = "azure-browser")]
        if let Some(b) = &self.browser {
            gone += usize::from(b.sign_out().map_err(|message| SessionError::Azure {
                session: self.name.clone(),
                kind: core_types::ErrorKind::Io,
                message,
            })?);
        }
        Ok(gone)
    }

    fn forget_kept(&self) -> Result<usize, SessionError> {
        self.tokens.forget().map_err(|e| SessionError::Azure {
            session: self.name.clone(),
            kind: core_types::Kinded::kind(&e),
            message: e.to_string(),
        })
    }

    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The declared tenant.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }
    /// The declared subscription.
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription_id.as_deref()
    }
    /// The credential to hand to Azure SDK clients (tokens cached per scope set).
    pub fn credential(&self) -> Arc<dyn TokenCredential> {
        self.tokens.clone()
    }
    /// The credential that answered first (and so serves this session from now on).
    /// A token kept by another process (the token store) names the credential only when
    /// the session has just one; a chain's is then `token cache`.
    pub fn answered_by(&self) -> Option<&'static str> {
        let chain = &self.tokens.chain;
        let pinned = *chain.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        match pinned {
            Some(i) => Some(chain.links[i].name),
            None if self.tokens.served.load(std::sync::atomic::Ordering::Relaxed) => match chain.links.as_slice() {
                [only] => Some(only.name),
                _ => Some("token cache"),
            },
            None => None,
        }
    }
    /// What the chain tried when it last looked for a credential.
    pub fn attempts(&self) -> Vec<ChainAttempt> {
        self.tokens.chain.attempts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
    /// How many times the session went to a credential (cache misses).
    pub fn fetches(&self) -> u64 {
        self.tokens.chain.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// A token for `scopes`, from the cache while it is fresh.
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken, SessionError> {
        self.tokens.get_token(scopes, None).await.map_err(|e| azure_error(&self.name, &e))
    }
}

/// The scopes asked, or Azure Resource Manager's when none are.
#[cfg(feature = "azure-browser")]
fn or_management<'a>(scopes: &'a [&'a str]) -> &'a [&'a str] {
    if scopes.is_empty() { &[MANAGEMENT_SCOPE] } else { scopes }
}

/// A `SessionError` from an error of the chain (or of a credential used directly).
pub(crate) fn azure_error(session: &str, e: &azure_core::Error) -> SessionError {
    if let Some(f) = find_source::<ChainFailure>(e) {
        return SessionError::Azure { session: session.to_owned(), kind: f.kind, message: f.message.clone() };
    }
    SessionError::Azure {
        session: session.to_owned(),
        kind: chain::classify(e).1,
        message: chain::first_line(&e.to_string()),
    }
}

/// Our secret as azure_core's (whose `Debug` is redacted too), for a credential that needs it.
pub(crate) fn secret(s: &core_types::SecretString) -> Secret {
    Secret::new(s.expose_secret().to_owned())
}
