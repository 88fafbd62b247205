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

    #[test]
    fn ccc_config_json_never_panics(text in near(&["{", "\"region\":", "\"user_pool_id\":\"us-east-1_x\"", "}", "[1,2]", "\"app_client_secret\":null,", "\"extra\":{}"])) {
        let _ = serde_json::from_str::<cred_store::CccConfig>(&text);
    }

    #[test]
    fn sessions_yaml_never_panics(text in near(&["cloud_sessions:\n", "  - name: a\n", "    session_type: aws\n", "    region: ", "roles:\n", "- ", ": ", "[", "&a *a"])) {
        let _ = cloud_sessions::parse_config(&text);
    }

    #[test]
    fn jwt_headers_never_panic(text in near(&["eyJhbGciOiJSUzI1NiJ9", ".", "eyJzdWIiOiJ4In0", "==", "eyJhbGciOiJub25lIn0"])) {
        let _ = jsonwebtoken::decode_header(&text);
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
