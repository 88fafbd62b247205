//! The IAM Identity Center protocol stub as a process, for `cargo xtask demo`: prints its URL
//! on the first line of stdout, approves a device sign-in after one pending poll, and serves
//! until stdin closes.
#![allow(clippy::print_stdout)] // the URL is the output

use std::io::BufRead;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    #[allow(clippy::disallowed_methods)] // the demo's clock is the real one
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let stub = ccc_tests::sso_stub::SsoStub::start(now_ms, 3_600_000).await;
    stub.device_approval(1, false, false);
    println!("{}", stub.url);
    // serve until the demo closes our stdin (or goes away)
    let _ = tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {}).await;
}
