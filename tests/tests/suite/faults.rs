//! Peer faults below HTTP: a TCP proxy in front of moto and oidc-provider resets, stalls,
//! answers 503 + Retry-After, or the address refuses connections. Every library retries per
//! its RetryPolicy within a bounded time, then returns a typed error; auth failures are
//! never retried. AWS calls go to the strict moto (a real IAM user's key, judged). (HTTP-level AWS error codes — 500, throttling — are injected by the moto
//! front in tests/tests/suite/sessions.rs.)

use std::time::{Duration, Instant};

use ccc_tests::peer;
use ccc_tests::proxy::{FaultProxy, TcpFault, refused_url};
use cloud_sessions::{CloudSessionManager, ManagerOptions};
use core_types::{ErrorKind, Kinded, RetryPolicy, SecretString};
use oauth_pkce::{Endpoints, OAuthClient, OAuthConfig};

const STALL: TcpFault = TcpFault::Stall(Duration::from_secs(10));
const ATTEMPT: Duration = Duration::from_secs(1);

/// A policy whose whole sleeping budget is small: total time is bounded by
/// attempts × attempt timeout + that budget.
fn policy() -> RetryPolicy {
    RetryPolicy::new(3, Duration::from_millis(20))
}

/// A keys session of a new IAM user of the strict endpoint (which refuses a key it never
/// issued), reached through `endpoint`.
async fn sessions(endpoint: &str) -> CloudSessionManager {
    let user = ccc_tests::strict::user("faults").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let yaml = format!(
        "cloud_sessions:\n  - name: keys\n    session_type: aws\n    region: us-east-1\n    access_key_id: {}\n    secret_access_key: ENV/SECRET\n",
        user.access_key_id
    );
    let secret = user.secret_access_key;
    let options = ManagerOptions::default()
        .endpoint_url(endpoint.to_owned())
        .env(move |k| (k == "SECRET").then(|| secret.clone()))
        .retry(policy())
        .attempt_timeout(ATTEMPT);
    CloudSessionManager::from_yaml(&yaml, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_reset_stall_and_503_are_retried_within_a_bounded_time() {
    let proxy = FaultProxy::start(&ccc_tests::strict::endpoint()).await;
    let m = sessions(&proxy.url).await;
    proxy.fail_next(&[TcpFault::Reset, STALL, TcpFault::Status(503)]);
    let start = Instant::now();
    let h = m.check_health("keys").await.unwrap();
    assert!(h.healthy, "{h:?}");
    assert!(h.arn.as_deref().is_some_and(|a| a.contains(":user/faults-")), "the user's own ARN: {h:?}");
    assert_eq!(h.attempts, 4, "reset, stall, 503, then the answer");
    assert_eq!(proxy.requests(), 4);
    let bound = ATTEMPT * 4 + policy().max_total_delay() + Duration::from_secs(2);
    assert!(start.elapsed() < bound, "the stall cost one attempt timeout, not 10 s: {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_faults_past_the_policy_end_in_a_typed_error() {
    let proxy = FaultProxy::start(&ccc_tests::strict::endpoint()).await;
    let m = sessions(&proxy.url).await;
    proxy.fail_next(&[TcpFault::Reset; 4]);
    let h = m.check_health("keys").await.unwrap();
    assert!(!h.healthy);
    assert_eq!(h.attempts, 4, "1 + 3 retries");
    assert_eq!(h.error_kind, Some(ErrorKind::Unavailable), "{h:?}");
    assert!(h.error.as_deref().unwrap_or_default().contains("sts:GetCallerIdentity"), "{h:?}");
    // nobody listening at all
    let m = sessions(&refused_url().await).await;
    let h = m.check_health("keys").await.unwrap();
    assert_eq!((h.healthy, h.attempts, h.error_kind), (false, 4, Some(ErrorKind::Unavailable)), "{h:?}");
}

/// The oidc-provider's endpoints, with the token endpoint moved behind `base`.
async fn token_endpoint_behind(base: &str) -> Endpoints {
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let mut e: Endpoints =
        reqwest::get(format!("{issuer}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    let token = url::Url::parse(e.token.as_deref().unwrap()).unwrap();
    e.token = Some(format!("{base}{}", token.path()));
    e
}

async fn oauth_client(base: &str, secret: &str) -> OAuthClient {
    oauth_client_with(base, secret, policy()).await
}

async fn oauth_client_with(base: &str, secret: &str, retry: RetryPolicy) -> OAuthClient {
    let mut config = OAuthConfig::new("unused", "ccc-confidential")
        .with_secret(SecretString::from(secret.to_owned()))
        .with_scopes(&["openid"])
        .with_retry(retry)
        .with_attempt_timeout(ATTEMPT);
    config.issuer = None;
    config.endpoints = token_endpoint_behind(base).await;
    OAuthClient::discover(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_token_endpoint_faults_are_retried_and_auth_failures_are_not() {
    let proxy = FaultProxy::start(&peer("CCC_TEST_OIDC_ISSUER")).await;
    let client = oauth_client(&proxy.url, "ccc-confidential-secret").await;
    proxy.fail_next(&[TcpFault::Reset, STALL, TcpFault::Status(503)]);
    let start = Instant::now();
    let tokens = client.sign_in_with_client().await.unwrap();
    assert!(tokens.access_token.is_some());
    assert_eq!(proxy.requests(), 4, "reset, stall, 503, then the token");
    assert!(start.elapsed() < ATTEMPT * 4 + policy().max_total_delay() + Duration::from_secs(2));

    // a refused secret is an answer, not a fault: exactly one request
    let bad = oauth_client(&proxy.url, "not-the-secret").await;
    let before = proxy.requests();
    let e = bad.sign_in_with_client().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
    assert_eq!(proxy.requests() - before, 1);
    assert!(!e.to_string().contains("not-the-secret"));

    // past the policy: a typed, retryable-kind error after 1 + 3 attempts, each retry
    // waiting the second the proxy's Retry-After asks for (the policy's own delays sum to
    // 140 ms at most)
    let before = proxy.requests();
    proxy.fail_next(&[TcpFault::Status(503); 4]);
    let start = Instant::now();
    let e = client.sign_in_with_client().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)), "{e}");
    assert!(e.to_string().contains("503") && e.to_string().contains("Retry-After: 1 s"), "{e}");
    assert_eq!(proxy.requests() - before, 4);
    assert!(start.elapsed() >= Duration::from_secs(3), "Retry-After not honoured: {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_retry_after_beyond_the_policy_ends_the_retries_at_once() {
    let proxy = FaultProxy::start(&peer("CCC_TEST_OIDC_ISSUER")).await;
    // the proxy asks for 1 s; this policy never sleeps more than 500 ms at a time
    let impatient = policy().with_max_delay(Duration::from_millis(500));
    let client = oauth_client_with(&proxy.url, "ccc-confidential-secret", impatient).await;
    proxy.fail_next(&[TcpFault::Status(503)]);
    let e = client.sign_in_with_client().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.to_string().contains("Retry-After: 1 s"), "{e}");
    assert_eq!(proxy.requests(), 1, "no retry sooner than the provider asked");
    // the queued fault is used up: the next call goes through
    assert!(client.sign_in_with_client().await.unwrap().access_token.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_refused_connections_end_in_unavailable() {
    let client = oauth_client(&refused_url().await, "ccc-confidential-secret").await;
    let start = Instant::now();
    let e = client.sign_in_with_client().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(start.elapsed() < ATTEMPT * 4 + policy().max_total_delay());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_grant_that_may_have_arrived_is_never_sent_again() {
    let proxy = FaultProxy::start(&peer("CCC_TEST_OIDC_ISSUER")).await;
    let mut config = OAuthConfig::new("unused", "ccc-confidential")
        .with_secret(SecretString::from("ccc-confidential-secret".to_owned()))
        .with_scopes(&["openid", "offline_access"])
        .with_retry(policy())
        .with_attempt_timeout(ATTEMPT);
    config.issuer = None;
    config.endpoints = token_endpoint_behind(&proxy.url).await;
    let client = OAuthClient::discover(config).await.unwrap();
    ccc_tests::leak::secret("alice-password");
    let tokens = client.sign_in_with_password("alice", &SecretString::from("alice-password".to_owned())).await.unwrap();
    ccc_tests::leak::tokens(&tokens);
    let refresh = tokens.refresh_token.clone().expect("offline_access gives a refresh token");

    // a reset after the request was sent: it may have reached the provider, so it is not
    // sent again (a second copy would spend a rotated token), and the error says so
    let before = proxy.requests();
    proxy.fail_next(&[TcpFault::Reset]);
    let e = client.refresh_token(&refresh).await.unwrap_err();
    assert!(matches!(e, oauth_pkce::OAuthError::MaybeDelivered { .. }), "{e}");
    assert!(e.to_string().contains("not sent again"), "{e}");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(proxy.requests() - before, 1, "sent once");
    // a stall past the attempt deadline: the same
    let before = proxy.requests();
    proxy.fail_next(&[STALL]);
    let e = client.refresh_token(&refresh).await.unwrap_err();
    assert!(matches!(e, oauth_pkce::OAuthError::MaybeDelivered { .. }), "{e}");
    assert_eq!(proxy.requests() - before, 1, "sent once");

    // a 503 is the provider saying it did nothing: sent again, and the (unspent, since the
    // proxy never forwarded the faulted requests) refresh token works
    let before = proxy.requests();
    proxy.fail_next(&[TcpFault::Status(503)]);
    let fresh = client.refresh_token(&refresh).await.expect("retried after the 503");
    ccc_tests::leak::tokens(&fresh);
    assert_eq!(proxy.requests() - before, 2);
    assert!(fresh.id_token.is_some(), "the refreshed ID token came back and was validated");
}
