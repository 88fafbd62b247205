//! oauth-pkce against oidc-provider, a strict OAuth 2 / OIDC server (PKCE S256 enforced,
//! single-use codes, refresh-token rotation), driven headlessly through its dev interactions.

use std::sync::Arc;
use std::time::Duration;

use ccc_tests::oidc::drive;
use ccc_tests::peer;
use core_types::{ErrorKind, ExposeSecret, Kinded, ManualClock, RefreshPolicy, SecretString};
use oauth_pkce::{OAuthClient, OAuthConfig, OAuthError, OAuthSession, PkceVerifier};

const REDIRECT: &str = "http://127.0.0.1/callback";

fn issuer() -> String {
    peer("CCC_TEST_OIDC_ISSUER")
}

async fn public_client() -> OAuthClient {
    let config = OAuthConfig::new(issuer(), "ccc-public")
        .with_scopes(&["openid", "offline_access", "email"])
        .with_redirect_uri(REDIRECT);
    OAuthClient::discover(config).await.unwrap()
}

async fn confidential_client(scopes: &[&str]) -> OAuthClient {
    ccc_tests::leak::secret("ccc-confidential-secret");
    ccc_tests::leak::secret("alice-password");
    let config = OAuthConfig::new(issuer(), "ccc-confidential")
        .with_secret(SecretString::from("ccc-confidential-secret".to_owned()))
        .with_scopes(scopes)
        .with_redirect_uri(REDIRECT);
    OAuthClient::discover(config).await.unwrap()
}

