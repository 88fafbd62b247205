//! A store for refresh tokens and cached tokens, keyed by (provider, account or profile, user):
//! one JSON file, 0600, under the ccc config directory, written atomically under its lock.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use core_types::{ExposeSecret, SecretString, TokenSet};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;
use crate::timefmt::{from_unix_seconds, unix_seconds};
use crate::token_key::TokenKey;

#[derive(Serialize, Deserialize, Default)]
struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// When the tokens were obtained (the refreshing cache's half-life rule needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    obtained_at: Option<i64>,
    /// An IAM user's long-term key (`ccc keys`), its rotation journal beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_key: Option<KeyEntry>,
}

/// A stored long-term key and its rotation journal, as kept in the file (secrets sealed when
/// the store seals).
#[derive(Serialize, Deserialize, Default)]
struct KeyEntry {
    access_key_id: String,
    secret_access_key: String,
    added_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotation_started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_secret_access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_access_key_id: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
struct StoreFile {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

fn expose(s: &Option<SecretString>) -> Option<String> {
    s.as_ref().map(|v| v.expose_secret().to_owned())
}

impl From<&TokenSet> for Entry {
    fn from(t: &TokenSet) -> Self {
        Entry {
            access_token: expose(&t.access_token),
            id_token: expose(&t.id_token),
            refresh_token: expose(&t.refresh_token),
            token_type: t.token_type.clone(),
            scopes: t.scopes.clone(),
            expires_at: t.expires_at.map(unix_seconds),
            obtained_at: None,
            access_key: None,
        }
    }
}

/// The prefix of a sealed value (see the `keyring` feature).
const SEALED_PREFIX: &str = "sealed:v1:";

/// Whether the store's secrets are sealed, and with what.
#[derive(Clone, Default)]
struct Sealing {
    #[cfg(feature = "keyring")]
    sealer: Option<std::sync::Arc<crate::sealing::Sealer>>,
}

impl Sealing {
    fn seal(&self, value: Option<String>, slot: &str) -> Result<Option<String>> {
        #[cfg(feature = "keyring")]
        if let (Some(s), Some(v)) = (&self.sealer, &value) {
            return s.seal(v, slot).map(Some);
        }
        let _ = slot;
        Ok(value)
    }

    fn open(&self, value: Option<String>, slot: &str) -> Result<Option<SecretString>> {
        let Some(v) = value else { return Ok(None) };
        #[cfg(feature = "keyring")]
        if let Some(s) = &self.sealer {
            return s.open(&v, slot).map(|p| Some(SecretString::from(p)));
        }
        if v.starts_with(SEALED_PREFIX) {
            return Err(Error::NotConfigured(format!(
                "set CCC_TOKEN_STORE=keyring to read this token: it is sealed with a key from the platform keyring ({slot}); or remove the entry and sign in again"
            )));
        }
        Ok(Some(SecretString::from(v)))
    }

    fn describe(&self) -> String {
        #[cfg(feature = "keyring")]
        if let Some(s) = &self.sealer {
            return s.describe();
        }
        "plain JSON, mode 0600".to_owned()
    }
}

/// The file-backed token store. By default the file holds the tokens as JSON, readable by
/// its owner only; with the `keyring` feature, [`TokenStore::sealed_with_keyring`] seals each
/// token with a key kept in the platform keyring.
#[derive(Clone)]
pub struct TokenStore {
    path: PathBuf,
    sealing: Sealing,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").field("path", &self.path).field("sealing", &self.sealing.describe()).finish()
    }
}

impl TokenStore {
    /// The store at `paths.token_store_file()`.
    pub fn new(paths: &Paths) -> Self {
        Self { path: paths.token_store_file(), sealing: Sealing::default() }
    }

    /// A store in an explicit file.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), sealing: Sealing::default() }
    }

    /// This store with every token sealed (AES-256-GCM) under a key kept in the platform
    /// keyring, created on first use; a token found unsealed is refused (written before
    /// sealing was turned on, or planted: sign in again). A keyring that cannot be reached is an error at the first read or write, never
    /// a silent fallback to plain storage.
    #[cfg(feature = "keyring")]
    pub fn sealed_with_keyring(self) -> Self {
        let account = self.path.display().to_string();
        Self {
            sealing: Sealing { sealer: Some(std::sync::Arc::new(crate::sealing::Sealer::keyring(account))) },
            ..self
        }
    }

