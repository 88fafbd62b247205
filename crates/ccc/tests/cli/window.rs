//! The refresh window set in the ccc config (`refresh_window_seconds`) is the one every cache
//! uses. On each path, credentials live about ten seconds (moto's, shortened by the front; the
//! SSO stub's and a credential_process's, issued so), and a second call comes past their half
//! life with four seconds left: with a two-second window configured they are still fresh and
//! served again; with the default window (five minutes) they are renewed. Each path's upstream
//! judges (its call count at the front or stub, or a new key).

use std::time::Duration;

use super::support::{Home, sso_ccc, sso_home_lasting, stdout};

/// The two cases: the configured two-second window (not renewed) and the default (renewed).
const CASES: [(Option<u64>, bool); 2] = [(Some(2), false), (None, true)];

/// Runs `case` for both [`CASES`] at once (each sleeps most of its time).
async fn both<F, Fut>(case: F)
where
    F: Fn(Option<u64>, bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let [(a, ra), (b, rb)] = CASES;
    tokio::join!(case(a, ra), case(b, rb));
}

/// How long after the first call the second comes: past half of a ten-second life, with
/// more than the configured window left.
const LATER: Duration = Duration::from_secs(6);

/// Sets the window, or leaves the default (`None`).
fn window(home: &Home, seconds: Option<u64>) {
    if let Some(s) = seconds {
        home.ccc().args(["config", "set", "refresh_window_seconds", &s.to_string()]).assert().success();
    }
}

/// The access key id `ccc creds` printed.
fn key_of(a: &assert_cmd::assert::Assert) -> String {
    let json: serde_json::Value = serde_json::from_str(&stdout(a)).unwrap();
    json["AccessKeyId"].as_str().unwrap().to_owned()
}

/// A front whose STS and Cognito credentials live ten seconds (moto's less 890 s and 80 s).
async fn short_front(cognito: bool) -> ccc_tests::front::Front {
    let front = ccc_tests::front::Front::start().await;
    front.shorten_lifetimes_by(Duration::from_secs(if cognito { 80 } else { 890 }));
    front
}

/// A role profile (`duration_seconds = 900`, moto's shortest) over a new IAM user's keys of
/// the strict moto (the front stands before the judge).
async fn role_home() -> Home {
    let user = ccc_tests::strict::user("window").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/Window\nsource_profile = base\nduration_seconds = 900\n",
    )
    .unwrap();
    home
}

/// Role profiles: the role session is renewed (a new key from STS) only as the window says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_session_follows_the_configured_window() {
    both(|seconds, renewed| async move {
        let front = short_front(false).await;
        let home = role_home().await;
        window(&home, seconds);
        let run = || home.ccc().env("AWS_ENDPOINT_URL", &front.url).args(["creds", "--profile", "r"]).assert();
        let first = key_of(&run().success());
        tokio::time::sleep(LATER).await;
        let second = key_of(&run().success());
        assert_eq!(first != second, renewed, "window {seconds:?}: {first} then {second}");
        assert_eq!(front.calls("sts:AssumeRole"), 1 + usize::from(renewed), "window {seconds:?}");
    })
    .await;
}

/// YAML sessions: a role session declared in a sessions file (`ccc creds --session`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yaml_session_follows_the_configured_window() {
    both(|seconds, renewed| async move {
        let front = short_front(false).await;
        let home = role_home().await;
        window(&home, seconds);
        let yaml = home.path().join("sessions.yaml");
        std::fs::write(
            &yaml,
            "cloud_sessions:\n  - name: w\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Window\n    session_name: window\n    source_profile: base\n    duration_seconds: 900\n",
        )
        .unwrap();
        let run = || {
            home.ccc()
                .env("AWS_ENDPOINT_URL", &front.url)
                .args(["creds", "--session", "w", "--sessions-config", &yaml.display().to_string()])
                .assert()
        };
        let first = key_of(&run().success());
        tokio::time::sleep(LATER).await;
        let second = key_of(&run().success());
        assert_eq!(first != second, renewed, "window {seconds:?}: {first} then {second}");
    })
    .await;
}

