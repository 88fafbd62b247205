//! cloud-sessions' Azure sessions: azure_identity's credentials through our transport and
//! chain, against the protocol stubs in `ccc_tests::azure_stub` (Entra over HTTPS with a test
//! CA, a fake `az` on PATH). The managed-identity endpoint, read by azure_identity from the
//! process environment, is exercised through the `ccc` binary in crates/ccc/tests/cli/.

use std::sync::Arc;
use std::time::Duration;

use ccc_tests::azure_stub::{Entra, FakeAz, KeyVault, TestCa};
use cloud_sessions::{AttemptOutcome, CloudSessionManager, MANAGEMENT_SCOPE, ManagerOptions, SessionError};
use core_types::{Clock, ErrorKind, Kinded, ManualClock, RefreshPolicy, RetryPolicy};

const TENANT: &str = "contoso";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "sp-secret-Zq8~never-print-me";
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2kifQ.c2ln";

fn options(ca: &TestCa, env: Vec<(&'static str, String)>) -> ManagerOptions {
    ManagerOptions::default()
        .env(move |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .retry(RetryPolicy::new(3, Duration::from_millis(10)))
        .http_client(ca.client())
}

fn sp_yaml(entra: &Entra) -> String {
    format!(
        "cloud_sessions:\n  - name: sp\n    session_type: azure\n    tenant_id: {TENANT}\n    client_id: ENV/SP_CLIENT\n    client_secret: ENV/SP_SECRET\n    subscription_id: sub-1\n    authority_host: {}\n",
        entra.authority
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_principal_signs_in_over_https_and_tokens_are_cached() {
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let env = vec![("SP_CLIENT", CLIENT.to_owned()), ("SP_SECRET", SECRET.to_owned())];
    let m = CloudSessionManager::from_yaml(&sp_yaml(&entra), options(&ca, env)).await.unwrap();
    let s = m.azure_session("sp").unwrap();
    let first = s.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(first.token.secret(), "entra-token-1");
    // cached: a second caller and the credential handed to SDK clients share the token
    let again = s.credential().get_token(&[MANAGEMENT_SCOPE], None).await.unwrap();
    assert_eq!(again.token.secret(), "entra-token-1");
    assert_eq!(entra.calls(), 1);
    // the wire: client credentials for the asked scope, to the tenant's v2 endpoint
    let form = &entra.forms()[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], MANAGEMENT_SCOPE);
    // another scope is another token
    s.token(&["https://vault.azure.net/.default"]).await.unwrap();
    assert_eq!(entra.calls(), 2);
    let h = m.check_health("sp").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert_eq!(h.credential.as_deref(), Some("service principal"));
    assert_eq!(h.account.as_deref(), Some("sub-1"));
    assert_eq!(entra.calls(), 2, "the health check used the cached token");
    for text in [format!("{m:?}"), format!("{s:?}"), format!("{first:?}"), format!("{h:?}")] {
        assert!(!text.contains(SECRET) && !text.contains("entra-token-1"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_rejected_once_and_never_echoed() {
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let wrong = "wrong-secret-5x9";
    let env = vec![("SP_CLIENT", CLIENT.to_owned()), ("SP_SECRET", wrong.to_owned())];
    let m = CloudSessionManager::from_yaml(&sp_yaml(&entra), options(&ca, env)).await.unwrap();
    let h = m.check_health("sp").await.unwrap();
    assert!(!h.healthy);
    assert_eq!(h.error_kind, Some(ErrorKind::NotAuthorized), "{h:?}");
    assert_eq!(h.attempts, 1, "auth failures are not retried");
    assert_eq!(entra.calls(), 1, "nor retried by the Azure pipeline");
    let e = h.error.unwrap();
    assert!(e.contains("AADSTS7000215") && e.contains("service principal: rejected"), "{e}");
    assert!(!e.contains(wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_entra_failures_are_retried_until_a_token_comes() {
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    entra.fail_next(&[503, 429]);
    let env = vec![("SP_CLIENT", CLIENT.to_owned()), ("SP_SECRET", SECRET.to_owned())];
    let m = CloudSessionManager::from_yaml(&sp_yaml(&entra), options(&ca, env)).await.unwrap();
    let h = m.check_health("sp").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert_eq!(entra.calls(), 3, "two faults, then the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_identity_posts_the_federated_token_file() {
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, ASSERTION).unwrap();
    let yaml = format!(
        "cloud_sessions:\n  - name: wi\n    session_type: azure\n    tenant_id: {TENANT}\n    client_id: {CLIENT}\n    federated_token_file: {}\n    authority_host: {}\n",
        file.display(),
        entra.authority
    );
    let m = CloudSessionManager::from_yaml(&yaml, options(&ca, vec![])).await.unwrap();
    let h = m.check_health("wi").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert_eq!(h.credential.as_deref(), Some("workload identity"));
    let form = &entra.forms()[0];
    assert_eq!(form["client_assertion"], ASSERTION);
    assert!(!form.contains_key("client_secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_reports_what_it_skipped_and_keeps_the_identity_that_answered() {
    let ca = TestCa::new();
    let az = FakeAz::signed_in(3600);
    let yaml = "cloud_sessions:\n  - name: auto\n    session_type: azure\n";
    let m = CloudSessionManager::from_yaml(yaml, options(&ca, vec![("PATH", az.path())])).await.unwrap();
    let s = m.azure_session("auto").unwrap();
    let t = s.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(t.token.secret(), "az-access-token-1");
    assert_eq!(s.answered_by(), Some("azure cli"));
    let attempts = s.attempts();
    let names: Vec<&str> = attempts.iter().map(|a| a.credential).collect();
    assert_eq!(names, ["environment", "workload identity", "managed identity", "azure cli"]);
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Skipped("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set".into())
    );
    assert!(matches!(&attempts[1].outcome, AttemptOutcome::Skipped(r) if r.contains("AZURE_FEDERATED_TOKEN_FILE")));
    assert!(matches!(attempts[2].outcome, AttemptOutcome::Unavailable(_)), "{:?}", attempts[2]);
    assert_eq!(attempts[3].outcome, AttemptOutcome::Answered);
    assert_eq!(az.calls(), [format!("account get-access-token -o json --scope {MANAGEMENT_SCOPE}")]);
    // once answered, the session stays with that identity: a failing CLI is an error, not a
    // silent switch to whatever else might answer
    az.sign_out();
    let e = s.token(&["https://storage.azure.com/.default"]).await.unwrap_err();
    assert!(e.to_string().contains("does not switch to another identity"), "{e}");
    assert!(e.to_string().contains("az login"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_configured_says_what_to_do() {
    let ca = TestCa::new();
    let az = FakeAz::signed_in(3600);
    az.sign_out();
    let yaml = "cloud_sessions:\n  - name: cli\n    session_type: azure\n    use_azure_cli: true\n";
    let m = CloudSessionManager::from_yaml(yaml, options(&ca, vec![("PATH", az.path())])).await.unwrap();
    let h = m.check_health("cli").await.unwrap();
    assert!(!h.healthy);
    assert_eq!(h.error_kind, Some(ErrorKind::NotConfigured));
    assert_eq!(h.attempts, 1, "a signed-out CLI is not a transient failure");
    assert!(h.error.as_deref().unwrap_or_default().contains("az login"), "{h:?}");
    // no az at all
    let m = CloudSessionManager::from_yaml(yaml, options(&ca, vec![("PATH", "/nonexistent".into())])).await.unwrap();
    let e = m.azure_session("cli").unwrap().token(&[MANAGEMENT_SCOPE]).await.unwrap_err();
    assert!(matches!(e, SessionError::Azure { .. }));
    assert_eq!(e.kind(), ErrorKind::NotConfigured);
    assert!(e.to_string().contains("az not found on PATH"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_token_is_renewed_once_inside_the_refresh_window() {
    let ca = TestCa::new();
    let az = FakeAz::signed_in(3600);
    let clock = ManualClock::new(core_types::SystemClock.now());
    let mut opts = options(&ca, vec![("PATH", az.path())]);
    opts = opts.clock(Arc::new(clock.clone()));
    opts = opts.refresh_window(RefreshPolicy::new(Duration::from_secs(300)));
    let yaml = "cloud_sessions:\n  - name: cli\n    session_type: azure\n    use_azure_cli: true\n";
    let m = CloudSessionManager::from_yaml(yaml, opts).await.unwrap();
    let s = m.azure_session("cli").unwrap();
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), "az-access-token-1");
    clock.advance(Duration::from_secs(3000)); // 600 s left: still fresh
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), "az-access-token-1");
    clock.advance(Duration::from_secs(400)); // 200 s left: inside the window
    az.sign_in(7200); // (the fake CLI's expiries run on the real clock; the next outlives the jump)
    let (a, b) = tokio::join!(s.token(&[MANAGEMENT_SCOPE]), s.token(&[MANAGEMENT_SCOPE]));
    assert_eq!(a.unwrap().token.secret(), "az-access-token-2");
    assert_eq!(b.unwrap().token.secret(), "az-access-token-2");
    assert_eq!(az.calls().len(), 2, "concurrent callers share one renewal");
    assert_eq!(s.fetches(), 2);
    // a failed renewal inside the window keeps serving the still-valid token
    clock.advance(Duration::from_secs(3550)); // 250 s left of token 2
    az.sign_out();
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), "az-access-token-2");
    clock.advance(Duration::from_secs(300)); // now expired: no stale token is served
    assert!(s.token(&[MANAGEMENT_SCOPE]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_renews_cached_tokens_and_a_failed_rotation_keeps_them() {
    let ca = TestCa::new();
    let az = FakeAz::signed_in(3600);
    let yaml = "cloud_sessions:\n  - name: cli\n    session_type: azure\n    use_azure_cli: true\n";
    let mut opts = options(&ca, vec![("PATH", az.path())]);
    opts = opts.retry(RetryPolicy::none());
    let m = CloudSessionManager::from_yaml(yaml, opts).await.unwrap();
    let s = m.azure_session("cli").unwrap();
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), "az-access-token-1");
    m.schedule_rotation("cli", Duration::from_millis(150)).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let rotated = s.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_ne!(rotated.token.secret(), "az-access-token-1", "rotation fetched a new token");
    assert!(m.rotation_reports().iter().all(|r| r.error.is_none()), "{:?}", m.rotation_reports());
    az.sign_out();
    tokio::time::sleep(Duration::from_millis(50)).await; // (a rotation already running may finish)
    let current = s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret().to_owned();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(m.rotation_reports().iter().any(|r| r.error.as_deref().is_some_and(|e| e.contains("az login"))));
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), current, "the valid token is kept");
}

/// The secret access key the `app` session reads from the vault.
async fn secret_key_of(m: &CloudSessionManager, session: &str) -> String {
    let creds = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        &m.aws_session(session).unwrap().credentials_provider(),
    )
    .await
    .unwrap();
    creds.secret_access_key().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_vault_serves_sec_references_through_an_azure_session() {
    use cloud_sessions::LocalSecretStore;
    use core_types::SecretString;
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let vault = KeyVault::start(&ca, &[("app-secret", "kv-app-secret-R2d7"), ("shared", "kv-shared-value-9Qx")]).await;
    let dir = tempfile::tempdir().unwrap();
    let tokens = cred_store::TokenStore::at(dir.path().join("tokens.json"));
    let local = LocalSecretStore::new(tokens.clone());
    for (name, value) in [("shared", "local-shared-value-4Lm"), ("only_local", "local-only-value-8Np")] {
        ccc_tests::leak::secret(value);
        local.put(name, SecretString::from(value.to_owned())).unwrap();
    }
    // the vault's session is declared after the sessions that need the vault's secrets
    let yaml = format!(
        "cloud_sessions:\n  - name: app\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAAPPEXAMPLE\n    secret_access_key: SEC/app-secret\n  - name: both\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIABOTHEXAMPLE\n    secret_access_key: SEC/shared\n  - name: legacy\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIALEGACYEXAMPLE\n    secret_access_key: SEC/only_local\n  - name: kv\n    session_type: azure\n    tenant_id: {TENANT}\n    client_id: ENV/SP_CLIENT\n    client_secret: ENV/SP_SECRET\n    authority_host: {}\nsecrets_manager:\n  cloud_stores:\n    vault:\n      store_type: azure\n      priority: 200\n      vault_url: {}\n      session_name: kv\n    mine:\n      store_type: local\n      priority: 10\n",
        entra.authority, vault.url
    );
    let opts = || {
        options(&ca, vec![("SP_CLIENT", CLIENT.to_owned()), ("SP_SECRET", SECRET.to_owned())])
            .token_store(tokens.clone())
    };
    let m = CloudSessionManager::from_yaml(&yaml, opts()).await.unwrap();
    assert_eq!(secret_key_of(&m, "app").await, "kv-app-secret-R2d7");
    assert_eq!(secret_key_of(&m, "both").await, "kv-shared-value-9Qx", "the higher-priority store answers first");
    assert_eq!(secret_key_of(&m, "legacy").await, "local-only-value-8Np", "not a Key Vault name: the next store");
    // the wire, as the Azure SDK's SecretClient speaks it: a first request without a token
    // draws the vault's challenge, which names the audience; one Entra token for it, cached
    // across lookups; Key Vault's REST shape with that token
    assert_eq!(entra.calls(), 1);
    assert_eq!(entra.forms()[0]["scope"], "https://vault.azure.net/.default");
    let requests = vault.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!((requests[0].0.as_str(), requests[0].2.as_deref()), ("/secrets/app-secret/", None), "the challenge");
    // (the SDK's path: `/secrets/{name}/{version}`, the version empty for the latest)
    assert_eq!(requests[1].0, "/secrets/app-secret/");
    assert_eq!(requests[2].0, "/secrets/shared/");
    for (_, query, _) in &requests {
        assert_eq!(query, &format!("api-version={}", cloud_sessions::KEY_VAULT_API_VERSION));
    }
    for (_, _, auth) in &requests[1..] {
        assert_eq!(auth.as_deref(), Some("Bearer entra-token-1"));
    }
    assert!(!format!("{m:?}").contains("kv-"), "no secret in Debug output");

    // a secret in no store: the error names the reference and every store's answer
    let e = CloudSessionManager::from_yaml(&yaml.replace("SEC/app-secret", "SEC/nowhere"), opts()).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("SEC/nowhere") && text.contains("cloud_sessions[0].secret_access_key"), "{text}");
    assert!(
        text.contains(&format!("Azure Key Vault {}: not found", ccc_tests::azure_stub::VAULT_HOST))
            && text.contains("local token store: not found"),
        "{text}"
    );

    // a busy vault is retried per the policy (throttling honours Retry-After)
    vault.fail_next(&[503, 429]);
    let m = CloudSessionManager::from_yaml(&yaml, opts()).await.unwrap();
    assert_eq!(secret_key_of(&m, "app").await, "kv-app-secret-R2d7");
    let before = vault.requests().len();
    vault.fail_next(&[503, 503, 503, 503]);
    let e = CloudSessionManager::from_yaml(&yaml, opts()).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 503 Throttled") && e.to_string().contains("busy"), "{e}");
    assert_eq!(vault.requests().len() - before, 4, "1 attempt + 3 retries, then the next store");

    // a stalled vault costs one attempt (the manager's attempt_timeout), then a retry answers
    let before = vault.requests().len();
    vault.fail_next(&[ccc_tests::azure_stub::STALL]);
    let started = std::time::Instant::now();
    let stalling = || opts().attempt_timeout(Duration::from_millis(500));
    let m = CloudSessionManager::from_yaml(&yaml, stalling()).await.unwrap();
    assert_eq!(secret_key_of(&m, "app").await, "kv-app-secret-R2d7");
    assert!(started.elapsed() < Duration::from_secs(10), "the stall cost one attempt: {:?}", started.elapsed());
    assert!(vault.requests().len() - before >= 2, "stalled, then retried");

    // the identity loses its role on the vault: the vault's answer and what to do, no
    // secrets, and no retries
    vault.deny();
    let before = vault.requests().len();
    let e = CloudSessionManager::from_yaml(&yaml, opts()).await.unwrap_err();
    assert_eq!(vault.requests().len() - before, 2, "the challenge, then the denial, not retried");
    let text = e.to_string();
    assert!(text.contains("HTTP 403 Forbidden") && text.contains("Key Vault Secrets User"), "{text}");
    for secret in [SECRET, "kv-app-secret-R2d7", "local-shared-value-4Lm", "entra-token"] {
        assert!(!text.contains(secret), "{text}");
    }

    // a vault (or an impostor) whose challenge names an audience outside the vault's domain
    // gets no token
    vault.challenge_for("https://vault.example.org");
    let calls = entra.calls();
    let e = CloudSessionManager::from_yaml(&yaml, opts()).await.unwrap_err();
    assert!(e.to_string().contains("doesn't match the requested domain"), "{e}");
    assert_eq!(entra.calls(), calls, "no token asked for another audience");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_whose_session_needs_the_vault_says_so() {
    let ca = TestCa::new();
    let vault = KeyVault::start(&ca, &[("sp-secret", SECRET)]).await;
    // the vault's own session takes its secret from the vault: nothing can answer
    let yaml = format!(
        "cloud_sessions:\n  - name: kv\n    session_type: azure\n    tenant_id: {TENANT}\n    client_id: {CLIENT}\n    client_secret: SEC/sp-secret\nsecrets_manager:\n  cloud_stores:\n    vault:\n      store_type: azure\n      vault_url: {}\n      session_name: kv\n",
        vault.url
    );
    let e = CloudSessionManager::from_yaml(&yaml, options(&ca, vec![])).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("SEC/sp-secret") && text.contains("not ready"), "{text}");
    assert!(vault.requests().is_empty());
    assert!(!text.contains(SECRET));
}

/// A developer's browser sign-in, built on oauth-pkce (azure_identity 1.0 has no interactive
/// credential) against the tenant's v2.0 authority, oidc-provider standing in for Entra ID:
/// before the sign-in the session says what to do; after it, tokens for two resources come
/// from the kept refresh token, one redemption per scope set (counted at the provider), and
/// the refresh token rotates in the token store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_browser_sign_in_against_an_entra_like_tenant() {
    use core_types::ExposeSecret;
    let issuer = ccc_tests::peer("CCC_TEST_OIDC_ISSUER");
    let dir = tempfile::tempdir().unwrap();
    let store = cred_store::TokenStore::at(dir.path().join("tokens.json"));
    let yaml = format!(
        "cloud_sessions:\n  - name: dev\n    session_type: azure\n    tenant_id: ccc-tenant\n    client_id: azure-dev\n    authority_host: {issuer}\n    use_interactive_browser: true\n"
    );
    let options =
        ManagerOptions::default().token_store(store.clone()).retry(RetryPolicy::new(1, Duration::from_millis(10)));
    let m = CloudSessionManager::from_yaml(&yaml, options).await.unwrap();
    let before = m.check_health("dev").await.unwrap();
    assert!(!before.healthy, "{before:?}");
    assert!(before.error.as_deref().is_some_and(|e| e.contains("not signed in")), "{before:?}");

    // a user of its own: the provider's counters outlive one test run
    let user = ccc_tests::cognito::unique("azure-dana");
    let session = m.azure_session("dev").unwrap();
    let vault = "https://vault.azure.net/.default";
    session
        .browser_sign_in(
            &[MANAGEMENT_SCOPE, vault],
            |url| {
                // the person at the browser: oidc-provider's development login
                let (url, user) = (url.to_string(), user.clone());
                tokio::spawn(async move { ccc_tests::oidc::drive(&url, &user, "x", None).await });
                true
            },
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let key = cred_store::TokenKey::new("azure-browser", format!("{issuer}/ccc-tenant/v2.0"), "azure-dev");
    let first_refresh = store.get(&key).unwrap().unwrap().refresh_token.unwrap().expose_secret().to_owned();
    ccc_tests::leak::secret(&first_refresh);

    let counter = format!("tenant:refresh_token:{user}");
    let grants = || ccc_tests::oidc::token_requests(&counter);
    let after = m.check_health("dev").await.unwrap();
    assert!(after.healthy && after.credential.as_deref() == Some("interactive browser"), "{after:?}");
    session.token(&[vault]).await.unwrap();
    session.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(grants().await, 2, "one redemption per scope set; the second ARM token came from the cache");
    let rotated = store.get(&key).unwrap().unwrap().refresh_token.unwrap().expose_secret().to_owned();
    assert_ne!(rotated, first_refresh, "the rotated refresh token is kept");
}

/// The chain without YAML: `AzureSession::builder` hands any Azure SDK client the same caching
/// `TokenCredential` a declared session gets (a service principal over HTTPS here), and the
/// chain built from the environment reports which credential answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_is_a_token_credential_without_yaml() {
    use azure_core::credentials::TokenCredential;
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let session = cloud_sessions::AzureSession::builder("in-code")
        .tenant_id(TENANT)
        .client_id(CLIENT)
        .client_secret(core_types::SecretString::from(SECRET.to_owned()))
        .authority_host(entra.authority.clone())
        .options(options(&ca, vec![]))
        .build();
    let credential: Arc<dyn TokenCredential> = session.credential();
    assert_eq!(credential.get_token(&[MANAGEMENT_SCOPE], None).await.unwrap().token.secret(), "entra-token-1");
    credential.get_token(&[MANAGEMENT_SCOPE], None).await.unwrap();
    assert_eq!(entra.calls(), 1, "cached");
    assert_eq!(session.answered_by(), Some("service principal"));
    assert!(!format!("{session:?}").contains(SECRET));

    let env = vec![
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT.to_owned()),
        ("AZURE_CLIENT_SECRET", SECRET.to_owned()),
        ("AZURE_AUTHORITY_HOST", entra.authority.clone()),
    ];
    let chained = cloud_sessions::AzureSession::builder("from-env").options(options(&ca, env)).build();
    chained.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(chained.answered_by(), Some("environment"));
    assert_eq!(chained.attempts()[0].outcome, AttemptOutcome::Answered);
}

/// With a token store (`ManagerOptions::azure_token_cache`), a second manager, as a second
/// process would, is served the kept token without asking Entra; an identity declared another
/// way (the environment's chain) is another entry, asked of Entra; signing out forgets every
/// kept scope set, and the next manager asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_tokens_serve_the_next_process_and_identities_stay_apart() {
    let ca = TestCa::new();
    let entra = Entra::start(&ca, TENANT, CLIENT, SECRET, ASSERTION).await;
    let tmp = tempfile::tempdir().unwrap();
    let store = cred_store::TokenStore::at(tmp.path().join("tokens.json"));
    let env = vec![("SP_CLIENT", CLIENT.to_owned()), ("SP_SECRET", SECRET.to_owned())];
    let manager = async || {
        let options = options(&ca, env.clone()).azure_token_cache(store.clone());
        CloudSessionManager::from_yaml(&sp_yaml(&entra), options).await.unwrap()
    };
    let first = manager().await;
    let token = first.azure_session("sp").unwrap().token(&[MANAGEMENT_SCOPE]).await.unwrap();
    first.azure_session("sp").unwrap().token(&["https://vault.azure.net/.default"]).await.unwrap();
    assert_eq!(entra.calls(), 2);

    let second = manager().await;
    let s = second.azure_session("sp").unwrap();
    assert_eq!(s.token(&[MANAGEMENT_SCOPE]).await.unwrap().token.secret(), token.token.secret());
    assert_eq!(entra.calls(), 2, "served from the token store");
    assert_eq!(s.fetches(), 0);
    assert_eq!(s.answered_by(), Some("service principal"));
    let text = std::fs::read_to_string(tmp.path().join("tokens.json")).unwrap();
    assert!(!text.contains(SECRET), "the client secret is never kept");

    // the same tenant and client through the environment's chain: another identity
    let chain_env = vec![
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT.to_owned()),
        ("AZURE_CLIENT_SECRET", SECRET.to_owned()),
        ("AZURE_AUTHORITY_HOST", entra.authority.clone()),
    ];
    let chained = cloud_sessions::AzureSession::builder("from-env")
        .options(options(&ca, chain_env.clone()).azure_token_cache(store.clone()))
        .build();
    chained.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(entra.calls(), 3, "not the declared service principal's entry");

    assert_eq!(s.sign_out().unwrap(), 2, "both scope sets");
    let third = manager().await;
    third.azure_session("sp").unwrap().token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(entra.calls(), 4, "asked again after the sign-out");
    // the chain's entry was not the session's to forget
    let again = cloud_sessions::AzureSession::builder("from-env")
        .options(options(&ca, chain_env).azure_token_cache(store.clone()))
        .build();
    again.token(&[MANAGEMENT_SCOPE]).await.unwrap();
    assert_eq!(entra.calls(), 4);
}
