//! What the design documents ask of `ccc sessions`: seed 004's own examples as written, and
//! its access control (`user.role`, `roles.ROLE.allowed_sessions`).

use crate::sessions::sessions_file;
use crate::support::{Home, stderr, stdout};

/// Seed 004's Azure example, as the design document writes it: its managed-identity session
/// (whose endpoint azure_identity reads from the process environment) checked by `ccc`
/// against the managed-identity stub; the rest of the example is checked in-process by
/// `suite seeds`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_design_documents_azure_example_checks_with_ccc() {
    use ccc_tests::azure_stub::ManagedIdentity;
    let example = &ccc_tests::seeds::yaml_examples(ccc_tests::seeds::SEED_004)[1];
    let home = Home::new();
    let mi = ManagedIdentity::start(3600).await;
    let config = home.path().join("azure.yaml");
    std::fs::write(&config, example).unwrap();
    let secret = "seed-004-client-secret-value";
    ccc_tests::leak::secret(secret);
    home.ccc()
        .args(["sessions", "set-secret", "azure_client_secret"])
        .write_stdin(format!("{secret}\n"))
        .assert()
        .success();
    let check = home
        .ccc()
        .env("IDENTITY_ENDPOINT", &mi.endpoint)
        .env("IDENTITY_HEADER", &mi.header)
        .env("AZURE_SUBSCRIPTION_ID", "sub-seed-004")
        .env("AZURE_TENANT_ID", "87654321-4321-4321-4321-210987654321")
        .env("AZURE_CLIENT_ID", "22222222-3333-4444-5555-666666666666")
        .args([
            "sessions",
            "check",
            "-o",
            "json",
            "--config",
            config.to_str().unwrap(),
            "--name",
            "azure_managed_identity",
        ])
        .assert()
        .success();
    let reports: serde_json::Value = serde_json::from_str(&stdout(&check)).unwrap();
    let report = &reports[0];
    assert_eq!(report["name"], "azure_managed_identity", "{reports}");
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["credential"], "managed identity", "{report}");
    assert_eq!(report["account"], "sub-seed-004", "{report}");
    assert_eq!(mi.calls(), 1);
}

/// Access control from settings (the design's `user.role` and `roles.ROLE.allowed_sessions`):
/// the file's `user.role`, or `CCC_ROLE` over it, decides which sessions `ccc sessions` and
/// `ccc creds --session` serve; a denial names the role and the session, before anything is
/// served; `*` is every session; `check` checks only the role's sessions.
#[test]
fn the_users_role_decides_which_sessions_ccc_serves() {
    let home = Home::new();
    let config = sessions_file(
        &home,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAROLEEXAMPLE00001\n    secret_access_key: ENV/CI_SECRET\n  - name: prod\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAROLEEXAMPLE00002\n    secret_access_key: ENV/CI_SECRET\nroles:\n  builder:\n    allowed_sessions: [ci]\n  admin:\n    allowed_sessions: [\"*\"]\nuser:\n  role: builder\n",
    );
    let file = config.to_str().unwrap();
    let ccc = |role: Option<&str>, args: &[&str]| {
        let mut c = home.ccc();
        c.env("CI_SECRET", "role-test-secret-value").args(args);
        if let Some(r) = role {
            c.env("CCC_ROLE", r);
        }
        c.assert()
    };
    ccc_tests::leak::secret("role-test-secret-value");
    // the file's role: its session is served, another is refused by name, nothing printed
    ccc(None, &["sessions", "creds", "--config", file, "--name", "ci"]).success();
    let denied = ccc(None, &["sessions", "creds", "--config", file, "--name", "prod"]).failure();
    let err = stderr(&denied);
    assert!(err.contains("permission denied: role \"builder\" may not use session \"prod\""), "{err}");
    assert!(err.contains("user.role"), "the hint names the setting: {err}");
    assert!(stdout(&denied).is_empty());
    let denied = ccc(None, &["creds", "--session", "prod", "--sessions-config", file]).failure();
    assert!(stderr(&denied).contains("role \"builder\" may not use session \"prod\""), "{}", stderr(&denied));
    // CCC_ROLE over the file: `*` is every session; an unknown role is refused
    ccc(Some("admin"), &["sessions", "creds", "--config", file, "--name", "prod"]).success();
    let unknown = ccc(Some("intern"), &["sessions", "creds", "--config", file, "--name", "ci"]).failure();
    assert!(stderr(&unknown).contains("role \"intern\" may not use session \"ci\""), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("CCC_ROLE"), "{}", stderr(&unknown));
    // check: only the role's sessions (these keys are made up: the judge refuses them, so the
    // check itself fails), and a note for the rest
    let out = home
        .ccc()
        .env("CI_SECRET", "role-test-secret-value")
        .args(["sessions", "check", "-o", "json", "--config", file])
        .output()
        .unwrap();
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = reports.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ci"], "{reports}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 of 2 session(s) are not the role's to use"), "{err}");
}
