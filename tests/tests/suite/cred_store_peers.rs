//! cred-store against real peers: boto3 reads what we write; the ledger on SQLite and on the
//! PostgreSQL peer behaves the same.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use ccc_tests::peer;
use core_types::{AwsCredentials, ErrorKind, ExposeSecret, ManualClock, SecretString};
use cred_store::{AwsFiles, Ledger, Outcome, Paths, SsoCache, SsoToken, to_credential_process_json};

const READ_WITH_BOTO3: &str = r#"
import boto3, json, sys
c = boto3.Session(profile_name=sys.argv[1]).get_credentials().get_frozen_credentials()
print(json.dumps({"id": c.access_key, "secret": c.secret_key, "token": c.token}))
"#;

fn python(home: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let paths = Paths::under_home(home);
    let out = Command::new(peer("CCC_TEST_PYTHON"))
        .arg("-c")
        .arg(script)
        .args(args)
        .env("HOME", home)
        .env("AWS_SHARED_CREDENTIALS_FILE", &paths.credentials_file)
        .env("AWS_CONFIG_FILE", &paths.config_file)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run the peers' python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[allow(clippy::disallowed_methods)] // real time: boto3 compares expiry with its own clock
fn now() -> SystemTime {
    SystemTime::now()
}

fn creds() -> AwsCredentials {
    AwsCredentials::new(
        "ASIAB0TO3INTEROP",
        "b0to3/Secret+Key=",
        Some("IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==".into()),
        Some(now() + Duration::from_secs(3600)),
    )
}

#[test]
fn boto3_reads_a_profile_we_wrote() {
    let home = tempfile::tempdir().unwrap();
    let files = AwsFiles::new(&Paths::under_home(home.path()));
    files.save_credentials("interop", &creds()).unwrap();
    let got = python(home.path(), READ_WITH_BOTO3, &["interop"]);
    assert_eq!(got["id"], "ASIAB0TO3INTEROP");
    assert_eq!(got["secret"], "b0to3/Secret+Key=");
    assert_eq!(got["token"], "IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==");
}

#[test]
fn boto3_runs_a_credential_process_profile_with_our_output() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    let out = home.path().join("process-output.json");
    cred_store::fsutil::write_atomic(&out, to_credential_process_json(&creds()).as_bytes()).unwrap();
    AwsFiles::new(&paths)
        .set_profile_values("viaprocess", &[("credential_process", &format!("cat {}", out.display()))])
        .unwrap();
    let got = python(home.path(), READ_WITH_BOTO3, &["viaprocess"]);
    assert_eq!(got["id"], "ASIAB0TO3INTEROP");
    assert_eq!(got["secret"], "b0to3/Secret+Key=");
    assert_eq!(got["token"], "IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJHMEUC==");
}

#[test]
fn botocore_loads_our_sso_cache_file() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    let token = SsoToken {
        access_token: SecretString::from("sso-access-token-value".to_owned()),
        expires_at: now() + Duration::from_secs(3600),
        refresh_token: Some(SecretString::from("sso-refresh".to_owned())),
        client_id: Some("client-id".into()),
        client_secret: Some(SecretString::from("client-secret".to_owned())),
        registration_expires_at: Some(now() + Duration::from_secs(86400)),
        region: Some("us-east-1".into()),
        start_url: Some("https://example.awsapps.com/start".into()),
        extra: Default::default(),
    };
    SsoCache::new(&paths).save("my-sso", &token).unwrap();
    let script = format!(
        r#"
import json
from botocore.utils import SSOTokenLoader, JSONFileCache
loader = SSOTokenLoader(cache=JSONFileCache("{}"))
t = loader("https://example.awsapps.com/start", session_name="my-sso")
print(json.dumps({{"token": t["accessToken"], "refresh": t.get("refreshToken"), "expires": t["expiresAt"]}}))
"#,
        paths.sso_cache_dir.display()
    );
    let got = python(home.path(), &script, &[]);
    assert_eq!(got["token"], "sso-access-token-value");
    assert_eq!(got["refresh"], "sso-refresh");
    assert!(got["expires"].as_str().is_some_and(|e| e.ends_with('Z')), "{got}");
}

// ------------------------------------------------------------------ ledger, both backends

