//! `build`: executes a [`Plan`], one step at a time in its order, one arm per kind. Every
//! session a step needs and every store its `SEC/` values may come from exist by then.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::ExposeSecret;
use cred_store::{Base, CredentialPlan, RoleHop, plan::Secret};

#[cfg(feature = "azure")]
use crate::azure::{AzureEnv, AzureSession, AzureSpec, AzureWay, secret};
use crate::error::SessionError;
#[cfg(not(all(feature = "azure", feature = "key-vault", feature = "secrets-manager")))]
use crate::error::not_in_this_build;
#[cfg(feature = "key-vault")]
use crate::keyvault::AzureKeyVaultStore;
use crate::options::{ManagerOptions, base_config};
use crate::plan::{AwsCredentialPlan, AwsSessionPlan, Plan, RolePlan, RoleSource, Step, StorePlan};
#[cfg(feature = "azure")]
use crate::plan::{AzureCredentialPlan, AzureSessionPlan};
use crate::refs::{LocalSecretStore, Resolver};
#[cfg(feature = "secrets-manager")]
use crate::secretsmanager::AwsSecretStore;
use crate::session::AwsSession;

/// The sessions a plan built.
pub(crate) struct Built {
    pub aws: BTreeMap<String, AwsSession>,
    #[cfg(feature = "azure")]
    pub azure: BTreeMap<String, AzureSession>,
}

/// A profile the engine could not plan: its reason, on every ask.
#[derive(Debug)]
struct Unplanned(String);

impl aws_credential_types::provider::ProvideCredentials for Unplanned {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(self.0.clone()),
        ))
    }
}

/// Builds every step of `plan` in order.
pub(crate) async fn build(plan: &Plan, options: &ManagerOptions) -> Result<Built, SessionError> {
    let mut resolver = Resolver::new({
        let env = options.env.clone();
        move |k| env(k)
    });
    if let Some(store) = &options.token_store {
        // the local store needs no session: it answers from the start (at the priority the
        // YAML gives it, if it declares one)
        let priority = plan
            .steps
            .iter()
            .find_map(|s| match s {
                Step::Store(StorePlan::Local { priority }) => Some(*priority),
                _ => None,
            })
            .unwrap_or(0);
        resolver.add_store(priority, Arc::new(LocalSecretStore::new(store.clone())));
    }
    let mut team = None;
    let mut built = Built {
        aws: BTreeMap::new(),
        #[cfg(feature = "azure")]
        azure: BTreeMap::new(),
    };
    for step in &plan.steps {
        match step {
            Step::Aws(spec) => {
                let shared = match spec.team {
                    true => {
                        let versions = options.resolved_paths().ok().map(|p| p.ccc_dir.join("team-versions.json"));
                        Some(crate::team::open(plan, &resolver, &mut team, versions).await?)
                    }
                    false => None,
                };
                let made = build_aws(spec, options, &resolver, &built.aws, shared.as_ref()).await;
                for s in made.map_err(|e| own_store_note(e, plan, &spec.name))? {
                    built.aws.insert(s.name.clone(), s);
                }
            }
            #[cfg(feature = "azure")]
            Step::Azure(spec) => {
                let made = build_azure(spec, options, &resolver).await;
                let session = made.map_err(|e| own_store_note(e, plan, &spec.name))?;
                built.azure.insert(spec.name.clone(), session);
            }
            #[cfg(not(feature = "azure"))]
            Step::Azure(spec) => {
                return Err(not_in_this_build(format!("cloud_sessions[{}]", spec.index), "Azure sessions", "azure"));
            }
            Step::Store(StorePlan::Local { .. }) => {}
            #[cfg(feature = "secrets-manager")]
            Step::Store(StorePlan::SecretsManager { session, region, priority, .. }) => {
                let s = &built.aws[session];
                let sdk = match region {
                    Some(r) => s.sdk.to_builder().region(aws_config::Region::new(r.clone())).build(),
                    None => s.sdk.clone(),
                };
                resolver.add_store(*priority, Arc::new(AwsSecretStore::new(&sdk)));
            }
            #[cfg(not(feature = "secrets-manager"))]
            Step::Store(StorePlan::SecretsManager { name, .. }) => {
                let path = format!("secrets_manager.cloud_stores.{name}");
                return Err(not_in_this_build(path, "AWS Secrets Manager stores", "secrets-manager"));
            }
            #[cfg(feature = "key-vault")]
            Step::Store(StorePlan::KeyVault { name, session, vault_url, priority }) => {
                let store = AzureKeyVaultStore::new(vault_url, built.azure[session].clone(), options.http.clone())
                    .map_err(|message| SessionError::Config {
                        path: format!("secrets_manager.cloud_stores.{name}.vault_url"),
                        message,
                    })?
                    .with_retry(options.retry)
                    .with_attempt_timeout(options.attempt_timeout);
                resolver.add_store(*priority, Arc::new(store));
            }
            #[cfg(not(feature = "key-vault"))]
            Step::Store(StorePlan::KeyVault { name, .. }) => {
                let path = format!("secrets_manager.cloud_stores.{name}");
                return Err(not_in_this_build(path, "Azure Key Vault stores", "key-vault"));
            }
        }
    }
    Ok(built)
}

