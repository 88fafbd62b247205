//! The built `ccc` binary against the peers (moto for Cognito, boto3 from the peers venv).

use std::process::Command as StdCommand;

use ccc_tests::cognito::{PASSWORD, Pool, pool};
use ccc_tests::peer;
use cognito_auth::AuthFlow;
use core_types::SecretString;

mod design;
mod errors;
mod everyday;
mod keys;
mod matrix;
mod oauth;
mod profiles;
mod prompts;
mod serve;
mod sessions;
mod support;
mod team;
mod warm;
mod window;

use support::{Home, concurrently, expire_cognito_sign_in, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_login_creds_whoami_boto3_logout() {
    let pool = pool().await;
    pool.user("alice", true).await;
    // every AWS call through the verifying front: it judges the identity-pool credentials
    // (which moto cannot) and answers GetCallerIdentity with their true principal
    let judge = ccc_tests::judge::Judge::start().await;
    let cognito_arn =
        format!("arn:aws:sts::123456789012:assumed-role/{}/CognitoIdentityCredentials", ccc_tests::judge::COGNITO_ROLE);
    let home = Home::new().with_env("AWS_ENDPOINT_URL", &judge.url);
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
    assert_eq!(who["arn"], cognito_arn.as_str(), "the principal the front verified");
    // the judge can refuse: the same key with another secret
    let tampered = ccc_tests::strict::boto3_with_keys_at(
        &judge.url,
        json["AccessKeyId"].as_str().unwrap(),
        "not-the-secret",
        json["SessionToken"].as_str(),
    );
    assert_eq!(tampered, Err("SignatureDoesNotMatch".into()));

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

    // boto3 through a credential_process profile that runs this ccc: setup-profile takes the
    // static keys `ccc login` wrote out of ~/.aws/credentials, or boto3 would read those first
    // and fail once they expire
    let setup = home.ccc().args(["setup-profile", "--profile", "e2e"]).assert().success();
    assert!(stdout(&setup).contains("Removed its temporary keys"), "{}", stdout(&setup));
    assert!(!std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap().contains("[e2e]"));
    let boto3 = || {
        let py = StdCommand::new(peer("CCC_TEST_PYTHON"))
            .args(["-c", "import boto3, json; s = boto3.Session(profile_name='e2e'); c = s.get_credentials(); f = c.get_frozen_credentials(); print(json.dumps([c.method, f.access_key, f.secret_key, s.client('sts', region_name='us-east-1').get_caller_identity()['Arn']]))"])
            .env("HOME", home.path())
            .env("AWS_ENDPOINT_URL", &judge.url)
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
        serde_json::from_slice::<Vec<String>>(&py.stdout).unwrap()
    };
    let got = boto3();
    assert_eq!(got, ["custom-process", json["AccessKeyId"].as_str().unwrap(), &secret, &cognito_arn]);
    // an hour later: the cached credentials (and the sign-in's tokens) have expired; boto3
    // still gets working credentials through the process, which renewed them
    expire_cognito_sign_in(&home, "e2e");
    let got = boto3();
    assert_eq!((got[0].as_str(), got[3].as_str()), ("custom-process", cognito_arn.as_str()), "renewed and accepted");
    let cache: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(support::cognito_cache(&home)).unwrap()).unwrap();
    let renewed_until = cache["value"]["expiration"].as_i64().unwrap();
    assert!(renewed_until > 1_000_000_000, "renewed through the process: {cache}");
    // signing in again on a process profile writes no static keys back
    let again = home.login("alice").success();
    assert!(stdout(&again).contains("credential_process"), "{}", stdout(&again));
    assert!(!std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap().contains("[e2e]"));
    assert_eq!(boto3()[0], "custom-process");

    // logout signs out and removes the sign-in; creds then says to log in
    let logout = home.ccc().arg("logout").assert().success();
    assert!(stdout(&logout).contains("Signed out alice"), "{}", stdout(&logout));
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

    // CloudTrail records a Cognito user's calls under the identity pool's role session,
    // naming their identity; an IAM user of the same name is someone else
    let who = ccc(&home).args(["whoami", "-o", "json"]).assert().success();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
    let identity = who["identity"].as_str().unwrap().to_owned();
    assert!(identity.starts_with("us-east-1:"), "{who}");
    let again = ccc(&home).args(["whoami", "-o", "json"]).assert().success();
    assert!(stdout(&again).contains(&identity), "one identity per user, as Cognito gives");
    front.set_cloudtrail_events(vec![
        ccc_tests::front::cognito_identity_record(&identity, &pool.identity_pool_id, "ListBuckets", &when),
        ccc_tests::front::cognito_identity_record("us-east-1:someone-else", &pool.identity_pool_id, "DeleteBucket", &when),
        serde_json::json!({
            "eventID": "e1", "eventTime": when, "eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.4",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEID", "arn": format!("arn:aws:iam::123456789012:user/{user}"), "accountId": "123456789012", "userName": user},
        }),
    ]);
    let h = ccc(&home).args(["history", "--days", "1", "-o", "json"]).assert().success();
    let h: serde_json::Value = serde_json::from_str(&stdout(&h)).unwrap();
    assert_eq!(h["source"], "CloudTrail");
    let names: Vec<&str> = h["events"].as_array().unwrap().iter().map(|e| e["event_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ListBuckets"], "{h}");
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
    // what the stub did not decide: the principal ccc asked about (the identity pool's role, as
    // IAM names it, from the signed-in user's own credentials) and the actions given
    let asked = front.simulate_requests();
    let (principal, actions) = asked.last().expect("a SimulatePrincipalPolicy call");
    let role = format!("arn:aws:iam::123456789012:role/{}", ccc_tests::judge::COGNITO_ROLE);
    assert_eq!(principal, &role, "{asked:?}");
    assert_eq!(actions, &["s3:ListAllMyBuckets", "iam:CreateUser"], "{asked:?}");
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

/// `ccc doctor` names the stores in use and finds a secret file others can read, with the
/// command that fixes it; once fixed, it passes.
#[test]
fn doctor_finds_open_files_and_says_how_to_fix_them() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    home.ccc().args(["sessions", "set-secret", "doctor_probe"]).write_stdin("doctor-probe-value\n").assert().success();
    ccc_tests::leak::secret("doctor-probe-value");
    let tokens = home.path().join(".ccc/tokens.json");
    assert_eq!(std::fs::metadata(&tokens).unwrap().permissions().mode() & 0o777, 0o600, "written 0600");
    let clean = home.ccc().args(["doctor"]).assert().success();
    assert!(stdout(&clean).contains("token store: file") && stdout(&clean).contains("ledger:"), "{}", stdout(&clean));
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = home.ccc().args(["doctor", "-o", "json"]).assert().code(1);
    let report: serde_json::Value = serde_json::from_str(&stdout(&open)).unwrap();
    let store = report["files"].as_array().unwrap().iter().find(|f| f["what"] == "token store").unwrap();
    assert_eq!((&store["mode"], &store["finding"]["status"]), (&0o644.into(), &"too_open".into()), "{store}");
    assert!(stderr(&open).contains(&format!("chmod 600 {}", tokens.display())), "{}", stderr(&open));
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    home.ccc().args(["doctor"]).assert().success();
}

