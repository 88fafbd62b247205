//! The `cloud_sessions:` YAML, parsed strictly: unknown keys, missing fields, a kind with the
//! other kind's fields and duplicate names are errors with the YAML path; a plaintext secret
//! where a reference belongs is a warning.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::error::SessionError;
use crate::refs::ValueRef;

/// `aws` or `azure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SessionType {
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
}

/// One declared session, as written (values may be `ENV/` or `SEC/` references).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionSpec {
    /// Unique name.
    pub name: String,
    /// `aws` or `azure`.
    pub session_type: Option<SessionType>,
    // --- aws
    /// Region.
    pub region: Option<String>,
    /// One session per region, named `NAME-REGION` (the first region also answers to `NAME`).
    pub regions: Option<Vec<String>>,
    /// An AWS CLI profile (SSO profiles included).
    pub profile: Option<String>,
    /// Static keys.
    pub access_key_id: Option<String>,
    /// Static keys.
    pub secret_access_key: Option<String>,
    /// Static keys' session token.
    pub session_token: Option<String>,
    /// Role to assume.
    pub role_arn: Option<String>,
    /// AssumeRole session name.
    pub session_name: Option<String>,
    /// Another session whose credentials assume the role.
    pub source: Option<String>,
    /// A profile whose credentials assume the role.
    pub source_profile: Option<String>,
    /// AssumeRole duration.
    pub duration_seconds: Option<u32>,
    /// AssumeRole external id.
    pub external_id: Option<String>,
    /// A web-identity (OIDC) token file for AssumeRoleWithWebIdentity.
    pub web_identity_token_file: Option<String>,
    /// An IAM Identity Center (SSO) profile of `~/.aws/config` (its `sso_session` honoured),
    /// kept valid by sso-refresh: refresh window, retries, ledger (feature `sso`).
    pub sso_profile: Option<String>,
    /// A ccc configuration (`~/.ccc/config.json`) whose Cognito user (`username`, signed in
    /// with `ccc login`) is kept signed in through the identity pool (feature `cognito`).
    pub cognito: Option<String>,
    /// The Cognito user of a `cognito` session.
    pub username: Option<String>,
    // --- azure
    /// Entra tenant.
    pub tenant_id: Option<String>,
    /// Subscription.
    pub subscription_id: Option<String>,
    /// Client (application) id.
    pub client_id: Option<String>,
    /// Client secret of a service principal.
    pub client_secret: Option<String>,
    /// Use the managed identity.
    #[serde(default)]
    pub use_managed_identity: bool,
    /// Use the Azure CLI's sign-in.
    #[serde(default)]
    pub use_azure_cli: bool,
    /// Use a developer's browser sign-in (authorization code + PKCE against the tenant's
    /// authority, the refresh token in the token store); needs client_id.
    #[serde(default)]
    pub use_interactive_browser: bool,
    /// Workload identity federated token file.
    pub federated_token_file: Option<String>,
    /// Entra authority for sovereign or private clouds (default: `AZURE_AUTHORITY_HOST`, else
    /// `https://login.microsoftonline.com`).
    pub authority_host: Option<String>,
    /// Whether this session's refreshes are shared by every machine using the file's
    /// `team_store` (an assumed role, a web identity or a Cognito sign-in): one machine
    /// refreshes, the others read its result.
    #[serde(default)]
    pub team_store: bool,
}

/// The team store sessions with `team_store: true` share refreshes through (PostgreSQL).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TeamStoreSpec {
    /// `postgres://…`, or a reference to it (`ENV/NAME`, `SEC/NAME`: the URL may hold a password).
    pub url: String,
    /// The team key (32 bytes, base64) as a reference (`ENV/NAME`, `SEC/NAME`), or the path of
    /// a private file holding it.
    pub key: String,
}

impl std::fmt::Debug for TeamStoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = if self.url.contains("://") { cred_store::redact_url(&self.url) } else { self.url.clone() };
        f.debug_struct("TeamStoreSpec").field("url", &url).field("key", &self.key).finish()
    }
}

