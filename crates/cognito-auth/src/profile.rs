//! `CognitoProfile`: one owner for "a Cognito user signed in on an AWS profile": who is
//! signed in, what a sign-in saves, where its credentials are cached, how it ends.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use core_types::{AwsCredentials, Clock, RefreshPolicy, SecretString, SystemClock};
#[cfg(feature = "token-store")]
use cred_store::TokenStore;
use cred_store::{AwsFiles, CccConfig, Paths, Refreshing};

use crate::source::{FleetEntries, TokenEntries};
#[cfg(feature = "ledger")]
use cred_store::{Ledger, Outcome};

use crate::auth::{AuthOutcome, Challenge, ChallengeAnswer, CognitoAuthenticator};
use crate::config::CognitoConfig;
use crate::error::CognitoError;
use crate::source::CognitoSource;

/// The per-profile setting (`profiles.PROFILE.username` in `~/.ccc/config.json`) naming the
/// Cognito user signed in on that profile.
pub const USERNAME_SETTING: &str = "username";

/// The ccc config key naming the profile credentials go to when none is given (`default`
/// when unset). A config written before profiles remembered their users has one top-level
/// `username`, which belongs to this profile.
pub const DEFAULT_PROFILE_KEY: &str = "profile";

/// At most this many challenges in a row answer one sign-in.
const MAX_CHALLENGES: usize = 5;

/// A boxed error from a caller's prompt.
pub type PromptError = Box<dyn std::error::Error + Send + Sync>;

/// Whose credentials a [`CognitoProfile`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// An AWS profile: the user signed in on it (a per-profile setting), the credentials file.
    Profile(String),
    /// One user, no AWS profile (a YAML session naming its user).
    User(String),
}

/// The user signed in on `profile` according to `config`: the profile's own setting, or, for
/// a config written before profiles remembered their users, the one top-level `username` of
/// the configured default profile.
pub fn signed_in_user(config: &CccConfig, profile: &str) -> Option<String> {
    if let Some(u) = config.profile_setting(profile, USERNAME_SETTING).filter(|u| !u.is_empty()) {
        return Some(u.to_owned());
    }
    let legacy = config.get_str(USERNAME_SETTING)?;
    (profile == default_profile(config)).then(|| legacy.to_owned())
}

/// The profile credentials go to when none is given.
pub fn default_profile(config: &CccConfig) -> &str {
    config.get_str(DEFAULT_PROFILE_KEY).unwrap_or("default")
}

/// What a successful sign-in produced (the tokens stay in the token store).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignedIn {
    /// The user.
    pub username: String,
    /// The AWS profile written, when bound to one.
    pub profile: Option<String>,
    /// The identity pool's credentials.
    pub credentials: AwsCredentials,
}

/// What signing out did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SignedOut {
    /// The user who was signed in, if any.
    pub username: Option<String>,
    /// Whether the profile's credentials were in the credentials file.
    pub removed_credentials: bool,
    /// Upstream sign-out steps that failed (the local sign-in was removed anyway).
    pub warnings: Vec<String>,
}

/// A Cognito user kept signed in for one AWS profile (or one named user): signs in
/// (answering challenges through the caller's prompt), saves what a sign-in leaves (the
/// profile's credentials, the user's tokens in the token store, the profile's user, the
/// credential cache, a ledger row), serves self-refreshing credentials, and signs out
/// (GlobalSignOut, RevokeToken, local removal).
#[derive(Clone)]
pub struct CognitoProfile {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: CognitoConfig,
    binding: Binding,
    paths: Paths,
    sdk: SdkConfig,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
    lock_wait: Duration,
    store: Arc<dyn TokenEntries>,
    fleet: Option<Arc<dyn FleetEntries>>,
    #[cfg(feature = "ledger")]
    ledger: Option<Ledger>,
    write_credentials_file: bool,
}

impl fmt::Debug for CognitoProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoProfile")
            .field("config", &self.inner.config)
            .field("binding", &self.inner.binding)
            .field("refresh_window", &self.inner.refresh_window)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "token-store")]
fn default_entries(paths: &Paths) -> Arc<dyn TokenEntries> {
    Arc::new(TokenStore::new(paths))
}

#[cfg(not(feature = "token-store"))]
fn default_entries(paths: &Paths) -> Arc<dyn TokenEntries> {
    Arc::new(crate::source::MemoryTokens::new(paths.ccc_dir.clone()))
}

