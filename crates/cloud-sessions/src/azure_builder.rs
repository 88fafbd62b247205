//! The Azure identity chain without YAML: [`AzureSession::builder`] makes the same caching,
//! reporting `TokenCredential` a declared session gets, for any Azure SDK client.

use std::sync::Arc;

use azure_core::credentials::Secret;
use core_types::{ExposeSecret, SecretString};

use crate::azure::{AzureSession, AzureSpec, AzureWay};
use crate::options::ManagerOptions;

/// Builds an [`AzureSession`] in code. With no way chosen it is the chain (environment →
/// workload identity → managed identity → Azure CLI), pinning the first that answers.
#[must_use]
pub struct AzureSessionBuilder {
    name: String,
    tenant_id: Option<String>,
    subscription_id: Option<String>,
    client_id: Option<String>,
    authority_host: Option<String>,
    way: Way,
    options: ManagerOptions,
}

enum Way {
    Chain,
    ClientSecret(SecretString),
    Workload(String),
    ManagedIdentity,
    AzureCli,
}

impl std::fmt::Debug for AzureSessionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSessionBuilder")
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl AzureSession {
    /// A builder for a session named `name` (the name appears in reports and errors).
    pub fn builder(name: impl Into<String>) -> AzureSessionBuilder {
        AzureSessionBuilder {
            name: name.into(),
            tenant_id: None,
            subscription_id: None,
            client_id: None,
            authority_host: None,
            way: Way::Chain,
            options: ManagerOptions::default(),
        }
    }
}

impl AzureSessionBuilder {
    /// The Entra tenant.
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant.into());
        self
    }
    /// The subscription (reported; Azure SDK clients take it themselves).
    pub fn subscription_id(mut self, subscription: impl Into<String>) -> Self {
        self.subscription_id = Some(subscription.into());
        self
    }
    /// The application (client) id; for a managed identity, the user-assigned identity.
    pub fn client_id(mut self, client: impl Into<String>) -> Self {
        self.client_id = Some(client.into());
        self
    }
    /// The authority for sovereign or private clouds (default `AZURE_AUTHORITY_HOST`, else
    /// `https://login.microsoftonline.com`).
    pub fn authority_host(mut self, host: impl Into<String>) -> Self {
        self.authority_host = Some(host.into());
        self
    }
    /// A service principal's secret (needs tenant and client ids).
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.way = Way::ClientSecret(secret);
        self
    }
    /// Workload identity with this federated token file (needs tenant and client ids).
    pub fn federated_token_file(mut self, file: impl Into<String>) -> Self {
        self.way = Way::Workload(file.into());
        self
    }
    /// The managed identity only.
    pub fn managed_identity(mut self) -> Self {
        self.way = Way::ManagedIdentity;
        self
    }
    /// The Azure CLI's sign-in only.
    pub fn azure_cli(mut self) -> Self {
        self.way = Way::AzureCli;
        self
    }
    /// The environment, HTTP client, clock, refresh window and attempt timeout to use.
    pub fn options(mut self, options: ManagerOptions) -> Self {
        self.options = options;
        self
    }

    /// The session: a caching `TokenCredential` (see [`AzureSession::credential`]) that says
    /// which credential answered ([`AzureSession::attempts`]).
    pub fn build(self) -> AzureSession {
        let way = match self.way {
            Way::Chain => AzureWay::Chain,
            Way::ClientSecret(s) => AzureWay::ClientSecret(Secret::new(s.expose_secret().to_owned())),
            Way::Workload(f) => AzureWay::Workload(f),
            Way::ManagedIdentity => AzureWay::ManagedIdentity,
            Way::AzureCli => AzureWay::AzureCli,
        };
        let spec = AzureSpec {
            tenant_id: self.tenant_id,
            subscription_id: self.subscription_id,
            client_id: self.client_id,
            authority_host: self.authority_host,
            way,
        };
        let tokens = crate::build::azure_tokens(&self.options, &self.name, &spec);
        AzureSession {
            name: self.name,
            tenant_id: spec.tenant_id,
            subscription_id: spec.subscription_id,
            tokens: Arc::new(tokens),
            #[cfg(feature = "azure-browser")]
            browser: None,
        }
    }
}