/// IAM Identity Center: role credentials from the portal (GetRoleCredentials counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_role_credentials_follow_the_configured_window() {
    let config = "[profile p]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    both(|seconds, renewed| async move {
        let (stub, home) = sso_home_lasting(0, config, 10_000).await;
        window(&home, seconds);
        sso_ccc(&home, &stub, &["sso", "login", "--profile", "p", "--no-browser"]).assert().success();
        let first = key_of(&sso_ccc(&home, &stub, &["creds", "--profile", "p"]).assert().success());
        tokio::time::sleep(LATER).await;
        let second = key_of(&sso_ccc(&home, &stub, &["creds", "--profile", "p"]).assert().success());
        assert_eq!(first != second, renewed, "window {seconds:?}: {first} then {second}");
        assert_eq!(stub.calls("GetRoleCredentials"), 1 + usize::from(renewed), "window {seconds:?}");
    })
    .await;
}

/// `ccc sso ensure` (sso-refresh's own command, not the engine): the same window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_ensure_follows_the_configured_window() {
    let config = "[profile p]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    both(|seconds, renewed| async move {
        let (stub, home) = sso_home_lasting(0, config, 10_000).await;
        window(&home, seconds);
        sso_ccc(&home, &stub, &["sso", "login", "--profile", "p", "--no-browser"]).assert().success();
        sso_ccc(&home, &stub, &["sso", "ensure", "--profile", "p"]).assert().success();
        tokio::time::sleep(LATER).await;
        sso_ccc(&home, &stub, &["sso", "ensure", "--profile", "p"]).assert().success();
        assert_eq!(stub.calls("GetRoleCredentials"), 1 + usize::from(renewed), "window {seconds:?}");
    })
    .await;
}

/// `ccc serve`: a slot's credentials (a credential_process counting its runs) for the next
/// client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_credentials_follow_the_configured_window() {
    both(|seconds, renewed| async move {
        let home = Home::new();
        let count = super::serve::counting_profile(&home, 10);
        window(&home, seconds);
        let server = super::serve::Server::start(&home, &["--slot", "served"]);
        let env = super::serve::client_env(&home);
        tokio::time::sleep(LATER).await;
        let r = reqwest::Client::new().get(&server.url).header("Authorization", &env[1].1).send().await.unwrap();
        assert_eq!(r.status(), 200);
        server.stop();
        let ran = std::fs::read_to_string(count).unwrap().lines().count();
        assert_eq!(ran, 1 + usize::from(renewed), "window {seconds:?}");
    })
    .await;
}

/// Cognito: identity-pool credentials (GetCredentialsForIdentity counted at the front).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_credentials_follow_the_configured_window() {
    let pool = ccc_tests::cognito::pool().await;
    pool.user("wendy", true).await;
    let pool = &pool;
    both(|seconds, renewed| async move {
        let front = short_front(true).await;
        let home = Home::new();
        home.configure(pool);
        window(&home, seconds);
        home.ccc()
            .env("AWS_ENDPOINT_URL", &front.url)
            .args(["login", "--username", "wendy", "--password-stdin"])
            .write_stdin(format!("{}\n", ccc_tests::cognito::PASSWORD))
            .assert()
            .success();
        let run = || home.ccc().env("AWS_ENDPOINT_URL", &front.url).arg("creds").assert().success();
        run();
        let before = front.calls_of("GetCredentialsForIdentity");
        tokio::time::sleep(LATER).await;
        run();
        let after = front.calls_of("GetCredentialsForIdentity");
        assert_eq!(after - before, usize::from(renewed), "window {seconds:?}");
    })
    .await;
}

/// Cognito user-pool tokens: `ccc whoami` asks the tokens themselves (the identity-pool
/// identity needs a valid ID token); tokens that live ten seconds are refreshed
/// (InitiateAuth with the refresh token, counted at the front) only as the window says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_tokens_follow_the_configured_window() {
    let pool = ccc_tests::cognito::pool().await;
    pool.user("tokens", true).await;
    let pool = &pool;
    both(|seconds, renewed| async move {
        let front = ccc_tests::front::Front::start().await;
        front.set_token_lifetime(Duration::from_secs(10));
        let home = Home::new();
        home.configure(pool);
        window(&home, seconds);
        home.ccc()
            .env("AWS_ENDPOINT_URL", &front.url)
            .args(["login", "--username", "tokens", "--password-stdin"])
            .write_stdin(format!("{}\n", ccc_tests::cognito::PASSWORD))
            .assert()
            .success();
        let run =
            || home.ccc().env("AWS_ENDPOINT_URL", &front.url).args(["whoami", "--output", "json"]).assert().success();
        run();
        let before = front.calls_of("InitiateAuth");
        tokio::time::sleep(LATER).await;
        run();
        let after = front.calls_of("InitiateAuth");
        assert_eq!(after - before, usize::from(renewed), "window {seconds:?}");
    })
    .await;
}