fn unique(prefix: &str) -> String {
    let n = now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{n}", std::process::id())
}

async fn exercise_ledger(ledger: &Ledger) {
    let clock = ManualClock::fixed();
    let source = unique("sso");
    let t0 = clock_now(&clock);
    assert!(ledger.status(&source, "dev").await.unwrap().is_none());

    let expires = t0 + Duration::from_secs(3600);
    ledger.record_attempt(&source, "dev", t0, &Outcome::Success { expires_at: Some(expires) }).await.unwrap();
    let t1 = t0 + Duration::from_secs(60);
    let failure = Outcome::Failure { kind: ErrorKind::Unavailable, message: "SSO endpoint returned 503".into() };
    ledger.record_attempt(&source, "dev", t1, &failure).await.unwrap();

    let s = ledger.status(&source, "dev").await.unwrap().expect("status row");
    assert_eq!(s.obtained_at, Some(t0), "the last good login is kept through a failure");
    assert_eq!(s.expires_at, Some(expires));
    assert_eq!(s.last_attempt_at, Some(t1));
    assert_eq!(s.last_outcome.as_deref(), Some("failure"));
    assert_eq!(s.last_error_kind.as_deref(), Some("Unavailable"));
    assert_eq!((s.attempt_count, s.failure_count), (2, 1));

    let attempts = ledger.attempts(&source, "dev", 10).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].outcome, "failure", "newest first");
    assert_eq!(attempts[1].at, t0);

    // 64 concurrent writers on one row and their own rows: nothing lost, no "database is locked"
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let ledger = ledger.clone();
            let source = source.clone();
            tokio::spawn(async move {
                let profile = if i % 2 == 0 { "dev".to_owned() } else { format!("p{i}") };
                ledger.record_attempt(&source, &profile, t1, &Outcome::Success { expires_at: None }).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("concurrent write");
    }
    let s = ledger.status(&source, "dev").await.unwrap().unwrap();
    assert_eq!(s.attempt_count, 2 + 32);
    let mine = ledger.entries().await.unwrap().into_iter().filter(|e| e.source == source).count();
    assert_eq!(mine, 1 + 32);
}

fn clock_now(clock: &ManualClock) -> SystemTime {
    core_types::Clock::now(clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/ledger.sqlite");
    let ledger = Ledger::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(ledger.backend(), cred_store::Backend::Sqlite);
    exercise_ledger(&ledger).await;
    // a second handle (as another process would open it) sees the same rows
    let again = Ledger::open(&format!("sqlite://{}", db.display())).await.unwrap();
    assert!(again.attempt_total().await.unwrap() >= 66);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o077, 0, "ledger must be private");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_on_postgres() {
    let url = peer("CCC_TEST_DATABASE_URL");
    let ledger = Ledger::open(&url).await.unwrap();
    assert_eq!(ledger.backend(), cred_store::Backend::Postgres);
    exercise_ledger(&ledger).await;
    assert!(!format!("{ledger:?}").contains("password"));
}

#[tokio::test]
async fn unreachable_postgres_is_a_typed_error() {
    // a port nothing listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://ccc:hunter2-secret@127.0.0.1:{port}/none");
    let e = Ledger::open_postgres_with_timeout(&url, Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(core_types::Kinded::kind(&e), ErrorKind::Io);
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[test]
fn secrets_never_show_in_debug_of_public_types() {
    let c = creds();
    let token = SsoToken {
        access_token: SecretString::from("LEAK-access".to_owned()),
        expires_at: now(),
        refresh_token: Some(SecretString::from("LEAK-refresh".to_owned())),
        client_id: None,
        client_secret: Some(SecretString::from("LEAK-client".to_owned())),
        registration_expires_at: None,
        region: None,
        start_url: None,
        extra: Default::default(),
    };
    let config = cred_store::CccConfig {
        app_client_secret: Some(SecretString::from("LEAK-config".to_owned())),
        ..Default::default()
    };
    let shown =
        format!("{c:?} {token:?} {config:?} {:?}", cred_store::IniDocument::parse("[a]\nk = LEAK-ini\n").unwrap());
    for secret in ["b0to3/Secret", "IQoJb3JpZ2lu", "LEAK"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert_eq!(c.secret_access_key().expose_secret(), "b0to3/Secret+Key=");
}