/// A plaintext secret shows as `[REDACTED]`; an `ENV/` or `SEC/` reference names no secret
/// and shows as written.
fn redact_plain(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(|v| if v.starts_with("ENV/") || v.starts_with("SEC/") { v } else { "[REDACTED]" })
}

impl std::fmt::Debug for SessionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSpec")
            .field("name", &self.name)
            .field("session_type", &self.session_type)
            .field("region", &self.region)
            .field("regions", &self.regions)
            .field("profile", &self.profile)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redact_plain(&self.secret_access_key))
            .field("session_token", &redact_plain(&self.session_token))
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("source", &self.source)
            .field("source_profile", &self.source_profile)
            .field("duration_seconds", &self.duration_seconds)
            .field("external_id", &self.external_id)
            .field("web_identity_token_file", &self.web_identity_token_file)
            .field("sso_profile", &self.sso_profile)
            .field("cognito", &self.cognito)
            .field("username", &self.username)
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact_plain(&self.client_secret))
            .field("use_managed_identity", &self.use_managed_identity)
            .field("use_azure_cli", &self.use_azure_cli)
            .field("use_interactive_browser", &self.use_interactive_browser)
            .field("federated_token_file", &self.federated_token_file)
            .field("authority_host", &self.authority_host)
            .field("team_store", &self.team_store)
            .finish()
    }
}

/// A role for access control.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RoleSpec {
    /// Sessions the role may use (`*` for all).
    #[serde(default)]
    pub allowed_sessions: Vec<String>,
}

/// The user of the sessions (the design's `settings.get('user.role')`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserSpec {
    /// The role whose `allowed_sessions` this user may use.
    pub role: Option<String>,
}

/// Where a secret store keeps its secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreType {
    /// AWS Secrets Manager, read with an AWS session's credentials.
    Aws,
    /// Azure Key Vault, read with an Azure session's credential.
    Azure,
    /// The ccc token store on this machine.
    Local,
}

impl StoreType {
    /// As written in the YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Aws => "aws",
            StoreType::Azure => "azure",
            StoreType::Local => "local",
        }
    }
}

/// A secret store for `SEC/` references.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StoreSpec {
    /// `aws`, `azure` or `local`.
    pub store_type: StoreType,
    /// Higher is tried first.
    #[serde(default)]
    pub priority: i32,
    /// The session whose credentials read the store (`aws` and `azure`).
    pub session_name: Option<String>,
    /// Region override (`aws`).
    pub region: Option<String>,
    /// The vault, `https://NAME.vault.azure.net/` (`azure`).
    pub vault_url: Option<String>,
}

/// `secrets_manager:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SecretsSpec {
    /// The stores by name.
    #[serde(default)]
    pub cloud_stores: BTreeMap<String, StoreSpec>,
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionsFile {
    /// The sessions.
    #[serde(default)]
    pub cloud_sessions: Vec<SessionSpec>,
    /// Secret stores.
    #[serde(default)]
    pub secrets_manager: SecretsSpec,
    /// Access control.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleSpec>,
    /// Who uses the sessions (`user.role`: the role whose `allowed_sessions` apply).
    pub user: Option<UserSpec>,
    /// The team store sessions with `team_store: true` share refreshes through.
    pub team_store: Option<TeamStoreSpec>,
}

/// A parsed configuration and the warnings it deserves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadedConfig {
    /// The file's content.
    pub file: SessionsFile,
    /// Non-fatal findings (plaintext secrets).
    pub warnings: Vec<String>,
}

fn err(path: String, message: impl Into<String>) -> SessionError {
    SessionError::Config { path, message: message.into() }
}

