//! An SSO profile's settings, resolved from `~/.aws/config` as the AWS CLI resolves them.

use cred_store::AwsFiles;

use crate::error::SsoError;

/// The SSO settings of a profile (or of an `[sso-session]` signed in to without a profile),
/// as the AWS CLI resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SsoProfile {
    /// The profile name; absent when signing in to an `[sso-session]` alone.
    pub profile: Option<String>,
    /// The `sso_session` it uses (absent for legacy profiles).
    pub session: Option<String>,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub sso_region: String,
    /// The account (role credentials need it; signing in does not).
    pub account_id: Option<String>,
    /// The permission set's role (role credentials need it; signing in does not).
    pub role_name: Option<String>,
}

impl SsoProfile {
    /// Reads a profile (and its `[sso-session]`) from `~/.aws/config`. Only what signing in
    /// needs is required here; role credentials also need `sso_account_id` and
    /// `sso_role_name` ([`SsoProfile::role`]).
    pub fn load(files: &AwsFiles, profile: &str) -> Result<Self, SsoError> {
        let missing = |m: &str| SsoError::NotConfigured { profile: profile.to_owned(), message: m.to_owned() };
        let p = files.load_profile(profile)?.ok_or_else(|| missing("no such profile in the AWS config file"))?;
        let (start_url, sso_region) = match &p.sso_session {
            Some(s) => {
                let section =
                    files.load_sso_session(s)?.ok_or_else(|| missing(&format!("[sso-session {s}] is missing")))?;
                (section.get("sso_start_url").cloned(), section.get("sso_region").cloned())
            }
            None => (p.sso_start_url.clone(), p.sso_region.clone()),
        };
        Ok(Self {
            profile: Some(profile.to_owned()),
            session: p.sso_session.clone(),
            start_url: start_url.ok_or_else(|| missing("sso_start_url is not set"))?,
            sso_region: sso_region.ok_or_else(|| missing("sso_region is not set"))?,
            account_id: p.sso_account_id.clone(),
            role_name: p.sso_role_name.clone(),
        })
    }

    /// Reads an `[sso-session NAME]` section alone, for signing in (and listing accounts
    /// and roles) before any profile uses it, as `aws sso login --sso-session NAME` does.
    pub fn load_session(files: &AwsFiles, session: &str) -> Result<Self, SsoError> {
        let missing = |m: &str| SsoError::SessionNotConfigured { session: session.to_owned(), message: m.to_owned() };
        let section =
            files.load_sso_session(session)?.ok_or_else(|| missing("no such section in the AWS config file"))?;
        let get = |k: &str| section.get(k).cloned().ok_or_else(|| missing(&format!("{k} is not set")));
        Ok(Self {
            profile: None,
            session: Some(session.to_owned()),
            start_url: get("sso_start_url")?,
            sso_region: get("sso_region")?,
            account_id: None,
            role_name: None,
        })
    }

    /// The token cache key: the session name, or the start URL for legacy profiles.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// What this is called in messages and the ledger: the profile name, or
    /// `sso-session NAME`.
    pub fn name(&self) -> String {
        match (&self.profile, &self.session) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => format!("sso-session {s}"),
            (None, None) => self.start_url.clone(),
        }
    }

    /// How `aws sso login` is pointed at the same thing: `--profile P` or `--sso-session S`.
    pub fn login_args(&self) -> [&str; 2] {
        match (&self.profile, &self.session) {
            (Some(p), _) => ["--profile", p],
            (None, Some(s)) => ["--sso-session", s],
            (None, None) => ["--profile", "default"],
        }
    }

    /// The account and role of role credentials, or what is missing.
    pub fn role(&self) -> Result<(&str, &str), SsoError> {
        let missing = |m: &str| match &self.profile {
            Some(p) => SsoError::NotConfigured { profile: p.clone(), message: m.to_owned() },
            None => SsoError::SessionNotConfigured {
                session: self.session.clone().unwrap_or_default(),
                message: format!("{m}: role credentials need a profile that names the account and role"),
            },
        };
        Ok((
            self.account_id.as_deref().ok_or_else(|| missing("sso_account_id is not set"))?,
            self.role_name.as_deref().ok_or_else(|| missing("sso_role_name is not set"))?,
        ))
    }
}
