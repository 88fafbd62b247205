//! The built `ccc` binary against the peers (moto for Cognito, boto3 from the peers venv).

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use ccc_tests::cognito::{PASSWORD, Pool, pool};
use ccc_tests::peer;
use cognito_auth::AuthFlow;
use core_types::SecretString;

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ccc(&self) -> Command {
        let mut c = Command::cargo_bin("ccc").unwrap();
        c.env_clear()
            .env("HOME", self.path())
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
            .env("RUST_LOG", "trace");
        c
    }

    fn configure(&self, pool: &Pool) {
        self.ccc()
            .args(["configure", "--non-interactive", "--region", "us-east-1", "--profile", "e2e"])
            .args(["--user-pool-id", &pool.pool_id, "--app-client-id", &pool.client_id])
            .args(["--identity-pool-id", &pool.identity_pool_id])
            .assert()
            .success();
    }

    fn login(&self, user: &str) -> assert_cmd::assert::Assert {
        self.ccc().args(["login", "--username", user, "--password-stdin"]).write_stdin(format!("{PASSWORD}\n")).assert()
    }
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// A run's stderr (its `RUST_LOG=trace` log), also handed to the secret-leak scan.
fn stderr(a: &assert_cmd::assert::Assert) -> String {
    let text = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    ccc_tests::leak::child_log(&text);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_login_creds_whoami_boto3_logout() {
    let pool = pool().await;
    pool.user("alice", true).await;
    let home = Home::new();
    home.configure(&pool);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".ccc/config.json")).unwrap()).unwrap();
    assert_eq!(config["user_pool_id"], pool.pool_id.as_str());

    let login = home.login("alice").success();
    let out = stdout(&login);
    assert!(out.contains("Signed in as alice.") && out.contains("valid until"), "{out}");
    assert!(!stderr(&login).contains(PASSWORD), "password leaked into logs");
    let creds_file = std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap();
    assert!(creds_file.contains("[e2e]"), "{creds_file}");

    // credential_process output, from the cache (no sign-in needed)
    let creds = home.ccc().arg("creds").assert().success();
    let json: serde_json::Value = serde_json::from_str(&stdout(&creds)).unwrap();
    assert_eq!(json["Version"], 1);
    assert!(json["SessionToken"].is_string() && json["Expiration"].is_string());
    let secret = json["SecretAccessKey"].as_str().unwrap().to_owned();
    assert!(!stderr(&creds).contains(&secret), "secret leaked into the trace log");

    // whoami calls STS with those credentials
    let who = home.ccc().args(["whoami", "-o", "json"]).assert().success();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
    assert_eq!(who["user"], "alice");
    assert_eq!(who["account"].as_str().unwrap().len(), 12);

    // logging: quiet by default (stderr is the user's, and credential_process shares it);
    // RUST_LOG=info does not bring the SDK's debug lines; at trace the secret-bearing
    // targets stay capped
    let quiet = home.ccc().env_remove("RUST_LOG").arg("whoami").assert().success();
    assert_eq!(stderr(&quiet), "", "nothing on stderr by default");
    let info = home.ccc().env("RUST_LOG", "info").arg("whoami").assert().success();
    let info = stderr(&info);
    assert!(!info.contains("DEBUG") && !info.contains("TRACE"), "{info}");
    let trace = home.ccc().arg("whoami").assert().success();
    let trace = stderr(&trace);
    assert!(trace.contains(" DEBUG "), "RUST_LOG=trace is honoured: {trace}");
    for target in ["aws_smithy_runtime", "aws_sigv4", "hyper"] {
        assert!(
            !trace.lines().any(|l| l.contains(" TRACE ") && l.contains(&format!(" {target}"))),
            "{target} is capped below trace"
        );
    }

    // boto3 through a credential_process profile that runs this ccc
    home.ccc().args(["setup-profile", "--profile", "e2e"]).assert().success();
    let py = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", "import boto3, json; c = boto3.Session(profile_name='e2e').get_credentials().get_frozen_credentials(); print(json.dumps([c.access_key, c.secret_key]))"])
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let keys: Vec<String> = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(keys, [json["AccessKeyId"].as_str().unwrap().to_owned(), secret]);

    // logout removes the profile and tokens; creds then says to log in
    let logout = home.ccc().arg("logout").assert().success();
    assert!(stdout(&logout).contains("profile e2e removed"), "{}", stdout(&logout));
    assert!(!std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap().contains("[e2e]"));
    let after = home.ccc().arg("creds").assert().code(3); // exit 3: a person must sign in first
    assert!(stderr(&after).contains("ccc login"), "{}", stderr(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_not_configured_and_malformed_config_fail_clearly() {
    let pool = pool().await;
    pool.user("bob", true).await;
    // not configured: exit 3, a person must act first
    let home = Home::new();
    let a = home.login("bob").code(3);
    assert!(stderr(&a).contains("ccc configure"), "{}", stderr(&a));
    // wrong password (moto does not check SRP proofs, so this uses USER_PASSWORD_AUTH)
    home.configure(&pool);
    home.ccc().args(["configure", "--non-interactive", "--password-auth"]).assert().success();
    let a = home
        .ccc()
        .args(["login", "--username", "bob", "--password-stdin"])
        .write_stdin("Wrong-Passw0rd!\n")
        .assert()
        .code(3);
    let err = stderr(&a);
    assert!(err.contains("NotAuthorizedException: Incorrect username or password"), "{err}");
    assert!(!err.contains("Wrong-Passw0rd"), "{err}");
    // malformed config: clear error, file untouched
    let config = home.path().join(".ccc/config.json");
    std::fs::write(&config, "{\"user_pool_id\": ").unwrap();
    let a = home.login("bob").code(1);
    assert!(stderr(&a).contains("config.json"), "{}", stderr(&a));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "{\"user_pool_id\": ");
    // invalid values are refused before anything is written
    let a = home.ccc().args(["config", "set", "region", "Mars"]).assert().code(1);
    assert!(stderr(&a).contains("us-east-1"), "{}", stderr(&a));
}

#[test]
fn usage_errors_exit_2_and_config_get_set_work() {
    let home = Home::new();
    home.ccc().arg("no-such-command").assert().code(2);
    home.ccc().args(["login", "--bogus"]).assert().code(2);
    home.ccc().args(["config", "set", "profile", "work"]).assert().success();
    let got = home.ccc().args(["config", "get", "profile"]).assert().success();
    assert_eq!(stdout(&got), "work\n");
    home.ccc().args(["config", "get", "region"]).assert().code(1);
    // a secret never comes from argv (shell history, `ps`): refused, and nothing is written
    let refused = home.ccc().args(["config", "set", "app_client_secret", "argv-secret"]).assert().code(1);
    assert!(stderr(&refused).contains("--value-stdin"));
    let config = home.path().join(".ccc/config.json");
    assert!(!std::fs::read_to_string(&config).unwrap().contains("argv-secret"));
    home.ccc()
        .args(["config", "set", "app_client_secret", "--value-stdin"])
        .write_stdin("stdin-secret\n")
        .assert()
        .success();
    assert!(std::fs::read_to_string(&config).unwrap().contains("\"app_client_secret\": \"stdin-secret\""));
    let completions = home.ccc().args(["completions", "bash"]).assert().success();
    assert!(stdout(&completions).contains("_ccc()"));
}

#[test]
fn help_snapshot() {
    let home = Home::new();
    let help = home.ccc().arg("--help").env("COLUMNS", "100").assert().success();
    insta::assert_snapshot!("ccc_help", stdout(&help));
    let login_help = home.ccc().args(["login", "--help"]).assert().success();
    insta::assert_snapshot!("ccc_login_help", stdout(&login_help));
}

const PTY_DRIVER: &str = r#"
import os, pty, sys, select, time
ccc, user, old, new = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(ccc, [ccc, "login", "--username", user])
buf = b""
def expect(text, timeout=30):
    global buf
    end = time.time() + timeout
    while text.encode() not in buf:
        if time.time() > end:
            sys.exit("timed out waiting for %r; screen so far: %r" % (text, buf))
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    if text.encode() not in buf:
        sys.exit("never saw %r; screen: %r" % (text, buf))
expect("Password:"); os.write(fd, (old + "\n").encode())
expect("New password:"); os.write(fd, (new + "\n").encode())
expect("Repeat new password:"); os.write(fd, (new + "\n").encode())
expect("Signed in as " + user)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_login_answers_new_password_required_on_a_terminal() {
    let pool = pool().await;
    pool.user("newbie", false).await;
    let home = Home::new();
    home.configure(&pool);
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let out = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", PTY_DRIVER, ccc.to_str().unwrap(), "newbie", "Temp-Passw0rd!", PASSWORD])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // the new password is now the password
    home.login("newbie").success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_resources_and_permissions_of_the_signed_in_user() {
    use ccc_tests::front::Front;
    let pool = pool().await;
    let user = ccc_tests::cognito::unique("inspector");
    pool.user(&user, true).await;
    let front = Front::start().await;
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    let when = time::OffsetDateTime::from(now - std::time::Duration::from_secs(3600))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    front.set_cloudtrail_events(vec![serde_json::json!({
        "eventID": "e1", "eventTime": when, "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.4", "userIdentity": {"userName": user},
    })]);
    front.set_decision("s3:ListAllMyBuckets", "allowed");
    let home = Home::new();
    let ccc = |home: &Home| {
        let mut c = home.ccc();
        c.env("AWS_ENDPOINT_URL", &front.url);
        c
    };
    ccc(&home)
        .args(["configure", "--non-interactive", "--region", "us-east-1", "--profile", "inspect"])
        .args([
            "--user-pool-id",
            &pool.pool_id,
            "--app-client-id",
            &pool.client_id,
            "--identity-pool-id",
            &pool.identity_pool_id,
        ])
        .assert()
        .success();
    ccc(&home)
        .args(["login", "--username", &user, "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .assert()
        .success();

    let h = ccc(&home).args(["history", "--days", "1", "-o", "json"]).assert().success();
    let h: serde_json::Value = serde_json::from_str(&stdout(&h)).unwrap();
    assert_eq!(h["source"], "CloudTrail");
    assert_eq!(h["events"][0]["event_name"], "ListBuckets");
    let table = ccc(&home).args(["history", "--days", "1"]).assert().success();
    assert!(stdout(&table).contains("1 event(s) from CloudTrail"), "{}", stdout(&table));

    let r = ccc(&home).args(["resources", "--regions", "us-east-1,eu-west-1", "-o", "json"]).assert().success();
    let r: serde_json::Value = serde_json::from_str(&stdout(&r)).unwrap();
    assert_eq!(r["owner"], user.as_str());
    assert_eq!(r["regions_scanned"].as_array().unwrap().len(), 2);
    assert!(front.calls("tagging:GetResources") >= 2);

    let p = ccc(&home).args(["permissions", "--test", "s3:ListAllMyBuckets", "iam:CreateUser"]).assert().success();
    let out = stdout(&p);
    assert!(out.contains("s3:ListAllMyBuckets  allowed") && out.contains("iam:CreateUser       denied"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_status_refresh_and_ensure() {
    use ccc_tests::sso_stub::{SsoStub, seed_home};
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    let ms = now.duration_since(std::time::SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64;
    let stub = SsoStub::start(ms, 3_600_000).await;
    let home = Home::new();
    let paths = cred_store::Paths::under_home(home.path());
    seed_home(&paths, "corp-dev", &stub, now + std::time::Duration::from_secs(120));
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.env("AWS_ENDPOINT_URL", &stub.url).args(args);
        c
    };
    let status = ccc(&["sso", "status", "--profile", "corp-dev", "-o", "json"]).assert().success();
    let status: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["refresh_due"], "yes");
    let refreshed = ccc(&["sso", "refresh", "--profile", "corp-dev"]).assert().success();
    assert!(stdout(&refreshed).contains("SSO credentials for corp-dev valid until"), "{}", stdout(&refreshed));
    let leaked: Vec<String> = stderr(&refreshed)
        .lines()
        .filter(|l| {
            ["initial-refresh", "initial-access", "stub-access", "stub-refresh", "client-secret", "stub-secret"]
                .iter()
                .any(|t| l.contains(t))
        })
        .map(|l| l.chars().take(400).collect())
        .collect();
    assert!(leaked.is_empty(), "secrets in the trace log:\n{}", leaked.join("\n"));
    assert_eq!((stub.calls("CreateToken"), stub.calls("GetRoleCredentials")), (1, 1));
    ccc(&["sso", "ensure", "--profile", "corp-dev"]).assert().success();
    assert_eq!((stub.calls("CreateToken"), stub.calls("GetRoleCredentials")), (1, 1), "ensure found them fresh");
    let status = ccc(&["sso", "status", "--profile", "corp-dev"]).assert().success();
    assert!(stdout(&status).lines().any(|l| l.starts_with("refresh due") && l.ends_with(" no")), "{}", stdout(&status));
    let e = ccc(&["sso", "status", "--profile", "nope"]).assert().code(3);
    assert!(stderr(&e).contains("aws configure sso --profile nope"), "{}", stderr(&e));
}

#[test]
fn sessions_list_and_check() {
    let home = Home::new();
    let config = home.path().join("sessions.yaml");
    std::fs::write(
        &config,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/CI_KEY\n    secret_access_key: ENV/CI_SECRET\n  - name: deploy\n    session_type: aws\n    region: eu-west-1\n    role_arn: arn:aws:iam::123456789012:role/Deploy\n    session_name: ccc\n    source: ci\n  - name: local\n    session_type: aws\n    region: us-east-1\n    profile: from-file\n",
    )
    .unwrap();
    // the profile session reads ~/.aws/credentials like every AWS tool
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[from-file]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = profile-secret-value\n",
    )
    .unwrap();
    ccc_tests::leak::secret("ci-secret-value");
    ccc_tests::leak::secret("profile-secret-value");
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.env("CI_KEY", "AKIAIOSFODNN7EXAMPLE").env("CI_SECRET", "ci-secret-value").args(args);
        c
    };
    let list = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().success();
    assert_eq!(stdout(&list), "ci\ndeploy\nlocal\n");
    let check = ccc(&["sessions", "check", "--config", config.to_str().unwrap()]).assert().success();
    let out = stdout(&check);
    assert!(out.contains("ci ") && out.contains("deploy") && out.contains("assumed-role/Deploy/ccc"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("local") && l.contains(" ok ")), "{out}");
    assert!(!stderr(&check).contains("ci-secret-value") && !stderr(&check).contains("profile-secret-value"));
    std::fs::write(&config, "cloud_sessions:\n  - name: x\n    session_type: aws\n    regon: typo\n").unwrap();
    let bad = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().code(1);
    assert!(stderr(&bad).contains("cloud_sessions[0]") && stderr(&bad).contains("regon"), "{}", stderr(&bad));
}

/// Runs `ccc ARGS` in `n` processes at once; returns each one's exit code, stdout and
/// stderr (the stderr also goes to the leak scan).
async fn concurrently(home: &Home, endpoint: &str, args: &[&str], n: usize) -> Vec<(i32, String, String)> {
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    let children: Vec<_> = (0..n)
        .map(|_| {
            StdCommand::new(&ccc_path)
                .args(args)
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_ENDPOINT_URL", endpoint)
                .env("RUST_LOG", "trace")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut out = Vec::new();
    for child in children {
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        ccc_tests::leak::child_log(&err);
        out.push((o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), err));
    }
    out
}

/// Marks a Cognito sign-in's cached AWS credentials and its stored tokens as expired.
fn expire_cognito_sign_in(home: &Home, profile: &str) {
    let cache = home.path().join(format!(".ccc/cache/cognito-{profile}.json"));
    let mut entry: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    entry["value"]["expiration"] = serde_json::json!(1_000_000_000);
    std::fs::write(&cache, entry.to_string()).unwrap();
    expire_stored_oauth_tokens(home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_ccc_creds_refresh_a_cognito_sign_in_once() {
    let pool = pool().await;
    pool.user("erin", true).await;
    let front = ccc_tests::front::Front::start().await;
    let home = Home::new();
    home.configure(&pool);
    home.login("erin").success();
    expire_cognito_sign_in(&home, "e2e");
    let (auth_before, creds_before) = (front.calls_of("InitiateAuth"), front.calls_of("GetCredentialsForIdentity"));
    let runs = concurrently(&home, &front.url, &["creds"], 8).await;
    let mut keys = Vec::new();
    for (code, out, err) in &runs {
        assert_eq!(*code, 0, "{err}");
        let json: serde_json::Value = serde_json::from_str(out).unwrap();
        ccc_tests::leak::secret(json["SecretAccessKey"].as_str().unwrap());
        keys.push(json["AccessKeyId"].as_str().unwrap().to_owned());
    }
    // moto counted through the front: one refresh grant, one identity-pool exchange
    assert_eq!(front.calls_of("InitiateAuth") - auth_before, 1, "REFRESH_TOKEN_AUTH calls");
    assert_eq!(front.calls_of("GetCredentialsForIdentity") - creds_before, 1);
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "every process printed the same credentials");
    // the stored refresh token still works afterwards
    expire_cognito_sign_in(&home, "e2e");
    let again = concurrently(&home, &front.url, &["creds"], 1).await;
    assert_eq!(again[0].0, 0, "{}", again[0].2);
    assert_eq!(front.calls_of("InitiateAuth") - auth_before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sign_in_service_never_hangs_ccc_creds() {
    let pool = pool().await;
    pool.user("stan", true).await;
    let home = Home::new();
    home.configure(&pool);
    home.login("stan").success();
    // every Cognito attempt may take one second; the proxy stalls every connection
    home.ccc().args(["config", "set", "attempt_timeout_seconds", "1"]).assert().success();
    expire_cognito_sign_in(&home, "e2e");
    let proxy = ccc_tests::proxy::FaultProxy::start(&peer("CCC_TEST_AWS_ENDPOINT")).await;
    proxy.fail_next(&[ccc_tests::proxy::TcpFault::Stall(std::time::Duration::from_secs(30)); 40]);
    let started = std::time::Instant::now();
    let runs = concurrently(&home, &proxy.url, &["creds", "--timeout", "8"], 2).await;
    let took = started.elapsed();
    for (code, out, err) in &runs {
        // the network is the problem, not the sign-in: exit 4, upstream unavailable
        assert_eq!(*code, 4, "a stalled refresh cannot succeed: {err}");
        assert!(out.is_empty(), "no credentials on stdout: {out}");
        let last = err.lines().rev().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{err}"));
        assert!(last.contains("within 8 s") || last.contains("timeout"), "{last}");
        assert!(!last.contains("sign in again"), "{last}");
    }
    assert!(took < std::time::Duration::from_secs(8 + 4), "the budget held: {took:?}");
    assert!(proxy.requests() >= 1, "the stall was really met");
}

/// The stored Cognito tokens of `user` (from the token store ccc wrote).
fn stored_cognito_tokens(home: &Home, pool: &Pool, user: &str) -> Option<serde_json::Value> {
    let store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".ccc/tokens.json")).unwrap()).unwrap();
    store["entries"].get(format!("cognito\u{1f}{}\u{1f}{user}", pool.pool_id)).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_profile_keeps_its_own_cognito_user_and_logout_signs_out_only_that_one() {
    let pool = pool().await;
    pool.user("alice", true).await;
    pool.user("bob", true).await;
    let front = ccc_tests::front::Front::start().await;
    let home = Home::new();
    home.configure(&pool);
    let login = |user: &str, profile: &str| {
        home.ccc()
            .env("AWS_ENDPOINT_URL", &front.url)
            .args(["login", "--username", user, "--password-stdin", "--profile", profile])
            .write_stdin(format!("{PASSWORD}\n"))
            .assert()
            .success();
    };
    login("alice", "p1");
    login("bob", "p2");
    let creds =
        |profile: &str| home.ccc().env("AWS_ENDPOINT_URL", &front.url).args(["creds", "--profile", profile]).assert();
    // p1 refreshes with alice's refresh token, never bob's
    expire_cognito_sign_in(&home, "p1");
    let (alice_before, bob_before) =
        (stored_cognito_tokens(&home, &pool, "alice").unwrap(), stored_cognito_tokens(&home, &pool, "bob").unwrap());
    creds("p1").success();
    let (alice_after, bob_after) =
        (stored_cognito_tokens(&home, &pool, "alice").unwrap(), stored_cognito_tokens(&home, &pool, "bob").unwrap());
    assert_ne!(alice_after["access_token"], alice_before["access_token"], "alice's tokens were refreshed");
    assert_eq!(bob_after, bob_before, "bob's tokens were not touched");
    let who = home.ccc().env("AWS_ENDPOINT_URL", &front.url).args(["whoami", "--profile", "p2", "-o", "json"]).assert();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who.success())).unwrap();
    assert_eq!(who["user"], "bob");

    // logout of p1: GlobalSignOut and RevokeToken for alice, bob untouched
    let alice_refresh = SecretString::from(alice_after["refresh_token"].as_str().unwrap().to_owned());
    let (signouts, revokes) = (front.calls_of("GlobalSignOut"), front.calls_of("RevokeToken"));
    let logout = home.ccc().env("AWS_ENDPOINT_URL", &front.url).args(["logout", "--profile", "p1"]).assert().success();
    assert!(stdout(&logout).contains("Signed out alice"), "{}", stdout(&logout));
    assert_eq!(front.calls_of("GlobalSignOut") - signouts, 1);
    // (moto answers RevokeToken with a 500, which the SDK retries: at least one was sent)
    assert!(front.calls_of("RevokeToken") - revokes >= 1, "the refresh token was revoked too");
    // moto is the judge: alice's old refresh token is refused (its RevokeToken answers 500,
    // see docs/PEERS.md; its GlobalSignOut is what ends the token here)
    let e = pool.auth(AuthFlow::Srp, false).refresh_credentials(&alice_refresh, Some("alice")).await.unwrap_err();
    assert_eq!(core_types::Kinded::kind(&e), core_types::ErrorKind::NotAuthorized, "{e}");
    assert!(stored_cognito_tokens(&home, &pool, "alice").is_none());
    creds("p1").code(3); // nobody is signed in on p1 any more
    // bob on p2 still refreshes
    expire_cognito_sign_in(&home, "p2");
    creds("p2").success();
}

/// Signs `user` in with `ccc oauth login` (the headless browser answers the provider's pages).
async fn oauth_login(home: &Home, user: &str) {
    use std::io::BufRead;
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    let mut login = StdCommand::new(&ccc_path)
        .args(["oauth", "login", "--issuer", &issuer, "--client-id", "ccc-public", "--no-browser", "--timeout", "60"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(login.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("ccc printed the URL").unwrap();
        if line.starts_with("http") {
            break line;
        }
    };
    let page = ccc_tests::oidc::drive(&url, user, "x", None).await.expect("browser sign-in");
    assert!(page.contains("close this tab"), "{page}");
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Tokens stored"));
}

/// The provider's count of `grant` token requests for `user` (other tests use other users).
async fn grants_for(grant: &str, user: &str) -> u64 {
    ccc_tests::oidc::token_requests(&format!("{grant}:{user}")).await
}

/// Marks the stored access token as expired, as if an hour had passed.
fn expire_stored_oauth_tokens(home: &Home) {
    let file = home.path().join(".ccc/tokens.json");
    let mut store: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for entry in store["entries"].as_object_mut().unwrap().values_mut() {
        entry["expires_at"] = serde_json::json!(1_000_000_000);
    }
    std::fs::write(&file, store.to_string()).unwrap();
}

/// Whether the provider accepts `access` (its userinfo endpoint answers 200).
async fn provider_accepts(access: &str) -> bool {
    let resp = reqwest::Client::new()
        .get(format!("{}/me", peer("CCC_TEST_OIDC_ISSUER")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    resp.status().is_success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_spend_one_rotating_refresh_token_once() {
    let home = Home::new();
    let user = "fleet-eight";
    oauth_login(&home, user).await;
    expire_stored_oauth_tokens(&home);
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let args = ["oauth", "token", "--issuer", issuer.as_str(), "--client-id", "ccc-public"];
    let before = grants_for("refresh_token", user).await;
    let mut tokens = Vec::new();
    for (code, out, err) in concurrently(&home, &peer("CCC_TEST_AWS_ENDPOINT"), &args, 8).await {
        assert_eq!(code, 0, "{err}");
        let token = out.trim().to_owned();
        ccc_tests::leak::secret(&token);
        tokens.push(token);
    }
    // the provider is the judge: one refresh grant, and every printed token is accepted
    assert_eq!(grants_for("refresh_token", user).await - before, 1, "refresh grants at the provider");
    assert_eq!(grants_for("refresh_token", &format!("{user}:refused")).await, 0);
    for t in &tokens {
        assert!(provider_accepts(t).await, "the provider refuses a printed token");
    }
    // the family is intact: a later refresh (with the rotated token) still works
    let refreshed = home.ccc().args(["oauth", "refresh", "--issuer", &issuer, "--client-id", "ccc-public"]).assert();
    stderr(&refreshed);
    refreshed.success();
    let later = home.ccc().args(&args[..]).assert().success();
    assert!(provider_accepts(stdout(&later).trim()).await);
    assert_eq!(grants_for("refresh_token", user).await - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_login_token_refresh_revoke() {
    let home = Home::new();
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    oauth_login(&home, "dana").await;

    let args = ["--issuer", issuer.as_str(), "--client-id", "ccc-public"];
    let token = home.ccc().args(["oauth", "token"]).args(args).assert().success();
    let access = stdout(&token).trim().to_owned();
    assert!(access.len() > 20, "{access}");
    home.ccc().args(["oauth", "refresh"]).args(args).assert().success();
    let token2 = home.ccc().args(["oauth", "token"]).args(args).assert().success();
    assert_ne!(stdout(&token2).trim(), access, "refresh gave a new access token");
    home.ccc().args(["oauth", "revoke"]).args(args).assert().success();
    let after = home.ccc().args(["oauth", "token"]).args(args).assert().code(3);
    assert!(stderr(&after).contains("ccc oauth login"), "{}", stderr(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_sessions_check_through_the_managed_identity_endpoint_and_the_chain() {
    use ccc_tests::azure_stub::{FakeAz, ManagedIdentity};
    let home = Home::new();
    let mi = ManagedIdentity::start(3600).await;
    let az = FakeAz::signed_in(3600);
    let config = home.path().join("azure.yaml");
    std::fs::write(
        &config,
        "cloud_sessions:\n  - name: auto\n    session_type: azure\n    subscription_id: sub-9\n  - name: mi\n    session_type: azure\n    use_managed_identity: true\n    client_id: 99999999-aaaa-bbbb-cccc-dddddddddddd\n",
    )
    .unwrap();
    let check = |header: &str| {
        let mut c = home.ccc();
        c.env("PATH", az.path()).env("IDENTITY_ENDPOINT", &mi.endpoint).env("IDENTITY_HEADER", header).args([
            "sessions",
            "check",
            "-o",
            "json",
            "--config",
            config.to_str().unwrap(),
        ]);
        c.assert()
    };
    let ok = check(&mi.header).success();
    let reports: serde_json::Value = serde_json::from_str(&stdout(&ok)).unwrap();
    let by_name = |n: &str| reports.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap().clone();
    let auto = by_name("auto");
    assert_eq!(auto["healthy"], true, "{auto}");
    assert_eq!(auto["credential"], "managed identity");
    assert_eq!(auto["account"], "sub-9");
    assert_eq!(
        auto["chain"],
        serde_json::json!([
            "environment: skipped (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set)",
            "workload identity: skipped (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE not set)",
            "managed identity: answered",
            "azure cli: not tried",
        ])
    );
    assert_eq!(by_name("mi")["chain"], serde_json::json!(["managed identity: answered"]));
    assert_eq!(mi.calls(), 2, "one token per session");
    assert!(az.calls().is_empty(), "the chain stopped at the first answer");
    // tokens never reach the output or the trace log
    assert!(!stdout(&ok).contains("mi-access-token") && !stderr(&ok).contains("mi-access-token"), "{}", stderr(&ok));
    assert!(!stderr(&ok).contains(&mi.header));

    // a managed identity that turns us away: the chain moves on to the CLI; the session that
    // asked for the managed identity alone fails, and the exit code says so
    let bad = check("wrong-header").code(1);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&bad)).unwrap();
    let by_name = |n: &str| reports.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by_name("auto")["credential"], "azure cli");
    let mi_report = by_name("mi");
    assert_eq!(mi_report["healthy"], false);
    assert!(mi_report["error"].as_str().unwrap().contains("managed identity: unavailable"), "{mi_report}");
    assert_eq!(az.calls().len(), 1);
    assert!(stderr(&bad).contains("1 session(s) unhealthy"), "{}", stderr(&bad));
}

/// What a person sees on stderr when a command fails, with the run's ports, ids and paths
/// replaced by stable names so it can be reviewed as a snapshot.
struct Rendered {
    code: i32,
    text: String,
}

fn rendered(a: assert_cmd::assert::Assert, replace: &[(&str, &str)]) -> Rendered {
    let out = a.get_output();
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    ccc_tests::leak::child_log(&text);
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    // moto's and the SDK's random ids
    let mut cleaned = Vec::new();
    for line in text.lines() {
        cleaned.push(
            line.split(' ')
                .map(|w| {
                    let digits = w.chars().filter(char::is_ascii_digit).count();
                    if let Some(after) = w.strip_prefix("http://127.0.0.1:") {
                        let rest: String = after.chars().skip_while(char::is_ascii_digit).collect();
                        format!("http://127.0.0.1:PORT{rest}")
                    } else if w.len() > 20 && digits > 6 && !w.contains('/') {
                        "ID".to_owned()
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    Rendered { code: out.status.code().unwrap_or(-1), text: cleaned.join("\n") }
}

/// The rendered error of a failing run: a checked exit code, at most two lines, none of the
/// SDK's internals and no secret the test knows.
fn check(r: &Rendered, code: i32, secrets: &[&str]) -> String {
    assert_eq!(r.code, code, "exit code of a run that said: {:?}", r.text);
    assert!(!r.text.is_empty(), "a failure says something");
    let lines: Vec<&str> = r.text.lines().collect();
    assert!((1..=2).contains(&lines.len()), "at most two lines without -v: {}", r.text);
    assert!(lines[0].starts_with("error: "), "{}", r.text);
    for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure(", "ConnectorError", "extensions"] {
        assert!(!r.text.contains(internal), "{internal} in {}", r.text);
    }
    for s in secrets {
        assert!(!r.text.contains(s), "a secret in {}", r.text);
    }
    for l in &lines {
        assert!(l.chars().count() <= 400, "a long line: {l}");
    }
    format!("exit {}\n{}", r.code, r.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_reads_in_two_lines_with_a_hint_that_exists() {
    let pool = pool().await;
    pool.user("renee", true).await;
    let moto = peer("CCC_TEST_AWS_ENDPOINT");
    let home = Home::new();
    let path = home.path().display().to_string();
    let refused = ccc_tests::proxy::refused_url().await;
    let ids: [(&str, &str); 5] =
        [(&moto, "MOTO"), (&refused, "REFUSED"), (&pool.pool_id, "POOL"), (&pool.client_id, "CLIENT"), (&path, "HOME")];
    let secrets = [PASSWORD, "moto-secret"];
    let run = |c: &mut Command| rendered(c.env_remove("RUST_LOG").assert(), &ids);
    let mut snaps: Vec<(&str, String)> = Vec::new();

    // missing configuration
    snaps.push(("whoami before configure", check(&run(home.ccc().arg("whoami")), 3, &secrets)));
    // a malformed config file (left as it was)
    std::fs::create_dir_all(home.path().join(".ccc")).unwrap();
    std::fs::write(home.path().join(".ccc/config.json"), "{ not json").unwrap();
    snaps.push(("malformed config.json", check(&run(home.ccc().arg("whoami")), 1, &secrets)));
    std::fs::remove_file(home.path().join(".ccc/config.json")).unwrap();
    home.configure(&pool);
    // a wrong password (moto checks passwords in USER_PASSWORD_AUTH, not SRP's proof)
    home.ccc().args(["config", "set", "auth_flow", "password"]).assert().success();
    let mut wrong = home.ccc();
    wrong.args(["login", "--username", "renee", "--password-stdin"]).write_stdin("Wrong-Passw0rd!\n");
    snaps.push(("login with a wrong password", check(&run(&mut wrong), 3, &secrets)));
    let mut nobody = home.ccc();
    nobody.args(["login", "--username", "no-such-user", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who does not exist", check(&run(&mut nobody), 1, &secrets)));
    home.ccc().args(["config", "set", "auth_flow", "srp"]).assert().success();
    // a malformed credentials file: nothing written, the line named
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/credentials"), "[default]\njust words\n").unwrap();
    let mut login = home.ccc();
    login.args(["login", "--username", "renee", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login with a malformed credentials file", check(&run(&mut login), 1, &secrets)));
    std::fs::remove_file(home.path().join(".aws/credentials")).unwrap();
    home.login("renee").success();

    // moto answers LookupEvents with an HTTP 500 page and has no trail log group
    snaps.push(("history against moto", check(&run(home.ccc().arg("history")), 4, &secrets)));
    // with the trail's log group there, the partial answer says so in one line and shows it
    let group = ccc_tests::cognito::unique("trail-logs");
    let made = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", "import boto3, sys; boto3.client('logs', region_name='us-east-1').create_log_group(logGroupName=sys.argv[1])", &group])
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "moto-secret")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let partial = home.ccc().env_remove("RUST_LOG").args(["history", "--log-group", &group]).assert().success();
    let note = stderr(&partial);
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(
        note.starts_with("note: CloudTrail LookupEvents: HTTP 500: an HTML page, not an AWS answer; showing the trail's CloudWatch Logs instead"),
        "{note}"
    );

    // -v adds the causes, -vv the kind, request id and endpoint; still no internals
    for flag in ["-v", "-vv"] {
        let r = run(home.ccc().args([flag, "history"]));
        for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure("] {
            assert!(!r.text.contains(internal), "{flag}: {internal} in {}", r.text);
        }
        assert!(!r.text.contains(PASSWORD));
        if flag == "-vv" {
            assert!(r.text.contains("kind: Unavailable (exit 4)"), "{}", r.text);
            // the SDK retried LookupEvents' 500s: each retry is listed, in plain words
            assert!(r.text.contains("retry: attempt 1 failed (TransientError); retried after"), "{}", r.text);
        } else {
            assert!(r.text.contains("caused by:"), "{}", r.text);
        }
    }
    // moto answers SimulatePrincipalPolicy with an HTTP 500
    let mut perms = home.ccc();
    perms.args(["permissions", "--test", "s3:GetObject"]);
    snaps.push(("permissions --test against moto", check(&run(&mut perms), 4, &secrets)));

    // nobody listening at the endpoint
    let mut who = home.ccc();
    who.env("AWS_ENDPOINT_URL", &refused).arg("whoami");
    snaps.push(("whoami with nothing at the endpoint", check(&run(&mut who), 4, &secrets)));

    // something at the endpoint answering XML garbage with a 200
    let (garbage, _garbage_task) = ccc_tests::serve::serve(|_req: hyper::Request<hyper::body::Incoming>| async {
        let body = http_body_util::Full::new(hyper::body::Bytes::from_static(
            b"<?xml version=\"1.0\"?><garbage><x/></garbage>",
        ));
        Ok::<_, std::convert::Infallible>(hyper::Response::new(body))
    })
    .await;
    let mut who = home.ccc();
    who.env("AWS_ENDPOINT_URL", &garbage).arg("whoami");
    let r = run(&mut who);
    let r = Rendered { code: r.code, text: r.text.replace(&garbage, "GARBAGE") };
    snaps.push(("whoami where the endpoint answers XML garbage", check(&r, 1, &secrets)));
    // at every verbosity: no internals, no secret
    for flag in ["-v", "-vv", "-vvv"] {
        for endpoint in [&garbage, &refused] {
            let r = run(home.ccc().env("AWS_ENDPOINT_URL", endpoint).args([flag, "whoami"]));
            for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure("] {
                let error_part: String =
                    r.text.lines().filter(|l| !l.contains(" DEBUG ") && !l.contains(" TRACE ")).collect();
                assert!(!error_part.contains(internal), "{flag}: {internal} in {}", r.text);
            }
            assert!(!r.text.contains(PASSWORD));
        }
    }

    // the service refuses (AccessDenied), throttles
    let front = ccc_tests::front::Front::start().await;
    let with_front = |front: &ccc_tests::front::Front| {
        let mut c = home.ccc();
        c.env("AWS_ENDPOINT_URL", &front.url).arg("whoami");
        c
    };
    front.inject("sts:GetCallerIdentity", None, 1, ccc_tests::front::Fault::Error(403, "AccessDenied"));
    let r = run(&mut with_front(&front));
    let r = Rendered { code: r.code, text: r.text.replace(&front.url, "FRONT") };
    snaps.push(("whoami refused by STS", check(&r, 1, &secrets)));
    front.inject("sts:GetCallerIdentity", None, 100, ccc_tests::front::Fault::Error(400, "ThrottlingException"));
    let r = run(&mut with_front(&front));
    let r = Rendered { code: r.code, text: r.text.replace(&front.url, "FRONT") };
    snaps.push(("whoami throttled by STS", check(&r, 4, &secrets)));

    // a user who signed up but never confirmed (USER_PASSWORD_AUTH: moto checks it there)
    home.ccc().args(["config", "set", "auth_flow", "password"]).assert().success();
    pool.admin
        .sign_up()
        .client_id(&pool.client_id)
        .username("unconfirmed-signup")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let mut signup = home.ccc();
    signup.args(["login", "--username", "unconfirmed-signup", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who never confirmed the sign-up", check(&run(&mut signup), 3, &secrets)));
    home.ccc().args(["config", "set", "auth_flow", "srp"]).assert().success();
    // a declared session whose keys STS does not know, checked where nothing answers
    let declared = home.path().join("declared.yaml");
    std::fs::write(
        &declared,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAEXAMPLEEXAMPLE01\n    secret_access_key: ENV/CI_SECRET\n",
    )
    .unwrap();
    let mut check_sessions = home.ccc();
    check_sessions.env("AWS_ENDPOINT_URL", &refused).env("CI_SECRET", "moto-secret").args([
        "sessions",
        "check",
        "--config",
        &declared.display().to_string(),
    ]);
    let r = run(&mut check_sessions);
    assert_ne!(r.code, 0, "{}", r.text);
    snaps.push(("sessions check where nothing answers", format!("exit {}\n{}", r.code, r.text)));

    // an unknown AWS error code: the service's words, no guess
    let fresh_front = ccc_tests::front::Front::start().await;
    fresh_front.inject("sts:GetCallerIdentity", None, 1, ccc_tests::front::Fault::Error(400, "SomethingNewException"));
    let r = run(&mut with_front(&fresh_front));
    let r = Rendered { code: r.code, text: r.text.replace(&fresh_front.url, "FRONT") };
    snaps.push(("whoami answered with a code nobody knows", check(&r, 1, &secrets)));

    // more commands, each failing the way a new user meets it
    pool.user("unconfirmed", false).await;
    let mut unconfirmed = home.ccc();
    unconfirmed.args(["login", "--username", "unconfirmed", "--password-stdin"]).write_stdin("Temp-Passw0rd!\n");
    snaps.push((
        "login of a user who must choose a password, with no terminal",
        check(&run(&mut unconfirmed), 3, &secrets),
    ));
    snaps.push((
        "configure with a region that is not one",
        check(&run(home.ccc().args(["configure", "--non-interactive", "--region", "Mars"])), 1, &secrets),
    ));
    snaps.push((
        "config get of a key never set",
        check(&run(home.ccc().args(["config", "get", "nothing"])), 1, &secrets),
    ));
    snaps.push((
        "sso status of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "status", "--profile", "e2e"])), 3, &secrets),
    ));
    let yaml = home.path().join("sessions.yaml");
    std::fs::write(&yaml, "cloud_sessions:\n  - name: a\n    session_type: aws\n    regoin: us-east-1\n").unwrap();
    snaps.push((
        "sessions list of a YAML with a typo",
        check(&run(home.ccc().args(["sessions", "list", "--config", &yaml.display().to_string()])), 1, &secrets),
    ));
    let mut oauth = home.ccc();
    oauth.args(["oauth", "token", "--issuer", &refused, "--client-id", "c"]);
    snaps.push(("oauth token of a provider never signed in to", check(&run(&mut oauth), 3, &secrets)));
    snaps.push((
        "resources with nothing at the endpoint",
        check(
            &run(home.ccc().env("AWS_ENDPOINT_URL", &refused).args(["resources", "--regions", "us-east-1"])),
            4,
            &secrets,
        ),
    ));

    // an expired sign-in whose refresh token the pool no longer accepts
    pool.admin.admin_user_global_sign_out().user_pool_id(&pool.pool_id).username("renee").send().await.unwrap();
    expire_cognito_sign_in(&home, "e2e");
    snaps.push(("creds after the sign-in was revoked", check(&run(home.ccc().arg("creds")), 3, &secrets)));

    // a stalled sign-in service: the budget holds
    let proxy = ccc_tests::proxy::FaultProxy::start(&moto).await;
    proxy.fail_next(&[ccc_tests::proxy::TcpFault::Stall(std::time::Duration::from_secs(30)); 8]);
    home.ccc().args(["config", "set", "attempt_timeout_seconds", "1"]).assert().success();
    let mut stalled = home.ccc();
    stalled.env("AWS_ENDPOINT_URL", &proxy.url).args(["creds", "--timeout", "3"]);
    snaps.push(("creds against a stalled service", check(&run(&mut stalled), 4, &secrets)));

    // the rest of the commands
    snaps.push((
        "setup-profile with a name that is not one",
        check(&run(home.ccc().args(["setup-profile", "--profile", "bad[name]"])), 1, &secrets),
    ));
    snaps.push((
        "sso ensure of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "ensure", "--profile", "e2e"])), 3, &secrets),
    ));
    let mut oauth_login = home.ccc();
    oauth_login.args(["oauth", "login", "--issuer", &refused, "--client-id", "c", "--no-browser", "--timeout", "5"]);
    snaps.push(("oauth login with nothing at the issuer", check(&run(&mut oauth_login), 4, &secrets)));
    let mut oauth_refresh = home.ccc();
    oauth_refresh.args(["oauth", "refresh", "--issuer", &refused, "--client-id", "c"]);
    snaps.push(("oauth refresh of a provider never signed in to", check(&run(&mut oauth_refresh), 3, &secrets)));
    // Cognito saying the password must be reset (moto never does: the front answers for it)
    fresh_front.inject(
        "unknown:InitiateAuth",
        None,
        1,
        ccc_tests::front::Fault::Error(400, "PasswordResetRequiredException"),
    );
    let mut reset = home.ccc();
    reset
        .env("AWS_ENDPOINT_URL", &fresh_front.url)
        .args(["login", "--username", "renee", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who must reset the password", check(&run(&mut reset), 3, &secrets)));
    snaps.push((
        "sso refresh of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "refresh", "--profile", "e2e"])), 3, &secrets),
    ));
    // (revoking a provider never signed in to has nothing to do: it succeeds)
    home.ccc().args(["oauth", "revoke", "--issuer", &refused, "--client-id", "c"]).assert().success();
    let elsewhere = Home::new();
    snaps.push(("logout before configure", check(&run(elsewhere.ccc().arg("logout")), 3, &secrets)));
    // a local file problem: the config directory is a file
    std::fs::write(elsewhere.path().join(".ccc"), "not a directory").unwrap();
    let r = rendered(
        elsewhere.ccc().env_remove("RUST_LOG").args(["config", "set", "region", "us-east-1"]).assert(),
        &[(&elsewhere.path().display().to_string(), "HOME2")],
    );
    snaps.push(("config set where the config directory is a file", check(&r, 1, &secrets)));

    let all: String = snaps.iter().map(|(name, s)| format!("== {name}\n{s}\n")).collect();
    insta::assert_snapshot!("every_failure", all);
}
