//! Signing in to IAM Identity Center without the AWS CLI: SSO-OIDC's device-authorization
//! flow (RegisterClient, StartDeviceAuthorization, CreateToken with the device code), the
//! token and client registration saved to the SSO cache as awscli v2 saves them, so `aws`,
//! boto3 and the SDKs use it too.

use std::time::{Duration, SystemTime};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use core_types::{ErrorKind, ExposeSecret, SecretString};
use cred_store::{Outcome, SsoToken};

use crate::error::SsoError;
use crate::sso::AwsSso;

/// The device grant of RFC 8628.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// What a registration asks for: the device flow, then silent refreshes.
const GRANT_TYPES: &[&str] = &[DEVICE_GRANT, "refresh_token"];
/// The scope that lets the token list accounts and get role credentials.
const SCOPE: &str = "sso:account:access";
/// The longest a person is given to finish, whatever the service says.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// The longest pause between two polls, whatever the service says.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// What the person finishing a device sign-in needs: where to go and which code to enter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceCode {
    /// The page to open.
    pub verification_uri: String,
    /// The page with the code filled in, when the service gives one.
    pub verification_uri_complete: Option<String>,
    /// The code to enter.
    pub user_code: String,
    /// How long the code is valid.
    pub expires_in: Duration,
}

fn secs(n: i32) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

