//! The credential_process warm path: `ccc` alone serves what the refreshing cache would serve
//! without refreshing, and hands everything else to `ccc-full`.

use std::process::Command as StdCommand;

use ccc_tests::cognito::pool;
use ccc_tests::peer;

use crate::support::{Home, expire_cognito_sign_in, stdout};

/// After `ccc creds` served a profile, `ccc` copied somewhere alone — no `ccc-full` beside it —
/// serves it again, to us and to boto3 through a credential_process profile; a value the cache
/// would refresh and any other command need `ccc-full`, and say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_credential_process_call_needs_only_ccc() {
    let pool = pool().await;
    pool.user("wendy", true).await;
    let home = Home::new();
    home.configure(&pool);
    home.login("wendy").success();
    let alone = home.path().join("bin/ccc");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    std::fs::copy(assert_cmd::cargo::cargo_bin("ccc"), &alone).unwrap();
    // boto3's profile runs the lone `ccc` (written before the note: a changed config file
    // sends the call to ccc-full)
    let config = home.path().join(".aws/config");
    let before = std::fs::read_to_string(&config).unwrap_or_default();
    std::fs::write(
        &config,
        format!("{before}\n[profile warm]\ncredential_process = {} creds --profile e2e\n", alone.display()),
    )
    .unwrap();
    let served = home.ccc().args(["creds", "--profile", "e2e"]).assert().success();
    let served: serde_json::Value = serde_json::from_str(&stdout(&served)).unwrap();
    let key = served["AccessKeyId"].as_str().unwrap().to_owned();

    let run = |args: &[&str]| {
        StdCommand::new(&alone)
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
            .output()
            .unwrap()
    };
    let warm = run(&["creds", "--profile", "e2e"]);
    assert!(warm.status.success(), "{}", String::from_utf8_lossy(&warm.stderr));
    let warm: serde_json::Value = serde_json::from_slice(&warm.stdout).unwrap();
    assert_eq!(warm, served, "what the full program served");
    let (method, boto_key) = ccc_tests::boto3_profile_credentials(home.path(), &peer("CCC_TEST_AWS_ENDPOINT"), "warm");
    assert_eq!((method.as_str(), boto_key.as_str()), ("custom-process", key.as_str()));

    // anything else is ccc-full's
    let other = run(&["whoami"]);
    assert_eq!(other.status.code(), Some(1));
    let said = String::from_utf8_lossy(&other.stderr);
    assert_eq!(said.trim_end().lines().count(), 1, "one line: {said}");
    assert!(said.contains("ccc-full") && said.contains("cargo install --locked ccc-cli"), "{said}");
    // its version needs nobody
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(String::from_utf8_lossy(&version.stdout), format!("ccc {}\n", env!("CARGO_PKG_VERSION")));
    // with ccc-full on PATH (not beside it), everything else is handed to it
    let full_dir = assert_cmd::cargo::cargo_bin("ccc-full").parent().unwrap().to_owned();
    let handed = StdCommand::new(&alone)
        .args(["config", "get", "region"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", format!("{}:/usr/bin:/bin", full_dir.display()))
        .output()
        .unwrap();
    assert!(handed.status.success(), "{}", String::from_utf8_lossy(&handed.stderr));
    assert_eq!(String::from_utf8_lossy(&handed.stdout).trim(), "us-east-1");
    // a value the cache would refresh is never served by the warm path
    expire_cognito_sign_in(&home, "e2e");
    let due = run(&["creds", "--profile", "e2e"]);
    assert_eq!(due.status.code(), Some(1), "handed to ccc-full");
    assert!(due.stdout.is_empty());
}
