//! oauth-pkce against oidc-provider, a strict OAuth 2 / OIDC server (PKCE S256 enforced,
//! single-use codes, refresh-token rotation), driven headlessly through its dev interactions.

use std::sync::Arc;
use std::time::Duration;

use ccc_tests::oidc::{code_flow, confidential_client, drive, issuer, public_client, token_requests};
use core_types::{ExposeSecret, ManualClock, RefreshPolicy, SecretString};
use oauth_pkce::{OAuthClient, OAuthConfig, OAuthError, OAuthSession};

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
async fn refresh_rotates_and_the_old_refresh_token_then_fails() {
    let client = public_client().await;
    let (first, _) = code_flow(&client, "bob").await;
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

/// The provider's keys unreachable (503) during a refresh: the rotated refresh token still
/// reaches the caller (the unverifiable ID token is dropped), so the next refresh spends the
/// new token and the family stays alive (spending the old one again would revoke it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_survives_a_jwks_outage() {
    use ccc_tests::proxy::{FaultProxy, TcpFault};
    let discovered = public_client().await;
    let (first, _) = code_flow(&discovered, "bob").await;
    // the same client, its key set behind a proxy that answers 503
    let jwks = FaultProxy::start(&ccc_tests::oidc::issuer()).await;
    let mut config = oauth_pkce::OAuthConfig::new(ccc_tests::oidc::issuer(), "ccc-public")
        .with_scopes(&["openid", "offline_access", "email"])
        .with_redirect_uri(ccc_tests::oidc::REDIRECT);
    config.endpoints.jwks = Some(format!("{}/jwks", jwks.url));
    let client = oauth_pkce::OAuthClient::discover(config).await.unwrap();
    jwks.fail_next(&[TcpFault::Status(503); 8]);
    let second = client.refresh(&first).await.expect("the refresh succeeds although the keys are unreachable");
    assert!(second.id_token.is_none(), "an ID token that could not be checked is not handed on");
    let rotated = second.refresh_token.clone().expect("the rotated refresh token is kept");
    assert_ne!(rotated.expose_secret(), first.refresh_token.as_ref().unwrap().expose_secret());
    // the next run spends the new token: the family is intact
    let third = discovered.refresh(&second).await.expect("the family is intact");
    assert!(third.id_token.is_some() && third.access_token.is_some());
}

/// oauth-pkce sends through the caller's `reqwest::Client` (its proxies, custom roots): with a
/// proxy where nothing listens, discovery cannot reach the provider; with a plain client of
/// the caller's, the client-credentials grant works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_http_client_is_the_one_used() {
    let config = || {
        OAuthConfig::new(issuer(), "ccc-confidential")
            .with_secret(SecretString::from("ccc-confidential-secret".to_owned()))
            .with_scopes(&["api"])
    };
    let proxied = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::all("http://127.0.0.1:9").unwrap())
        .build()
        .unwrap();
    let e = OAuthClient::discover_with(config(), proxied).await.unwrap_err();
    assert_eq!(core_types::Kinded::kind(&e), core_types::ErrorKind::Unavailable, "the proxy is not there: {e:?}");
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let client = OAuthClient::discover_with(config(), plain).await.unwrap();
    let tokens = client.sign_in_with_client().await.unwrap();
    ccc_tests::leak::tokens(&tokens);
    assert!(tokens.access_token.is_some());
}
