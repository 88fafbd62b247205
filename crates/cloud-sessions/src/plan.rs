//! `plan`: the YAML, validated and turned into typed steps in the one order they can be built
//! in. Pure and synchronous: no runtime, no network, no file read.

use std::collections::BTreeMap;

use crate::config::{LoadedConfig, RoleSpec, SessionSpec, SessionType, StoreType, parse_config};
use crate::error::SessionError;
use crate::refs::ValueRef;

/// Where an assumed role's source credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleSource {
    /// Another declared AWS session (`source:`).
    Session(String),
    /// A profile of the AWS config files (`source_profile:`).
    Profile(String),
    /// The SDK's default credential chain.
    DefaultChain,
}

/// The role an AWS session assumes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RolePlan {
    /// The role.
    pub role_arn: String,
    /// The AssumeRole session name.
    pub session_name: String,
    /// Requested duration.
    pub duration_seconds: Option<u32>,
}

/// How an AWS session gets its credentials: exactly one way.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsCredentialPlan {
    /// The SDK's default chain (nothing declared).
    DefaultChain,
    /// A profile of the AWS config files.
    Profile(String),
    /// Static keys (values as written: `ENV/` and `SEC/` references are resolved at build).
    StaticKeys {
        /// The key id (or a reference).
        access_key_id: String,
        /// The secret (or a reference).
        secret_access_key: String,
        /// The session token (or a reference).
        session_token: Option<String>,
    },
    /// AssumeRole from a source.
    AssumeRole {
        /// The role.
        role: RolePlan,
        /// The source credentials.
        source: RoleSource,
        /// The external id.
        external_id: Option<String>,
    },
    /// AssumeRoleWithWebIdentity with a token file.
    WebIdentity {
        /// The role.
        role: RolePlan,
        /// The OIDC token file.
        token_file: String,
    },
    /// An IAM Identity Center profile, kept valid by sso-refresh.
    Sso(String),
    /// A Cognito user signed in through a ccc configuration, kept valid by cognito-auth.
    Cognito {
        /// The ccc configuration file (`default`: `~/.ccc/config.json`).
        config: String,
        /// The user.
        username: String,
    },
}

/// A declared AWS session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwsSessionPlan {
    /// Its name.
    pub name: String,
    /// Its index in `cloud_sessions` (for error paths).
    pub index: usize,
    /// Its regions: one session each, the first named `name`, the others `name-REGION`.
    pub regions: Vec<String>,
    /// Its credentials.
    pub credentials: AwsCredentialPlan,
    /// Whether its refreshes go through the team store.
    pub team: bool,
}

impl AwsSessionPlan {
    /// The session names this declaration builds.
    pub fn session_names(&self) -> Vec<String> {
        self.regions
            .iter()
            .enumerate()
            .map(|(n, r)| if n == 0 { self.name.clone() } else { format!("{}-{r}", self.name) })
            .collect()
    }
}

/// How an Azure session gets its tokens: exactly one way, or the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureCredentialPlan {
    /// A service principal's secret (or a reference to it).
    ClientSecret(String),
    /// Workload identity with a federated token file.
    Workload(String),
    /// The managed identity (user-assigned when `client_id` is set).
    ManagedIdentity,
    /// The Azure CLI's sign-in.
    AzureCli,
    /// A developer's browser sign-in.
    InteractiveBrowser,
    /// environment → workload identity → managed identity → Azure CLI.
    Chain,
}

/// A declared Azure session (values as written; references are resolved at build).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AzureSessionPlan {
    /// Its name.
    pub name: String,
    /// Its index in `cloud_sessions`.
    pub index: usize,
    /// Entra tenant.
    pub tenant_id: Option<String>,
    /// Subscription.
    pub subscription_id: Option<String>,
    /// Client (application) id.
    pub client_id: Option<String>,
    /// Authority for sovereign or private clouds.
    pub authority_host: Option<String>,
    /// Its credential.
    pub credentials: AzureCredentialPlan,
}

/// A secret store for `SEC/` references.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorePlan {
    /// The token store on this machine.
    Local {
        /// Higher is asked first.
        priority: i32,
    },
    /// AWS Secrets Manager, read through an AWS session.
    SecretsManager {
        /// The store's name.
        name: String,
        /// The session that reads it.
        session: String,
        /// A region other than the session's.
        region: Option<String>,
        /// Higher is asked first.
        priority: i32,
    },
    /// Azure Key Vault, read through an Azure session.
    KeyVault {
        /// The store's name.
        name: String,
        /// The session that reads it.
        session: String,
        /// `https://NAME.vault.azure.net/`.
        vault_url: String,
        /// Higher is asked first.
        priority: i32,
    },
}

