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