/// serde's message in a person's words: without the location it repeats, and with the closest
/// known field instead of the list of every field ("unknown field `regoin`, did you mean
/// `region`?").
fn readable(message: &str, at: &str) -> String {
    // a message may carry the YAML path already given: `cloud_sessions[0]: unknown ...`
    let message = match message.split_once(": ") {
        Some((prefix, rest)) if !prefix.contains(' ') => rest,
        _ => message,
    };
    // and its own "line 4 column 5: ", which `at` says in our words
    let message = match message.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") && prefix.contains(" column ") => rest,
        _ => message,
    };
    let Some(rest) = message.strip_prefix("unknown field `") else { return format!("{message}{at}") };
    let Some((field, expected)) = rest.split_once('`') else { return format!("{message}{at}") };
    // "…, expected one of `a`, `b`" (serde) or "…, expected one of a, b" (serde-saphyr)
    let list = expected.split_once("one of ").map_or("", |(_, l)| l);
    let known: Vec<&str> = list.split(", ").map(|k| k.trim().trim_matches('`')).filter(|k| !k.is_empty()).collect();
    let closest = known
        .iter()
        .min_by_key(|k| core_types::edit_distance(field, k))
        .filter(|k| core_types::edit_distance(field, k) <= 2);
    match closest {
        Some(k) => format!("unknown field `{field}`, did you mean `{k}`?{at}"),
        None => format!("unknown field `{field}` (known fields: {}){at}", known.join(", ")),
    }
}

thread_local! {
    /// Where the last failed deserialization on this thread was, in YAML-path form.
    static FAILED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The file, tracking the path serde was at (serde-saphyr reports a line and column; the
/// path comes from `serde_path_to_error`, which wraps the deserializer it is handed).
struct Tracked(SessionsFile);

impl<'de> Deserialize<'de> for Tracked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_path_to_error::deserialize(d).map(Tracked).map_err(|e| {
            FAILED_AT.with(|p| *p.borrow_mut() = Some(e.path().to_string()));
            e.into_inner()
        })
    }
}

/// The YAML as the file's types (serde-saphyr: a YAML parser in Rust, with budgets on
/// aliases, depth and size), or the first mismatch with its path, line and column.
fn deserialize(yaml: &str) -> Result<SessionsFile, SessionError> {
    FAILED_AT.with(|p| p.borrow_mut().take());
    serde_saphyr::from_str::<Tracked>(yaml).map(|t| t.0).map_err(|e| {
        let path = FAILED_AT.with(|p| p.borrow_mut().take()).unwrap_or_else(|| ".".into());
        let at = e
            .location()
            .filter(|l| l.line() > 0)
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        let message = match &e {
            serde_saphyr::Error::Message { msg, .. } => msg.clone(),
            other => other.to_string().lines().next().unwrap_or_default().to_owned(),
        };
        err(if path == "." { "(document)".into() } else { path }, readable(&message, &at))
    })
}

