//! The credential engine's build step for AWS profiles: a [`CredentialPlan`] (cred-store's
//! pure plan of a profile chain) made into one refreshing provider, with the manager's
//! environment ([`ManagerOptions`]: paths, clock, refresh window, attempt timeout, endpoint,
//! lock wait, the MFA code a person gave). The CLI, YAML sessions naming `profile:` or
//! `source_profile:`, and a Rust program all get a profile's credentials from here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, CredentialSource, ErrorKind};
use cred_store::{AwsFiles, Base, CredentialPlan, Refreshing};

use crate::error::SessionError;
use crate::options::ManagerOptions;
use crate::renew::{Fetch, Renewer, Step, refreshing_step};
use crate::session::AwsSession;
use crate::sources::RoleSource;
use crate::team::Team;

/// A profile's credentials as the engine built them.
#[derive(Clone)]
#[non_exhaustive]
pub struct ProfileCredentials {
    /// What keeps them valid (a refreshing cache for temporary credentials).
    pub provider: SharedCredentialsProvider,
    /// The last step's credentials with its typed error (the provider's error is the SDK's
    /// text): a refused renewal, a missing sign-in or MFA code keep their kind.
    fetch: Fetch,
    /// How they are had.
    pub plan: CredentialPlan,
    /// The refreshing cache's entry file that keeps the last step's credentials and its
    /// window, when one does (the `credential_process` warm path serves it).
    pub entry: Option<cred_store::warm::Entry>,
    /// How rotation renews the last step, when a refreshing cache keeps it.
    pub(crate) renewer: Option<Renewer>,
    /// The last role hop's cache (an extended session assumes that role for longer).
    pub(crate) role: Option<Refreshing<RoleSource>>,
}

impl ProfileCredentials {
    /// The credentials now (from the cache while they are fresh), or the typed error of the
    /// step that failed.
    pub async fn credentials(&self) -> Result<AwsCredentials, SessionError> {
        (self.fetch)().await
    }
}

impl From<ProfileCredentials> for Step {
    fn from(built: ProfileCredentials) -> Self {
        Step { provider: built.provider, fetch: built.fetch, renewer: built.renewer, entry: built.entry }
    }
}

impl ProfileCredentials {
    /// The Cognito user whose sign-in serves them, when a ccc Cognito sign-in does.
    pub fn cognito_user(&self) -> Option<&str> {
        match &self.plan.base {
            Base::Cognito { username, .. } => Some(username),
            _ => None,
        }
    }
}

impl std::fmt::Debug for ProfileCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileCredentials").field("plan", &self.plan).field("entry", &self.entry).finish()
    }
}

/// Plans `profile` from the AWS config and credentials files (merged as the SDKs merge them)
/// and builds it.
///
/// ```no_run
/// # async fn f() -> Result<(), cloud_sessions::SessionError> {
/// use aws_credential_types::provider::ProvideCredentials;
/// let options = cloud_sessions::ManagerOptions::default();
/// let creds = cloud_sessions::profile_credentials("deploy", &options).await?;
/// let _keys = creds.provider.provide_credentials().await;
/// # Ok(()) }
/// ```
pub async fn profile_credentials(profile: &str, options: &ManagerOptions) -> Result<ProfileCredentials, SessionError> {
    let (plan, options) = planned(profile, options)?;
    build_plan(plan, &options).await
}

/// A role profile's credentials for a long run: its plan with the last role assumed for
/// `duration` (a plan of its own, so a cache entry of its own), built as any other. `None`
/// when the profile assumes no role (its keys are extended with GetSessionToken instead).
pub async fn extended_profile_credentials(
    profile: &str,
    duration: std::time::Duration,
    options: &ManagerOptions,
) -> Result<Option<ProfileCredentials>, SessionError> {
    let (mut plan, options) = planned(profile, options)?;
    let Some(last) = plan.hops.last_mut() else { return Ok(None) };
    last.duration_seconds = Some(u32::try_from(duration.as_secs()).unwrap_or(u32::MAX));
    build_plan(plan, &options).await.map(Some)
}

/// How the name a caller asks for was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Named {
    /// Named on purpose (`--profile`): that profile, whatever the environment holds.
    Explicitly,
    /// The default (`AWS_PROFILE`, a configured default, `default`): the environment's keys
    /// come first, as in every SDK's default chain.
    ByDefault,
}

