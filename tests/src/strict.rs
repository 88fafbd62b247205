//! The strict AWS judge: moto with authentication on (`CCC_TEST_STRICT_AWS_ENDPOINT`, started
//! by `cargo xtask peers up`). It refuses a key it never issued (InvalidClientTokenId), a wrong
//! secret (SignatureDoesNotMatch) and a session token that is not the key's, as AWS does, and
//! GetCallerIdentity answers with the credential's true ARN. Every set-up call here is signed
//! with the administrator's key the bootstrap made; nothing resets this moto, so every name is
//! unique.

use std::process::Command;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::peer;

/// An IAM user's long-term key on the strict moto.
#[derive(Debug, Clone)]
pub struct UserKey {
    /// The user's name.
    pub user: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
}

impl UserKey {
    /// The ARN GetCallerIdentity answers for this key.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::123456789012:user/{}", self.user)
    }
}

/// The strict endpoint's URL.
pub fn endpoint() -> String {
    peer("CCC_TEST_STRICT_AWS_ENDPOINT")
}

/// The strict endpoint's administrator (who sets up users, roles and log groups).
pub fn admin_config() -> SdkConfig {
    let creds = aws_credential_types::Credentials::new(
        peer("CCC_TEST_STRICT_ADMIN_KEY_ID"),
        peer("CCC_TEST_STRICT_ADMIN_SECRET"),
        None,
        None,
        "strict-admin",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// A name no other test (or earlier run against the same server) has used.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

const EVERYTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const ANYONE_MAY_ASSUME: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// A new IAM user allowed everything, and a key of it.
pub async fn user(prefix: &str) -> UserKey {
    user_allowed(prefix, true).await
}

/// [`user`] from a synchronous test (on a runtime of its own).
pub fn user_blocking(prefix: &str) -> UserKey {
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(user(&prefix))
    })
    .join()
    .expect("the strict user was made")
}

/// A new IAM user allowed everything (`allowed`) or nothing, and a key of it.
pub async fn user_allowed(prefix: &str, allowed: bool) -> UserKey {
    let iam = aws_sdk_iam::Client::new(&admin_config());
    let name = unique(prefix);
    iam.create_user().user_name(&name).send().await.unwrap();
    if allowed {
        iam.put_user_policy().user_name(&name).policy_name("all").policy_document(EVERYTHING).send().await.unwrap();
    }
    let key = iam.create_access_key().user_name(&name).send().await.unwrap();
    let key = key.access_key().unwrap();
    UserKey {
        user: name,
        access_key_id: key.access_key_id().to_owned(),
        secret_access_key: key.secret_access_key().to_owned(),
    }
}

/// The access keys IAM holds for `user` (ids).
pub async fn access_keys(user: &str) -> Vec<String> {
    let iam = aws_sdk_iam::Client::new(&admin_config());
    let listed = iam.list_access_keys().user_name(user).send().await.unwrap();
    listed.access_key_metadata().iter().filter_map(|m| m.access_key_id().map(str::to_owned)).collect()
}

/// A new CloudWatch Logs group (as a trail's would be): its name.
pub async fn log_group(prefix: &str) -> String {
    let name = unique(prefix);
    aws_sdk_cloudwatchlogs::Client::new(&admin_config()).create_log_group().log_group_name(&name).send().await.unwrap();
    name
}

/// A new role anyone may assume, itself allowed everything (so a chain may go on from it):
/// its ARN.
pub async fn role(prefix: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&admin_config());
    let name = unique(prefix);
    let role = iam.create_role().role_name(&name).assume_role_policy_document(ANYONE_MAY_ASSUME).send().await.unwrap();
    iam.put_role_policy().role_name(&name).policy_name("all").policy_document(EVERYTHING).send().await.unwrap();
    role.role().unwrap().arn().to_owned()
}

/// boto3's verdict on credentials in its environment (`envs`, on top of a clean one with
/// `HOME` and the strict endpoint): the caller's ARN, or the error code STS answered.
pub fn boto3_caller(home: &std::path::Path, envs: &[(&str, &str)], profile: Option<&str>) -> Result<String, String> {
    boto3_caller_at(&endpoint(), home, envs, profile)
}

/// [`boto3_caller`] through `at` (the verifying front, [`crate::judge::Judge`]).
pub fn boto3_caller_at(
    at: &str,
    home: &std::path::Path,
    envs: &[(&str, &str)],
    profile: Option<&str>,
) -> Result<String, String> {
    let script = r#"
import boto3, sys
from botocore.exceptions import ClientError
profile = sys.argv[1] or None
try:
    print(boto3.Session(profile_name=profile).client("sts").get_caller_identity()["Arn"])
except ClientError as e:
    print("refused: " + e.response["Error"]["Code"])
"#;
    let out = Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", script, profile.unwrap_or("")])
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ENDPOINT_URL", at)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "boto3 failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match text.strip_prefix("refused: ") {
        Some(code) => Err(code.to_owned()),
        None => Ok(text),
    }
}

/// boto3's verdict on exactly these credentials (as `ccc creds` printed them, or `ccc env`
/// exported them).
pub fn boto3_with_keys(id: &str, secret: &str, token: Option<&str>) -> Result<String, String> {
    boto3_with_keys_at(&endpoint(), id, secret, token)
}

/// [`boto3_with_keys`] through `at` (the verifying front, [`crate::judge::Judge`]).
pub fn boto3_with_keys_at(at: &str, id: &str, secret: &str, token: Option<&str>) -> Result<String, String> {
    let home = tempfile::tempdir().unwrap();
    let mut envs = vec![("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)];
    if let Some(t) = token {
        envs.push(("AWS_SESSION_TOKEN", t));
    }
    boto3_caller_at(at, home.path(), &envs, None)
}
