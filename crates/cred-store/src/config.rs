//! `~/.ccc/config.json`: typed keys the toolkit uses, unknown keys kept as they were.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// The ccc configuration. The app client secret is a secret; tokens are never stored here
/// (refresh tokens go to the [`crate::TokenStore`]).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct CccConfig {
    /// Cognito user pool id (`us-east-1_AbCdEf123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// Cognito app client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_client_id: Option<String>,
    /// Cognito app client secret, when the client has one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "secret_opt")]
    pub app_client_secret: Option<SecretString>,
    /// Cognito identity pool id (`us-east-1:uuid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_pool_id: Option<String>,
    /// AWS region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWS profile ccc writes credentials to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Every other key, kept as it was.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

mod secret_opt {
    use super::*;
    use serde::{Deserializer, Serializer};

    // The config file is the one place the client secret must be written.
    pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> std::result::Result<S::Ok, S::Error> {
        match v {
            Some(secret) => s.serialize_str(secret.expose_secret()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
    }
}

impl fmt::Debug for CccConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CccConfig")
            .field("user_pool_id", &self.user_pool_id)
            .field("app_client_id", &self.app_client_id)
            .field("app_client_secret", &self.app_client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("identity_pool_id", &self.identity_pool_id)
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The typed keys `get_config_value` / `set_config_value` know.
pub const CONFIG_KEYS: &[&str] =
    &["user_pool_id", "app_client_id", "app_client_secret", "identity_pool_id", "region", "profile"];

impl CccConfig {
    /// Whether the Cognito settings a sign-in needs are present.
    pub fn is_configured(&self) -> bool {
        self.user_pool_id.is_some() && self.app_client_id.is_some() && self.region.is_some()
    }

    /// The profile to write credentials to (`default` when unset).
    pub fn profile_or_default(&self) -> &str {
        self.profile.as_deref().unwrap_or("default")
    }

    /// One setting of one profile (`profiles.PROFILE.KEY` in the file), if set. What the
    /// settings mean is their owner's business; this crate only keeps them.
    pub fn profile_setting(&self, profile: &str, key: &str) -> Option<&str> {
        self.extra.get(PROFILES_KEY)?.get(profile)?.get(key)?.as_str()
    }

    /// The profiles that have `key` set to `value`.
    pub fn profiles_with(&self, key: &str, value: &str) -> Vec<String> {
        let Some(Value::Object(profiles)) = self.extra.get(PROFILES_KEY) else { return Vec::new() };
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
            Some(t) => parse(paths, &t)?,
        };
        let profiles = config.extra.entry(PROFILES_KEY.to_owned()).or_insert_with(|| Value::Object(Default::default()));
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
        let text = serde_json::to_string_pretty(&config).map_err(|e| Error::InvalidInput(format!("config: {e}")))?;
        Ok((Some(text + "\n"), ()))
    })
}

fn parse(paths: &Paths, text: &str) -> Result<CccConfig> {
    serde_json::from_str(text).map_err(|e| Error::Parse {
        path: paths.ccc_config_file(),
        line: e.line(),
        message: format!("not a valid ccc config ({:?} error at column {})", e.classify(), e.column()),
    })
}

/// Loads the config; a missing file is an empty config, a malformed one an error.
pub fn load_config(paths: &Paths) -> Result<CccConfig> {
    match fsutil::read_optional(&paths.ccc_config_file())? {
        None => Ok(CccConfig::default()),
        Some(text) => parse(paths, &text),
    }
}

/// Writes the whole config atomically (0600, under the lock).
pub fn save_config(paths: &Paths, config: &CccConfig) -> Result<()> {
    let text = serde_json::to_string_pretty(config).map_err(|e| Error::InvalidInput(format!("config: {e}")))? + "\n";
    fsutil::update(&paths.ccc_config_file(), |_| Ok((Some(text), ())))
}

/// One value as a string (`None` when unset). The client secret is returned redacted.
pub fn get_config_value(paths: &Paths, key: &str) -> Result<Option<String>> {
    let config = load_config(paths)?;
    Ok(match key {
        "user_pool_id" => config.user_pool_id,
        "app_client_id" => config.app_client_id,
        "app_client_secret" => config.app_client_secret.map(|_| "[REDACTED]".to_owned()),
        "identity_pool_id" => config.identity_pool_id,
        "region" => config.region,
        "profile" => config.profile,
        other => config.extra.get(other).map(|v| match v {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        }),
    })
}

/// Sets one value under the file lock (read, change, write), keeping every other key.
pub fn set_config_value(paths: &Paths, key: &str, value: &str) -> Result<()> {
    if key.is_empty() || key.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!("invalid config key {key:?}")));
    }
    fsutil::update(&paths.ccc_config_file(), |text| {
        let mut config = match text {
            None => CccConfig::default(),
            Some(t) => parse(paths, &t)?,
        };
        let v = Some(value.to_owned());
        match key {
            "user_pool_id" => config.user_pool_id = v,
            "app_client_id" => config.app_client_id = v,
            "app_client_secret" => config.app_client_secret = v.map(SecretString::from),
            "identity_pool_id" => config.identity_pool_id = v,
            "region" => config.region = v,
            "profile" => config.profile = v,
            other => {
                config.extra.insert(other.to_owned(), Value::String(value.to_owned()));
            }
        }
        let text = serde_json::to_string_pretty(&config).map_err(|e| Error::InvalidInput(format!("config: {e}")))?;
        Ok((Some(text + "\n"), ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn typed_keys_unknown_keys_kept_and_secret_redacted() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        assert!(!load_config(&paths).unwrap().is_configured());
        fs::create_dir_all(&paths.ccc_dir).unwrap();
        fs::write(paths.ccc_config_file(), r#"{"user_pool_id":"us-east-1_abc","theme":{"dark":true}}"#).unwrap();
        set_config_value(&paths, "app_client_secret", "SHHH-client-secret").unwrap();
        set_config_value(&paths, "region", "us-east-1").unwrap();
        set_config_value(&paths, "app_client_id", "client1").unwrap();
        let config = load_config(&paths).unwrap();
        assert!(config.is_configured());
        assert_eq!(config.extra["theme"], serde_json::json!({"dark": true}));
        assert_eq!(get_config_value(&paths, "app_client_secret").unwrap().as_deref(), Some("[REDACTED]"));
        assert_eq!(get_config_value(&paths, "user_pool_id").unwrap().as_deref(), Some("us-east-1_abc"));
        assert!(!format!("{config:?}").contains("SHHH"));
        assert_eq!(config.profile_or_default(), "default");
        assert!(fs::read_to_string(paths.ccc_config_file()).unwrap().contains("SHHH-client-secret"));
    }

    #[test]
    fn malformed_config_is_an_error_and_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        fs::create_dir_all(&paths.ccc_dir).unwrap();
        fs::write(paths.ccc_config_file(), "{\"region\": \n").unwrap();
        let e = set_config_value(&paths, "region", "x").unwrap_err();
        assert!(matches!(e, Error::Parse { .. }), "{e}");
        assert!(e.to_string().contains("not a valid ccc config"));
        assert_eq!(fs::read_to_string(paths.ccc_config_file()).unwrap(), "{\"region\": \n");
        assert!(load_config(&paths).is_err());
    }
}