/// Which credentials `profile` gets, decided once for every caller (the CLI's commands, the
/// warm front's entry, a Rust program): a ccc Cognito sign-in on it; else, for a default
/// name, the environment's keys; else the profile of the AWS files (both merged, as the
/// SDKs merge them) planned by `cred_store::plan`. A profile only ccc's Cognito
/// configuration serves, with no one signed in, is [`SessionError::NotSignedIn`]; a name no
/// file has is `cred_store::Error::NoSuchProfile` with the closest names. Returns the plan and
/// the options to build it with.
pub fn plan_profile(
    profile: &str,
    named: Named,
    options: &ManagerOptions,
) -> Result<(CredentialPlan, ManagerOptions), SessionError> {
    let paths = options.resolved_paths()?;
    #[cfg(feature = "cognito")]
    let ccc = cred_store::load_config(&paths)?;
    #[cfg(feature = "cognito")]
    if let Some(username) = cognito_auth::signed_in_user(&ccc, profile) {
        let config = paths.ccc_config_file().display().to_string();
        let base = Base::Cognito { config, profile: Some(profile.to_owned()), username };
        return Ok((CredentialPlan::new(profile, base), options.clone()));
    }
    let get = |k: &str| (options.env)(k).filter(|v| !v.is_empty());
    if named == Named::ByDefault && get("AWS_ACCESS_KEY_ID").is_some() && get("AWS_SECRET_ACCESS_KEY").is_some() {
        return Ok((CredentialPlan::new("environment", Base::NamedSource("Environment".into())), options.clone()));
    }
    let set = AwsFiles::new(&paths).profile_set()?;
    let plan = match kept_key_plan(&set, profile, options)? {
        Some(plan) => plan,
        None => {
            let only_ccc = match set.profile(profile) {
                // a profile whose credential_process is ccc itself is ccc's Cognito sign-in
                Some(s) => s.get("credential_process").is_some_and(|c| is_ccc_creds(c)),
                #[cfg(feature = "cognito")]
                None => cognito_auth::CognitoConfig::for_profile(&ccc, profile).is_ok(),
                #[cfg(not(feature = "cognito"))]
                None => false,
            };
            if only_ccc {
                return Err(SessionError::NotSignedIn { profile: profile.to_owned() });
            }
            cred_store::plan(&set, profile)?
        }
    };
    Ok(in_profile_region(&set, profile, plan, options))
}

/// [`plan_profile`], built: the one answer to "which credential does this name get".
pub async fn credentials_for(
    profile: &str,
    named: Named,
    options: &ManagerOptions,
) -> Result<ProfileCredentials, SessionError> {
    let (plan, options) = plan_profile(profile, named, options)?;
    build_plan(plan, &options).await
}

/// Whether a `credential_process` command line runs `ccc creds` (served by ccc's own sign-in;
/// building it would run ccc from ccc).
fn is_ccc_creds(command: &str) -> bool {
    command.contains("ccc") && command.split_whitespace().any(|w| w == "creds")
}

/// The plan of `profile`, and the options to build it with: STS in the profile's region
/// unless the caller chose one.
pub(crate) fn planned(
    profile: &str,
    options: &ManagerOptions,
) -> Result<(CredentialPlan, ManagerOptions), SessionError> {
    let paths = options.resolved_paths()?;
    planned_in(&AwsFiles::new(&paths).profile_set()?, profile, options)
}

/// A long-term key kept in the token store for `profile` (`ccc keys`): the plan of its
/// sessions, with the profile's `mfa_serial` and `duration_seconds`.
fn kept_key_plan(
    set: &cred_store::ProfileSet,
    profile: &str,
    options: &ManagerOptions,
) -> Result<Option<CredentialPlan>, SessionError> {
    let Some(store) = &options.token_store else { return Ok(None) };
    let Some(key) = store.access_key(profile)? else { return Ok(None) };
    let setting = |k: &str| set.profile(profile).and_then(|s| s.get(k)).cloned();
    let base = Base::StoredKey {
        profile: profile.to_owned(),
        access_key_id: key.access_key_id,
        mfa_serial: setting("mfa_serial"),
        duration_seconds: setting("duration_seconds").and_then(|d| d.parse().ok()),
    };
    Ok(Some(CredentialPlan::new(profile, base)))
}

