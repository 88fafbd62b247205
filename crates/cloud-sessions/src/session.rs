//! The built sessions: an AWS `SdkConfig` whose credentials keep themselves valid, or an
//! Azure credential.

use std::fmt;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::AwsCredentials;
use cred_store::Refreshing;

#[cfg(feature = "azure")]
use crate::azure::AzureSession;
use crate::config::SessionType;
use crate::renew::Renewer;
use crate::sources::RoleSource;

/// An AWS session: an `SdkConfig` whose credentials keep themselves valid.
#[derive(Clone)]
pub struct AwsSession {
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) sdk: SdkConfig,
    pub(crate) provider: SharedCredentialsProvider,
    pub(crate) role: Option<Refreshing<RoleSource>>,
    pub(crate) renewer: Option<Renewer>,
    pub(crate) static_keys: Option<AwsCredentials>,
    /// The AWS profile the credentials come from, for a `profile` session.
    pub(crate) profile: Option<String>,
    /// The retry classifier of its reactive refresh.
    pub(crate) reactive: crate::reactive::ReactiveRefresh,
}

impl fmt::Debug for AwsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSession").field("name", &self.name).field("region", &self.region).finish_non_exhaustive()
    }
}

impl AwsSession {
    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// Build any aws-sdk client from this.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }
    /// Its credentials provider.
    pub fn credentials_provider(&self) -> SharedCredentialsProvider {
        self.provider.clone()
    }
    /// The retry classifier that renews a credential AWS refuses while the cache holds it
    /// valid (a revoked session, a skewed clock), once, and retries the call once: add it to
    /// any client built from [`AwsSession::sdk_config`] (the crate README shows how).
    pub fn reactive_refresh(&self) -> crate::reactive::ReactiveRefresh {
        self.reactive.clone()
    }
}

/// A declared session of either kind (the Azure kind with feature `azure`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Session {
    /// An AWS session (boxed: an `SdkConfig` is large).
    Aws(Box<AwsSession>),
    /// An Azure session.
    #[cfg(feature = "azure")]
    Azure(AzureSession),
}

impl Session {
    /// The session's name.
    pub fn name(&self) -> &str {
        match self {
            Session::Aws(s) => s.name(),
            #[cfg(feature = "azure")]
            Session::Azure(s) => s.name(),
        }
    }
    /// Its kind.
    pub fn session_type(&self) -> SessionType {
        match self {
            Session::Aws(_) => SessionType::Aws,
            #[cfg(feature = "azure")]
            Session::Azure(_) => SessionType::Azure,
        }
    }
    /// The AWS session, if it is one.
    pub fn as_aws(&self) -> Option<&AwsSession> {
        match self {
            Session::Aws(s) => Some(s),
            #[cfg(feature = "azure")]
            Session::Azure(_) => None,
        }
    }
    /// The Azure session, if it is one.
    #[cfg(feature = "azure")]
    pub fn as_azure(&self) -> Option<&AzureSession> {
        match self {
            Session::Azure(s) => Some(s),
            Session::Aws(_) => None,
        }
    }
}
