//! Support for the end-to-end tests: where the real peers are.
//!
//! `cargo xtask test` starts the peers and passes their addresses in `CCC_TEST_*` variables.
//! A test run by hand after `cargo xtask peers up` finds them in `target/peers/env`. A test
//! that needs a peer and finds none fails with instructions; it never skips silently.

use std::path::PathBuf;

pub mod azure_stub;
pub mod cognito;
pub mod front;
pub mod leak;
pub mod oidc;
pub mod proxy;
pub mod serve;
pub mod sso_stub;

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
