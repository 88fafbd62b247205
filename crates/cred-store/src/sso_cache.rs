//! The SSO token cache `~/.aws/sso/cache/<sha1>.json`, in the format awscli v2 and botocore
//! read and write.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// One cached SSO sign-in: the access token, and what is needed to refresh it silently.
#[derive(Clone)]
pub struct SsoToken {
    /// The SSO access token.
    pub access_token: SecretString,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// The refresh token, when the registration allows refresh.
    pub refresh_token: Option<SecretString>,
    /// The registered OIDC client id.
    pub client_id: Option<String>,
    /// The registered OIDC client secret.
    pub client_secret: Option<SecretString>,
    /// When the client registration expires.
    pub registration_expires_at: Option<SystemTime>,
    /// The SSO region.
    pub region: Option<String>,
    /// The SSO start URL.
    pub start_url: Option<String>,
    /// Keys we do not manage, kept as they were.
    pub extra: BTreeMap<String, Value>,
}

impl fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoToken")
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[REDACTED]"))
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("registration_expires_at", &self.registration_expires_at)
            .field("region", &self.region)
            .field("start_url", &self.start_url)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    access_token: String,
    expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

/// The cache file name for an sso-session name (or a legacy profile's start URL):
/// the SHA-1 hex digest of it, plus `.json`, as botocore computes it.
pub fn cache_file_name(session_name_or_start_url: &str) -> String {
    let digest = Sha1::digest(session_name_or_start_url.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

/// The SSO token cache under the given [`Paths`].
#[derive(Debug, Clone)]
pub struct SsoCache {
    dir: PathBuf,
}

impl SsoCache {
    /// The cache in `paths.sso_cache_dir`.
    pub fn new(paths: &Paths) -> Self {
        Self { dir: paths.sso_cache_dir.clone() }
    }

    /// The file for a session name or start URL.
    pub fn path_for(&self, key: &str) -> PathBuf {
        self.dir.join(cache_file_name(key))
    }

    /// Reads a cached token (`None` when there is no file).
    pub fn load(&self, key: &str) -> Result<Option<SsoToken>> {
        let path = self.path_for(key);
        let Some(text) = fsutil::read_optional(&path)? else { return Ok(None) };
        let bad = |line: usize, message: String| Error::Parse { path: path.clone(), line, message };
        let wire: Wire = serde_json::from_str(&text).map_err(|e| {
            bad(
                e.line(),
                format!("not an SSO token cache file ({:?} error); run `aws sso login` to recreate it", e.classify()),
            )
        })?;
        let time = |field: &str, v: &str| {
            parse_rfc3339(v).ok_or_else(|| bad(0, format!("{field} is not an RFC 3339 timestamp")))
        };
        Ok(Some(SsoToken {
            access_token: SecretString::from(wire.access_token),
            expires_at: time("expiresAt", &wire.expires_at)?,
            refresh_token: wire.refresh_token.map(SecretString::from),
            client_id: wire.client_id,
            client_secret: wire.client_secret.map(SecretString::from),
            registration_expires_at: wire
                .registration_expires_at
                .as_deref()
                .map(|v| time("registrationExpiresAt", v))
                .transpose()?,
            region: wire.region,
            start_url: wire.start_url,
            extra: wire.extra,
        }))
    }

    fn wire_text(token: &SsoToken) -> Result<String> {
        let wire = Wire {
            start_url: token.start_url.clone(),
            region: token.region.clone(),
            access_token: token.access_token.expose_secret().to_owned(),
            expires_at: format_rfc3339(token.expires_at),
            client_id: token.client_id.clone(),
            client_secret: token.client_secret.as_ref().map(|s| s.expose_secret().to_owned()),
            registration_expires_at: token.registration_expires_at.map(format_rfc3339),
            refresh_token: token.refresh_token.as_ref().map(|s| s.expose_secret().to_owned()),
            extra: token.extra.clone(),
        };
        serde_json::to_string_pretty(&wire).map_err(|e| Error::InvalidInput(format!("sso cache: {e}")))
    }

    /// Writes a token to the cache, unless the file already holds a token that expires
    /// later (another process, or `aws sso login`, may have just written a fresher one):
    /// then that one is kept. Returns the token the file holds afterwards.
    pub fn save(&self, key: &str, token: &SsoToken) -> Result<SsoToken> {
        let text = Self::wire_text(token)?;
        let path = self.path_for(key);
        fsutil::update(&path, |current| {
            if current.is_some()
                && let Ok(Some(on_disk)) = self.load(key)
                && on_disk.expires_at > token.expires_at
            {
                tracing::info!(file = %path.display(), "the SSO cache holds a newer token; keeping it");
                return Ok((None, on_disk));
            }
            Ok((Some(text), token.clone()))
        })
    }

    /// Removes the token cached under `key` (a sign-out), under the file's lock. Whether
    /// there was one.
    pub fn remove(&self, key: &str) -> Result<bool> {
        let path = self.path_for(key);
        let _lock = fsutil::lock(&path)?;
        fsutil::remove_optional(&path)
    }

    /// The file whose lock serialises refreshes of the token cached under `key` (apart
    /// from the lock [`SsoCache::save`] takes to write it), so one process on the machine
    /// spends the SSO refresh token and the others read its result.
    pub fn refresh_lock(&self, key: &str) -> PathBuf {
        let mut name = cache_file_name(key);
        name.insert(0, '.');
        name.push_str(".refresh");
        self.dir.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn file_name_is_sha1_of_session_name() {
        // FIPS 180 test vector: sha1("abc")
        assert_eq!(cache_file_name("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d.json");
    }

    #[test]
    fn round_trip_keeps_unknown_keys_and_hides_secrets() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = SsoCache::new(&Paths::under_home(tmp.path()));
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut extra = BTreeMap::new();
        extra.insert("futureField".to_owned(), Value::from(7));
        let token = SsoToken {
            access_token: SecretString::from("ACCESS-SECRET".to_owned()),
            expires_at: t,
            refresh_token: Some(SecretString::from("REFRESH-SECRET".to_owned())),
            client_id: Some("cid".into()),
            client_secret: Some(SecretString::from("CLIENT-SECRET".to_owned())),
            registration_expires_at: Some(t + Duration::from_secs(86400)),
            region: Some("us-east-1".into()),
            start_url: Some("https://example.awsapps.com/start".into()),
            extra,
        };
        cache.save("dev", &token).unwrap();
        let text = std::fs::read_to_string(cache.path_for("dev")).unwrap();
        assert!(text.contains("\"expiresAt\": \"2026-01-01T00:00:00Z\""), "{text}");
        assert!(text.contains("\"futureField\": 7"));
        let back = cache.load("dev").unwrap().unwrap();
        assert_eq!(back.expires_at, t);
        assert_eq!(back.extra["futureField"], Value::from(7));
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "REFRESH-SECRET");
        let shown = format!("{token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(cache.load("missing").unwrap().is_none());
    }

    #[test]
    fn an_older_token_never_replaces_a_newer_one_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = SsoCache::new(&Paths::under_home(tmp.path()));
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let token = |access: &str, expires_at| SsoToken {
            access_token: SecretString::from(access.to_owned()),
            expires_at,
            refresh_token: None,
            client_id: None,
            client_secret: None,
            registration_expires_at: None,
            region: None,
            start_url: None,
            extra: BTreeMap::new(),
        };
        // `aws sso login` (or another process) just wrote a token good for 8 hours
        cache.save("dev", &token("fresh-from-login", t + Duration::from_secs(8 * 3600))).unwrap();
        // a refresh that started earlier finishes with a token good for 1 hour: kept out
        let kept = cache.save("dev", &token("older-refresh", t + Duration::from_secs(3600))).unwrap();
        assert_eq!(kept.access_token.expose_secret(), "fresh-from-login");
        assert_eq!(cache.load("dev").unwrap().unwrap().access_token.expose_secret(), "fresh-from-login");
        // a newer one replaces it
        let kept = cache.save("dev", &token("newest", t + Duration::from_secs(9 * 3600))).unwrap();
        assert_eq!(kept.access_token.expose_secret(), "newest");
        assert_eq!(cache.load("dev").unwrap().unwrap().access_token.expose_secret(), "newest");
    }

    #[test]
    fn malformed_cache_is_a_parse_error() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = SsoCache::new(&Paths::under_home(tmp.path()));
        std::fs::create_dir_all(cache.path_for("x").parent().unwrap()).unwrap();
        std::fs::write(cache.path_for("x"), r#"{"accessToken":"SECRETVALUE","expiresAt":"never"}"#).unwrap();
        let e = cache.load("x").unwrap_err();
        assert!(matches!(e, Error::Parse { .. }));
        assert!(!e.to_string().contains("SECRETVALUE"));
    }
}
