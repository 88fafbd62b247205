//! "Which credential does this profile get": the plan, pure and synchronous (no file read,
//! no network). A base that needs no other credential, then the roles assumed from it, as the
//! AWS SDKs resolve a profile chain (aws-config's `profile/credentials/repr.rs`, and the
//! cross-SDK cases in `assume-role-tests.json`, which the workspace's conformance test runs).
//! Building the plan into a provider is another crate's job: this one only reads.

use core_types::SecretString;

use crate::error::{Error, Result};
use crate::profiles::{ProfileSet, Settings};

/// A credential that needs no other credential to be had.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base {
    /// `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`).
    AccessKey {
        /// The key id.
        access_key_id: String,
        /// The secret.
        secret_access_key: Secret,
        /// The session token of temporary keys.
        session_token: Option<Secret>,
        /// `aws_account_id`.
        account_id: Option<String>,
    },
    /// `credential_source`: `Environment`, `Ec2InstanceMetadata` or `EcsContainer`.
    NamedSource(String),
    /// `role_arn` + `web_identity_token_file`: AssumeRoleWithWebIdentity.
    WebIdentity {
        /// The role.
        role_arn: String,
        /// The OIDC token's file.
        token_file: String,
        /// `role_session_name`.
        role_session_name: Option<String>,
        /// How long the session lasts (a YAML session's `duration_seconds`; profiles give none).
        duration_seconds: Option<u32>,
    },
    /// IAM Identity Center: role credentials when `account_id` and `role_name` are set (else
    /// a profile that only signs in).
    Sso {
        /// `sso_session` (absent for a legacy profile).
        session: Option<String>,
        /// `sso_region`.
        region: String,
        /// `sso_start_url`.
        start_url: String,
        /// `sso_account_id`.
        account_id: Option<String>,
        /// `sso_role_name`.
        role_name: Option<String>,
    },
    /// `credential_process`.
    Process {
        /// The command line.
        command: String,
        /// `aws_account_id`.
        account_id: Option<String>,
    },
    /// `login_session` (AWS CLI `aws login`).
    LoginSession {
        /// The signed-in principal's ARN.
        arn: String,
    },
    /// A Cognito user signed in through a ccc configuration (identity-pool credentials).
    Cognito {
        /// The ccc configuration file (`default`: `~/.ccc/config.json`).
        config: String,
        /// The AWS profile whose settings in that file apply (its own user pool, region, ...),
        /// or none for the file's top-level ones.
        profile: Option<String>,
        /// The user.
        username: String,
    },
    /// An IAM user's long-term key kept in ccc's token store for `profile` (`ccc keys`),
    /// served as GetSessionToken sessions of it.
    StoredKey {
        /// The profile the key is kept for.
        profile: String,
        /// The key's id (its secret is read from the store at each renewal).
        access_key_id: String,
        /// The profile's `mfa_serial`: each session needs a code from that device.
        mfa_serial: Option<String>,
        /// The profile's `duration_seconds` (default one hour).
        duration_seconds: Option<u32>,
    },
    /// The credentials of another declared session, by its name (a YAML session's
    /// `source_session`): given by the caller at build time.
    Session(String),
    /// The SDKs' default chain (environment, profile, container, instance metadata).
    DefaultChain,
}

impl Base {
    /// The keys themselves, for a keys base (long-term or, with a session token, temporary).
    pub fn access_keys(&self) -> Option<core_types::AwsCredentials> {
        use core_types::ExposeSecret;
        match self {
            Base::AccessKey { access_key_id, secret_access_key, session_token, .. } => {
                Some(core_types::AwsCredentials::new(
                    access_key_id,
                    secret_access_key.0.expose_secret(),
                    session_token.as_ref().map(|t| t.0.expose_secret().to_owned()),
                    None,
                ))
            }
            _ => None,
        }
    }

    /// Whether what decides this base's credentials is all in the plan (so a cache entry keyed
    /// by [`CredentialPlan::key_parts`] can be kept on disk): not for another session's
    /// credentials or the default chain, which the plan only names.
    pub fn keyed_by_content(&self) -> bool {
        !matches!(self, Base::Session(_) | Base::DefaultChain)
    }
}

/// A secret value from a file: compared by value (plans are compared in tests), never shown.
#[derive(Clone)]
pub struct Secret(pub SecretString);

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        use core_types::ExposeSecret;
        core_types::constant_time_eq(self.0.expose_secret().as_bytes(), other.0.expose_secret().as_bytes())
    }
}
impl Eq for Secret {}
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A role assumed with the credentials before it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleHop {
    /// The profile that names the role.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `role_session_name`.
    pub role_session_name: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
    /// `mfa_serial`: the device whose code AssumeRole needs.
    pub mfa_serial: Option<String>,
}