/// One thing to build.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// An AWS session (all its regions).
    Aws(AwsSessionPlan),
    /// An Azure session.
    Azure(AzureSessionPlan),
    /// A secret store, right after the session that reads it.
    Store(StorePlan),
}

/// A validated configuration in build order: every session after the sessions and stores it
/// needs, every store right after the session that reads it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Plan {
    /// What to build, in order.
    pub steps: Vec<Step>,
    /// Access control.
    pub roles: BTreeMap<String, RoleSpec>,
    /// Non-fatal findings (plaintext secrets).
    pub warnings: Vec<String>,
    /// The team store sessions with `team_store: true` share refreshes through.
    pub team_store: Option<crate::config::TeamStoreSpec>,
    /// The user's role (`user.role`), whose `allowed_sessions` apply.
    pub user_role: Option<String>,
}

impl Plan {
    /// Whether `role` may use `session` (`roles.ROLE.allowed_sessions`, `*` for every one).
    pub fn may_use(&self, role: &str, session: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.allowed_sessions.iter().any(|s| s == "*" || s == session))
    }

    /// Whether the user may use `session`: as `role` when given (the caller's setting, e.g.
    /// `CCC_ROLE`), else as the file's `user.role`; with neither, no access control applies.
    /// A denial names the role and the session.
    pub fn authorize(&self, role: Option<&str>, session: &str) -> Result<(), SessionError> {
        match role.or(self.user_role.as_deref()) {
            None => Ok(()),
            Some(role) if self.may_use(role, session) => Ok(()),
            Some(role) => Err(SessionError::PermissionDenied { role: role.to_owned(), session: session.to_owned() }),
        }
    }

    /// Every session name the plan builds (regional ones included), in build order.
    pub fn session_names(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| match s {
                Step::Aws(a) => a.session_names(),
                Step::Azure(a) => vec![a.name.clone()],
                Step::Store(_) => Vec::new(),
            })
            .collect()
    }
}

/// Parses, validates and orders `yaml`. Errors carry the YAML path; a dependency cycle names
/// every session and store on it.
pub fn plan(yaml: &str) -> Result<Plan, SessionError> {
    plan_config(parse_config(yaml)?, None)
}

/// Like [`plan`] (the whole file is validated), keeping only what session `name` needs: its
/// declaration, the sessions it assumes roles from, and the stores its `SEC/` values may
/// come from (with their sessions). For serving one session without building the others.
pub fn plan_for(yaml: &str, name: &str) -> Result<Plan, SessionError> {
    plan_config(parse_config(yaml)?, Some(name))
}

fn aws_plan(index: usize, s: &SessionSpec) -> AwsSessionPlan {
    let mut regions: Vec<String> = s.regions.clone().unwrap_or_default();
    if let Some(r) = &s.region
        && !regions.contains(r)
    {
        regions.insert(0, r.clone());
    }
    let role = || RolePlan {
        role_arn: s.role_arn.clone().unwrap_or_default(),
        session_name: s.session_name.clone().unwrap_or_default(),
        duration_seconds: s.duration_seconds,
    };
    // parse_config has checked that exactly one way is declared, with what it needs
    let credentials = if let Some(id) = &s.access_key_id {
        AwsCredentialPlan::StaticKeys {
            access_key_id: id.clone(),
            secret_access_key: s.secret_access_key.clone().unwrap_or_default(),
            session_token: s.session_token.clone(),
        }
    } else if let (Some(_), Some(file)) = (&s.role_arn, &s.web_identity_token_file) {
        AwsCredentialPlan::WebIdentity { role: role(), token_file: file.clone() }
    } else if s.role_arn.is_some() {
        let source = match (&s.source, &s.source_profile) {
            (Some(src), _) => RoleSource::Session(src.clone()),
            (None, Some(p)) => RoleSource::Profile(p.clone()),
            (None, None) => RoleSource::DefaultChain,
        };
        AwsCredentialPlan::AssumeRole { role: role(), source, external_id: s.external_id.clone() }
    } else if let Some(p) = &s.sso_profile {
        AwsCredentialPlan::Sso(p.clone())
    } else if let Some(c) = &s.cognito {
        AwsCredentialPlan::Cognito { config: c.clone(), username: s.username.clone().unwrap_or_default() }
    } else if let Some(p) = &s.profile {
        AwsCredentialPlan::Profile(p.clone())
    } else {
        AwsCredentialPlan::DefaultChain
    };
    AwsSessionPlan { name: s.name.clone(), index, regions, credentials, team: s.team_store }
}