/// [`planned`] from profiles already read: a key kept for the profile first, else the files'
/// chain.
fn planned_in(
    set: &cred_store::ProfileSet,
    profile: &str,
    options: &ManagerOptions,
) -> Result<(CredentialPlan, ManagerOptions), SessionError> {
    let plan = match kept_key_plan(set, profile, options)? {
        Some(plan) => plan,
        None => cred_store::plan(set, profile)?,
    };
    Ok(in_profile_region(set, profile, plan, options))
}

/// `plan` with the options to build it with: STS in the profile's region unless the caller
/// chose one.
fn in_profile_region(
    set: &cred_store::ProfileSet,
    profile: &str,
    plan: CredentialPlan,
    options: &ManagerOptions,
) -> (CredentialPlan, ManagerOptions) {
    let region = set.profile(profile).and_then(|p| p.get("region")).cloned();
    let options = match (&options.region, region) {
        (None, Some(r)) => options.clone().region(r),
        _ => options.clone(),
    };
    (plan, options)
}

/// Builds a plan: the base's provider, then one refreshing cache per role hop, each kept in
/// an entry keyed by everything that decides its value (an edited profile is a new entry).
pub async fn build_plan(plan: CredentialPlan, options: &ManagerOptions) -> Result<ProfileCredentials, SessionError> {
    build_with(plan, options, &Upstream::default()).await
}

/// What a plan's build may need beyond the manager's options: for a YAML session, the
/// sessions built before it (a `source_session` base), its team store, and its name.
#[derive(Default)]
pub(crate) struct Upstream<'a> {
    /// The sessions a `Base::Session` may name.
    pub sessions: Option<&'a BTreeMap<String, AwsSession>>,
    /// The team store the last step's refreshes go through.
    pub team: Option<&'a Team>,
    /// The name errors and renewals are reported under (default `profile NAME`).
    pub name: Option<String>,
}

