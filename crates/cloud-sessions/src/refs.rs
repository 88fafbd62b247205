//! Value references: `ENV/NAME` reads an environment variable, `SEC/name` a secret store;
//! anything else is the literal value. Secrets stay `SecretString`s from the moment they
//! are read.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use core_types::{ExposeSecret, SecretString};
use cred_store::{TokenKey, TokenStore};

use crate::error::SessionError;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueRef {
    /// Written as is.
    Literal(String),
    /// `ENV/NAME`.
    Env(String),
    /// `SEC/name`.
    Sec(String),
}

impl ValueRef {
    /// Parses a configuration value.
    pub fn parse(v: &str) -> Self {
        if let Some(n) = v.strip_prefix("ENV/") {
            ValueRef::Env(n.to_owned())
        } else if let Some(n) = v.strip_prefix("SEC/") {
            ValueRef::Sec(n.to_owned())
        } else {
            ValueRef::Literal(v.to_owned())
        }
    }
}

/// A boxed future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where `SEC/` references are looked up.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// A short name for messages.
    fn name(&self) -> &str;
    /// The secret, `Ok(None)` when this store does not have it.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SecretString>, String>>;
}

/// The local store: cred-store's token store, key `("secret", "cloud-sessions", NAME)`,
/// value in the access-token slot.
#[derive(Debug, Clone)]
pub struct LocalSecretStore {
    store: TokenStore,
}

impl LocalSecretStore {
    /// Uses `store`.
    pub fn new(store: TokenStore) -> Self {
        Self { store }
    }

    /// The key a secret lives under.
    pub fn key(name: &str) -> TokenKey {
        TokenKey::new("secret", "cloud-sessions", name)
    }

    /// Stores a secret (for `ccc`-style tooling and tests).
    pub fn put(&self, name: &str, value: SecretString) -> Result<(), SessionError> {
        let tokens = core_types::TokenSet { access_token: Some(value), ..Default::default() };
        Ok(self.store.put(&Self::key(name), &tokens)?)
    }
}

impl SecretStore for LocalSecretStore {
    fn name(&self) -> &str {
        "local token store"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SecretString>, String>> {
        Box::pin(async move {
            self.store.get(&Self::key(key)).map(|t| t.and_then(|t| t.access_token)).map_err(|e| e.to_string())
        })
    }
}

/// An environment lookup (`std::env::var` in production, a table in tests).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Resolves references: environment through a lookup, secrets through stores in priority order.
#[derive(Clone)]
pub struct Resolver {
    env: EnvLookup,
    stores: Vec<(i32, Arc<dyn SecretStore>)>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("stores", &self.stores.iter().map(|(p, s)| (p, s.name())).collect::<Vec<_>>())
            .finish()
    }
}

impl Resolver {
    /// A resolver reading the environment through `env`.
    pub fn new(env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        Self { env: Arc::new(env), stores: Vec::new() }
    }

    /// Adds a secret store; higher `priority` is asked first.
    pub fn add_store(&mut self, priority: i32, store: Arc<dyn SecretStore>) {
        self.stores.push((priority, store));
        self.stores.sort_by_key(|s| std::cmp::Reverse(s.0));
    }

    /// Resolves a value; `used_by` is the YAML path, for errors.
    pub async fn resolve(&self, value: &str, used_by: &str) -> Result<SecretString, SessionError> {
        let fail = |message: String| SessionError::Reference {
            reference: value.to_owned(),
            used_by: used_by.to_owned(),
            message,
        };
        match ValueRef::parse(value) {
            ValueRef::Literal(v) => Ok(SecretString::from(v)),
            ValueRef::Env(name) => (self.env)(&name)
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or_else(|| fail(format!("environment variable {name} is not set"))),
            ValueRef::Sec(name) => {
                if self.stores.is_empty() {
                    return Err(fail("no secret store is configured (secrets_manager.cloud_stores)".into()));
                }
                let mut tried = Vec::new();
                for (_, store) in &self.stores {
                    match store.get(&name).await {
                        Ok(Some(v)) if !v.expose_secret().is_empty() => return Ok(v),
                        Ok(_) => tried.push(format!("{}: not found", store.name())),
                        Err(e) => tried.push(format!("{}: {e}", store.name())),
                    }
                }
                Err(fail(format!("secret {name:?} not found ({})", tried.join("; "))))
            }
        }
    }

    /// Resolves an optional value.
    pub async fn resolve_opt(&self, value: Option<&str>, used_by: &str) -> Result<Option<SecretString>, SessionError> {
        match value {
            Some(v) => self.resolve(v, used_by).await.map(Some),
            None => Ok(None),
        }
    }
}