fn azure_plan(index: usize, s: &SessionSpec) -> AzureSessionPlan {
    let credentials = if let Some(secret) = &s.client_secret {
        AzureCredentialPlan::ClientSecret(secret.clone())
    } else if let Some(file) = &s.federated_token_file {
        AzureCredentialPlan::Workload(file.clone())
    } else if s.use_managed_identity {
        AzureCredentialPlan::ManagedIdentity
    } else if s.use_azure_cli {
        AzureCredentialPlan::AzureCli
    } else if s.use_interactive_browser {
        AzureCredentialPlan::InteractiveBrowser
    } else {
        AzureCredentialPlan::Chain
    };
    AzureSessionPlan {
        name: s.name.clone(),
        index,
        tenant_id: s.tenant_id.clone(),
        subscription_id: s.subscription_id.clone(),
        client_id: s.client_id.clone(),
        authority_host: s.authority_host.clone(),
        credentials,
    }
}

/// The values of a declaration that may be `SEC/` references.
fn secret_refs(s: &SessionSpec) -> bool {
    [
        &s.access_key_id,
        &s.secret_access_key,
        &s.session_token,
        &s.tenant_id,
        &s.subscription_id,
        &s.client_id,
        &s.client_secret,
        &s.federated_token_file,
    ]
    .iter()
    .any(|v| v.as_deref().is_some_and(|v| matches!(ValueRef::parse(v), ValueRef::Sec(_))))
}

/// A node of the dependency graph: a declared session or a cloud store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Session(usize),
    Store(usize),
}

struct Graph<'a> {
    config: &'a LoadedConfig,
    stores: Vec<(&'a String, &'a crate::config::StoreSpec)>,
    /// session name (regional ones included) → declaring index
    owner: BTreeMap<String, usize>,
}