/// How a profile's credentials are had: a base, then each role in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialPlan {
    /// The profile planned.
    pub profile: String,
    /// The profile the base's settings are in (the last one `source_profile` leads to).
    pub base_profile: String,
    /// Where the chain starts.
    pub base: Base,
    /// The roles assumed from it, first to last.
    pub hops: Vec<RoleHop>,
}

impl RoleHop {
    /// A hop to `role_arn`, named by `profile` (a profile's or a session's name), with no
    /// other setting (set the public fields for those).
    pub fn new(profile: impl Into<String>, role_arn: impl Into<String>) -> Self {
        Self {
            profile: profile.into(),
            role_arn: role_arn.into(),
            external_id: None,
            role_session_name: None,
            duration_seconds: None,
            mfa_serial: None,
        }
    }
}

impl CredentialPlan {
    /// The plan of `name` that starts at `base` and assumes no role yet (add hops with
    /// [`CredentialPlan::then`]): how a declaration that is not a profile (a YAML session) is
    /// planned into the same type.
    pub fn new(name: impl Into<String>, base: Base) -> Self {
        let profile = name.into();
        Self { base_profile: profile.clone(), profile, base, hops: Vec::new() }
    }

    /// A short name for everything that decides this plan's credentials (the hash of
    /// [`CredentialPlan::key_parts`]): a fleet's shared row is keyed by it, so machines share
    /// a value only when their plans are equal, and an edit is a new row.
    pub fn content_key(&self) -> String {
        let parts = self.key_parts();
        crate::paths::content_hash(&parts.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// This plan, then `hop` assumed with its credentials.
    #[must_use]
    pub fn then(mut self, hop: RoleHop) -> Self {
        self.hops.push(hop);
        self
    }

    /// What decides the credentials this plan gives, in a fixed order: the parts of a cache
    /// entry's key (`Paths::cache_entry`), so an edit to any setting is a new entry. Secrets
    /// are in it only as part of the hash's input.
    pub fn key_parts(&self) -> Vec<String> {
        use core_types::ExposeSecret;
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "\u{0}".to_owned());
        let mut parts = match &self.base {
            Base::AccessKey { access_key_id, secret_access_key, session_token, account_id } => vec![
                "keys".into(),
                access_key_id.clone(),
                secret_access_key.0.expose_secret().to_owned(),
                session_token.as_ref().map_or_else(|| "\u{0}".into(), |t| t.0.expose_secret().to_owned()),
                opt(account_id),
            ],
            Base::NamedSource(s) => vec!["source".into(), s.clone()],
            Base::WebIdentity { role_arn, token_file, role_session_name, duration_seconds } => vec![
                "web-identity".into(),
                role_arn.clone(),
                token_file.clone(),
                opt(role_session_name),
                duration_seconds.map_or_else(|| "\u{0}".into(), |d| d.to_string()),
            ],
            Base::Sso { session, region, start_url, account_id, role_name } => {
                vec!["sso".into(), opt(session), region.clone(), start_url.clone(), opt(account_id), opt(role_name)]
            }
            Base::Process { command, account_id } => vec!["process".into(), command.clone(), opt(account_id)],
            Base::LoginSession { arn } => vec!["login".into(), arn.clone()],
            Base::Cognito { config, profile, username } => {
                vec!["cognito".into(), config.clone(), opt(profile), username.clone()]
            }
            Base::StoredKey { profile, access_key_id, mfa_serial, duration_seconds } => vec![
                "stored-key".into(),
                profile.clone(),
                access_key_id.clone(),
                opt(mfa_serial),
                duration_seconds.map_or_else(|| "\u{0}".into(), |d| d.to_string()),
            ],
            Base::Session(name) => vec!["session".into(), name.clone()],
            Base::DefaultChain => vec!["default-chain".into()],
        };
        for hop in &self.hops {
            parts.extend([
                "role".into(),
                hop.role_arn.clone(),
                opt(&hop.external_id),
                opt(&hop.role_session_name),
                hop.duration_seconds.map_or_else(|| "\u{0}".into(), |d| d.to_string()),
                opt(&hop.mfa_serial),
            ]);
        }
        parts
    }
}

const ROLE_ARN: &str = "role_arn";
const SOURCE_PROFILE: &str = "source_profile";
const CREDENTIAL_SOURCE: &str = "credential_source";
const TOKEN_FILE: &str = "web_identity_token_file";
const SESSION_NAME: &str = "role_session_name";

fn profile_error(profile: &str, message: impl Into<String>) -> Error {
    Error::Profile { profile: profile.to_owned(), message: message.into() }
}

/// Plans `name`'s credentials from `set`: follows `source_profile` from profile to profile
/// (a profile after the first that has keys of its own ends the chain there), and reports
/// every mistake with the profile it is in. A profile that is not there is
/// [`Error::NoSuchProfile`], with the closest names.
pub fn plan(set: &ProfileSet, name: &str) -> Result<CredentialPlan> {
    if set.profiles.is_empty() {
        return Err(Error::NoSuchProfile { profile: name.to_owned(), closest: Vec::new(), no_profiles: true });
    }
    let mut current = name;
    let mut visited: Vec<&str> = Vec::new();
    let mut hops: Vec<RoleHop> = Vec::new();
    let base = loop {
        let Some(profile) = set.profile(current) else {
            return Err(match visited.last() {
                None => Error::NoSuchProfile {
                    profile: name.to_owned(),
                    closest: set.closest(name).into_iter().map(str::to_owned).collect(),
                    no_profiles: false,
                },
                Some(from) => {
                    profile_error(from, format!("could not find source profile {current} referenced from {from}"))
                }
            });
        };
        if visited.contains(&current) {
            return Err(profile_error(
                current,
                format!("profile formed an infinite loop: {} -> {current}", visited.join(" -> ")),
            ));
        }
        visited.push(current);
        // after the first profile, keys of its own end the chain
        if visited.len() > 1
            && let Ok(keys) = access_key(current, profile)
        {
            break keys;
        }
        if let Some(hop) = role_hop(current, profile)? {
            hops.push(hop);
            match (profile.get(SOURCE_PROFILE), profile.get(CREDENTIAL_SOURCE)) {
                (Some(_), Some(_)) => {
                    return Err(profile_error(
                        current,
                        "profile contained both source_profile and credential_source; keep one of them",
                    ));
                }
                (None, None) => {
                    return Err(profile_error(
                        current,
                        "profile must contain `source_profile` or `credential_source` but neither were defined",
                    ));
                }
                // a profile that is its own source: its own keys (or source), then its role
                (Some(source), None) if source == current => break base(set, current, profile)?,
                (Some(source), None) => current = source,
                (None, Some(source)) => break Base::NamedSource(source.clone()),
            }
        } else {
            break base(set, current, profile).map_err(|e| match e {
                Error::Profile { profile: p, message } if visited.len() > 1 => {
                    profile_error(&p, format!("could not load source profile: {message}"))
                }
                e => e,
            })?;
        }
    };
    hops.reverse();
    Ok(CredentialPlan { profile: name.to_owned(), base_profile: current.to_owned(), base, hops })
}

fn role_hop(name: &str, profile: &Settings) -> Result<Option<RoleHop>> {
    // a web identity profile's role is its base, not a hop
    if profile.contains_key(TOKEN_FILE) {
        return Ok(None);
    }
    let Some(role_arn) = profile.get(ROLE_ARN) else { return Ok(None) };
    let duration_seconds = match profile.get("duration_seconds") {
        None => None,
        Some(v) => Some(v.parse::<u32>().ok().filter(|d| (900..=43_200).contains(d)).ok_or_else(|| {
            profile_error(name, format!("duration_seconds {v:?} is not a number of seconds from 900 to 43200"))
        })?),
    };
    Ok(Some(RoleHop {
        profile: name.to_owned(),
        role_arn: role_arn.clone(),
        external_id: profile.get("external_id").cloned(),
        role_session_name: profile.get(SESSION_NAME).cloned(),
        duration_seconds,
        mfa_serial: profile.get("mfa_serial").cloned(),
    }))
}

fn base(set: &ProfileSet, name: &str, profile: &Settings) -> Result<Base> {
    if let Some(source) = profile.get(CREDENTIAL_SOURCE) {
        return Ok(Base::NamedSource(source.clone()));
    }
    match (profile.get(ROLE_ARN), profile.get(TOKEN_FILE)) {
        (Some(role_arn), Some(token_file)) => {
            return Ok(Base::WebIdentity {
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                role_session_name: profile.get(SESSION_NAME).cloned(),
                duration_seconds: None,
            });
        }
        (None, Some(_)) => {
            return Err(profile_error(name, "`web_identity_token_file` was specified but `role_arn` was missing"));
        }
        _ => {}
    }
    if let Some(sso) = sso(set, name, profile)? {
        return Ok(sso);
    }
    if let Some(arn) = profile.get("login_session") {
        return Ok(Base::LoginSession { arn: arn.clone() });
    }
    if let Some(command) = profile.get("credential_process") {
        return Ok(Base::Process { command: command.clone(), account_id: profile.get("aws_account_id").cloned() });
    }
    access_key(name, profile)
}

fn access_key(name: &str, profile: &Settings) -> Result<Base> {
    let (id, secret, token) =
        (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key"), profile.get("aws_session_token"));
    if (id, secret, token) == (None, None, None) {
        return Err(profile_error(name, format!("profile `{name}` did not contain credential information")));
    }
    let id = id.ok_or_else(|| profile_error(name, "profile missing aws_access_key_id"))?;
    let secret = secret.ok_or_else(|| profile_error(name, "profile missing aws_secret_access_key"))?;
    Ok(Base::AccessKey {
        access_key_id: id.clone(),
        secret_access_key: Secret(secret.clone().into()),
        session_token: token.map(|t| Secret(t.clone().into())),
        account_id: profile.get("aws_account_id").cloned(),
    })
}

fn sso(set: &ProfileSet, name: &str, profile: &Settings) -> Result<Option<Base>> {
    let get = |k: &str| profile.get(k).cloned();
    let (account_id, role_name, session) = (get("sso_account_id"), get("sso_role_name"), get("sso_session"));
    let (mut region, mut start_url) = (get("sso_region"), get("sso_start_url"));
    if [&account_id, &role_name, &session, &region, &start_url].iter().all(|v| v.is_none()) {
        return Ok(None);
    }
    if let Some(s) = &session {
        for (key, set_here) in [("sso_start_url", start_url.is_some()), ("sso_region", region.is_some())] {
            if set_here {
                return Err(profile_error(
                    name,
                    format!(
                        "`{key}` can only be specified in the [sso-session] config when a session name is given; move it to [sso-session {s}]"
                    ),
                ));
            }
        }
        let Some(session) = set.sso_session(s) else {
            return Err(profile_error(
                name,
                format!("sso-session named `{s}` (referenced by profile `{name}`) was not found"),
            ));
        };
        (start_url, region) = (session.get("sso_start_url").cloned(), session.get("sso_region").cloned());
    }
    match (&account_id, &role_name) {
        (Some(_), None) => {
            return Err(profile_error(name, "if `sso_account_id` is set, then `sso_role_name` must also be set"));
        }
        (None, Some(_)) => {
            return Err(profile_error(name, "if `sso_role_name` is set, then `sso_account_id` must also be set"));
        }
        _ => {}
    }
    let missing = |k: &str| profile_error(name, format!("profile `{name}` is missing `{k}`"));
    Ok(Some(Base::Sso {
        region: region.ok_or_else(|| missing("sso_region"))?,
        start_url: start_url.ok_or_else(|| missing("sso_start_url"))?,
        session,
        account_id,
        role_name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini::IniDocument;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        ProfileSet::from_documents(&IniDocument::parse(config).unwrap(), &IniDocument::parse(credentials).unwrap())
    }

    #[test]
    fn hops_carry_every_setting_and_keys_only_in_credentials_count() {
        let s = set(
            "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nsource_profile = work\nexternal_id = x-1\nrole_session_name = me\nduration_seconds = 14400\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n",
            "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = s3cr3t-value\n",
        );
        let p = plan(&s, "deploy").unwrap();
        assert!(matches!(&p.base, Base::AccessKey { access_key_id, .. } if access_key_id == "AKIAWORK"));
        assert_eq!(p.hops.len(), 1);
        let hop = &p.hops[0];
        assert_eq!(
            (hop.external_id.as_deref(), hop.role_session_name.as_deref(), hop.duration_seconds),
            (Some("x-1"), Some("me"), Some(14400))
        );
        assert_eq!(hop.mfa_serial.as_deref(), Some("arn:aws:iam::123456789012:mfa/me"));
        assert!(!format!("{p:?}").contains("s3cr3t-value"), "the secret is redacted");
    }

    #[test]
    fn an_unknown_profile_is_named_with_the_closest_ones() {
        let s =
            set("[profile production]\nregion = x\n", "[default]\naws_access_key_id = a\naws_secret_access_key = b\n");
        match plan(&s, "prodution") {
            Err(Error::NoSuchProfile { profile, closest, .. }) => {
                assert_eq!((profile.as_str(), closest), ("prodution", vec!["production".to_owned()]));
            }
            other => panic!("{other:?}"),
        }
        let bad = set(
            "[profile r]\nrole_arn = a\nsource_profile = k\nduration_seconds = 1h\n",
            "[k]\naws_access_key_id = a\naws_secret_access_key = b\n",
        );
        assert!(plan(&bad, "r").unwrap_err().to_string().contains("duration_seconds"));
    }

    #[test]
    fn the_key_changes_with_every_setting() {
        let a = set(
            "[profile r]\nrole_arn = a\nsource_profile = k\n",
            "[k]\naws_access_key_id = a\naws_secret_access_key = b\n",
        );
        let b = set(
            "[profile r]\nrole_arn = a\nsource_profile = k\nduration_seconds = 900\n",
            "[k]\naws_access_key_id = a\naws_secret_access_key = b\n",
        );
        let c = set(
            "[profile r]\nrole_arn = a\nsource_profile = k\n",
            "[k]\naws_access_key_id = a\naws_secret_access_key = c\n",
        );
        let keys: Vec<_> = [a, b, c].iter().map(|s| plan(s, "r").unwrap().key_parts()).collect();
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
    }
}
