//! How a refreshing cache's value is kept on disk: the entry file's `value` for AWS
//! credentials and token sets.

use core_types::{AwsCredentials, ExposeSecret, SecretString, TokenSet};
use serde_json::{Value, json};

use crate::timefmt::{from_unix_seconds, unix_seconds};

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

impl CacheCodec for AwsCredentials {
    fn encode(&self) -> Value {
        json!({
            "access_key_id": self.access_key_id().expose_secret(),
            "secret_access_key": self.secret_access_key().expose_secret(),
            "session_token": self.session_token().map(|t| t.expose_secret().to_owned()),
            "expiration": self.expiration().map(unix_seconds),
            "account_id": self.account_id(),
        })
    }

    fn decode(v: &Value) -> Option<Self> {
        let creds = AwsCredentials::new(
            s(v, "access_key_id")?,
            s(v, "secret_access_key")?,
            s(v, "session_token"),
            v.get("expiration").and_then(Value::as_i64).map(from_unix_seconds),
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
            expires_at: v.get("expires_at").and_then(Value::as_i64).map(from_unix_seconds),
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
}
