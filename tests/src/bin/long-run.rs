//! A long run on a fast clock, for `cargo xtask demo`: an extended session (GetSessionToken,
//! 15-minute credentials, of the IAM user whose key is in DEMO_KEY_ID / DEMO_SECRET) serves an
//! STS client across three credential lifetimes while a manual clock jumps ahead, and the
//! moto front moves STS's expirations with it (the front forwards to CCC_TEST_AWS_ENDPOINT:
//! the demo's verifying front, which judges every call in real time). Prints one
//! line per call: the clock, the credentials' expiry, and STS calls so far.
#![allow(clippy::print_stdout)] // the run is the output

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cloud_sessions::{CloudSessionManager, ManagerOptions};
use core_types::{Clock, ManualClock};

const YAML: &str = "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/DEMO_KEY_ID\n    secret_access_key: ENV/DEMO_SECRET\n";

/// The IAM user's key the demo hands over.
#[allow(clippy::disallowed_methods)] // the demo passes it in the environment
fn demo_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    // before the demo's verifying front (CCC_TEST_AWS_ENDPOINT), which judges each call
    let front = ccc_tests::front::Front::start_at(&ccc_tests::peer("CCC_TEST_AWS_ENDPOINT")).await;
    #[allow(clippy::disallowed_methods)] // the run starts now
    let start = SystemTime::now();
    let clock = ManualClock::new(start);
    let options = ManagerOptions::default()
        .endpoint_url(front.url.clone())
        .env(|k| matches!(k, "DEMO_KEY_ID" | "DEMO_SECRET").then(|| demo_env(k)).flatten())
        .clock(Arc::new(clock.clone()));
    let manager = CloudSessionManager::from_yaml(YAML, options).await.map_err(|e| e.to_string())?;
    let life = Duration::from_secs(900);
    let session = manager.extended_session("ci", life).await.map_err(|e| e.to_string())?;
    let sts = aws_sdk_sts::Client::new(session.sdk_config());
    let mins = |t: SystemTime| t.duration_since(start).unwrap_or_default().as_secs() / 60;
    for lifetime in 0..3u32 {
        front.set_sts_clock_offset(life * lifetime);
        clock.set(start + life * lifetime);
        for _ in 0..3 {
            let who = sts.get_caller_identity().send().await.map_err(|e| format!("{e:?}"))?;
            let creds = session.credentials().await.map_err(|e| e.to_string())?;
            let until = creds.expiration().unwrap_or(start);
            println!(
                "   t+{:>2} min  GetCallerIdentity as {}  (credentials valid until t+{} min; GetSessionToken calls: {})",
                mins(clock.now()),
                who.arn().unwrap_or("-"),
                mins(until),
                front.calls("sts:GetSessionToken")
            );
            clock.advance(Duration::from_secs(270));
        }
    }
    println!("   45 minutes, three 15-minute credentials, one GetSessionToken each, no ExpiredToken.");
    Ok(())
}
