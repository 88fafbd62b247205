//! `~/.ccc/config.json`: a JSON object of settings, kept as it was. What a key means is
//! its owner's business (the Cognito keys belong to `cognito-auth`, the default profile to
//! the CLI); this module stores them, per profile too, under the file lock.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use core_types::RefreshPolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// The ccc configuration: every key as the file has it. Some values are secrets (an app
/// client secret), so `Debug` shows the key names only. Tokens are never stored here
/// (refresh tokens go to the [`crate::TokenStore`]).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CccConfig {
    values: BTreeMap<String, Value>,
}

impl fmt::Debug for CccConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CccConfig").field("keys", &self.values.keys().collect::<Vec<_>>()).finish()
    }
}

/// The config key for the refresh window in seconds: how long before expiry a credential or
/// token is renewed (default 300).
pub const REFRESH_WINDOW_KEY: &str = "refresh_window_seconds";

impl CccConfig {
    /// One value, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// One value as a non-empty string, if set as one.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key)?.as_str().filter(|s| !s.is_empty())
    }

    /// Sets one value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.values.insert(key.into(), value.into());
    }

    /// Removes one value (`None` when it was not set).
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.values.remove(key)
    }

    /// The keys that are set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The refresh window (`refresh_window_seconds`, default five minutes).
    pub fn refresh_window(&self) -> Result<RefreshPolicy> {
        match self.values.get(REFRESH_WINDOW_KEY) {
            None => Ok(RefreshPolicy::default()),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|secs| *secs <= 86_400)
                .map(|secs| RefreshPolicy::new(std::time::Duration::from_secs(secs)))
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "{REFRESH_WINDOW_KEY} in the ccc config must be a whole number of seconds (at most a day); set it to 300 for five minutes"
                    ))
                }),
        }
    }

    /// One setting of one profile (`profiles.PROFILE.KEY` in the file), if set.
    pub fn profile_setting(&self, profile: &str, key: &str) -> Option<&str> {
        self.values.get(PROFILES_KEY)?.get(profile)?.get(key)?.as_str()
    }

    /// The profiles that have `key` set to `value`.
    pub fn profiles_with(&self, key: &str, value: &str) -> Vec<String> {
        let Some(Value::Object(profiles)) = self.values.get(PROFILES_KEY) else { return Vec::new() };
        profiles
            .iter()
            .filter(|(_, settings)| settings.get(key).and_then(Value::as_str) == Some(value))
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// The config key holding per-profile settings.
pub const PROFILES_KEY: &str = "profiles";

/// Sets (`Some`) or removes (`None`) one setting of one profile, under the file lock,
/// keeping every other key.
pub fn set_profile_setting(paths: &Paths, profile: &str, key: &str, value: Option<&str>) -> Result<()> {
    if profile.is_empty() || key.is_empty() || profile.chars().chain(key.chars()).any(char::is_control) {
        return Err(Error::InvalidInput(format!("invalid profile setting {profile:?}.{key:?}")));
    }
    fsutil::update(&paths.ccc_config_file(), |text| {
        let mut config = match text {
            None => CccConfig::default(),
            Some(t) => parse(&paths.ccc_config_file(), &t)?,
        };
        let profiles =
            config.values.entry(PROFILES_KEY.to_owned()).or_insert_with(|| Value::Object(Default::default()));
        let Value::Object(profiles) = profiles else {
            return Err(Error::InvalidInput(format!(
                "`{PROFILES_KEY}` in the ccc config is not an object; fix or remove it"
            )));
        };
        let settings = profiles.entry(profile.to_owned()).or_insert_with(|| Value::Object(Default::default()));
        let Value::Object(settings) = settings else {
            return Err(Error::InvalidInput(format!("`{PROFILES_KEY}.{profile}` in the ccc config is not an object")));
        };
        match value {
            Some(v) => {
                settings.insert(key.to_owned(), Value::String(v.to_owned()));
            }
            None => {
                settings.remove(key);
                if settings.is_empty() {
                    profiles.remove(profile);
                }
            }
        }
        Ok((Some(to_text(&config)?), ()))
    })
}

fn parse(path: &Path, text: &str) -> Result<CccConfig> {
    serde_json::from_str(text).map_err(|e| Error::Parse {
        path: path.to_owned(),
        line: e.line(),
        message: format!("not a valid ccc config ({:?} error at column {})", e.classify(), e.column()),
    })
}

/// Loads the config; a missing file is an empty config, a malformed one an error.
pub fn load_config(paths: &Paths) -> Result<CccConfig> {
    load_config_from(&paths.ccc_config_file())
}

/// Loads a ccc config from `file` (a missing file is an empty config).
pub fn load_config_from(file: &Path) -> Result<CccConfig> {
    match fsutil::read_optional(file)? {
        None => Ok(CccConfig::default()),
        Some(text) => parse(file, &text),
    }
}

/// Writes the whole config atomically (0600, under the lock).
pub fn save_config(paths: &Paths, config: &CccConfig) -> Result<()> {
    let text = to_text(config)?;
    fsutil::update(&paths.ccc_config_file(), |_| Ok((Some(text), ())))
}

fn to_text(config: &CccConfig) -> Result<String> {
    Ok(serde_json::to_string_pretty(config).map_err(|e| Error::InvalidInput(format!("config: {e}")))? + "\n")
}

/// One value as a string (`None` when unset); a non-string value as its JSON.
pub fn get_config_value(paths: &Paths, key: &str) -> Result<Option<String>> {
    let config = load_config(paths)?;
    Ok(config.get(key).map(|v| match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }))
}