/// Builds a [`CognitoProfile`].
#[must_use]
#[derive(Debug)]
pub struct CognitoProfileBuilder {
    config: CognitoConfig,
    binding: Binding,
    paths: Paths,
    sdk: Option<SdkConfig>,
    clock: Arc<dyn Clock>,
    refresh_window: RefreshPolicy,
    lock_wait: Duration,
    store: Option<Arc<dyn TokenEntries>>,
    fleet: Option<Arc<dyn FleetEntries>>,
    #[cfg(feature = "ledger")]
    ledger: Option<Ledger>,
    write_credentials_file: bool,
}

impl CognitoProfileBuilder {
    /// Coordinates the user's refreshes with other machines through `fleet` (e.g. cred-store's
    /// `TeamStore` on PostgreSQL, feature `team-store`): when this machine's tokens or
    /// credentials are due, one machine of the fleet refreshes them and the rest read its
    /// result. A warm call never reaches it.
    pub fn fleet(mut self, fleet: impl FleetEntries) -> Self {
        self.fleet = Some(Arc::new(fleet));
        self
    }
    /// The SDK configuration (region, endpoint); default: the pool's region, no endpoint
    /// override. Cognito's sign-in calls need no AWS credentials.
    pub fn sdk_config(mut self, sdk: &SdkConfig) -> Self {
        self.sdk = Some(sdk.clone());
        self
    }
    /// Judges expiry with `clock` (default the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Renews credentials this long before they expire (default five minutes).
    pub fn refresh_window(mut self, window: RefreshPolicy) -> Self {
        self.refresh_window = window;
        self
    }
    /// Waits at most this long for another process's refresh of the same credentials.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }
    /// Keeps the user's tokens in `store` (default the token store under `paths`; feature
    /// `token-store`).
    #[cfg(feature = "token-store")]
    pub fn token_store(mut self, store: TokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }
    /// Keeps the user's tokens in `entries` (a keychain, a database, [`crate::MemoryTokens`])
    /// instead of cred-store's token store. Without the `token-store` feature the default
    /// is `MemoryTokens`: a sign-in lasts as long as the process.
    pub fn token_entries(mut self, entries: impl TokenEntries) -> Self {
        self.store = Some(Arc::new(entries));
        self
    }
    /// Whether a sign-in writes the profile's keys to `~/.aws/credentials` (default yes). A
    /// profile served by `credential_process` must not get them: the credentials file is
    /// read first by every AWS SDK, so the keys would shadow the process once they expire.
    pub fn write_credentials_file(mut self, write: bool) -> Self {
        self.write_credentials_file = write;
        self
    }
    /// Records each sign-in in `ledger` (feature `ledger`).
    #[cfg(feature = "ledger")]
    pub fn ledger(mut self, ledger: Ledger) -> Self {
        self.ledger = Some(ledger);
        self
    }
    /// The profile.
    pub fn build(self) -> CognitoProfile {
        let sdk = self.sdk.unwrap_or_else(|| {
            SdkConfig::builder()
                .region(aws_config::Region::new(self.config.region.clone()))
                .behavior_version(aws_config::BehaviorVersion::latest())
                // the clients made from it set their own per-attempt deadlines too
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(10))
                        .operation_attempt_timeout(Duration::from_secs(10))
                        .build(),
                )
                .build()
        });
        let store = self.store.unwrap_or_else(|| default_entries(&self.paths));
        CognitoProfile {
            inner: Arc::new(Inner {
                config: self.config,
                binding: self.binding,
                paths: self.paths,
                sdk,
                clock: self.clock,
                refresh_window: self.refresh_window,
                lock_wait: self.lock_wait,
                store,
                fleet: self.fleet,
                #[cfg(feature = "ledger")]
                ledger: self.ledger,
                write_credentials_file: self.write_credentials_file,
            }),
        }
    }
}

impl CognitoProfile {
    /// The user signed in on AWS profile `profile` (its name is checked).
    pub fn builder(config: CognitoConfig, paths: &Paths, profile: &str) -> Result<CognitoProfileBuilder, CognitoError> {
        cred_store::validate_profile_name(profile)?;
        Ok(Self::with_binding(config, paths, Binding::Profile(profile.to_owned())))
    }

