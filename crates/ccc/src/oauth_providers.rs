//! Saved OAuth providers: a name for an issuer, a client, its scopes and the variable
//! `ccc oauth exec` sets, kept in the ccc config under `oauth_providers.NAME`; a confidential
//! client's secret is kept in the token store, never in the config file.

use core_types::{SecretString, TokenSet};
use cred_store::{CccConfig, TokenKey, TokenStore};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

/// The config key holding the providers.
const PROVIDERS_KEY: &str = "oauth_providers";

/// The variable `ccc oauth exec` sets when the provider names none.
pub const DEFAULT_TOKEN_VAR: &str = "ACCESS_TOKEN";

/// One saved provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// Its name (the key it is saved under).
    #[serde(skip)]
    pub name: String,
    /// The issuer URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// Scopes to ask for (empty: `openid offline_access`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Whether a client secret is kept in the token store.
    #[serde(default)]
    pub confidential: bool,
    /// The variable `ccc oauth exec` puts the access token in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_var: Option<String>,
}

/// Names are what a shell and a JSON key carry without quoting.
fn check_name(name: &str) -> CliResult {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CliError::new(format!("invalid provider name {name:?}: use letters, digits, '-', '_' and '.'")))
    }
}

/// An environment variable name (`ccc oauth exec` sets it).
pub fn check_var(var: &str) -> CliResult {
    let ok = var.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(()) } else { Err(CliError::new(format!("invalid variable name {var:?}: use letters, digits and '_'"))) }
}

impl Provider {
    /// A provider named `name` (checked) for `client_id` at `issuer`.
    pub fn new(name: &str, issuer: &str, client_id: &str) -> CliResult<Self> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            scopes: Vec::new(),
            confidential: false,
            token_var: None,
        })
    }

    /// Every saved provider, by name.
    pub fn list(config: &CccConfig) -> CliResult<Vec<Self>> {
        let Some(map) = config.get(PROVIDERS_KEY) else { return Ok(Vec::new()) };
        let map = map.as_object().ok_or_else(|| {
            CliError::new(format!("{PROVIDERS_KEY} in the ccc config is not an object"))
                .hint("fix it in ~/.ccc/config.json, or remove it and add the providers again")
        })?;
        let mut out = Vec::new();
        for (name, value) in map {
            let mut p: Provider = serde_json::from_value(value.clone()).map_err(|e| {
                CliError::new(format!("{PROVIDERS_KEY}.{name} in the ccc config is invalid: {e}"))
                    .hint(format!("run `ccc oauth remove {name}` and add it again"))
            })?;
            p.name = name.clone();
            out.push(p);
        }
        Ok(out)
    }

    /// The provider named `name`.
    pub fn load(config: &CccConfig, name: &str) -> CliResult<Self> {
        Self::list(config)?.into_iter().find(|p| p.name == name).ok_or_else(|| {
            CliError::new(format!("no saved OAuth provider named {name:?}"))
                .kind(core_types::ErrorKind::NotConfigured)
                .hint("`ccc oauth list` shows them; `ccc oauth add NAME --issuer URL --client-id ID` saves one")
        })
    }

    /// Saves (or replaces) it in `config`.
    pub fn write_to(&self, config: &mut CccConfig) {
        let mut map = config.get(PROVIDERS_KEY).and_then(|v| v.as_object().cloned()).unwrap_or_default();
        map.insert(self.name.clone(), serde_json::to_value(self).unwrap_or_default());
        config.set(PROVIDERS_KEY, serde_json::Value::Object(map));
    }

    /// Removes `name` from `config`; whether it was there.
    pub fn remove_from(config: &mut CccConfig, name: &str) -> bool {
        let mut map = config.get(PROVIDERS_KEY).and_then(|v| v.as_object().cloned()).unwrap_or_default();
        let found = map.remove(name).is_some();
        config.set(PROVIDERS_KEY, serde_json::Value::Object(map));
        found
    }

    /// Where the client secret is kept in the token store.
    fn secret_key(&self) -> TokenKey {
        TokenKey::new("oauth-client-secret", &self.issuer, &self.client_id)
    }

    /// Keeps the client secret in the token store.
    pub fn save_secret(&self, store: &TokenStore, secret: SecretString) -> CliResult {
        Ok(store.put(&self.secret_key(), &TokenSet { access_token: Some(secret), ..TokenSet::default() })?)
    }

    /// The client secret, when the client is confidential.
    pub fn secret(&self, store: &TokenStore) -> CliResult<Option<SecretString>> {
        if !self.confidential {
            return Ok(None);
        }
        let secret = store.get(&self.secret_key())?.and_then(|t| t.access_token);
        match secret {
            Some(s) => Ok(Some(s)),
            None => Err(CliError::new(format!(
                "the client secret of provider {} is missing from the token store",
                self.name
            ))
            .kind(core_types::ErrorKind::NotConfigured)
            .hint(format!("run `ccc oauth add {} … --client-secret-stdin` again", self.name))),
        }
    }

    /// Forgets the client secret.
    pub fn remove_secret(&self, store: &TokenStore) -> CliResult {
        store.remove(&self.secret_key())?;
        Ok(())
    }

    /// The variable `ccc oauth exec` sets.
    pub fn token_var(&self) -> &str {
        self.token_var.as_deref().unwrap_or(DEFAULT_TOKEN_VAR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_round_trip_through_the_config_without_secrets() {
        let mut config = CccConfig::default();
        let mut p = Provider::new("corp-api", "https://id.example.com/", "cli").unwrap();
        p.scopes = vec!["openid".into(), "api".into()];
        p.confidential = true;
        p.write_to(&mut config);
        Provider::new("other", "https://other.example.com", "c2").unwrap().write_to(&mut config);
        let back = Provider::load(&config, "corp-api").unwrap();
        assert_eq!(back, Provider { issuer: "https://id.example.com".into(), ..p.clone() });
        assert_eq!(Provider::list(&config).unwrap().len(), 2);
        assert!(Provider::remove_from(&mut config, "other"));
        assert!(Provider::load(&config, "other").is_err());
        assert!(Provider::new("bad name", "https://x", "c").is_err());
        assert!(check_var("MY_TOKEN").is_ok() && check_var("1X").is_err() && check_var("A-B").is_err());
    }
}
