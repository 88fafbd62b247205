//! The refreshing cache as an AWS SDK credentials provider, and a source that never changes.

use std::borrow::Cow;
use std::fmt;

use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use core_types::{AwsCredentials, CredentialSource, ExposeSecret};

use crate::error::{Error, Result};
use crate::refreshing::Refreshing;

/// Converts our credentials into the AWS SDK's.
pub fn to_sdk_credentials(c: &AwsCredentials) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        c.access_key_id().expose_secret(),
        c.secret_access_key().expose_secret(),
        c.session_token().map(|t| t.expose_secret().to_owned()),
        c.expiration(),
        "ccc-refreshing-cache",
    )
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
                Err(e) => Err(CredentialsError::provider_error(e)),
            }
        })
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
