//! The refreshing cache as an AWS SDK credentials provider, any AWS SDK provider as a
//! credential source (so the cache can keep what it provides across processes), and a
//! source that never changes.

use std::borrow::Cow;
use std::fmt;

use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, error::CredentialsError};
use core_types::{AwsCredentials, CredentialSource, ErrorKind, ExposeSecret};

use crate::error::{Error, Result};
use crate::refreshing::Refreshing;

/// Converts our credentials into the AWS SDK's (the account id too, when known).
pub fn to_sdk_credentials(c: &AwsCredentials) -> aws_credential_types::Credentials {
    let mut b = aws_credential_types::Credentials::builder()
        .access_key_id(c.access_key_id().expose_secret())
        .secret_access_key(c.secret_access_key().expose_secret())
        .provider_name("ccc-refreshing-cache");
    b.set_session_token(c.session_token().map(|t| t.expose_secret().to_owned()));
    b.set_expiry(c.expiration());
    b.set_account_id(c.account_id().map(aws_credential_types::attributes::AccountId::from));
    b.build()
}

/// A cache failure as the error aws-config's provider chains understand: "nothing here"
/// (not signed in, not configured) is `not_loaded`, so a `CredentialsProviderChain` moves on
/// to its next provider; a wait that ran out is `provider_timed_out`; a bad setting is
/// `invalid_configuration`; an upstream refusal or outage is `provider_error`, which stops
/// the chain (another identity would be a surprise).
pub fn to_credentials_error(e: Error) -> CredentialsError {
    match (&e, core_types::Kinded::kind(&e)) {
        (Error::LockTimeout { waited, .. }, _) => CredentialsError::provider_timed_out(*waited),
        (_, ErrorKind::NotConfigured) => CredentialsError::not_loaded(e),
        (_, ErrorKind::InvalidInput) => CredentialsError::invalid_configuration(e),
        _ => CredentialsError::provider_error(e),
    }
}

impl<S> ProvideCredentials for Refreshing<S>
where
    S: CredentialSource<Output = AwsCredentials>,
{
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            match self.get().await {
                Ok(c) => Ok(to_sdk_credentials(&c)),
                Err(e) => Err(to_credentials_error(e)),
            }
        })
    }
}

/// Any AWS SDK credentials provider (a profile's role chain, a process, a cloud session) as
/// a [`CredentialSource`], so a [`Refreshing`] cache persisted to a file keeps its
/// credentials across processes and renews them once, inside the refresh window, for all.
/// Meant for providers whose credentials expire: one that never expires would be kept until
/// the entry is removed.
#[derive(Clone)]
pub struct SdkProviderSource {
    name: String,
    provider: SharedCredentialsProvider,
}

impl SdkProviderSource {
    /// A source named `name` (not secret: logs and errors show it) over `provider`.
    pub fn new(name: impl Into<String>, provider: SharedCredentialsProvider) -> Self {
        Self { name: name.into(), provider }
    }
}

impl fmt::Debug for SdkProviderSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkProviderSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CredentialSource for SdkProviderSource {
    type Output = AwsCredentials;
    type Error = Error;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials> {
        let c = self.provider.provide_credentials().await.map_err(|e| {
            let kind = match &e {
                CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_) => {
                    ErrorKind::NotConfigured
                }
                _ => ErrorKind::Unavailable,
            };
            // the provider's own words are in its innermost cause
            let why = core_types::innermost_cause(Some(&e)).unwrap_or_else(|| e.to_string());
            Error::Refresh {
                name: self.name.clone(),
                message: core_types::one_line(&why),
                kind,
                source: Some(Box::new(e)),
            }
        })?;
        Ok(from_sdk_credentials(&c))
    }
}

/// The AWS SDK's credentials as the toolkit's (keys, session token, expiry, account).
pub fn from_sdk_credentials(c: &aws_credential_types::Credentials) -> AwsCredentials {
    let out =
        AwsCredentials::new(c.access_key_id(), c.secret_access_key(), c.session_token().map(str::to_owned), c.expiry());
    match c.account_id() {
        Some(a) => out.with_account_id(a.as_str().to_owned()),
        None => out,
    }
}

/// A [`CredentialSource`] that always returns the same value (for static keys in a chain).
#[derive(Clone)]
pub struct StaticSource<T> {
    name: String,
    value: T,
}

impl<T> StaticSource<T> {
    /// A source named `name` yielding `value`.
    pub fn new(name: impl Into<String>, value: T) -> Self {
        Self { name: name.into(), value }
    }
}

impl<T> fmt::Debug for StaticSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<T> CredentialSource for StaticSource<T>
where
    T: core_types::Expiring + Clone + Send + Sync + 'static,
{
    type Output = T;
    type Error = Error;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<T> {
        Ok(self.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use aws_credential_types::provider::error::CredentialsError;
    use core_types::Kinded;

    use super::*;

    #[derive(Debug)]
    struct Fixed(Result<Credentials, &'static str>);

    impl ProvideCredentials for Fixed {
        fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            provider::future::ProvideCredentials::ready(match &self.0 {
                Ok(c) => Ok(c.clone()),
                Err(why) => Err(CredentialsError::not_loaded(*why)),
            })
        }
    }

    #[test]
    fn cache_failures_map_to_what_sdk_chains_expect() {
        let refresh = |kind| Error::Refresh { name: "n".into(), message: "m".into(), kind, source: None };
        assert!(matches!(
            to_credentials_error(refresh(ErrorKind::NotConfigured)),
            CredentialsError::CredentialsNotLoaded(_)
        ));
        assert!(matches!(
            to_credentials_error(refresh(ErrorKind::InvalidInput)),
            CredentialsError::InvalidConfiguration(_)
        ));
        assert!(matches!(to_credentials_error(refresh(ErrorKind::Unavailable)), CredentialsError::ProviderError(_)));
        assert!(matches!(to_credentials_error(refresh(ErrorKind::NotAuthorized)), CredentialsError::ProviderError(_)));
        let waited = Error::LockTimeout { path: "x".into(), waited: Duration::from_secs(45) };
        assert!(matches!(to_credentials_error(waited), CredentialsError::ProviderTimedOut(_)));
        let c = to_sdk_credentials(&AwsCredentials::new("AKIA1", "s", None, None).with_account_id("123456789012"));
        assert_eq!(c.account_id().map(|a| a.as_str()), Some("123456789012"));
    }

    #[tokio::test]
    async fn an_sdk_provider_is_a_credential_source() {
        let until = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let c = Credentials::new("ASIAEXAMPLE", "s3cr3t-value", Some("tok".into()), Some(until), "test");
        let got =
            SdkProviderSource::new("profile p", SharedCredentialsProvider::new(Fixed(Ok(c)))).fetch().await.unwrap();
        assert_eq!((got.access_key_id().expose_secret(), got.expiration()), ("ASIAEXAMPLE", Some(until)));
        assert_eq!(got.session_token().map(|t| t.expose_secret().to_owned()).as_deref(), Some("tok"));

        let e = SdkProviderSource::new("profile p", SharedCredentialsProvider::new(Fixed(Err("no role_arn source"))))
            .fetch()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConfigured);
        assert_eq!(e.to_string(), "profile p: no role_arn source");
        let debug =
            format!("{:?}", SdkProviderSource::new("profile p", SharedCredentialsProvider::new(Fixed(Err("x")))));
        assert!(!debug.contains("Fixed"), "{debug}");
    }
}
