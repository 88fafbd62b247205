//! `SEC/` references read from Azure Key Vault (feature `key-vault`), through the Azure SDK's
//! own `SecretClient`: Key Vault's challenge-based authentication (the vault names its token
//! audience, checked against the vault's domain), sent through the manager's HTTP client, with
//! the session's credential. Retries and the per-attempt deadline are the manager's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::error::ErrorKind as AzureErrorKind;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use core_types::{RetryPolicy, SecretString, Verdict};

use crate::azure::AzureSession;
use crate::refs::{BoxFuture, SecretStore};

/// The Key Vault REST API version the store speaks (the SDK's).
pub const KEY_VAULT_API_VERSION: &str = "2025-07-01";

/// Azure Key Vault through an Azure session's credential: the SDK's `SecretClient`, which
/// asks the vault which audience it wants (public, sovereign clouds and managed HSM alike)
/// and refuses an audience outside the vault's own domain.
#[derive(Clone)]
pub struct AzureKeyVaultStore {
    label: String,
    vault: azure_core::http::Url,
    client: Arc<SecretClient>,
    retry: RetryPolicy,
    attempt_timeout: Duration,
}

impl fmt::Debug for AzureKeyVaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureKeyVaultStore").field("vault", &self.vault.as_str()).finish_non_exhaustive()
    }
}

impl AzureKeyVaultStore {
    /// Reads secrets from `vault_url` (an `https://` URL) with `session`'s credential, sending
    /// through `http`.
    pub fn new(vault_url: &str, session: AzureSession, http: reqwest::Client) -> Result<Self, String> {
        let (vault, label) = parse_vault_url(vault_url)?;
        let options = SecretClientOptions {
            api_version: KEY_VAULT_API_VERSION.to_owned(),
            client_options: ClientOptions {
                transport: Some(Transport::new(Arc::new(http))),
                // the store's own retry policy decides (and honours Retry-After)
                retry: RetryOptions::none(),
                ..ClientOptions::default()
            },
            ..SecretClientOptions::default()
        };
        let client = SecretClient::new(vault.as_str(), session.credential(), Some(options))
            .map_err(|e| format!("vault_url {vault_url:?}: {e}"))?;
        Ok(Self {
            label,
            vault,
            client: Arc::new(client),
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(10),
        })
    }

    /// How long one request to the vault may take (default 10 s): a stalled vault costs
    /// one attempt, then the retry policy decides.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Retries throttling, 5xx and transport failures per `retry` (the default policy
    /// otherwise).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// A vault URL checked (`https`), with a trailing slash; its label.
fn parse_vault_url(vault_url: &str) -> Result<(azure_core::http::Url, String), String> {
    let mut vault =
        azure_core::http::Url::parse(vault_url).map_err(|e| format!("vault_url {vault_url:?} is not a URL: {e}"))?;
    if vault.scheme() != "https" {
        return Err(format!("vault_url {vault_url:?} must be an https:// URL"));
    }
    if !vault.path().ends_with('/') {
        let path = format!("{}/", vault.path());
        vault.set_path(&path);
    }
    let host = vault.host_str().unwrap_or_default().to_ascii_lowercase();
    Ok((vault, format!("Azure Key Vault {host}")))
}

/// Key Vault's names: 1–127 letters, digits and dashes.
fn is_key_vault_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// One request's outcome: an answer, or a transient failure worth another attempt.
enum VaultAttempt {
    Done(Result<Option<SecretString>, String>),
    Busy { message: String, retry_after: Option<Duration> },
}

impl AzureKeyVaultStore {
    async fn attempt(&self, key: &str) -> VaultAttempt {
        let e = match self.client.get_secret(key, None).await {
            Ok(response) => {
                return VaultAttempt::Done(
                    response
                        .into_model()
                        .map(|secret| secret.value.map(SecretString::from))
                        .map_err(|_| "the vault's answer is not a Key Vault secret bundle".to_owned()),
                );
            }
            Err(e) => e,
        };
        match e.kind() {
            AzureErrorKind::HttpResponse { status, raw_response, .. } => {
                let status = u16::from(*status);
                let (body, retry_after) = match raw_response {
                    Some(r) => {
                        let headers = r.headers();
                        let date = azure_core::http::headers::HeaderName::from_static("date");
                        let after = headers
                            .get_optional_str(&azure_core::http::headers::RETRY_AFTER)
                            .and_then(|v| core_types::retry_after(v, headers.get_optional_str(&date)));
                        (r.body().to_vec(), after)
                    }
                    None => (Vec::new(), None),
                };
                match status {
                    404 => VaultAttempt::Done(Ok(None)),
                    429 | 500..=599 => VaultAttempt::Busy { message: key_vault_error(status, &body), retry_after },
                    _ => VaultAttempt::Done(Err(key_vault_error(status, &body))),
                }
            }
            AzureErrorKind::Connection | AzureErrorKind::Io => {
                VaultAttempt::Busy { message: format!("request failed: {e}"), retry_after: None }
            }
            // the session's credential could not get a token, or the vault's challenge named
            // an audience outside its domain: an answer, not worth another attempt
            _ => VaultAttempt::Done(Err(e.to_string())),
        }
    }
}

impl SecretStore for AzureKeyVaultStore {
    fn name(&self) -> &str {
        &self.label
    }