    /// One named user with no AWS profile: its credentials are cached per user pool and
    /// user, and a sign-in writes no credentials file.
    pub fn for_user(config: CognitoConfig, paths: &Paths, username: &str) -> CognitoProfileBuilder {
        Self::with_binding(config, paths, Binding::User(username.to_owned()))
    }

    fn with_binding(config: CognitoConfig, paths: &Paths, binding: Binding) -> CognitoProfileBuilder {
        CognitoProfileBuilder {
            config,
            binding,
            paths: paths.clone(),
            sdk: None,
            clock: Arc::new(SystemClock),
            refresh_window: RefreshPolicy::default(),
            lock_wait: cred_store::DEFAULT_REFRESH_LOCK_WAIT,
            store: None,
            fleet: None,
            #[cfg(feature = "ledger")]
            ledger: None,
            write_credentials_file: true,
        }
    }

    /// The Cognito configuration.
    pub fn config(&self) -> &CognitoConfig {
        &self.inner.config
    }

    /// The AWS profile, when bound to one.
    pub fn profile(&self) -> Option<&str> {
        match &self.inner.binding {
            Binding::Profile(p) => Some(p),
            Binding::User(_) => None,
        }
    }

    /// Where the profile's credentials are cached between processes: an entry named by a
    /// hash of what decides them (user pool, app client, identity pool, region and the user
    /// signed in), never by a name, so a profile pointed at another pool or signed in as
    /// someone else never gets the old user's credentials.
    pub fn cache_file(&self) -> PathBuf {
        let user = match &self.inner.binding {
            Binding::User(u) => Some(u.clone()),
            Binding::Profile(_) => self.signed_in_user().ok().flatten(),
        };
        let c = &self.inner.config;
        let parts = [
            c.user_pool_id.as_str(),
            c.app_client_id.as_str(),
            c.identity_pool_id.as_deref().unwrap_or(""),
            c.region.as_str(),
            user.as_deref().unwrap_or(""),
        ];
        self.inner.paths.cache_entry("cognito", &parts)
    }

    /// The user signed in now (read from the ccc config for a profile).
    pub fn signed_in_user(&self) -> Result<Option<String>, CognitoError> {
        match &self.inner.binding {
            Binding::User(u) => Ok(Some(u.clone())),
            Binding::Profile(p) => Ok(signed_in_user(&cred_store::load_config(&self.inner.paths)?, p)),
        }
    }

    fn authenticator(&self) -> CognitoAuthenticator {
        CognitoAuthenticator::new(self.inner.config.clone(), &self.inner.sdk).with_clock(self.inner.clock.clone())
    }

    fn source(&self, username: &str) -> CognitoSource {
        let (config, sdk, clock) = (self.inner.config.clone(), self.inner.sdk.clone(), self.inner.clock.clone());
        // the authenticator (SDK clients, TLS trust store) is built only when a refresh is due
        let make = move || CognitoAuthenticator::new(config.clone(), &sdk).with_clock(clock.clone());
        let pool = &self.inner.config.user_pool_id;
        let timing = crate::source::TokenTiming { window: self.inner.refresh_window, clock: self.inner.clock.clone() };
        CognitoSource::lazy_in(pool, make, &*self.inner.store, self.inner.fleet.as_deref(), username, timing)
    }

    fn cache(&self, username: &str) -> Refreshing<CognitoSource> {
        let cache = Refreshing::builder(self.source(username))
            .refresh_window(self.inner.refresh_window)
            .clock(self.inner.clock.clone())
            .persist_to(self.cache_file())
            .lock_wait(self.inner.lock_wait);
        match &self.inner.fleet {
            Some(fleet) => {
                let key = CognitoSource::token_key(&self.inner.config.user_pool_id, username);
                cache.fleet(fleet.credentials(&key)).build()
            }
            None => cache.build(),
        }
    }

    /// The signed-in user's self-refreshing AWS credentials. No one signed in: a
    /// `NotConfigured`-kind error.
    pub fn credentials(&self) -> Result<Refreshing<CognitoSource>, CognitoError> {
        let username = self.signed_in_user()?.ok_or_else(|| match &self.inner.binding {
            Binding::Profile(p) => CognitoError::NotSignedIn(format!("no one is signed in on profile {p}")),
            Binding::User(u) => CognitoError::NotSignedIn(format!("{u} is not signed in")),
        })?;
        Ok(self.cache(&username))
    }

