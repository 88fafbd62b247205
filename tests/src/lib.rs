//! Support for the end-to-end tests: where the real peers are.
//!
//! `cargo xtask test` starts the peers and passes their addresses in `CCC_TEST_*` variables.
//! A test run by hand after `cargo xtask peers up` finds them in `target/peers/env`. A test
//! that needs a peer and finds none fails with instructions; it never skips silently.

use std::path::PathBuf;

pub mod azure_stub;
pub mod challenge_front;
pub mod cognito;
pub mod federation_stub;
pub mod front;
pub mod judge;
pub mod leak;
pub mod oidc;
pub mod pipe;
pub mod proxy;
pub mod seeds;
pub mod serve;
pub mod sso_stub;
pub mod strict;
pub mod team;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// The value of a peer variable (`CCC_TEST_AWS_ENDPOINT`, ...).
///
/// # Panics
/// When the peers are not running: that is a broken test setup, reported with what to run.
#[allow(clippy::disallowed_methods)] // test configuration is read from the environment here
pub fn peer(name: &str) -> String {
    leak::init();
    if let Ok(v) = std::env::var(name) {
        return v;
    }
    let file = workspace_root().join("target/peers/env");
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| {
            text.lines().filter_map(|l| l.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
        })
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set and {} has no such entry: run `cargo xtask peers up` (or `cargo xtask test`)",
                file.display()
            )
        })
}

/// An `SdkConfig` pointing every AWS client at moto, with dummy keys.
pub async fn moto_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(peer("CCC_TEST_AWS_ENDPOINT"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "ccc-tests",
        ))
        .load()
        .await
}

/// What boto3 alone makes of `profile` in `home` with every AWS call sent to `endpoint`:
/// its credentials' `method` (`sso`, `custom-process`, ...) and access key id.
pub fn boto3_profile_credentials(home: &std::path::Path, endpoint: &str, profile: &str) -> (String, String) {
    let probe = format!(
        "import boto3, json; c = boto3.Session(profile_name='{profile}').get_credentials(); print(json.dumps([c.method, c.access_key]))"
    );
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", &probe])
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = serde_json::from_slice(&out.stdout).expect("boto3 printed JSON");
    (got[0].clone(), got[1].clone())
}
