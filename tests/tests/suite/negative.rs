//! Every JWT and OAuth negative case in one place, against tokens real servers issued:
//! Cognito (moto) ID/access tokens through `cognito_auth::JwtVerifier`, OIDC ID tokens
//! (oidc-provider) through `oauth_pkce::OAuthClient::validate_id_token`, and the
//! authorization-code flow's state and code checks. Forgeries: a tampered payload, `alg:
//! none`, HS256 with the public key as secret, an expired token, the wrong audience, the
//! wrong issuer, garbage; flow: state mismatch (refused before any request), code replay,
//! wrong PKCE verifier, wrong nonce.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use ccc_tests::cognito::{pool, sign_in};
use ccc_tests::oidc::{authorize, code_flow, issuer, public_client, token_requests};
use ccc_tests::peer;
use cognito_auth::{AuthFlow, CognitoError, JwtVerifier};
use core_types::{ErrorKind, ExposeSecret, Kinded, ManualClock, SecretString};
use oauth_pkce::{OAuthClient, OAuthConfig, OAuthError, PkceVerifier};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The token with one claim changed and the signature kept.
fn tamper(token: &str, claim: &str, value: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    claims[claim] = value.into();
    parts[1] = B64.encode(claims.to_string());
    parts.join(".")
}

/// The token's payload under a header naming `alg` (and the real `kid`), with `signature`.
fn with_alg(token: &SecretString, alg: &str, signature: &str) -> SecretString {
    let token = token.expose_secret();
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let forged = serde_json::json!({"alg": alg, "kid": header["kid"], "typ": "JWT"});
    let payload = token.split('.').nth(1).unwrap();
    SecretString::from(format!("{}.{payload}.{signature}", B64.encode(forged.to_string())))
}

