//! `team_store:` — sessions whose refreshes a fleet of machines shares through cred-store's
//! team store (PostgreSQL): one machine renews an assumed role or a Cognito sign-in, the
//! others read its result.

use core_types::ExposeSecret;

use crate::error::SessionError;
use crate::plan::Plan;
use crate::refs::{Resolver, ValueRef};

/// The team store, in a build that has one.
#[cfg(feature = "team-store")]
pub(crate) type Team = cred_store::TeamStore;

/// No team store in this build: no value of this type exists.
#[cfg(not(feature = "team-store"))]
#[derive(Debug, Clone)]
pub(crate) enum Team {}

/// The file's team store, opened once (no I/O until a refresh needs it): its URL and key
/// resolved (`ENV/`, `SEC/`, or a key file's path).
pub(crate) async fn open(
    plan: &Plan,
    resolver: &Resolver,
    opened: &mut Option<Team>,
    versions: Option<std::path::PathBuf>,
) -> Result<Team, SessionError> {
    if let Some(team) = opened {
        return Ok(team.clone());
    }
    let spec = plan.team_store.as_ref().ok_or_else(|| SessionError::Config {
        path: "team_store".into(),
        message: "no team store is declared: add a top-level team_store with url and key".into(),
    })?;
    let url = resolver.resolve(&spec.url, "team_store.url").await?;
    let key = match ValueRef::parse(&spec.key) {
        ValueRef::Literal(path) => KeyText::File(path),
        _ => KeyText::Base64(resolver.resolve(&spec.key, "team_store.key").await?),
    };
    let team = make(url.expose_secret(), key, versions)?;
    *opened = Some(team.clone());
    Ok(team)
}

#[cfg_attr(not(feature = "team-store"), allow(dead_code))] // read by the build that has a team store
enum KeyText {
    File(String),
    Base64(core_types::SecretString),
}

#[cfg(feature = "team-store")]
fn make(url: &str, key: KeyText, versions: Option<std::path::PathBuf>) -> Result<Team, SessionError> {
    let config = |path: &str, e: cred_store::Error| SessionError::Config { path: path.into(), message: e.to_string() };
    let key = match key {
        KeyText::File(path) => cred_store::TeamKey::from_file(std::path::Path::new(&path)),
        KeyText::Base64(text) => cred_store::TeamKey::from_base64(text.expose_secret()),
    }
    .map_err(|e| config("team_store.key", e))?;
    let store = cred_store::TeamStore::new(url, key).map_err(|e| config("team_store.url", e))?;
    // this machine remembers each entry's highest version and refuses a restored older one
    Ok(match versions {
        Some(file) => store.remember_versions_in(file),
        None => store,
    })
}

#[cfg(not(feature = "team-store"))]
fn make(_url: &str, _key: KeyText, _versions: Option<std::path::PathBuf>) -> Result<Team, SessionError> {
    Err(crate::error::not_in_this_build("team_store".into(), "team stores", "team-store"))
}

/// An assumed role's cache, with the fleet level when the session shares its refreshes.
pub(crate) fn role_fleet<S>(
    cache: cred_store::RefreshingBuilder<S>,
    team: Option<&Team>,
    key: String,
) -> cred_store::RefreshingBuilder<S>
where
    S: core_types::CredentialSource<Output = core_types::AwsCredentials>,
{
    match team {
        #[cfg(feature = "team-store")]
        Some(team) => cache.fleet(team.entry(key)),
        #[cfg(not(feature = "team-store"))]
        Some(never) => match *never {},
        None => {
            let _ = key;
            cache
        }
    }
}

/// A Cognito session's profile, with the fleet level when the session shares its refreshes.
#[cfg(feature = "cognito")]
pub(crate) fn cognito_fleet(
    profile: cognito_auth::CognitoProfileBuilder,
    team: Option<&Team>,
) -> cognito_auth::CognitoProfileBuilder {
    match team {
        #[cfg(feature = "team-store")]
        Some(team) => profile.fleet(team.clone()),
        #[cfg(not(feature = "team-store"))]
        Some(never) => match *never {},
        None => profile,
    }
}