    /// The signed-in user's identity-pool identity id (`GetId` with a valid ID token,
    /// refreshed first when due): what CloudTrail records for calls made with the profile's
    /// credentials.
    pub async fn identity_id(&self) -> Result<String, CognitoError> {
        let credentials = self.credentials()?;
        let tokens = Box::pin(credentials.source().tokens().get()).await?;
        let id_token = tokens
            .id_token
            .as_ref()
            .ok_or_else(|| CognitoError::Invalid("the stored sign-in has no ID token".into()))?;
        self.authenticator().identity_id(id_token).await
    }

    /// Signs `username` in, answering challenges (new password, MFA) with `prompt`, and
    /// saves what the sign-in leaves: the profile's credentials, the user's tokens, the
    /// profile's user, the credential cache and a ledger row.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &SecretString,
        mut prompt: impl FnMut(&Challenge) -> Result<ChallengeAnswer, PromptError>,
    ) -> Result<SignedIn, CognitoError> {
        let auth = self.authenticator();
        let mut outcome = auth.authenticate(username, password).await?;
        let mut answered = 0;
        let tokens = loop {
            match outcome {
                AuthOutcome::Tokens(t) => break t,
                AuthOutcome::Challenge(_) if answered == MAX_CHALLENGES => {
                    return Err(CognitoError::Invalid(format!(
                        "more than {MAX_CHALLENGES} sign-in challenges in a row"
                    )));
                }
                AuthOutcome::Challenge(mut c) => {
                    if c.name == crate::auth::ChallengeName::MfaSetup && c.totp_setup().is_none() {
                        // the pool requires MFA: the prompt shows this secret for an app
                        auth.associate_software_token(&mut c).await?;
                    }
                    let answer = prompt(&c).map_err(CognitoError::Prompt)?;
                    answered += 1;
                    outcome = auth.respond_to_challenge(c, answer).await?;
                }
            }
        };
        let id_token =
            tokens.id_token.clone().ok_or_else(|| CognitoError::Invalid("Cognito returned no ID token".into()))?;
        let credentials = auth.get_aws_credentials(&id_token).await?;

        if let Binding::Profile(profile) = &self.inner.binding
            && self.inner.write_credentials_file
        {
            AwsFiles::new(&self.inner.paths).save_credentials(profile, &credentials)?;
        }
        // kept in the user's entry, and in the fleet's when there is one
        self.source(username).tokens().seed(tokens.clone()).await?;
        if let Binding::Profile(profile) = &self.inner.binding {
            // the profile remembers its own user: another profile's sign-in never changes it
            cred_store::set_profile_setting(&self.inner.paths, profile, USERNAME_SETTING, Some(username))?;
        }
        self.cache(username).seed(credentials.clone()).await?;
        #[cfg(feature = "ledger")]
        if let Some(ledger) = &self.inner.ledger {
            let at = self.inner.clock.now();
            let outcome = Outcome::Success { expires_at: credentials.expiration() };
            ledger.record_attempt(&self.ledger_source(), self.ledger_profile(username), at, &outcome).await?;
        }
        Ok(SignedIn { username: username.to_owned(), profile: self.profile().map(str::to_owned), credentials })
    }

    /// The ledger's source name for this pool.
    pub fn ledger_source(&self) -> String {
        format!("cognito:{}", self.inner.config.user_pool_id)
    }

    #[cfg(feature = "ledger")]
    fn ledger_profile<'a>(&'a self, username: &'a str) -> &'a str {
        self.profile().unwrap_or(username)
    }

    /// Signs the user out: GlobalSignOut (every session of the user) and RevokeToken (the
    /// refresh token itself, so a stolen copy dies too), then removes the local sign-in: the
    /// tokens (unless another profile is signed in as the same user), the profile's user,
    /// its credentials and cache. Upstream failures are warnings; local removal happens anyway.
    pub async fn sign_out(&self) -> Result<SignedOut, CognitoError> {
        let mut out = SignedOut::default();
        let config = cred_store::load_config(&self.inner.paths)?;
        let username = match &self.inner.binding {
            Binding::User(u) => Some(u.clone()),
            Binding::Profile(p) => signed_in_user(&config, p),
        };
        if let Some(user) = &username {
            let key = CognitoSource::token_key(&self.inner.config.user_pool_id, user);
            if let Some((tokens, _)) = self.inner.store.entry(key.clone()).load()? {
                let auth = self.authenticator();
                if let Some(access) = &tokens.access_token
                    && let Err(e) = auth.sign_out(access).await
                {
                    out.warnings.push(format!("global sign-out failed ({e})"));
                }
                if let Some(refresh) = &tokens.refresh_token
                    && let Err(e) = auth.revoke_token(refresh).await
                {
                    out.warnings.push(format!("revoking the refresh token failed ({e})"));
                }
            }
            let others = match &self.inner.binding {
                Binding::Profile(p) => {
                    config.profiles_with(USERNAME_SETTING, user).into_iter().filter(|q| q != p).count()
                }
                Binding::User(_) => 0,
            };
            if others == 0 {
                // the fleet's copies too: every machine sharing this sign-in is signed out
                if let Some(fleet) = &self.inner.fleet
                    && let Err(e) = fleet.forget(&key).await
                {
                    out.warnings.push(format!("removing the sign-in from the fleet's store failed ({e})"));
                }
                self.inner.store.entry(key).remove()?;
            }
            if let Binding::Profile(p) = &self.inner.binding {
                cred_store::set_profile_setting(&self.inner.paths, p, USERNAME_SETTING, None)?;
                if config.profile_setting(p, USERNAME_SETTING).is_none() {
                    // the user came from a config written before profiles remembered theirs
                    cred_store::set_config_value(&self.inner.paths, USERNAME_SETTING, None)?;
                }
            }
            self.cache(user).invalidate().await?;
        }
        if let Binding::Profile(p) = &self.inner.binding {
            out.removed_credentials = AwsFiles::new(&self.inner.paths).remove_credentials(p)?;
        }
        out.username = username;
        Ok(out)
    }

    /// Binds `profile` to the user signed in on `from` when `profile` has no user of its own
    /// (a new `credential_process` profile serving the configured profile's user). Returns
    /// the user bound, if any.
    pub fn bind_like(paths: &Paths, profile: &str, from: &str) -> Result<Option<String>, CognitoError> {
        cred_store::validate_profile_name(profile)?;
        let config = cred_store::load_config(paths)?;
        if signed_in_user(&config, profile).is_some() {
            return Ok(None);
        }
        let Some(user) = signed_in_user(&config, from) else { return Ok(None) };
        cred_store::set_profile_setting(paths, profile, USERNAME_SETTING, Some(&user))?;
        Ok(Some(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_files_cannot_collide() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        let config = CognitoConfig::new("us-east-1_abc", "cid", "us-east-1");
        // keyed by pool, client and user: another pool or user is another entry
        let u = CognitoProfile::for_user(config.clone(), &paths, "../x").build();
        let v = CognitoProfile::for_user(config.clone(), &paths, "y").build();
        let other =
            CognitoProfile::for_user(CognitoConfig::new("us-east-1_xyz", "cid", "us-east-1"), &paths, "y").build();
        assert_ne!(u.cache_file(), v.cache_file());
        assert_ne!(v.cache_file(), other.cache_file());
        for p in [&u, &v, &other] {
            assert_eq!(p.cache_file().parent(), Some(paths.cache_dir().as_path()), "no way out of the cache directory");
        }
        assert!(CognitoProfile::builder(config, &paths, "[bad]").is_err());
    }

    #[test]
    fn legacy_username_belongs_to_the_default_profile() {
        let mut c = CccConfig::default();
        c.set(USERNAME_SETTING, "old");
        assert_eq!(signed_in_user(&c, "default").as_deref(), Some("old"));
        assert_eq!(signed_in_user(&c, "other"), None);
        c.set(DEFAULT_PROFILE_KEY, "work");
        assert_eq!(signed_in_user(&c, "work").as_deref(), Some("old"));
        assert_eq!(signed_in_user(&c, "default"), None);
    }

    #[tokio::test]
    async fn no_one_signed_in_is_a_typed_error() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        let config = CognitoConfig::new("us-east-1_abc", "cid", "us-east-1");
        let p = CognitoProfile::builder(config, &paths, "dev").unwrap().build();
        let e = p.credentials().unwrap_err();
        assert_eq!(core_types::Kinded::kind(&e), core_types::ErrorKind::NotConfigured);
        assert!(!e.to_string().contains("ccc"), "{e}");
        let out = p.sign_out().await.unwrap();
        assert!(out.username.is_none() && !out.removed_credentials && out.warnings.is_empty());
    }
}
