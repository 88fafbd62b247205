//! cognito-auth against moto's Cognito user pools and identity pools (JWT forgeries are in
//! negative.rs).

use std::time::SystemTime;

use aws_sdk_cognitoidentityprovider as idp;
use cognito_auth::{AuthFlow, AuthOutcome, ChallengeAnswer, ChallengeName, CognitoAuthenticator, CognitoSource};
use core_types::{ErrorKind, ExposeSecret, Kinded, SecretString};

use ccc_tests::cognito::{PASSWORD, pool, sign_in};

fn password() -> SecretString {
    SecretString::from(PASSWORD.to_owned())
}

#[tokio::test]
async fn srp_and_password_sign_in_then_identity_credentials_call_sts() {
    let pool = pool().await;
    pool.user("alice", true).await;
    // judged strictly: the verifying front mints the identity credentials and verifies each
    // signature (moto hands every caller the same unchecked keys)
    let judge = ccc_tests::judge::Judge::start().await;
    for flow in [AuthFlow::Srp, AuthFlow::Password] {
        let auth = pool.auth_at(flow, false, &judge.url);
        let tokens = sign_in(&auth, "alice").await;
        assert!(tokens.access_token.is_some() && tokens.refresh_token.is_some(), "{flow:?}");
        let creds = auth.get_aws_credentials(tokens.id_token.as_ref().unwrap()).await.expect("identity credentials");
        assert!(creds.session_token().is_some() && creds.expiration().is_some());
        // the credentials work for an AWS call, as the identity pool's role
        let creds = cred_store::to_sdk_credentials(&creds);
        let who = caller(&judge.url, creds.clone()).await.expect("STS with identity creds");
        assert_eq!(who, cognito_arn(), "{flow:?}");
        // and the same key with a wrong secret is refused
        let wrong = aws_credential_types::Credentials::new(
            creds.access_key_id(),
            "not-the-secret",
            creds.session_token().map(str::to_owned),
            None,
            "wrong",
        );
        assert_eq!(caller(&judge.url, wrong).await, Err("SignatureDoesNotMatch".to_owned()), "{flow:?}");
    }
}

#[tokio::test]
async fn auth_failures_map_to_their_kinds() {
    let pool = pool().await;
    pool.user("bob", true).await;
    let pw = pool.auth(AuthFlow::Password, false);
    let wrong = pw.authenticate("bob", &SecretString::from("Wrong-Passw0rd!".to_owned())).await.unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::NotAuthorized, "{wrong}");
    assert!(!wrong.to_string().contains("Wrong-Passw0rd"), "{wrong}");
    for flow in [AuthFlow::Srp, AuthFlow::Password] {
        let e = pool.auth(flow, false).authenticate("nobody", &password()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UserNotFound, "{flow:?}: {e}");
    }
    // a user who signed up but never confirmed
    pool.admin.sign_up().client_id(&pool.client_id).username("carol").password(PASSWORD).send().await.unwrap();
    for flow in [AuthFlow::Srp, AuthFlow::Password] {
        let e = pool.auth(flow, false).authenticate("carol", &password()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UserNotConfirmed, "{flow:?}: {e}");
    }
}

#[tokio::test]
async fn new_password_required_flow() {
    let pool = pool().await;
    pool.user("dave", false).await;
    let auth = pool.auth(AuthFlow::Srp, false);
    let outcome = auth.authenticate("dave", &SecretString::from("Temp-Passw0rd!".to_owned())).await.unwrap();
    let AuthOutcome::Challenge(challenge) = outcome else { panic!("expected NEW_PASSWORD_REQUIRED") };
    assert_eq!(challenge.name, ChallengeName::NewPasswordRequired);
    assert!(!format!("{challenge:?}").contains("Temp-Passw0rd"));
    let answer = ChallengeAnswer::NewPassword { password: password(), attributes: vec![] };
    let tokens = auth.respond_to_challenge(challenge, answer).await.unwrap().into_tokens().unwrap();
    assert!(tokens.id_token.is_some());
    // the new password now works
    sign_in(&pool.auth(AuthFlow::Password, false), "dave").await;
}