#[tokio::test]
async fn cognito_jwts_moto_issued_verify_and_forgeries_do_not() {
    let pool = pool().await;
    pool.user("gina", true).await;
    let tokens = sign_in(&pool.auth(AuthFlow::Srp, false), "gina").await;
    let (id, access) = (tokens.id_token.unwrap(), tokens.access_token.unwrap());
    let verifier = pool.verifier();
    let v = verifier.verify_id_token(&id).await.expect("moto's id token verifies");
    assert_eq!(v.token_use, "id");
    assert_eq!(v.username.as_deref(), Some("gina"));
    verifier.verify_access_token(&access).await.expect("moto's access token verifies");

    let reject = |e: CognitoError| e.to_string();
    // wrong token_use
    assert!(reject(verifier.verify_access_token(&id).await.unwrap_err()).contains("token_use"));
    // tampered payload
    let forged = SecretString::from(tamper(id.expose_secret(), "cognito:username", "mallory"));
    assert!(reject(verifier.verify_id_token(&forged).await.unwrap_err()).contains("signature"));
    // alg none with the real kid
    assert!(verifier.verify_id_token(&with_alg(&id, "none", "")).await.is_err());
    // HS256 "signed" with the public key material as a secret (the classic confusion attack)
    assert!(reject(verifier.verify_id_token(&with_alg(&id, "HS256", "c2ln")).await.unwrap_err()).contains("HS256"));
    // expired: a clock an hour and a half ahead
    let later = ManualClock::new(core_types::Clock::now(&core_types::SystemClock) + Duration::from_secs(5400));
    let e = pool.verifier().with_clock(Arc::new(later)).verify_id_token(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ExpiredToken, "{e}");
    // wrong audience: a verifier for the other app client
    let other = JwtVerifier::new(&pool.config(AuthFlow::Srp, true)).with_jwks_url(format!(
        "{}/{}/.well-known/jwks.json",
        peer("CCC_TEST_AWS_ENDPOINT"),
        pool.pool_id
    ));
    assert!(reject(other.verify_id_token(&id).await.unwrap_err()).contains("audience"));
    // wrong issuer: a verifier for another pool using the same keys
    let mut elsewhere = pool.config(AuthFlow::Srp, false);
    elsewhere.user_pool_id = "us-east-1_Elsewhere".into();
    let wrong_iss = JwtVerifier::new(&elsewhere).with_jwks_url(format!(
        "{}/{}/.well-known/jwks.json",
        peer("CCC_TEST_AWS_ENDPOINT"),
        pool.pool_id
    ));
    assert!(reject(wrong_iss.verify_id_token(&id).await.unwrap_err()).contains("issuer"));
    // garbage
    assert!(verifier.verify_id_token(&SecretString::from("not.a.jwt".to_owned())).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_id_tokens_provider_issued_verify_and_forgeries_do_not() {
    let client = public_client().await;
    let (tokens, state) = code_flow(&client, "alice").await;
    let id = tokens.id_token.clone().unwrap();
    client.validate_id_token(&id, state.nonce()).await.expect("the provider's ID token verifies");
    let reject = |e: OAuthError| {
        assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
        e.to_string()
    };
    // tampered payload
    let forged = SecretString::from(tamper(id.expose_secret(), "sub", "mallory"));
    assert!(reject(client.validate_id_token(&forged, None).await.unwrap_err()).contains("signature"));
    // alg none, and HS256 with the public key as the secret
    assert!(
        reject(client.validate_id_token(&with_alg(&id, "none", ""), None).await.unwrap_err()).contains("well-formed")
    );
    assert!(
        reject(client.validate_id_token(&with_alg(&id, "HS256", "c2ln"), None).await.unwrap_err())
            .contains("not accepted")
    );
    // expired: a clock two hours ahead
    let later = ManualClock::new(core_types::Clock::now(&core_types::SystemClock) + Duration::from_secs(7200));
    let late = public_client().await.with_clock(Arc::new(later));
    assert!(reject(late.validate_id_token(&id, None).await.unwrap_err()).contains("expired"));
    // wrong audience: another client of the same provider
    let other = OAuthClient::discover(OAuthConfig::new(issuer(), "ccc-confidential")).await.unwrap();
    assert!(reject(other.validate_id_token(&id, None).await.unwrap_err()).contains("audience"));
    // wrong issuer: a client that expects another issuer over the same keys
    let mut config = OAuthConfig::new(issuer(), "ccc-public");
    config.endpoints.issuer = Some("https://elsewhere.example".into());
    let elsewhere = OAuthClient::discover(config).await.unwrap();
    assert!(reject(elsewhere.validate_id_token(&id, None).await.unwrap_err()).contains("issuer"));
    // wrong nonce, garbage
    assert!(client.validate_id_token(&id, Some("other-nonce")).await.is_err());
    reject(client.validate_id_token(&SecretString::from("not.a.jwt".to_owned()), None).await.unwrap_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_state_is_checked_first_codes_are_single_use_and_verifiers_must_match() {
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

/// A JWKS endpoint in front of `upstream` that counts its fetches.
async fn counting_jwks(upstream: String) -> (String, Arc<std::sync::atomic::AtomicUsize>, tokio::task::JoinHandle<()>) {
    use http_body_util::Full;
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let http = reqwest::Client::new();
    let (url, task) = ccc_tests::serve::serve(move |_req| {
        let (http, upstream, seen) = (http.clone(), upstream.clone(), seen.clone());
        async move {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = http.get(&upstream).send().await.unwrap().bytes().await.unwrap();
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body)))
        }
    })
    .await;
    (format!("{url}/jwks"), count, task)
}

/// The token under the same header but a key id nobody publishes.
fn with_unknown_kid(token: &SecretString, n: usize) -> SecretString {
    let token = token.expose_secret();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut header: serde_json::Value = serde_json::from_slice(&B64.decode(&parts[0]).unwrap()).unwrap();
    header["kid"] = format!("made-up-{n}").into();
    parts[0] = B64.encode(header.to_string());
    SecretString::from(parts.join("."))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_ids_refetch_the_jwks_at_most_once_per_interval() {
    use std::sync::atomic::Ordering::SeqCst;
    // OIDC: the provider's own keys, fetched through a counter
    let client = public_client().await;
    let (tokens, state) = code_flow(&client, "alice").await;
    let id = tokens.id_token.clone().unwrap();
    let jwks_uri = client.endpoints().jwks.clone().unwrap();
    let (url, fetches, _task) = counting_jwks(jwks_uri).await;
    let clock = ManualClock::new(core_types::Clock::now(&core_types::SystemClock));
    let mut config = OAuthConfig::new(issuer(), "ccc-public");
    config.endpoints.jwks = Some(url);
    let counted = OAuthClient::discover(config).await.unwrap().with_clock(Arc::new(clock.clone()));
    counted.validate_id_token(&id, state.nonce()).await.expect("verifies");
    counted.validate_id_token(&id, state.nonce()).await.expect("verifies from the cache");
    assert_eq!(fetches.load(SeqCst), 1);
    for n in 0..20 {
        assert!(counted.validate_id_token(&with_unknown_kid(&id, n), None).await.is_err());
    }
    assert_eq!(fetches.load(SeqCst), 1, "made-up key ids fetched nothing within the interval");
    clock.advance(oauth_pkce::JWKS_REFETCH_INTERVAL + Duration::from_secs(1));
    assert!(counted.validate_id_token(&with_unknown_kid(&id, 99), None).await.is_err());
    assert_eq!(fetches.load(SeqCst), 2, "one refetch after the interval");

    // Cognito: moto's keys for the pool, through a counter
    let pool = pool().await;
    pool.user("kid-checker", true).await;
    let cognito = sign_in(&pool.auth(AuthFlow::Srp, false), "kid-checker").await;
    let cid = cognito.id_token.unwrap();
    let (url, fetches, _task) =
        counting_jwks(format!("{}/{}/.well-known/jwks.json", peer("CCC_TEST_AWS_ENDPOINT"), pool.pool_id)).await;
    let clock = ManualClock::new(core_types::Clock::now(&core_types::SystemClock));
    let verifier = pool.verifier().with_jwks_url(url).with_clock(Arc::new(clock.clone()));
    verifier.verify_id_token(&cid).await.expect("verifies");
    for n in 0..20 {
        assert!(verifier.verify_id_token(&with_unknown_kid(&cid, n)).await.is_err());
    }
    assert_eq!(fetches.load(SeqCst), 1, "made-up key ids fetched nothing within the interval");
    clock.advance(cognito_auth::JWKS_REFETCH_INTERVAL + Duration::from_secs(1));
    assert!(verifier.verify_id_token(&with_unknown_kid(&cid, 99)).await.is_err());
    assert_eq!(fetches.load(SeqCst), 2);
}

#[tokio::test]
async fn plain_http_endpoints_off_this_machine_are_refused() {
    for issuer in ["http://idp.example.com", "http://10.1.2.3:8080", "ftp://idp.example.com"] {
        let e = OAuthClient::discover(OAuthConfig::new(issuer, "c")).await.unwrap_err();
        assert!(matches!(e, OAuthError::Config(_)) && e.to_string().contains("HTTPS"), "{issuer}: {e}");
    }
    // explicit endpoints are held to the same rule, each of them
    for field in ["token", "jwks", "revocation", "introspection", "device"] {
        let mut config = OAuthConfig::new("https://idp.example.com", "c");
        config.issuer = None;
        config.endpoints.token = Some("https://idp.example.com/token".into());
        let evil = Some("http://idp.example.com/x".to_owned());
        match field {
            "token" => config.endpoints.token = evil,
            "jwks" => config.endpoints.jwks = evil,
            "revocation" => config.endpoints.revocation = evil,
            "introspection" => config.endpoints.introspection = evil,
            _ => config.endpoints.device_authorization = evil,
        }
        let e = OAuthClient::discover(config).await.unwrap_err();
        assert!(e.to_string().contains("HTTPS"), "{field}: {e}");
    }
    // loopback needs no TLS (RFC 8252), the peers' own case
    let mut config = OAuthConfig::new("https://idp.example.com", "c");
    config.issuer = None;
    config.endpoints.token = Some("http://127.0.0.1:9/token".into());
    config.endpoints.jwks = Some("http://localhost:9/jwks".into());
    OAuthClient::discover(config).await.expect("loopback endpoints are accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_provider_numbers_neither_panic_nor_outlast_the_timeout() {
    use http_body_util::Full;
    use hyper::body::Bytes;
    // a provider that grants a token "forever", asks for a poll every 2^64 s and then says
    // slow_down on every poll
    let (url, _task) = ccc_tests::serve::serve(|req: hyper::Request<hyper::body::Incoming>| async move {
        use http_body_util::BodyExt;
        let path = req.uri().path().to_owned();
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let body = String::from_utf8_lossy(&body).into_owned();
        let (status, json) = if path == "/device" {
            (200, serde_json::json!({"device_code": "dc", "user_code": "UC", "verification_uri": "http://127.0.0.1/verify", "expires_in": u64::MAX, "interval": u64::MAX}))
        } else if body.contains("device_code") {
            (400, serde_json::json!({"error": "slow_down"}))
        } else {
            (200, serde_json::json!({"access_token": "at-forever", "token_type": "Bearer", "expires_in": u64::MAX}))
        };
        let mut resp = hyper::Response::new(Full::new(Bytes::from(json.to_string())));
        *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
        Ok::<_, std::convert::Infallible>(resp)
    })
    .await;
    let mut config = OAuthConfig::new("https://unused.example", "c").with_secret(SecretString::from("s".to_owned()));
    config.issuer = None;
    config.scopes = vec!["api".into()];
    config.endpoints.token = Some(format!("{url}/token"));
    config.endpoints.device_authorization = Some(format!("{url}/device"));
    let client = OAuthClient::discover(config).await.unwrap();
    let tokens = client.sign_in_with_client().await.expect("a huge expires_in is capped, not a panic");
    let left = tokens.expires_at.unwrap().duration_since(std::time::SystemTime::UNIX_EPOCH).unwrap();
    assert!(left.as_secs() < 4_000_000_000, "expiry capped at a year: {left:?}");
    let device = client.device_authorization().await.unwrap();
    let started = std::time::Instant::now();
    let e = client.poll_device_token(&device, Duration::from_secs(3)).await.unwrap_err();
    assert!(matches!(e, OAuthError::Timeout(_)), "{e}");
    assert!(started.elapsed() < Duration::from_secs(6), "the timeout held: {:?}", started.elapsed());
}
