//! cloud-sessions against the strict judge (the verifying front before moto with authentication
//! on: STS, Secrets Manager), through the fault-injecting, call-counting front.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;

use ccc_tests::front::{Fault, Front};
use cloud_sessions::{CloudSessionManager, ManagerOptions, SessionError};
use core_types::{Clock, ErrorKind, Kinded, ManualClock, RefreshPolicy, RetryPolicy, SecretString};

/// The environment a test's YAML reads (`ENV/NAME`).
type Env = Arc<Vec<(String, String)>>;

fn options(front: &Front, env: &Env) -> ManagerOptions {
    let env = env.clone();
    ManagerOptions::default()
        .endpoint_url(front.url.clone())
        .env(move |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        .retry(RetryPolicy::new(3, Duration::from_millis(10)))
}

/// The judge every "it works" here answers to: the verifying front before the strict moto
/// (a key it never issued, a wrong secret or token, an expired credential are refused), and
/// the fault-injecting, call-counting front before the judge.
struct Strict {
    front: Front,
    _judge: ccc_tests::judge::Judge,
}

impl std::ops::Deref for Strict {
    type Target = Front;
    fn deref(&self) -> &Front {
        &self.front
    }
}

async fn strict_front() -> Strict {
    let judge = ccc_tests::judge::Judge::start().await;
    Strict { front: Front::start_at(&judge.url).await, _judge: judge }
}

/// A new IAM user's key on the strict endpoint as `TEST_KEY_ID` / `TEST_SECRET` (and an
/// Azure tenant name).
async fn strict_env() -> Env {
    let user = ccc_tests::strict::user("sessions").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    Arc::new(vec![
        ("TEST_KEY_ID".into(), user.access_key_id),
        ("TEST_SECRET".into(), user.secret_access_key),
        ("TEST_TENANT".into(), "contoso".into()),
    ])
}

/// The same, with a wrong secret: the judge must refuse it.
fn wrong_secret(env: &Env) -> Env {
    Arc::new(
        env.iter()
            .map(|(k, v)| {
                (k.clone(), if k == "TEST_SECRET" { "wJalrXUtnFEMI/not/the/secret".into() } else { v.clone() })
            })
            .collect(),
    )
}

const SESSIONS: &str = r#"
cloud_sessions:
  - name: keys
    session_type: aws
    region: us-east-1
    access_key_id: ENV/TEST_KEY_ID
    secret_access_key: ENV/TEST_SECRET
  - name: role
    session_type: aws
    region: us-east-1
    role_arn: arn:aws:iam::123456789012:role/Deployer
    session_name: ci-run
    source: keys
    duration_seconds: 900
    external_id: ext-123
  - name: multi
    session_type: aws
    regions: [us-east-1, eu-west-1]
    access_key_id: ENV/TEST_KEY_ID
    secret_access_key: ENV/TEST_SECRET
  - name: az
    session_type: azure
    tenant_id: ENV/TEST_TENANT
    use_azure_cli: true
"#;

const ROLES: &str = "roles:\n  ci:\n    allowed_sessions: [role]\n";

const KINDS: &str = concat!(
    "cloud_sessions:\n",
    "  - name: keys\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/TEST_KEY_ID\n    secret_access_key: ENV/TEST_SECRET\n",
    "  - name: role\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Deployer\n    session_name: ci-run\n    source: keys\n    duration_seconds: 900\n",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_role_and_web_identity_sessions_answer_sts() {
    let front = strict_front().await;
    let env = strict_env().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln").unwrap();
    let yaml = format!(
        "{SESSIONS}  - name: oidc\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/GitHub\n    session_name: gha\n    web_identity_token_file: {}\n{ROLES}",
        token.display()
    );
    let m = CloudSessionManager::from_yaml(&yaml, options(&front, &env)).await.unwrap();
    assert!(m.warnings().is_empty());
    for name in ["keys", "role", "oidc", "multi", "multi-eu-west-1"] {
        let h = m.check_health(name).await.unwrap();
        assert!(h.healthy, "{name}: {h:?}");
        assert!(h.arn.is_some());
    }
    assert!(m.check_health("role").await.unwrap().arn.unwrap().contains("assumed-role/Deployer/ci-run"));
    assert_eq!(front.calls("sts:AssumeRole"), 1);
    assert_eq!(front.calls("sts:AssumeRoleWithWebIdentity"), 1);
    assert_eq!(m.aws_session("multi-eu-west-1").unwrap().region(), "eu-west-1");
    // access control
    assert!(m.get_authorized_session("ci", "role").is_ok());
    let denied = m.get_authorized_session("ci", "keys").unwrap_err();
    assert!(matches!(denied, SessionError::PermissionDenied { .. }));
    assert_eq!(denied.kind(), ErrorKind::AccessDenied);
    assert!(m.get_authorized_session("nobody", "role").is_err());
    // an Azure session in the same file: the typed accessors say which kind a name is
    assert_eq!(m.azure_session("az").unwrap().tenant_id(), Some("contoso"));
    let wrong = m.aws_session("az").unwrap_err();
    assert!(wrong.to_string().contains("is an Azure session"), "{wrong}");
    assert!(m.get_authorized_session("ci", "role").unwrap().as_aws().is_some());
    assert!(matches!(m.get_session("nope").unwrap_err(), SessionError::UnknownSession(_)));
    // the judge is strict: the same declarations with a wrong secret are unhealthy, refused
    let wrong = CloudSessionManager::from_yaml(&yaml, options(&front, &wrong_secret(&env))).await.unwrap();
    for name in ["keys", "role"] {
        let h = wrong.check_health(name).await.unwrap();
        assert!(!h.healthy, "{name} with a wrong secret: {h:?}");
        assert_eq!(h.error_kind, Some(ErrorKind::NotAuthorized), "{name}: {h:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_role_session_refreshes_once_for_an_sdk_client() {
    let front = strict_front().await;
    let env = strict_env().await;
    let clock = ManualClock::new(core_types::SystemClock.now());
    let mut opts = options(&front, &env);
    opts = opts.clock(Arc::new(clock.clone()));
    opts = opts.refresh_window(RefreshPolicy::new(Duration::from_secs(300)));
    let m = CloudSessionManager::from_yaml(KINDS, opts).await.unwrap();
    let sts = aws_sdk_sts::Client::new(m.aws_session("role").unwrap().sdk_config());
    sts.get_caller_identity().send().await.expect("first call");
    assert_eq!(front.calls("sts:AssumeRole"), 1);
    clock.advance(Duration::from_secs(700)); // 900 s credentials: now inside the 300 s window
    for _ in 0..5 {
        sts.get_caller_identity().send().await.expect("no ExpiredToken across expiry");
    }
    assert_eq!(front.calls("sts:AssumeRole"), 2, "exactly one refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_retries_transient_faults_but_never_auth_failures() {
    let front = strict_front().await;
    let env = strict_env().await;
    let m = CloudSessionManager::from_yaml(KINDS, options(&front, &env)).await.unwrap();
    front.inject("sts:GetCallerIdentity", None, 1, Fault::Error(500, "InternalFailure"));
    front.inject("sts:GetCallerIdentity", None, 1, Fault::Error(400, "Throttling"));
    let h = m.check_health("keys").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert_eq!(h.attempts, 3);
    let before = front.calls("sts:GetCallerIdentity");
    front.inject("sts:GetCallerIdentity", None, 10, Fault::Error(403, "InvalidClientTokenId"));
    let h = m.check_health("keys").await.unwrap();
    assert!(!h.healthy);
    assert_eq!(h.attempts, 1, "auth failures are not retried");
    assert_eq!(h.error_kind, Some(ErrorKind::NotAuthorized));
    assert_eq!(front.calls("sts:GetCallerIdentity") - before, 1);
    // persistent 5xx: retried max times, then reported
    let fresh = strict_front().await;
    let m = CloudSessionManager::from_yaml(KINDS, options(&fresh, &env)).await.unwrap();
    fresh.inject("sts:GetCallerIdentity", None, 100, Fault::Error(503, "ServiceUnavailable"));
    let h = m.check_health("keys").await.unwrap();
    assert_eq!((h.healthy, h.attempts, h.error_kind), (false, 4, Some(ErrorKind::Unavailable)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_renews_and_a_failed_rotation_keeps_the_old_credentials() {
    let front = strict_front().await;
    let env = strict_env().await;
    let m = CloudSessionManager::from_yaml(KINDS, options(&front, &env)).await.unwrap();
    let sts = aws_sdk_sts::Client::new(m.aws_session("role").unwrap().sdk_config());
    sts.get_caller_identity().send().await.unwrap();
    m.schedule_rotation("role", Duration::from_millis(100)).unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(front.calls("sts:AssumeRole") >= 3, "{} AssumeRole calls", front.calls("sts:AssumeRole"));
    front.inject("sts:AssumeRole", None, 1000, Fault::Error(403, "AccessDenied"));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let reports = m.rotation_reports();
    assert!(reports.iter().any(|r| r.error.as_deref().is_some_and(|e| e.contains("AccessDenied"))), "{reports:?}");
    sts.get_caller_identity().send().await.expect("the old credentials are still served");
    assert!(m.schedule_rotation("keys", Duration::from_secs(1)).is_err(), "static keys have nothing to rotate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_resolve_from_env_local_store_and_secrets_manager() {
    let front = strict_front().await;
    let env = strict_env().await;
    let sm = aws_sdk_secretsmanager::Client::new(&ccc_tests::strict::admin_config());
    let name = ccc_tests::cognito::unique("app_secret");
    sm.create_secret().name(&name).secret_string("from-secrets-manager").send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = cred_store::TokenStore::at(dir.path().join("tokens.json"));
    cloud_sessions::LocalSecretStore::new(store.clone())
        .put("local_secret", SecretString::from("from-local".to_owned()))
        .unwrap();
    let yaml = format!(
        "cloud_sessions:\n  - name: vault\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/TEST_KEY_ID\n    secret_access_key: ENV/TEST_SECRET\n  - name: app\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAAPPEXAMPLE\n    secret_access_key: SEC/{name}\n  - name: local\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIALOCALEXAMPLE\n    secret_access_key: SEC/local_secret\nsecrets_manager:\n  cloud_stores:\n    aws:\n      store_type: aws\n      priority: 100\n      session_name: vault\n    mine:\n      store_type: local\n      priority: 10\n"
    );
    let mut opts = options(&front, &env);
    opts = opts.token_store(store.clone());
    let m = CloudSessionManager::from_yaml(&yaml, opts).await.unwrap();
    let creds = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        &m.aws_session("app").unwrap().credentials_provider(),
    )
    .await
    .unwrap();
    assert_eq!(creds.secret_access_key(), "from-secrets-manager");
    let creds = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        &m.aws_session("local").unwrap().credentials_provider(),
    )
    .await
    .unwrap();
    assert_eq!(creds.secret_access_key(), "from-local");
    assert!(front.calls("secretsmanager:GetSecretValue") >= 2, "the higher-priority store was asked first");

    // missing references name themselves and where they are used
    let e = CloudSessionManager::from_yaml(KINDS, options(&front, &Arc::new(Vec::new()))).await.unwrap_err();
    assert!(
        e.to_string().contains("ENV/TEST_KEY_ID") && e.to_string().contains("cloud_sessions[0].access_key_id"),
        "{e}"
    );
    let mut opts = options(&front, &env);
    opts = opts.token_store(store);
    let e =
        CloudSessionManager::from_yaml(&yaml.replace("SEC/local_secret", "SEC/missing_one"), opts).await.unwrap_err();
    assert!(e.to_string().contains("SEC/missing_one") && e.to_string().contains("not found"), "{e}");
    assert!(!e.to_string().contains("from-"), "no secret values in errors: {e}");
}

/// An extended session renews itself: across three credential lifetimes on a manual clock
/// (the front moves STS's expirations with it), clients built on it sign with valid
/// credentials every time and STS is asked once per lifetime, for IAM-user keys
/// (GetSessionToken) and for a role (AssumeRole with the duration).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_sessions_renew_across_three_lifetimes() {
    #[allow(clippy::disallowed_methods)]
    let start = std::time::SystemTime::now();
    let life = Duration::from_secs(900);
    for (name, operation) in [("keys", "sts:GetSessionToken"), ("role", "sts:AssumeRole")] {
        let front = strict_front().await;
        let env = strict_env().await;
        let clock = ManualClock::new(start);
        let m =
            CloudSessionManager::from_yaml(KINDS, options(&front, &env).clock(Arc::new(clock.clone()))).await.unwrap();
        let ext = m.extended_session(name, life).await.unwrap();
        let sts = aws_sdk_sts::Client::new(ext.sdk_config());
        for lifetime in 0..3u32 {
            // the test's clock is `lifetime` lives ahead of moto's
            front.set_sts_clock_offset(life * lifetime);
            clock.set(start + life * lifetime);
            for _ in 0..6 {
                sts.get_caller_identity().send().await.unwrap();
                let c = ext.credentials().await.unwrap();
                assert!(c.expiration().unwrap() > clock.now(), "{name}: handed out after expiry");
                assert!(c.session_token().is_some());
                clock.advance(Duration::from_secs(100));
            }
            assert_eq!(front.calls(operation), lifetime as usize + 1, "{name}: one {operation} per lifetime");
        }
        assert!(ext.time_until_expiry().await > Duration::ZERO);
    }
}

/// What cannot be extended says why: session credentials (here keys with a session token)
/// cannot call GetSessionToken; the error gives the limits per credential type and the role
/// route. A duration GetSessionToken refuses is refused before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extending_session_credentials_says_why_and_what_to_do() {
    let front = strict_front().await;
    let env = strict_env().await;
    let yaml = "cloud_sessions:\n  - name: tmp\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/TEST_KEY_ID\n    secret_access_key: ENV/TEST_SECRET\n    session_token: ENV/TEST_SECRET\n";
    let m = CloudSessionManager::from_yaml(yaml, options(&front, &env)).await.unwrap();
    let e = m.extended_session("tmp", Duration::from_secs(3600)).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("cannot call GetSessionToken with session credentials"), "{text}");
    assert!(
        text.contains("role_arn with duration_seconds") && text.contains("IAM user keys: GetSessionToken, up to 36 h")
    );
    assert!(text.contains("IAM Identity Center: the permission set's session duration"), "{text}");
    assert_eq!(e.kind(), ErrorKind::NotConfigured);
    let m = CloudSessionManager::from_yaml(KINDS, options(&front, &env)).await.unwrap();
    let e = m.extended_session("keys", Duration::from_secs(37 * 3600)).await.unwrap_err();
    assert!(e.to_string().contains("900 s to 36 h"), "{e}");
    assert_eq!(front.calls("sts:GetSessionToken"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cognito_session_keeps_a_ccc_user_signed_in_and_rotates() {
    use ccc_tests::cognito::{pool, sign_in};
    let pool = pool().await;
    pool.user("sessions-carol", true).await;
    let tokens = sign_in(&pool.auth(cognito_auth::AuthFlow::Srp, false), "sessions-carol").await;
    // what `ccc configure` and `ccc login` leave behind
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    let mut cognito = cognito_auth::CognitoConfig::new(&pool.pool_id, &pool.client_id, "us-east-1");
    cognito.identity_pool_id = Some(pool.identity_pool_id.clone());
    let mut config = cred_store::CccConfig::default();
    cognito.write_to(&mut config);
    cred_store::save_config(&paths, &config).unwrap();
    let store = cred_store::TokenStore::new(&paths);
    store.put(&cognito_auth::CognitoSource::token_key(&pool.pool_id, "sessions-carol"), &tokens).unwrap();
    let yaml = "cloud_sessions:\n  - name: cog\n    session_type: aws\n    region: us-east-1\n    cognito: default\n    username: sessions-carol\n  - name: nobody\n    session_type: aws\n    region: us-east-1\n    cognito: default\n    username: never-logged-in\n";
    let options = ManagerOptions::default()
        .endpoint_url(ccc_tests::peer("CCC_TEST_AWS_ENDPOINT"))
        .paths(paths.clone())
        .retry(RetryPolicy::new(1, Duration::from_millis(10)));
    let m = CloudSessionManager::from_yaml(yaml, options).await.unwrap();
    let h = m.check_health("cog").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert!(h.arn.is_some());
    // the credentials are cached per pool, client and user, for the next process (cognito-auth's
    // CognitoProfile owns the entry: a hash of what decides it)
    let cached: Vec<String> = std::fs::read_dir(paths.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cognito-") && n.ends_with(".json"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    // rotation goes back to Cognito (refresh token → identity pool) and installs the result
    let before = m.aws_session("cog").unwrap().credentials_provider().provide_credentials().await.unwrap();
    m.schedule_rotation("cog", Duration::from_millis(200)).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let reports = m.rotation_reports();
    assert!(!reports.is_empty() && reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let after = m.aws_session("cog").unwrap().credentials_provider().provide_credentials().await.unwrap();
    // (moto hands out the same identity keys every time; the expiry moves on)
    assert!(after.expiry() > before.expiry(), "rotated: {:?} then {:?}", before.expiry(), after.expiry());
    // a user who never signed in: a clear, typed failure naming the fix
    let h = m.check_health("nobody").await.unwrap();
    assert!(!h.healthy);
    assert!(h.error.as_deref().unwrap_or_default().contains("sign in first"), "{h:?}");
    assert_eq!(h.attempts, 1, "not retried: signing in again is the user's move");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_session_gets_role_credentials_through_sso_refresh() {
    use ccc_tests::sso_stub::{SsoStub, seed_home};
    let now = core_types::SystemClock.now();
    let ms = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let stub = SsoStub::start(ms, 3_600_000).await;
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    seed_home(&paths, "corp-dev", &stub, now + Duration::from_secs(4 * 3600));
    let db = home.path().join("ledger.db");
    let db = db.to_str().unwrap().to_owned();
    let yaml =
        "cloud_sessions:\n  - name: sso\n    session_type: aws\n    region: eu-west-1\n    sso_profile: corp-dev\n";
    let options = ManagerOptions::default()
        .endpoint_url(stub.url.clone())
        .paths(paths.clone())
        .env(move |k| (k == "AWS_CREDENTIALS_DB_PATH").then(|| db.clone()));
    let m = CloudSessionManager::from_yaml(yaml, options).await.unwrap();
    let provider = m.aws_session("sso").unwrap().credentials_provider();
    let creds = provider.provide_credentials().await.unwrap();
    assert!(creds.access_key_id().starts_with("ASIASTUB"), "{creds:?}");
    assert_eq!(creds.secret_access_key(), "stub-secret-Developer-111122223333");
    provider.provide_credentials().await.unwrap();
    assert_eq!(stub.calls("GetRoleCredentials"), 1, "cached after the first call");
    // a profile that is not an SSO profile: said at load, naming the session
    let bad =
        "cloud_sessions:\n  - name: sso\n    session_type: aws\n    region: eu-west-1\n    sso_profile: missing\n";
    let options = ManagerOptions::default().paths(paths);
    let e = CloudSessionManager::from_yaml(bad, options).await.unwrap_err();
    assert!(e.to_string().contains("session \"sso\"") && e.to_string().contains("no profile missing"), "{e}");
}

/// The circuit breaker through the fault-injecting front: after the threshold of transient
/// failures in a row a session's checks fail fast (the service sees no more calls) and the
/// report says the circuit is open; after the cool-down one trial goes through and, the
/// service being back, closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_session_opens_its_circuit_and_a_trial_closes_it() {
    #[allow(clippy::disallowed_methods)]
    let clock = ManualClock::new(std::time::SystemTime::now());
    let front = strict_front().await;
    let env = strict_env().await;
    let opts = options(&front, &env).clock(Arc::new(clock.clone())).circuit_breaker(3, Duration::from_secs(30));
    let m = CloudSessionManager::from_yaml(KINDS, opts).await.unwrap();
    front.inject("sts:GetCallerIdentity", None, 3, Fault::Error(503, "ServiceUnavailable"));
    // the retry policy allows four attempts; the third failure opens the circuit, so the
    // fourth fails fast instead of reaching the service
    let r = m.check_health("keys").await.unwrap();
    assert!(!r.healthy && r.attempts == 4, "{r:?}");
    assert!(r.circuit.starts_with("open until"), "{r:?}");
    assert_eq!(front.calls("sts:GetCallerIdentity"), 3);
    // open: no call reaches the service, and the report says why
    let r = m.check_health("keys").await.unwrap();
    assert_eq!(front.calls("sts:GetCallerIdentity"), 3, "failing fast");
    assert!(r.error.as_deref().is_some_and(|e| e.contains("circuit open after 3 transient failures")), "{r:?}");
    assert_eq!(r.error_kind, Some(ErrorKind::Unavailable));
    // the other sessions are not affected
    assert!(m.check_health("role").await.unwrap().healthy);
    // after the cool-down, one trial; the service is back, so the circuit closes
    clock.advance(Duration::from_secs(31));
    assert!(matches!(m.circuit_state("keys"), core_types::CircuitState::HalfOpen { .. }));
    let r = m.check_health("keys").await.unwrap();
    assert!(r.healthy && r.circuit == "closed", "{r:?}");
}