/// Parses and validates YAML.
pub fn parse_config(yaml: &str) -> Result<LoadedConfig, SessionError> {
    let file = deserialize(yaml)?;
    let mut warnings = Vec::new();
    let mut names = BTreeSet::new();
    let mut kinds = BTreeMap::new();
    for (i, s) in file.cloud_sessions.iter().enumerate() {
        let at = |field: &str| format!("cloud_sessions[{i}].{field}");
        if s.name.trim().is_empty() {
            return Err(err(at("name"), "must not be empty"));
        }
        let mut own = vec![s.name.clone()];
        if let Some(rs) = &s.regions {
            own.extend(rs.iter().map(|r| format!("{}-{r}", s.name)));
        }
        for n in own {
            if !names.insert(n.clone()) {
                return Err(err(at("name"), format!("duplicate session name {n:?}")));
            }
        }
        let kind = s.session_type.ok_or_else(|| err(at("session_type"), "missing: use aws or azure"))?;
        kinds.insert(s.name.clone(), kind);
        let aws_fields = [
            ("region", s.region.is_some()),
            ("regions", s.regions.is_some()),
            ("profile", s.profile.is_some()),
            ("access_key_id", s.access_key_id.is_some()),
            ("secret_access_key", s.secret_access_key.is_some()),
            ("session_token", s.session_token.is_some()),
            ("role_arn", s.role_arn.is_some()),
            ("session_name", s.session_name.is_some()),
            ("source", s.source.is_some()),
            ("source_profile", s.source_profile.is_some()),
            ("duration_seconds", s.duration_seconds.is_some()),
            ("external_id", s.external_id.is_some()),
            ("team_store", s.team_store),
            ("web_identity_token_file", s.web_identity_token_file.is_some()),
            ("sso_profile", s.sso_profile.is_some()),
            ("cognito", s.cognito.is_some()),
            ("username", s.username.is_some()),
        ];
        let azure_fields = [
            ("tenant_id", s.tenant_id.is_some()),
            ("subscription_id", s.subscription_id.is_some()),
            ("client_id", s.client_id.is_some()),
            ("client_secret", s.client_secret.is_some()),
            ("use_managed_identity", s.use_managed_identity),
            ("use_azure_cli", s.use_azure_cli),
            ("use_interactive_browser", s.use_interactive_browser),
            ("federated_token_file", s.federated_token_file.is_some()),
            ("authority_host", s.authority_host.is_some()),
        ];
        let foreign = match kind {
            SessionType::Aws => azure_fields.iter().find(|(_, set)| *set),
            SessionType::Azure => aws_fields.iter().find(|(_, set)| *set),
        };
        if let Some((f, _)) = foreign {
            return Err(err(at(f), format!("not a field of a {kind:?} session").to_lowercase()));
        }
        if s.team_store {
            if file.team_store.is_none() {
                return Err(err(
                    at("team_store"),
                    "no team store is declared: add a top-level team_store with url and key",
                ));
            }
            if s.role_arn.is_none() && s.cognito.is_none() {
                return Err(err(
                    at("team_store"),
                    "only a session that refreshes its credentials (role_arn, or cognito) can share them",
                ));
            }
        }
        if kind == SessionType::Aws {
            if s.access_key_id.is_some() != s.secret_access_key.is_some() {
                return Err(err(at("secret_access_key"), "access_key_id and secret_access_key go together"));
            }
            if s.session_token.is_some() && s.access_key_id.is_none() {
                return Err(err(at("session_token"), "needs access_key_id and secret_access_key"));
            }
            let ways = [
                s.profile.is_some(),
                s.access_key_id.is_some(),
                s.role_arn.is_some(),
                s.web_identity_token_file.is_some() && s.role_arn.is_none(),
                s.sso_profile.is_some(),
                s.cognito.is_some(),
            ];
            if ways.iter().filter(|w| **w).count() > 1 && !(s.role_arn.is_some() && s.web_identity_token_file.is_some())
            {
                return Err(err(
                    at("profile"),
                    "choose one of profile, access keys, role_arn (with source/source_profile), web_identity_token_file, sso_profile or cognito",
                ));
            }
            if s.cognito.is_some() != s.username.is_some() {
                return Err(err(at("username"), "cognito and username go together"));
            }
            if s.web_identity_token_file.is_some() && s.role_arn.is_none() {
                return Err(err(at("role_arn"), "web_identity_token_file needs role_arn"));
            }
            if s.role_arn.is_some() && s.session_name.is_none() {
                return Err(err(at("session_name"), "missing: role_arn needs a session_name"));
            }
            if s.region.is_none() && s.regions.as_ref().is_none_or(Vec::is_empty) {
                return Err(err(at("region"), "missing: an aws session needs region (or regions)"));
            }
            if let Some(d) = s.duration_seconds
                && !(900..=43_200).contains(&d)
            {
                return Err(err(at("duration_seconds"), "must be between 900 and 43200"));
            }
        }
        if kind == SessionType::Azure {
            let ways = [
                ("client_secret", s.client_secret.is_some()),
                ("federated_token_file", s.federated_token_file.is_some()),
                ("use_managed_identity", s.use_managed_identity),
                ("use_azure_cli", s.use_azure_cli),
                ("use_interactive_browser", s.use_interactive_browser),
            ];
            let chosen: Vec<&str> = ways.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect();
            if chosen.len() > 1 {
                return Err(err(
                    at(chosen[1]),
                    format!(
                        "choose one of client_secret, federated_token_file, use_managed_identity, use_azure_cli or use_interactive_browser (got {}); declare none for the credential chain",
                        chosen.join(" and ")
                    ),
                ));
            }
            // a service principal's or workload's tenant_id and client_id may come from
            // AZURE_TENANT_ID / AZURE_CLIENT_ID at build, as azure_identity's environment
            // credential takes them (the design's own examples leave them out)
            if chosen.first() == Some(&"use_interactive_browser") && s.client_id.is_none() {
                return Err(err(
                    at("client_id"),
                    "missing: use_interactive_browser needs client_id (the app registration)",
                ));
            }
            // https, or http to this machine (a local test provider)
            if let Some(h) = &s.authority_host
                && !h.starts_with("https://")
                && !(h.starts_with("http://127.0.0.1")
                    || h.starts_with("http://localhost")
                    || h.starts_with("http://[::1]"))
            {
                return Err(err(at("authority_host"), "must be an https:// URL"));
            }
        }
        for (field, value) in [
            ("secret_access_key", &s.secret_access_key),
            ("session_token", &s.session_token),
            ("client_secret", &s.client_secret),
        ] {
            if let Some(v) = value
                && matches!(ValueRef::parse(v), ValueRef::Literal(_))
            {
                warnings.push(format!(
                    "{}: a plaintext secret in the configuration; use ENV/NAME or SEC/name instead",
                    at(field)
                ));
            }
        }
    }
    for (name, store) in &file.secrets_manager.cloud_stores {
        let at = |field: &str| format!("secrets_manager.cloud_stores.{name}.{field}");
        let (session, region, vault) =
            (store.session_name.is_some(), store.region.is_some(), store.vault_url.is_some());
        let foreign: &[(&str, bool)] = match store.store_type {
            StoreType::Aws => &[("vault_url", vault)],
            StoreType::Azure => &[("region", region)],
            StoreType::Local => &[("session_name", session), ("region", region), ("vault_url", vault)],
        };
        if let Some((f, _)) = foreign.iter().find(|(_, set)| *set) {
            return Err(err(at(f), format!("not a field of store_type {}", store.store_type.as_str())));
        }
        if store.store_type == StoreType::Local {
            continue;
        }
        let want = if store.store_type == StoreType::Aws { SessionType::Aws } else { SessionType::Azure };
        let kind_name = store.store_type.as_str();
        let session = store.session_name.as_deref().ok_or_else(|| {
            err(at("session_name"), format!("missing: name the {kind_name} session that reads this store"))
        })?;
        match kinds.get(session) {
            Some(k) if *k == want => {}
            Some(_) => return Err(err(at("session_name"), format!("{session:?} is not an {kind_name} session"))),
            None => return Err(err(at("session_name"), format!("unknown session {session:?}"))),
        }
        if store.store_type == StoreType::Azure {
            match store.vault_url.as_deref() {
                None => return Err(err(at("vault_url"), "missing: https://NAME.vault.azure.net/")),
                Some(u) if !u.starts_with("https://") => return Err(err(at("vault_url"), "must be an https:// URL")),
                Some(_) => {}
            }
        }
    }
    if let Some(role) = file.user.as_ref().and_then(|u| u.role.as_ref())
        && !file.roles.contains_key(role)
    {
        return Err(err("user.role".to_owned(), format!("unknown role {role:?}: declare it under roles")));
    }
    for (role, spec) in &file.roles {
        for s in &spec.allowed_sessions {
            if s != "*" && !names.contains(s) {
                return Err(err(format!("roles.{role}.allowed_sessions"), format!("unknown session {s:?}")));
            }
        }
    }
    Ok(LoadedConfig { file, warnings })
}

#[cfg(test)]
mod tests;
