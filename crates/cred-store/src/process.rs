//! The `credential_process` protocol: the JSON a process prints for the AWS CLI / SDKs.
//! This is one of the few places a secret is exposed on purpose.

use core_types::{AwsCredentials, ExposeSecret};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::timefmt::{format_rfc3339, parse_rfc3339};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    version: u8,
    access_key_id: String,
    secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

/// Serialises credentials as credential_process output (`Version: 1`).
pub fn to_credential_process_json(creds: &AwsCredentials) -> String {
    let wire = Wire {
        version: 1,
        access_key_id: creds.access_key_id().expose_secret().to_owned(),
        secret_access_key: creds.secret_access_key().expose_secret().to_owned(),
        session_token: creds.session_token().map(|t| t.expose_secret().to_owned()),
        expiration: creds.expiration().map(format_rfc3339),
    };
    // Serialising plain strings cannot fail.
    serde_json::to_string(&wire).unwrap_or_default()
}

/// Parses credential_process output. Errors never quote the input (it holds secrets).
pub fn from_credential_process_json(text: &str) -> Result<AwsCredentials> {
    let invalid = |m: String| Error::InvalidInput(format!("credential_process output: {m}"));
    let wire: Wire = serde_json::from_str(text).map_err(|e| {
        invalid(format!("not the expected JSON (line {}, column {}: {:?})", e.line(), e.column(), e.classify()))
    })?;
    if wire.version != 1 {
        return Err(invalid(format!("Version {} is not supported (expected 1)", wire.version)));
    }
    if wire.access_key_id.is_empty() || wire.secret_access_key.is_empty() {
        return Err(invalid("AccessKeyId and SecretAccessKey must not be empty".into()));
    }
    let expiration = match wire.expiration {
        None => None,
        Some(s) => Some(parse_rfc3339(&s).ok_or_else(|| invalid("Expiration is not an RFC 3339 timestamp".into()))?),
    };
    Ok(AwsCredentials::new(wire.access_key_id, wire.secret_access_key, wire.session_token, expiration))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn round_trip_and_exact_shape() {
        let exp = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let creds = AwsCredentials::new("ASIAX", "sec", Some("tok".into()), Some(exp));
        let json = to_credential_process_json(&creds);
        assert_eq!(
            json,
            r#"{"Version":1,"AccessKeyId":"ASIAX","SecretAccessKey":"sec","SessionToken":"tok","Expiration":"2026-01-01T00:00:00Z"}"#
        );
        assert_eq!(from_credential_process_json(&json).unwrap(), creds);
        let long = AwsCredentials::new("AKIAX", "sec", None, None);
        assert_eq!(to_credential_process_json(&long), r#"{"Version":1,"AccessKeyId":"AKIAX","SecretAccessKey":"sec"}"#);
    }

    #[test]
    fn bad_input_is_typed_and_never_echoed() {
        for bad in [
            "",
            "{",
            r#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"TOPSECRET"}"#,
            r#"{"Version":1,"AccessKeyId":"","SecretAccessKey":"TOPSECRET"}"#,
            r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"TOPSECRET","Expiration":"soon"}"#,
            r#"{"Version":1,"AccessKeyId":"A"}"#,
        ] {
            let e = from_credential_process_json(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidInput(_)), "{bad}");
            assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        }
    }
}