/// A `SEC/` value that no store had, of a session that itself reads a store: that store
/// cannot answer before its own session exists; the error says so.
fn own_store_note(e: SessionError, plan: &Plan, session: &str) -> SessionError {
    let SessionError::Reference { reference, used_by, message } = e else { return e };
    let own: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Store(
                StorePlan::SecretsManager { name, session: by, .. } | StorePlan::KeyVault { name, session: by, .. },
            ) if by == session => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if own.is_empty() || !reference.starts_with("SEC/") {
        return SessionError::Reference { reference, used_by, message };
    }
    let message = format!(
        "{message}; store {} is not ready: it is read through session {session} itself, so it cannot supply that session's values (give them as ENV/NAME or keep them in another store)",
        own.join(", ")
    );
    SessionError::Reference { reference, used_by, message }
}

/// A YAML session's credentials as the engine's plan: the same [`CredentialPlan`] a profile
/// gets (declared keys are a keys base, `source_profile:` is that profile's plan with this
/// role after it, `source:` another session's credentials as the base), with the options to
/// build it (STS in the session's region, except for a profile of the files, whose own region
/// decides as for `ccc creds`). `ENV/` and `SEC/` values are resolved here.
async fn credential_plan(
    plan: &AwsSessionPlan,
    name: &str,
    region: &str,
    options: &ManagerOptions,
    resolver: &Resolver,
) -> Result<(CredentialPlan, ManagerOptions), SessionError> {
    let at = |f: &str| format!("cloud_sessions[{}].{f}", plan.index);
    let in_region = || options.clone().region(region);
    let hop = |role: &RolePlan| {
        let mut hop = RoleHop::new(name, &role.role_arn);
        hop.role_session_name = Some(role.session_name.clone()).filter(|s| !s.is_empty());
        hop.duration_seconds = role.duration_seconds;
        hop
    };
    Ok(match &plan.credentials {
        AwsCredentialPlan::StaticKeys { access_key_id, secret_access_key, session_token } => {
            let id = resolver.resolve(access_key_id, &at("access_key_id")).await?;
            let secret = resolver.resolve(secret_access_key, &at("secret_access_key")).await?;
            let token = resolver.resolve_opt(session_token.as_deref(), &at("session_token")).await?;
            let base = Base::AccessKey {
                access_key_id: id.expose_secret().to_owned(),
                secret_access_key: Secret(secret),
                session_token: token.map(Secret),
                account_id: None,
            };
            (CredentialPlan::new(name, base), in_region())
        }
        AwsCredentialPlan::WebIdentity { role, token_file } => {
            let base = Base::WebIdentity {
                role_arn: role.role_arn.clone(),
                token_file: token_file.clone(),
                role_session_name: Some(role.session_name.clone()).filter(|s| !s.is_empty()),
                duration_seconds: role.duration_seconds,
            };
            (CredentialPlan::new(name, base), in_region())
        }
        AwsCredentialPlan::AssumeRole { role, source, external_id } => {
            let mut hop = hop(role);
            hop.external_id = external_id.clone();
            let base = match source {
                RoleSource::Session(s) => CredentialPlan::new(name, Base::Session(s.clone())),
                RoleSource::Profile(p) => crate::profile::planned(p, options)?.0,
                RoleSource::DefaultChain => CredentialPlan::new(name, Base::DefaultChain),
            };
            (base.then(hop), in_region())
        }
        AwsCredentialPlan::Profile(p) => crate::profile::planned(p, options)?,
        // an `sso_profile:` must be there at load: the error names the session
        AwsCredentialPlan::Sso(p) => crate::profile::planned(p, options).map_err(|e| SessionError::Credentials {
            session: name.to_owned(),
            kind: core_types::Kinded::kind(&e),
            message: format!("sso_profile {p}: {e}"),
        })?,
        AwsCredentialPlan::Cognito { config, username } => {
            let base = Base::Cognito { config: config.clone(), profile: None, username: username.clone() };
            (CredentialPlan::new(name, base), in_region())
        }
        AwsCredentialPlan::DefaultChain => (CredentialPlan::new(name, Base::DefaultChain), in_region()),
    })
}

