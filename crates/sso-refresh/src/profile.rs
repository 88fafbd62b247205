//! An SSO profile's settings, resolved from `~/.aws/config` as the AWS CLI resolves them.

use cred_store::AwsFiles;

use crate::error::SsoError;

/// The SSO settings of a profile, as the AWS CLI resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SsoProfile {
    /// The profile name.
    pub profile: String,
    /// The `sso_session` it uses (absent for legacy profiles).
    pub session: Option<String>,
    /// The portal start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub sso_region: String,
    /// The account.
    pub account_id: String,
    /// The permission set's role.
    pub role_name: String,
}

impl SsoProfile {
    /// Reads a profile (and its `[sso-session]`) from `~/.aws/config`.
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
            profile: profile.to_owned(),
            session: p.sso_session.clone(),
            start_url: start_url.ok_or_else(|| missing("sso_start_url is not set"))?,
            sso_region: sso_region.ok_or_else(|| missing("sso_region is not set"))?,
            account_id: p.sso_account_id.clone().ok_or_else(|| missing("sso_account_id is not set"))?,
            role_name: p.sso_role_name.clone().ok_or_else(|| missing("sso_role_name is not set"))?,
        })
    }

    /// The token cache key: the session name, or the start URL for legacy profiles.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }
}