/// `CCC_TOKEN_STORE=keyring`: the token store's file holds nothing readable (each token
/// sealed with a key the platform keyring keeps: the kernel keyring here), the tokens still
/// serve, `ccc doctor` says which store is in use, and a plain-file ccc refuses the sealed
/// entry with the way out instead of reading garbage.
#[test]
fn tokens_sealed_with_the_keyring_leave_nothing_readable_in_the_file() {
    let home = Home::new();
    let sealed = |args: &[&str]| {
        let mut c = home.ccc();
        c.env("CCC_TOKEN_STORE", "keyring").args(args);
        c
    };
    let value = "keyring-sealed-secret-value";
    ccc_tests::leak::secret(value);
    sealed(&["sessions", "set-secret", "sealed_probe"]).write_stdin(format!("{value}\n")).assert().success();
    let file = std::fs::read_to_string(home.path().join(".ccc/tokens.json")).unwrap();
    assert!(!file.contains(value) && file.contains("sealed:v1:"), "{file}");
    let config = home.path().join("sessions.yaml");
    std::fs::write(
        &config,
        "cloud_sessions:\n  - name: app\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAAPPEXAMPLE000002\n    secret_access_key: SEC/sealed_probe\nsecrets_manager:\n  cloud_stores:\n    mine:\n      store_type: local\n",
    )
    .unwrap();
    let args = ["sessions", "creds", "--config", config.to_str().unwrap(), "--name", "app"];
    let creds: serde_json::Value = serde_json::from_str(&stdout(&sealed(&args).assert().success())).unwrap();
    assert_eq!(creds["SecretAccessKey"], value);
    let doctor = sealed(&["doctor"]).assert().success();
    assert!(stdout(&doctor).contains("sealed (AES-256-GCM, key in the platform keyring"), "{}", stdout(&doctor));
    let plain = home.ccc().args(args).assert().failure();
    assert!(stderr(&plain).contains("CCC_TOKEN_STORE=keyring"), "{}", stderr(&plain));
    assert!(!stderr(&plain).contains(value));
    home.ccc().env("CCC_TOKEN_STORE", "vault").arg("doctor").assert().code(1);
}

/// `ccc man` prints a manual page (roff) that names every command.
#[test]
fn the_manual_page_names_every_command() {
    let home = Home::new();
    let man = stdout(&home.ccc().arg("man").assert().success());
    assert!(man.contains(".TH ccc 1"), "{}", &man[..man.len().min(300)]);
    // the SUBCOMMANDS section: one `ccc\-NAME(1)` entry per command clap knows
    let listed = man.matches("ccc\\-").count();
    for command in ["configure", "login", "creds", "exec", "sso", "session", "sessions", "oauth", "doctor", "man"] {
        assert!(man.contains(&format!("ccc\\-{command}(1)")), "{command} missing");
    }
    assert!(listed >= 24, "{listed} commands listed");
}
