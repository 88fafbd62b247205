//! The profiles of `~/.aws/config` and `~/.aws/credentials` merged as botocore merges them
//! (`botocore.configloader.build_profile_map`, then `Session.full_config`): one answer to
//! "what are profile P's settings", used by every command and by the credential plan.

use std::collections::BTreeMap;

use crate::ini::IniDocument;
use crate::shlex;

/// One profile's or sso-session's settings: key (lower-case) to value. A value continued on
/// indented lines (`s3 =` and its sub-keys) is kept as configparser gives it.
pub type Settings = BTreeMap<String, String>;

/// Both files' profiles and sso-sessions, as the AWS CLI and boto3 see them.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileSet {
    /// Profiles by name (`[default]`, `[profile NAME]` in config; `[NAME]` in credentials).
    pub profiles: BTreeMap<String, Settings>,
    /// `[sso-session NAME]` sections of the config file.
    pub sso_sessions: BTreeMap<String, Settings>,
}

impl std::fmt::Debug for ProfileSet {
    // values may be secrets (keys in the credentials file): names only
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileSet")
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("sso_sessions", &self.sso_sessions.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The name botocore gives a `[profile …]` / `[sso-session …]` header: `shlex.split`, and
/// exactly two words (the second is the name; a header that does not split is ignored).
pub(crate) fn header_name(section: &str, prefix: &str) -> Option<String> {
    if !section.starts_with(prefix) {
        return None;
    }
    match shlex::split(section) {
        Ok(mut words) if words.len() == 2 => words.pop(),
        _ => None,
    }
}

/// The profile a config-file section names for botocore, if any.
pub(crate) fn config_profile_name(section: &str) -> Option<String> {
    if section == "default" { Some(section.to_owned()) } else { header_name(section, "profile") }
}

impl ProfileSet {
    /// Merges the parsed config and credentials files: config sections in file order (a later
    /// section naming the same profile replaces an earlier one, as a Python dict does), then
    /// each credentials section's keys over the profile's (credentials win).
    pub fn from_documents(config: &IniDocument, credentials: &IniDocument) -> Self {
        let mut set = Self::default();
        for section in config.section_names() {
            let values: Settings = config.section(&section).unwrap_or_default().into_iter().collect();
            if let Some(name) = config_profile_name(&section) {
                set.profiles.insert(name, values);
            } else if let Some(name) = header_name(&section, "sso-session") {
                set.sso_sessions.insert(name, values);
            }
        }
        for section in credentials.section_names() {
            let values = credentials.section(&section).unwrap_or_default();
            set.profiles.entry(section).or_default().extend(values);
        }
        set
    }

    /// A profile's settings.
    pub fn profile(&self, name: &str) -> Option<&Settings> {
        self.profiles.get(name)
    }

    /// An sso-session's settings.
    pub fn sso_session(&self, name: &str) -> Option<&Settings> {
        self.sso_sessions.get(name)
    }

    /// The profile names closest to `name` (for "no such profile" errors): those within a
    /// small edit distance, nearest first, at most three.
    pub fn closest(&self, name: &str) -> Vec<&str> {
        let mut scored: Vec<(usize, &str)> = self
            .profiles
            .keys()
            .map(|p| (core_types::edit_distance(&name.to_lowercase(), &p.to_lowercase()), p.as_str()))
            .filter(|(d, p)| *d <= (p.chars().count().max(name.chars().count()) / 3).max(2))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, p)| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        ProfileSet::from_documents(&IniDocument::parse(config).unwrap(), &IniDocument::parse(credentials).unwrap())
    }

    #[test]
    fn both_files_merge_and_the_credentials_file_wins() {
        let s = set(
            "[default]\nregion = eu-west-1\n[profile work]\nregion = us-east-2\noutput = json\n",
            "[work]\nregion = ap-south-1\naws_access_key_id = AKIA1\n[only-keys]\naws_access_key_id = AKIA2\n",
        );
        assert_eq!(s.profiles.keys().collect::<Vec<_>>(), ["default", "only-keys", "work"]);
        let work = s.profile("work").unwrap();
        assert_eq!((work["region"].as_str(), work["output"].as_str()), ("ap-south-1", "json"));
        assert_eq!(s.profile("only-keys").unwrap()["aws_access_key_id"], "AKIA2");
    }

    #[test]
    fn headers_are_read_as_botocore_reads_them() {
        let s = set(
            "[profile \"a b\"]\nk = 1\n[profilefoo]\nk = 2\n[profile x y]\nk = 3\n[profile prod\"\".Dev]\nk = 4\n[sso-session corp]\nsso_region = us-east-1\n[ profile p ]\nk = 5\n",
            "[profile z]\nk = 6\n",
        );
        assert_eq!(s.profiles.keys().collect::<Vec<_>>(), ["a b", "prod.Dev", "profile z"]);
        assert_eq!(s.sso_session("corp").unwrap()["sso_region"], "us-east-1");
    }

    #[test]
    fn the_closest_names_are_suggested() {
        let s = set("[profile production]\n[profile prod-eu]\n[profile staging]\n", "[default]\n");
        assert_eq!(s.closest("prod-ue"), ["prod-eu"]);
        assert_eq!(s.closest("productoin"), ["production"]);
        assert!(s.closest("zzzzzzzzzz").is_empty());
    }

    #[test]
    fn debug_shows_names_only() {
        let s = set("", "[k]\naws_secret_access_key = s3cr3t\n");
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }
}