async fn token_requests(grant: &str) -> u64 {
    let counters: serde_json::Value =
        reqwest::get(format!("{}/test/counters", issuer())).await.unwrap().json().await.unwrap();
    counters.get(grant).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// Runs the browser part of a sign-in; returns (code, state) from the redirect.
async fn authorize(url: &url::Url, user: &str) -> (String, String) {
    let back = drive(url.as_str(), user, "any-password", Some(REDIRECT)).await.expect("headless sign-in");
    let back = url::Url::parse(&back).unwrap();
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    (q["code"].clone(), q["state"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_login_through_the_loopback_redirect() {
    let client = public_client().await;
    let driver = std::sync::Mutex::new(None);
    let tokens = client
        .login_with_loopback(
            |url| {
                // the "browser": sign in at the provider and follow the redirect to our port
                let url = url.to_string();
                *driver.lock().unwrap() = Some(tokio::spawn(async move { drive(&url, "alice", "x", None).await }));
                true
            },
            Duration::from_secs(30),
        )
        .await
        .expect("loopback sign-in");
    let handle = driver.lock().unwrap().take().unwrap();
    let page = handle.await.unwrap().unwrap();
    assert!(page.contains("You can close this tab"), "{page}");
    assert!(tokens.refresh_token.is_some(), "offline_access with consent yields a refresh token");
    let id = tokens.id_token.as_ref().expect("OIDC id_token");
    let claims = client.validate_id_token(id, None).await.expect("valid ID token");
    assert_eq!(claims["sub"], "alice");
    assert!(!format!("{tokens:?}").contains(tokens.access_token.as_ref().unwrap().expose_secret()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_single_use_verifiers_must_match_and_state_is_checked_first() {
    let client = public_client().await;
    let (url, verifier, state) = client.authorization_url().unwrap();
    assert!(url.as_str().contains("code_challenge_method=S256"));
    let (code, returned) = authorize(&url, "alice").await;
    let kept = verifier.into_secret();

    // state mismatch: refused before any request reaches the token endpoint
    let before = token_requests("authorization_code").await;
    let e = client.exchange_code(&code, PkceVerifier::from_secret(&kept), "forged-state", &state).await.unwrap_err();
    assert!(matches!(e, OAuthError::StateMismatch), "{e}");
    assert_eq!(token_requests("authorization_code").await, before, "no request was sent");

    let tokens =
        client.exchange_code(&code, PkceVerifier::from_secret(&kept), &returned, &state).await.expect("exchange");
    ccc_tests::leak::tokens(&tokens);
    let claims =
        client.validate_id_token(tokens.id_token.as_ref().unwrap(), state.nonce()).await.expect("nonce matches");
    assert_eq!(claims["sub"], "alice");
    assert!(client.validate_id_token(tokens.id_token.as_ref().unwrap(), Some("other-nonce")).await.is_err());

    // the same code again: refused
    let replay = client.exchange_code(&code, PkceVerifier::from_secret(&kept), &returned, &state).await.unwrap_err();
    assert!(matches!(replay, OAuthError::InvalidGrant(_)), "{replay}");
    assert!(!replay.to_string().contains(&code), "the code must not appear in errors");

    // a fresh code with the wrong verifier: refused
    let (url, _right, state) = client.authorization_url().unwrap();
    let (code, returned) = authorize(&url, "alice").await;
    let (_, wrong, _) = client.authorization_url().unwrap();
    let e = client.exchange_code(&code, wrong, &returned, &state).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_the_old_refresh_token_then_fails() {
    let client = public_client().await;
    let (url, verifier, state) = client.authorization_url().unwrap();
    let (code, returned) = authorize(&url, "bob").await;
    let first = client.exchange_code(&code, verifier, &returned, &state).await.unwrap();
    ccc_tests::leak::tokens(&first);
    let old = first.refresh_token.clone().unwrap();
    let second = client.refresh(&first).await.expect("refresh");
    let new = second.refresh_token.clone().unwrap();
    assert_ne!(old.expose_secret(), new.expose_secret(), "rotated");
    let e = client.refresh_token(&old).await.unwrap_err();
    assert!(matches!(e, OAuthError::InvalidGrant(_)), "{e}");
    // reuse of a rotated refresh token is treated as theft: the provider revokes the chain
    let e = client.refresh(&second).await.unwrap_err();
    assert!(matches!(e, OAuthError::InvalidGrant(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_then_revoke_makes_introspection_inactive() {
    let client = confidential_client(&["api"]).await;
    let tokens = client.sign_in_with_client().await.expect("client credentials");
    ccc_tests::leak::tokens(&tokens);
    let at = tokens.access_token.clone().unwrap();
    assert!(client.introspect(&at).await.unwrap(), "active after issue");
    client.sign_out(&tokens).await.expect("revoke");
    assert!(!client.introspect(&at).await.unwrap(), "inactive after revocation");
    // refresh() falls back to client credentials when there is no refresh token
    assert!(client.refresh(&tokens).await.unwrap().access_token.is_some());
    // a wrong secret is invalid_client
    let bad = OAuthClient::discover(
        OAuthConfig::new(issuer(), "ccc-confidential")
            .with_secret(SecretString::from("wrong".to_owned()))
            .with_scopes(&["api"]),
    )
    .await
    .unwrap();
    let e = bad.sign_in_with_client().await.unwrap_err();
    assert!(matches!(e, OAuthError::InvalidClient(_)), "{e}");
    assert!(!e.to_string().contains("wrong"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_accepts_the_right_password_only() {
    let client = confidential_client(&["openid", "offline_access"]).await;
    let tokens = client
        .sign_in_with_password("alice", &SecretString::from("alice-password".to_owned()))
        .await
        .expect("password grant");
    ccc_tests::leak::tokens(&tokens);
    assert!(tokens.refresh_token.is_some());
    let e = client.sign_in_with_password("alice", &SecretString::from("guess".to_owned())).await.unwrap_err();
    assert!(matches!(e, OAuthError::InvalidGrant(_)), "{e}");
    assert!(!e.to_string().contains("guess"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_completes_headlessly() {
    let client =
        OAuthClient::discover(OAuthConfig::new(issuer(), "ccc-public").with_scopes(&["openid", "offline_access"]))
            .await
            .unwrap();
    let device = client.device_authorization().await.expect("device authorization");
    assert!(!device.user_code().is_empty());
    let verify = device.verification_uri_complete().expect("complete URI").to_owned();
    let user = tokio::spawn(async move { drive(&verify, "carol", "x", None).await });
    let tokens = client.poll_device_token(&device, Duration::from_secs(60)).await.expect("device token");
    assert!(user.await.unwrap().is_ok());
    assert!(tokens.access_token.is_some() && tokens.id_token.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_share_one_refresh() {
    let clock = ManualClock::new(core_types::Clock::now(&core_types::SystemClock));
    let client = confidential_client(&["openid", "offline_access"]).await.with_clock(Arc::new(clock.clone()));
    let tokens = client.sign_in_with_password("alice", &SecretString::from("alice-password".to_owned())).await.unwrap();
    let session = OAuthSession::new(client, tokens, RefreshPolicy::new(Duration::from_secs(60))).await.unwrap();
    let first = session.access_token().await.unwrap();
    let before = token_requests("refresh_token").await;
    clock.advance(Duration::from_secs(250)); // 300 s tokens: now inside the 60 s window
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = session.clone();
            tokio::spawn(async move { s.access_token().await })
        })
        .collect();
    let mut got = std::collections::HashSet::new();
    for t in tasks {
        got.insert(t.await.unwrap().unwrap().expose_secret().to_owned());
    }
    assert_eq!(token_requests("refresh_token").await - before, 1, "exactly one refresh request reached the provider");
    assert_eq!(got.len(), 1, "everyone got the same new token");
    assert!(!got.contains(first.expose_secret()));
}