impl AwsSso {
    /// Signs in with the device-authorization flow: registers a public client (or reuses the
    /// cached registration while it is valid), starts the authorization, hands `show` the
    /// page and code, then polls `CreateToken` at the service's interval (longer after
    /// `slow_down`) until the person approves, refuses, or the code expires. The token is
    /// saved to the SSO cache (under the entry's refresh lock) and returned.
    pub async fn device_sign_in(&self, show: impl FnOnce(&DeviceCode)) -> Result<SsoToken, SsoError> {
        let i = &self.inner;
        let now = i.clock.now();
        let key = i.profile.cache_key().to_owned();
        let cached = i.cache.load(&key)?;
        let registration = cached.as_ref().and_then(|t| match (&t.client_id, &t.client_secret) {
            (Some(id), Some(secret))
                if t.registration_expires_at.is_some_and(|r| r > now + Duration::from_secs(3600)) =>
            {
                Some((id.clone(), SecretString::from(secret.expose_secret().to_owned()), t.registration_expires_at))
            }
            _ => None,
        });
        let (client_id, client_secret, registration_expires_at) = match registration {
            Some(r) => r,
            None => {
                let mut req = i.oidc.register_client().client_name("ccc").client_type("public").scopes(SCOPE);
                if i.profile.session.is_some() {
                    // an sso-session registration is for the start URL and may refresh
                    req = req.issuer_url(&i.profile.start_url);
                    for g in GRANT_TYPES {
                        req = req.grant_types(*g);
                    }
                }
                let out = req.send().await.map_err(|e| {
                    crate::upstream::call_error("SSO OIDC", "RegisterClient", e, ErrorKind::Unavailable)
                })?;
                let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
                    return Err(SsoError::Unavailable("RegisterClient returned no client id or secret".into()));
                };
                let expires = u64::try_from(out.client_secret_expires_at())
                    .ok()
                    .filter(|s| *s > 0)
                    .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
                (id.to_owned(), SecretString::from(secret.to_owned()), expires)
            }
        };
        let start = i
            .oidc
            .start_device_authorization()
            .client_id(&client_id)
            .client_secret(client_secret.expose_secret())
            .start_url(&i.profile.start_url)
            .send()
            .await
            .map_err(|e| {
                crate::upstream::call_error("SSO OIDC", "StartDeviceAuthorization", e, ErrorKind::Unavailable)
            })?;
        let (Some(device_code), Some(user_code), Some(uri)) =
            (start.device_code(), start.user_code(), start.verification_uri())
        else {
            return Err(SsoError::Unavailable("StartDeviceAuthorization returned no device code".into()));
        };
        let expires_in = secs(start.expires_in()).min(MAX_WAIT);
        show(&DeviceCode {
            verification_uri: uri.to_owned(),
            verification_uri_complete: start.verification_uri_complete().map(str::to_owned),
            user_code: user_code.to_owned(),
            expires_in,
        });
        let mut interval = secs(start.interval()).clamp(Duration::from_secs(1), MAX_INTERVAL);
        let mut waited = Duration::ZERO;
        let out = loop {
            if waited >= expires_in {
                return Err(SsoError::Authentication(format!(
                    "the sign-in was not approved within {} s; start it again",
                    expires_in.as_secs()
                )));
            }
            i.sleeper.sleep(interval).await;
            waited += interval;
            let polled = i
                .oidc
                .create_token()
                .client_id(&client_id)
                .client_secret(client_secret.expose_secret())
                .grant_type(DEVICE_GRANT)
                .device_code(device_code)
                .send()
                .await;
            match polled {
                Ok(out) => break out,
                Err(e) => match e.code() {
                    Some("AuthorizationPendingException") => continue,
                    Some("SlowDownException") => interval = (interval + Duration::from_secs(5)).min(MAX_INTERVAL),
                    Some("AccessDeniedException") => {
                        return Err(SsoError::Authentication("the sign-in was refused in the browser".into()));
                    }
                    Some("ExpiredTokenException") => {
                        return Err(SsoError::Authentication("the sign-in code expired; start it again".into()));
                    }
                    _ => return Err(crate::upstream::call_error("SSO OIDC", "CreateToken", e, ErrorKind::Unavailable)),
                },
            }
        };
        let access =
            out.access_token().ok_or_else(|| SsoError::Unavailable("CreateToken returned no access token".into()))?;
        let token = SsoToken {
            access_token: SecretString::from(access.to_owned()),
            expires_at: i.clock.now() + secs(out.expires_in()),
            refresh_token: out.refresh_token().map(|r| SecretString::from(r.to_owned())),
            client_id: Some(client_id),
            client_secret: Some(client_secret),
            registration_expires_at,
            region: Some(i.profile.sso_region.clone()),
            start_url: Some(i.profile.start_url.clone()),
            extra: Default::default(),
        };
        let target = i.cache.refresh_lock(&key);
        let _lock = tokio::task::spawn_blocking(move || {
            cred_store::fsutil::lock_within(&target, crate::upstream::REFRESH_LOCK_WAIT)
        })
        .await
        .map_err(|e| SsoError::Unavailable(format!("lock task failed: {e}")))??;
        let kept = i.cache.save(&key, &token)?;
        i.record(Outcome::Success { expires_at: Some(kept.expires_at) }).await;
        tracing::info!(profile = %i.profile.name(), "signed in to IAM Identity Center with the device flow");
        Ok(kept)
    }

    /// Until when the cached sign-in is good, if it is valid beyond the refresh window (a
    /// new sign-in would throw it away for nothing).
    pub fn signed_in_until(&self) -> Result<Option<SystemTime>, SsoError> {
        let i = &self.inner;
        let now = i.clock.now();
        Ok(i.cache
            .load(i.profile.cache_key())?
            .map(|t| t.expires_at)
            .filter(|&at| !i.refresh_window.needs_refresh(Some(at), now)))
    }

    /// The accounts the signed-in user can use (`ListAccounts`, every page): id and name.
    pub async fn accounts(&self) -> Result<Vec<(String, String)>, SsoError> {
        let token = self.inner.obtain_token(false).await?;
        let mut pages =
            self.inner.sso.list_accounts().access_token(token.access_token.expose_secret()).into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                crate::upstream::call_error("IAM Identity Center", "ListAccounts", e, ErrorKind::Unavailable)
            })?;
            for a in page.account_list() {
                out.push((
                    a.account_id().unwrap_or_default().to_owned(),
                    a.account_name().unwrap_or_default().to_owned(),
                ));
            }
        }
        Ok(out)
    }

    /// The roles the signed-in user can assume in `account` (`ListAccountRoles`, every page).
    pub async fn roles(&self, account: &str) -> Result<Vec<String>, SsoError> {
        let token = self.inner.obtain_token(false).await?;
        let mut pages = self
            .inner
            .sso
            .list_account_roles()
            .access_token(token.access_token.expose_secret())
            .account_id(account)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                crate::upstream::call_error("IAM Identity Center", "ListAccountRoles", e, ErrorKind::Unavailable)
            })?;
            out.extend(page.role_list().iter().filter_map(|r| r.role_name().map(str::to_owned)));
        }
        Ok(out)
    }
}
