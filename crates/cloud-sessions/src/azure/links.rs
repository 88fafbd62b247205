//! From a declaration to the chain's credentials: exactly one when it names a way, else
//! environment → workload identity → managed identity → Azure CLI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, HttpClient, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use core_types::{Clock, RefreshPolicy};

use super::chain::{AzureChain, Link, first_line};
use super::tokens::AzureTokens;
use super::transport::CliExecutor;

/// How long the chain waits for the VM metadata endpoint when no managed-identity endpoint
/// is configured (it answers in milliseconds on Azure and never elsewhere).
const IMDS_PROBE: Duration = Duration::from_secs(2);

/// An Azure declaration with its references resolved.
pub(crate) struct AzureSpec {
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
    pub client_id: Option<String>,
    pub authority_host: Option<String>,
    pub way: AzureWay,
}

/// The credential a declaration asks for, resolved (the plan's `AzureCredentialPlan`).
pub(crate) enum AzureWay {
    ClientSecret(Secret),
    Workload(String),
    ManagedIdentity,
    AzureCli,
    /// A developer's browser sign-in (unavailable without the `azure-browser` feature).
    #[cfg(feature = "azure-browser")]
    InteractiveBrowser(Arc<super::BrowserCredential>),
    #[cfg(not(feature = "azure-browser"))]
    InteractiveBrowser,
    Chain,
}

/// What building a chain needs from the manager.
pub(crate) struct AzureEnv<'a> {
    pub env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    pub transport: Arc<dyn HttpClient>,
    pub clock: Arc<dyn Clock>,
    pub refresh_window: RefreshPolicy,
    pub attempt_timeout: Duration,
    /// Where tokens are kept between processes, if anywhere.
    pub token_cache: Option<cred_store::TokenStore>,
}