/// Builds `plan` with what `up` gives (the one build of every AWS credential: profiles, YAML
/// sessions, and what the CLI serves).
pub(crate) async fn build_with(
    plan: CredentialPlan,
    options: &ManagerOptions,
    up: &Upstream<'_>,
) -> Result<ProfileCredentials, SessionError> {
    // entries are kept on disk when the plan holds all that decides them and there is a
    // home for them; otherwise in memory (another session's credentials, the default chain)
    let paths = match plan.base.keyed_by_content() {
        true => options.resolved_paths().ok(),
        false => None,
    };
    let name = up.name.clone().unwrap_or_else(|| format!("profile {}", plan.profile));
    let unsupported =
        |message: String| SessionError::Credentials { session: name.clone(), kind: ErrorKind::NotConfigured, message };
    let region = options.sts_region();
    // the fleet level: the session's team store, else the one the options give
    let team = up.team.or(options.team.as_ref());
    let mut sign_in = None;
    let mut step = match &plan.base {
        Base::AccessKey { .. } => fixed(plan.base.access_keys().ok_or_else(|| unsupported("no keys".into()))?),
        Base::Sso { account_id: Some(_), role_name: Some(_), .. } => {
            let sdk = crate::options::base_config(&region, options, None, RetryConfig::standard());
            let (step, token_file) = sso_step(&name, sso_profile(&plan), &sdk, options).await?;
            // what the sign-in gave is served only while that sign-in's token is there
            sign_in = Some(token_file);
            step
        }
        Base::Sso { .. } => {
            return Err(unsupported(format!(
                "{} signs in to IAM Identity Center but names no sso_account_id and sso_role_name: set both to get role credentials",
                sso_profile(&plan)
            )));
        }
        Base::Process { command, .. } => {
            let provider = SharedCredentialsProvider::new(
                aws_config::credential_process::CredentialProcessProvider::new(command.clone()),
            );
            provided(provider, &name, "its credential_process failed: ", options)
        }
        Base::WebIdentity { role_arn, token_file, role_session_name, duration_seconds } => {
            let sts = crate::options::base_config(&region, options, None, RetryConfig::standard());
            let source = crate::sources::WebIdentitySource {
                session: name.clone(),
                sts: aws_sdk_sts::Client::new(&sts),
                role_arn: role_arn.clone(),
                session_name: role_session_name.clone().unwrap_or_else(|| session_name(options)),
                duration_seconds: *duration_seconds,
                token_file: token_file.clone(),
            };
            let file = paths.as_ref().map(|p| entry_file(p, &plan, 0));
            let last = plan.hops.is_empty();
            let fleet = team.filter(|_| last).map(|t| (t, fleet_key(&plan, role_arn, &name)));
            refreshing_step(&name, cached(source, options, file, fleet))
        }
        Base::NamedSource(source) => provided(named_source(source, options).map_err(unsupported)?, &name, "", options),
        Base::Cognito { config, profile, username } => {
            let sdk = crate::options::base_config(&region, options, None, RetryConfig::standard());
            let team = team.filter(|_| plan.hops.is_empty());
            crate::renew::cognito(&name, &sdk, options, config, profile.as_deref(), username, team)?
        }
        Base::StoredKey { profile, mfa_serial, duration_seconds, .. } => {
            let source = crate::keys::SessionTokenSource {
                name: name.clone(),
                profile: profile.clone(),
                options: options.clone(),
                mfa_serial: mfa_serial.clone(),
                duration_seconds: *duration_seconds,
                code: options.mfa_code.clone(),
                prompt: options.mfa_prompt.clone(),
            };
            let file = paths.as_ref().map(|p| entry_file(p, &plan, 0));
            let fleet = team.filter(|_| plan.hops.is_empty()).map(|t| (t, fleet_key(&plan, "session-token", profile)));
            // served from the next start only while the store (the kept key) is unchanged
            sign_in = options.token_store.as_ref().map(|s| s.path().to_owned());
            refreshing_step(&name, cached(source, options, file, fleet))
        }
        Base::Session(source) => {
            let provider = up.sessions.and_then(|s| s.get(source)).map(|s| s.provider.clone()).ok_or_else(|| {
                unsupported(format!("session {source} is not built before {name}: declare it earlier"))
            })?;
            provided(provider, &name, "", options)
        }
        Base::DefaultChain => Box::pin(default_chain(&name, options)).await?,
        Base::LoginSession { .. } => {
            return Err(unsupported(
                "login_session (AWS CLI `aws login`) sessions are not served by this build: sign in with the AWS CLI and use it, or give the profile another source".into(),
            ));
        }
        other => return Err(unsupported(format!("a credential base this build does not know: {other:?}"))),
    };
    let mut role = None;
    for (i, hop) in plan.hops.iter().enumerate() {
        let sts = crate::options::base_config(&region, options, Some(step.provider.clone()), RetryConfig::standard());
        let session = hop.role_session_name.clone().unwrap_or_else(|| session_name(options));
        let source = RoleSource {
            name: format!("profile {} (role {})", hop.profile, hop.role_arn),
            sts: aws_sdk_sts::Client::new(&sts),
            hop: hop.clone(),
            session_name: session.clone(),
            code: options.mfa_code.clone(),
            prompt: options.mfa_prompt.clone(),
        };
        let file = paths.as_ref().map(|p| entry_file(p, &plan, i + 1));
        // the last hop's refreshes go through the team store, when the session shares them
        let fleet = team.filter(|_| i + 1 == plan.hops.len()).map(|t| (t, fleet_key(&plan, &hop.role_arn, &session)));
        let cache = cached(source, options, file, fleet);
        role = Some(cache.clone());
        step = refreshing_step(&name, cache);
    }
    let entry = match (step.entry, sign_in) {
        (Some(e), Some(token)) => Some(e.depending_on(token)),
        (e, _) => e,
    };
    Ok(ProfileCredentials { provider: step.provider, fetch: step.fetch, plan, entry, renewer: step.renewer, role })
}

