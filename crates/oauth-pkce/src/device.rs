//! The device authorization grant (RFC 8628): start, show the code, poll until approved.

use std::fmt;
use std::time::Duration;

use core_types::{ExposeSecret, Kinded, TokenSet};
use oauth2::StandardDeviceAuthorizationResponse;

use crate::client::{OAuthClient, OidcTokenResponse, form_encode, token_error};
use crate::error::{OAuthError, from_code};
use crate::http::{Busy, client as http_client};

/// The longest wait between two device-code polls, whatever the provider asks.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// A device authorization in progress (RFC 8628).
#[derive(Clone)]
pub struct DeviceAuthorization {
    response: StandardDeviceAuthorizationResponse,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code())
            .field("verification_uri", &self.verification_uri())
            .finish_non_exhaustive()
    }
}

impl DeviceAuthorization {
    /// The code the user types.
    pub fn user_code(&self) -> &str {
        self.response.user_code().secret()
    }
    /// Where the user goes.
    pub fn verification_uri(&self) -> &str {
        self.response.verification_uri().as_str()
    }
    /// The URI with the code filled in, if the provider offers one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.response.verification_uri_complete().map(|u| u.secret().as_str())
    }
    /// The polling interval the provider asked for.
    pub fn interval(&self) -> Duration {
        self.response.interval()
    }
}

impl OAuthClient {
    /// Starts a device authorization (RFC 8628): show the user the code and URI.
    pub async fn device_authorization(&self) -> Result<DeviceAuthorization, OAuthError> {
        let response: StandardDeviceAuthorizationResponse = self
            .inner
            .exchange_device_code()
            .map_err(|e| OAuthError::Config(format!("{e}: the provider has no device authorization endpoint")))?
            .add_scopes(self.scopes())
            .request_async(&http_client(&self.http))
            .await
            .map_err(token_error)?;
        Ok(DeviceAuthorization { response })
    }

    /// Polls until the user approves (honouring `slow_down`), denies, or `timeout` passes
    /// (or the code expires, whichever is first). Every wait is bounded by what is left of
    /// the timeout, whatever `interval` or how many `slow_down`s the provider sends.
    pub async fn poll_device_token(
        &self,
        device: &DeviceAuthorization,
        timeout: Duration,
    ) -> Result<TokenSet, OAuthError> {
        let token_url = self
            .endpoints
            .token
            .clone()
            .ok_or_else(|| OAuthError::Config("the provider has no token endpoint".into()))?;
        let started = tokio::time::Instant::now();
        let budget = timeout.min(device.response.expires_in());
        let deadline = started.checked_add(budget).unwrap_or(started + Duration::from_secs(24 * 3600));
        let mut interval = device.interval().clamp(Duration::from_secs(1), MAX_POLL_INTERVAL);
        let device_code = device.response.device_code().secret().clone();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(OAuthError::Timeout(format!(
                    "the device sign-in was not approved within {} s",
                    budget.as_secs()
                )));
            }
            let attempt = self.config.attempt_timeout.min(left);
            let answer = tokio::time::timeout(attempt, self.device_token_request(&token_url, &device_code)).await;
            match answer {
                Ok(Ok(r)) => return self.checked_tokens(&r, None, None).await,
                Ok(Err(OAuthError::Provider { code, .. })) if code == "authorization_pending" => {}
                Ok(Err(OAuthError::Provider { code, .. })) if code == "slow_down" => {
                    interval = interval.saturating_add(Duration::from_secs(5)).min(MAX_POLL_INTERVAL);
                }
                // the provider unwell or unreachable: back off (RFC 8628 §3.5) and go on
                Ok(Err(e)) if e.kind().is_retryable() => {
                    interval = interval.saturating_mul(2).min(MAX_POLL_INTERVAL);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => interval = interval.saturating_mul(2).min(MAX_POLL_INTERVAL),
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            tokio::time::sleep(interval.min(left)).await;
        }
    }

    /// One device-code token request (RFC 8628 §3.4).
    async fn device_token_request(&self, url: &str, device_code: &str) -> Result<OidcTokenResponse, OAuthError> {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".to_owned()),
            ("device_code", device_code.to_owned()),
        ];
        let mut req = self.http.post(url);
        match &self.config.client_secret {
            Some(secret) => {
                req = req.basic_auth(form_encode(&self.config.client_id), Some(form_encode(secret.expose_secret())))
            }
            None => form.push(("client_id", self.config.client_id.clone())),
        }
        let resp = req.form(&form).send().await.map_err(|e| crate::http::HttpError::from_send(&e).into_oauth())?;
        if let Some(b) = Busy::of(&resp) {
            return Err(OAuthError::Busy { status: b.status, retry_after: b.retry_after });
        }
        let ok = resp.status().is_success();
        let body = resp.bytes().await.map_err(|e| OAuthError::transport("device authorization", e.without_url()))?;
        if ok {
            return serde_json::from_slice(&body)
                .map_err(|e| OAuthError::Invalid(format!("token response did not parse: {e}")));
        }
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match v.get("error").and_then(serde_json::Value::as_str) {
            Some(code) => Err(from_code(code, v.get("error_description").and_then(serde_json::Value::as_str))),
            None => Err(OAuthError::Invalid("the token endpoint answered an error without an OAuth error code".into())),
        }
    }
}