/// Builds a YAML AWS declaration's sessions (one per region): each planned into the engine's
/// [`CredentialPlan`] and built by the same build as every profile (`profile::build_with`).
async fn build_aws(
    plan: &AwsSessionPlan,
    options: &ManagerOptions,
    resolver: &Resolver,
    built: &BTreeMap<String, AwsSession>,
    team: Option<&crate::team::Team>,
) -> Result<Vec<AwsSession>, SessionError> {
    let mut out = Vec::new();
    for (name, region) in plan.session_names().into_iter().zip(&plan.regions) {
        let of_files = matches!(
            &plan.credentials,
            AwsCredentialPlan::Profile(_) | AwsCredentialPlan::AssumeRole { source: RoleSource::Profile(_), .. }
        );
        let up = crate::profile::Upstream { sessions: Some(built), team, name: Some(name.clone()) };
        let made = match credential_plan(plan, &name, region, options, resolver).await {
            // boxed: the engine's future inside the manager's build is deep enough to overflow layout queries
            Ok((cplan, o)) => Box::pin(crate::profile::build_with(cplan, &o, &up)).await,
            Err(e) => Err(e),
        };
        let (built, unplanned) = match made {
            Ok(b) => (Some(b), None),
            // a profile of the files that cannot be planned or built (not there yet, say)
            // fails when its credentials are asked for, as the SDKs' profile provider does, not
            // the whole manager's build: the other sessions stay usable
            Err(e) if of_files => (None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let (provider, role, renewer) = match (&built, unplanned) {
            (Some(b), _) => (b.provider.clone(), b.role.clone(), b.renewer.clone()),
            (None, why) => (SharedCredentialsProvider::new(Unplanned(why.unwrap_or_default())), None, None),
        };
        let static_keys = match (&plan.credentials, &built) {
            (AwsCredentialPlan::StaticKeys { .. }, Some(b)) => b.plan.base.access_keys(),
            _ => None,
        };
        // a credential AWS refuses while the cache holds it valid is renewed once on the call
        // that saw it (with the session's `reactive_refresh()` classifier on the client)
        let (provider, reactive) = crate::reactive::wrap(provider, renewer.clone());
        let mut sdk = base_config(region, options, Some(provider.clone()), RetryConfig::standard());
        if renewer.is_some() {
            // the refreshing cache decides when to renew (on the manager's clock); the SDK's
            // own identity cache would hold credentials by wall-clock expiry instead
            sdk = sdk.to_builder().identity_cache(aws_config::identity::IdentityCache::no_cache()).build();
        }
        let profile = match &plan.credentials {
            AwsCredentialPlan::Profile(p) => Some(p.clone()),
            _ => None,
        };
        out.push(AwsSession {
            name,
            region: region.clone(),
            sdk,
            provider,
            role,
            renewer,
            static_keys,
            profile,
            reactive,
        });
    }
    Ok(out)
}

#[cfg(feature = "azure")]
/// A declaration's credentials behind the token cache, with the manager's environment, HTTP
/// client, clock, refresh window and attempt timeout (YAML sessions and the builder alike).
pub(crate) fn azure_tokens(options: &ManagerOptions, name: &str, spec: &AzureSpec) -> crate::azure::AzureTokens {
    let ctx = AzureEnv {
        env: &*options.env,
        transport: options.azure_transport(),
        clock: options.clock.clone(),
        refresh_window: options.refresh_window,
        attempt_timeout: options.attempt_timeout,
        token_cache: options.azure_token_cache.clone(),
    };
    ctx.chain(name, spec)
}

#[cfg(feature = "azure")]
async fn build_azure(
    plan: &AzureSessionPlan,
    options: &ManagerOptions,
    resolver: &Resolver,
) -> Result<AzureSession, SessionError> {
    let at = |f: &str| format!("cloud_sessions[{}].{f}", plan.index);
    let plain = async |v: &Option<String>, field: &str| -> Result<Option<String>, SessionError> {
        Ok(resolver.resolve_opt(v.as_deref(), &at(field)).await?.map(|s| s.expose_secret().to_owned()))
    };
    let way = match &plan.credentials {
        AzureCredentialPlan::ClientSecret(v) => {
            AzureWay::ClientSecret(secret(&resolver.resolve(v, &at("client_secret")).await?))
        }
        AzureCredentialPlan::Workload(file) => {
            AzureWay::Workload(plain(&Some(file.clone()), "federated_token_file").await?.unwrap_or_default())
        }
        AzureCredentialPlan::ManagedIdentity => AzureWay::ManagedIdentity,
        AzureCredentialPlan::AzureCli => AzureWay::AzureCli,
        #[cfg(feature = "azure-browser")]
        AzureCredentialPlan::InteractiveBrowser => {
            let tenant = plain(&plan.tenant_id, "tenant_id").await?;
            let client = plain(&plan.client_id, "client_id").await?.unwrap_or_default();
            let store = match (&options.token_store, &options.paths) {
                (Some(s), _) => s.clone(),
                (None, Some(p)) => cred_store::TokenStore::new(p),
                (None, None) => cred_store::TokenStore::new(&cred_store::Paths::from_env()?),
            };
            AzureWay::InteractiveBrowser(Arc::new(crate::azure::BrowserCredential {
                issuer: crate::azure::BrowserCredential::issuer(plan.authority_host.as_deref(), tenant.as_deref()),
                client_id: client,
                store,
                clock: options.clock.clone(),
            }))
        }
        #[cfg(not(feature = "azure-browser"))]
        AzureCredentialPlan::InteractiveBrowser => AzureWay::InteractiveBrowser,
        AzureCredentialPlan::Chain => AzureWay::Chain,
    };
    // tenant and client: declared, else the environment's (as azure_identity's environment
    // credential reads them); a service principal or workload needs both
    let from_env = |name: &str| (options.env)(name).filter(|v| !v.is_empty());
    let mut tenant_id = plain(&plan.tenant_id, "tenant_id").await?.or_else(|| from_env("AZURE_TENANT_ID"));
    let mut client_id = plain(&plan.client_id, "client_id").await?.or_else(|| from_env("AZURE_CLIENT_ID"));
    if let AzureWay::ClientSecret(_) | AzureWay::Workload(_) = &way {
        let way_name = if matches!(way, AzureWay::ClientSecret(_)) { "client_secret" } else { "federated_token_file" };
        for (key, variable, value) in
            [("tenant_id", "AZURE_TENANT_ID", &mut tenant_id), ("client_id", "AZURE_CLIENT_ID", &mut client_id)]
        {
            if value.is_none() {
                return Err(SessionError::Config {
                    path: at(key),
                    message: format!("missing: {way_name} needs {key}; declare it or set {variable}"),
                });
            }
        }
    }
    let spec = AzureSpec {
        tenant_id,
        subscription_id: plain(&plan.subscription_id, "subscription_id").await?,
        client_id,
        authority_host: plan.authority_host.clone(),
        way,
    };
    let chain = azure_tokens(options, &plan.name, &spec);
    Ok(AzureSession {
        name: plan.name.clone(),
        #[cfg(feature = "azure-browser")]
        browser: match &spec.way {
            AzureWay::InteractiveBrowser(b) => Some(b.clone()),
            _ => None,
        },
        tenant_id: spec.tenant_id,
        subscription_id: spec.subscription_id,
        tokens: Arc::new(chain),
    })
}

#[cfg(test)]
mod tests {
    use crate::{CloudSessionManager, ManagerOptions};

    /// The manager honours the user's role: the file's `user.role`, or the options' over it.
    #[tokio::test]
    async fn the_manager_serves_the_users_sessions_only() {
        let yaml = "cloud_sessions:\n  - name: keys\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAEXAMPLE\n    secret_access_key: ENV/K\n  - name: other\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAEXAMPLE\n    secret_access_key: ENV/K\nroles:\n  ci:\n    allowed_sessions: [keys]\n  admin:\n    allowed_sessions: [\"*\"]\nuser:\n  role: ci\n";
        let options = || ManagerOptions::default().env(|_| Some("k".into()));
        let m = CloudSessionManager::from_yaml(yaml, options()).await.unwrap();
        assert_eq!(m.user_role(), Some("ci"));
        assert!(m.get_user_session("keys").is_ok());
        let e = m.get_user_session("other").unwrap_err();
        assert!(e.to_string().contains("role \"ci\" may not use session \"other\""), "{e}");
        let m = CloudSessionManager::from_yaml(yaml, options().user_role("admin")).await.unwrap();
        assert!(m.get_user_session("other").is_ok(), "`*` is every session");
    }

    /// A service principal's tenant and client may come from AZURE_TENANT_ID and
    /// AZURE_CLIENT_ID (as the design's own examples expect); when neither the YAML nor the
    /// environment gives one, the error names the key and the variable.
    #[cfg(feature = "azure")]
    #[tokio::test]
    async fn a_service_principals_tenant_and_client_come_from_the_environment() {
        let yaml = "cloud_sessions:\n  - name: sp\n    session_type: azure\n    client_secret: ENV/S\n";
        let with = |vars: &'static [(&'static str, &'static str)]| {
            ManagerOptions::default().env(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
        };
        let none = CloudSessionManager::from_yaml(yaml, with(&[("S", "s")])).await.unwrap_err().to_string();
        assert!(
            none.starts_with(
                "cloud_sessions[0].tenant_id: missing: client_secret needs tenant_id; declare it or set AZURE_TENANT_ID"
            ),
            "{none}"
        );
        let tenant_only = with(&[("S", "s"), ("AZURE_TENANT_ID", "t")]);
        let e = CloudSessionManager::from_yaml(yaml, tenant_only).await.unwrap_err().to_string();
        assert!(e.starts_with("cloud_sessions[0].client_id:") && e.contains("AZURE_CLIENT_ID"), "{e}");
        let both = with(&[("S", "s"), ("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")]);
        let m = CloudSessionManager::from_yaml(yaml, both).await.unwrap();
        assert_eq!(m.azure_session("sp").unwrap().tenant_id(), Some("t"));
    }

    /// A declaration whose kind this build left out fails at its entry, naming the feature
    /// that would serve it; with every feature, the same declarations build.
    #[tokio::test]
    async fn what_the_build_lacks_is_named_at_its_entry() {
        let options = || ManagerOptions::default().env(|_| None).endpoint_url("http://127.0.0.1:1");
        let azure = "cloud_sessions:\n  - name: kv\n    session_type: azure\n    tenant_id: t\n    client_id: c\n    use_managed_identity: true\n";
        let made = CloudSessionManager::from_yaml(azure, options()).await;
        if cfg!(feature = "azure") {
            made.unwrap();
        } else {
            let e = made.unwrap_err().to_string();
            assert!(e.starts_with("cloud_sessions[0]") && e.contains("`azure` feature"), "{e}");
        }
        let store = "cloud_sessions:\n  - name: a\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAEXAMPLE\n    secret_access_key: ENV/K\nsecrets_manager:\n  cloud_stores:\n    sm:\n      store_type: aws\n      session_name: a\n";
        let made = CloudSessionManager::from_yaml(store, ManagerOptions::default().env(|_| Some("k".into()))).await;
        if cfg!(feature = "secrets-manager") {
            made.unwrap();
        } else {
            let e = made.unwrap_err().to_string();
            assert!(e.contains("secrets_manager.cloud_stores.sm") && e.contains("`secrets-manager` feature"), "{e}");
        }
    }
}