/// Sets (`Some`) or removes (`None`) one value under the file lock (read, change, write),
/// keeping every other key.
pub fn set_config_value(paths: &Paths, key: &str, value: Option<&str>) -> Result<()> {
    if key.is_empty() || key.chars().any(char::is_control) || key == PROFILES_KEY {
        return Err(Error::InvalidInput(format!("invalid config key {key:?}")));
    }
    let file = paths.ccc_config_file();
    fsutil::update(&file, |text| {
        let mut config = match text {
            None => CccConfig::default(),
            Some(t) => parse(&file, &t)?,
        };
        match value {
            Some(v) => config.set(key, v),
            None => {
                config.remove(key);
            }
        }
        Ok((Some(to_text(&config)?), ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn keys_kept_as_they_were_and_debug_names_keys_only() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        assert!(load_config(&paths).unwrap().keys().next().is_none());
        fs::create_dir_all(&paths.ccc_dir).unwrap();
        fs::write(paths.ccc_config_file(), r#"{"user_pool_id":"us-east-1_abc","theme":{"dark":true}}"#).unwrap();
        set_config_value(&paths, "app_client_secret", Some("SHHH-client-secret")).unwrap();
        set_config_value(&paths, "region", Some("us-east-1")).unwrap();
        let config = load_config(&paths).unwrap();
        assert_eq!(config.get("theme"), Some(&serde_json::json!({"dark": true})));
        assert_eq!(get_config_value(&paths, "user_pool_id").unwrap().as_deref(), Some("us-east-1_abc"));
        assert_eq!(get_config_value(&paths, "theme").unwrap().as_deref(), Some(r#"{"dark":true}"#));
        assert!(!format!("{config:?}").contains("SHHH"));
        assert!(format!("{config:?}").contains("app_client_secret"));
        assert!(fs::read_to_string(paths.ccc_config_file()).unwrap().contains("SHHH-client-secret"));
        set_config_value(&paths, "region", None).unwrap();
        assert_eq!(get_config_value(&paths, "region").unwrap(), None);
        assert!(set_config_value(&paths, PROFILES_KEY, Some("x")).is_err(), "per-profile settings have their own call");
    }

    #[test]
    fn refresh_window_is_whole_seconds() {
        let mut c = CccConfig::default();
        assert_eq!(c.refresh_window().unwrap(), RefreshPolicy::default());
        c.set(REFRESH_WINDOW_KEY, "120");
        assert_eq!(c.refresh_window().unwrap().window(), std::time::Duration::from_secs(120));
        c.set(REFRESH_WINDOW_KEY, 60);
        assert_eq!(c.refresh_window().unwrap().window(), std::time::Duration::from_secs(60));
        c.set(REFRESH_WINDOW_KEY, "soon");
        assert!(c.refresh_window().unwrap_err().to_string().contains("whole number of seconds"));
    }

    #[test]
    fn malformed_config_is_an_error_and_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        fs::create_dir_all(&paths.ccc_dir).unwrap();
        fs::write(paths.ccc_config_file(), "{\"region\": \n").unwrap();
        let e = set_config_value(&paths, "region", Some("x")).unwrap_err();
        assert!(matches!(e, Error::Parse { .. }), "{e}");
        assert!(e.to_string().contains("not a valid ccc config"));
        assert_eq!(fs::read_to_string(paths.ccc_config_file()).unwrap(), "{\"region\": \n");
        assert!(load_config(&paths).is_err());
    }
}
