use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every location cred-store reads or writes, resolved once (from the environment, or given
/// explicitly in tests) and passed to everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The user's home directory.
    pub home: PathBuf,
    /// `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`).
    pub credentials_file: PathBuf,
    /// `~/.aws/config` (or `AWS_CONFIG_FILE`).
    pub config_file: PathBuf,
    /// `~/.ccc` (or `CCC_CONFIG_DIR`).
    pub ccc_dir: PathBuf,
    /// `~/.aws/sso/cache`.
    pub sso_cache_dir: PathBuf,
}

impl Paths {
    /// All paths under one home directory, with the AWS CLI's defaults.
    pub fn under_home(home: impl Into<PathBuf>) -> Self {
        let home = home.into();
        Self {
            credentials_file: home.join(".aws").join("credentials"),
            config_file: home.join(".aws").join("config"),
            ccc_dir: home.join(".ccc"),
            sso_cache_dir: home.join(".aws").join("sso").join("cache"),
            home,
        }
    }

    /// Resolves the paths from an environment lookup (`HOME`, `AWS_SHARED_CREDENTIALS_FILE`,
    /// `AWS_CONFIG_FILE`, `CCC_CONFIG_DIR`). `~/` at the start of a value is expanded.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let home = lookup("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).ok_or_else(|| {
            Error::NotConfigured(
                "HOME is not set: set it, or AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE and CCC_CONFIG_DIR".into(),
            )
        })?;
        let mut paths = Self::under_home(&home);
        let expand = |v: String| -> PathBuf {
            match v.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => PathBuf::from(v),
            }
        };
        let set = |name: &str| lookup(name).filter(|v| !v.is_empty()).map(expand);
        if let Some(p) = set("AWS_SHARED_CREDENTIALS_FILE") {
            paths.credentials_file = p;
        }
        if let Some(p) = set("AWS_CONFIG_FILE") {
            paths.config_file = p;
        }
        if let Some(p) = set("CCC_CONFIG_DIR") {
            paths.ccc_dir = p;
        }
        Ok(paths)
    }

    /// Resolves the paths from the process environment. Call once, near `main`.
    #[allow(clippy::disallowed_methods)] // the one place cred-store reads the environment
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// `~/.ccc/config.json`.
    pub fn ccc_config_file(&self) -> PathBuf {
        self.ccc_dir.join("config.json")
    }

    /// The default ledger database file.
    pub fn default_ledger_db(&self) -> PathBuf {
        self.ccc_dir.join("ledger.sqlite")
    }

    /// The token store file.
    pub fn token_store_file(&self) -> PathBuf {
        self.ccc_dir.join("tokens.json")
    }

    /// The refreshing cache's directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.ccc_dir.join("cache")
    }

    /// A refreshing-cache file for credentials identified by `parts` (a profile's name and
    /// settings, a sessions file's text and a session name): `cache/KIND-SHA1.json`, so a
    /// change to any part is a new entry and a stale one is never served for it.
    pub fn cache_entry(&self, kind: &str, parts: &[&str]) -> PathBuf {
        self.cache_dir().join(format!("{kind}-{}.json", content_hash(parts)))
    }

    /// Whether `p` is inside the home directory (for messages).
    pub fn is_under_home(&self, p: &Path) -> bool {
        p.starts_with(&self.home)
    }
}

/// The hex SHA-1 of `parts` (each length-prefixed, so no two lists hash alike by
/// concatenation): the name of what they decide, never a name someone chose.
pub(crate) fn content_hash(parts: &[&str]) -> String {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.len().to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn defaults_follow_the_aws_cli() {
        let p = Paths::from_lookup(lookup(&[("HOME", "/h")])).unwrap();
        assert_eq!(p.credentials_file, PathBuf::from("/h/.aws/credentials"));
        assert_eq!(p.config_file, PathBuf::from("/h/.aws/config"));
        assert_eq!(p.sso_cache_dir, PathBuf::from("/h/.aws/sso/cache"));
        assert_eq!(p.ccc_config_file(), PathBuf::from("/h/.ccc/config.json"));
        assert!(p.is_under_home(&p.ccc_dir));
    }

    #[test]
    fn overrides_and_tilde_expansion() {
        let p = Paths::from_lookup(lookup(&[
            ("HOME", "/h"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/creds"),
            ("AWS_CONFIG_FILE", "/etc/aws.cfg"),
            ("CCC_CONFIG_DIR", "/tmp/ccc"),
        ]))
        .unwrap();
        assert_eq!(p.credentials_file, PathBuf::from("/h/creds"));
        assert_eq!(p.config_file, PathBuf::from("/etc/aws.cfg"));
        assert_eq!(p.ccc_dir, PathBuf::from("/tmp/ccc"));
    }

    #[test]
    fn missing_home_is_a_not_configured_error() {
        let e = Paths::from_lookup(lookup(&[])).unwrap_err();
        assert!(matches!(e, Error::NotConfigured(_)));
        assert!(e.to_string().contains("HOME"));
    }
}
