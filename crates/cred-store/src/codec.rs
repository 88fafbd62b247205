//! How a refreshing cache's value is kept on disk: the entry file's `value` for AWS
//! credentials and token sets.

use core_types::{AwsCredentials, ExposeSecret, SecretString, TokenSet};
use serde_json::{Value, json};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(test)]
use crate::timefmt::from_unix_seconds;
use crate::timefmt::{checked_unix_seconds, unix_seconds};

/// How a cached value is written to its entry file (0600). This is one of the places a
/// secret is written on purpose: the cache must survive the process.
pub trait CacheCodec: Sized {
    /// The persisted form.
    fn encode(&self) -> Value;
    /// Back from the persisted form; `None` if it is not a valid entry.
    fn decode(v: &Value) -> Option<Self>;
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// An instant: whole seconds under `<key>` (what entries written before kept, and what a
/// person or a script edits), refined by the milliseconds under `<key>_ms` when both name the
/// same second. What the refresher serves is what it stores, so the precision kept is the
/// precision every process sees (two renewals in one second stay apart).
/// `Err` when the key is there but names no instant a credential can expire at (out of
/// 1970..9999, not a number): the entry is damaged and is not served.
fn instant(v: &Value, key: &str) -> Result<Option<SystemTime>, ()> {
    let secs = match v.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(x) => x.as_i64().ok_or(())?,
    };
    let at = checked_unix_seconds(secs).ok_or(())?;
    match v.get(format!("{key}_ms")).and_then(Value::as_i64) {
        Some(ms) if ms >= 0 && ms.div_euclid(1000) == secs => {
            Ok(Some(UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())))
        }
        _ => Ok(Some(at)),
    }
}

fn millis(t: SystemTime) -> Option<i64> {
    t.duration_since(UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_millis()).ok())
}

impl CacheCodec for AwsCredentials {
    fn encode(&self) -> Value {
        json!({
            "access_key_id": self.access_key_id().expose_secret(),
            "secret_access_key": self.secret_access_key().expose_secret(),
            "session_token": self.session_token().map(|t| t.expose_secret().to_owned()),
            "expiration": self.expiration().map(unix_seconds),
            "expiration_ms": self.expiration().and_then(millis),
            "account_id": self.account_id(),
        })
    }

    fn decode(v: &Value) -> Option<Self> {
        let creds = AwsCredentials::new(
            s(v, "access_key_id")?,
            s(v, "secret_access_key")?,
            s(v, "session_token"),
            instant(v, "expiration").ok()?,
        );
        Some(match s(v, "account_id") {
            Some(a) => creds.with_account_id(a),
            None => creds,
        })
    }
}

impl CacheCodec for TokenSet {
    fn encode(&self) -> Value {
        let e = |t: &Option<SecretString>| t.as_ref().map(|v| v.expose_secret().to_owned());
        json!({
            "access_token": e(&self.access_token),
            "id_token": e(&self.id_token),
            "refresh_token": e(&self.refresh_token),
            "token_type": self.token_type,
            "scopes": self.scopes,
            "expires_at": self.expires_at.map(unix_seconds),
            "expires_at_ms": self.expires_at.and_then(millis),
        })
    }

    fn decode(v: &Value) -> Option<Self> {
        let secret = |k: &str| s(v, k).map(SecretString::from);
        Some(TokenSet {
            access_token: secret("access_token"),
            id_token: secret("id_token"),
            refresh_token: secret("refresh_token"),
            token_type: s(v, "token_type"),
            scopes: v
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            expires_at: instant(v, "expires_at").ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_round_trip() {
        let c =
            AwsCredentials::new("A", "B", Some("C".into()), Some(from_unix_seconds(5))).with_account_id("123456789012");
        assert_eq!(AwsCredentials::decode(&c.encode()), Some(c));
        let t = TokenSet {
            access_token: Some(SecretString::from("x".to_owned())),
            scopes: vec!["a".into()],
            expires_at: Some(from_unix_seconds(9)),
            ..TokenSet::default()
        };
        let back = TokenSet::decode(&t.encode()).unwrap();
        assert_eq!(back.scopes, t.scopes);
        assert_eq!(back.expires_at, t.expires_at);
        assert!(AwsCredentials::decode(&json!({"access_key_id": "A"})).is_none());
    }

    /// Expiry is kept to the millisecond, and an entry written with whole seconds still reads.
    #[test]
    fn expiry_keeps_milliseconds_and_reads_older_entries() {
        let at = from_unix_seconds(1_800_000_000) + Duration::from_millis(224);
        let c = AwsCredentials::new("A", "B", None, Some(at));
        assert_eq!(AwsCredentials::decode(&c.encode()).unwrap().expiration(), Some(at));
        let old = json!({"access_key_id": "A", "secret_access_key": "B", "expiration": 1_800_000_000});
        assert_eq!(AwsCredentials::decode(&old).unwrap().expiration(), Some(from_unix_seconds(1_800_000_000)));
        // the seconds were edited (an entry expired by hand): they win over stale milliseconds
        let mut edited = c.encode();
        edited["expiration"] = json!(1_000_000_000);
        assert_eq!(AwsCredentials::decode(&edited).unwrap().expiration(), Some(from_unix_seconds(1_000_000_000)));
        let t = TokenSet { expires_at: Some(at), ..TokenSet::default() };
        assert_eq!(TokenSet::decode(&t.encode()).unwrap().expires_at, Some(at));
    }

    /// An expiry no credential can have (i64::MIN, before 1970, after 9999, not a number) is
    /// a damaged entry: not served, never a panic, never read as 1970.
    #[test]
    fn an_out_of_range_expiry_is_a_damaged_entry() {
        for bad in [json!(i64::MIN), json!(-1), json!(i64::MAX), json!(253_402_300_800i64), json!("soon")] {
            let entry = json!({"access_key_id": "A", "secret_access_key": "B", "expiration": bad});
            assert!(AwsCredentials::decode(&entry).is_none(), "{bad}");
            assert!(TokenSet::decode(&json!({"expires_at": bad})).is_none(), "{bad}");
        }
        let no_expiry = json!({"access_key_id": "A", "secret_access_key": "B", "expiration": null});
        assert_eq!(AwsCredentials::decode(&no_expiry).unwrap().expiration(), None);
    }
}