#[tokio::test]
async fn refresh_then_global_sign_out_makes_refresh_fail() {
    let pool = pool().await;
    pool.user("erin", true).await;
    let auth = pool.auth(AuthFlow::Srp, false);
    let tokens = sign_in(&auth, "erin").await;
    let refresh = tokens.refresh_token.clone().unwrap();
    let renewed = auth.refresh_credentials(&refresh, None).await.expect("refresh");
    assert!(renewed.id_token.is_some());
    assert_eq!(renewed.refresh_token.unwrap().expose_secret(), refresh.expose_secret(), "refresh token kept");
    auth.sign_out(tokens.access_token.as_ref().unwrap()).await.expect("global sign-out");
    let e = auth.refresh_credentials(&refresh, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
}

#[tokio::test]
async fn client_with_secret_signs_in_and_refreshes_with_secret_hash() {
    let pool = pool().await;
    pool.user("frank", true).await;
    for flow in [AuthFlow::Srp, AuthFlow::Password] {
        let auth = pool.auth(flow, true);
        let tokens = sign_in(&auth, "frank").await;
        let refresh = tokens.refresh_token.unwrap();
        let missing_user = auth.refresh_credentials(&refresh, None).await.unwrap_err();
        assert_eq!(missing_user.kind(), ErrorKind::NotConfigured);
        auth.refresh_credentials(&refresh, Some("frank")).await.expect("refresh with SECRET_HASH");
    }
    // a wrong secret is refused
    let mut bad = pool.config(AuthFlow::Srp, true);
    bad.app_client_secret = Some(SecretString::from("not-the-secret".to_owned()));
    let e = CognitoAuthenticator::new(bad, &pool.sdk).authenticate("frank", &password()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized);
}

fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|a| *a == c.to_ascii_uppercase()).expect("base32") as u32;
        value = (value << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((value >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

/// RFC 6238 TOTP (SHA-1, 30 s, 6 digits).
fn totp(secret: &str, at: SystemTime) -> String {
    use aws_lc_rs::hmac;
    let counter = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() / 30;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &base32_decode(secret));
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let h = tag.as_ref();
    let off = (h[19] & 0xf) as usize;
    let code = (u32::from_be_bytes([h[off], h[off + 1], h[off + 2], h[off + 3]]) & 0x7fff_ffff) % 1_000_000;
    format!("{code:06}")
}

#[tokio::test]
async fn totp_mfa_challenge_refuses_a_wrong_code_and_accepts_the_right_one() {
    let pool = pool().await;
    pool.user("hank", true).await;
    let auth = pool.auth(AuthFlow::Srp, false);
    let tokens = sign_in(&auth, "hank").await;
    let access = tokens.access_token.unwrap();
    let assoc = pool.admin.associate_software_token().access_token(access.expose_secret()).send().await.unwrap();
    let secret = assoc.secret_code().unwrap().to_owned();
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    pool.admin
        .verify_software_token()
        .access_token(access.expose_secret())
        .user_code(totp(&secret, now))
        .send()
        .await
        .unwrap();
    pool.admin
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(idp::types::UserPoolMfaType::Optional)
        .software_token_mfa_configuration(idp::types::SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    pool.admin
        .set_user_mfa_preference()
        .access_token(access.expose_secret())
        .software_token_mfa_settings(
            idp::types::SoftwareTokenMfaSettingsType::builder().enabled(true).preferred_mfa(true).build(),
        )
        .send()
        .await
        .unwrap();

    let challenge = |o: AuthOutcome| match o {
        AuthOutcome::Challenge(c) if c.name == ChallengeName::SoftwareTokenMfa => c,
        other => panic!("expected SOFTWARE_TOKEN_MFA, got {other:?}"),
    };
    let c = challenge(auth.authenticate("hank", &password()).await.unwrap());
    let wrong = if totp(&secret, now) == "000000" { "111111" } else { "000000" };
    let e = auth.respond_to_challenge(c, ChallengeAnswer::MfaCode(wrong.into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
    let c = challenge(auth.authenticate("hank", &password()).await.unwrap());
    #[allow(clippy::disallowed_methods)]
    let code = totp(&secret, SystemTime::now());
    let tokens = auth.respond_to_challenge(c, ChallengeAnswer::MfaCode(code)).await.unwrap().into_tokens().unwrap();
    assert!(tokens.id_token.is_some());
}

#[tokio::test]
async fn stored_refresh_token_keeps_a_user_signed_in_through_the_refreshing_cache() {
    let pool = pool().await;
    pool.user("ivan", true).await;
    let judge = ccc_tests::judge::Judge::start().await;
    let auth = pool.auth_at(AuthFlow::Srp, false, &judge.url);
    let tokens = sign_in(&auth, "ivan").await;
    let dir = tempfile::tempdir().unwrap();
    let store = cred_store::TokenStore::at(dir.path().join("tokens.json"));
    store.put(&CognitoSource::token_key(&pool.pool_id, "ivan"), &tokens).unwrap();
    let cache = cred_store::Refreshing::builder(CognitoSource::new(auth, &store, "ivan"))
        .persist_to(dir.path().join("ivan.json"))
        .build();
    let creds = cache.get().await.expect("credentials from the stored refresh token");
    assert!(creds.session_token().is_some());
    // as an aws-sdk credentials provider
    assert_eq!(caller(&judge.url, cache.clone()).await, Ok(cognito_arn()), "STS through the cache");
    // no stored sign-in: a clear error
    let empty = cred_store::TokenStore::at(dir.path().join("none.json"));
    let e = cred_store::Refreshing::builder(CognitoSource::new(pool.auth(AuthFlow::Srp, false), &empty, "nobody"))
        .build()
        .get()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sign in first"), "{e}");
}

/// A pool that requires MFA answers a user's first sign-in with MFA_SETUP: `CognitoProfile`
/// associates an authenticator app (its secret and otpauth URI reach the prompt), the app's
/// first code verifies it, the sign-in completes, and the next one asks for the app's code.
#[tokio::test]
async fn mfa_setup_adds_an_authenticator_app_during_the_first_sign_in() {
    let pool = pool().await;
    pool.user("iris", true).await;
    pool.admin
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(idp::types::UserPoolMfaType::On)
        .software_token_mfa_configuration(idp::types::SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    let profile = cognito_auth::CognitoProfile::builder(pool.config(AuthFlow::Srp, false), &paths, "mfa")
        .unwrap()
        .sdk_config(&pool.sdk)
        .build();
    // a wrong first code from the app: the set-up is refused, nothing is signed in
    let refused = profile
        .sign_in("iris", &password(), |c| {
            assert_eq!(c.name, ChallengeName::MfaSetup);
            let setup = c.totp_setup().expect("the secret reaches the prompt");
            #[allow(clippy::disallowed_methods)]
            let right = totp(setup.secret.expose_secret(), SystemTime::now());
            Ok(ChallengeAnswer::MfaCode(if right == "000000" { "111111".into() } else { "000000".into() }))
        })
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotAuthorized, "{refused}");
    let secret = std::sync::Mutex::new(String::new());
    let signed = profile
        .sign_in("iris", &password(), |c| {
            assert_eq!(c.name, ChallengeName::MfaSetup);
            let setup = c.totp_setup().expect("the secret reaches the prompt");
            let uri = setup.uri.expose_secret();
            assert!(uri.starts_with("otpauth://totp/") && uri.contains("iris"), "{uri}");
            assert!(!format!("{c:?}").contains(setup.secret.expose_secret()), "Debug hides the secret");
            *secret.lock().unwrap() = setup.secret.expose_secret().to_owned();
            #[allow(clippy::disallowed_methods)]
            let code = totp(setup.secret.expose_secret(), SystemTime::now());
            Ok(ChallengeAnswer::MfaCode(code))
        })
        .await
        .unwrap();
    assert_eq!(signed.username, "iris");
    assert!(signed.credentials.session_token().is_some());
    // set up now: the next sign-in asks for the app's code, and a wrong one is refused
    let auth = pool.auth(AuthFlow::Srp, false);
    let challenge = || async {
        match auth.authenticate("iris", &password()).await.unwrap() {
            AuthOutcome::Challenge(c) if c.name == ChallengeName::SoftwareTokenMfa => c,
            other => panic!("expected SOFTWARE_TOKEN_MFA, got {other:?}"),
        }
    };
    let secret = secret.lock().unwrap().clone();
    #[allow(clippy::disallowed_methods)]
    let right = totp(&secret, SystemTime::now());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let e = auth.respond_to_challenge(challenge().await, ChallengeAnswer::MfaCode(wrong.into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");
    // the app set up during the first sign-in is the one whose codes now sign in
    let answered = auth.respond_to_challenge(challenge().await, ChallengeAnswer::MfaCode(right)).await.unwrap();
    assert!(answered.into_tokens().unwrap().id_token.is_some());
}

/// ccc's refreshing credentials are good citizens of aws-config: inside a
/// `CredentialsProviderChain`, "nobody signed in here" is `not_loaded` and the chain moves on
/// to its next provider, while an upstream refusal stops it (`provider_error`: another
/// identity would be a surprise); given to `aws_config::from_env()`, a signed-in user's
/// credentials sign real STS calls.
#[tokio::test]
async fn ccc_credentials_behave_inside_aws_config_chains() {
    use aws_config::meta::credentials::CredentialsProviderChain;
    use aws_credential_types::provider::ProvideCredentials;
    use aws_credential_types::provider::error::CredentialsError;
    let pool = pool().await;
    let user = ccc_tests::cognito::unique("chain");
    pool.user(&user, true).await;
    let tokens = sign_in(&pool.auth(AuthFlow::Srp, false), &user).await;
    let home = tempfile::tempdir().unwrap();
    let store = cred_store::TokenStore::new(&cred_store::Paths::under_home(home.path()));
    let judge = ccc_tests::judge::Judge::start().await;
    let auth = pool.auth_at(AuthFlow::Srp, false, &judge.url);
    let cache =
        |username: &str| cred_store::Refreshing::builder(CognitoSource::new(auth.clone(), &store, username)).build();
    let fallback = aws_credential_types::Credentials::new("AKIAFALLBACK0000001", "fallback-secret", None, None, "test");

    let chain = CredentialsProviderChain::first_try("ccc", cache("nobody")).or_else("fallback", fallback.clone());
    assert_eq!(chain.provide_credentials().await.unwrap().access_key_id(), "AKIAFALLBACK0000001");

    // a stored sign-in Cognito refuses to renew: the chain stops with the provider's error
    let key = CognitoSource::token_key(&pool.pool_id, &user);
    let refused = core_types::TokenSet {
        refresh_token: Some(SecretString::from("not-a-refresh-token".to_owned())),
        expires_at: Some(SystemTime::UNIX_EPOCH),
        ..core_types::TokenSet::default()
    };
    store.put(&key, &refused).unwrap();
    let chain = CredentialsProviderChain::first_try("ccc", cache(&user)).or_else("fallback", fallback);
    let e = chain.provide_credentials().await.unwrap_err();
    assert!(matches!(e, CredentialsError::ProviderError(_)), "{e:?}");

    // signed in: aws-config's own loader signs with them
    store.put(&key, &tokens).unwrap();
    let sdk = aws_config::from_env()
        .endpoint_url(&judge.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(cache(&user))
        .load()
        .await;
    let who = aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(cognito_arn().as_str()), "{who:?}");
}

/// Tokens kept where the caller says: a profile built with `token_entries` signs in, serves
/// credentials and signs out through the caller's entries (an in-memory map here), and never
/// writes cred-store's token file.
#[tokio::test]
async fn a_profile_keeps_its_tokens_in_the_callers_entries() {
    use cognito_auth::TokenEntries;
    use core_types::TokenSet;
    use cred_store::{SharedEntry, TokenKey};
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    type Map = Arc<Mutex<HashMap<String, (TokenSet, SystemTime)>>>;
    #[derive(Debug, Clone)]
    struct Memory {
        map: Map,
        locks: PathBuf,
        loads: Arc<std::sync::atomic::AtomicUsize>,
    }
    struct Entry {
        memory: Memory,
        key: String,
    }
    impl TokenEntries for Memory {
        fn entry(&self, key: TokenKey) -> Arc<dyn SharedEntry<TokenSet>> {
            Arc::new(Entry { memory: self.clone(), key: format!("{}:{}:{}", key.provider, key.account, key.user) })
        }
    }
    impl SharedEntry<TokenSet> for Entry {
        fn location(&self) -> String {
            format!("memory [{}]", self.key)
        }
        fn refresh_lock(&self) -> PathBuf {
            self.memory.locks.join(self.key.replace(['/', ':'], "_"))
        }
        fn load(&self) -> cred_store::Result<Option<(TokenSet, Option<SystemTime>)>> {
            self.memory.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.memory.map.lock().unwrap().get(&self.key).map(|(t, at)| (t.clone(), Some(*at))))
        }
        fn store(&self, value: &TokenSet, at: SystemTime) -> cred_store::Result<()> {
            self.memory.map.lock().unwrap().insert(self.key.clone(), (value.clone(), at));
            Ok(())
        }
        fn remove(&self) -> cred_store::Result<()> {
            self.memory.map.lock().unwrap().remove(&self.key);
            Ok(())
        }
    }

    let pool = pool().await;
    pool.user("jack", true).await;
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    let memory = Memory { map: Map::default(), locks: home.path().to_path_buf(), loads: Default::default() };
    let profile = cognito_auth::CognitoProfile::builder(pool.config(AuthFlow::Srp, false), &paths, "mem")
        .unwrap()
        .sdk_config(&pool.sdk)
        .token_entries(memory.clone())
        .write_credentials_file(false)
        .build();
    profile.sign_in("jack", &password(), |c| panic!("no challenge expected: {c:?}")).await.unwrap();
    let key = CognitoSource::token_key(&pool.pool_id, "jack");
    let key = format!("{}:{}:{}", key.provider, key.account, key.user);
    assert!(memory.map.lock().unwrap().get(&key).is_some_and(|(t, _)| t.refresh_token.is_some()));
    assert!(!paths.ccc_dir.join("tokens.json").exists(), "cred-store's token file is not written");

    // a fresh process (no cached credentials) gets credentials from the caller's tokens
    std::fs::remove_file(profile.cache_file()).unwrap();
    let before = memory.loads.load(std::sync::atomic::Ordering::SeqCst);
    let creds = profile.credentials().unwrap().get().await.unwrap();
    assert!(creds.session_token().is_some());
    assert!(memory.loads.load(std::sync::atomic::Ordering::SeqCst) > before, "the tokens came from the caller's entry");

    profile.sign_out().await.unwrap();
    assert!(memory.map.lock().unwrap().is_empty(), "signing out removes the caller's entry");
}

/// The ARN AWS gives identity-pool credentials: a session of the pool's authenticated role.
fn cognito_arn() -> String {
    format!("arn:aws:sts::123456789012:assumed-role/{}/CognitoIdentityCredentials", ccc_tests::judge::COGNITO_ROLE)
}

/// Who `provider`'s credentials are, by STS at `endpoint`: the ARN, or the error code.
async fn caller(
    endpoint: &str,
    provider: impl aws_credential_types::provider::ProvideCredentials + 'static,
) -> Result<String, String> {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .build();
    match aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await {
        Ok(who) => Ok(who.arn().unwrap_or_default().to_owned()),
        Err(e) => Err(e.code().unwrap_or("no code").to_owned()),
    }
}

/// A user whose SMS MFA is on and preferred (moto then asks `SMS_MFA` after the password).
async fn sms_user(pool: &ccc_tests::cognito::Pool, name: &str) {
    pool.user(name, true).await;
    pool.admin
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username(name)
        .user_attributes(
            idp::types::AttributeType::builder().name("phone_number").value("+15555550100").build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    pool.admin
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username(name)
        .sms_mfa_settings(idp::types::SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
        .send()
        .await
        .unwrap();
}

/// `SELECT_MFA_TYPE` then `SMS_MFA` (seed 001's challenges): the front asks the choice in
/// Cognito's wire format before moto's SMS challenge; the client sends `ANSWER=SMS_MFA`, then
/// `SMS_MFA_CODE`, and gets moto's tokens (their signature checked against the pool's keys).
/// A choice the pool does not offer is refused.
#[tokio::test]
async fn select_mfa_type_then_sms_mfa_signs_in() {
    use ccc_tests::challenge_front::{Ask, ChallengeFront};
    let pool = pool().await;
    sms_user(&pool, "sally").await;
    let front = ChallengeFront::start(Ask::SelectMfaType).await;
    let auth = pool.auth_at(AuthFlow::Srp, false, &front.url);
    let select = |o: AuthOutcome| match o {
        AuthOutcome::Challenge(c) if c.name == ChallengeName::SelectMfaType => c,
        other => panic!("expected SELECT_MFA_TYPE, got {other:?}"),
    };
    let c = select(auth.authenticate("sally", &password()).await.unwrap());
    assert!(c.parameters.get("MFAS_CAN_CHOOSE").is_some_and(|v| v.contains("SMS_MFA")), "{c:?}");
    let e =
        auth.respond_to_challenge(c, ChallengeAnswer::SelectMfaType("SOFTWARE_TOKEN_MFA".into())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    let c = select(auth.authenticate("sally", &password()).await.unwrap());
    let sms = match auth.respond_to_challenge(c, ChallengeAnswer::SelectMfaType("SMS_MFA".into())).await.unwrap() {
        AuthOutcome::Challenge(c) if c.name == ChallengeName::SmsMfa => c,
        other => panic!("expected SMS_MFA, got {other:?}"),
    };
    let tokens =
        auth.respond_to_challenge(sms, ChallengeAnswer::MfaCode("246810".into())).await.unwrap().into_tokens().unwrap();
    ccc_tests::leak::tokens(&tokens);
    pool.verifier().verify_id_token(tokens.id_token.as_ref().unwrap()).await.unwrap();
    let seen = front.seen();
    let answered: Vec<_> = seen
        .iter()
        .filter(|s| s.operation == "RespondToAuthChallenge")
        .map(|s| s.challenge.clone().unwrap_or_default())
        .collect();
    assert_eq!(answered, ["PASSWORD_VERIFIER", "SELECT_MFA_TYPE", "PASSWORD_VERIFIER", "SELECT_MFA_TYPE", "SMS_MFA"]);
    let last = seen.last().unwrap();
    assert_eq!(last.responses.get("SMS_MFA_CODE").map(String::as_str), Some("246810"));
    assert_eq!(last.responses.get("USERNAME").map(String::as_str), Some("sally"));
}

/// `CUSTOM_CHALLENGE` (a pool's own question, asked by its Lambda triggers after the
/// password) is answered by the caller's callback: a wrong answer is refused, the right one
/// signs in, and the sign-in's identity-pool credentials follow.
#[tokio::test]
async fn a_custom_challenge_is_answered_by_the_callers_callback() {
    use ccc_tests::challenge_front::{Ask, ChallengeFront};
    let pool = pool().await;
    pool.user("carl", true).await;
    let front =
        ChallengeFront::start(Ask::Custom { question: "the pool's colour?".into(), answer: "teal".into() }).await;
    let auth = pool.auth_at(AuthFlow::Password, false, &front.url);
    let c = match auth.authenticate("carl", &password()).await.unwrap() {
        AuthOutcome::Challenge(c) if c.name == ChallengeName::CustomChallenge => c,
        other => panic!("expected CUSTOM_CHALLENGE, got {other:?}"),
    };
    assert_eq!(c.parameters.get("question").map(String::as_str), Some("the pool's colour?"));
    let e =
        auth.respond_to_challenge(c, ChallengeAnswer::Custom(SecretString::from("red".to_owned()))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized, "{e}");

    // the library's sign-in, with the caller's callback answering
    let home = tempfile::tempdir().unwrap();
    let sdk = pool.sdk.to_builder().endpoint_url(&front.url).build();
    let profile = cognito_auth::CognitoProfile::for_user(
        pool.config(AuthFlow::Password, false),
        &cred_store::Paths::under_home(home.path()),
        "carl",
    )
    .sdk_config(&sdk)
    .build();
    let mut asked = Vec::new();
    let signed = profile
        .sign_in("carl", &password(), |c| {
            asked.push(c.name.clone());
            match &c.name {
                ChallengeName::CustomChallenge if c.parameters.contains_key("question") => {
                    Ok(ChallengeAnswer::Custom(SecretString::from("teal".to_owned())))
                }
                other => Err(format!("unexpected {other:?}").into()),
            }
        })
        .await
        .unwrap();
    assert_eq!(asked, [ChallengeName::CustomChallenge]);
    assert!(signed.credentials.session_token().is_some(), "identity-pool credentials after the challenge");
    let last = front.seen().into_iter().rfind(|s| s.operation == "RespondToAuthChallenge").unwrap();
    assert_eq!(last.challenge.as_deref(), Some("CUSTOM_CHALLENGE"));
}

/// The front speaks what the SDKs speak: boto3's cognito-idp client goes through
/// `SELECT_MFA_TYPE` and `SMS_MFA` on it and gets tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_answers_the_fronts_challenges() {
    use ccc_tests::challenge_front::{Ask, ChallengeFront};
    let pool = pool().await;
    sms_user(&pool, "bo").await;
    let front = ChallengeFront::start(Ask::SelectMfaType).await;
    let script = format!(
        r#"
import boto3, json
c = boto3.client('cognito-idp', region_name='us-east-1', endpoint_url='{url}',
                 aws_access_key_id='x', aws_secret_access_key='x')
r = c.initiate_auth(ClientId='{client}', AuthFlow='USER_PASSWORD_AUTH', AuthParameters={{'USERNAME': 'bo', 'PASSWORD': '{password}'}})
names = [r['ChallengeName']]
r = c.respond_to_auth_challenge(ClientId='{client}', ChallengeName='SELECT_MFA_TYPE', Session=r['Session'],
                                ChallengeResponses={{'USERNAME': 'bo', 'ANSWER': 'SMS_MFA'}})
names.append(r['ChallengeName'])
r = c.respond_to_auth_challenge(ClientId='{client}', ChallengeName='SMS_MFA', Session=r['Session'],
                                ChallengeResponses={{'USERNAME': 'bo', 'SMS_MFA_CODE': '135790'}})
names.append('tokens' if r['AuthenticationResult']['IdToken'] else 'none')
print(json.dumps(names))
"#,
        url = front.url,
        client = pool.client_id,
        password = PASSWORD,
    );
    // the front runs on this runtime: boto3 waits off it
    let python = ccc_tests::peer("CCC_TEST_PYTHON");
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(python).args(["-c", &script]).output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names, ["SELECT_MFA_TYPE", "SMS_MFA", "tokens"]);
}
