//! The reliability suite: parsers never panic on garbage (10 000 cases each), and every file
//! the toolkit creates is private.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proptest::prelude::*;

use core_types::{AwsCredentials, SecretString, TokenSet};
use cred_store::{AwsFiles, IniDocument, Paths, SsoCache, TokenKey, TokenStore};

fn cases() -> ProptestConfig {
    ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() }
}

/// A runtime, a verifier that has fetched the Cognito peer's JWKS once (so the cases judge
/// tokens, not the network), and a JWT header naming that JWKS's key.
fn jwt_verifier() -> &'static (tokio::runtime::Runtime, cognito_auth::JwtVerifier, String) {
    use base64::Engine;
    static VERIFIER: std::sync::OnceLock<(tokio::runtime::Runtime, cognito_auth::JwtVerifier, String)> =
        std::sync::OnceLock::new();
    VERIFIER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let url = format!("{}/us-east-1_proptest/.well-known/jwks.json", ccc_tests::peer("CCC_TEST_AWS_ENDPOINT"));
        let jwks: serde_json::Value = runtime.block_on(async { reqwest::get(&url).await?.json().await }).unwrap();
        let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
        let config = cognito_auth::CognitoConfig::new("us-east-1_proptest", "client", "us-east-1");
        let verifier = cognito_auth::JwtVerifier::new(&config).with_jwks_url(url);
        // the keys are fetched by the first verification, then kept
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": "RS256", "kid": kid, "typ": "JWT"}).to_string());
        let _ = runtime.block_on(verifier.verify_id_token(&SecretString::from(format!("{header}.e30.c2ln"))));
        (runtime, verifier, header)
    })
}

/// Text that looks a little like each format, so the parsers get past their first byte.
fn near(format: &'static [&'static str]) -> impl Strategy<Value = String> {
    (proptest::sample::select(format), "\\PC{0,80}", proptest::sample::select(format))
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn ini_never_panics(text in near(&["[default]\n", "aws_access_key_id = ", "\n  nested = 1\n", "# c\n", "[profile x]", "=", "\r\n"])) {
        if let Ok(mut doc) = IniDocument::parse(&text) {
            doc.set("p", "k", "v").unwrap();
            let _ = IniDocument::parse(&doc.to_string()).expect("our own output parses");
        }
    }

    #[test]
    fn credential_process_json_never_panics(text in near(&["{\"Version\":1,", "\"AccessKeyId\":\"A\",", "\"Expiration\":\"", "}", "null", "[", "\"SecretAccessKey\":1"])) {
        let _ = cred_store::from_credential_process_json(&text);
    }

    /// Through our reading of the file, and what is read from it: the Cognito settings and the
    /// refresh window (a damaged value is an error, never a panic).
    #[test]
    fn ccc_config_json_never_panics(text in near(&["{", "\"region\":", "\"user_pool_id\":\"us-east-1_x\"", "}", "[1,2]", "\"app_client_secret\":null,", "\"extra\":{}", "\"refresh_window_seconds\":", "\"profiles\":{\"p\":"])) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, &text).unwrap();
        if let Ok(config) = cred_store::load_config_from(&file) {
            let _ = config.refresh_window();
            let _ = cognito_auth::CognitoConfig::from_ccc_config(&config);
            let _ = cognito_auth::signed_in_user(&config, "p");
        }
    }

    #[test]
    fn sessions_yaml_never_panics(text in near(&["cloud_sessions:\n", "  - name: a\n", "    session_type: aws\n", "    region: ", "roles:\n", "- ", ": ", "[", "&a *a"])) {
        let _ = cloud_sessions::parse_config(&text);
    }

    /// Our verifier on made-up tokens: as they come, and with a well-formed header naming the
    /// pool's key (so the payload and signature are what gets parsed). Never a panic, never
    /// accepted.
    #[test]
    fn jwt_verification_never_panics(text in near(&["eyJhbGciOiJSUzI1NiJ9", ".", "eyJzdWIiOiJ4In0", "==", "eyJhbGciOiJub25lIn0"])) {
        let (runtime, verifier, header) = jwt_verifier();
        for token in [text.clone(), format!("{header}.{text}")] {
            let token = SecretString::from(token);
            let id = runtime.block_on(verifier.verify_id_token(&token));
            let access = runtime.block_on(verifier.verify_access_token(&token));
            prop_assert!(id.is_err() && access.is_err(), "a made-up token was accepted");
        }
    }

    #[test]
    fn env_values_never_panic(window in "\\PC{0,12}", retries in "\\PC{0,8}", delay in "\\PC{0,8}") {
        let _ = sso_refresh::SsoConfig::from_lookup(|k| match k {
            "AWS_SSO_REFRESH_WINDOW" => Some(window.clone()),
            "AWS_SSO_MAX_RETRIES" => Some(retries.clone()),
            "AWS_SSO_RETRY_DELAY" => Some(delay.clone()),
            _ => None,
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Through the file: a damaged SSO cache is an error, never a panic or a rewrite.
    #[test]
    fn sso_cache_files_never_panic(text in near(&["{\"accessToken\":\"t\",", "\"expiresAt\":\"2026-01-01T00:00:00Z\"", "}", "\"refreshToken\":", "null"])) {
        let dir = tempfile::tempdir().unwrap();
        let cache = SsoCache::new(&Paths::under_home(dir.path()));
        let file = cache.path_for("s");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &text).unwrap();
        let _ = cache.load("s");
        prop_assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
}

fn walk(dir: &Path, out: &mut Vec<(String, u32, bool)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.display().to_string(), meta.permissions().mode() & 0o777, meta.is_dir()));
        if meta.is_dir() {
            walk(&p, out);
        }
    }
}

#[tokio::test]
async fn every_file_we_create_is_private() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    let creds = AwsCredentials::new("ASIAPERMS", "secret", Some("token".into()), None);
    AwsFiles::new(&paths).save_credentials("p", &creds).unwrap();
    AwsFiles::new(&paths).set_profile_values("p", &[("region", "us-east-1")]).unwrap();
    cred_store::set_config_value(&paths, "region", Some("us-east-1")).unwrap();
    TokenStore::new(&paths)
        .put(
            &TokenKey::new("a", "b", "c"),
            &TokenSet { refresh_token: Some(SecretString::from("rt".to_owned())), ..Default::default() },
        )
        .unwrap();
    let ledger = cred_store::Ledger::open_default(&paths).await.unwrap();
    ledger
        .record_attempt(
            "s",
            "p",
            core_types::Clock::now(&core_types::SystemClock),
            &cred_store::Outcome::Success { expires_at: None },
        )
        .await
        .unwrap();
    ledger.close().await;
    let cache = cred_store::Refreshing::builder(cred_store::StaticSource::new("static", creds))
        .persist_to(paths.cache_dir().join("e.json"))
        .build();
    cache.get().await.unwrap();

    let mut found = Vec::new();
    walk(home.path(), &mut found);
    assert!(found.len() >= 10, "{found:?}");
    for (path, mode, dir) in found {
        if dir {
            assert_eq!(mode, 0o700, "directory {path} is {mode:o}");
        } else {
            assert_eq!(mode & 0o077, 0, "file {path} is {mode:o}: readable by others");
        }
    }
}
