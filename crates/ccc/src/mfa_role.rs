//! A role profile that names `mfa_serial`: `AssumeRole` with the MFA device's serial number
//! and a code only a person can give. aws-config's profile provider ignores `mfa_serial` (the
//! call would be refused by a trust policy that asks for MFA) and botocore asks on stdin, which
//! a credential_process does not have. Here a refresh without a code fails as "needs a
//! person" (`NotAuthorized`): `ccc creds` turns that into one prompt on the terminal for every
//! process asking at once, or one line naming what to run; `ccc login` asks on stdin.

use std::borrow::Cow;
use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use core_types::{AwsCredentials, CredentialSource, ErrorKind, ExposeSecret, SecretString};
use cred_store::Error;

/// How long one AssumeRole attempt may take.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The role and MFA device of a role profile that names `mfa_serial`.
pub fn role_and_device(p: &cred_store::Profile) -> Option<(String, String)> {
    Some((p.role_arn.clone()?, p.other.get("mfa_serial")?.clone()))
}

/// The role, the device, and (once a person gave it) the code.
pub struct MfaRole {
    profile: String,
    role_arn: String,
    serial: String,
    session_name: String,
    external_id: Option<String>,
    duration_seconds: Option<i32>,
    /// The source profile's credentials (aws-config's provider for `source_profile`).
    source: SharedCredentialsProvider,
    /// Region and endpoint for STS.
    sdk: SdkConfig,
    code: Option<SecretString>,
}

impl std::fmt::Debug for MfaRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaRole")
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("serial", &self.serial)
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl MfaRole {
    /// The role of `profile` (whose `mfa_serial` is `serial`), assumed with `source`'s
    /// credentials through STS as `sdk` says, with `code` when a person gave one.
    pub fn new(
        profile: &cred_store::Profile,
        serial: &str,
        source: SharedCredentialsProvider,
        sdk: SdkConfig,
        code: Option<SecretString>,
    ) -> Self {
        let other = |k: &str| profile.other.get(k).cloned();
        Self {
            profile: profile.name.clone(),
            role_arn: profile.role_arn.clone().unwrap_or_default(),
            serial: serial.to_owned(),
            // as the AWS CLI names it when the profile does not
            session_name: other("role_session_name").unwrap_or_else(|| format!("ccc-{}", now_secs())),
            external_id: other("external_id"),
            duration_seconds: profile.duration_seconds.and_then(|d| i32::try_from(d).ok()),
            source,
            sdk,
            code,
        }
    }

    fn failed(&self, kind: ErrorKind, message: String) -> Error {
        Error::Refresh { name: self.name().into_owned(), message, kind }
    }
}

#[allow(clippy::disallowed_methods)] // a session name, not a freshness decision
fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl CredentialSource for MfaRole {
    type Output = AwsCredentials;
    type Error = Error;

    fn name(&self) -> Cow<'_, str> {
        Cow::Owned(format!("profile {}", self.profile))
    }

    async fn fetch(&self) -> Result<AwsCredentials, Error> {
        let Some(code) = &self.code else {
            return Err(self.failed(
                ErrorKind::NotAuthorized,
                format!("role {} needs a code from the MFA device {}", self.role_arn, self.serial),
            ));
        };
        let source = self.source.provide_credentials().await.map_err(|e| {
            let why = core_types::innermost_cause(Some(&e)).unwrap_or_else(|| e.to_string());
            self.failed(
                ErrorKind::NotConfigured,
                format!("its source_profile has no credentials: {}", core_types::one_line(&why)),
            )
        })?;
        // every attempt has a deadline, as for every other AWS client of the toolkit
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(ATTEMPT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.sdk)
                .credentials_provider(SharedCredentialsProvider::new(source))
                .timeout_config(timeouts)
                .build(),
        );
        let out = sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .serial_number(&self.serial)
            .token_code(code.expose_secret())
            .set_external_id(self.external_id.clone())
            .set_duration_seconds(self.duration_seconds)
            .send()
            .await
            .map_err(|e| {
                let f = aws_failure::call_failure("STS", "AssumeRole", &e);
                self.failed(f.kind, f.to_string())
            })?;
        out.credentials()
            .map(cloud_sessions::from_sts)
            .ok_or_else(|| self.failed(ErrorKind::Other, "STS answered AssumeRole without credentials".into()))
    }
}