    /// Throttling, 5xx and transport failures are retried per the store's [`RetryPolicy`]
    /// (honouring `Retry-After`); an access denial is not.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SecretString>, String>> {
        Box::pin(async move {
            if !is_key_vault_name(key) {
                return Err("not a Key Vault secret name (1-127 letters, digits and dashes)".into());
            }
            // Done is an answer (found, missing, refused); Busy is worth another attempt
            let attempt = || async {
                match tokio::time::timeout(self.attempt_timeout, self.attempt(key)).await {
                    Ok(VaultAttempt::Done(result)) => Ok(result),
                    Ok(VaultAttempt::Busy { message, retry_after }) => Err((message, retry_after)),
                    Err(_) => Err((format!("no answer within {} ms", self.attempt_timeout.as_millis()), None)),
                }
            };
            let judge = |(message, after): &(String, Option<Duration>)| {
                tracing::debug!(vault = %self.label, %message, "key vault busy");
                Verdict::Retry { after: *after }
            };
            match self.retry.run(attempt, judge, tokio::time::sleep).await.0 {
                Ok(result) => result,
                Err((message, _)) => Err(message),
            }
        })
    }
}

/// `HTTP 403 Forbidden: <the vault's message>`, with what to do for the common cases.
fn key_vault_error(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Option<Detail>,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        code: Option<String>,
        message: Option<String>,
    }
    let detail = serde_json::from_slice::<Envelope>(body).ok().and_then(|e| e.error);
    let code = detail.as_ref().and_then(|d| d.code.clone()).unwrap_or_default();
    let message = detail.and_then(|d| d.message).unwrap_or_default();
    let hint = match status {
        401 => "; the vault did not accept the session's token (is the vault in the session's tenant?)",
        403 => "; give the session's identity the \"Key Vault Secrets User\" role (or a get-secret access policy)",
        429 | 500..=599 => "; the vault is busy or unwell, try again",
        _ => "",
    };
    let mut out = format!("HTTP {status}");
    if !code.is_empty() {
        out = format!("{out} {code}");
    }
    if !message.is_empty() {
        out = format!("{out}: {message}");
    }
    out + hint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_urls_must_be_https_and_names_key_vault_shaped() {
        let (vault, label) = parse_vault_url("https://MyVault.vault.azure.net").unwrap();
        assert_eq!(label, "Azure Key Vault myvault.vault.azure.net");
        assert_eq!(vault.as_str(), "https://myvault.vault.azure.net/");
        assert!(parse_vault_url("http://v.vault.azure.net/").unwrap_err().contains("https://"));
        assert!(parse_vault_url("not a url").unwrap_err().contains("not a URL"));
        assert!(is_key_vault_name("db-password-2"));
        for bad in ["", "with_underscore", "dots.no", "../x", &"a".repeat(128)] {
            assert!(!is_key_vault_name(bad), "{bad}");
        }
    }

    #[test]
    fn vault_errors_carry_its_code_and_what_to_do() {
        let body = br#"{"error":{"code":"Forbidden","message":"Caller is not authorized"}}"#;
        assert_eq!(
            key_vault_error(403, body),
            "HTTP 403 Forbidden: Caller is not authorized; give the session's identity the \"Key Vault Secrets User\" role (or a get-secret access policy)"
        );
        assert_eq!(
            key_vault_error(502, b"<html>bad gateway</html>"),
            "HTTP 502; the vault is busy or unwell, try again"
        );
        assert_eq!(key_vault_error(400, br#"{"error":{"code":"BadParameter"}}"#), "HTTP 400 BadParameter");
    }
}