/// The SDKs' default chain, in their order, over the manager's environment lookup and paths
/// (not the process's, so a caller's `ManagerOptions` decides it): the environment's keys;
/// else the profile `AWS_PROFILE` names (or `default`) when either AWS file has it, planned
/// and built by this engine; else a web identity from `AWS_ROLE_ARN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE`; else aws-config's container and instance-metadata providers.
async fn default_chain(name: &str, options: &ManagerOptions) -> Result<Step, SessionError> {
    let get = |k: &str| (options.env)(k).filter(|v| !v.is_empty());
    if get("AWS_ACCESS_KEY_ID").is_some() && get("AWS_SECRET_ACCESS_KEY").is_some() {
        let provider = named_source("Environment", options).map_err(|message| SessionError::Credentials {
            session: name.to_owned(),
            kind: ErrorKind::NotConfigured,
            message,
        })?;
        return Ok(provided(provider, name, "", options));
    }
    let profile = get("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let set = options.resolved_paths().ok().and_then(|p| AwsFiles::new(&p).profile_set().ok());
    if let Some(set) = set.filter(|s| s.profile(&profile).is_some()) {
        let (plan, o) = planned_in(&set, &profile, options)?;
        return Ok(build_with(plan, &o, &Upstream::default()).await?.into());
    }
    if let (Some(role_arn), Some(token_file)) = (get("AWS_ROLE_ARN"), get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        let base = Base::WebIdentity {
            role_arn,
            token_file,
            role_session_name: get("AWS_ROLE_SESSION_NAME"),
            duration_seconds: None,
        };
        return Ok(build_with(CredentialPlan::new(name, base), options, &Upstream::default()).await?.into());
    }
    let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder().build().await;
    Ok(provided(SharedCredentialsProvider::new(chain), name, "", options))
}

/// An SDK provider's credentials (a `credential_process`, a named source, another
/// session's, the default chain) kept in an in-memory refreshing cache with the manager's
/// window and clock: a process runs once per lifetime, not once per call; its failure said
/// in its own words after `what`.
fn provided(provider: SharedCredentialsProvider, name: &str, what: &'static str, options: &ManagerOptions) -> Step {
    let source = ProvidedSource { provider, name: name.to_owned(), what };
    let cache = Refreshing::builder(source)
        .refresh_window(options.refresh_window)
        .clock(options.clock.clone())
        .lock_wait(options.lock_wait)
        .build();
    // what another tool or source gives is not renewed by rotation (it has no renewal of ours)
    Step { renewer: None, ..refreshing_step(name, cache) }
}

/// What [`provided`] caches.
#[derive(Clone)]
struct ProvidedSource {
    provider: SharedCredentialsProvider,
    name: String,
    what: &'static str,
}

impl std::fmt::Debug for ProvidedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvidedSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CredentialSource for ProvidedSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        use aws_credential_types::provider::ProvideCredentials;
        self.provider.provide_credentials().await.map(|c| cred_store::from_sdk_credentials(&c)).map_err(|e| {
            let why = core_types::one_line(&core_types::innermost_cause(Some(&e)).unwrap_or_default());
            SessionError::Credentials {
                session: self.name.clone(),
                kind: ErrorKind::NotConfigured,
                message: format!("{}{why}", self.what),
            }
        })
    }
}

/// Long-term keys: served as they are.
fn fixed(keys: AwsCredentials) -> Step {
    let provider = SharedCredentialsProvider::new(cred_store::to_sdk_credentials(&keys));
    let fetch: Fetch = Arc::new(move || Box::pin(std::future::ready(Ok(keys.clone()))));
    Step { provider, fetch, renewer: None, entry: None }
}

/// IAM Identity Center role credentials: sso-refresh's refreshing cache made by
/// [`sso_handle`], and the sign-in's token file they depend on.
#[cfg(feature = "sso")]
async fn sso_step(
    name: &str,
    profile: &str,
    sdk: &aws_config::SdkConfig,
    options: &ManagerOptions,
) -> Result<(Step, PathBuf), SessionError> {
    use crate::renew::IntoSessionError;
    let sso = sso_with(profile, None, sdk, options).await.map_err(|e| e.into_session_error(name))?;
    Ok((refreshing_step(name, sso.credentials_provider()), sso.token_file()))
}

/// The IAM Identity Center handle of `profile` (or of the `[sso-session]` named `session`
/// alone), made as the engine makes every SSO credential: the manager's paths, window and
/// clock, settings such as retries and the ledger from the environment lookup
/// (`AWS_SSO_MAX_RETRIES`, `AWS_CREDENTIALS_DB_PATH`, ...). What `ccc sso` commands and
/// the profiles' SSO bases share.
#[cfg(feature = "sso")]
pub async fn sso_handle(
    profile: &str,
    session: Option<&str>,
    options: &ManagerOptions,
) -> Result<sso_refresh::AwsSso, sso_refresh::SsoError> {
    let sdk = crate::options::base_config(&options.sts_region(), options, None, RetryConfig::standard());
    sso_with(profile, session, &sdk, options).await
}