impl AzureEnv<'_> {
    fn client_options(&self, authority_host: Option<&str>) -> ClientOptions {
        let mut o = ClientOptions { transport: Some(Transport::new(self.transport.clone())), ..Default::default() };
        if let Some(host) = authority_host {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = host.to_owned();
            o.cloud = Some(Arc::new(custom.into()));
        }
        o
    }

    fn var(&self, k: &str) -> Option<String> {
        (self.env)(k).filter(|v| !v.is_empty())
    }

    fn link(&self, name: &'static str, credential: Result<Arc<dyn TokenCredential>, String>) -> Link {
        Link { name, credential, timeout: self.attempt_timeout, can_reject: false }
    }

    fn service_principal(&self, tenant: &str, client: &str, secret: Secret, host: Option<&str>) -> Link {
        let options = ClientSecretCredentialOptions { client_options: self.client_options(host) };
        let made = ClientSecretCredential::new(tenant, client.to_owned(), secret, Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        Link { can_reject: true, ..self.link("service principal", made) }
    }

    fn workload(&self, tenant: &str, client: &str, file: &str, host: Option<&str>) -> Link {
        let mut options = WorkloadIdentityCredentialOptions {
            tenant_id: Some(tenant.to_owned()),
            client_id: Some(client.to_owned()),
            token_file_path: Some(file.into()),
            ..Default::default()
        };
        options.credential_options.client_options = self.client_options(host);
        let made = WorkloadIdentityCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        Link { can_reject: true, ..self.link("workload identity", made) }
    }

    fn managed(&self, client_id: Option<&str>) -> Link {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.map(|c| UserAssignedId::ClientId(c.to_owned())),
            client_options: self.client_options(None),
        };
        let endpoint_configured = self.var("IDENTITY_ENDPOINT").is_some() || self.var("MSI_ENDPOINT").is_some();
        let made = ManagedIdentityCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        let mut link = self.link("managed identity", made);
        if !endpoint_configured {
            link.timeout = link.timeout.min(IMDS_PROBE);
        }
        link
    }

    fn cli(&self, tenant: Option<&str>, subscription: Option<&str>) -> Link {
        let options = AzureCliCredentialOptions {
            tenant_id: tenant.map(str::to_owned),
            subscription: subscription.map(str::to_owned),
            executor: Some(Arc::new(CliExecutor { path: self.var("PATH"), timeout: self.attempt_timeout })),
        };
        let made = AzureCliCredential::new(Some(options))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| first_line(&e.to_string()));
        self.link("azure cli", made)
    }

    /// The credentials a declaration asks for: exactly one when it names a way, else the chain
    /// environment → workload identity → managed identity → Azure CLI.
    pub(crate) fn chain(&self, session: &str, spec: &AzureSpec) -> AzureTokens {
        let host = spec.authority_host.clone().or_else(|| self.var("AZURE_AUTHORITY_HOST"));
        let host = host.as_deref();
        // the plan has checked that a secret or a token file comes with tenant_id and client_id
        let (tenant, client) =
            (spec.tenant_id.as_deref().unwrap_or_default(), spec.client_id.as_deref().unwrap_or_default());
        let links = match &spec.way {
            AzureWay::ClientSecret(secret) => vec![self.service_principal(tenant, client, secret.clone(), host)],
            AzureWay::Workload(file) => vec![self.workload(tenant, client, file, host)],
            AzureWay::ManagedIdentity => vec![self.managed(spec.client_id.as_deref())],
            AzureWay::AzureCli => vec![self.cli(spec.tenant_id.as_deref(), spec.subscription_id.as_deref())],
            #[cfg(feature = "azure-browser")]
            AzureWay::InteractiveBrowser(b) => {
                vec![Link {
                    can_reject: true,
                    ..self.link("interactive browser", Ok(b.clone() as Arc<dyn TokenCredential>))
                }]
            }
            #[cfg(not(feature = "azure-browser"))]
            AzureWay::InteractiveBrowser => vec![self.link(
                "interactive browser",
                Err("this build has no interactive browser sign-in (cloud-sessions feature azure-browser)".into()),
            )],
            AzureWay::Chain => {
                let tenant = spec.tenant_id.clone().or_else(|| self.var("AZURE_TENANT_ID"));
                let client = spec.client_id.clone().or_else(|| self.var("AZURE_CLIENT_ID"));
                let missing = |names: &[(&str, bool)]| {
                    let m: Vec<&str> = names.iter().filter(|(_, set)| !set).map(|(n, _)| *n).collect();
                    format!("{} not set", m.join(", "))
                };
                let env_sp = match (&tenant, &client, self.var("AZURE_CLIENT_SECRET")) {
                    (Some(t), Some(c), Some(s)) => self.service_principal(t, c, Secret::new(s), host),
                    (t, c, s) => self.link(
                        "environment",
                        Err(missing(&[
                            ("AZURE_TENANT_ID", t.is_some()),
                            ("AZURE_CLIENT_ID", c.is_some()),
                            ("AZURE_CLIENT_SECRET", s.is_some()),
                        ])),
                    ),
                };
                let env_sp = Link { name: "environment", ..env_sp };
                let workload = match (&tenant, &client, self.var("AZURE_FEDERATED_TOKEN_FILE")) {
                    (Some(t), Some(c), Some(f)) => self.workload(t, c, &f, host),
                    (t, c, f) => self.link(
                        "workload identity",
                        Err(missing(&[
                            ("AZURE_TENANT_ID", t.is_some()),
                            ("AZURE_CLIENT_ID", c.is_some()),
                            ("AZURE_FEDERATED_TOKEN_FILE", f.is_some()),
                        ])),
                    ),
                };
                vec![
                    env_sp,
                    workload,
                    self.managed(spec.client_id.as_deref()),
                    self.cli(spec.tenant_id.as_deref(), spec.subscription_id.as_deref()),
                ]
            }
        };
        let persist = self.token_cache.clone().map(|store| {
            let (account, who) = self.cache_identity(spec, &links, host);
            super::tokens::Persist { store, account, who }
        });
        let chain = AzureChain {
            session: session.to_owned(),
            links,
            pinned: Mutex::default(),
            attempts: Mutex::default(),
            fetches: std::sync::atomic::AtomicU64::new(0),
        };
        AzureTokens::new(chain, self.clock.clone(), self.refresh_window, persist)
    }

    /// Whose tokens a declaration gets, as the token cache's key: the authority and tenant,
    /// then the way, the client and what else picks the identity (the CLI's subscription;
    /// for the chain, which of its credentials are configured here, so a token one of them
    /// obtained is never served where another would answer).
    fn cache_identity(&self, spec: &AzureSpec, links: &[Link], host: Option<&str>) -> (String, String) {
        let tenant = spec.tenant_id.clone().or_else(|| self.var("AZURE_TENANT_ID")).unwrap_or_else(|| "-".into());
        let client = spec.client_id.clone().or_else(|| self.var("AZURE_CLIENT_ID")).unwrap_or_else(|| "-".into());
        let authority = host.unwrap_or(super::ENTRA).trim_end_matches('/');
        let way = match &spec.way {
            AzureWay::ClientSecret(_) => "service-principal".to_owned(),
            AzureWay::Workload(_) => "workload-identity".to_owned(),
            AzureWay::ManagedIdentity => "managed-identity".to_owned(),
            AzureWay::AzureCli => "azure-cli".to_owned(),
            #[cfg(feature = "azure-browser")]
            AzureWay::InteractiveBrowser(_) => "interactive".to_owned(),
            #[cfg(not(feature = "azure-browser"))]
            AzureWay::InteractiveBrowser => "interactive".to_owned(),
            AzureWay::Chain => {
                let configured: Vec<&str> = links.iter().filter(|l| l.credential.is_ok()).map(|l| l.name).collect();
                format!("chain({})", configured.join(","))
            }
        };
        let subscription = spec.subscription_id.as_deref().unwrap_or("-");
        (format!("{authority}/{tenant}"), format!("{way} client={client} subscription={subscription}"))
    }
}