    /// This store with every token sealed under `key` (for callers with their own key
    /// management, and tests).
    #[cfg(feature = "keyring")]
    pub fn sealed_with_key(self, key: [u8; 32]) -> Self {
        Self { sealing: Sealing { sealer: Some(std::sync::Arc::new(crate::sealing::Sealer::fixed(key))) }, ..self }
    }

    /// The store's file (a change to it may change what a profile served from it gets).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// How the tokens are kept (for `doctor`-style reports): `plain JSON, mode 0600` or how
    /// they are sealed.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.path.display(), self.sealing.describe())
    }

    /// The entry a token set is kept as, its secrets sealed when the store seals.
    fn write_entry(&self, key: &TokenKey, tokens: &TokenSet) -> Result<Entry> {
        let mut e = Entry::from(tokens);
        let slot = |f: &str| key.slot(f);
        e.access_token = self.sealing.seal(e.access_token.take(), &slot("access_token"))?;
        e.id_token = self.sealing.seal(e.id_token.take(), &slot("id_token"))?;
        e.refresh_token = self.sealing.seal(e.refresh_token.take(), &slot("refresh_token"))?;
        Ok(e)
    }

    /// The token set an entry holds, its secrets opened.
    fn read_entry(&self, key: &TokenKey, e: Entry) -> Result<TokenSet> {
        let slot = |f: &str| key.slot(f);
        Ok(TokenSet {
            access_token: self.sealing.open(e.access_token, &slot("access_token"))?,
            id_token: self.sealing.open(e.id_token, &slot("id_token"))?,
            refresh_token: self.sealing.open(e.refresh_token, &slot("refresh_token"))?,
            token_type: e.token_type,
            scopes: e.scopes,
            expires_at: e.expires_at.map(from_unix_seconds),
        })
    }

    fn parse(&self, text: Option<String>) -> Result<StoreFile> {
        match text {
            None => Ok(StoreFile { version: 1, entries: BTreeMap::new() }),
            Some(t) => serde_json::from_str(&t).map_err(|e| Error::Parse {
                path: self.path.clone(),
                line: e.line(),
                message: format!("token store is damaged ({:?} error); remove it and sign in again", e.classify()),
            }),
        }
    }

    fn edit<T>(&self, f: impl FnOnce(&mut StoreFile) -> T) -> Result<T> {
        fsutil::update(&self.path, |text| {
            let mut store = self.parse(text)?;
            let out = f(&mut store);
            let text =
                serde_json::to_string_pretty(&store).map_err(|e| Error::InvalidInput(format!("token store: {e}")))?;
            Ok((Some(text), out))
        })
    }

    /// Stores (replaces) a token set.
    pub fn put(&self, key: &TokenKey, tokens: &TokenSet) -> Result<()> {
        let entry = self.write_entry(key, tokens)?;
        self.edit(|s| {
            s.entries.insert(key.encode(), entry);
        })
    }

    /// Reads a token set.
    pub fn get(&self, key: &TokenKey) -> Result<Option<TokenSet>> {
        let mut store = self.parse(fsutil::read_optional(&self.path)?)?;
        store.entries.remove(&key.encode()).map(|e| self.read_entry(key, e)).transpose()
    }

    /// Removes a token set. Returns whether it was there.
    pub fn remove(&self, key: &TokenKey) -> Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.edit(|s| s.entries.remove(&key.encode()).is_some())
    }

    /// Reads a token set and when it was obtained (if recorded).
    pub fn get_with_time(&self, key: &TokenKey) -> Result<Option<(TokenSet, Option<SystemTime>)>> {
        let mut store = self.parse(fsutil::read_optional(&self.path)?)?;
        store
            .entries
            .remove(&key.encode())
            .map(|e| {
                let at = e.obtained_at.map(from_unix_seconds);
                self.read_entry(key, e).map(|t| (t, at))
            })
            .transpose()
    }

    /// Stores (replaces) a token set obtained at `at`.
    pub fn put_at(&self, key: &TokenKey, tokens: &TokenSet, at: SystemTime) -> Result<()> {
        let mut entry = self.write_entry(key, tokens)?;
        entry.obtained_at = Some(unix_seconds(at));
        self.edit(|s| {
            s.entries.insert(key.encode(), entry);
        })
    }

    /// The entry for `key` as a refreshing cache's shared home: every process refreshing it
    /// takes the same per-key refresh lock, re-reads, and spends the refresh token only if
    /// the tokens are still stale.
    pub fn entry(&self, key: TokenKey) -> TokenEntry {
        TokenEntry { store: self.clone(), key }
    }

    /// Stores (replaces) the long-term key kept for AWS profile `profile`, with its rotation
    /// journal, in one atomic write: the secrets sealed when the store seals.
    pub fn put_access_key(&self, profile: &str, key: &crate::StoredKey) -> Result<()> {
        let id = access_key_token(profile);
        let slot = |f: &str| id.slot(f);
        let journal = key.rotation.as_ref();
        let next = journal.and_then(|j| j.next.as_ref());
        let entry = KeyEntry {
            access_key_id: key.access_key_id.clone(),
            secret_access_key: self
                .sealing
                .seal(Some(key.secret_access_key.expose_secret().to_owned()), &slot("secret_access_key"))?
                .unwrap_or_default(),
            added_at: unix_seconds(key.added_at),
            rotated_at: key.rotated_at.map(unix_seconds),
            rotation_started_at: journal.map(|j| unix_seconds(j.started_at)),
            next_access_key_id: next.map(|(i, _)| i.clone()),
            next_secret_access_key: match next {
                Some((_, s)) => {
                    self.sealing.seal(Some(s.expose_secret().to_owned()), &slot("next_secret_access_key"))?
                }
                None => None,
            },
            retired_access_key_id: journal.and_then(|j| j.retired.clone()),
        };
        self.edit(|s| {
            s.entries.insert(id.encode(), Entry { access_key: Some(entry), ..Entry::default() });
        })
    }

    /// The long-term key kept for `profile`, if any.
    pub fn access_key(&self, profile: &str) -> Result<Option<crate::StoredKey>> {
        let id = access_key_token(profile);
        let mut store = self.parse(fsutil::read_optional(&self.path)?)?;
        let Some(e) = store.entries.remove(&id.encode()).and_then(|e| e.access_key) else { return Ok(None) };
        let slot = |f: &str| id.slot(f);
        let secret = self.sealing.open(Some(e.secret_access_key), &slot("secret_access_key"))?.unwrap_or_default();
        let next = match (e.next_access_key_id, e.next_secret_access_key) {
            (Some(i), Some(s)) => self.sealing.open(Some(s), &slot("next_secret_access_key"))?.map(|s| (i, s)),
            _ => None,
        };
        let rotation = e.rotation_started_at.map(|at| crate::KeyRotation {
            started_at: from_unix_seconds(at),
            next,
            retired: e.retired_access_key_id,
        });
        Ok(Some(crate::StoredKey {
            access_key_id: e.access_key_id,
            secret_access_key: secret,
            added_at: from_unix_seconds(e.added_at),
            rotated_at: e.rotated_at.map(from_unix_seconds),
            rotation,
        }))
    }

    /// Removes the long-term key kept for `profile`. Returns whether it was there.
    pub fn remove_access_key(&self, profile: &str) -> Result<bool> {
        self.remove(&access_key_token(profile))
    }

    /// The profiles a long-term key is kept for.
    pub fn access_key_profiles(&self) -> Result<Vec<String>> {
        Ok(self.keys()?.into_iter().filter(|k| k.provider == ACCESS_KEY_PROVIDER).map(|k| k.account).collect())
    }

    /// Every key in the store.
    pub fn keys(&self) -> Result<Vec<TokenKey>> {
        let store = self.parse(fsutil::read_optional(&self.path)?)?;
        Ok(store.entries.keys().filter_map(|k| TokenKey::decode(k)).collect())
    }
}