#[cfg(feature = "sso")]
async fn sso_with(
    profile: &str,
    session: Option<&str>,
    sdk: &aws_config::SdkConfig,
    options: &ManagerOptions,
) -> Result<sso_refresh::AwsSso, sso_refresh::SsoError> {
    let paths = options.resolved_paths()?;
    let env = options.env.clone();
    let config = sso_refresh::SsoConfig::from_lookup(move |k| env(k))?;
    let builder = match session {
        Some(s) => sso_refresh::AwsSso::session_builder(config, &paths, s),
        None => sso_refresh::AwsSso::builder(config, &paths, profile),
    };
    builder.sdk_config(sdk).clock(options.clock.clone()).refresh_window(options.refresh_window).build().await
}

#[cfg(not(feature = "sso"))]
async fn sso_step(
    name: &str,
    _profile: &str,
    _sdk: &aws_config::SdkConfig,
    _options: &ManagerOptions,
) -> Result<(Step, PathBuf), SessionError> {
    Err(SessionError::Unsupported {
        name: name.to_owned(),
        message: "IAM Identity Center profiles need cloud-sessions built with the `sso` feature".into(),
    })
}

/// The profile that holds the chain's base (the last one `source_profile` leads to).
fn sso_profile(plan: &CredentialPlan) -> &str {
    &plan.base_profile
}

/// The cache entry of the chain up to and including step `steps` (0: the base alone).
fn entry_file(paths: &cred_store::Paths, plan: &CredentialPlan, steps: usize) -> PathBuf {
    let mut cut = plan.clone();
    cut.hops.truncate(steps);
    let parts = cut.key_parts();
    paths.cache_entry("role", &parts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The fleet's row for the whole chain: readable (role and session name) and keyed by the
/// plan's content, so machines share a value only when everything that decides it is equal,
/// and an edited chain is a new row.
fn fleet_key(plan: &CredentialPlan, role_arn: &str, session_name: &str) -> String {
    format!("aws-role|{role_arn}|{session_name}|{}", plan.content_key())
}

/// A step's refreshing cache, with the manager's window, clock and lock wait: kept in `file`
/// when there is one, or shared through the team store under the row `fleet` names.
fn cached<S>(
    source: S,
    options: &ManagerOptions,
    file: Option<PathBuf>,
    fleet: Option<(&Team, String)>,
) -> Refreshing<S>
where
    S: CredentialSource<Output = AwsCredentials>,
{
    let cache = Refreshing::builder(source)
        .refresh_window(options.refresh_window)
        .clock(options.clock.clone())
        .lock_wait(options.lock_wait);
    match (fleet, file) {
        (Some((team, key)), _) => crate::team::role_fleet(cache, Some(team), key).build(),
        (None, Some(file)) => cache.persist_to(file).build(),
        (None, None) => cache.build(),
    }
}

/// A role session's name when the profile gives none (as the AWS CLI names its own).
fn session_name(options: &ManagerOptions) -> String {
    let secs = options.clock.now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("ccc-{secs}")
}

/// `credential_source`: the three sources the AWS SDKs name.
fn named_source(source: &str, options: &ManagerOptions) -> Result<SharedCredentialsProvider, String> {
    match source {
        "Environment" => {
            let get = |k: &str| (options.env)(k).filter(|v| !v.is_empty());
            let (Some(id), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) else {
                return Err(
                    "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
                        .into(),
                );
            };
            Ok(SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                id,
                secret,
                get("AWS_SESSION_TOKEN"),
                None,
                "environment",
            )))
        }
        "Ec2InstanceMetadata" => Ok(SharedCredentialsProvider::new(
            aws_config::imds::credentials::ImdsCredentialsProvider::builder().build(),
        )),
        "EcsContainer" => {
            Ok(SharedCredentialsProvider::new(aws_config::ecs::EcsCredentialsProvider::builder().build()))
        }
        other => {
            Err(format!("credential_source = {other} is not one of Environment, Ec2InstanceMetadata, EcsContainer"))
        }
    }
}