impl Graph<'_> {
    fn path(&self, n: Node) -> String {
        match n {
            Node::Session(i) => format!("cloud_sessions[{i}]"),
            Node::Store(j) => format!("secrets_manager.cloud_stores.{}", self.stores[j].0),
        }
    }

    fn label(&self, n: Node) -> String {
        match n {
            Node::Session(i) => format!("session {}", self.config.file.cloud_sessions[i].name),
            Node::Store(j) => format!("store {}", self.stores[j].0),
        }
    }

    fn session_of_store(&self, j: usize) -> Option<usize> {
        self.stores[j].1.session_name.as_ref().and_then(|n| self.owner.get(n)).copied()
    }

    /// What `n` needs built first, each with the YAML path that asks for it.
    fn deps(&self, n: Node) -> Result<Vec<Node>, SessionError> {
        match n {
            Node::Store(j) => Ok(self.session_of_store(j).map(Node::Session).into_iter().collect()),
            Node::Session(i) => {
                let s = &self.config.file.cloud_sessions[i];
                let mut out = Vec::new();
                if let Some(src) = &s.source {
                    match self.owner.get(src) {
                        Some(&k) if self.config.file.cloud_sessions[k].session_type == Some(SessionType::Aws) => {
                            out.push(Node::Session(k));
                        }
                        _ => {
                            return Err(SessionError::Config {
                                path: format!("cloud_sessions[{i}].source"),
                                message: format!("source {src:?} is not a declared AWS session"),
                            });
                        }
                    }
                }
                let team_refs = s.team_store
                    && self
                        .config
                        .file
                        .team_store
                        .as_ref()
                        .is_some_and(|t| [&t.url, &t.key].iter().any(|v| v.starts_with("SEC/")));
                if secret_refs(s) || team_refs {
                    // a `SEC/` value may be in any cloud store but those this session reads
                    for j in 0..self.stores.len() {
                        if self.session_of_store(j) != Some(i) {
                            out.push(Node::Store(j));
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Depth-first: a node after everything it needs; a store right after its session.
    fn visit(
        &self,
        n: Node,
        state: &mut BTreeMap<Node, bool>,
        stack: &mut Vec<Node>,
        order: &mut Vec<Node>,
    ) -> Result<(), SessionError> {
        match state.get(&n) {
            Some(true) => return Ok(()),
            Some(false) => {
                let from = stack.iter().position(|m| *m == n).unwrap_or(0);
                let cycle: Vec<String> = stack[from..].iter().chain([&n]).map(|m| self.label(*m)).collect();
                return Err(SessionError::Config {
                    path: self.path(n),
                    message: format!(
                        "sessions and secret stores depend on each other in a cycle: {}; read one of these values from ENV/ or another store",
                        cycle.join(" → ")
                    ),
                });
            }
            None => {}
        }
        state.insert(n, false);
        stack.push(n);
        for d in self.deps(n)? {
            self.visit(d, state, stack, order)?;
        }
        stack.pop();
        state.insert(n, true);
        order.push(n);
        if let Node::Session(i) = n {
            for j in 0..self.stores.len() {
                if self.session_of_store(j) == Some(i) && !state.contains_key(&Node::Store(j)) {
                    self.visit(Node::Store(j), state, stack, order)?;
                }
            }
        }
        Ok(())
    }
}

/// Orders a parsed configuration (only what session `only` needs, when given).
pub(crate) fn plan_config(config: LoadedConfig, only: Option<&str>) -> Result<Plan, SessionError> {
    let stores: Vec<_> =
        config.file.secrets_manager.cloud_stores.iter().filter(|(_, s)| s.store_type != StoreType::Local).collect();
    let mut owner = BTreeMap::new();
    for (i, s) in config.file.cloud_sessions.iter().enumerate() {
        owner.insert(s.name.clone(), i);
        if s.session_type == Some(SessionType::Aws) {
            for n in aws_plan(i, s).session_names() {
                owner.insert(n, i);
            }
        }
    }
    let graph = Graph { config: &config, stores, owner };
    let (mut state, mut stack, mut order) = (BTreeMap::new(), Vec::new(), Vec::new());
    for i in 0..config.file.cloud_sessions.len() {
        graph.visit(Node::Session(i), &mut state, &mut stack, &mut order)?;
    }
    if let Some(name) = only {
        let i = *graph.owner.get(name).ok_or_else(|| SessionError::UnknownSession(name.to_owned()))?;
        (state, order) = (BTreeMap::new(), Vec::new());
        graph.visit(Node::Session(i), &mut state, &mut stack, &mut order)?;
    }
    let mut steps = Vec::new();
    if let Some(local) = config.file.secrets_manager.cloud_stores.values().find(|s| s.store_type == StoreType::Local) {
        steps.push(Step::Store(StorePlan::Local { priority: local.priority }));
    }
    for n in order {
        steps.push(match n {
            Node::Session(i) => {
                let s = &config.file.cloud_sessions[i];
                match s.session_type {
                    Some(SessionType::Azure) => Step::Azure(azure_plan(i, s)),
                    _ => Step::Aws(aws_plan(i, s)),
                }
            }
            Node::Store(j) => {
                let (name, s) = graph.stores[j];
                let session = s.session_name.clone().unwrap_or_default();
                Step::Store(match s.store_type {
                    StoreType::Azure => StorePlan::KeyVault {
                        name: name.clone(),
                        session,
                        vault_url: s.vault_url.clone().unwrap_or_default(),
                        priority: s.priority,
                    },
                    _ => StorePlan::SecretsManager {
                        name: name.clone(),
                        session,
                        region: s.region.clone(),
                        priority: s.priority,
                    },
                })
            }
        });
    }
    let user_role = config.file.user.and_then(|u| u.role);
    Ok(Plan {
        steps,
        roles: config.file.roles,
        warnings: config.warnings,
        team_store: config.file.team_store,
        user_role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS: &str = "cloud_sessions:\n  - name: keys\n    session_type: aws\n    region: us-east-1\n  - name: other\n    session_type: aws\n    region: us-east-1\nroles:\n  ci:\n    allowed_sessions: [keys]\n  admin:\n    allowed_sessions: [\"*\"]\n";

    /// The design's access control: the role comes from settings (`user.role` here, or the
    /// caller's), `*` allows every session, a denial names the role and the session.
    #[test]
    fn the_users_role_decides_which_sessions_it_may_use() {
        let open = plan(ACCESS).unwrap();
        assert!(open.authorize(None, "other").is_ok(), "no role: no access control");
        let as_ci = plan(&format!("{ACCESS}user:\n  role: ci\n")).unwrap();
        assert_eq!(as_ci.user_role.as_deref(), Some("ci"));
        assert!(as_ci.authorize(None, "keys").is_ok());
        let denied = as_ci.authorize(None, "other").unwrap_err();
        assert_eq!(denied.to_string(), "permission denied: role \"ci\" may not use session \"other\"");
        assert_eq!(core_types::Kinded::kind(&denied), core_types::ErrorKind::AccessDenied);
        // the caller's role wins over the file's, and `*` is every session
        assert!(as_ci.authorize(Some("admin"), "other").is_ok());
        let unknown = as_ci.authorize(Some("intern"), "keys").unwrap_err();
        assert!(unknown.to_string().contains("role \"intern\" may not use session \"keys\""), "{unknown}");
        // a user.role that no roles entry declares is a configuration error at its path
        let e = plan(&format!("{ACCESS}user:\n  role: nobody\n")).unwrap_err().to_string();
        assert!(e.starts_with("user.role: unknown role \"nobody\""), "{e}");
    }

    fn names(p: &Plan) -> Vec<String> {
        p.steps
            .iter()
            .map(|s| match s {
                Step::Aws(a) => a.name.clone(),
                Step::Azure(a) => a.name.clone(),
                Step::Store(StorePlan::Local { .. }) => "local".into(),
                Step::Store(StorePlan::SecretsManager { name, .. } | StorePlan::KeyVault { name, .. }) => {
                    format!("store:{name}")
                }
            })
            .collect()
    }

    #[test]
    fn sources_and_stores_come_before_what_needs_them() {
        let yaml = "cloud_sessions:
  - {name: deploy, session_type: aws, region: us-east-1, role_arn: 'arn:aws:iam::1:role/D', session_name: ci, source: base}
  - {name: keys, session_type: aws, region: us-east-1, access_key_id: SEC/id, secret_access_key: SEC/key}
  - {name: base, session_type: aws, region: us-east-1, profile: p}
  - {name: az, session_type: azure, tenant_id: t, client_id: c, client_secret: SEC/az}
  - {name: vault, session_type: azure, use_managed_identity: true}
secrets_manager:
  cloud_stores:
    sm: {store_type: aws, session_name: base, priority: 1}
    kv: {store_type: azure, session_name: vault, vault_url: 'https://v.vault.azure.net/', priority: 2}
    mine: {store_type: local, priority: 5}
";
        let p = plan(yaml).unwrap();
        assert_eq!(names(&p), ["local", "base", "store:sm", "deploy", "vault", "store:kv", "keys", "az"]);
        // one session: what it needs and nothing else
        assert_eq!(names(&plan_for(yaml, "deploy").unwrap()), ["local", "base", "store:sm", "deploy"]);
        assert_eq!(names(&plan_for(yaml, "keys").unwrap()), ["local", "vault", "store:kv", "base", "store:sm", "keys"]);
        assert_eq!(names(&plan_for(yaml, "vault").unwrap()), ["local", "vault", "store:kv"]);
        assert!(matches!(plan_for(yaml, "nope"), Err(SessionError::UnknownSession(n)) if n == "nope"));
        let Step::Aws(deploy) = &p.steps[3] else { panic!() };
        assert!(
            matches!(&deploy.credentials, AwsCredentialPlan::AssumeRole { source: RoleSource::Session(s), .. } if s == "base")
        );
    }

    #[test]
    fn a_cycle_is_named_with_its_yaml_path() {
        let yaml = "cloud_sessions:
  - {name: a, session_type: aws, region: us-east-1, access_key_id: SEC/id, secret_access_key: SEC/key}
  - {name: b, session_type: azure, tenant_id: t, client_id: c, client_secret: SEC/az}
secrets_manager:
  cloud_stores:
    sa: {store_type: aws, session_name: a}
    sb: {store_type: azure, session_name: b, vault_url: 'https://v.vault.azure.net/'}
";
        let e = plan(yaml).unwrap_err().to_string();
        assert!(e.contains("cycle") && e.contains("session a") && e.contains("store sb"), "{e}");
        assert!(e.contains("cloud_sessions[0]"), "{e}");
        let e = plan("cloud_sessions:\n  - {name: r, session_type: aws, region: us-east-1, role_arn: 'arn:aws:iam::1:role/R', session_name: s, source: r}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cycle") && e.contains("cloud_sessions[0]"), "{e}");
        let e = plan("cloud_sessions:\n  - {name: r, session_type: aws, region: us-east-1, role_arn: 'arn:aws:iam::1:role/R', session_name: s, source: nope}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cloud_sessions[0].source") && e.contains("not a declared AWS session"), "{e}");
    }

    #[test]
    fn regions_expand_and_sources_may_name_a_regional_session() {
        let yaml = "cloud_sessions:
  - {name: r, session_type: aws, region: us-east-1, role_arn: 'arn:aws:iam::1:role/R', session_name: s, source: m-eu-west-1}
  - {name: m, session_type: aws, regions: [us-east-1, eu-west-1], profile: p}
";
        let p = plan(yaml).unwrap();
        assert_eq!(p.session_names(), ["m", "m-eu-west-1", "r"]);
    }
}