/// The token key a profile's long-term key is kept under.
const ACCESS_KEY_PROVIDER: &str = "aws-access-key";

fn access_key_token(profile: &str) -> TokenKey {
    TokenKey::new(ACCESS_KEY_PROVIDER, profile, "")
}

/// One key of a [`TokenStore`], as a [`crate::SharedEntry`] of a refreshing cache.
#[derive(Debug, Clone)]
pub struct TokenEntry {
    store: TokenStore,
    key: TokenKey,
}

impl TokenEntry {
    /// The key.
    pub fn key(&self) -> &TokenKey {
        &self.key
    }

    /// The store.
    pub fn store(&self) -> &TokenStore {
        &self.store
    }
}

/// FNV-1a: a stable, short name for a key's lock file (not a security boundary).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl crate::SharedEntry<TokenSet> for TokenEntry {
    fn location(&self) -> String {
        format!("{} [{}:{}]", self.store.path.display(), self.key.provider, self.key.account)
    }

    fn refresh_lock(&self) -> PathBuf {
        // one lock per key, apart from the store file's own write lock (taken by `store`)
        let name = self.store.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.store.path.with_file_name(format!(".{name}.refresh-{:016x}", fnv1a(&self.key.encode())))
    }

    fn load(&self) -> Result<Option<(TokenSet, Option<SystemTime>)>> {
        self.store.get_with_time(&self.key)
    }

    fn store(&self, value: &TokenSet, at: SystemTime) -> Result<()> {
        self.store.put_at(&self.key, value, at)
    }

    fn remove(&self) -> Result<()> {
        self.store.remove(&self.key).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A sealed store keeps no token readable in its file, reads entries written before
    /// sealing, and a plain store refuses sealed entries with a clear error (never garbage).
    #[cfg(feature = "keyring")]
    #[test]
    fn a_sealed_store_keeps_nothing_readable_in_its_file() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        let key = TokenKey::new("oauth", "https://id.example.com", "cli");
        let tokens = TokenSet {
            access_token: Some(SecretString::from("AT-SECRET-VALUE".to_owned())),
            refresh_token: Some(SecretString::from("RT-SECRET-VALUE".to_owned())),
            ..TokenSet::default()
        };
        // a plain token (planted, or from before sealing) is refused by a sealing store, never
        // handed on; signing in again writes it sealed
        TokenStore::new(&paths).put(&key, &tokens).unwrap();
        let sealed = TokenStore::new(&paths).sealed_with_key([3; 32]);
        let e = sealed.get(&key).unwrap_err().to_string();
        assert!(e.contains("not sealed") && !e.contains("SECRET-VALUE"), "{e}");
        sealed.put(&key, &tokens).unwrap();
        let text = std::fs::read_to_string(paths.token_store_file()).unwrap();
        assert!(!text.contains("SECRET-VALUE") && text.contains(SEALED_PREFIX), "{text}");
        assert_eq!(sealed.get(&key).unwrap().unwrap().access_token.unwrap().expose_secret(), "AT-SECRET-VALUE");
        let e = TokenStore::new(&paths).get(&key).unwrap_err().to_string();
        assert!(e.contains("CCC_TOKEN_STORE=keyring"), "{e}");
        let e = TokenStore::new(&paths).sealed_with_key([4; 32]).get(&key).unwrap_err().to_string();
        assert!(e.contains("does not open"), "{e}");
        assert!(sealed.describe().contains("sealed (AES-256-GCM"));
    }

    #[test]
    fn put_get_remove_with_0600_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = TokenStore::new(&Paths::under_home(tmp.path()));
        let key = TokenKey::new("cognito", "us-east-1_pool", "alice");
        let tokens = TokenSet {
            refresh_token: Some(SecretString::from("RT-SECRET".to_owned())),
            scopes: vec!["openid".into()],
            expires_at: Some(from_unix_seconds(1_800_000_000)),
            ..TokenSet::default()
        };
        store.put(&key, &tokens).unwrap();
        store.put(&TokenKey::new("oauth", "https://idp", "bob"), &TokenSet::default()).unwrap();
        let back = store.get(&key).unwrap().unwrap();
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "RT-SECRET");
        assert_eq!(back.expires_at, tokens.expires_at);
        assert_eq!(store.keys().unwrap().len(), 2);
        let mode = std::fs::metadata(&store.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(store.remove(&key).unwrap());
        assert!(store.get(&key).unwrap().is_none());
        assert!(!format!("{store:?}").contains("RT-SECRET"));
    }
}
